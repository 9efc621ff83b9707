//! Categories of problem (问题类别): what a rectification item is about — 公益广告牌破损,
//! 占道经营, 节制闸故障 — with its default severity, its deadline, who fixes it (routing)
//! and the extra fields a report of it carries.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
