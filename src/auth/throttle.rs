//! Slows down password guessing: after `LOGIN_MAX_FAILURES` failures for a username, or
//! four times as many from one client address, logins for it are refused with 429 until
//! the lockout passes. Counters are rows, not memory, so all replicas share them.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::login_throttles;
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};

/// Failures from one address may be several users mistyping behind one NAT.
pub const ADDRESS_FACTOR: i32 = 4;

pub fn user_key(username: &str) -> String {
    format!("user:{username}")
}

pub fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Seconds until `key` may try again, if it is locked now.
pub fn locked_for(
    conn: &mut DbConnection,
    key: &str,
    now: NaiveDateTime,
) -> AppResult<Option<u64>> {
    let until: Option<Option<NaiveDateTime>> = login_throttles::table
        .find(key)
        .select(login_throttles::locked_until)
        .get_result(conn)
        .optional()?;
    Ok(until.flatten().filter(|until| *until > now).map(|until| {
        let secs = (until - now).num_seconds();
        u64::try_from(secs).unwrap_or(0).max(1)
    }))
}

/// Refuses the attempt if the username or the address is locked.
pub fn check(conn: &mut DbConnection, keys: &[String]) -> AppResult<()> {
    let now = db::now();
    let mut wait = None;
    for key in keys {
        if let Some(secs) = locked_for(conn, key, now)? {
            wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
        }
    }
    match wait {
        Some(retry_after_secs) => Err(AppError::TooManyRequests { retry_after_secs }),
        None => Ok(()),
    }
}

/// Counts a failure against `key`, locking it when it reaches `max_failures` within one
/// lockout window.
pub fn record_failure(
    conn: &mut DbConnection,
    key: &str,
    max_failures: i32,
    lockout: Duration,
) -> AppResult<()> {
    record_failure_once(conn, key, max_failures, lockout, false)
}

fn record_failure_once(
    conn: &mut DbConnection,
    key: &str,
    max_failures: i32,
    lockout: Duration,
    retried: bool,
) -> AppResult<()> {
    let now = db::now();
    let existing: Option<(i32, NaiveDateTime)> = login_throttles::table
        .find(key)
        .select((
            login_throttles::failures,
            login_throttles::window_started_at,
        ))
        .get_result(conn)
        .optional()?;
    let (failures, window_started_at) = match existing {
        Some((failures, started)) if now - started < delta(lockout) => (failures + 1, started),
        _ => (1, now),
    };
    let locked_until = (failures >= max_failures).then(|| now + delta(lockout));
    if existing.is_some() {
        diesel::update(login_throttles::table.find(key))
            .set((
                login_throttles::failures.eq(failures),
                login_throttles::window_started_at.eq(window_started_at),
                login_throttles::locked_until.eq(locked_until),
            ))
            .execute(conn)?;
    } else {
        // In a savepoint: on PostgreSQL a concurrent first failure for the same key can win
        // the insert; then this one counts as the second, instead of failing the login.
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(login_throttles::table)
                .values((
                    login_throttles::key.eq(key),
                    login_throttles::failures.eq(failures),
                    login_throttles::window_started_at.eq(window_started_at),
                    login_throttles::locked_until.eq(locked_until),
                ))
                .execute(conn)
        });
        match inserted {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) if !retried => {
                return record_failure_once(conn, key, max_failures, lockout, true);
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// A successful login clears the username's counter (not the address's: one good
/// password must not reset a guessing run against other accounts).
pub fn clear(conn: &mut DbConnection, key: &str) -> AppResult<()> {
    diesel::delete(login_throttles::table.find(key)).execute(conn)?;
    Ok(())
}
