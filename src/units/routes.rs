//! `/api/v1/units`: the unit tree. Everyone reads what their scope covers; admins manage.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::auth::{Action, Actor};
use crate::error::{AppError, AppResult};
use crate::http::{Json, Page, PageParams, PathId, Query};
use crate::openapi::{AdminOnly, Conflicts};
use crate::units::model::{self, NewUnit, Unit, UnitFilter, UnitUpdate};

fn to_views(rows: Vec<model::UnitRow>) -> AppResult<Vec<Unit>> {
    rows.into_iter().map(Unit::try_from).collect()
}

/// Create a unit.
#[utoipa::path(
    tag = "units",
    request_body = NewUnit,
    responses(
        (status = 201, description = "Created", body = Unit, headers(("Location" = String))),
        AdminOnly,
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[post("/units")]
pub async fn create_unit(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<NewUnit>,
) -> AppResult<HttpResponse> {
    actor.require(Action::ManageOrg)?;
    let input = body.into_inner()?;
    let boundary = input.validate()?;
    let row = state
        .db
        .write(move |conn| model::create(conn, &input, boundary.as_ref()))
        .await?;
    let unit = Unit::try_from(row)?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/units/{}", unit.id)))
        .json(unit))
}

/// List the units in the caller's scope.
#[utoipa::path(
    tag = "units",
    params(PageParams, UnitFilter),
    responses((status = 200, description = "A page of units", body = Page<Unit>)),
    security(("bearer_auth" = []))
)]
#[get("/units")]
pub async fn list_units(
    state: web::Data<AppState>,
    actor: Actor,
    page: Query<PageParams>,
    filter: Query<UnitFilter>,
) -> AppResult<web::Json<Page<Unit>>> {
    actor.require(Action::ReadOrg)?;
    let paging = page.0.validate()?;
    let filter = filter.0;
    let (rows, total) = state
        .db
        .read(move |conn| model::list(conn, &actor.subject, &filter, paging))
        .await?;
    Ok(web::Json(Page::new(to_views(rows)?, paging, total)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocateQuery {
    /// Latitude (WGS 84).
    #[param(minimum = -90, maximum = 90, example = 35.255)]
    pub lat: f64,
    /// Longitude (WGS 84).
    #[param(minimum = -180, maximum = 180, example = 115.485)]
    pub lon: f64,
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
#[get("/units/locate")]
pub async fn locate_unit(
    state: web::Data<AppState>,
    actor: Actor,
    query: Query<LocateQuery>,
) -> AppResult<web::Json<Unit>> {
    actor.require(Action::ReadOrg)?;
    let LocateQuery { lat, lon } = query.0;
    if !(-90.0..=90.0).contains(&lat) {
        return Err(AppError::bad_parameter(
            "lat",
            "must be a number between -90 and 90",
        ));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(AppError::bad_parameter(
            "lon",
            "must be a number between -180 and 180",
        ));
    }
    let row = state
        .db
        .read(move |conn| model::locate(conn, &actor.subject, lon, lat))
        .await?;
    Ok(web::Json(
        row.ok_or(AppError::NotFound("grid"))?.try_into()?,
    ))
}

/// Loads a unit the actor may read, or answers 404.
async fn visible_unit(state: &AppState, actor: &Actor, id: PathId) -> AppResult<model::UnitRow> {
    let row = state
        .db
        .read(move |conn| model::find(conn, &id.text()))
        .await?;
    actor.require_on(Action::ReadOrg, Some(&row.path), "unit")?;
    Ok(row)
}

/// Get a unit.
#[utoipa::path(
    tag = "units",
    params(("id" = uuid::Uuid, Path, description = "Unit id")),
    responses((status = 200, description = "The unit", body = Unit)),
    security(("bearer_auth" = []))
)]
#[get("/units/{id}")]
pub async fn get_unit(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
) -> AppResult<web::Json<Unit>> {
    Ok(web::Json(
        visible_unit(&state, &actor, id).await?.try_into()?,
    ))
}

/// The unit and all units under it, in tree order.
#[utoipa::path(
    tag = "units",
    params(("id" = uuid::Uuid, Path, description = "Unit id"), PageParams),
    responses((status = 200, description = "The unit and its descendants, in tree order", body = Page<Unit>)),
    security(("bearer_auth" = []))
)]
#[get("/units/{id}/subtree")]
pub async fn unit_subtree(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
    page: Query<PageParams>,
) -> AppResult<web::Json<Page<Unit>>> {
    let paging = page.0.validate()?;
    let root = visible_unit(&state, &actor, id).await?;
    let (rows, total) = state
        .db
        .read(move |conn| model::subtree(conn, &actor.subject, &root, paging))
        .await?;
    Ok(web::Json(Page::new(to_views(rows)?, paging, total)))
}

/// Change a unit: code, name, parent (moves the subtree), boundary, leader.
#[utoipa::path(
    tag = "units",
    params(("id" = uuid::Uuid, Path, description = "Unit id")),
    request_body = UnitUpdate,
    responses((status = 200, description = "The changed unit", body = Unit), AdminOnly, Conflicts),
    security(("bearer_auth" = []))
)]
#[patch("/units/{id}")]
pub async fn update_unit(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
    body: Json<UnitUpdate>,
) -> AppResult<web::Json<Unit>> {
    actor.require(Action::ManageOrg)?;
    let input = body.into_inner()?;
    let row = state
        .db
        .write(move |conn| {
            let unit = model::find(conn, &id.text())?;
            model::update(conn, &unit, &input)
        })
        .await?;
    Ok(web::Json(row.try_into()?))
}

/// Delete a unit that nothing refers to.
#[utoipa::path(
    tag = "units",
    params(("id" = uuid::Uuid, Path, description = "Unit id")),
    responses(
        (status = 204, description = "Deleted"),
        AdminOnly,
        (status = 409, description = "The unit still has children, users or pairings", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/units/{id}")]
pub async fn delete_unit(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
) -> AppResult<HttpResponse> {
    actor.require(Action::ManageOrg)?;
    state
        .db
        .write(move |conn| {
            let unit = model::find(conn, &id.text())?;
            model::delete(conn, &unit)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
