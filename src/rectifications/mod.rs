//! Rectification items (整改): problems reported at a point, routed by grid and category
//! to the unit that fixes them, fixed with evidence and checked; and their ledger (台账).

pub mod filters;
pub mod forms;
pub mod ledger;
pub mod model;
pub mod reminders;
pub mod routes;
pub mod rules;
