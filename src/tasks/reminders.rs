//! The tasks the deadline sweep reminds their workers of (催办): open, and due within the
//! warning window or past their deadline, not yet reminded for that deadline (the sweep
//! claims each reminder in `reminders`; see `notifications::remind`). Found by state, not
//! by when the last sweep ran, so a task created with less than the window left, or one
//! already late when the server starts, is reminded too.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::schema::{reminders, tasks};
use crate::db::DbConnection;
use crate::deadlines::WarningRules;
use crate::error::AppResult;
use crate::ids::{TaskId, UnitId, UserId};
use crate::notifications::{About, Due};
use crate::tasks::rules::TaskStatus;

/// At most this many of each kind per sweep; the rest wait for the next one.
const PER_SWEEP: i64 = 500;

/// The tasks to remind of at `now`.
pub fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    rules: &WarningRules,
) -> AppResult<Vec<Due>> {
    type Row = (TaskId, UnitId, Option<UserId>, String, NaiveDateTime);
    let select = (
        tasks::id,
        tasks::unit_id,
        tasks::assignee_id,
        tasks::title,
        tasks::due_at,
    );
    let reminded = |kind: &'static str| {
        exists(
            reminders::table
                .filter(reminders::record.eq("task:".into_sql::<Text>().concat(tasks::id)))
                .filter(reminders::kind.eq(kind))
                .filter(reminders::due_at.eq(tasks::due_at)),
        )
    };
    let soon: Vec<Row> = tasks::table
        .filter(crate::db::in_list(tasks::status, TaskStatus::WORKING))
        .filter(tasks::due_at.ge(now))
        .filter(tasks::due_at.le(now + rules.due_soon))
        .filter(not(reminded("due_soon")))
        .select(select)
        .order(tasks::due_at)
        .limit(PER_SWEEP)
        .load(conn)?;
    let late: Vec<Row> = tasks::table
        .filter(crate::db::in_list(tasks::status, TaskStatus::OPEN))
        .filter(tasks::due_at.lt(now))
        .filter(not(reminded("overdue")))
        .select(select)
        .order(tasks::due_at)
        .limit(PER_SWEEP)
        .load(conn)?;
    let due = |rows: Vec<Row>, overdue: bool| {
        rows.into_iter()
            .map(move |(id, unit_id, assignee_id, title, due_at)| Due {
                about: About::Task(id),
                unit_id,
                assignee_id,
                title,
                due_at,
                overdue,
            })
    };
    Ok(due(soon, false).chain(due(late, true)).collect())
}
