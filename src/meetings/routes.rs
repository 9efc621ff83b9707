//! `/api/v1/meetings`: the meetings where directives are issued.

use actix_web::{get, patch, post, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller, Resource};
use crate::error::AppResult;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::MeetingId;
use crate::meetings::forms::{MeetingQuery, MeetingUpdate, NewMeeting};
use crate::meetings::model::{self, Meeting};
use crate::openapi::{CreateHeaders, Transitions, UpdateHeaders};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/meetings")
            .service(create_meeting)
            .service(list_meetings)
            .service(get_meeting)
            .service(update_meeting),
    );
}

/// Record a meeting convened by the caller's unit (leaders, offices, admins).
#[utoipa::path(
    tag = "meetings",
    params(CreateHeaders),
    request_body = NewMeeting,
    responses(
        (status = 201, description = "Created", body = Meeting, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "The role may not record meetings", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_meeting(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewMeeting>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::IssueDirective)?;
            let (input, digest) = body.into_parts();
            let (campaign, draft) = input?.validate()?;
            let now = work.clock.now();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let row = model::create(conn, actor, campaign, &draft, now)?;
                    let view = model::view(conn, row)?;
                    Reply::created("meetings", view.id, &view, Some(view.version))
                },
            )
        })
        .await
}

/// List the meetings the caller sees: convened by its units or above, or attended by them.
#[utoipa::path(
    tag = "meetings",
    params(PageParams, MeetingQuery),
    responses((status = 200, description = "A page of meetings", body = Page<Meeting>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_meetings(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<MeetingQuery>,
) -> AppResult<web::Json<Page<Meeting>>> {
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

/// Get a meeting with the directives it issued.
#[utoipa::path(
    tag = "meetings",
    params(("id" = uuid::Uuid, Path, description = "Meeting id")),
    responses((status = 200, description = "The meeting and its directives", body = Meeting, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_meeting(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<MeetingId>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "meeting")?;
            let directives = crate::directives::model::of_meeting(conn, placed.row.id)?;
            let mut view = model::view(conn, placed.row)?;
            view.directives = Some(crate::directives::model::views(
                conn,
                directives,
                work.clock.now(),
            )?);
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// Change a meeting (its convening side); `unit_ids` replaces the attending units.
#[utoipa::path(
    tag = "meetings",
    params(("id" = uuid::Uuid, Path, description = "Meeting id"), UpdateHeaders),
    request_body = MeetingUpdate,
    responses(
        (status = 200, description = "The changed meeting", body = Meeting, headers(("ETag" = String))),
        (status = 403, description = "Not the convening side", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_meeting(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<MeetingId>,
    if_match: IfMatch,
    body: Json<MeetingUpdate>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            crate::db::write_tx(conn, |conn| {
                let placed = model::find(conn, id.0)?;
                actor.require_on(Action::ReadWork, &placed.resource(), "meeting")?;
                // Only the convening unit's side changes it, not the units attending.
                let convening = Resource::of_unit(&placed.convening_path);
                actor.require_on_seen(Action::IssueDirective, &convening, "meeting")?;
                let draft = body.into_inner()?.apply(placed.draft())?;
                if_match.check(placed.row.version, || model::view(conn, placed.row.clone()))?;
                let row = model::update(conn, actor, &placed, &draft, now)?;
                let view = model::view(conn, row)?;
                Reply::ok(&view, Some(view.version))
            })
        })
        .await
}
