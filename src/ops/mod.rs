//! Operations endpoints: liveness, readiness and Prometheus metrics.

pub mod metrics;
pub mod routes;
