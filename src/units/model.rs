//! Unit rows and their queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::Resource;
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{categories, pairings, sites, units, users};
use crate::db::{self, Backend, DbConnection};
use crate::error::{AppError, AppResult};
use crate::ids::{UnitId, UserId};
use crate::names::Names;
use crate::units::forms::{CheckedBoundary, Point, UnitChange, UnitDraft, UnitFilter, UnitSort};
use crate::units::geometry::{self, Geometry, StoredGeometry};
use crate::units::rules::{self, UnitKind};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct UnitRow {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    pub path: String,
    pub boundary: Option<StoredGeometry>,
    pub min_lon: Option<f64>,
    pub min_lat: Option<f64>,
    pub max_lon: Option<f64>,
    pub max_lat: Option<f64>,
    pub leader_id: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

impl UnitRow {
    /// The unit as the policy sees it.
    pub fn resource(&self) -> Resource<'_> {
        Resource::unit(&self.path)
    }
}

/// A unit above another, by id and name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnitRef {
    #[schema(value_type = String, format = Uuid)]
    pub id: UnitId,
    pub name: String,
}

/// A unit as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    #[schema(value_type = String, format = Uuid)]
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<UnitId>,
    /// The names of the units above this one, from the root down, e.g.
    /// `["菏泽高新区", "马岭岗镇", "马岭岗行政村"]` for a grid of 马岭岗行政村.
    pub path_names: Vec<String>,
    /// The units above this one, from the root down.
    pub ancestors: Vec<UnitRef>,
    /// Grids only: the area the grid covers.
    #[schema(value_type = Option<Geometry>)]
    pub boundary: Option<StoredGeometry>,
    /// Grids only: the grid leader (网格长), a user id.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub leader_id: Option<UserId>,
    /// The grid leader's display name.
    pub leader_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Goes up by one with every change to the unit, its place in the tree included; the
    /// unit's `ETag`. The names of the units above it may change without it.
    pub version: i32,
}

/// The views of `rows`: with the names of their ancestors and of their leaders, looked up
/// together (one query for a whole page).
pub fn views(conn: &mut DbConnection, rows: Vec<UnitRow>) -> AppResult<Vec<Unit>> {
    let names = Names::load(
        conn,
        rows.iter().flat_map(|r| scope::ancestors_of_path(&r.path)),
        rows.iter().filter_map(|r| r.leader_id),
    )?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let ancestors: Vec<UnitRef> = scope::ancestors_of_path(&row.path)
                .into_iter()
                .map(|id| UnitRef {
                    id,
                    name: names.unit(id),
                })
                .collect();
            Unit {
                path_names: ancestors.iter().map(|a| a.name.clone()).collect(),
                ancestors,
                leader_name: names.user_opt(row.leader_id),
                id: row.id,
                code: row.code,
                name: row.name,
                kind: row.kind,
                parent_id: row.parent_id,
                boundary: row.boundary,
                leader_id: row.leader_id,
                created_at: row.created_at.and_utc(),
                updated_at: row.updated_at.and_utc(),
                version: row.version,
            }
        })
        .collect())
}

/// The view of one row ([`views`]).
pub fn view(conn: &mut DbConnection, row: UnitRow) -> AppResult<Unit> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::internal("a unit without its view"))
}

#[derive(Insertable)]
#[diesel(table_name = units, treat_none_as_default_value = false)]
struct NewUnitRow<'a> {
    id: UnitId,
    code: &'a str,
    name: &'a str,
    kind: UnitKind,
    parent_id: Option<UnitId>,
    path: &'a str,
    boundary: Option<String>,
    min_lon: Option<f64>,
    min_lat: Option<f64>,
    max_lon: Option<f64>,
    max_lat: Option<f64>,
    leader_id: Option<UserId>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// One UPDATE for every changed column: `None` leaves a column, `Some(None)` clears it.
#[derive(AsChangeset)]
#[diesel(table_name = units)]
struct UnitChanges<'a> {
    code: Option<&'a str>,
    name: Option<&'a str>,
    parent_id: Option<Option<UnitId>>,
    boundary: Option<Option<String>>,
    min_lon: Option<Option<f64>>,
    min_lat: Option<Option<f64>>,
    max_lon: Option<Option<f64>>,
    max_lat: Option<Option<f64>>,
    leader_id: Option<Option<UserId>>,
    updated_at: NaiveDateTime,
}

type Bbox = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);

fn bbox_columns(boundary: Option<&CheckedBoundary>) -> Bbox {
    match boundary.map(CheckedBoundary::bbox) {
        Some(b) => (Some(b.0), Some(b.1), Some(b.2), Some(b.3)),
        None => (None, None, None, None),
    }
}

pub fn find(conn: &mut DbConnection, id: UnitId) -> AppResult<UnitRow> {
    crate::on_backend!(conn, |c| units::table
        .find(id)
        .select(UnitRow::as_select())
        .get_result(c))
    .optional()?
    .ok_or(AppError::NotFound("unit"))
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> AppResult<Option<UnitRow>> {
    Ok(units::table
        .filter(units::code.eq(code))
        .select(UnitRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// A unit that a form refers to in `field`, or a 422 naming that field.
pub fn referenced(conn: &mut DbConnection, id: UnitId, field: &str) -> AppResult<UnitRow> {
    find(conn, id).map_err(|e| match e {
        AppError::NotFound(_) => AppError::invalid(field, "no such unit"),
        other => other,
    })
}

/// A unit that a form names in `field` as the one to act for (a campaign's lead unit, a
/// task's unit): it must exist, be visible to the caller, and lie where the caller may do
/// `action`. Otherwise a 422 naming the field (an unknown and an unseen unit alike).
pub fn actionable(
    conn: &mut DbConnection,
    actor: &crate::auth::Actor,
    id: UnitId,
    field: &str,
    action: crate::auth::Action,
) -> AppResult<UnitRow> {
    let unit = referenced(conn, id, field)?;
    match crate::auth::policy::authorize(&actor.subject, action, &Resource::of_unit(&unit.path)) {
        Ok(()) => Ok(unit),
        Err(crate::auth::policy::Denial::Hidden) => Err(AppError::invalid(field, "no such unit")),
        Err(crate::auth::policy::Denial::RoleMayNot) => Err(AppError::forbidden()),
        Err(_) => Err(AppError::invalid(
            field,
            "is outside the units you may act for",
        )),
    }
}

/// The parent named by a form, or a 422 naming `parent_id`.
fn parent_for(
    conn: &mut DbConnection,
    kind: UnitKind,
    parent_id: Option<UnitId>,
) -> AppResult<Option<UnitRow>> {
    let parent = parent_id
        .map(|id| referenced(conn, id, "parent_id"))
        .transpose()?;
    if !kind.may_have_parent(parent.as_ref().map(|p| p.kind)) {
        return Err(AppError::invalid("parent_id", kind.parent_rule()));
    }
    Ok(parent)
}

fn ensure_leader(conn: &mut DbConnection, leader_id: Option<UserId>) -> AppResult<()> {
    if let Some(id) = leader_id {
        let found: i64 = users::table
            .filter(users::id.eq(id))
            .filter(users::active.eq(true))
            .count()
            .get_result(conn)?;
        if found == 0 {
            return Err(AppError::invalid("leader_id", "no such active user"));
        }
    }
    Ok(())
}

/// The answer to a unique index refusing a unit write: the code is taken (whatever its
/// case), or a sibling has the name.
fn conflict(error: diesel::result::Error, code: Option<&str>, name: Option<&str>) -> AppError {
    match db::unique_violation(&error) {
        Some(index) if index.contains("code") => AppError::conflict(
            crate::error::Code::CodeTaken,
            format!(
                "unit code `{}` is taken (codes ignore case)",
                code.unwrap_or_default()
            ),
        ),
        Some(index) if index.contains("name") => AppError::conflict(
            crate::error::Code::NameTaken,
            format!(
                "the parent already has a unit named `{}`",
                name.unwrap_or_default()
            ),
        ),
        _ => error.into(),
    }
}

/// How a tree write waits for others on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TreeLock {
    /// Creates and changes that keep the unit where it is: they read a parent's path but
    /// change no other unit's, so they may run side by side.
    Shared,
    /// Moves rewrite the paths of a subtree: they wait for every other tree write, and
    /// every other tree write waits for them.
    Exclusive,
}

/// Why: paths are derived from the parent's path, so a move must not interleave with a
/// create under the subtree it moves. On PostgreSQL (READ COMMITTED) they did: a unit
/// created under a unit being moved kept the old path, outside the subtree and scope it now
/// belongs to (found by the concurrent tests in tests/api/units.rs). Tree writes take a
/// transaction-scoped advisory lock: shared for creates and in-place changes, exclusive for
/// moves. Codes need no lock: the unique index refuses a taken one ([`conflict`]). SQLite
/// write transactions (`BEGIN IMMEDIATE`) take turns already.
///
/// A transaction must take the strongest lock it will need first: one that held the shared
/// lock and then asked for the exclusive one would deadlock with another doing the same
/// (imports that write many units take it exclusively up front: [`lock_tree_for_import`]).
/// The key is per schema, so databases that share a server do not wait for each other.
fn lock_tree(conn: &mut DbConnection, lock: TreeLock) -> AppResult<()> {
    if matches!(conn, DbConnection::Pg(_)) {
        let function = match lock {
            TreeLock::Shared => "pg_advisory_xact_lock_shared",
            TreeLock::Exclusive => "pg_advisory_xact_lock",
        };
        diesel::connection::SimpleConnection::batch_execute(
            conn,
            &format!("SELECT {function}(hashtextextended(current_schema() || ':units', 0))"),
        )?;
    }
    Ok(())
}

/// For a transaction that writes many units (the world loader): takes the tree lock
/// exclusively, before any of them.
pub fn lock_tree_for_import(conn: &mut DbConnection) -> AppResult<()> {
    lock_tree(conn, TreeLock::Exclusive)
}

/// Overlaps smaller than this (square metres) are rounding, not overlap.
pub const OVERLAP_TOLERANCE_M2: f64 = 1.0;

/// Grids must not overlap: a point would lie in two, and `locate` would have to pick one.
/// The bounding boxes narrow the candidates in SQL; the shapes are intersected here.
fn ensure_no_overlap(
    conn: &mut DbConnection,
    boundary: &CheckedBoundary,
    except: Option<UnitId>,
) -> AppResult<()> {
    let (min_lon, min_lat, max_lon, max_lat) = boundary.bbox();
    let candidates: Vec<(UnitId, String, String, Option<StoredGeometry>)> = units::table
        .filter(units::kind.eq(UnitKind::Grid))
        .filter(units::min_lon.le(max_lon))
        .filter(units::max_lon.ge(min_lon))
        .filter(units::min_lat.le(max_lat))
        .filter(units::max_lat.ge(min_lat))
        .select((units::id, units::code, units::name, units::boundary))
        .load(conn)?;
    for (id, code, name, stored) in candidates {
        if Some(id) == except {
            continue;
        }
        let Some(other) = stored
            .and_then(|s| s.parse().ok())
            .and_then(|g| geometry::parse(&g, "boundary", usize::MAX).ok())
        else {
            continue;
        };
        let shared = geometry::overlap_m2(&boundary.shape, &other);
        if shared > OVERLAP_TOLERANCE_M2 {
            let detail = format!("overlaps grid {code} ({name}) by {shared:.0} m²");
            return Err(AppError::Refused {
                code: crate::error::Code::GridOverlap,
                detail: format!("the boundary {detail}"),
                errors: vec![crate::error::FieldError::new("boundary", detail)],
            });
        }
    }
    Ok(())
}

pub fn create(conn: &mut DbConnection, draft: &UnitDraft) -> AppResult<UnitRow> {
    // A boundary is checked against every other grid's: such writes take turns.
    let lock = match draft.boundary {
        Some(_) => TreeLock::Exclusive,
        None => TreeLock::Shared,
    };
    lock_tree(conn, lock)?;
    let parent = parent_for(conn, draft.kind, draft.parent_id)?;
    ensure_leader(conn, draft.leader_id)?;
    if let Some(boundary) = &draft.boundary {
        ensure_no_overlap(conn, boundary, None)?;
    }
    let id = UnitId::new();
    let path = rules::child_path(parent.as_ref().map(|p| p.path.as_str()), id.as_str());
    let (min_lon, min_lat, max_lon, max_lat) = bbox_columns(draft.boundary.as_ref());
    let now = db::now();
    let row = NewUnitRow {
        id,
        code: &draft.code,
        name: &draft.name,
        kind: draft.kind,
        parent_id: draft.parent_id,
        path: &path,
        boundary: draft.boundary.as_ref().map(|b| b.geometry.to_json()),
        min_lon,
        min_lat,
        max_lon,
        max_lat,
        leader_id: draft.leader_id,
        created_at: now,
        updated_at: now,
    };
    crate::on_backend!(conn, |c| diesel::insert_into(units::table)
        .values(&row)
        .returning(UnitRow::as_returning())
        .get_result(c))
    .map_err(|e| conflict(e, Some(&draft.code), Some(&draft.name)))
}

/// Applies `change` to the unit `id`. Moving re-roots the paths of the whole subtree;
/// moving a unit under itself or its own descendant is refused. `expect` sees the unit as
/// read under the tree's lock, before any change, and may refuse it (a stale `If-Match`).
pub fn update(
    conn: &mut DbConnection,
    id: UnitId,
    change: &UnitChange,
    expect: impl FnOnce(&mut DbConnection, &UnitRow) -> AppResult<()>,
) -> AppResult<UnitRow> {
    let lock = match (change.parent_id, &change.boundary) {
        (Some(_), _) | (_, Some(Some(_))) => TreeLock::Exclusive,
        _ => TreeLock::Shared,
    };
    lock_tree(conn, lock)?;
    // Read under the lock: a move that committed meanwhile may have changed the path.
    let unit = find(conn, id)?;
    expect(conn, &unit)?;
    change.check_for(unit.kind)?;
    if let Some(Some(boundary)) = &change.boundary {
        ensure_no_overlap(conn, boundary, Some(unit.id))?;
    }
    if let Some(Some(leader)) = change.leader_id {
        ensure_leader(conn, Some(leader))?;
    }
    let now = db::now();
    let mut moved_to = None;
    if let Some(parent_id) = change.parent_id {
        if parent_id != unit.parent_id {
            let target_path: Option<String> = match parent_id {
                Some(target) => units::table
                    .find(target)
                    .select(units::path)
                    .get_result(conn)
                    .optional()?,
                None => None,
            };
            rules::check_move(&unit.path, target_path.as_deref())?;
            let parent = parent_for(conn, unit.kind, parent_id)?;
            let new_path =
                rules::child_path(parent.as_ref().map(|p| p.path.as_str()), unit.id.as_str());
            move_subtree(conn, unit.id, &unit.path, &new_path, now)?;
            moved_to = Some(parent_id);
        }
    }
    let new_boundary = change.boundary.as_ref().map(|b| b.as_ref());
    let bbox = new_boundary.map(bbox_columns);
    let changes = UnitChanges {
        code: change.code.as_deref(),
        name: change.name.as_deref(),
        parent_id: moved_to,
        boundary: new_boundary.map(|b| b.map(|b| b.geometry.to_json())),
        min_lon: bbox.map(|b| b.0),
        min_lat: bbox.map(|b| b.1),
        max_lon: bbox.map(|b| b.2),
        max_lat: bbox.map(|b| b.3),
        leader_id: change.leader_id,
        updated_at: now,
    };
    // Only over the version read above: a concurrent change under the shared lock (on
    // PostgreSQL) makes this one a 409, never a silent overwrite.
    let current = units::table
        .find(unit.id)
        .filter(units::version.eq(unit.version));
    crate::on_backend!(conn, |c| diesel::update(current)
        .set((&changes, units::version.eq(units::version + 1)))
        .returning(UnitRow::as_returning())
        .get_result(c)
        .optional())
    .map_err(|e| {
        conflict(
            e,
            change.code.as_deref(),
            change.name.as_deref().or(Some(&unit.name)),
        )
    })?
    .ok_or_else(|| db::concurrent_change("unit"))
}

/// Rewrites the path of every unit in the subtree at `old_path` ([`rules::rebase`]).
fn move_subtree(
    conn: &mut DbConnection,
    root: UnitId,
    old_path: &str,
    new_path: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let subtree: Vec<(UnitId, String)> = units::table
        .filter(scope::UnitScope::subtrees(&[old_path.to_string()]))
        .select((units::id, units::path))
        .load(conn)?;
    for (id, moved) in rules::rebase(subtree, old_path, new_path) {
        // The units below change place: their versions move. The moved unit's own
        // version moves with the rest of its change, written over the version read.
        let bump = if id == root { 0 } else { 1 };
        diesel::update(units::table.find(id))
            .set((
                units::path.eq(moved),
                units::updated_at.eq(now),
                units::version.eq(units::version + bump),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes a unit nothing refers to; otherwise 409 `unit_in_use`, naming what holds it.
pub fn delete(conn: &mut DbConnection, id: UnitId) -> AppResult<()> {
    let unit = find(conn, id)?;
    let children: i64 = units::table
        .filter(units::parent_id.eq(unit.id))
        .count()
        .get_result(conn)?;
    let members: i64 = users::table
        .filter(users::unit_id.eq(unit.id))
        .count()
        .get_result(conn)?;
    let paired: i64 = pairings::table
        .filter(
            pairings::department_id
                .eq(unit.id)
                .or(pairings::partner_id.eq(unit.id)),
        )
        .count()
        .get_result(conn)?;
    let sited: i64 = sites::table
        .filter(sites::unit_id.eq(unit.id).or(sites::grid_id.eq(unit.id)))
        .count()
        .get_result(conn)?;
    let categorised: i64 = categories::table
        .filter(
            categories::managed_by
                .eq(unit.id)
                .or(categories::route_unit_id.eq(unit.id)),
        )
        .count()
        .get_result(conn)?;
    let tasked: i64 = crate::db::schema::tasks::table
        .filter(crate::db::schema::tasks::unit_id.eq(unit.id))
        .count()
        .get_result(conn)?;
    let reported: i64 = {
        use crate::db::schema::rectifications::dsl::{grid_id, rectifications, unit_id};
        rectifications
            .filter(unit_id.eq(unit.id).or(grid_id.eq(unit.id)))
            .count()
            .get_result(conn)?
    };
    let holders: Vec<String> = [
        (children, "child units"),
        (members, "users"),
        (paired, "pairings"),
        (sited, "sites"),
        (categorised, "categories"),
        (tasked, "tasks"),
        (reported, "rectification items"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, what)| format!("{count} {what}"))
    .collect();
    if !holders.is_empty() {
        return Err(AppError::conflict(
            crate::error::Code::UnitInUse,
            format!("the unit still has {}", holders.join(", ")),
        ));
    }
    diesel::delete(units::table.find(unit.id)).execute(conn)?;
    Ok(())
}

type BoxedUnits = units::BoxedQuery<
    'static,
    Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<UnitRow, Backend>>,
>;

/// The units the subject may see, as a boxed query to filter further.
fn visible(subject: &Subject) -> BoxedUnits {
    let mut q = units::table.select(UnitRow::as_select()).into_boxed();
    if let Some(condition) = scope::readable_units(subject) {
        q = q.filter(condition);
    }
    q
}

pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &UnitFilter,
    paging: &Paging,
) -> AppResult<Listed<UnitRow>> {
    let query = || {
        let mut q = visible(subject);
        if let Some(parent) = filter.parent_id {
            q = q.filter(units::parent_id.eq(parent));
        }
        if let Some(kind) = filter.kind {
            q = q.filter(units::kind.eq(kind));
        }
        if let Some(text) = &filter.q {
            let pattern = db::contains_pattern(text);
            q = q.filter(
                db::lower(units::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(db::lower(units::code).like(pattern).escape('\\')),
            );
        }
        q
    };
    let order = Order::new(format!("{:?}", filter.sort));
    let order = match filter.sort {
        UnitSort::Code => order
            .asc(units::code, |r: &UnitRow| r.code.clone())
            .asc(units::id, |r| r.id),
        UnitSort::CodeDesc => order
            .desc(units::code, |r: &UnitRow| r.code.clone())
            .desc(units::id, |r| r.id),
        UnitSort::Name => order
            .asc(units::name, |r: &UnitRow| r.name.clone())
            .asc(units::code, |r| r.code.clone())
            .asc(units::id, |r| r.id),
        UnitSort::NameDesc => order
            .desc(units::name, |r: &UnitRow| r.name.clone())
            .asc(units::code, |r| r.code.clone())
            .asc(units::id, |r| r.id),
        UnitSort::CreatedAt => order
            .asc(units::created_at, |r: &UnitRow| r.created_at)
            .asc(units::id, |r| r.id),
        UnitSort::CreatedAtDesc => order
            .desc(units::created_at, |r: &UnitRow| r.created_at)
            .desc(units::id, |r| r.id),
    };
    paginate(conn, query, &order, paging)
}

/// The unit at `root` and everything under it that the subject may see, in tree order.
pub fn subtree(
    conn: &mut DbConnection,
    subject: &Subject,
    root: &UnitRow,
    paging: &Paging,
) -> AppResult<Listed<UnitRow>> {
    let roots = [root.path.clone()];
    let order = Order::new("tree").asc(units::path, |r: &UnitRow| r.path.clone());
    paginate(
        conn,
        || visible(subject).filter(scope::UnitScope::subtrees(&roots)),
        &order,
        paging,
    )
}

/// The grid containing the point, among the grids the subject may see. The bounding box
/// narrows the candidates in SQL; the exact test runs here. Ties (a point on a shared
/// edge) go to the lowest code.
pub fn locate(
    conn: &mut DbConnection,
    subject: &Subject,
    point: Point,
) -> AppResult<Option<UnitRow>> {
    let Point { lon, lat } = point;
    let mut query = units::table.select(UnitRow::as_select()).into_boxed();
    if let Some(condition) = scope::readable_units(subject) {
        query = query.filter(condition);
    }
    let candidates: Vec<UnitRow> = query
        .filter(units::kind.eq(UnitKind::Grid))
        .filter(units::min_lon.le(lon))
        .filter(units::max_lon.ge(lon))
        .filter(units::min_lat.le(lat))
        .filter(units::max_lat.ge(lat))
        .order(units::code.asc())
        .load(conn)?;
    for row in candidates {
        let inside = match &row.boundary {
            Some(stored) => stored
                .parse()
                .ok()
                .and_then(|g| geometry::parse(&g, "boundary", usize::MAX).ok())
                .ok_or_else(|| {
                    AppError::internal(format!("unit {} has an invalid stored boundary", row.id))
                })?
                .contains(lon, lat),
            None => false,
        };
        if inside {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// The grid a record at `point` lies in, for the form field `grid_id`: the one named, which
/// must be a grid the caller sees, or else the one the caller sees that holds the point
/// (none: 422 asking for the grid to be named). Sites and rectification items use it.
pub fn grid_for(
    conn: &mut DbConnection,
    actor: &crate::auth::Actor,
    named: Option<UnitId>,
    point: Point,
) -> AppResult<UnitRow> {
    match named {
        Some(id) => {
            let grid = referenced(conn, id, "grid_id")?;
            let seen = crate::auth::Resource::unit(&grid.path);
            if !actor.may(crate::auth::Action::ReadOrg, &seen) {
                return Err(AppError::invalid("grid_id", "no such unit"));
            }
            if grid.kind != UnitKind::Grid {
                return Err(AppError::invalid(
                    "grid_id",
                    format!("is a {}, not a grid", grid.kind),
                ));
            }
            Ok(grid)
        }
        None => locate(conn, &actor.subject, point)?.ok_or_else(|| {
            AppError::invalid(
                "grid_id",
                "the point lies outside every grid you see: name the grid",
            )
        }),
    }
}

/// The units among `ids` the subject may read (what the sync feed sends of them).
pub fn visible_among(
    conn: &mut DbConnection,
    subject: &Subject,
    ids: &[UnitId],
) -> AppResult<Vec<UnitRow>> {
    let mut q = units::table
        .filter(crate::db::in_list(units::id, ids))
        .select(UnitRow::as_select())
        .into_boxed();
    if let Some(condition) = scope::readable_units(subject) {
        q = q.filter(condition);
    }
    Ok(q.load(conn)?)
}
