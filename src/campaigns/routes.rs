//! `/api/v1/campaigns`: offices create and run campaigns of their units; everyone reads
//! the campaigns led from their units or from the units above them.

use actix_web::{get, patch, post, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::campaigns::forms::{CampaignQuery, CampaignTransition, CampaignUpdate, NewCampaign};
use crate::campaigns::model::{self, Campaign};
use crate::error::AppResult;
use crate::events::{self, Entity, Event};
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::CampaignId;
use crate::openapi::{CreateHeaders, TransitionHeaders, Transitions, UpdateHeaders};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/campaigns")
            .service(create_campaign)
            .service(list_campaigns)
            .service(get_campaign)
            .service(update_campaign)
            .service(transition_campaign)
            .service(campaign_events),
    );
}

/// Create a campaign (it starts `planned`).
#[utoipa::path(
    tag = "campaigns",
    params(CreateHeaders),
    request_body = NewCampaign,
    responses(
        (status = 201, description = "Created", body = Campaign, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "The role may not create campaigns", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewCampaign>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageCampaignWork)?;
            let (input, digest) = body.into_parts();
            let input = input?.validate()?;
            let now = work.clock.now();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let row = model::create(conn, actor, &input, now)?;
                    let view = model::view(conn, row, now)?;
                    Reply::created("campaigns", view.id, &view, Some(view.version))
                },
            )
        })
        .await
}

/// List the campaigns the caller sees: led from its units or from the units above them.
#[utoipa::path(
    tag = "campaigns",
    params(PageParams, CampaignQuery),
    responses((status = 200, description = "A page of campaigns", body = Page<Campaign>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<CampaignQuery>,
) -> AppResult<web::Json<Page<Campaign>>> {
    let work = state.work();
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let listed = model::list(conn, &actor.subject, &filter, &paging)?;
            let now = work.clock.now();
            let listed = listed.try_map_all(|rows| model::views(conn, rows, now))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get a campaign, with its `ETag`.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses((status = 200, description = "The campaign", body = Campaign, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<CampaignId>,
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

/// Change a campaign (its office). Refused while it is closed.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), UpdateHeaders),
    request_body = CampaignUpdate,
    responses(
        (status = 200, description = "The changed campaign", body = Campaign, headers(("ETag" = String))),
        (status = 403, description = "Not the campaign's office", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<CampaignId>,
    if_match: IfMatch,
    body: Json<CampaignUpdate>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            idempotency::once(
                conn,
                actor.id,
                &IdempotencyKey::none(),
                "",
                (now, work.idempotency_ttl),
                |conn| {
                    let placed = model::find(conn, id.0)?;
                    model::readable(conn, actor, &placed)?;
                    actor.require_on_seen(
                        Action::ManageCampaignWork,
                        &placed.resource(),
                        "campaign",
                    )?;
                    let change = body.into_inner()?.validate()?;
                    let current = placed.row;
                    if_match.check(current.version, || model::view(conn, current.clone(), now))?;
                    let row = model::update(conn, actor, &current, &change, now)?;
                    let view = model::view(conn, row, now)?;
                    Reply::ok(&view, Some(view.version))
                },
            )
        })
        .await
}

/// Activate, close or reopen a campaign (its office).
#[utoipa::path(
    tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), TransitionHeaders),
    request_body = CampaignTransition,
    responses(
        (status = 200, description = "The campaign after the transition", body = Campaign, headers(("ETag" = String))),
        (status = 403, description = "Not the campaign's office", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/transitions")]
pub async fn transition_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<CampaignId>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<CampaignTransition>,
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
                        Action::ManageCampaignWork,
                        &placed.resource(),
                        "campaign",
                    )?;
                    let input = input?.validate()?;
                    let current = placed.row;
                    if_match.check(current.version, || model::view(conn, current.clone(), now))?;
                    let row = model::transition(conn, actor, &current, &input, now)?;
                    let view = model::view(conn, row, now)?;
                    Reply::ok(&view, Some(view.version))
                },
            )
        })
        .await
}

/// The history of a campaign: every change, oldest first.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), PageParams),
    responses((status = 200, description = "A page of events", body = Page<Event>)),
    security(("bearer_auth" = []))
)]
#[get("/{id}/events")]
pub async fn campaign_events(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<CampaignId>,
    query: ListQuery<crate::http::pagination::NoFilter>,
) -> AppResult<web::Json<Page<Event>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            model::readable(conn, actor, &placed)?;
            let paging = query.page.validate()?;
            let listed = events::list(conn, Entity::Campaign, placed.row.id.as_str(), &paging)?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}
