//! The deadline rules of [`crate::deadlines`] as SQL conditions, so that lists filter by
//! colour and count across pages. Time arithmetic differs between the backends (seconds
//! since the epoch: `unixepoch(…, 'subsec')` on SQLite, `EXTRACT(EPOCH FROM …)` on
//! PostgreSQL), so the one expression that needs it, [`Behind`], renders per backend;
//! everything else is diesel's query builder. A table with deadlines says which of its
//! rows are open, working and waiting ([`Deadlined`]); [`warning_is`] does the rest.

use chrono::NaiveDateTime;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Double, Integer, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::Backend;
use crate::deadlines::{epoch_seconds, Warning, WarningRules};

/// A boxed condition on table `T`.
pub type Condition<T> = Box<dyn BoxableExpression<T, Backend, SqlType = Bool>>;

/// SQL condition: behind the planned pace (when there is a `progress` column) or in the
/// last stretch of the time, at `now` — [`crate::deadlines::behind`], with the same
/// arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behind<P, C, D> {
    progress: Option<P>,
    created: C,
    due: D,
    now: f64,
    tolerance: f64,
    percent: f64,
}

impl<P, C, D> Behind<P, C, D> {
    pub fn at(
        progress: Option<P>,
        created: C,
        due: D,
        now: NaiveDateTime,
        rules: &WarningRules,
    ) -> Self {
        Behind {
            progress,
            created,
            due,
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
        epoch: fn(&mut AstPass<'_, 'b, DB>, &'b dyn QueryFragment<DB>) -> QueryResult<()>,
    ) -> QueryResult<()>
    where
        f64: diesel::serialize::ToSql<Double, DB>,
        P: QueryFragment<DB>,
        C: QueryFragment<DB>,
        D: QueryFragment<DB>,
    {
        let span = |out: &mut AstPass<'_, 'b, DB>| -> QueryResult<()> {
            out.push_sql("(");
            epoch(out, &self.due)?;
            out.push_sql(" - ");
            epoch(out, &self.created)?;
            out.push_sql(")");
            Ok(())
        };
        out.push_sql("(");
        if let Some(progress) = &self.progress {
            out.push_sql("(");
            progress.walk_ast(out.reborrow())?;
            out.push_sql(" + ");
            out.push_bind_param::<Double, f64>(&self.tolerance)?;
            out.push_sql(") * ");
            span(&mut out)?;
            out.push_sql(" < 100.0 * (");
            out.push_bind_param::<Double, f64>(&self.now)?;
            out.push_sql(" - ");
            epoch(&mut out, &self.created)?;
            out.push_sql(") OR ");
        }
        out.push_sql("100.0 * (");
        epoch(&mut out, &self.due)?;
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

impl<P, C, D> QueryFragment<Sqlite> for Behind<P, C, D>
where
    P: QueryFragment<Sqlite>,
    C: QueryFragment<Sqlite>,
    D: QueryFragment<Sqlite>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(out, |out, column| {
            out.push_sql("unixepoch(");
            column.walk_ast(out.reborrow())?;
            out.push_sql(", 'subsec')");
            Ok(())
        })
    }
}

impl<P, C, D> QueryFragment<Pg> for Behind<P, C, D>
where
    P: QueryFragment<Pg>,
    C: QueryFragment<Pg>,
    D: QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(out, |out, column| {
            out.push_sql("CAST(EXTRACT(EPOCH FROM ");
            column.walk_ast(out.reborrow())?;
            out.push_sql(") AS DOUBLE PRECISION)");
            Ok(())
        })
    }
}

impl<P, C, D> QueryFragment<Backend> for Behind<P, C, D>
where
    P: QueryFragment<Sqlite> + QueryFragment<Pg>,
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
    D: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        Backend::walk_variant_ast(self, pass)
    }
}

impl<P, C, D> Expression for Behind<P, C, D>
where
    P: Expression<SqlType = Integer>,
    C: Expression<SqlType = Timestamp>,
    D: Expression<SqlType = Timestamp>,
{
    type SqlType = Bool;
}

impl<QS, P, C, D> AppearsOnTable<QS> for Behind<P, C, D>
where
    Self: Expression,
    P: AppearsOnTable<QS>,
    C: AppearsOnTable<QS>,
    D: AppearsOnTable<QS>,
{
}

impl<QS, P, C, D> SelectableExpression<QS> for Behind<P, C, D>
where
    Self: AppearsOnTable<QS>,
    P: SelectableExpression<QS>,
    C: SelectableExpression<QS>,
    D: SelectableExpression<QS>,
{
}

impl<P, C, D> ValidGrouping<()> for Behind<P, C, D> {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl<P, C, D> QueryId for Behind<P, C, D> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// A table whose rows have deadlines: which rows are open, which are being worked on and
/// which wait for someone else ([`crate::deadlines::Phase`]), and its deadline column.
pub trait Deadlined {
    type Table;
    /// Not closed: overdue applies.
    fn open() -> Condition<Self::Table>;
    /// Being worked on: every colour applies.
    fn working() -> Condition<Self::Table>;
    /// Open but not being worked on: only red applies.
    fn waiting() -> Condition<Self::Table>;
    /// The deadline is before `t`.
    fn due_before(t: NaiveDateTime) -> Condition<Self::Table>;
    /// The deadline is after `t`.
    fn due_after(t: NaiveDateTime) -> Condition<Self::Table>;
    /// [`Behind`] on this table's columns.
    fn behind(now: NaiveDateTime, rules: &WarningRules) -> Condition<Self::Table>;
}

/// Open rows past their deadline at `now`.
pub fn overdue<D: Deadlined>(now: NaiveDateTime) -> Condition<D::Table>
where
    D::Table: 'static,
{
    Box::new(D::open().and(D::due_before(now)))
}

/// Rows with this colour at `now` ([`crate::deadlines::warning`], as SQL).
pub fn warning_is<D: Deadlined>(
    warning: Warning,
    now: NaiveDateTime,
    rules: &WarningRules,
) -> Condition<D::Table>
where
    D::Table: 'static,
{
    let not_late = || diesel::dsl::not(D::due_before(now));
    let soon = now + rules.due_soon;
    match warning {
        Warning::Red => overdue::<D>(now),
        Warning::Yellow => Box::new(D::working().and(not_late()).and(D::behind(now, rules))),
        Warning::Blue => Box::new(
            D::working()
                .and(not_late())
                .and(diesel::dsl::not(D::behind(now, rules)))
                .and(diesel::dsl::not(D::due_after(soon))),
        ),
        Warning::None => Box::new(
            diesel::dsl::not(D::open())
                .or(not_late().and(D::waiting()))
                .or(D::working()
                    .and(not_late())
                    .and(diesel::dsl::not(D::behind(now, rules)))
                    .and(D::due_after(soon))),
        ),
    }
}
