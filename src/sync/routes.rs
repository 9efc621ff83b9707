//! `/api/v1/sync`: the change feed a phone catches up from after working offline.

use actix_web::{get, post, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::error::AppResult;
use crate::http::extract::Query;
use crate::http::Json;
use crate::state::AppState;
use crate::sync::batch::{self, OperationResult};
use crate::sync::forms::{Batch, SyncQuery};
use crate::sync::model::{self, SyncChange};
use crate::sync::rules::{self, Cursor};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(scope::scope("/sync").service(feed).service(apply_batch));
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "changes": [
        {"kind": "item", "id": "01938a2e-7c4b-7d10-9b1e-3f4a5b6c7d8e", "op": "upsert",
         "data": {"id": "01938a2e-7c4b-7d10-9b1e-3f4a5b6c7d8e", "number": "ZG-2026-000012",
                  "status": "assigned"}},
        {"kind": "patrol", "id": "01938a2f-0000-7000-8000-000000000001", "op": "delete"}
    ],
    "next_cursor": "s1.0.3f9a0c1b2d4e5f60.0.1842",
    "has_more": false,
    "pending": false,
    "reset": false
}))]
pub struct SyncPage {
    /// In the order they happened; a record appears once, as it is now.
    pub changes: Vec<SyncChange>,
    /// Send it back as `cursor` for the next page (also when `changes` is empty).
    pub next_cursor: String,
    /// More changes are ready now: ask again at once.
    pub has_more: bool,
    /// Changes have committed that wait for an older transaction still running (on
    /// PostgreSQL): ask again in a moment. They are never skipped, only held back.
    pub pending: bool,
    /// The caller's scope changed since the cursor was issued (or units moved): drop what
    /// was synced and keep this page as the start of a full sync.
    pub reset: bool,
}

/// What changed since `cursor` that the caller may see — units, categories, sites,
/// checklists, tasks, rectification items, patrols — each as it is now, or a tombstone
/// (`op: delete`) for what was removed or left the caller's scope. No change is skipped,
/// however transactions commit around the read (docs/sync.md).
#[utoipa::path(
    tag = "sync",
    params(SyncQuery),
    responses(
        (status = 200, description = "A page of changes and the cursor to continue from", body = SyncPage),
        (status = 400, description = "A cursor this server did not issue, or a bad limit", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn feed(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<SyncQuery>,
) -> AppResult<web::Json<SyncPage>> {
    let work = state.work();
    let page = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadOrg)?;
            let filter = query.0.validate()?;
            let now = work.clock.now();
            let scope = rules::scope_fingerprint(&actor.subject);
            // The bound is read before the log: a transaction that starts after it has a
            // larger id, so it is left for the next page whatever it commits meanwhile.
            let below = model::watermark(conn)?;
            let epoch = model::epoch(conn)?;
            let start = rules::start(filter.cursor.as_ref(), epoch, &scope);
            let mut logged =
                model::changed(conn, &actor.subject, start.after, below, filter.limit + 1)?;
            let has_more = logged.len() as i64 > filter.limit;
            logged.truncate(filter.limit as usize);
            let position = logged.last().map_or(start.after, |l| l.position);
            let changes = model::load(conn, &actor.subject, &logged, now, &work.warnings)?;
            let pending = !has_more && model::held_back(conn, below)?;
            Ok(SyncPage {
                changes,
                next_cursor: Cursor {
                    epoch,
                    scope,
                    position,
                }
                .encode(),
                has_more,
                pending,
                reset: start.reset,
            })
        })
        .await?;
    Ok(web::Json(page))
}

/// One answer per operation, in order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"results": [
    {"status": 200, "body": {"id": "01938a2f-0000-7000-8000-000000000001", "status": "active",
                              "distance_m": 212.4}, "etag": "\"4\"", "replayed": false},
    {"status": 201, "body": {"id": "01938a30-2222-7000-8000-00000000000c",
                              "number": "ZG-2026-000031", "status": "assigned"},
     "location": "/api/v1/rectifications/01938a30-2222-7000-8000-00000000000c",
     "etag": "\"1\"", "replayed": false}
]}))]
pub struct BatchResults {
    pub results: Vec<OperationResult>,
}

/// Apply a queue of writes made offline, in order — patrol starts, track points, visits and
/// ends; reports; item and task transitions; inspections — each with its own
/// `idempotency_key` (and `if_match`), each answered as its own call would be (status, body,
/// `location`, `etag`). A failing operation does not stop the others; sending the batch
/// again replays every answer (`replayed: true`) and changes nothing. Photos are uploaded
/// first (`POST /api/v1/attachments`) and named by id.
#[utoipa::path(
    tag = "sync",
    request_body = Batch,
    responses(
        (status = 200, description = "One result per operation, in order", body = BatchResults),
        (status = 422, description = "Malformed batch (too many operations, an operation without a usable key): nothing applied", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("/batch")]
pub async fn apply_batch(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<Batch>,
) -> AppResult<web::Json<BatchResults>> {
    let work = state.work();
    let results = caller
        .write(&state.db, move |conn, actor| {
            let operations = body.into_inner()?.validate()?;
            Ok(batch::apply(conn, actor, &work, &operations))
        })
        .await?;
    Ok(web::Json(BatchResults { results }))
}
