//! `/api/v1/pairings`.

use actix_web::{delete, get, post, web, HttpResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::AppState;
use crate::auth::{Action, Caller};
use crate::db::write_tx;
use crate::error::AppResult;
use crate::http::{created, Id, Json, Page, PageParams, Query};
use crate::ids::PairingId;
use crate::openapi::{AdminOnly, Conflicts};
use crate::pairings::forms::{NewPairing, PairingQuery};
use crate::pairings::model::{self, Pairing};

/// Mounted under its own prefix, so the router tries this domain's routes only for its
/// paths (dynamic routes are matched by regex, one by one).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/pairings")
            .service(create_pairing)
            .service(list_pairings)
            .service(get_pairing)
            .service(delete_pairing),
    );
}

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
#[post("")]
pub async fn create_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewPairing>,
) -> AppResult<HttpResponse> {
    let row = caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            let input = body.into_inner()?.validate()?;
            write_tx(conn, |conn| model::create(conn, &input))
        })
        .await?;
    Ok(created("pairings", row.id, Pairing::from(row)))
}

/// List the pairings that touch the caller's scope.
#[utoipa::path(
    tag = "pairings",
    params(PageParams, PairingQuery),
    responses((status = 200, description = "A page of pairings", body = Page<Pairing>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_pairings(
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageParams>,
    query: Query<PairingQuery>,
) -> AppResult<web::Json<Page<Pairing>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadOrg)?;
            let (paging, filter) = (page.0.validate()?, query.0.validate()?);
            Ok((model::list(conn, &actor.subject, &filter, paging)?, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed.map(Pairing::from), paging)))
}

/// Get a pairing.
#[utoipa::path(
    tag = "pairings",
    params(("id" = uuid::Uuid, Path, description = "Pairing id")),
    responses((status = 200, description = "The pairing", body = Pairing)),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PairingId>,
) -> AppResult<web::Json<Pairing>> {
    let placed = caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadOrg, &placed.resource(), "pairing")?;
            Ok(placed)
        })
        .await?;
    Ok(web::Json(placed.row.into()))
}

/// Remove a pairing.
#[utoipa::path(
    tag = "pairings",
    params(("id" = uuid::Uuid, Path, description = "Pairing id")),
    responses((status = 204, description = "Deleted"), AdminOnly),
    security(("bearer_auth" = []))
)]
#[delete("/{id}")]
pub async fn delete_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PairingId>,
) -> AppResult<HttpResponse> {
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            write_tx(conn, |conn| model::delete(conn, id.0))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
