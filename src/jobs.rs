//! Periodic work that must run once per interval across every replica: each replica
//! tries to claim the job's row (a conditional `UPDATE`: only one can move
//! `claimed_until` forward; on PostgreSQL the others wait on the row lock and then find
//! it claimed) and runs the job only if it won. What the job writes is idempotent anyway
//! (notifications carry a unique key), so a replica dying mid-run loses nothing.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::job_claims;
use crate::db::{write_tx, DbConnection};
use crate::deadlines::WarningRules;
use crate::error::AppResult;
use crate::notifications::{self, Swept};
use crate::state::AppState;

pub const DEADLINE_SWEEP: &str = "deadline_sweep";

/// Claims `job` until `now + lease` for `worker`; returns when it last ran (`Ok(None)`
/// inside `Some` when never), or `None` when another replica holds it.
pub fn claim(
    conn: &mut DbConnection,
    job: &str,
    worker: &str,
    now: NaiveDateTime,
    lease: TimeDelta,
) -> AppResult<Option<Option<NaiveDateTime>>> {
    write_tx(conn, |conn| {
        crate::on_backend!(conn, |c| diesel::insert_into(job_claims::table)
            .values((
                job_claims::name.eq(job),
                job_claims::claimed_by.eq(""),
                job_claims::claimed_until.eq(now - TimeDelta::seconds(1)),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        let claimed = diesel::update(
            job_claims::table
                .filter(job_claims::name.eq(job))
                .filter(job_claims::claimed_until.lt(now)),
        )
        .set((
            job_claims::claimed_by.eq(worker),
            job_claims::claimed_until.eq(now + lease),
        ))
        .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
        let last: Option<NaiveDateTime> = job_claims::table
            .find(job)
            .select(job_claims::last_run_at)
            .get_result(conn)?;
        Ok(Some(last))
    })
}

/// Records that `job` ran as of `now`, and releases it.
pub fn finish(conn: &mut DbConnection, job: &str, now: NaiveDateTime) -> AppResult<()> {
    diesel::update(job_claims::table.find(job))
        .set((
            job_claims::last_run_at.eq(now),
            job_claims::claimed_until.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// One deadline sweep, if this worker wins the claim: reminders (催办) for the tasks and
/// rectification items now due soon or overdue that have not had one for their deadline,
/// expired idempotency keys, and SQLite's planner statistics. `None` when another replica
/// is sweeping.
pub fn sweep_deadlines(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
    rules: &WarningRules,
    idempotency_ttl: Duration,
) -> AppResult<Option<Swept>> {
    if claim(conn, DEADLINE_SWEEP, worker, now, TimeDelta::minutes(5))?.is_none() {
        return Ok(None);
    }
    let swept = write_tx(conn, |conn| {
        let mut due = crate::tasks::reminders::due(conn, now, rules)?;
        due.extend(crate::rectifications::reminders::due(conn, now, rules)?);
        let swept = notifications::remind(conn, &due, now)?;
        crate::idempotency::expire(conn, now, idempotency_ttl)?;
        finish(conn, DEADLINE_SWEEP, now)?;
        Ok::<_, crate::error::AppError>(swept)
    })?;
    if let Err(e) = crate::db::refresh_statistics(conn) {
        tracing::warn!(error = %e, "could not refresh the planner's statistics");
    }
    Ok(Some(swept))
}

/// Runs the deadline sweep every `SWEEP_INTERVAL_SECONDS` until the process stops.
pub fn spawn(state: AppState) {
    let worker = format!(
        "{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into()),
        std::process::id()
    );
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(state.config.sweep_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let work = state.work();
            let worker = worker.clone();
            let result = state
                .db
                .writing(move |conn| {
                    sweep_deadlines(
                        conn,
                        &worker,
                        work.clock.now(),
                        &work.warnings,
                        work.idempotency_ttl,
                    )
                })
                .await;
            match result {
                Ok(Some(swept)) if swept != Swept::default() => {
                    tracing::info!(
                        due_soon = swept.due_soon,
                        overdue = swept.overdue,
                        "deadline sweep"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deadline sweep failed"),
            }
        }
    });
}
