//! `/api/v1/pairings`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::db::write_tx;
use crate::error::AppResult;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::PairingId;
use crate::openapi::{AdminOnly, Conflicts, CreateHeaders, UpdateHeaders};
use crate::pairings::forms::{NewPairing, PairingQuery, PairingUpdate};
use crate::pairings::model::{self, Pairing};
use crate::state::AppState;

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
    params(CreateHeaders),
    request_body = NewPairing,
    responses(
        (status = 201, description = "Created", body = Pairing, headers(("Location" = String), ("ETag" = String))),
        AdminOnly,
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewPairing>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
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
                    let row = model::create(conn, &input)?;
                    let pairing = one(conn, row)?;
                    Reply::created("pairings", pairing.id, &pairing, Some(pairing.version))
                },
            )
        })
        .await
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
            let listed = model::list(conn, &actor.subject, &filter, &paging)?;
            let listed = listed.try_map_all(|rows| model::views(conn, rows))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get a pairing.
#[utoipa::path(
    tag = "pairings",
    params(("id" = uuid::Uuid, Path, description = "Pairing id")),
    responses((status = 200, description = "The pairing", body = Pairing, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PairingId>,
) -> AppResult<Reply> {
    caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadOrg, &placed.resource(), "pairing")?;
            let pairing = one(conn, placed.row)?;
            Reply::ok(&pairing, Some(pairing.version))
        })
        .await
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
    params(("id" = uuid::Uuid, Path, description = "Pairing id"), UpdateHeaders),
    request_body = PairingUpdate,
    responses(
        (status = 200, description = "The changed pairing", body = Pairing, headers(("ETag" = String))),
        AdminOnly,
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PairingId>,
    if_match: IfMatch,
    body: Json<PairingUpdate>,
) -> AppResult<Reply> {
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            let note = body.into_inner()?.validate()?;
            write_tx(conn, |conn| {
                let current = model::find(conn, id.0)?.row;
                if_match.check(current.version, || one(conn, current.clone()))?;
                let row = model::set_note(conn, &current, &note)?;
                let pairing = one(conn, row)?;
                Reply::ok(&pairing, Some(pairing.version))
            })
        })
        .await
}

/// Remove a pairing.
#[utoipa::path(
    tag = "pairings",
    params(("id" = uuid::Uuid, Path, description = "Pairing id"), UpdateHeaders),
    responses((status = 204, description = "Deleted"), AdminOnly),
    security(("bearer_auth" = []))
)]
#[delete("/{id}")]
pub async fn delete_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<PairingId>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOrg)?;
            write_tx(conn, |conn| {
                let current = model::find(conn, id.0)?.row;
                if_match.check(current.version, || one(conn, current.clone()))?;
                model::delete(conn, &current)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
