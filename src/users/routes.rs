//! `/api/v1/users`: account management, for admins only. Accounts are deactivated,
//! never deleted, so the history of who did what stays readable.

use actix_web::{get, patch, post, web, HttpResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{password, throttle, Action, Caller};
use crate::db::write_tx;
use crate::error::{AppError, AppResult};
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::UserId;
use crate::openapi::{AdminOnly, Conflicts, CreateHeaders, UpdateHeaders};
use crate::state::AppState;
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
    params(CreateHeaders),
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String), ("ETag" = String))),
        AdminOnly,
        Conflicts,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewUser>,
) -> AppResult<Reply> {
    let (body, digest) = body.into_parts();
    let user = caller.user_id();
    let input = caller
        .run(&state.db, move |_, actor| {
            actor.require(Action::ManageUsers)?;
            body?.validate()
        })
        .await?;
    let given = input.password.clone();
    let hash = state.hasher.run(move || password::hash(&given)).await?;
    // The body holds the password: its fingerprint is kept keyed.
    let digest = state.tokens.keyed_digest(&digest);
    let work = state.work();
    state
        .db
        .writing(move |conn| {
            idempotency::once(
                conn,
                user,
                &key,
                &digest,
                (work.clock.now(), work.idempotency_ttl),
                |conn| {
                    let user = User::from(model::create(conn, &input, hash)?);
                    Reply::created("users", user.id, &user, Some(user.version))
                },
            )
        })
        .await
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
            Ok((model::list(conn, &actor.subject, &filter, &paging)?, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed.map(User::from), &paging)))
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
) -> AppResult<Reply> {
    caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadUsers)?;
            let placed = model::find_placed(conn, id.0)?;
            if !shows_account(actor.role, placed.row.role) {
                return Err(AppError::NotFound("user"));
            }
            actor.require_on(Action::ReadUsers, &placed.resource(), "user")?;
            let user = User::from(placed.row);
            Reply::ok(&user, Some(user.version))
        })
        .await
}

/// The check of an account's `If-Match`: a stale one answers 412 with the account as it is.
fn expect(if_match: &IfMatch) -> impl FnOnce(&model::UserRow) -> AppResult<()> + '_ {
    move |current| if_match.check(current.version, || Ok(User::from(current.clone())))
}

/// Change a user: display name, role, unit, active, or reset the password.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id"), UpdateHeaders),
    request_body = UserUpdate,
    responses(
        (status = 200, description = "The changed user", body = User, headers(("ETag" = String))),
        AdminOnly,
    ),
    security(("bearer_auth" = []))
)]
#[patch("/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<UserId>,
    if_match: IfMatch,
    body: Json<UserUpdate>,
) -> AppResult<Reply> {
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
        .write(move |conn| model::update(conn, id.0, &input, hash, expect(&if_match)))
        .await?;
    let username = &row.username;
    if reset {
        tracing::info!(target: "security", event = "password_reset", %username, "password reset by an admin; sessions ended, lock lifted");
    }
    if deactivated {
        tracing::info!(target: "security", event = "deactivated", %username, "account deactivated; sessions ended");
    }
    let user = User::from(row);
    Reply::ok(&user, Some(user.version))
}

/// Deactivate a user: their tokens stop working and their sessions end.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id"), UpdateHeaders),
    responses(
        (status = 200, description = "Deactivated", body = User, headers(("ETag" = String))),
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
    if_match: IfMatch,
) -> AppResult<Reply> {
    let row = caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageUsers)?;
            refuse_self_lockout(actor, id.0, true, None)?;
            let input = UserUpdate {
                active: Some(false),
                ..UserUpdate::default()
            };
            write_tx(conn, |conn| {
                model::update(conn, id.0, &input, None, expect(&if_match))
            })
        })
        .await?;
    let username = &row.username;
    tracing::info!(target: "security", event = "deactivated", %username, "account deactivated; sessions ended");
    let user = User::from(row);
    Reply::ok(&user, Some(user.version))
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
