//! Login, token refresh, logout, and the caller's own account: thin handlers over
//! [`crate::auth::flows`].

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::flows::{self, TokenResponse};
use crate::auth::forms::{LoginRequest, PasswordChange, RefreshRequest};
use crate::auth::Caller;
use crate::error::AppResult;
use crate::http::Json;
use crate::state::AppState;
use crate::users::model::{self as users, User};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(change_password);
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
    let input = body.into_inner()?.validate()?;
    let address = crate::http::client_address(&req, &state.config.trusted_proxies);
    let tokens = flows::login(&state, input, &address).await?;
    Ok(web::Json(tokens))
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
    Ok(web::Json(flows::refresh(&state, token).await?))
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
    caller: Caller,
    body: Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    flows::logout(&state, caller, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The caller's account", body = User)),
    security(("bearer_auth" = []))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> AppResult<web::Json<User>> {
    let row = caller
        .run(&state.db, |conn, actor| users::find(conn, actor.id))
        .await?;
    Ok(web::Json(row.into()))
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
    caller: Caller,
    body: Json<PasswordChange>,
) -> AppResult<HttpResponse> {
    flows::change_password(&state, caller, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
