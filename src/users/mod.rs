//! User accounts: who may log in, with which role, in which unit.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
