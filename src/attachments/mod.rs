//! Attachments: photos and documents sent as evidence (整改前 / 整改后照片). Recognised by
//! their content, streamed to disk under a size limit, stored once by SHA-256; the time
//! and place a photo's EXIF gives are kept.

pub mod model;
pub mod routes;
pub mod rules;
pub mod store;
