//! The answer of a write: status, JSON body, `Location` and `ETag`. Kept as data (not an
//! `HttpResponse`) so that an `Idempotency-Key` can store it and replay it byte for byte.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::http::conditional::etag;

/// Marks a replayed answer (the first answer to an `Idempotency-Key`, sent again).
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// The JSON body, serialised.
    pub body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
    /// Sent again for a retried `Idempotency-Key`.
    pub replayed: bool,
}

fn json(body: &impl Serialize) -> AppResult<String> {
    serde_json::to_string(body).map_err(|e| AppError::internal(format!("serialising: {e}")))
}

impl Reply {
    /// `200 OK` with a record at `version` (its `ETag`).
    pub fn ok(body: &impl Serialize, version: Option<i32>) -> AppResult<Reply> {
        Ok(Reply {
            status: 200,
            body: json(body)?,
            location: None,
            etag: version.map(etag),
            replayed: false,
        })
    }

    /// `201 Created` with the new record's `Location` (`/api/v1/{collection}/{id}`).
    pub fn created(
        collection: &str,
        id: impl std::fmt::Display,
        body: &impl Serialize,
        version: Option<i32>,
    ) -> AppResult<Reply> {
        Ok(Reply {
            status: 201,
            location: Some(format!("/api/v1/{collection}/{id}")),
            ..Reply::ok(body, version)?
        })
    }

    /// `201 Created` for a batch: `Location` is the list that holds them
    /// (`/api/v1/tasks?directive_id=…`).
    pub fn created_many(location: String, body: &impl Serialize) -> AppResult<Reply> {
        Ok(Reply {
            status: 201,
            location: Some(location),
            ..Reply::ok(body, None)?
        })
    }
}

impl Responder for Reply {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/json"));
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        if let Some(tag) = self.etag {
            response.insert_header((header::ETAG, tag));
        }
        if self.replayed {
            response.insert_header((REPLAYED_HEADER, "true"));
        }
        response.body(self.body)
    }
}
