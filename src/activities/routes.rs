//! `/api/v1/activities`: units record their volunteer activities; everyone reads those of
//! the units they see.

use actix_web::{get, patch, post, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::activities::forms::{ActivityQuery, ActivityUpdate, NewActivity};
use crate::activities::model::{self, Activity};
use crate::auth::{Action, Caller};
use crate::error::AppResult;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::ActivityId;
use crate::openapi::{CreateHeaders, Transitions, UpdateHeaders};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/activities")
            .service(create_activity)
            .service(list_activities)
            .service(get_activity)
            .service(update_activity),
    );
}

/// Record a volunteer activity of a unit (its officers and office).
#[utoipa::path(
    tag = "activities",
    params(CreateHeaders),
    request_body = NewActivity,
    responses(
        (status = 201, description = "Created", body = Activity, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "The role may not record activities", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_activity(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewActivity>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::RecordActivity)?;
            let (input, digest) = body.into_parts();
            let (campaign, unit, draft) = input?.validate()?;
            let now = work.clock.now();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let row = model::create(conn, actor, (campaign, unit), &draft, now)?;
                    let view = model::view(conn, row)?;
                    Reply::created("activities", view.id, &view, Some(view.version))
                },
            )
        })
        .await
}

/// List the volunteer activities of the units the caller sees.
#[utoipa::path(
    tag = "activities",
    params(PageParams, ActivityQuery),
    responses((status = 200, description = "A page of activities", body = Page<Activity>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_activities(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<ActivityQuery>,
) -> AppResult<web::Json<Page<Activity>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let listed = model::list(conn, &actor.subject, &filter, &paging)?;
            let listed = listed.try_map_all(|rows| model::views(conn, rows))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get an activity, with its `ETag`.
#[utoipa::path(
    tag = "activities",
    params(("id" = uuid::Uuid, Path, description = "Activity id")),
    responses((status = 200, description = "The activity", body = Activity, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_activity(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<ActivityId>,
) -> AppResult<Reply> {
    caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "activity")?;
            let view = model::view(conn, placed.row)?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// Change an activity (its unit's officers and office).
#[utoipa::path(
    tag = "activities",
    params(("id" = uuid::Uuid, Path, description = "Activity id"), UpdateHeaders),
    request_body = ActivityUpdate,
    responses(
        (status = 200, description = "The changed activity", body = Activity, headers(("ETag" = String))),
        (status = 403, description = "Not the activity's unit", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_activity(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<ActivityId>,
    if_match: IfMatch,
    body: Json<ActivityUpdate>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            crate::db::write_tx(conn, |conn| {
                let placed = model::find(conn, id.0)?;
                actor.require_on(Action::RecordActivity, &placed.resource(), "activity")?;
                let draft = body.into_inner()?.apply(placed.row.draft())?;
                if_match.check(placed.row.version, || model::view(conn, placed.row.clone()))?;
                let row = model::update(conn, actor, &placed.row, &draft, now)?;
                let view = model::view(conn, row)?;
                Reply::ok(&view, Some(view.version))
            })
        })
        .await
}
