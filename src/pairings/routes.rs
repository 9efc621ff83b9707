//! `/api/v1/pairings`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::AppState;
use crate::auth::{Action, Caller};
use crate::db::page::Listed;
use crate::db::write_tx;
use crate::error::AppResult;
use crate::http::{created, Id, Json, ListQuery, Page, PageParams};
use crate::ids::PairingId;
use crate::openapi::{AdminOnly, Conflicts};
use crate::pairings::forms::{NewPairing, PairingQuery, PairingUpdate};
use crate::pairings::model::{self, Pairing};

/// Mounted under its own prefix, so the router tries this domain's routes only for its
/// paths (dynamic routes are matched by regex, one by one).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/pairings")
            .service(create_pairing)
            .service(list_pairings)
            .service(get_pairing)
            .service(update_pairing)
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
    let pairing = caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            let input = body.into_inner()?.validate()?;
            let row = write_tx(conn, |conn| model::create(conn, &input))?;
            one(conn, row)
        })
        .await?;
    Ok(created("pairings", pairing.id, pairing))
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
    query: ListQuery<PairingQuery>,
) -> AppResult<web::Json<Page<Pairing>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadOrg)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let listed = model::list(conn, &actor.subject, &filter, paging)?;
            let items = model::views(conn, listed.items)?;
            Ok((
                Listed {
                    items,
                    total: listed.total,
                },
                paging,
            ))
        })
        .await?;
    Ok(web::Json(Page::new(listed, paging)))
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
    let pairing = caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadOrg, &placed.resource(), "pairing")?;
            one(conn, placed.row)
        })
        .await?;
    Ok(web::Json(pairing))
}

fn one(conn: &mut crate::db::DbConnection, row: model::PairingRow) -> AppResult<Pairing> {
    let mut views = model::views(conn, vec![row])?;
    views
        .pop()
        .ok_or_else(|| crate::error::AppError::internal("a pairing without its view"))
}

/// Change what a pairing covers (its note).
#[utoipa::path(
    tag = "pairings",
    params(("id" = uuid::Uuid, Path, description = "Pairing id")),
    request_body = PairingUpdate,
    responses((status = 200, description = "The changed pairing", body = Pairing), AdminOnly),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PairingId>,
    body: Json<PairingUpdate>,
) -> AppResult<web::Json<Pairing>> {
    let pairing = caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            let note = body.into_inner()?.validate()?;
            let row = write_tx(conn, |conn| model::set_note(conn, id.0, &note))?;
            one(conn, row)
        })
        .await?;
    Ok(web::Json(pairing))
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
