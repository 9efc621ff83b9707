//! The warning rules of `tasks::rules` as SQL, so that lists filter by colour and count
//! across pages. Time arithmetic differs between the backends (seconds since the epoch:
//! `unixepoch(…, 'subsec')` on SQLite, `EXTRACT(EPOCH FROM …)` on PostgreSQL), so the one
//! expression that needs it, [`Behind`], renders per backend; everything else is diesel's
//! query builder.

use chrono::NaiveDateTime;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Double};
use diesel::sqlite::Sqlite;

use crate::db::schema::tasks;
use crate::tasks::rules::{epoch_seconds, TaskStatus, Warning, WarningRules};

/// SQL condition on `tasks`: behind the planned pace or in the last stretch of its time,
/// at `now` — [`crate::tasks::rules::behind`], with the same arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behind {
    now: f64,
    tolerance: f64,
    percent: f64,
}

impl Behind {
    pub fn at(now: NaiveDateTime, rules: &WarningRules) -> Self {
        Behind {
            now: epoch_seconds(now),
            tolerance: rules.pace_tolerance as f64,
            percent: rules.time_left_percent as f64,
        }
    }

    /// `(progress + tolerance) * span < 100 * elapsed OR 100 * left < percent * span`,
    /// with `epoch` rendering a timestamp column as seconds.
    fn walk<'b, DB: diesel::backend::Backend>(
        &'b self,
        mut out: AstPass<'_, 'b, DB>,
        epoch: fn(&mut AstPass<'_, 'b, DB>, Column) -> QueryResult<()>,
    ) -> QueryResult<()>
    where
        f64: diesel::serialize::ToSql<Double, DB>,
        tasks::progress: QueryFragment<DB>,
    {
        let span = |out: &mut AstPass<'_, 'b, DB>| -> QueryResult<()> {
            out.push_sql("(");
            epoch(out, Column::Due)?;
            out.push_sql(" - ");
            epoch(out, Column::Created)?;
            out.push_sql(")");
            Ok(())
        };
        out.push_sql("((");
        tasks::progress.walk_ast(out.reborrow())?;
        out.push_sql(" + ");
        out.push_bind_param::<Double, f64>(&self.tolerance)?;
        out.push_sql(") * ");
        span(&mut out)?;
        out.push_sql(" < 100.0 * (");
        out.push_bind_param::<Double, f64>(&self.now)?;
        out.push_sql(" - ");
        epoch(&mut out, Column::Created)?;
        out.push_sql(") OR 100.0 * (");
        epoch(&mut out, Column::Due)?;
        out.push_sql(" - ");
        out.push_bind_param::<Double, f64>(&self.now)?;
        out.push_sql(") < ");
        out.push_bind_param::<Double, f64>(&self.percent)?;
        out.push_sql(" * ");
        span(&mut out)?;
        out.push_sql(")");
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Column {
    Created,
    Due,
}

fn column<'b, DB: diesel::backend::Backend>(
    out: &mut AstPass<'_, 'b, DB>,
    column: Column,
) -> QueryResult<()>
where
    tasks::created_at: QueryFragment<DB>,
    tasks::due_at: QueryFragment<DB>,
{
    match column {
        Column::Created => tasks::created_at.walk_ast(out.reborrow()),
        Column::Due => tasks::due_at.walk_ast(out.reborrow()),
    }
}

impl QueryFragment<Sqlite> for Behind {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(out, |out, c| {
            out.push_sql("unixepoch(");
            column(out, c)?;
            out.push_sql(", 'subsec')");
            Ok(())
        })
    }
}

impl QueryFragment<Pg> for Behind {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(out, |out, c| {
            out.push_sql("CAST(EXTRACT(EPOCH FROM ");
            column(out, c)?;
            out.push_sql(") AS DOUBLE PRECISION)");
            Ok(())
        })
    }
}

impl QueryFragment<crate::db::Backend> for Behind {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, crate::db::Backend>) -> QueryResult<()> {
        crate::db::Backend::walk_variant_ast(self, pass)
    }
}

impl Expression for Behind {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for Behind where tasks::progress: AppearsOnTable<QS> {}
impl<QS> SelectableExpression<QS> for Behind where tasks::progress: SelectableExpression<QS> {}

impl ValidGrouping<()> for Behind {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl QueryId for Behind {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// A boxed condition on `tasks`.
pub type TaskCondition =
    Box<dyn BoxableExpression<tasks::table, crate::db::Backend, SqlType = Bool>>;

/// Tasks with this colour at `now` ([`crate::tasks::rules::warning`], as SQL).
pub fn warning_is(warning: Warning, now: NaiveDateTime, rules: &WarningRules) -> TaskCondition {
    let working = || tasks::status.eq_any(TaskStatus::WORKING);
    let not_late = || tasks::due_at.ge(now);
    let behind = Behind::at(now, rules);
    let soon = now + rules.due_soon;
    match warning {
        Warning::Red => Box::new(overdue(now)),
        Warning::Yellow => Box::new(working().and(not_late()).and(behind)),
        Warning::Blue => Box::new(
            working()
                .and(not_late())
                .and(diesel::dsl::not(behind))
                .and(tasks::due_at.le(soon)),
        ),
        Warning::None => Box::new(
            tasks::status
                .ne_all(TaskStatus::OPEN)
                .or(not_late().and(tasks::status.eq(TaskStatus::Submitted)))
                .or(working()
                    .and(not_late())
                    .and(diesel::dsl::not(behind))
                    .and(tasks::due_at.gt(soon))),
        ),
    }
}

/// Open tasks past their deadline at `now`.
pub fn overdue(
    now: NaiveDateTime,
) -> diesel::dsl::And<
    diesel::dsl::EqAny<tasks::status, &'static [TaskStatus]>,
    diesel::dsl::Lt<tasks::due_at, NaiveDateTime>,
> {
    tasks::status
        .eq_any(TaskStatus::OPEN)
        .and(tasks::due_at.lt(now))
}
