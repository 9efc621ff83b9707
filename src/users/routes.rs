//! `/api/v1/users`: account management, for admins only. Accounts are deactivated,
//! never deleted, so the history of who did what stays readable.

use actix_web::{get, patch, post, web, HttpResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::AppState;
use crate::auth::{password, throttle, Action, Caller};
use crate::db::write_tx;
use crate::error::{AppError, AppResult};
use crate::http::{created, Id, Json, ListQuery, Page, PageParams};
use crate::ids::UserId;
use crate::openapi::{AdminOnly, Conflicts};
use crate::users::forms::{NewUser, UserQuery, UserUpdate};
use crate::users::model::{self, User};
use crate::users::rules::{refuse_self_lockout, shows_account};

/// Mounted under its own prefix, so the router tries this domain's routes only for its
/// paths (dynamic routes are matched by regex, one by one).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/users")
            .service(create_user)
            .service(list_users)
            .service(get_user)
            .service(update_user)
            .service(deactivate_user)
            .service(unlock_user),
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
    let hash = state.hasher.run(move || password::hash(&given)).await?;
    let row = state
        .db
        .write(move |conn| model::create(conn, &input, hash))
        .await?;
    Ok(created("users", row.id, User::from(row)))
}

/// List users: every account for an admin; for an office, the accounts of its own units
/// (never an admin's).
#[utoipa::path(
    tag = "users",
    params(PageParams, UserQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        (status = 403, description = "Only admins and offices read accounts", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<UserQuery>,
) -> AppResult<web::Json<Page<User>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadUsers)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            Ok((model::list(conn, &actor.subject, &filter, paging)?, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed.map(User::from), paging)))
}

/// Get a user (an office: one of its own units', never an admin).
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 403, description = "Only admins and offices read accounts", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
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
            actor.require(Action::ReadUsers)?;
            let placed = model::find_placed(conn, id.0)?;
            if !shows_account(actor.role, placed.row.role) {
                return Err(AppError::NotFound("user"));
            }
            actor.require_on(Action::ReadUsers, &placed.resource(), "user")?;
            Ok(placed.row)
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
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ManageUsers)?;
            let input = body.into_inner()?.validate()?;
            refuse_self_lockout(actor, id.0, input.active == Some(false), input.role)?;
            if let Some(password) = &input.password {
                model::check_new_password(conn, id.0, password)?;
            }
            Ok(input)
        })
        .await?;
    let hash = match input.password.clone() {
        Some(p) => Some(state.hasher.run(move || password::hash(&p)).await?),
        None => None,
    };
    let reset = hash.is_some();
    let deactivated = input.active == Some(false);
    let row = state
        .db
        .write(move |conn| model::update(conn, id.0, &input, hash))
        .await?;
    let username = &row.username;
    if reset {
        tracing::info!(target: "security", event = "password_reset", %username, "password reset by an admin; sessions ended, lock lifted");
    }
    if deactivated {
        tracing::info!(target: "security", event = "deactivated", %username, "account deactivated; sessions ended");
    }
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
            write_tx(conn, |conn| model::update(conn, id.0, &input, None))
        })
        .await?;
    let username = &row.username;
    tracing::info!(target: "security", event = "deactivated", %username, "account deactivated; sessions ended");
    Ok(web::Json(row.into()))
}

/// Lift the lock that failed logins put on an account.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 204, description = "Unlocked (also when it was not locked)"), AdminOnly),
    security(("bearer_auth" = []))
)]
#[post("/{id}/unlock")]
pub async fn unlock_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UserId>,
) -> AppResult<HttpResponse> {
    let (username, was_locked) = caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageUsers)?;
            write_tx(conn, |conn| {
                let user = model::find(conn, id.0)?;
                let was_locked = throttle::locked_until(conn, &user.username)?.is_some();
                throttle::unlock(conn, &user.username)?;
                Ok((user.username, was_locked))
            })
        })
        .await?;
    tracing::info!(target: "security", event = "unlock", %username, was_locked, "account unlocked by an admin");
    Ok(HttpResponse::NoContent().finish())
}
