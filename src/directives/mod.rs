//! Directives: requirements issued at a meeting or by a leader, within a campaign, and
//! split into tasks for responsible units.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
