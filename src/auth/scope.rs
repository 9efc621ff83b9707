//! Scope: which units a caller may see and act on, as a [`Subject`] (pure, used by the
//! policy) and as SQL (one subquery, [`visible_units`], that every list and lookup of a
//! unit-owned record filters by — nothing loads ids into memory to filter them).
//!
//! Units form a tree with materialised paths (`/<root id>/…/<own id>/`), so "in the
//! subtree of X" is "path starts with X's path".

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, Text};

use crate::auth::policy::Role;
use crate::db::schema::units;
use crate::db::InList;
use crate::ids::{UnitId, UserId};

/// The part of the caller that authorization needs: who, which role, and which subtrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user_id: UserId,
    pub role: Role,
    /// Paths of the subtrees the caller acts on: its own unit, and for an inspector the
    /// grids it leads.
    pub roots: Vec<String>,
    /// Paths of further subtrees the caller may read but not act on: the units its
    /// department is paired with (包联).
    pub read_roots: Vec<String>,
    /// Units above the caller's own that it may read by name and id only (an inspector's
    /// grid's ancestors), not their other children.
    pub ancestors: Vec<UnitId>,
}

/// A unit that may root the caller's scope, as loaded with the caller.
#[derive(Debug, Clone, Copy)]
pub struct Root<'a> {
    pub unit_id: UnitId,
    pub path: &'a str,
    pub leader_id: Option<UserId>,
    /// The caller's unit (a department) is paired with this one (包联).
    pub paired: bool,
}

/// The scope a user's units give:
/// - it acts on its own unit's subtree, and an inspector on the grids it leads too (other
///   roles may be recorded as a grid's leader without gaining its scope);
/// - a department's users read the subtrees of the units it is paired with (包联);
/// - an inspector reads its grids' ancestors by name (not their other children), so it can
///   say where it works.
pub fn subject<'a>(
    user_id: UserId,
    role: Role,
    unit_id: UnitId,
    units: impl IntoIterator<Item = Root<'a>>,
) -> Subject {
    let mut roots: Vec<String> = Vec::new();
    let mut read_roots: Vec<String> = Vec::new();
    for unit in units {
        let own = unit.unit_id == unit_id;
        let led = unit.leader_id == Some(user_id) && role == Role::Inspector;
        let target = if own || led {
            &mut roots
        } else if unit.paired {
            &mut read_roots
        } else {
            continue;
        };
        if !target.iter().any(|r| r == unit.path) {
            target.push(unit.path.to_string());
        }
    }
    read_roots.retain(|r| !roots.contains(r));
    let mut ancestors: Vec<UnitId> = Vec::new();
    if role == Role::Inspector {
        for root in &roots {
            for id in ancestors_of_path(root) {
                if !ancestors.contains(&id) {
                    ancestors.push(id);
                }
            }
        }
    }
    Subject {
        user_id,
        role,
        roots,
        read_roots,
        ancestors,
    }
}

/// `/a/b/c/` covers `/a/b/c/` and `/a/b/c/d/…`; paths end in `/` so `/a/b` never covers `/a/bc/`.
fn covers(roots: &[String], path: &str) -> bool {
    roots.iter().any(|root| path.starts_with(root.as_str()))
}

/// The id of the unit at `path` (its last segment).
pub fn unit_of_path(path: &str) -> Option<UnitId> {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(UnitId::parse)
}

/// The ids of the units above the unit at `path`, root first.
pub fn ancestors_of_path(path: &str) -> Vec<UnitId> {
    let mut ids: Vec<UnitId> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .filter_map(UnitId::parse)
        .collect();
    ids.pop();
    ids
}

impl Subject {
    /// Admins and leaders see every unit.
    pub fn sees_all(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Leader)
    }

    /// May the caller read records that belong to the unit at `path` (its tasks, items,
    /// pairings…)?
    pub fn sees(&self, path: &str) -> bool {
        self.sees_all() || covers(&self.roots, path) || covers(&self.read_roots, path)
    }

    /// May the caller read the unit at `path` itself? Also an inspector's grid's ancestors,
    /// by name: it may say where it works, not read what belongs to them.
    pub fn sees_unit(&self, path: &str) -> bool {
        self.sees(path) || unit_of_path(path).is_some_and(|id| self.ancestors.contains(&id))
    }

    /// Does the caller work at or below the unit at `path` (one of its subtrees, read-only
    /// ones included, lies within the unit's)? Work led from a unit reaches the units below.
    pub fn works_below(&self, path: &str) -> bool {
        self.roots
            .iter()
            .chain(&self.read_roots)
            .any(|root| root.starts_with(path))
    }

    /// The ids of the units at and above every subtree the caller sees: the units whose
    /// led-from-above work ([`Subject::works_below`]) reaches it.
    pub fn upper_units(&self) -> Vec<UnitId> {
        let mut ids: Vec<UnitId> = Vec::new();
        for root in self.roots.iter().chain(&self.read_roots) {
            for id in ancestors_of_path(root)
                .into_iter()
                .chain(unit_of_path(root))
            {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids
    }

    /// Is the unit at `path` inside the subtrees the caller acts on?
    pub fn acts_on(&self, path: &str) -> bool {
        self.role == Role::Admin || covers(&self.roots, path)
    }
}

/// SQL condition on `units`: the unit lies in one of the subtrees at `roots`, or is one of
/// `ids`. Written as its own expression (not a boxed one) so that it renders on every
/// backend: a subquery inside `IN (…)` must, under the multi-backend connection.
///
/// A subtree is a range of paths, `path >= '/a/b/' AND path < '/a/b0'` (`0` follows `/`
/// in byte order), which the index on `path` serves on both backends. (`LIKE '/a/b/%'`
/// with a bound pattern is served by no index on PostgreSQL, and SQLite's planner, built
/// not to look at bound values, cannot use one for it either.) `path` compares bytewise:
/// SQLite's default collation, and `COLLATE "C"` on PostgreSQL (migration 000013).
#[derive(Debug, Clone)]
pub struct UnitScope {
    /// `[lower, upper)` bounds of the paths, one pair per subtree root.
    ranges: Vec<(String, String)>,
    ids: Option<InList<units::id, UnitId>>,
}

/// The paths of the subtree at `root` (which ends in `/`) as a half-open range.
pub fn subtree_range(root: &str) -> (String, String) {
    let upper = match root.strip_suffix('/') {
        Some(stem) => format!("{stem}0"),
        // Not a path we make; a range that holds only itself.
        None => format!("{root}\0"),
    };
    (root.to_string(), upper)
}

impl UnitScope {
    pub fn subtrees(roots: &[String]) -> Self {
        UnitScope {
            ranges: roots.iter().map(|root| subtree_range(root)).collect(),
            ids: None,
        }
    }

    /// Does the scope hold a whole district (a subtree rooted at the top of the tree)?
    /// Then it holds most units, which decides how SQLite is best asked ([`Within`]).
    pub fn broad(&self) -> bool {
        self.ranges
            .iter()
            .any(|(root, _)| root.trim_matches('/').split('/').count() <= 1)
    }

    /// Also the units with these ids.
    pub fn or_units(mut self, ids: &[UnitId]) -> Self {
        if !ids.is_empty() {
            self.ids = Some(crate::db::in_list(units::id, ids.iter().copied()));
        }
        self
    }
}

impl Expression for UnitScope {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for UnitScope where units::path: AppearsOnTable<QS> {}
impl<QS> SelectableExpression<QS> for UnitScope where units::path: SelectableExpression<QS> {}

impl ValidGrouping<()> for UnitScope {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl QueryId for UnitScope {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> QueryFragment<DB> for UnitScope
where
    DB: diesel::backend::Backend,
    String: ToSql<Text, DB>,
    units::path: QueryFragment<DB>,
    InList<units::id, UnitId>: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.ranges.is_empty() && self.ids.is_none() {
            out.push_sql("1 = 0");
            return Ok(());
        }
        out.push_sql("(");
        let mut first = true;
        for (lower, upper) in &self.ranges {
            if !first {
                out.push_sql(" OR ");
            }
            first = false;
            out.push_sql("(");
            units::path.walk_ast(out.reborrow())?;
            out.push_sql(" >= ");
            out.push_bind_param::<Text, String>(lower)?;
            out.push_sql(" AND ");
            units::path.walk_ast(out.reborrow())?;
            out.push_sql(" < ");
            out.push_bind_param::<Text, String>(upper)?;
            out.push_sql(")");
        }
        if let Some(ids) = &self.ids {
            if !first {
                out.push_sql(" OR ");
            }
            ids.walk_ast(out.reborrow())?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// SQL condition on `units`: the caller may read the unit record ([`Subject::sees_unit`]).
/// `None` when it sees every unit (then no filter is needed at all).
pub fn readable_units(subject: &Subject) -> Option<UnitScope> {
    if subject.sees_all() {
        return None;
    }
    let mut roots = subject.roots.clone();
    roots.extend(subject.read_roots.iter().cloned());
    Some(UnitScope::subtrees(&roots).or_units(&subject.ancestors))
}

/// The ids of the units whose records the caller may see ([`Subject::sees`]), as a
/// subquery for `unit_id.eq_any(…)` on any table whose records belong to a unit. `None`
/// when the caller sees every unit.
pub fn visible_units(subject: &Subject) -> Option<VisibleUnits> {
    if subject.sees_all() {
        return None;
    }
    let mut roots = subject.roots.clone();
    roots.extend(subject.read_roots.iter().cloned());
    Some(UnitsIn(UnitScope::subtrees(&roots)))
}

/// The ids of the units the caller acts on (its own subtree: not the units it only reads),
/// as a subquery. `None` for an admin, who acts everywhere.
pub fn acting_units(subject: &Subject) -> Option<VisibleUnits> {
    (subject.role != Role::Admin).then(|| UnitsIn(UnitScope::subtrees(&subject.roots)))
}

/// The ids of the units in the subtree at `path`, as a subquery (list filters "of this
/// unit and the units below it").
pub fn units_under(path: &str) -> VisibleUnits {
    UnitsIn(UnitScope::subtrees(&[path.to_string()]))
}

/// The path of a unit, if it exists (for filters by subtree).
pub fn path_of(
    conn: &mut crate::db::DbConnection,
    id: UnitId,
) -> Result<Option<String>, crate::error::AppError> {
    Ok(units::table
        .find(id)
        .select(units::path)
        .get_result(conn)
        .optional()?)
}

/// The path from which work led by the unit at `path` (of `kind`) reaches down: a
/// department's is its district's (departments hang off the district and act for it),
/// every other unit's its own.
pub fn reach_path(path: &str, kind: crate::tree::UnitKind) -> &str {
    if kind != crate::tree::UnitKind::Department {
        return path;
    }
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(i) if i > 0 => &path[..=i],
        _ => path,
    }
}

/// The ids of the units whose led-from-above work reaches the caller: those at and above
/// its subtrees ([`Subject::upper_units`]), and their departments. A subquery, for
/// `lead_unit_id.eq_any(…)`.
pub fn reaching_units(subject: &Subject) -> ReachingUnits {
    let upper = subject.upper_units();
    units::table
        .filter(
            crate::db::in_list(units::id, upper.clone()).or(units::kind
                .eq(crate::tree::UnitKind::Department)
                .and(crate::db::in_list(
                    units::parent_id.assume_not_null(),
                    upper,
                ))),
        )
        .select(units::id)
}

/// The type of [`reaching_units`]' subquery.
pub type ReachingUnits = diesel::dsl::Select<
    diesel::dsl::Filter<
        units::table,
        diesel::dsl::Or<
            InList<units::id, UnitId>,
            diesel::dsl::And<
                diesel::dsl::Eq<units::kind, crate::tree::UnitKind>,
                InList<diesel::dsl::AssumeNotNull<units::parent_id>, UnitId>,
            >,
        >,
    >,
    units::id,
>;

/// The type of [`visible_units`]' subquery.
pub type VisibleUnits = UnitsIn;

/// The ids of the units in a [`UnitScope`]: `SELECT units.id FROM units WHERE <scope>` where
/// a subquery is wanted, and [`UnitsIn::contains`] for "this column's unit is one of them",
/// which the backends are best asked in different ways.
#[derive(Debug, Clone)]
pub struct UnitsIn(UnitScope);

impl UnitsIn {
    /// `column`'s unit is in the scope.
    pub fn contains<C>(self, column: C) -> Within<C> {
        Within {
            column,
            scope: self.0,
        }
    }
}

impl Expression for UnitsIn {
    type SqlType = Text;
}

impl QueryId for UnitsIn {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> QueryFragment<DB> for UnitsIn
where
    DB: diesel::backend::Backend,
    UnitScope: QueryFragment<DB>,
    units::id: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        units::id.walk_ast(out.reborrow())?;
        out.push_sql(" FROM \"units\" WHERE ");
        self.0.walk_ast(out.reborrow())
    }
}

/// `column`'s unit lies in a [`UnitScope`] — a record of a unit the caller sees:
/// - on PostgreSQL `column = ANY(ARRAY(SELECT id FROM units WHERE <scope>))`: the
///   subquery runs once and the column's index serves the match, also under `OR` and in a
///   generic plan (an `IN (subquery)` was planned as a filter run against every row);
/// - on SQLite `column IN (SELECT id FROM units WHERE <scope>)` for a subtree below the
///   district (a town's: tens of units, listed once per statement), and for a scope rooted
///   at a district (every unit: listing thousands of them per statement was most of a
///   district office's report, found with perf) `EXISTS (SELECT 1 FROM units WHERE
///   units.id = column AND <scope>)`, one lookup by key per row the query looks at.
#[derive(Debug, Clone)]
pub struct Within<C> {
    column: C,
    scope: UnitScope,
}

impl<C: Expression> Expression for Within<C> {
    type SqlType = Bool;
}

impl<QS, C> AppearsOnTable<QS> for Within<C> where C: AppearsOnTable<QS> {}
impl<QS, C> SelectableExpression<QS> for Within<C> where C: SelectableExpression<QS> {}

impl<C> ValidGrouping<()> for Within<C> {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl<C> QueryId for Within<C> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: QueryFragment<diesel::pg::Pg>> QueryFragment<diesel::pg::Pg> for Within<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql("(");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(ARRAY(SELECT \"units\".\"id\" FROM \"units\" WHERE ");
        self.scope.walk_ast(out.reborrow())?;
        out.push_sql(")))");
        Ok(())
    }
}

impl<C: QueryFragment<diesel::sqlite::Sqlite>> QueryFragment<diesel::sqlite::Sqlite> for Within<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        if self.scope.broad() {
            out.push_sql("EXISTS (SELECT 1 FROM `units` WHERE `units`.`id` = ");
            self.column.walk_ast(out.reborrow())?;
            out.push_sql(" AND ");
            self.scope.walk_ast(out.reborrow())?;
            out.push_sql(")");
        } else {
            out.push_sql("(");
            self.column.walk_ast(out.reborrow())?;
            out.push_sql(" IN (SELECT `units`.`id` FROM `units` WHERE ");
            self.scope.walk_ast(out.reborrow())?;
            out.push_sql("))");
        }
        Ok(())
    }
}

impl<C> QueryFragment<crate::db::Backend> for Within<C>
where
    C: QueryFragment<diesel::sqlite::Sqlite> + QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, crate::db::Backend>) -> QueryResult<()> {
        crate::db::Backend::walk_variant_ast(self, pass)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(role: Role, roots: &[&str]) -> Subject {
        Subject {
            user_id: UserId::new(),
            role,
            roots: roots.iter().map(|r| r.to_string()).collect(),
            read_roots: Vec::new(),
            ancestors: Vec::new(),
        }
    }

    #[test]
    fn a_subtree_is_a_range_of_paths() {
        let (lower, upper) = subtree_range("/d/a/");
        let inside = |path: &str| path >= lower.as_str() && path < upper.as_str();
        assert!(inside("/d/a/"));
        assert!(inside("/d/a/x/"));
        assert!(inside("/d/a/zzzz/y/"));
        assert!(!inside("/d/ab/"));
        assert!(!inside("/d/a"));
        assert!(!inside("/d/"));
        assert!(!inside("/d/a0/"));
        assert!(!inside("/d/b/"));
    }

    #[test]
    fn prefix_match_is_by_whole_segments() {
        let s = subject(Role::Officer, &["/d/a/"]);
        assert!(!s.sees("/d/ab/"));
        assert!(s.sees("/d/a/x/"));
        assert!(s.acts_on("/d/a/"));
        assert!(!s.acts_on("/d/"));
    }

    #[test]
    fn read_roots_and_ancestors_are_read_only() {
        let (d, a, g) = (UnitId::new(), UnitId::new(), UnitId::new());
        let grid = format!("/{d}/{a}/{g}/");
        let mut s = subject(Role::Inspector, &[&grid]);
        s.ancestors = ancestors_of_path(&grid);
        s.read_roots = vec!["/x/".into()];
        assert_eq!(s.ancestors, [d, a]);
        assert!(s.sees_unit(&format!("/{d}/{a}/")) && s.sees_unit(&format!("/{d}/")));
        assert!(
            !s.sees(&format!("/{d}/{a}/")),
            "not what belongs to an ancestor"
        );
        assert!(
            !s.sees_unit(&format!("/{d}/{}/", UnitId::new())),
            "a sibling"
        );
        assert!(s.sees("/x/y/") && !s.acts_on("/x/y/"));
        assert!(!s.acts_on(&format!("/{d}/{a}/")));
        assert_eq!(unit_of_path(&grid), Some(g));
    }

    #[test]
    fn inspectors_also_act_on_the_grids_they_lead() {
        let (me, own, led) = (UserId::new(), UnitId::new(), UnitId::new());
        let units = |role| {
            let rows = [
                Root {
                    unit_id: own,
                    path: "/d/g1/",
                    leader_id: None,
                    paired: false,
                },
                Root {
                    unit_id: led,
                    path: "/d/g2/",
                    leader_id: Some(me),
                    paired: false,
                },
            ];
            super::subject(me, role, own, rows).roots
        };
        assert_eq!(units(Role::Inspector), ["/d/g1/", "/d/g2/"]);
        assert_eq!(units(Role::Officer), ["/d/g1/"]);
    }

    #[test]
    fn a_departments_work_reaches_from_its_district() {
        use crate::tree::UnitKind;
        assert_eq!(reach_path("/d/p/", UnitKind::Department), "/d/");
        assert_eq!(reach_path("/d/a/", UnitKind::Town), "/d/a/");
        assert_eq!(reach_path("/d/", UnitKind::District), "/d/");
        assert_eq!(reach_path("/p/", UnitKind::Department), "/p/");
    }

    #[test]
    fn admins_and_leaders_see_every_unit() {
        assert!(visible_units(&subject(Role::Admin, &["/d/"])).is_none());
        assert!(visible_units(&subject(Role::Leader, &["/d/"])).is_none());
        assert!(visible_units(&subject(Role::Office, &["/d/a/"])).is_some());
        assert!(subject(Role::Leader, &["/d/"]).sees("/elsewhere/"));
        assert!(!subject(Role::Leader, &["/d/"]).acts_on("/elsewhere/"));
    }
}
