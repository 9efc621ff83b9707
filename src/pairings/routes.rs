//! `/api/v1/pairings`.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};

use crate::app::AppState;
use crate::auth::{Action, Actor};
use crate::error::AppResult;
use crate::http::{Json, Page, PageParams, PathId, Query};
use crate::openapi::AdminOnly;
use crate::openapi::Conflicts;
use crate::pairings::model::{self, NewPairing, Pairing, PairingFilter};

/// Pair a department with a town, street, village or community.
#[utoipa::path(
    tag = "pairings",
    request_body = NewPairing,
    responses(
        (status = 201, description = "Created", body = Pairing, headers(("Location" = String))),
        AdminOnly,
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[post("/pairings")]
pub async fn create_pairing(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<NewPairing>,
) -> AppResult<HttpResponse> {
    actor.require(Action::ManageOrg)?;
    let input = body.into_inner()?;
    let row = state
        .db
        .write(move |conn| model::create(conn, &input))
        .await?;
    let pairing = Pairing::from(row);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/pairings/{}", pairing.id)))
        .json(pairing))
}

/// List the pairings that touch the caller's scope.
#[utoipa::path(
    tag = "pairings",
    params(PageParams, PairingFilter),
    responses((status = 200, description = "A page of pairings", body = Page<Pairing>)),
    security(("bearer_auth" = []))
)]
#[get("/pairings")]
pub async fn list_pairings(
    state: web::Data<AppState>,
    actor: Actor,
    page: Query<PageParams>,
    filter: Query<PairingFilter>,
) -> AppResult<web::Json<Page<Pairing>>> {
    actor.require(Action::ReadOrg)?;
    let paging = page.0.validate()?;
    let filter = filter.0;
    let (rows, total) = state
        .db
        .read(move |conn| model::list(conn, &actor.subject, &filter, paging))
        .await?;
    Ok(web::Json(Page::new(rows, paging, total).map(Pairing::from)))
}

/// Get a pairing.
#[utoipa::path(
    tag = "pairings",
    params(("id" = uuid::Uuid, Path, description = "Pairing id")),
    responses((status = 200, description = "The pairing", body = Pairing)),
    security(("bearer_auth" = []))
)]
#[get("/pairings/{id}")]
pub async fn get_pairing(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
) -> AppResult<web::Json<Pairing>> {
    let (row, paths) = state
        .db
        .read(move |conn| {
            let row = model::find(conn, &id.text())?;
            let paths = model::unit_paths(conn, &row)?;
            Ok((row, paths))
        })
        .await?;
    // Visible when either side is in scope.
    let allowed = paths.iter().any(|p| {
        actor
            .require_on(Action::ReadOrg, Some(p), "pairing")
            .is_ok()
    });
    if !allowed {
        return Err(crate::error::AppError::NotFound("pairing"));
    }
    Ok(web::Json(row.into()))
}

/// Remove a pairing.
#[utoipa::path(
    tag = "pairings",
    params(("id" = uuid::Uuid, Path, description = "Pairing id")),
    responses((status = 204, description = "Deleted"), AdminOnly),
    security(("bearer_auth" = []))
)]
#[delete("/pairings/{id}")]
pub async fn delete_pairing(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
) -> AppResult<HttpResponse> {
    actor.require(Action::ManageOrg)?;
    state
        .db
        .write(move |conn| model::delete(conn, &id.text()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
