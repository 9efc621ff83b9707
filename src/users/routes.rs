//! `/api/v1/users`: account management, for admins only. Accounts are deactivated,
//! never deleted, so the history of who did what stays readable.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpResponse};

use crate::app::AppState;
use crate::auth::{password, Action, Actor};
use crate::error::{AppError, AppResult};
use crate::http::{Json, Page, PageParams, PathId, Query};
use crate::openapi::{AdminOnly, Conflicts};
use crate::users::model::{self, NewUser, User, UserFilter, UserUpdate};

async fn hash_password(password: String) -> AppResult<String> {
    web::block(move || password::hash(&password))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
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
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<NewUser>,
) -> AppResult<HttpResponse> {
    actor.require(Action::ManageUsers)?;
    let input = body.into_inner()?;
    input.validate()?;
    let hash = hash_password(input.password.clone()).await?;
    let row = state
        .db
        .write(move |conn| model::create(conn, &input, hash))
        .await?;
    let user = User::try_from(row)?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(user))
}

/// List users.
#[utoipa::path(
    tag = "users",
    params(PageParams, UserFilter),
    responses((status = 200, description = "A page of users", body = Page<User>), AdminOnly),
    security(("bearer_auth" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    actor: Actor,
    page: Query<PageParams>,
    filter: Query<UserFilter>,
) -> AppResult<web::Json<Page<User>>> {
    actor.require(Action::ManageUsers)?;
    let paging = page.0.validate()?;
    let filter = filter.0;
    let (rows, total) = state
        .db
        .read(move |conn| model::list(conn, &filter, paging))
        .await?;
    let items = rows
        .into_iter()
        .map(User::try_from)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(web::Json(Page::new(items, paging, total)))
}

/// Get a user.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = User), AdminOnly),
    security(("bearer_auth" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
) -> AppResult<web::Json<User>> {
    actor.require(Action::ManageUsers)?;
    let row = state
        .db
        .read(move |conn| model::find(conn, &id.text()))
        .await?;
    Ok(web::Json(row.try_into()?))
}

/// Change a user: display name, role, unit, active, or reset the password.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body = UserUpdate,
    responses((status = 200, description = "The changed user", body = User), AdminOnly),
    security(("bearer_auth" = []))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
    body: Json<UserUpdate>,
) -> AppResult<web::Json<User>> {
    actor.require(Action::ManageUsers)?;
    let input = body.into_inner()?;
    input.validate()?;
    refuse_self_lockout(&actor, &id, &input)?;
    let hash = match input.password.clone() {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let row = state
        .db
        .write(move |conn| model::update(conn, &id.text(), &input, hash))
        .await?;
    Ok(web::Json(row.try_into()?))
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
#[post("/users/{id}/deactivate")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    actor: Actor,
    id: PathId,
) -> AppResult<web::Json<User>> {
    actor.require(Action::ManageUsers)?;
    let input = UserUpdate {
        active: Some(false),
        ..UserUpdate::default()
    };
    refuse_self_lockout(&actor, &id, &input)?;
    let row = state
        .db
        .write(move |conn| model::update(conn, &id.text(), &input, None))
        .await?;
    Ok(web::Json(row.try_into()?))
}

/// An admin who deactivates or demotes themselves may leave nobody able to manage users.
fn refuse_self_lockout(actor: &Actor, id: &PathId, input: &UserUpdate) -> AppResult<()> {
    let is_self = id.text() == actor.user_id;
    let demotes = input.role.is_some_and(|r| r != actor.role);
    if is_self && (input.active == Some(false) || demotes) {
        return Err(AppError::unprocessable(
            "self_lockout",
            "you cannot deactivate or demote your own account",
        ));
    }
    Ok(())
}
