//! Civic campaign task tracker: a REST API for district campaign work.
//!
//! Read the folders as the architecture: `app` builds the service, `config`, `error`,
//! `http` and `db` are the plumbing, `auth` says who may do what, and each domain concept
//! (`units`, `users`, `pairings`, …) has its own folder with `model.rs` (rows, forms,
//! queries and rules) and `routes.rs` (thin handlers).

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod openapi;
pub mod ops;
pub mod pairings;
pub mod telemetry;
pub mod units;
pub mod users;
pub mod validate;
