//! Which tasks are open, being worked on or waiting, for the deadline conditions of
//! [`crate::deadlines::sql`]: lists filter by `overdue` and `warning` in SQL.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::tasks;
use crate::deadlines::sql::{self, Behind, Condition, Deadlined};
use crate::deadlines::{Warning, WarningRules};
use crate::tasks::rules::TaskStatus;

/// The `tasks` table, as the deadline conditions see it.
pub struct Tasks;

impl Deadlined for Tasks {
    type Table = tasks::table;

    fn open() -> Condition<tasks::table> {
        Box::new(crate::db::in_list(tasks::status, TaskStatus::OPEN))
    }

    fn working() -> Condition<tasks::table> {
        Box::new(crate::db::in_list(tasks::status, TaskStatus::WORKING))
    }

    fn waiting() -> Condition<tasks::table> {
        Box::new(tasks::status.eq(TaskStatus::Submitted))
    }

    fn due_before(t: NaiveDateTime) -> Condition<tasks::table> {
        Box::new(tasks::due_at.lt(t))
    }

    fn due_after(t: NaiveDateTime) -> Condition<tasks::table> {
        Box::new(tasks::due_at.gt(t))
    }

    fn behind(now: NaiveDateTime, rules: &WarningRules) -> Condition<tasks::table> {
        Box::new(Behind::at(
            Some(tasks::progress),
            tasks::created_at,
            tasks::due_at,
            now,
            rules,
        ))
    }
}

/// Tasks with this colour at `now`.
pub fn warning_is(
    warning: Warning,
    now: NaiveDateTime,
    rules: &WarningRules,
) -> Condition<tasks::table> {
    sql::warning_is::<Tasks>(warning, now, rules)
}

/// Open tasks past their deadline at `now`.
pub fn overdue(now: NaiveDateTime) -> Condition<tasks::table> {
    sql::overdue::<Tasks>(now)
}
