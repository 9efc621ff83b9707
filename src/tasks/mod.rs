//! Tasks: a directive split down to one responsible unit, with a deadline, progress
//! reports, submission and verification by the issuer's side.

pub mod filters;
pub mod forms;
pub mod model;
pub mod reminders;
pub mod rollup;
pub mod routes;
pub mod rules;
