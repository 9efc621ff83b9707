//! `Idempotency-Key` (IETF draft "The Idempotency-Key HTTP Header Field") on every create
//! and transition: a retry with the same key and the same request replays the first answer
//! (status, body, `Location`, `ETag`, plus `Idempotent-Replayed: true`); the same key with
//! another request answers 422 `idempotency_key_reused`. Keys belong to the user who sent
//! them and are kept at least 24 hours (`IDEMPOTENCY_KEY_TTL_HOURS`).
//!
//! The key is claimed by inserting its row in the write's own transaction, before the
//! work, and the answer is stored in the same transaction after it. Two requests with one
//! key at the same moment therefore produce one record: on PostgreSQL the second insert
//! waits on the first's uncommitted row and then finds the stored answer; on SQLite the
//! writers queue ([`crate::db::Db::writing`]). A request that fails rolls its claim back,
//! so only successful answers are kept and a failed request may be retried with its key.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys;
use crate::db::{write_tx, DbConnection};
use crate::error::{AppError, AppResult};
use crate::http::Reply;
use crate::ids::UserId;

pub const HEADER: &str = "Idempotency-Key";
pub const MAX_KEY_CHARS: usize = 255;

/// A request's `Idempotency-Key`, with what identifies the request (method and path).
/// Extraction never fails: a malformed key is reported by [`once`], after the caller is
/// authorised (like [`crate::http::Json`]).
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// The key, or why it is malformed.
    key: Option<Result<String, String>>,
    request: String,
}

impl IdempotencyKey {
    /// No key: the write runs once per request.
    pub fn none() -> Self {
        IdempotencyKey {
            key: None,
            request: String::new(),
        }
    }

    /// A key for tests and tools that call [`once`] directly.
    pub fn new(key: &str, method: &str, path: &str) -> Self {
        IdempotencyKey {
            key: Some(check_key(key)),
            request: format!("{method} {path}"),
        }
    }
}

/// Keys are 1–255 visible ASCII characters (a UUID is typical).
pub fn check_key(key: &str) -> Result<String, String> {
    let ok =
        !key.is_empty() && key.len() <= MAX_KEY_CHARS && key.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(key.to_string())
    } else {
        Err(format!(
            "must be 1 to {MAX_KEY_CHARS} visible ASCII characters, e.g. a UUID"
        ))
    }
}

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<IdempotencyKey>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = req.headers().get_all(HEADER);
        let key = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None) => Some(match value.to_str() {
                Ok(text) => check_key(text.trim()),
                Err(_) => check_key(""),
            }),
            (Some(_), Some(_)) => Some(Err("send one Idempotency-Key header".into())),
        };
        std::future::ready(Ok(IdempotencyKey {
            key,
            request: format!("{} {}", req.method(), req.path()),
        }))
    }
}

/// What makes a write safe to retry and to race: its `Idempotency-Key` with the digest of
/// its body, and its `If-Match`. A single call takes them from its headers; an operation of
/// a batch (`POST /api/v1/sync/batch`) from its own fields, so each write has one function
/// that both call.
#[derive(Debug, Clone, Copy)]
pub struct Safe<'a> {
    pub key: &'a IdempotencyKey,
    pub digest: &'a str,
    pub if_match: &'a crate::http::IfMatch,
}

impl Safe<'_> {
    /// [`once`] with this write's key, at `now`.
    pub fn once(
        &self,
        conn: &mut DbConnection,
        user: UserId,
        (now, ttl): (NaiveDateTime, std::time::Duration),
        work: impl FnOnce(&mut DbConnection) -> AppResult<Reply>,
    ) -> AppResult<Reply> {
        once(conn, user, self.key, self.digest, (now, ttl), work)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    user_id: UserId,
    key: String,
    fingerprint: String,
    status: i32,
    body: String,
    location: Option<String>,
    etag: Option<String>,
    created_at: NaiveDateTime,
}

/// Runs `work` in a write transaction once per key: the first time, it runs and its answer
/// is stored with the key; a retry with the same key and request (`body_digest` is the
/// SHA-256 of the body, [`crate::http::Json::digest`]) gets that answer again. Keys older
/// than `ttl` count as new.
pub fn once(
    conn: &mut DbConnection,
    user: UserId,
    key: &IdempotencyKey,
    body_digest: &str,
    (now, ttl): (NaiveDateTime, std::time::Duration),
    work: impl FnOnce(&mut DbConnection) -> AppResult<Reply>,
) -> AppResult<Reply> {
    let Some(key_text) = &key.key else {
        return write_tx(conn, work);
    };
    let key_text = key_text
        .clone()
        .map_err(|message| AppError::bad_parameter(HEADER, message))?;
    let fingerprint = hex::encode(Sha256::digest(format!("{}\n{body_digest}", key.request)));
    let expired_before =
        now - chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::days(1));
    write_tx(conn, |conn| {
        let claim = KeyRow {
            user_id: user,
            key: key_text.clone(),
            fingerprint: fingerprint.clone(),
            status: 0,
            body: String::new(),
            location: None,
            etag: None,
            created_at: now,
        };
        let claimed = crate::on_backend!(conn, |c| diesel::insert_into(idempotency_keys::table)
            .values(&claim)
            .on_conflict_do_nothing()
            .execute(c))?;
        if claimed == 0 {
            let stored: KeyRow = idempotency_keys::table
                .find((user, &key_text))
                .select(KeyRow::as_select())
                .get_result(conn)?;
            if stored.created_at >= expired_before {
                return replay(stored, &fingerprint);
            }
            // Expired: the key starts over.
            diesel::update(idempotency_keys::table.find((user, &key_text)))
                .set((
                    idempotency_keys::fingerprint.eq(&fingerprint),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        let reply = work(conn)?;
        diesel::update(idempotency_keys::table.find((user, &key_text)))
            .set((
                idempotency_keys::status.eq(i32::from(reply.status)),
                idempotency_keys::body.eq(&reply.body),
                idempotency_keys::location.eq(&reply.location),
                idempotency_keys::etag.eq(&reply.etag),
            ))
            .execute(conn)?;
        Ok(reply)
    })
}

fn replay(stored: KeyRow, fingerprint: &str) -> AppResult<Reply> {
    if stored.fingerprint != fingerprint {
        return Err(AppError::unprocessable(
            crate::error::Code::IdempotencyKeyReused,
            "this Idempotency-Key was used for another request (another body or operation); \
             use a new key for a new request",
        ));
    }
    let status = u16::try_from(stored.status)
        .ok()
        .filter(|s| (200..300).contains(s))
        .ok_or_else(|| AppError::internal("an idempotency key without its answer"))?;
    Ok(Reply {
        status,
        body: stored.body,
        location: stored.location,
        etag: stored.etag,
        replayed: true,
    })
}

/// Deletes keys older than `ttl`; returns how many.
pub fn expire(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    ttl: std::time::Duration,
) -> AppResult<usize> {
    let before = now - chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::days(1));
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
            .execute(conn)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii() {
        assert!(check_key("0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").is_ok());
        assert!(check_key("retry-1").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("两个字").is_err());
        assert!(check_key("with space").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
        assert!(check_key(&"k".repeat(255)).is_ok());
    }
}
