//! Slows down password guessing. Every attempt is counted against its account and against
//! the client's address — reserved *before* the password is checked, in the check's own
//! transaction, so a burst of concurrent attempts cannot all slip past the limit while
//! each is still being verified. When it is decided, the attempt is settled: a failure
//! counts, and enough failures lock the account (or address) for a while; a success
//! clears the account's count, unless other attempts on it are still in flight (a right
//! password must not reopen a guessing burst that is still running).
//!
//! Counters are rows, not memory, so every replica shares them. An account's limit is
//! small (`LOGIN_MAX_FAILURES`); an address's is much larger
//! (`LOGIN_MAX_FAILURES_PER_ADDRESS`), because behind a proxy or NAT one address is a
//! whole office, and one person's typos must not lock everyone out.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use crate::db::schema::login_throttles;
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};

/// What a counter is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Account,
    Address,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::Address => "address",
        }
    }
}

/// One counter an attempt is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub subject: Subject,
    /// `user:<username, lower case>` or `addr:<ip>`.
    pub key: String,
    pub max_failures: i32,
}

/// The limits in force (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub account: i32,
    pub address: i32,
    /// How long failures are counted, and how long a lock lasts.
    pub lockout: Duration,
}

pub fn account_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

pub fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

/// The counters a login attempt for `username` from `address` is checked against.
pub fn login_keys(username: &str, address: &str, limits: &Limits) -> Vec<Key> {
    vec![
        Key {
            subject: Subject::Account,
            key: account_key(username),
            max_failures: limits.account,
        },
        Key {
            subject: Subject::Address,
            key: address_key(address),
            max_failures: limits.address,
        },
    ]
}

/// The counter a password change by `username` is checked against (its account only).
pub fn account_keys(username: &str, limits: &Limits) -> Vec<Key> {
    vec![Key {
        subject: Subject::Account,
        key: account_key(username),
        max_failures: limits.account,
    }]
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttles, treat_none_as_default_value = false)]
#[diesel(treat_none_as_null = true)]
struct Counter {
    key: String,
    failures: i32,
    window_started_at: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
    in_flight: i32,
}

/// The pure part of the rules: what a counter becomes. Kept apart from the SQL so it can
/// be tested without a database.
mod rules {
    use super::*;

    fn delta(d: Duration) -> TimeDelta {
        TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
    }

    /// A counter whose window has passed starts again (and forgets attempts that never
    /// settled, e.g. from a request that was cut off).
    pub fn current(
        counter: Option<Counter>,
        key: &str,
        now: NaiveDateTime,
        window: Duration,
    ) -> Counter {
        match counter {
            Some(c)
                if now - c.window_started_at < delta(window)
                    || c.locked_until.is_some_and(|u| u > now) =>
            {
                c
            }
            _ => Counter {
                key: key.to_string(),
                failures: 0,
                window_started_at: now,
                locked_until: None,
                in_flight: 0,
            },
        }
    }

    /// When the counter is locked or full, until when; otherwise `None`.
    pub fn refused_until(
        c: &Counter,
        max: i32,
        now: NaiveDateTime,
        window: Duration,
    ) -> Option<NaiveDateTime> {
        if let Some(until) = c.locked_until.filter(|u| *u > now) {
            return Some(until);
        }
        if c.failures + c.in_flight >= max {
            // Full of attempts still being checked: they settle within a second or two;
            // failures that filled it stay until the window passes.
            let settle = now + TimeDelta::seconds(1);
            return Some(if c.failures >= max {
                c.window_started_at + delta(window)
            } else {
                settle
            });
        }
        None
    }

    /// Settles one reserved attempt. Returns whether this failure locked the counter.
    pub fn settle(
        c: &mut Counter,
        success: bool,
        subject: Subject,
        max: i32,
        now: NaiveDateTime,
        lockout: Duration,
    ) -> bool {
        c.in_flight = (c.in_flight - 1).max(0);
        if success {
            if subject == Subject::Account && c.in_flight == 0 {
                c.failures = 0;
                c.locked_until = None;
            }
            return false;
        }
        c.failures += 1;
        if c.failures >= max && c.locked_until.is_none_or(|u| u <= now) {
            c.locked_until = Some(now + delta(lockout));
            return true;
        }
        false
    }
}

/// On PostgreSQL, attempts on one key take turns (READ COMMITTED would let two read the
/// same count); on SQLite the write transaction already does.
fn lock(conn: &mut DbConnection, key: &str) -> AppResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':login:' || $1, 0))",
        )
        .bind::<diesel::sql_types::Text, _>(key)
        .execute(pg)?;
    }
    Ok(())
}

fn load(conn: &mut DbConnection, key: &str) -> AppResult<Option<Counter>> {
    Ok(login_throttles::table
        .find(key)
        .select(Counter::as_select())
        .get_result(conn)
        .optional()?)
}

fn save(conn: &mut DbConnection, counter: &Counter, existed: bool) -> AppResult<()> {
    if existed {
        diesel::update(login_throttles::table.find(&counter.key))
            .set(counter)
            .execute(conn)?;
    } else {
        diesel::insert_into(login_throttles::table)
            .values(counter)
            .execute(conn)?;
    }
    Ok(())
}

/// The refusal of an attempt: what is limited and until when.
pub fn too_many(subject: Subject, until: NaiveDateTime, now: NaiveDateTime) -> AppError {
    let secs = (until - now).num_seconds().max(1);
    AppError::TooManyRequests {
        retry_after_secs: u64::try_from(secs).unwrap_or(1),
        limited: Some(subject.as_str()),
        until: Some(DateTime::<Utc>::from_naive_utc_and_offset(until, Utc)),
    }
}

/// Reserves one attempt on every key, or on none: refused when a key is locked, or when
/// its failures and the attempts in flight have reached its limit. Call in a write
/// transaction; a refusal is `Ok(Err(429))` so the caller can say what was limited.
pub fn reserve(
    conn: &mut DbConnection,
    keys: &[Key],
    window: Duration,
) -> AppResult<Result<(), AppError>> {
    let now = db::now();
    let mut sorted: Vec<&Key> = keys.iter().collect();
    // One order for every transaction, so two cannot wait for each other's locks.
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut counters = Vec::new();
    for key in sorted {
        lock(conn, &key.key)?;
        let stored = load(conn, &key.key)?;
        let existed = stored.is_some();
        let counter = rules::current(stored, &key.key, now, window);
        if let Some(until) = rules::refused_until(&counter, key.max_failures, now, window) {
            return Ok(Err(too_many(key.subject, until, now)));
        }
        counters.push((counter, existed));
    }
    for (mut counter, existed) in counters {
        counter.in_flight += 1;
        save(conn, &counter, existed)?;
    }
    Ok(Ok(()))
}

/// Settles an attempt reserved on `keys`. Returns the subjects this failure locked.
pub fn settle(
    conn: &mut DbConnection,
    keys: &[Key],
    success: bool,
    lockout: Duration,
) -> AppResult<Vec<Subject>> {
    let now = db::now();
    let mut sorted: Vec<&Key> = keys.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut locked = Vec::new();
    for key in sorted {
        lock(conn, &key.key)?;
        let stored = load(conn, &key.key)?;
        let existed = stored.is_some();
        let mut counter = rules::current(stored, &key.key, now, lockout);
        if rules::settle(
            &mut counter,
            success,
            key.subject,
            key.max_failures,
            now,
            lockout,
        ) {
            locked.push(key.subject);
        }
        save(conn, &counter, existed)?;
    }
    Ok(locked)
}

/// Lifts an account's lock and forgets its failures (an admin's unlock or password reset).
/// Returns whether there was anything to clear.
pub fn unlock(conn: &mut DbConnection, username: &str) -> AppResult<bool> {
    let key = account_key(username);
    lock(conn, &key)?;
    let cleared = diesel::update(login_throttles::table.find(&key))
        .set((
            login_throttles::failures.eq(0),
            login_throttles::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(cleared > 0)
}

/// Whether the account is locked now, and until when.
pub fn locked_until(conn: &mut DbConnection, username: &str) -> AppResult<Option<NaiveDateTime>> {
    let now = db::now();
    Ok(load(conn, &account_key(username))?
        .and_then(|c| c.locked_until)
        .filter(|u| *u > now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(300);

    fn at(secs: i64) -> NaiveDateTime {
        DateTime::<Utc>::from_timestamp(1_600_000_000 + secs, 0)
            .unwrap()
            .naive_utc()
    }

    fn fresh(now: NaiveDateTime) -> Counter {
        rules::current(None, "user:x", now, WINDOW)
    }

    #[test]
    fn attempts_in_flight_count_against_the_limit() {
        let mut c = fresh(at(0));
        for _ in 0..5 {
            assert_eq!(rules::refused_until(&c, 5, at(0), WINDOW), None);
            c.in_flight += 1;
        }
        // Five are being checked: the sixth waits, briefly.
        assert_eq!(rules::refused_until(&c, 5, at(0), WINDOW), Some(at(1)));
    }

    #[test]
    fn failures_lock_and_the_lock_expires() {
        let mut c = fresh(at(0));
        for i in 0..5 {
            c.in_flight += 1;
            let locked = rules::settle(&mut c, false, Subject::Account, 5, at(i), WINDOW);
            assert_eq!(locked, i == 4, "attempt {i}");
        }
        assert_eq!(c.locked_until, Some(at(4 + 300)));
        assert_eq!(rules::refused_until(&c, 5, at(10), WINDOW), Some(at(304)));
        // After the lock and the window, a fresh count.
        let c = rules::current(Some(c), "user:x", at(305), WINDOW);
        assert_eq!((c.failures, c.locked_until), (0, None));
    }

    #[test]
    fn a_success_clears_the_account_only_when_nothing_else_is_in_flight() {
        let mut c = fresh(at(0));
        c.failures = 3;
        c.in_flight = 2;
        rules::settle(&mut c, true, Subject::Account, 5, at(1), WINDOW);
        assert_eq!(
            (c.failures, c.in_flight),
            (3, 1),
            "a burst is still running"
        );
        rules::settle(&mut c, true, Subject::Account, 5, at(2), WINDOW);
        assert_eq!((c.failures, c.in_flight), (0, 0));
        let mut address = fresh(at(0));
        address.failures = 3;
        address.in_flight = 1;
        rules::settle(&mut address, true, Subject::Address, 100, at(1), WINDOW);
        assert_eq!(
            address.failures, 3,
            "one right password does not clear an address"
        );
    }

    #[test]
    fn account_keys_ignore_case() {
        assert_eq!(account_key("LD_Zhang"), account_key("ld_zhang"));
    }
}
