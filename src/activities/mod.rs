//! Volunteer activities (志愿服务活动): what a unit did, where, with how many people and
//! hours, for how many people — the 小荷学堂 summer classes, a clean-up day.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
