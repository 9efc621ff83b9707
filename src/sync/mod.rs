//! Offline sync for the mobile client (离线同步): the change feed `GET /api/v1/sync`
//! (what changed since a cursor, within the caller's scope, with tombstones) and
//! `POST /api/v1/sync/batch` (a queue of offline writes applied in order, each with its
//! own idempotency key). See docs/sync.md for why no change can be skipped.

pub mod batch;
pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
