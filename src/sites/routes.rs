//! `/api/v1/sites`: offices record the sites (点位) of their units; whoever sees a site's
//! responsible unit or its grid reads it.

use actix_web::{get, patch, post, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::error::AppResult;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::SiteId;
use crate::openapi::{CreateHeaders, UpdateHeaders};
use crate::sites::forms::{NewSite, SiteQuery, SiteUpdate};
use crate::sites::model::{self, Site};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/sites")
            .service(create_site)
            .service(list_sites)
            .service(get_site)
            .service(update_site),
    );
}

/// Record a site of a unit (its office). Its grid is found from the point unless named.
#[utoipa::path(
    tag = "sites",
    params(CreateHeaders),
    request_body = NewSite,
    responses(
        (status = 201, description = "Created", body = Site, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Only admins and offices record sites", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_site(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewSite>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageSites)?;
            let (input, digest) = body.into_parts();
            let draft = input?.validate()?;
            let now = work.clock.now();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let row = model::create(conn, actor, &draft, now)?;
                    let view = model::view(conn, row)?;
                    Reply::created("sites", view.id, &view, Some(view.version))
                },
            )
        })
        .await
}

/// List the sites whose responsible unit or grid the caller sees, by name.
#[utoipa::path(
    tag = "sites",
    params(PageParams, SiteQuery),
    responses((status = 200, description = "A page of sites", body = Page<Site>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_sites(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<SiteQuery>,
) -> AppResult<web::Json<Page<Site>>> {
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

/// Get a site, with its `ETag`.
#[utoipa::path(
    tag = "sites",
    params(("id" = uuid::Uuid, Path, description = "Site id")),
    responses((status = 200, description = "The site", body = Site, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_site(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<SiteId>,
) -> AppResult<Reply> {
    caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadOrg, &placed.resource(), "site")?;
            let view = model::view(conn, placed.row)?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// Change a site (the responsible unit's office). A new point finds its grid again.
#[utoipa::path(
    tag = "sites",
    params(("id" = uuid::Uuid, Path, description = "Site id"), UpdateHeaders),
    request_body = SiteUpdate,
    responses(
        (status = 200, description = "The changed site", body = Site, headers(("ETag" = String))),
        (status = 403, description = "Not the responsible unit's office", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_site(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<SiteId>,
    if_match: IfMatch,
    body: Json<SiteUpdate>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            crate::db::write_tx(conn, |conn| {
                actor.require(Action::ManageSites)?;
                let placed = model::find(conn, id.0)?;
                actor.require_on(Action::ReadOrg, &placed.resource(), "site")?;
                actor.require_on_seen(Action::ManageSites, &placed.managed(), "site")?;
                let draft = body.into_inner()?.apply(placed.row.draft())?;
                if_match.check(placed.row.version, || model::view(conn, placed.row.clone()))?;
                let row = model::update(conn, actor, &placed.row, &draft, now)?;
                let view = model::view(conn, row)?;
                Reply::ok(&view, Some(view.version))
            })
        })
        .await
}
