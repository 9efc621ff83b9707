//! The rectification items the deadline sweep reminds their unit of (催办): routed, open,
//! and due within the warning window or past their deadline, not yet reminded for that
//! deadline — the same rule as tasks' (`tasks::reminders`), over the items' table. An item
//! in triage has no unit to remind yet.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::schema::{rectifications, reminders};
use crate::db::DbConnection;
use crate::deadlines::WarningRules;
use crate::error::AppResult;
use crate::ids::{RectificationId, UnitId};
use crate::notifications::{About, Due};
use crate::rectifications::rules::ItemStatus;

/// At most this many of each kind per sweep; the rest wait for the next one.
const PER_SWEEP: i64 = 500;

/// The items to remind of at `now`.
pub fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    rules: &WarningRules,
) -> AppResult<Vec<Due>> {
    type Row = (
        RectificationId,
        Option<UnitId>,
        String,
        String,
        NaiveDateTime,
    );
    let select = (
        rectifications::id,
        rectifications::unit_id,
        rectifications::number,
        rectifications::description,
        rectifications::due_at,
    );
    let reminded = |kind: &'static str| {
        exists(
            reminders::table
                .filter(reminders::record.eq("item:".into_sql::<Text>().concat(rectifications::id)))
                .filter(reminders::kind.eq(kind))
                .filter(reminders::due_at.eq(rectifications::due_at)),
        )
    };
    let soon: Vec<Row> = rectifications::table
        .filter(crate::db::in_list(
            rectifications::status,
            ItemStatus::WORKING,
        ))
        .filter(rectifications::unit_id.is_not_null())
        .filter(rectifications::due_at.ge(now))
        .filter(rectifications::due_at.le(now + rules.due_soon))
        .filter(not(reminded("due_soon")))
        .select(select)
        .order(rectifications::due_at)
        .limit(PER_SWEEP)
        .load(conn)?;
    let late: Vec<Row> = rectifications::table
        .filter(crate::db::in_list(rectifications::status, ItemStatus::OPEN))
        .filter(rectifications::unit_id.is_not_null())
        .filter(rectifications::due_at.lt(now))
        .filter(not(reminded("overdue")))
        .select(select)
        .order(rectifications::due_at)
        .limit(PER_SWEEP)
        .load(conn)?;
    let due = |rows: Vec<Row>, overdue: bool| {
        rows.into_iter()
            .filter_map(move |(id, unit, number, description, due_at)| {
                Some(Due {
                    about: About::Item(id),
                    unit_id: unit?,
                    assignee_id: None,
                    title: title(&number, &description),
                    due_at,
                    overdue,
                })
            })
    };
    Ok(due(soon, false).chain(due(late, true)).collect())
}

/// An item's notification title: its number and the start of its description.
pub fn title(number: &str, description: &str) -> String {
    let short: String = description.chars().take(40).collect();
    if short.is_empty() {
        number.to_string()
    } else {
        format!("{number} {short}")
    }
}
