//! The feed's query, and the only place it is checked.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, AppResult};
use crate::sync::rules::Cursor;
use crate::validate::Checks;

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// `next_cursor` of the previous page; leave out to start from the beginning.
    #[param(max_length = 120, example = "s1.0.3f9a0c1b2d4e5f60.0.1842")]
    pub cursor: Option<String>,
    /// Changes per page.
    #[param(minimum = 1, maximum = 500, default = 100)]
    pub limit: Option<i64>,
}

/// A checked feed query.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncFilter {
    pub cursor: Option<Cursor>,
    pub limit: i64,
}

impl SyncQuery {
    pub fn validate(self) -> AppResult<SyncFilter> {
        let cursor = match self.cursor.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                Some(Cursor::decode(text).map_err(|m| AppError::bad_parameter("cursor", m))?)
            }
        };
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return Err(AppError::bad_parameter(
                    "limit",
                    format!("must be 1 to {MAX_LIMIT}"),
                ))
            }
        };
        Ok(SyncFilter { cursor, limit })
    }
}

pub const MAX_OPERATIONS: usize = 100;

/// A queue of writes made offline, applied in order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"operations": [
    {"method": "POST", "path": "/api/v1/patrols/01938a2f-0000-7000-8000-000000000001/track",
     "idempotency_key": "01938a30-1111-7000-8000-00000000000a",
     "body": {"coord_type": "wgs84", "points": [
        {"t": "2026-06-02T09:01:00+08:00", "lat": 35.2551, "lon": 115.4852, "accuracy_m": 6.5}]}},
    {"method": "POST", "path": "/api/v1/rectifications",
     "idempotency_key": "01938a30-1111-7000-8000-00000000000b",
     "body": {"id": "01938a30-2222-7000-8000-00000000000c", "source": "patrol",
              "category_id": "01938a2e-0000-7000-8000-0000000000aa",
              "description": "国道旁公益广告牌面板破损", "lat": 35.2552, "lon": 115.4853,
              "attachment_ids": ["01938a30-3333-7000-8000-00000000000d"]}}
]}))]
pub struct Batch {
    #[schema(max_items = 100)]
    pub operations: Vec<Operation>,
}

/// One write, as its own call would make it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// `POST` (every batchable write is one).
    #[schema(example = "POST")]
    pub method: String,
    /// The write's path, as it would be called alone: `/api/v1/patrols`,
    /// `/api/v1/patrols/{id}/track`, `/api/v1/patrols/{id}/visits`,
    /// `/api/v1/patrols/{id}/transitions`, `/api/v1/rectifications`,
    /// `/api/v1/rectifications/{id}/transitions`, `/api/v1/inspections`,
    /// `/api/v1/tasks/{id}/transitions`.
    #[schema(max_length = 200, example = "/api/v1/rectifications")]
    pub path: String,
    /// The operation's own `Idempotency-Key`: a replayed batch replays each answer.
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_key: String,
    /// The operation's `If-Match` (an `ETag` the client holds), for transitions and track.
    #[schema(max_length = 100)]
    pub if_match: Option<String>,
    /// The request body of the call (every batchable write takes a JSON object).
    #[schema(value_type = Object)]
    pub body: serde_json::Map<String, serde_json::Value>,
}

impl Batch {
    /// A batch is refused whole (nothing applied) only when it is malformed: too long, or an
    /// operation without a usable key (it could not be retried safely).
    pub fn validate(self) -> AppResult<Vec<Operation>> {
        let mut c = Checks::new();
        if self.operations.len() > MAX_OPERATIONS {
            c.fail(
                "operations",
                format!("at most {MAX_OPERATIONS} operations per batch"),
            );
        }
        for (i, op) in self.operations.iter().enumerate() {
            if let Err(message) = crate::idempotency::check_key(op.idempotency_key.trim()) {
                c.fail(format!("operations[{i}].idempotency_key"), message);
            }
            if op.path.chars().count() > 200 {
                c.fail(
                    format!("operations[{i}].path"),
                    "must be at most 200 characters",
                );
            }
            if op
                .if_match
                .as_ref()
                .is_some_and(|t| t.chars().count() > 100)
            {
                c.fail(
                    format!("operations[{i}].if_match"),
                    "must be at most 100 characters",
                );
            }
        }
        c.finish()?;
        Ok(self.operations)
    }
}
