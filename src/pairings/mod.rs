//! Pairings (包联): a district department paired with a town, street, village or
//! community that it must help (grid patrols, door-to-door publicity, volunteer service).

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
