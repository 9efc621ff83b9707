//! `/api/v1/checklists`: offices keep the checklists inspections are scored against; every
//! signed-in user reads them. An edit adds a version.

use actix_web::{get, patch, post, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::checklists::forms::{ChecklistQuery, ChecklistUpdate, NewChecklist, VersionQuery};
use crate::checklists::model::{self, Checklist};
use crate::error::{AppError, AppResult};
use crate::http::extract::Query;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::ChecklistId;
use crate::openapi::{CreateHeaders, UpdateHeaders};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/checklists")
            .service(create_checklist)
            .service(list_checklists)
            .service(get_checklist)
            .service(update_checklist),
    );
}

/// Create a checklist managed by the caller's unit (admins and offices).
#[utoipa::path(
    tag = "checklists",
    params(CreateHeaders),
    request_body = NewChecklist,
    responses(
        (status = 201, description = "Created, as version 1", body = Checklist, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Only admins and offices keep checklists", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_checklist(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewChecklist>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageChecklists)?;
            let (input, digest) = body.into_parts();
            let now = work.clock.now();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let draft = input?.validate()?;
                    let row = model::create(conn, actor, &draft, now)?;
                    let view = model::view(conn, row, None)?;
                    Reply::created("checklists", view.id, &view, Some(view.version))
                },
            )
        })
        .await
}

/// List the checklists (everyone signed in), by name, each at its latest version.
#[utoipa::path(
    tag = "checklists",
    params(PageParams, ChecklistQuery),
    responses((status = 200, description = "A page of checklists", body = Page<Checklist>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_checklists(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<ChecklistQuery>,
) -> AppResult<web::Json<Page<Checklist>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadOrg)?;
            let paging = query.page.validate()?;
            let kind = query.filter.kind.filter(|k| !k.is_empty());
            if kind.as_ref().is_some_and(|k| k.chars().count() > 32) {
                return Err(AppError::bad_parameter(
                    "kind",
                    "must be at most 32 characters",
                ));
            }
            let listed = model::list(conn, kind.as_deref(), &paging)?;
            let listed = listed.try_map_all(|rows| model::views(conn, rows))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get a checklist at its latest version, or at `version`, with its `ETag`.
#[utoipa::path(
    tag = "checklists",
    params(("id" = uuid::Uuid, Path, description = "Checklist id"), VersionQuery),
    responses((status = 200, description = "The checklist", body = Checklist, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_checklist(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<ChecklistId>,
    query: Query<VersionQuery>,
) -> AppResult<Reply> {
    caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadOrg)?;
            let placed = model::find(conn, id.0)?;
            let view = model::view(conn, placed.row, query.0.version)?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// Edit a checklist (its managing unit's office): a new version; inspections keep theirs.
#[utoipa::path(
    tag = "checklists",
    params(("id" = uuid::Uuid, Path, description = "Checklist id"), UpdateHeaders),
    request_body = ChecklistUpdate,
    responses(
        (status = 200, description = "The checklist at its new version", body = Checklist, headers(("ETag" = String))),
        (status = 403, description = "Not the managing unit's office", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_checklist(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<ChecklistId>,
    if_match: IfMatch,
    body: Json<ChecklistUpdate>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            crate::db::write_tx(conn, |conn| {
                actor.require(Action::ManageChecklists)?;
                let placed = model::find(conn, id.0)?;
                actor.require_on_seen(Action::ManageChecklists, &placed.managed(), "checklist")?;
                let current = model::view(conn, placed.row.clone(), None)?;
                let before = crate::checklists::forms::ChecklistDraft {
                    name: current.name.clone(),
                    kind: current.kind.clone(),
                    items: current.items.clone(),
                };
                let draft = body.into_inner()?.apply(before.clone())?;
                if_match.check(placed.row.version, || Ok(current.clone()))?;
                let row = model::update(conn, actor, &placed.row, &before, &draft, now)?;
                let view = model::view(conn, row, None)?;
                Reply::ok(&view, Some(view.version))
            })
        })
        .await
}
