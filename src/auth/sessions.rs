//! Sessions and their refresh tokens. Each login starts a session; each refresh uses one
//! of its tokens and issues the next. A token presented twice means it was stolen (or
//! replayed), so the whole session is revoked and both holders must log in again.
//! Ending sessions (logout, reuse, password change, deactivation) happens only here.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::token::{hash_refresh_token, new_refresh_token};
use crate::db::schema::{refresh_tokens, sessions};
use crate::db::{self, Committed, DbConnection};
use crate::error::{AppError, AppResult};
use crate::ids::{RefreshTokenId, SessionId, UserId};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, treat_none_as_default_value = false)]
pub struct RefreshTokenRow {
    pub id: RefreshTokenId,
    pub user_id: UserId,
    pub family_id: SessionId,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Starts a session for `user_id` (a login).
pub fn start(conn: &mut DbConnection, user_id: UserId) -> AppResult<SessionId> {
    let id = SessionId::new();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Stores a new refresh token of `session` and returns the token itself (only its hash
/// is stored).
pub fn issue(
    conn: &mut DbConnection,
    user_id: UserId,
    session: SessionId,
    ttl: std::time::Duration,
) -> AppResult<String> {
    let token = new_refresh_token();
    let now = db::now();
    let ttl = chrono::TimeDelta::from_std(ttl).map_err(|e| AppError::internal(e.to_string()))?;
    let row = RefreshTokenRow {
        id: RefreshTokenId::new(),
        user_id,
        family_id: session,
        token_hash: hash_refresh_token(&token),
        expires_at: now + ttl,
        used_at: None,
        revoked_at: None,
        created_at: now,
    };
    diesel::insert_into(refresh_tokens::table)
        .values(&row)
        .execute(conn)?;
    Ok(token)
}

fn invalid() -> AppError {
    AppError::unauthenticated(
        crate::error::Code::InvalidRefreshToken,
        "the refresh token is not valid",
    )
}

/// Ends one session: its access tokens stop working and its refresh tokens too.
pub fn revoke_session(conn: &mut DbConnection, session: SessionId) -> AppResult<()> {
    let now = db::now();
    diesel::update(
        sessions::table
            .find(session)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(session))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of a user but `keep` (deactivation, password change or reset).
pub fn revoke_all(
    conn: &mut DbConnection,
    user_id: UserId,
    keep: Option<SessionId>,
) -> AppResult<()> {
    let now = db::now();
    let keep = keep.map_or_else(String::new, |s| s.to_string());
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(&keep))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::family_id.ne(&keep))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// A used token presented again: end the whole session.
fn reused(conn: &mut DbConnection, row: &RefreshTokenRow) -> AppResult<Committed<Rotation>> {
    revoke_session(conn, row.family_id)?;
    tracing::warn!(user_id = %row.user_id, session = %row.family_id, "refresh token reused; session revoked");
    Ok(Committed::Refused(AppError::unauthenticated(
        crate::error::Code::RefreshTokenReused,
        "this refresh token was already used; all sessions from that login are ended",
    )))
}

/// What a valid refresh gives: the user and the session to continue.
pub struct Rotation {
    pub user_id: UserId,
    pub session: SessionId,
}

/// Marks `token` used and returns its session, or revokes the session when the token was
/// already used. The caller issues the successor in the same transaction, and commits the
/// revocation even though it then answers 401.
pub fn consume(conn: &mut DbConnection, token: &str) -> AppResult<Committed<Rotation>> {
    let row: Option<RefreshTokenRow> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(token)))
        .select(RefreshTokenRow::as_select())
        .get_result(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(Committed::Refused(invalid()));
    };
    if row.revoked_at.is_some() {
        return Ok(Committed::Refused(invalid()));
    }
    if row.used_at.is_some() {
        return reused(conn, &row);
    }
    if row.expires_at <= db::now() {
        return Ok(Committed::Refused(AppError::unauthenticated(
            crate::error::Code::RefreshTokenExpired,
            "the refresh token has expired",
        )));
    }
    // Conditional on still being unused: of two concurrent refreshes with one token, only
    // one marks it; the other sees no row changed and is treated as the replay it is.
    let marked = diesel::update(
        refresh_tokens::table
            .find(row.id)
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(db::now()))
    .execute(conn)?;
    if marked == 0 {
        return reused(conn, &row);
    }
    Ok(Committed::Granted(Rotation {
        user_id: row.user_id,
        session: row.family_id,
    }))
}

/// Logout: ends the caller's session `current`, and the session of `token` if it belongs to
/// `user_id` (usually the same one). Unknown tokens are ignored, so logout is idempotent
/// and reveals nothing.
pub fn logout(
    conn: &mut DbConnection,
    user_id: UserId,
    current: SessionId,
    token: &str,
) -> AppResult<()> {
    revoke_session(conn, current)?;
    let session: Option<SessionId> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(token)))
        .filter(refresh_tokens::user_id.eq(user_id))
        .select(refresh_tokens::family_id)
        .get_result(conn)
        .optional()?;
    if let Some(session) = session {
        revoke_session(conn, session)?;
    }
    Ok(())
}
