//! `/api/v1/patrols`: an inspector patrols one of its grids — starts, sends its GPS track
//! in batches, records the sites it visits, ends; the grid's chain of units reads it.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Actor, Caller, OwnerRole, Resource};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::events::{self, Entity, Event};
use crate::http::pagination::NoFilter;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{IdempotencyKey, Safe};
use crate::ids::PatrolId;
use crate::openapi::{CreateHeaders, TransitionHeaders, Transitions};
use crate::patrols::forms::{self, NewPatrol, NewVisit, PatrolQuery, PatrolTransition, TrackBatch};
use crate::patrols::model::{self, Patrol};
use crate::state::{AppState, Work};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/patrols")
            .service(start_patrol)
            .service(list_patrols)
            .service(get_patrol)
            .service(add_track)
            .service(add_visit)
            .service(transition_patrol)
            .service(patrol_events),
    );
}

/// Start a patrol of one of the caller's grids (inspectors). One at a time.
#[utoipa::path(
    tag = "patrols",
    params(CreateHeaders),
    request_body = NewPatrol,
    responses(
        (status = 201, description = "Started", body = Patrol, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Only inspectors patrol", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another patrol of yours is going (`patrol_active`), or the id is taken (`already_exists`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn start_patrol(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewPatrol>,
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
            start(conn, actor, &work, safe, input)
        })
        .await
}

/// Starts a patrol: `POST /patrols`, alone or in a batch.
pub(crate) fn start(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    safe: Safe<'_>,
    input: AppResult<NewPatrol>,
) -> AppResult<Reply> {
    let own = Resource::collection().owned(OwnerRole::Inspector, Some(actor.id));
    actor.require_on(Action::WritePatrol, &own, "patrol")?;
    let now = work.clock.now();
    safe.once(conn, actor.id, (now, work.idempotency_ttl), |conn| {
        let draft = input?.validate()?;
        let row = model::start(conn, actor, &draft, now)?;
        let view = model::view(conn, row, now)?;
        Reply::created("patrols", view.id, &view, Some(view.version))
    })
}

/// List the patrols of the grids the caller sees, latest first.
#[utoipa::path(
    tag = "patrols",
    params(PageParams, PatrolQuery),
    responses((status = 200, description = "A page of patrols", body = Page<Patrol>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_patrols(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<PatrolQuery>,
) -> AppResult<web::Json<Page<Patrol>>> {
    let work = state.work();
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let listed = model::list(conn, actor, &filter, &paging)?;
            let now = work.clock.now();
            let listed = listed.try_map_all(|rows| model::views(conn, rows, now))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// A patrol's track on the map.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatrolFeature {
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[schema(value_type = String, format = Uuid)]
    pub id: PatrolId,
    /// `{"type": "LineString", "coordinates": [[lon, lat], …]}` in time order (WGS-84).
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    pub properties: Patrol,
}

/// Get a patrol, with its `ETag`; with `Accept: application/geo+json`, its track as a
/// GeoJSON LineString feature.
#[utoipa::path(
    tag = "patrols",
    params(("id" = uuid::Uuid, Path, description = "Patrol id")),
    responses((status = 200, description = "The patrol", content(
        (Patrol = "application/json"),
        (PatrolFeature = "application/geo+json"),
    ), headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_patrol(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PatrolId>,
) -> AppResult<HttpResponse> {
    let work = state.work();
    let geo = crate::http::wants_geojson(&req);
    let (view, track) = caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "patrol")?;
            let track = if geo {
                Some(model::track(conn, placed.row.id)?)
            } else {
                None
            };
            Ok((model::view(conn, placed.row, work.clock.now())?, track))
        })
        .await?;
    let etag = format!("\"{}\"", view.version);
    let (content_type, body) = match track {
        Some(points) => {
            let feature = PatrolFeature {
                kind: "Feature",
                id: view.id,
                geometry: serde_json::json!({
                    "type": "LineString",
                    "coordinates": points.iter().map(|(lon, lat)| [*lon, *lat]).collect::<Vec<_>>(),
                }),
                properties: view,
            };
            ("application/geo+json", serde_json::to_string(&feature))
        }
        None => ("application/json", serde_json::to_string(&view)),
    };
    let body = body.map_err(|e| AppError::internal(format!("serialising a patrol: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .body(body))
}

/// Add GPS fixes to the track (the patrol's inspector, while it is active). A fix at a
/// moment the track has already is a retry and is merged; fixes may come in any order.
#[utoipa::path(
    tag = "patrols",
    params(("id" = uuid::Uuid, Path, description = "Patrol id"), TransitionHeaders),
    request_body = TrackBatch,
    responses(
        (status = 200, description = "The patrol with its new distance", body = Patrol, headers(("ETag" = String))),
        (status = 403, description = "Not your patrol", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The patrol has ended (`patrol_ended`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/track")]
pub async fn add_track(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PatrolId>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<TrackBatch>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let (input, digest) = body.into_parts();
            let safe = Safe {
                key: &key,
                digest: &digest,
                if_match: &if_match,
            };
            track(conn, actor, &work, safe, id.0, input)
        })
        .await
}

/// Adds track points: `POST /patrols/{id}/track`, alone or in a batch.
pub(crate) fn track(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    safe: Safe<'_>,
    id: PatrolId,
    input: AppResult<TrackBatch>,
) -> AppResult<Reply> {
    let now = work.clock.now();
    safe.once(conn, actor.id, (now, work.idempotency_ttl), |conn| {
        let placed = model::find(conn, id)?;
        actor.require_on(Action::ReadWork, &placed.resource(), "patrol")?;
        actor.require_on(Action::WritePatrol, &placed.resource(), "patrol")?;
        let batch = input?;
        let points = forms::check_track(batch.points, batch.coord_type)?;
        safe.if_match.check(placed.row.version, || {
            model::view(conn, placed.row.clone(), now)
        })?;
        let row = model::append_track(conn, actor, &placed.row, &points, now)?;
        let view = model::view(conn, row, now)?;
        Reply::ok(&view, Some(view.version))
    })
}

/// Record a visit to a site (the patrol's inspector, while it is active). The answer is the
/// patrol, the visit among its `visits`.
#[utoipa::path(
    tag = "patrols",
    params(("id" = uuid::Uuid, Path, description = "Patrol id"), CreateHeaders),
    request_body = NewVisit,
    responses(
        (status = 200, description = "The patrol with the visit", body = Patrol, headers(("ETag" = String))),
        (status = 403, description = "Not your patrol", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The patrol has ended (`patrol_ended`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/visits")]
pub async fn add_visit(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PatrolId>,
    key: IdempotencyKey,
    body: Json<NewVisit>,
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
            visit(conn, actor, &work, safe, id.0, input)
        })
        .await
}

/// Records a visit: `POST /patrols/{id}/visits`, alone or in a batch.
pub(crate) fn visit(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    safe: Safe<'_>,
    id: PatrolId,
    input: AppResult<NewVisit>,
) -> AppResult<Reply> {
    let now = work.clock.now();
    safe.once(conn, actor.id, (now, work.idempotency_ttl), |conn| {
        let placed = model::find(conn, id)?;
        actor.require_on(Action::ReadWork, &placed.resource(), "patrol")?;
        actor.require_on(Action::WritePatrol, &placed.resource(), "patrol")?;
        let draft = input?.validate()?;
        let (row, _) = model::add_visit(conn, actor, &placed.row, &draft, now)?;
        let view = model::view(conn, row, now)?;
        Reply::ok(&view, Some(view.version))
    })
}

/// End a patrol (`{"action": "end"}`, its inspector).
#[utoipa::path(
    tag = "patrols",
    params(("id" = uuid::Uuid, Path, description = "Patrol id"), TransitionHeaders),
    request_body = PatrolTransition,
    responses(
        (status = 200, description = "The patrol, ended", body = Patrol, headers(("ETag" = String))),
        (status = 403, description = "Not your patrol", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/transitions")]
pub async fn transition_patrol(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PatrolId>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<PatrolTransition>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let (input, digest) = body.into_parts();
            let safe = Safe {
                key: &key,
                digest: &digest,
                if_match: &if_match,
            };
            transition(conn, actor, &work, safe, id.0, input)
        })
        .await
}

/// Ends a patrol: `POST /patrols/{id}/transitions`, alone or in a batch.
pub(crate) fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    safe: Safe<'_>,
    id: PatrolId,
    input: AppResult<PatrolTransition>,
) -> AppResult<Reply> {
    let now = work.clock.now();
    safe.once(conn, actor.id, (now, work.idempotency_ttl), |conn| {
        let placed = model::find(conn, id)?;
        actor.require_on(Action::ReadWork, &placed.resource(), "patrol")?;
        actor.require_on(Action::WritePatrol, &placed.resource(), "patrol")?;
        let input = input?;
        let ended_at = input.ended_at.map(crate::validate::stored);
        if let Some(t) = ended_at {
            crate::validate::moment_rule(t).map_err(|m| AppError::invalid("ended_at", m))?;
        }
        safe.if_match.check(placed.row.version, || {
            model::view(conn, placed.row.clone(), now)
        })?;
        let row = model::end(conn, actor, &placed.row, ended_at, now)?;
        let view = model::view(conn, row, now)?;
        Reply::ok(&view, Some(view.version))
    })
}

/// The history of a patrol: its start, each track batch and visit, its end.
#[utoipa::path(
    tag = "patrols",
    params(("id" = uuid::Uuid, Path, description = "Patrol id"), PageParams),
    responses((status = 200, description = "A page of events", body = Page<Event>)),
    security(("bearer_auth" = []))
)]
#[get("/{id}/events")]
pub async fn patrol_events(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PatrolId>,
    query: ListQuery<NoFilter>,
) -> AppResult<web::Json<Page<Event>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "patrol")?;
            let paging = query.page.validate()?;
            let listed = events::list(conn, Entity::Patrol, placed.row.id.as_str(), &paging)?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}
