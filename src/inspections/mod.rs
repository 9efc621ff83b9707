//! Inspections (检查): a site checked against a checklist version, scored, with each
//! failed item raising a rectification item in the same transaction.

pub mod forms;
pub mod model;
pub mod routes;
