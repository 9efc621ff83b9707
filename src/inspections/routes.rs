//! `/api/v1/inspections`: whoever may report problems inspects the sites it sees against a
//! checklist; each failed item raises a rectification item. Read through the site.

use actix_web::{get, post, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Actor, Caller};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{IdempotencyKey, Safe};
use crate::ids::InspectionId;
use crate::inspections::forms::{InspectionQuery, NewInspection};
use crate::inspections::model::{self, Inspection};
use crate::openapi::CreateHeaders;
use crate::rectifications::model::Reporting;
use crate::state::{AppState, Work};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/inspections")
            .service(create_inspection)
            .service(list_inspections)
            .service(get_inspection),
    );
}

/// Inspect a site against a checklist version: answers that do not fit the template are
/// 422 naming the item (`answers.<key>`); the score is computed; each failed item with a
/// category raises a rectification item at the site, in the same transaction.
#[utoipa::path(
    tag = "inspections",
    params(CreateHeaders),
    request_body = NewInspection,
    responses(
        (status = 201, description = "Recorded and scored", body = Inspection, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "An inspection with this client id exists (`already_exists`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_inspection(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewInspection>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let (input, digest) = body.into_parts();
            let safe = Safe {
                key: &key,
                digest: &digest,
                if_match: &IfMatch::Absent,
            };
            create(conn, actor, &work, safe, input)
        })
        .await
}

/// Records an inspection: `POST /inspections`, alone or in a batch.
pub(crate) fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    safe: Safe<'_>,
    input: AppResult<NewInspection>,
) -> AppResult<Reply> {
    actor.require(Action::ReportProblem)?;
    let now = work.clock.now();
    safe.once(conn, actor.id, (now, work.idempotency_ttl), |conn| {
        let input = input?.validate()?;
        let at = Reporting {
            now,
            duplicate_radius_m: work.duplicate_radius_m,
        };
        let row = model::create(conn, actor, &input, at)?;
        let view = model::view(conn, row)?;
        Reply::created("inspections", view.id, &view, Some(view.version))
    })
}

/// List the inspections of the sites the caller sees, latest first.
#[utoipa::path(
    tag = "inspections",
    params(PageParams, InspectionQuery),
    responses((status = 200, description = "A page of inspections", body = Page<Inspection>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_inspections(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<InspectionQuery>,
) -> AppResult<web::Json<Page<Inspection>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            let paging = query.page.validate()?;
            let listed = model::list(conn, &actor.subject, &query.filter, &paging)?;
            let listed = listed.try_map_all(|rows| model::views(conn, rows))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get an inspection, with its `ETag`.
#[utoipa::path(
    tag = "inspections",
    params(("id" = uuid::Uuid, Path, description = "Inspection id")),
    responses((status = 200, description = "The inspection", body = Inspection, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_inspection(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<InspectionId>,
) -> AppResult<Reply> {
    caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "inspection")?;
            let view = model::view(conn, placed.row)?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}
