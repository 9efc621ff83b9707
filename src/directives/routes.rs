//! `/api/v1/directives`: leaders and offices issue directives within campaigns and split
//! them into tasks; everyone reads the directives issued from above and those split to
//! their units.

use actix_web::{get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::directives::forms::{DirectiveQuery, DirectiveUpdate, NewDirective, NewTasks};
use crate::directives::model::{self, Directive};
use crate::error::AppResult;
use crate::events::{self, Entity, Event};
use crate::http::pagination::NoFilter;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::DirectiveId;
use crate::openapi::{CreateHeaders, Transitions, UpdateHeaders};
use crate::state::AppState;
use crate::tasks::model::Task;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/directives")
            .service(create_directive)
            .service(list_directives)
            .service(get_directive)
            .service(update_directive)
            .service(split_directive)
            .service(directive_events),
    );
}

/// Issue a directive from the caller's unit (leaders, offices, admins).
#[utoipa::path(
    tag = "directives",
    params(CreateHeaders),
    request_body = NewDirective,
    responses(
        (status = 201, description = "Created", body = Directive, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "The role may not issue directives", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_directive(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewDirective>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::IssueDirective)?;
            let (input, digest) = body.into_parts();
            let draft = input?.validate()?;
            let now = work.clock.now();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let row = model::create(conn, actor, &draft, now)?;
                    let view = model::view(conn, row, now)?;
                    Reply::created("directives", view.id, &view, Some(view.version))
                },
            )
        })
        .await
}

/// List the directives the caller sees: issued from its units or above, or split to them.
#[utoipa::path(
    tag = "directives",
    params(PageParams, DirectiveQuery),
    responses((status = 200, description = "A page of directives", body = Page<Directive>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_directives(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<DirectiveQuery>,
) -> AppResult<web::Json<Page<Directive>>> {
    let work = state.work();
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let listed = model::list(conn, &actor.subject, &filter, &paging)?;
            let listed = listed.try_map_all(|rows| model::views(conn, rows, work.clock.now()))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get a directive with its progress and task counts, and its `ETag`.
#[utoipa::path(
    tag = "directives",
    params(("id" = uuid::Uuid, Path, description = "Directive id")),
    responses((status = 200, description = "The directive", body = Directive, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_directive(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<DirectiveId>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            model::readable(conn, actor, &placed)?;
            let view = model::view(conn, placed.row, work.clock.now())?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// Change a directive (its issuing side). Tasks already split keep their own fields.
#[utoipa::path(
    tag = "directives",
    params(("id" = uuid::Uuid, Path, description = "Directive id"), UpdateHeaders),
    request_body = DirectiveUpdate,
    responses(
        (status = 200, description = "The changed directive", body = Directive, headers(("ETag" = String))),
        (status = 403, description = "Not the issuing side", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_directive(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<DirectiveId>,
    if_match: IfMatch,
    body: Json<DirectiveUpdate>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            crate::db::write_tx(conn, |conn| {
                let placed = model::find(conn, id.0)?;
                model::readable(conn, actor, &placed)?;
                actor.require_on_seen(Action::IssueDirective, &placed.resource(), "directive")?;
                let change = body.into_inner()?.validate()?;
                let current = placed.row;
                if_match.check(current.version, || model::view(conn, current.clone(), now))?;
                let row = model::update(conn, actor, &current, &change, now)?;
                let view = model::view(conn, row, now)?;
                Reply::ok(&view, Some(view.version))
            })
        })
        .await
}

/// The tasks a split created.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedTasks {
    pub items: Vec<Task>,
}

/// Split a directive into one task per unit (its issuing side): all are created, or none.
#[utoipa::path(
    tag = "directives",
    params(("id" = uuid::Uuid, Path, description = "Directive id"), CreateHeaders),
    request_body = NewTasks,
    responses(
        (status = 201, description = "The tasks created, one per unit", body = CreatedTasks, headers(("Location" = String, description = "The directive's tasks: `/api/v1/tasks?directive_id=…`"))),
        (status = 403, description = "Not the issuing side", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/tasks")]
pub async fn split_directive(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<DirectiveId>,
    key: IdempotencyKey,
    body: Json<NewTasks>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            let (input, digest) = body.into_parts();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let placed = model::find(conn, id.0)?;
                    model::readable(conn, actor, &placed)?;
                    actor.require_on_seen(
                        Action::IssueDirective,
                        &placed.resource(),
                        "directive",
                    )?;
                    let draft = input?.validate()?;
                    let rows = model::split(conn, actor, &placed.row, &draft, now)?;
                    let items = crate::tasks::model::views(conn, rows, now, &work.warnings)?;
                    let location = format!("/api/v1/tasks?directive_id={}", placed.row.id);
                    Reply::created_many(location, &CreatedTasks { items })
                },
            )
        })
        .await
}

/// The history of a directive: every change, oldest first.
#[utoipa::path(
    tag = "directives",
    params(("id" = uuid::Uuid, Path, description = "Directive id"), PageParams),
    responses((status = 200, description = "A page of events", body = Page<Event>)),
    security(("bearer_auth" = []))
)]
#[get("/{id}/events")]
pub async fn directive_events(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<DirectiveId>,
    query: ListQuery<NoFilter>,
) -> AppResult<web::Json<Page<Event>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            model::readable(conn, actor, &placed)?;
            let paging = query.page.validate()?;
            let listed = events::list(conn, Entity::Directive, placed.row.id.as_str(), &paging)?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}
