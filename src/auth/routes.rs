//! Login, token refresh, logout, and the caller's own account.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{model, password, throttle, Actor};
use crate::error::{AppError, AppResult};
use crate::http::Json;
use crate::users::model::{self as users, User};
use crate::validate::Checks;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 64, example = "admin")]
    pub username: String,
    #[schema(min_length = 1, max_length = 128, format = Password)]
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// JWT (HS256) to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single-use token for `POST /api/v1/auth/refresh`.
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

impl RefreshRequest {
    fn validate(self) -> AppResult<String> {
        let length = self.refresh_token.chars().count();
        if !(1..=256).contains(&length) {
            return Err(AppError::invalid(
                "refresh_token",
                "must be 1 to 256 characters",
            ));
        }
        Ok(self.refresh_token)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(min_length = 1, max_length = 128, format = Password)]
    pub current_password: String,
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub new_password: String,
}

fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string())
}

fn tokens_for(
    state: &AppState,
    user_id: &str,
    role: crate::auth::Role,
    unit_id: &str,
    refresh_token: String,
) -> AppResult<TokenResponse> {
    Ok(TokenResponse {
        access_token: state.tokens.issue(user_id, role, unit_id)?,
        token_type: "Bearer".into(),
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token,
    })
}

/// Exchange a username and password for tokens.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong username or password, or account inactive", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> AppResult<web::Json<TokenResponse>> {
    let LoginRequest {
        username,
        password: given,
    } = body.into_inner()?;
    let mut checks = Checks::new();
    if username.is_empty() || username.chars().count() > 64 {
        checks.fail("username", "must be 1 to 64 characters");
    }
    if given.is_empty() || given.chars().count() > password::MAX_PASSWORD_CHARS {
        checks.fail("password", "must be 1 to 128 characters");
    }
    checks.finish()?;

    let keys = [
        throttle::user_key(&username),
        throttle::address_key(&client_address(&req)),
    ];
    let limits = (state.config.login_max_failures, state.config.login_lockout);
    let lookup_keys = keys.clone();
    let lookup_name = username.clone();
    let user = state
        .db
        .read(move |conn| {
            throttle::check(conn, &lookup_keys)?;
            users::find_by_username(conn, &lookup_name)
        })
        .await?;

    // argon2 takes tens of milliseconds of CPU: off the executor, outside any transaction.
    let verified = {
        let user = user.clone();
        web::block(move || match &user {
            Some(u) => password::verify(&given, &u.password_hash),
            None => {
                password::verify_dummy(&given);
                false
            }
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
    };

    let refresh_ttl = state.tokens.refresh_ttl;
    let outcome = state
        .db
        .write(move |conn| {
            let user = match user {
                Some(u) if verified && u.active => u,
                Some(u) if verified => {
                    return Ok(Err(AppError::unauthenticated(
                        "account_inactive",
                        format!("account `{}` is deactivated", u.username),
                    )));
                }
                _ => {
                    throttle::record_failure(conn, &keys[0], limits.0, limits.1)?;
                    throttle::record_failure(
                        conn,
                        &keys[1],
                        limits.0 * throttle::ADDRESS_FACTOR,
                        limits.1,
                    )?;
                    return Ok(Err(AppError::unauthenticated(
                        "invalid_credentials",
                        "wrong username or password",
                    )));
                }
            };
            throttle::clear(conn, &keys[0])?;
            let family = uuid::Uuid::now_v7().to_string();
            let issued = model::issue(conn, &user.id, &family, refresh_ttl)?;
            Ok(Ok((user, issued)))
        })
        .await?;
    // Failures are committed above (the counter must survive the 401), then reported.
    let (user, issued) = outcome?;
    tracing::info!(user_id = %user.id, "login");
    Ok(web::Json(tokens_for(
        &state,
        &user.id,
        user.role()?,
        &user.unit_id,
        issued,
    )?))
}

/// Exchange a refresh token for new tokens. The refresh token is single-use: presenting
/// one twice ends every session of that login.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Invalid, expired or reused refresh token", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> AppResult<web::Json<TokenResponse>> {
    let token = body.into_inner()?.validate()?;
    let ttl = state.tokens.refresh_ttl;
    let outcome = state
        .db
        .write(move |conn| {
            let rotation = match model::consume(conn, &token)? {
                Ok(rotation) => rotation,
                Err(refused) => return Ok(Err(refused)),
            };
            let user = users::find(conn, &rotation.user_id)?;
            if !user.active {
                return Ok(Err(AppError::unauthenticated(
                    "account_inactive",
                    "this account has been deactivated",
                )));
            }
            let next = model::issue(conn, &user.id, &rotation.family_id, ttl)?;
            Ok(Ok((user, next)))
        })
        .await?;
    let (user, next) = outcome?;
    Ok(web::Json(tokens_for(
        &state,
        &user.id,
        user.role()?,
        &user.unit_id,
        next,
    )?))
}

/// End the session the refresh token belongs to.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Logged out (also when the token was unknown)")),
    security(("bearer_auth" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let token = body.into_inner()?.validate()?;
    state
        .db
        .write(move |conn| model::revoke(conn, &actor.user_id, &token))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The caller's account", body = User)),
    security(("bearer_auth" = []))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, actor: Actor) -> AppResult<web::Json<User>> {
    let row = state
        .db
        .read(move |conn| users::find(conn, &actor.user_id))
        .await?;
    Ok(web::Json(row.try_into()?))
}

/// Change the caller's own password. Ends the caller's other sessions. Wrong current
/// passwords count towards the same lockout as failed logins, so a stolen access token
/// cannot be used to guess the password.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Password changed"),
        (status = 429, description = "Too many wrong current passwords; see Retry-After", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer_auth" = []))
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<PasswordChange>,
) -> AppResult<HttpResponse> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner()?;
    let mut checks = Checks::new();
    checks.check("new_password", password::check_strength(&new_password));
    if current_password.is_empty()
        || current_password.chars().count() > password::MAX_PASSWORD_CHARS
    {
        checks.fail("current_password", "must be 1 to 128 characters");
    }
    checks.finish()?;
    let key = throttle::user_key(&actor.username);
    let user_id = actor.user_id.clone();
    let check_key = key.clone();
    let row = state
        .db
        .read(move |conn| {
            throttle::check(conn, std::slice::from_ref(&check_key))?;
            users::find(conn, &user_id)
        })
        .await?;
    let new_hash = web::block(move || {
        if !password::verify(&current_password, &row.password_hash) {
            return Ok(None);
        }
        password::hash(&new_password).map(Some)
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))??;
    let (max_failures, lockout) = (state.config.login_max_failures, state.config.login_lockout);
    let outcome = state
        .db
        .write(move |conn| match new_hash {
            Some(hash) => users::set_password(conn, &actor.user_id, hash).map(Ok),
            None => {
                throttle::record_failure(conn, &key, max_failures, lockout)?;
                Ok(Err(AppError::invalid(
                    "current_password",
                    "is not the current password",
                )))
            }
        })
        .await?;
    // A wrong password is reported after its failure was committed.
    outcome?;
    Ok(HttpResponse::NoContent().finish())
}
