//! HTTP plumbing shared by every domain module: extractors that report errors as problem
//! details (ours, and handlers for actix's own), the list envelope, the request
//! middleware, and the fallback for unknown routes and methods.

pub mod conditional;
pub mod errors;
pub mod extract;
pub mod fallback;
pub mod middleware;
pub mod pagination;
pub mod reply;

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

pub use conditional::IfMatch;
pub use extract::{Id, Json, ListQuery, Query};
pub use pagination::{Page, PageParams};
pub use reply::Reply;

/// The client's address: the TCP peer, unless the peer is a trusted proxy
/// (`TRUSTED_PROXIES`); then the nearest address in `X-Forwarded-For` that is not itself a
/// trusted proxy. (An untrusted peer's `X-Forwarded-For` is ignored: anyone can send one.)
pub fn client_address(req: &actix_web::HttpRequest, trusted: &[ipnet::IpNet]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(&peer)
        .to_string()
}

/// Cross-origin access for browsers: closed unless `CORS_ALLOWED_ORIGINS` lists origins.
/// A listed origin may call the API with a bearer token and read the headers clients need;
/// any other origin gets no CORS headers, so the browser keeps the answer from its page.
/// Requests are not refused for their origin (same-origin pages — Swagger UI — send one too).
pub fn cors(allowed: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .block_on_origin_mismatch(false)
        .allowed_methods(["GET", "HEAD", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static(reply::REPLAYED_HEADER),
        ])
        .max_age(3600);
    for origin in allowed {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// `201 Created` with the new resource's `Location` (`/api/v1/{collection}/{id}`).
pub fn created(collection: &str, id: impl std::fmt::Display, body: impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/{collection}/{id}")))
        .json(body)
}

/// Does the client ask for GeoJSON (`Accept: application/geo+json`)? Lists and records that
/// sit on a map answer it as features.
pub fn wants_geojson(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get_all(actix_web::http::header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/geo+json"))
        })
}
