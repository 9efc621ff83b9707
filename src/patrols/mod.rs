//! Patrols (巡查): an inspector walks one of its grids with the phone recording a GPS
//! track, visits sites and reports problems on the way.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
