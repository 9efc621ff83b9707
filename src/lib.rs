//! Civic campaign task tracker: a REST API for district campaign work.
//!
//! Read the folders as the architecture: `app` builds the service and `api` composes its
//! routes; `config`, `error`, `http`, `db` and `ids` are the plumbing; `auth` says who may
//! do what; each domain concept (`units`, `users`, `pairings`, …) has its own folder with
//! `forms.rs` (input, checked), `rules.rs` (pure rules), `model.rs` (rows and queries) and
//! `routes.rs` (thin handlers); `world` loads a world described as data (the demo district,
//! the tests' fixture). `docs/architecture.md` walks through a request.

pub mod activities;
pub mod api;
pub mod app;
pub mod attachments;
pub mod auth;
pub mod campaigns;
pub mod categories;
pub mod checklists;
pub mod cli;
pub mod clock;
pub mod config;
pub mod coords;
pub mod db;
pub mod deadlines;
pub mod demo;
pub mod directives;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod inspections;
pub mod jobs;
pub mod meetings;
pub mod names;
pub mod notifications;
pub mod open311;
pub mod openapi;
pub mod ops;
pub mod pairings;
pub mod patrols;
pub mod rectifications;
pub mod sites;
pub mod state;
pub mod sync;
pub mod tasks;
pub mod telemetry;
pub mod tree;
pub mod units;
pub mod users;
pub mod validate;
pub mod work;
pub mod world;
