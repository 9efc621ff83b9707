//! `/api/v1/users`: account management, for admins only. Accounts are deactivated,
//! never deleted, so the history of who did what stays readable.

use actix_web::{get, patch, post, web, HttpResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::AppState;
use crate::auth::flows::blocking;
use crate::auth::{password, Action, Caller};
use crate::error::AppResult;
use crate::http::{created, Id, Json, Page, PageParams, Query};
use crate::ids::UserId;
use crate::openapi::{AdminOnly, Conflicts};
use crate::users::forms::{NewUser, UserQuery, UserUpdate};
use crate::users::model::{self, User};
use crate::users::rules::refuse_self_lockout;

/// Mounted under its own prefix, so the router tries this domain's routes only for its
/// paths (dynamic routes are matched by regex, one by one).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/users")
            .service(create_user)
            .service(list_users)
            .service(get_user)
            .service(update_user)
            .service(deactivate_user),
    );
}

/// Create a user.
#[utoipa::path(
    tag = "users",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String))),
        AdminOnly,
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewUser>,
) -> AppResult<HttpResponse> {
    let input = caller
        .run(&state.db, move |_, actor| {
            actor.require(Action::ManageUsers)?;
            body.into_inner()?.validate()
        })
        .await?;
    let given = input.password.clone();
    let hash = blocking(move || password::hash(&given)).await?;
    let row = state
        .db
        .write(move |conn| model::create(conn, &input, hash))
        .await?;
    Ok(created("users", row.id, User::from(row)))
}

/// List users.
#[utoipa::path(
    tag = "users",
    params(PageParams, UserQuery),
    responses((status = 200, description = "A page of users", body = Page<User>), AdminOnly),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageParams>,
    query: Query<UserQuery>,
) -> AppResult<web::Json<Page<User>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ManageUsers)?;
            let (paging, filter) = (page.0.validate()?, query.0.validate()?);
            Ok((model::list(conn, &filter, paging)?, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed.map(User::from), paging)))
}

/// Get a user.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = User), AdminOnly),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UserId>,
) -> AppResult<web::Json<User>> {
    let row = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ManageUsers)?;
            model::find(conn, id.0)
        })
        .await?;
    Ok(web::Json(row.into()))
}

/// Change a user: display name, role, unit, active, or reset the password.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body = UserUpdate,
    responses((status = 200, description = "The changed user", body = User), AdminOnly),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UserId>,
    body: Json<UserUpdate>,
) -> AppResult<web::Json<User>> {
    let input = caller
        .run(&state.db, move |_, actor| {
            actor.require(Action::ManageUsers)?;
            let input = body.into_inner()?.validate()?;
            refuse_self_lockout(actor, id.0, input.active == Some(false), input.role)?;
            Ok(input)
        })
        .await?;
    let hash = match input.password.clone() {
        Some(p) => Some(blocking(move || password::hash(&p)).await?),
        None => None,
    };
    let row = state
        .db
        .write(move |conn| model::update(conn, id.0, &input, hash))
        .await?;
    Ok(web::Json(row.into()))
}

/// Deactivate a user: their tokens stop working and their sessions end.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Deactivated", body = User),
        AdminOnly,
        (status = 422, description = "An admin cannot deactivate their own account", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/deactivate")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UserId>,
) -> AppResult<web::Json<User>> {
    let row = caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageUsers)?;
            refuse_self_lockout(actor, id.0, true, None)?;
            let input = UserUpdate {
                active: Some(false),
                ..UserUpdate::default()
            };
            crate::db::write_tx(conn, |conn| model::update(conn, id.0, &input, None))
        })
        .await?;
    Ok(web::Json(row.into()))
}
