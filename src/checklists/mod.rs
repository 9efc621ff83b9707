//! Checklists (检查表): templates of items an inspection answers — yes/no, numbers, text,
//! choices — with points, pass rules and the category a failure raises. An edit adds a
//! version; inspections keep the version they used.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
