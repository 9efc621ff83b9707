//! Campaigns: 创建全国文明城市, 防汛备汛, 述职述廉, 志愿服务 — the programmes that
//! meetings, directives, tasks and activities belong to.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
