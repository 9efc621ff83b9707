//! Refresh-token families. Each login starts a family; each refresh uses one token and
//! issues the next. A token presented twice means it was stolen (or replayed), so the
//! whole family is revoked and both holders must log in again.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::token::{hash_refresh_token, new_refresh_token};
use crate::db::schema::refresh_tokens;
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Queryable)]
pub struct RefreshTokenRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Stores a new refresh token in `family_id` and returns the token itself (only its hash
/// is stored).
pub fn issue(
    conn: &mut DbConnection,
    user_id: &str,
    family_id: &str,
    ttl: std::time::Duration,
) -> AppResult<String> {
    let token = new_refresh_token();
    let now = db::now();
    let ttl = chrono::TimeDelta::from_std(ttl).map_err(|e| AppError::internal(e.to_string()))?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::token_hash.eq(hash_refresh_token(&token)),
            refresh_tokens::expires_at.eq(now + ttl),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

fn invalid() -> AppError {
    AppError::unauthenticated("invalid_refresh_token", "the refresh token is not valid")
}

fn revoke_family(conn: &mut DbConnection, family_id: &str) -> AppResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}

/// A used token presented again: end the whole family.
fn reused(conn: &mut DbConnection, row: &RefreshTokenRow) -> AppResult<Result<Rotation, AppError>> {
    revoke_family(conn, &row.family_id)?;
    tracing::warn!(user_id = %row.user_id, family = %row.family_id, "refresh token reused; family revoked");
    Ok(Err(AppError::unauthenticated(
        "refresh_token_reused",
        "this refresh token was already used; all sessions from that login are ended",
    )))
}

/// What a valid refresh gives: the user and the family to continue.
pub struct Rotation {
    pub user_id: String,
    pub family_id: String,
}

/// Marks `token` used and returns its family, or revokes the family when the token was
/// already used. The caller issues the successor in the same transaction.
///
/// Reuse detection must survive the error path: the caller commits the revocation even
/// though it answers 401 (see `auth::routes::refresh`).
pub fn consume(conn: &mut DbConnection, token: &str) -> AppResult<Result<Rotation, AppError>> {
    let row: Option<RefreshTokenRow> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(token)))
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(Err(invalid()));
    };
    if row.revoked_at.is_some() {
        return Ok(Err(invalid()));
    }
    if row.used_at.is_some() {
        return reused(conn, &row);
    }
    if row.expires_at <= db::now() {
        return Ok(Err(AppError::unauthenticated(
            "refresh_token_expired",
            "the refresh token has expired",
        )));
    }
    // Conditional on still being unused: of two concurrent refreshes with one token, only
    // one marks it; the other sees no row changed and is treated as the replay it is.
    let marked = diesel::update(
        refresh_tokens::table
            .find(&row.id)
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(db::now()))
    .execute(conn)?;
    if marked == 0 {
        return reused(conn, &row);
    }
    Ok(Ok(Rotation {
        user_id: row.user_id,
        family_id: row.family_id,
    }))
}

/// Logout: revokes the family of `token` if it belongs to `user_id`. Unknown tokens are
/// ignored, so logout is idempotent and reveals nothing.
pub fn revoke(conn: &mut DbConnection, user_id: &str, token: &str) -> AppResult<()> {
    let family: Option<String> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(token)))
        .filter(refresh_tokens::user_id.eq(user_id))
        .select(refresh_tokens::family_id)
        .first(conn)
        .optional()?;
    if let Some(family) = family {
        revoke_family(conn, &family)?;
    }
    Ok(())
}
