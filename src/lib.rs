//! Civic campaign task tracker: a REST API for district campaign work.
//!
//! Read the folders as the architecture: `app` builds the service and `api` composes its
//! routes; `config`, `error`, `http`, `db` and `ids` are the plumbing; `auth` says who may
//! do what; each domain concept (`units`, `users`, `pairings`, …) has its own folder with
//! `forms.rs` (input, checked), `rules.rs` (pure rules), `model.rs` (rows and queries) and
//! `routes.rs` (thin handlers); `world` loads a world described as data (the demo district,
//! the tests' fixture). `docs/architecture.md` walks through a request.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod coords;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod ids;
pub mod openapi;
pub mod ops;
pub mod pairings;
pub mod telemetry;
pub mod units;
pub mod users;
pub mod validate;
pub mod world;
