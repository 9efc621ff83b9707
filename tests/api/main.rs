//! HTTP-level tests, through the same app builder `main` uses. One test binary (faster to
//! build than one per file); each test gets its own database.

mod common;

mod accounts;
mod attachments;
mod auth;
mod authz_matrix;
mod campaigns;
mod categories;
mod cost;
mod errors;
mod grids;
mod inspections;
mod lists;
mod meetings;
mod open311;
mod ops;
mod pairings;
mod patrols;
mod rectifications;
mod reminders;
mod safe_writes;
mod sites;
mod sync;
mod tasks;
mod transport;
mod units;
mod users;
