//! What the request handlers share: the database, the token keys, the settings, the
//! metrics, the clock, the stores — one [`AppState`], built by `app::prepare` and cloned
//! into each worker. It sits below the domains, which all take it; the module that builds
//! the server (`app`) sits above them.

use std::sync::Arc;

use crate::auth::token::TokenKeys;
use crate::config::Config;
use crate::db::Db;
use crate::telemetry::metrics::Metrics;

/// Everything a request handler needs; cheap to clone (one per worker).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub tokens: TokenKeys,
    pub config: Arc<Config>,
    pub metrics: Metrics,
    /// Bounds the password hashing done at once.
    pub hasher: crate::auth::password::HashGate,
    /// The time (tests stop and move it).
    pub clock: crate::clock::Clock,
    /// Where uploaded files go.
    pub attachments: crate::attachments::store::Store,
}

/// What campaign work's handlers take into their blocking closure: the time, the warning
/// rules and how long idempotency keys live.
#[derive(Debug, Clone)]
pub struct Work {
    pub clock: crate::clock::Clock,
    pub warnings: crate::deadlines::WarningRules,
    pub idempotency_ttl: std::time::Duration,
    /// How near an open item of the same category is a possible duplicate of a report.
    pub duplicate_radius_m: f64,
}

impl AppState {
    pub fn work(&self) -> Work {
        Work {
            clock: self.clock.clone(),
            warnings: self.config.warnings,
            idempotency_ttl: self.config.idempotency_ttl,
            duplicate_radius_m: f64::from(self.config.duplicate_radius_m),
        }
    }
}
