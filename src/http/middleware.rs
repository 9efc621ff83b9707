//! The request middleware: one tracing span per request, an `x-request-id` on every
//! response (the client's, when it sent a sane one), the request metrics, and the
//! security headers every response carries.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::http::fallback::RouteTable;
use crate::telemetry::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's id is kept only when it is 1–64 of `[A-Za-z0-9._-]`: nothing that could
/// forge a log line or carry markup (`<script>`, `%0d%0a`) into a log viewer.
pub fn sane_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// The Content-Security-Policy of the API: nothing may be loaded, nothing may frame it.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
/// Swagger UI's: its own scripts and styles (its bundle sets some styles inline), and the
/// document from this origin.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Headers every response carries: no MIME sniffing, no referrer, no framing, a CSP, and
/// no caching of API answers (they hold tokens and scoped data).
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let docs = req.path().starts_with("/swagger-ui");
    let api = req.path().starts_with("/api/");
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    let set = |headers: &mut actix_web::http::header::HeaderMap,
               name: &'static str,
               value: &'static str| {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-frame-options", "DENY");
    set(
        headers,
        "content-security-policy",
        if docs { DOCS_CSP } else { API_CSP },
    );
    if api {
        set(headers, "cache-control", "no-store");
    }
    Ok(response)
}

/// `HEAD` answers as `GET` does, without the body: the route macros match `GET` only, so
/// the method is rewritten before routing. The HTTP/1 codec remembers the request was
/// `HEAD` (it decoded it), so it sends the headers — `Content-Length` included — and no body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    // Methods are client-chosen tokens; labels only the standard ones, so a client cannot
    // grow the metrics without bound.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_string(),
        _ => "OTHER".to_string(),
    };
    // The route's template, not the path, keeps metric labels bounded. (Read from the route
    // table: actix's own `match_pattern` walks the routes again, regexes and all.)
    let route = req
        .app_data::<web::Data<RouteTable>>()
        .and_then(|table| table.template(req.path()))
        .unwrap_or("unmatched")
        .to_string();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!("http_request", request_id = %id, %method, %route, status = tracing::field::Empty);

    // Handler errors arrive here already rendered as responses; only a failing inner
    // middleware yields Err, and actix renders that itself.
    let mut response = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    let status = response.status().as_u16();
    span.record("status", status);
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe_request(&method, &route, status, elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            status,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_request_ids_are_kept() {
        for good in ["client-abc-1", "0193a0b2.7c3d_x", &"a".repeat(64)] {
            assert!(sane_request_id(good), "{good}");
        }
        for bad in [
            "",
            "a b",
            "<script>alert(1)</script>",
            "x%0d%0ay",
            "id\r\nX-Evil: 1",
            "身份",
            &"a".repeat(65),
        ] {
            assert!(!sane_request_id(bad), "{bad}");
        }
    }
}
