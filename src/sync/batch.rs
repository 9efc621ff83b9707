//! `POST /api/v1/sync/batch`: a phone's queue of offline writes, applied in order, each
//! exactly as its own call would be — its own transaction, its own `Idempotency-Key` and
//! `If-Match`, its own answer. One failing operation leaves the others alone; a batch sent
//! again replays every answer instead of writing twice.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::http::{IfMatch, Json, Reply};
use crate::idempotency::{IdempotencyKey, Safe};
use crate::state::Work;
use crate::sync::forms::Operation;
use crate::sync::rules::{self, Route, Unroutable};

/// The answer to one operation: what its own call would have answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationResult {
    pub status: u16,
    /// The JSON body (a problem for a failure).
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The answer was stored from an earlier delivery of the same operation.
    pub replayed: bool,
}

/// Applies `operations` in order, one transaction each.
pub fn apply(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    operations: &[Operation],
) -> Vec<OperationResult> {
    operations
        .iter()
        .map(|op| answer(one(conn, actor, work, op)))
        .collect()
}

fn one(conn: &mut DbConnection, actor: &Actor, work: &Work, op: &Operation) -> AppResult<Reply> {
    let route = rules::route(&op.method, &op.path).map_err(|e| match e {
        Unroutable::NoSuchPath => AppError::NotFound("batchable operation at this path"),
        Unroutable::MethodNotAllowed => AppError::MethodNotAllowed {
            allow: vec!["POST"],
        },
    })?;
    // The key binds the operation as the single call would bind it, so a write first sent
    // alone and then again in a batch (or the other way round) is still made once.
    let key = IdempotencyKey::new(op.idempotency_key.trim(), "POST", &op.path);
    let if_match = match &op.if_match {
        Some(tag) => IfMatch::parse(&[tag.as_str()]),
        None => IfMatch::Absent,
    };
    macro_rules! call {
        ($write:path $(, $id:expr)?) => {{
            let body = serde_json::Value::Object(op.body.clone());
            let (input, digest) = Json::from_value(&body).into_parts();
            let safe = Safe {
                key: &key,
                digest: &digest,
                if_match: &if_match,
            };
            $write(conn, actor, work, safe, $($id,)? input)
        }};
    }
    match route {
        Route::StartPatrol => call!(crate::patrols::routes::start),
        Route::Track(id) => call!(crate::patrols::routes::track, id),
        Route::Visit(id) => call!(crate::patrols::routes::visit, id),
        Route::EndPatrol(id) => call!(crate::patrols::routes::transition, id),
        Route::Report => call!(crate::rectifications::routes::create),
        Route::ItemTransition(id) => call!(crate::rectifications::routes::transition, id),
        Route::Inspection => call!(crate::inspections::routes::create),
        Route::TaskTransition(id) => call!(crate::tasks::routes::transition, id),
    }
}

fn answer(result: AppResult<Reply>) -> OperationResult {
    match result {
        Ok(reply) => OperationResult {
            status: reply.status,
            body: serde_json::from_str(&reply.body).unwrap_or(serde_json::Value::Null),
            location: reply.location,
            etag: reply.etag,
            replayed: reply.replayed,
        },
        Err(error) => {
            if let AppError::Internal(cause) = &error {
                tracing::error!(cause = %cause, "internal error in a batch operation");
            }
            let etag = match &error {
                AppError::PreconditionFailed { etag, .. } => Some(etag.clone()),
                _ => None,
            };
            let problem = error.problem();
            OperationResult {
                status: problem.status,
                body: serde_json::to_value(&problem).unwrap_or(serde_json::Value::Null),
                location: None,
                etag,
                replayed: false,
            }
        }
    }
}
