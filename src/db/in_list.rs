//! `column IN (values)` with the values bound as **one** parameter, so that the statement
//! is the same whatever their number: `= ANY($1)` with an array on PostgreSQL, and
//! `IN (SELECT value FROM json_each(?))` with a JSON array on SQLite (up to eight values
//! there get a placeholder each: a few statement shapes, all cached, that the planner can
//! use as index keys).
//!
//! Why: diesel's `eq_any` renders one placeholder per value on SQLite and marks the
//! statement unsafe to cache, so every call prepares it again; a page's names, categories
//! and photos are looked up that way on every list request.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, Bool, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

use crate::db::Backend;

/// `column IN (values)`; see the module docs. Values are text (ids, codes).
#[derive(Debug, Clone)]
pub struct InList<C, T> {
    column: C,
    values: Vec<T>,
    /// The values as text, and as a JSON array, for SQLite.
    texts: Vec<String>,
    json: String,
}

/// `column IN (values)` as one bound parameter.
pub fn in_list<C, T>(column: C, values: impl IntoIterator<Item = T>) -> InList<C, T>
where
    C: Expression<SqlType = Text>,
    T: std::fmt::Display,
{
    let values: Vec<T> = values.into_iter().collect();
    let texts: Vec<String> = values.iter().map(ToString::to_string).collect();
    let json = serde_json::to_string(&texts).unwrap_or_else(|_| "[]".into());
    InList {
        column,
        values,
        texts,
        json,
    }
}

impl<C, T> Expression for InList<C, T>
where
    C: Expression,
{
    type SqlType = Bool;
}

impl<QS, C, T> AppearsOnTable<QS> for InList<C, T> where C: AppearsOnTable<QS> {}
impl<QS, C, T> SelectableExpression<QS> for InList<C, T> where C: SelectableExpression<QS> {}

impl<C, T> ValidGrouping<()> for InList<C, T> {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl<C, T> QueryId for InList<C, T> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, T> QueryFragment<Pg> for InList<C, T>
where
    C: QueryFragment<Pg>,
    [T]: ToSql<Array<Text>, Pg>,
    T: std::fmt::Debug,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("(");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<Text>, [T]>(self.values.as_slice())?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C, T> QueryFragment<Sqlite> for InList<C, T>
where
    C: QueryFragment<Sqlite>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("(");
        self.column.walk_ast(out.reborrow())?;
        // A few values get a placeholder each: SQLite's planner can then use them as an
        // index key (`(unit_id=? AND status=?)`), which it does not do for a `json_each`
        // subquery inside an OR, and the handful of statement shapes this makes are all
        // cached. More values are one JSON array.
        if self.texts.len() <= FEW {
            out.push_sql(" IN (");
            for (i, text) in self.texts.iter().enumerate() {
                if i > 0 {
                    out.push_sql(", ");
                }
                out.push_bind_param::<Text, String>(text)?;
            }
            out.push_sql("))");
        } else {
            out.push_sql(" IN (SELECT value FROM json_each(");
            out.push_bind_param::<Text, String>(&self.json)?;
            out.push_sql(")))");
        }
        Ok(())
    }
}

/// Lists up to this long are bound value by value on SQLite.
const FEW: usize = 8;

impl<C, T> QueryFragment<Backend> for InList<C, T>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
    [T]: ToSql<Array<Text>, Pg>,
    T: std::fmt::Debug,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        Backend::walk_variant_ast(self, pass)
    }
}

/// `column IN (subquery)` for a subquery of ids (the units a caller sees): rendered
/// `column = ANY(ARRAY(subquery))` on PostgreSQL, so that the subquery runs once, before
/// the scan, and the column's index serves the match — also under `OR` (a bitmap of two
/// index scans) and in a generic plan. `IN (subquery)` there is planned as a filter run
/// against every row, which made a list's count read every item (found by the plan
/// checks in `tests/api/cost.rs`). SQLite plans `IN (subquery)` as a lookup already.
#[derive(Debug, Clone)]
pub struct InSubquery<C, S> {
    column: C,
    subquery: S,
}

/// `column IN (subquery)`; see [`InSubquery`].
pub fn in_subquery<C, S>(column: C, subquery: S) -> InSubquery<C, S> {
    InSubquery { column, subquery }
}

impl<C: Expression, S> Expression for InSubquery<C, S> {
    type SqlType = Bool;
}

impl<QS, C, S> AppearsOnTable<QS> for InSubquery<C, S> where C: AppearsOnTable<QS> {}
impl<QS, C, S> SelectableExpression<QS> for InSubquery<C, S> where C: SelectableExpression<QS> {}

impl<C, S> ValidGrouping<()> for InSubquery<C, S> {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl<C, S> QueryId for InSubquery<C, S> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: QueryFragment<Pg>, S: QueryFragment<Pg>> QueryFragment<Pg> for InSubquery<C, S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("(");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(ARRAY(");
        self.subquery.walk_ast(out.reborrow())?;
        out.push_sql(")))");
        Ok(())
    }
}

impl<C: QueryFragment<Sqlite>, S: QueryFragment<Sqlite>> QueryFragment<Sqlite>
    for InSubquery<C, S>
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("(");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        self.subquery.walk_ast(out.reborrow())?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C, S> QueryFragment<Backend> for InSubquery<C, S>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
    S: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        Backend::walk_variant_ast(self, pass)
    }
}
