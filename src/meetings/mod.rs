//! Meetings (会议): where directives are issued — the 24 July mobilisation meeting, a
//! flood-prep inspection, a duty review — with the units that attended.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
