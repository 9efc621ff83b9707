//! `/api/v1/units`: the unit tree. Everyone reads what their scope covers; admins manage.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::db::write_tx;
use crate::error::{AppError, AppResult};
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Query, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::UnitId;
use crate::openapi::{AdminOnly, Conflicts, CreateHeaders, UpdateHeaders};
use crate::state::AppState;
use crate::units::forms::{LocateQuery, NewUnit, UnitQuery, UnitUpdate};
use crate::units::model::{self, Unit};

/// Mounted under its own prefix, so the router tries this domain's routes only for its
/// paths (dynamic routes are matched by regex, one by one).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/units")
            .service(create_unit)
            .service(list_units)
            // Before `/units/{id}`, which would otherwise claim `locate` as an id.
            .service(locate_unit)
            .service(get_unit)
            .service(unit_subtree)
            .service(update_unit)
            .service(delete_unit),
    );
}

/// Create a unit.
#[utoipa::path(
    tag = "units",
    params(CreateHeaders),
    request_body = NewUnit,
    responses(
        (status = 201, description = "Created", body = Unit, headers(("Location" = String), ("ETag" = String))),
        AdminOnly,
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_unit(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewUnit>,
) -> AppResult<Reply> {
    let max_vertices = state.config.max_boundary_vertices;
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            let (input, digest) = body.into_parts();
            let draft = input?.validate(max_vertices)?;
            let now = work.clock.now();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let row = model::create(conn, &draft)?;
                    let view = model::view(conn, row)?;
                    Reply::created("units", view.id, &view, Some(view.version))
                },
            )
        })
        .await
}

/// List the units in the caller's scope. Grids' boundaries come with `include=boundary`.
#[utoipa::path(
    tag = "units",
    params(PageParams, UnitQuery),
    responses((status = 200, description = "A page of units", body = Page<Unit>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_units(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<UnitQuery>,
) -> AppResult<web::Json<Page<Unit>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadOrg)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let mut listed = model::list(conn, &actor.subject, &filter, &paging)?;
            if !filter.boundaries {
                listed.items.iter_mut().for_each(|row| row.boundary = None);
            }
            Ok((listed.try_map_all(|rows| model::views(conn, rows))?, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Find the grid that contains a point.
#[utoipa::path(
    tag = "units",
    params(LocateQuery),
    responses(
        (status = 200, description = "The grid containing the point", body = Unit),
        (status = 404, description = "No grid in the caller's scope contains the point", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[get("/locate")]
pub async fn locate_unit(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<LocateQuery>,
) -> AppResult<web::Json<Unit>> {
    let unit = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadOrg)?;
            let row = model::locate(conn, &actor.subject, query.0.validate()?)?;
            model::view(conn, row.ok_or(AppError::NotFound("grid"))?)
        })
        .await?;
    Ok(web::Json(unit))
}

/// Get a unit.
#[utoipa::path(
    tag = "units",
    params(("id" = uuid::Uuid, Path, description = "Unit id")),
    responses((status = 200, description = "The unit", body = Unit, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_unit(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UnitId>,
) -> AppResult<Reply> {
    caller
        .run(&state.db, move |conn, actor| {
            let row = model::find(conn, id.0)?;
            actor.require_on(Action::ReadOrg, &row.resource(), "unit")?;
            let view = model::view(conn, row)?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// The unit and all units under it, in tree order.
#[utoipa::path(
    tag = "units",
    params(("id" = uuid::Uuid, Path, description = "Unit id"), PageParams),
    responses((status = 200, description = "The unit and its descendants, in tree order", body = Page<Unit>)),
    security(("bearer_auth" = []))
)]
#[get("/{id}/subtree")]
pub async fn unit_subtree(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UnitId>,
    page: Query<PageParams>,
) -> AppResult<web::Json<Page<Unit>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            let root = model::find(conn, id.0)?;
            actor.require_on(Action::ReadOrg, &root.resource(), "unit")?;
            let paging = page.0.validate()?;
            let listed = model::subtree(conn, &actor.subject, &root, &paging)?;
            Ok((listed.try_map_all(|rows| model::views(conn, rows))?, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Change a unit: code, name, parent (moves the subtree), boundary, leader.
#[utoipa::path(
    tag = "units",
    params(("id" = uuid::Uuid, Path, description = "Unit id"), UpdateHeaders),
    request_body = UnitUpdate,
    responses(
        (status = 200, description = "The changed unit", body = Unit, headers(("ETag" = String))),
        AdminOnly,
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_unit(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UnitId>,
    if_match: IfMatch,
    body: Json<UnitUpdate>,
) -> AppResult<Reply> {
    let max_vertices = state.config.max_boundary_vertices;
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            let change = body.into_inner()?.validate(max_vertices)?;
            write_tx(conn, |conn| {
                let row = model::update(conn, id.0, &change, |conn, current| {
                    if_match.check(current.version, || model::view(conn, current.clone()))
                })?;
                let view = model::view(conn, row)?;
                Reply::ok(&view, Some(view.version))
            })
        })
        .await
}

/// Delete a unit that nothing refers to.
#[utoipa::path(
    tag = "units",
    params(("id" = uuid::Uuid, Path, description = "Unit id"), UpdateHeaders),
    responses(
        (status = 204, description = "Deleted"),
        AdminOnly,
        (status = 409, description = "The unit still has children, users or pairings", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/{id}")]
pub async fn delete_unit(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UnitId>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            write_tx(conn, |conn| {
                let current = model::find(conn, id.0)?;
                if_match.check(current.version, || model::view(conn, current.clone()))?;
                model::delete(conn, id.0)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
