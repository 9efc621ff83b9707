//! Which rectification items are open, being fixed or waiting, for the deadline
//! conditions of [`crate::deadlines::sql`]: lists filter by `overdue` and `warning` in SQL.
//! Items report no progress, so only the time left makes them yellow.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::db::schema::rectifications;
use crate::deadlines::sql::{self, Behind, Condition, Deadlined};
use crate::deadlines::WarningRules;
use crate::rectifications::rules::ItemStatus;

/// The `rectifications` table, as the deadline conditions see it.
pub struct Items;

impl Deadlined for Items {
    type Table = rectifications::table;

    fn open() -> Condition<rectifications::table> {
        Box::new(crate::db::in_list(rectifications::status, ItemStatus::OPEN))
    }

    fn working() -> Condition<rectifications::table> {
        Box::new(crate::db::in_list(
            rectifications::status,
            ItemStatus::WORKING,
        ))
    }

    fn waiting() -> Condition<rectifications::table> {
        Box::new(crate::db::in_list(
            rectifications::status,
            ItemStatus::WAITING,
        ))
    }

    fn due_before(t: NaiveDateTime) -> Condition<rectifications::table> {
        Box::new(rectifications::due_at.lt(t))
    }

    fn due_after(t: NaiveDateTime) -> Condition<rectifications::table> {
        Box::new(rectifications::due_at.gt(t))
    }

    fn behind(now: NaiveDateTime, rules: &WarningRules) -> Condition<rectifications::table> {
        Box::new(Behind::at(
            None::<diesel::dsl::AsExprOf<i32, Integer>>,
            rectifications::created_at,
            rectifications::due_at,
            now,
            rules,
        ))
    }
}

/// Open items past their deadline at `now`.
pub fn overdue(now: NaiveDateTime) -> Condition<rectifications::table> {
    sql::overdue::<Items>(now)
}
