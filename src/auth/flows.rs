//! The session flows — log in, refresh, log out, change one's password — as functions
//! the handlers call. Password hashing is slow on purpose: it runs through the
//! [`HashGate`](crate::auth::password::HashGate) on the blocking pool, outside any
//! transaction. Attempts are reserved against the throttle before the password is checked
//! and settled after ([`throttle`]); refusals that must be remembered commit first and are
//! reported after ([`Committed`]). Security events are logged with the target `security`,
//! the username and client address, inside the request's span (so with its request id) —
//! never a password or token.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::forms::{LoginRequest, PasswordChange, RefreshRequest};
use crate::auth::{password, sessions, throttle, Caller};
use crate::db::{write_tx, Committed};
use crate::error::{AppError, AppResult};
use crate::ids::{SessionId, UserId};
use crate::state::AppState;
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
    /// The user must change their password (`POST /api/v1/me/password`) before anything
    /// else: an admin reset it.
    pub must_change_password: bool,
}

fn tokens_for(
    state: &AppState,
    user_id: UserId,
    session: SessionId,
    refresh_token: String,
    must_change_password: bool,
) -> AppResult<TokenResponse> {
    Ok(TokenResponse {
        access_token: state.tokens.issue(user_id, session)?,
        token_type: "Bearer".into(),
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token,
        must_change_password,
    })
}

/// Checks the password and starts a session. The attempt is counted against the account
/// and the client address before the password is checked.
pub async fn login(
    state: &AppState,
    input: LoginRequest,
    address: &str,
) -> AppResult<TokenResponse> {
    let LoginRequest {
        username,
        password: given,
    } = input;
    let limits = state.config.login_limits();
    let keys = throttle::login_keys(&username, address, &limits);
    let (lookup, reserve_keys) = (username.clone(), keys.clone());
    let (user, reserved) = state
        .db
        .write(move |conn| {
            let reserved = throttle::reserve(conn, &reserve_keys, limits.lockout)?;
            let user = match reserved {
                Ok(()) => users::find_by_username(conn, &lookup)?,
                Err(_) => None,
            };
            Ok((user, reserved))
        })
        .await?;
    if let Err(limited) = reserved {
        tracing::warn!(target: "security", event = "login_refused", %username, client = %address, reason = limited.code().as_str(), "login refused: too many failures");
        return Err(limited);
    }

    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state
        .hasher
        .run(move || {
            Ok(match &hash {
                Some(hash) => password::verify(&given, hash),
                None => {
                    password::verify_dummy(&given);
                    false
                }
            })
        })
        .await;
    let verified = match verified {
        Ok(verified) => verified,
        Err(e) => {
            // Not checked after all (the server was too busy): give the attempt back.
            release(state, keys).await;
            return Err(e);
        }
    };

    let success = verified && user.as_ref().is_some_and(|u| u.active);
    let refresh_ttl = state.tokens.refresh_ttl;
    let settle_keys = keys.clone();
    let outcome = state
        .db
        .write(move |conn| {
            let locked = throttle::settle(conn, &settle_keys, success, limits.lockout)?;
            let user = match user {
                Some(u) if success => u,
                Some(u) if verified => {
                    return Ok(Committed::Refused((
                        AppError::unauthenticated(
                            crate::error::Code::AccountInactive,
                            format!("account `{}` is deactivated", u.username),
                        ),
                        locked,
                    )))
                }
                _ => {
                    return Ok(Committed::Refused((
                        AppError::unauthenticated(
                            crate::error::Code::InvalidCredentials,
                            "wrong username or password",
                        ),
                        locked,
                    )))
                }
            };
            let session = sessions::start(conn, user.id)?;
            let issued = sessions::issue(conn, user.id, session, refresh_ttl)?;
            Ok(Committed::Granted((user, session, issued)))
        })
        .await?;
    match outcome {
        Committed::Granted((user, session, issued)) => {
            tracing::info!(target: "security", event = "login", %username, user_id = %user.id, client = %address, "login");
            tokens_for(state, user.id, session, issued, user.must_change_password)
        }
        Committed::Refused((error, locked)) => {
            tracing::warn!(target: "security", event = "login_failed", %username, client = %address, reason = error.code().as_str(), "login failed");
            for subject in locked {
                tracing::warn!(target: "security", event = "lockout", %username, client = %address, limited = subject.as_str(), "too many failed logins: locked");
            }
            Err(error)
        }
    }
}

/// Gives reserved attempts back without counting them (they were never checked).
async fn release(state: &AppState, keys: Vec<throttle::Key>) {
    let lockout = state.config.login_limits().lockout;
    let released = state
        .db
        .write(move |conn| throttle::settle(conn, &keys, true, lockout))
        .await;
    if let Err(e) = released {
        tracing::error!(error = %e, "could not release a login reservation");
    }
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
                    crate::error::Code::AccountInactive,
                    "this account has been deactivated",
                )));
            }
            let next = sessions::issue(conn, user.id, rotation.session, ttl)?;
            Ok(Committed::Granted((user, rotation.session, next)))
        })
        .await?;
    let (user, session, next) = outcome.into_result()?;
    tokens_for(state, user.id, session, next, user.must_change_password)
}

/// Ends the caller's session, and the session the refresh token in `input` belongs to if
/// it is the caller's. The input is looked at only once the caller is known.
pub async fn logout(
    state: &AppState,
    caller: Caller,
    input: AppResult<RefreshRequest>,
) -> AppResult<()> {
    caller
        .write(&state.db, move |conn, actor| {
            let token = input?.validate()?;
            write_tx(conn, |conn| {
                sessions::logout(conn, actor.id, actor.session, &token)
            })?;
            tracing::info!(target: "security", event = "logout", username = %actor.username, "logout");
            Ok(())
        })
        .await
}

/// Changes the caller's password after checking the current one. The caller's other
/// sessions end; this one goes on. Wrong current passwords count towards the same lockout
/// as failed logins, so a stolen access token cannot be used to guess the password.
pub async fn change_password(
    state: &AppState,
    caller: Caller,
    input: AppResult<PasswordChange>,
) -> AppResult<()> {
    let limits = state.config.login_limits();
    let (actor, row, input, reserved) = caller
        .write(&state.db, move |conn, actor| {
            let input = input?.validate(&actor.username)?;
            let keys = throttle::account_keys(&actor.username, &limits);
            let reserved = write_tx(conn, |conn| throttle::reserve(conn, &keys, limits.lockout))?;
            Ok((actor.clone(), users::find(conn, actor.id)?, input, reserved))
        })
        .await?;
    reserved?;
    let keys = throttle::account_keys(&actor.username, &limits);
    let PasswordChange {
        current_password,
        new_password,
    } = input;
    let checked = state
        .hasher
        .run(move || {
            if !password::verify(&current_password, &row.password_hash) {
                return Ok(None);
            }
            password::hash(&new_password).map(Some)
        })
        .await;
    let new_hash = match checked {
        Ok(new_hash) => new_hash,
        Err(e) => {
            release(state, keys).await;
            return Err(e);
        }
    };
    let (user_id, session) = (actor.id, actor.session);
    let outcome = state
        .db
        .write(move |conn| {
            let locked = throttle::settle(conn, &keys, new_hash.is_some(), limits.lockout)?;
            match new_hash {
                Some(hash) => {
                    users::set_password(conn, user_id, hash, false)?;
                    sessions::revoke_all(conn, user_id, Some(session))?;
                    Ok(Committed::Granted(()))
                }
                None => Ok(Committed::Refused((
                    AppError::invalid("current_password", "is not the current password"),
                    locked,
                ))),
            }
        })
        .await?;
    let username = &actor.username;
    match outcome {
        Committed::Granted(()) => {
            tracing::info!(target: "security", event = "password_changed", %username, "password changed; other sessions ended");
            Ok(())
        }
        Committed::Refused((error, locked)) => {
            tracing::warn!(target: "security", event = "password_change_failed", %username, "wrong current password");
            if !locked.is_empty() {
                tracing::warn!(target: "security", event = "lockout", %username, limited = "account", "too many wrong passwords: locked");
            }
            Err(error)
        }
    }
}
