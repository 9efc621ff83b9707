//! HTTP plumbing shared by every domain module: extractors that report errors as problem
//! details (ours, and handlers for actix's own), the list envelope, the request
//! middleware, and the fallback for unknown routes and methods.

pub mod errors;
pub mod extract;
pub mod fallback;
pub mod middleware;
pub mod pagination;

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

pub use extract::{Id, Json, Query};
pub use pagination::{Page, PageParams};

/// `201 Created` with the new resource's `Location` (`/api/v1/{collection}/{id}`).
pub fn created(collection: &str, id: impl std::fmt::Display, body: impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/{collection}/{id}")))
        .json(body)
}
