//! The session flows — log in, refresh, log out, change one's password — as functions
//! the handlers call. Password hashing is slow on purpose, so it runs on the blocking
//! pool and outside any transaction; failures that must be remembered (a wrong password
//! counts towards the lockout) commit first and are reported after ([`Committed`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::forms::{LoginRequest, PasswordChange, RefreshRequest};
use crate::auth::{password, sessions, throttle, Caller};
use crate::db::Committed;
use crate::error::{AppError, AppResult};
use crate::ids::{SessionId, UserId};
use crate::users::model as users;

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

fn tokens_for(
    state: &AppState,
    user_id: UserId,
    refresh_token: String,
) -> AppResult<TokenResponse> {
    Ok(TokenResponse {
        access_token: state.tokens.issue(user_id)?,
        token_type: "Bearer".into(),
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token,
    })
}

/// Runs CPU-heavy work (argon2) on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    actix_web::web::block(f)
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
}

/// Checks the password and starts a session. Failures count against the username and the
/// client address; a success clears the username's count.
pub async fn login(
    state: &AppState,
    input: LoginRequest,
    address: &str,
) -> AppResult<TokenResponse> {
    let LoginRequest {
        username,
        password: given,
    } = input;
    let keys = [
        throttle::user_key(&username),
        throttle::address_key(address),
    ];
    let (max_failures, lockout) = (state.config.login_max_failures, state.config.login_lockout);
    let lookup_keys = keys.clone();
    let user = state
        .db
        .read(move |conn| {
            throttle::check(conn, &lookup_keys)?;
            users::find_by_username(conn, &username)
        })
        .await?;

    let verified = {
        let user = user.clone();
        blocking(move || {
            Ok(match &user {
                Some(u) => password::verify(&given, &u.password_hash),
                None => {
                    password::verify_dummy(&given);
                    false
                }
            })
        })
        .await?
    };

    let refresh_ttl = state.tokens.refresh_ttl;
    let outcome = state
        .db
        .write(move |conn| {
            let user = match user {
                Some(u) if verified && u.active => u,
                Some(u) if verified => {
                    return Ok(Committed::Refused(AppError::unauthenticated(
                        "account_inactive",
                        format!("account `{}` is deactivated", u.username),
                    )));
                }
                _ => {
                    throttle::record_failure(conn, &keys[0], max_failures, lockout)?;
                    throttle::record_failure(
                        conn,
                        &keys[1],
                        max_failures * throttle::ADDRESS_FACTOR,
                        lockout,
                    )?;
                    return Ok(Committed::Refused(AppError::unauthenticated(
                        "invalid_credentials",
                        "wrong username or password",
                    )));
                }
            };
            throttle::clear(conn, &keys[0])?;
            let issued = sessions::issue(conn, user.id, SessionId::new(), refresh_ttl)?;
            Ok(Committed::Granted((user.id, issued)))
        })
        .await?;
    let (user_id, issued) = outcome.into_result()?;
    tracing::info!(%user_id, "login");
    tokens_for(state, user_id, issued)
}

/// Exchanges a refresh token for the next one of its session (and a new access token).
pub async fn refresh(state: &AppState, token: String) -> AppResult<TokenResponse> {
    let ttl = state.tokens.refresh_ttl;
    let outcome = state
        .db
        .write(move |conn| {
            let rotation = match sessions::consume(conn, &token)? {
                Committed::Granted(rotation) => rotation,
                Committed::Refused(refused) => return Ok(Committed::Refused(refused)),
            };
            let user = users::find(conn, rotation.user_id)?;
            if !user.active {
                return Ok(Committed::Refused(AppError::unauthenticated(
                    "account_inactive",
                    "this account has been deactivated",
                )));
            }
            let next = sessions::issue(conn, user.id, rotation.session, ttl)?;
            Ok(Committed::Granted((user.id, next)))
        })
        .await?;
    let (user_id, next) = outcome.into_result()?;
    tokens_for(state, user_id, next)
}

/// Ends the caller's session that the refresh token in `input` belongs to. The input is
/// looked at only once the caller is known to be signed in.
pub async fn logout(
    state: &AppState,
    caller: Caller,
    input: AppResult<RefreshRequest>,
) -> AppResult<()> {
    caller
        .write(&state.db, move |conn, actor| {
            let token = input?.validate()?;
            crate::db::write_tx(conn, |conn| sessions::logout(conn, actor.id, &token))
        })
        .await
}

/// Changes the caller's password after checking the current one. Wrong current passwords
/// count towards the same lockout as failed logins, so a stolen access token cannot be
/// used to guess the password.
pub async fn change_password(
    state: &AppState,
    caller: Caller,
    input: AppResult<PasswordChange>,
) -> AppResult<()> {
    let (actor, row, input) = caller
        .run(&state.db, |conn, actor| {
            let input = input?.validate()?;
            throttle::check(conn, &[throttle::user_key(&actor.username)])?;
            Ok((actor.clone(), users::find(conn, actor.id)?, input))
        })
        .await?;
    let PasswordChange {
        current_password,
        new_password,
    } = input;
    let new_hash = blocking(move || {
        if !password::verify(&current_password, &row.password_hash) {
            return Ok(None);
        }
        password::hash(&new_password).map(Some)
    })
    .await?;
    let key = throttle::user_key(&actor.username);
    let (max_failures, lockout) = (state.config.login_max_failures, state.config.login_lockout);
    let outcome = state
        .db
        .write(move |conn| match new_hash {
            Some(hash) => {
                users::set_password(conn, actor.id, hash)?;
                sessions::revoke_all(conn, actor.id)?;
                Ok(Committed::Granted(()))
            }
            None => {
                throttle::record_failure(conn, &key, max_failures, lockout)?;
                Ok(Committed::Refused(AppError::invalid(
                    "current_password",
                    "is not the current password",
                )))
            }
        })
        .await?;
    outcome.into_result()
}
