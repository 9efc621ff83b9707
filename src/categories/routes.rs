//! `/api/v1/categories`: admins and offices manage the categories of their units; everyone
//! signed in reads them all (a report needs them).

use actix_web::{get, patch, post, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller, Resource};
use crate::categories::forms::{CategoryQuery, CategoryUpdate, NewCategory};
use crate::categories::model::{self, Category};
use crate::error::AppResult;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::CategoryId;
use crate::openapi::{Conflicts, CreateHeaders, UpdateHeaders};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/categories")
            .service(create_category)
            .service(list_categories)
            .service(get_category)
            .service(update_category),
    );
}

/// Create a category, managed by the caller's unit (admins and offices).
#[utoipa::path(
    tag = "categories",
    params(CreateHeaders),
    request_body = NewCategory,
    responses(
        (status = 201, description = "Created", body = Category, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Only admins and offices manage categories", body = crate::error::Problem, content_type = "application/problem+json"),
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_category(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewCategory>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageCategories)?;
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
                    Reply::created("categories", view.id, &view, Some(view.version))
                },
            )
        })
        .await
}

/// List the categories, by code.
#[utoipa::path(
    tag = "categories",
    params(PageParams, CategoryQuery),
    responses((status = 200, description = "A page of categories", body = Page<Category>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_categories(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<CategoryQuery>,
) -> AppResult<web::Json<Page<Category>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadOrg)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let listed = model::list(conn, &filter, &paging)?;
            let listed = listed.try_map_all(|rows| model::views(conn, rows))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get a category, with its `ETag`.
#[utoipa::path(
    tag = "categories",
    params(("id" = uuid::Uuid, Path, description = "Category id")),
    responses((status = 200, description = "The category", body = Category, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_category(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<CategoryId>,
) -> AppResult<Reply> {
    caller
        .run(&state.db, move |conn, actor| {
            actor.require_on(Action::ReadOrg, &Resource::collection(), "category")?;
            let placed = model::find(conn, id.0)?;
            let view = model::view(conn, placed.row)?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// Change or retire a category (the office of the unit that manages it, or an admin).
#[utoipa::path(
    tag = "categories",
    params(("id" = uuid::Uuid, Path, description = "Category id"), UpdateHeaders),
    request_body = CategoryUpdate,
    responses(
        (status = 200, description = "The changed category", body = Category, headers(("ETag" = String))),
        (status = 403, description = "Not the office that manages it", body = crate::error::Problem, content_type = "application/problem+json"),
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_category(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<CategoryId>,
    if_match: IfMatch,
    body: Json<CategoryUpdate>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            crate::db::write_tx(conn, |conn| {
                actor.require(Action::ManageCategories)?;
                let placed = model::find(conn, id.0)?;
                actor.require_on_seen(Action::ManageCategories, &placed.resource(), "category")?;
                let draft = body.into_inner()?.apply(placed.row.draft()?)?;
                if_match.check(placed.row.version, || model::view(conn, placed.row.clone()))?;
                let row = model::update(conn, actor, &placed.row, &draft, now)?;
                let view = model::view(conn, row)?;
                Reply::ok(&view, Some(view.version))
            })
        })
        .await
}
