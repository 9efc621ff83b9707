//! Operations endpoints: liveness, readiness and Prometheus metrics.

pub mod routes;
