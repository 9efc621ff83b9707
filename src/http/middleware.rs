//! The request middleware: one tracing span per request, an `x-request-id` on every
//! response (the client's, when it sent a sane one), and the request metrics.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::http::fallback::RouteTable;
use crate::ops::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client-sent id is kept only if it is short printable ASCII, so it cannot inject
/// anything into logs or headers.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
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
