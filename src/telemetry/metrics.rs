//! Prometheus metrics: requests by route and status, latency, and the database pool.

use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_wait: Histogram,
    pool_timeouts: IntCounter,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )
        .expect("static metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method and route pattern",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )
        .expect("static metric definition");
        let pool_wait = Histogram::with_opts(
            HistogramOpts::new(
                "db_pool_wait_seconds",
                "Time spent waiting for a database connection",
            )
            .buckets(vec![
                0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
            ]),
        )
        .expect("static metric definition");
        let pool_timeouts = IntCounter::new(
            "db_pool_timeouts_total",
            "Requests that found no database connection in time",
        )
        .expect("static metric definition");
        let pool_size = IntGauge::new("db_pool_connections", "Open database connections")
            .expect("static metric definition");
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")
            .expect("static metric definition");
        let pool_max = IntGauge::new("db_pool_max_connections", "Configured pool size")
            .expect("static metric definition");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_wait.clone()),
            Box::new(pool_timeouts.clone()),
            Box::new(pool_size.clone()),
            Box::new(pool_idle.clone()),
            Box::new(pool_max.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool_wait,
            pool_timeouts,
            pool_size,
            pool_idle,
            pool_max,
        }
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_pool_wait(&self, waited: Duration, timed_out: bool) {
        self.pool_wait.observe(waited.as_secs_f64());
        if timed_out {
            self.pool_timeouts.inc();
        }
    }

    /// Renders the text exposition format, after sampling the pool gauges.
    pub fn render(&self, pool: r2d2::State, max_size: u32) -> String {
        self.pool_size.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle_connections));
        self.pool_max.set(i64::from(max_size));
        let mut buffer = Vec::new();
        if let Err(e) = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut buffer)
        {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
