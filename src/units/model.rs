//! Unit rows, forms, tree rules and queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::IntoBoxed;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::policy::Subject;
use crate::db::schema::{pairings, units, users};
use crate::db::{self, Backend, DbConnection};
use crate::error::{AppError, AppResult};
use crate::http::pagination::Paging;
use crate::units::geometry::{self, Boundary, Geometry};
use crate::validate::Checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    District,
    Town,
    Street,
    Department,
    Village,
    Community,
    Grid,
}

impl UnitKind {
    pub const ALL: [UnitKind; 7] = [
        UnitKind::District,
        UnitKind::Town,
        UnitKind::Street,
        UnitKind::Department,
        UnitKind::Village,
        UnitKind::Community,
        UnitKind::Grid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::District => "district",
            UnitKind::Town => "town",
            UnitKind::Street => "street",
            UnitKind::Department => "department",
            UnitKind::Village => "village",
            UnitKind::Community => "community",
            UnitKind::Grid => "grid",
        }
    }

    pub fn parse(text: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The tree's shape: which kind of unit may hang under which. `None` is the root.
    pub fn may_have_parent(self, parent: Option<UnitKind>) -> bool {
        use UnitKind::*;
        matches!(
            (self, parent),
            (District, None)
                | (Town | Street | Department, Some(District))
                | (Village | Community, Some(Town | Street))
                | (Grid, Some(Town | Street | Village | Community))
        )
    }

    fn parent_rule(self) -> &'static str {
        match self {
            UnitKind::District => "a district has no parent",
            UnitKind::Town | UnitKind::Street | UnitKind::Department => "must be a district",
            UnitKind::Village | UnitKind::Community => "must be a town or street",
            UnitKind::Grid => "must be a town, street, village or community",
        }
    }
}

#[derive(Debug, Clone, Queryable)]
pub struct UnitRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub path: String,
    pub boundary: Option<String>,
    pub min_lon: Option<f64>,
    pub min_lat: Option<f64>,
    pub max_lon: Option<f64>,
    pub max_lat: Option<f64>,
    pub leader_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl UnitRow {
    pub fn kind(&self) -> AppResult<UnitKind> {
        UnitKind::parse(&self.kind).ok_or_else(|| {
            AppError::internal(format!("unit {} has unknown kind {}", self.id, self.kind))
        })
    }

    pub fn geometry(&self) -> AppResult<Option<Geometry>> {
        self.boundary
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| {
                AppError::internal(format!("unit {} has a corrupt boundary: {e}", self.id))
            })
    }

    pub fn boundary(&self) -> AppResult<Option<Boundary>> {
        match self.geometry()? {
            Some(g) => geometry::parse(&g, "boundary").map(Some).map_err(|_| {
                AppError::internal(format!("unit {} has an invalid stored boundary", self.id))
            }),
            None => Ok(None),
        }
    }
}

/// A unit as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    #[schema(format = Uuid)]
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    #[schema(format = Uuid)]
    pub parent_id: Option<String>,
    /// Grids only: the area the grid covers.
    pub boundary: Option<Geometry>,
    /// Grids only: the grid leader (网格长), a user id.
    #[schema(format = Uuid)]
    pub leader_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UnitRow> for Unit {
    type Error = AppError;
    fn try_from(row: UnitRow) -> AppResult<Unit> {
        Ok(Unit {
            kind: row.kind()?,
            boundary: row.geometry()?,
            id: row.id,
            code: row.code,
            name: row.name,
            parent_id: row.parent_id,
            leader_id: row.leader_id,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// Distinguishes an absent field (leave as is) from an explicit `null` (clear it).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub const CODE_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$";

fn check_code(code: &str) -> Result<(), String> {
    let mut chars = code.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok
        || code.len() > 32
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(
            "must be 1 to 32 ASCII letters, digits, `-` or `_`, starting with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// Short unique code, e.g. `HZGX-LLZ`.
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", example = "HZGX-LLZ")]
    pub code: String,
    #[schema(min_length = 1, max_length = 100, example = "吕陵镇")]
    pub name: String,
    pub kind: UnitKind,
    /// Required for every kind but `district`.
    #[schema(format = Uuid)]
    pub parent_id: Option<String>,
    /// Grids only.
    pub boundary: Option<Geometry>,
    /// Grids only: the grid leader's user id.
    #[schema(format = Uuid)]
    pub leader_id: Option<String>,
}

/// Changes to a unit; absent fields stay, `null` clears a nullable field. The kind of a
/// unit cannot change (create a new unit instead).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitUpdate {
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
    pub code: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Moves the unit (with its subtree) under another parent.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = Uuid)]
    pub parent_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub boundary: Option<Option<Geometry>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = Uuid)]
    pub leader_id: Option<Option<String>>,
}

fn check_optional_uuid(c: &mut Checks, field: &str, value: Option<&String>) {
    if let Some(v) = value {
        c.uuid(field, v);
    }
}

impl NewUnit {
    /// Checks the fields that need no database; returns the parsed boundary.
    pub fn validate(&self) -> AppResult<Option<Boundary>> {
        let mut c = Checks::new();
        c.check("code", check_code(&self.code));
        c.text("name", &self.name, 100);
        check_optional_uuid(&mut c, "parent_id", self.parent_id.as_ref());
        check_optional_uuid(&mut c, "leader_id", self.leader_id.as_ref());
        let boundary = grid_only_fields(
            &mut c,
            self.kind,
            self.boundary.as_ref(),
            self.leader_id.is_some(),
        );
        c.finish()?;
        Ok(boundary)
    }
}

/// Boundaries and leaders belong to grids; parses the boundary when one is given.
fn grid_only_fields(
    c: &mut Checks,
    kind: UnitKind,
    boundary: Option<&Geometry>,
    has_leader: bool,
) -> Option<Boundary> {
    if kind != UnitKind::Grid {
        if boundary.is_some() {
            c.fail("boundary", "only a grid has a boundary");
        }
        if has_leader {
            c.fail("leader_id", "only a grid has a leader");
        }
        return None;
    }
    match boundary.map(|g| geometry::parse(g, "boundary")) {
        Some(Ok(b)) => Some(b),
        Some(Err(errors)) => {
            for e in errors {
                c.fail(e.field, e.message);
            }
            None
        }
        None => None,
    }
}

type ScopeExpr = Box<dyn BoxableExpression<units::table, Backend, SqlType = Bool>>;

/// SQL condition: the unit lies in one of the subtrees rooted at `roots` (paths).
pub fn in_subtrees(roots: &[String]) -> ScopeExpr {
    let mut expr: ScopeExpr = Box::new(diesel::dsl::sql::<Bool>("1 = 0"));
    for root in roots {
        expr = Box::new(
            expr.or(units::path
                .like(format!("{}%", db::like_escape(root)))
                .escape('\\')),
        );
    }
    expr
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<UnitRow> {
    units::table
        .find(id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("unit"))
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> AppResult<Option<UnitRow>> {
    Ok(units::table
        .filter(units::code.eq(code))
        .first(conn)
        .optional()?)
}

/// A unit that a form refers to in `field`, or a 422 naming that field.
pub fn referenced(conn: &mut DbConnection, id: &str, field: &str) -> AppResult<UnitRow> {
    units::table
        .find(id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::invalid(field, "no such unit"))
}

/// The parent named by a form, or a 422 naming `parent_id`.
fn parent_for(
    conn: &mut DbConnection,
    kind: UnitKind,
    parent_id: Option<&str>,
) -> AppResult<Option<UnitRow>> {
    let parent = parent_id
        .map(|id| referenced(conn, id, "parent_id"))
        .transpose()?;
    let parent_kind = parent.as_ref().map(UnitRow::kind).transpose()?;
    if !kind.may_have_parent(parent_kind) {
        return Err(AppError::invalid("parent_id", kind.parent_rule()));
    }
    Ok(parent)
}

fn ensure_leader(conn: &mut DbConnection, leader_id: Option<&str>) -> AppResult<()> {
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

fn ensure_code_free(conn: &mut DbConnection, code: &str, except: Option<&str>) -> AppResult<()> {
    let mut query = units::table
        .filter(units::code.eq(code))
        .into_boxed::<Backend>();
    if let Some(id) = except {
        query = query.filter(units::id.ne(id));
    }
    let taken: i64 = query.count().get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict(
            "code_taken",
            format!("unit code `{code}` is taken"),
        ));
    }
    Ok(())
}

fn bbox_columns(
    boundary: Option<&Boundary>,
) -> (Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
    match boundary {
        Some(b) => (
            Some(b.bbox.0),
            Some(b.bbox.1),
            Some(b.bbox.2),
            Some(b.bbox.3),
        ),
        None => (None, None, None, None),
    }
}

fn boundary_text(geometry: Option<&Geometry>) -> AppResult<Option<String>> {
    geometry
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| AppError::internal(e.to_string()))
}

/// Why: paths are derived from the parent's path and codes are checked before they are
/// written, so two tree writes must not interleave. On PostgreSQL (READ COMMITTED) they
/// did: a unit created under a unit being moved kept the old path (outside the subtree and
/// scope it now belongs to), and concurrent requests for one code got the generic
/// `already_exists` instead of `code_taken` — both found by the concurrent tests in
/// tests/api/units.rs. Unit writes are rare and admin-only, so they take turns on a
/// transaction-scoped advisory lock (readers are not held up; outside a transaction it is
/// released at once). SQLite write transactions (`BEGIN IMMEDIATE`) take turns already.
fn serialise_tree_writes(conn: &mut DbConnection) -> AppResult<()> {
    /// Any fixed key, the same for every tree write: ASCII "units".
    const TREE_LOCK: i64 = 0x75_6e_69_74_73;
    if matches!(conn, DbConnection::Pg(_)) {
        diesel::connection::SimpleConnection::batch_execute(
            conn,
            &format!("SELECT pg_advisory_xact_lock({TREE_LOCK})"),
        )?;
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    input: &NewUnit,
    boundary: Option<&Boundary>,
) -> AppResult<UnitRow> {
    serialise_tree_writes(conn)?;
    let parent = parent_for(conn, input.kind, input.parent_id.as_deref())?;
    ensure_leader(conn, input.leader_id.as_deref())?;
    ensure_code_free(conn, &input.code, None)?;
    let id = uuid::Uuid::now_v7().to_string();
    let path = format!("{}{id}/", parent.as_ref().map_or("/", |p| p.path.as_str()));
    let (min_lon, min_lat, max_lon, max_lat) = bbox_columns(boundary);
    let now = db::now();
    diesel::insert_into(units::table)
        .values((
            units::id.eq(&id),
            units::code.eq(&input.code),
            units::name.eq(&input.name),
            units::kind.eq(input.kind.as_str()),
            units::parent_id.eq(&input.parent_id),
            units::path.eq(&path),
            units::boundary.eq(boundary_text(input.boundary.as_ref())?),
            units::min_lon.eq(min_lon),
            units::min_lat.eq(min_lat),
            units::max_lon.eq(max_lon),
            units::max_lat.eq(max_lat),
            units::leader_id.eq(&input.leader_id),
            units::created_at.eq(now),
            units::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)
}

/// Applies `input` to `unit`. Moving re-roots the paths of the whole subtree; moving a
/// unit under itself or its own descendant is refused.
pub fn update(conn: &mut DbConnection, unit: &UnitRow, input: &UnitUpdate) -> AppResult<UnitRow> {
    serialise_tree_writes(conn)?;
    // Read again under the lock: a move that committed meanwhile may have changed the path.
    let unit = &find(conn, &unit.id)?;
    let kind = unit.kind()?;
    let mut c = Checks::new();
    if let Some(code) = &input.code {
        c.check("code", check_code(code));
    }
    if let Some(name) = &input.name {
        c.text("name", name, 100);
    }
    if let Some(Some(parent)) = &input.parent_id {
        c.uuid("parent_id", parent);
    }
    if let Some(Some(leader)) = &input.leader_id {
        c.uuid("leader_id", leader);
    }
    let new_boundary = match &input.boundary {
        Some(g) => grid_only_fields(&mut c, kind, g.as_ref(), false),
        None => None,
    };
    if kind != UnitKind::Grid && matches!(input.leader_id, Some(Some(_))) {
        c.fail("leader_id", "only a grid has a leader");
    }
    c.finish()?;

    if let Some(code) = &input.code {
        ensure_code_free(conn, code, Some(&unit.id))?;
    }
    if let Some(Some(leader)) = &input.leader_id {
        ensure_leader(conn, Some(leader))?;
    }
    let now = db::now();
    let mut moved_to = None;
    if let Some(parent_id) = &input.parent_id {
        if parent_id.as_deref() != unit.parent_id.as_deref() {
            if let Some(target) = parent_id {
                let target_path: Option<String> = units::table
                    .find(target)
                    .select(units::path)
                    .first(conn)
                    .optional()?;
                if target_path
                    .as_deref()
                    .is_some_and(|p| p.starts_with(&unit.path))
                {
                    return Err(AppError::unprocessable(
                        "unit_cycle",
                        "a unit cannot be moved under itself or its own descendant",
                    ));
                }
            }
            let parent = parent_for(conn, kind, parent_id.as_deref())?;
            let new_path = format!(
                "{}{}/",
                parent.as_ref().map_or("/", |p| p.path.as_str()),
                unit.id
            );
            move_subtree(conn, &unit.path, &new_path, now)?;
            moved_to = Some(parent_id.as_deref());
        }
    }
    let bbox = input
        .boundary
        .as_ref()
        .map(|_| bbox_columns(new_boundary.as_ref()));
    let changes = UnitChanges {
        code: input.code.as_deref(),
        name: input.name.as_deref(),
        parent_id: moved_to,
        boundary: input
            .boundary
            .as_ref()
            .map(|g| boundary_text(g.as_ref()))
            .transpose()?,
        min_lon: bbox.map(|b| b.0),
        min_lat: bbox.map(|b| b.1),
        max_lon: bbox.map(|b| b.2),
        max_lat: bbox.map(|b| b.3),
        leader_id: input.leader_id.as_ref().map(|l| l.as_deref()),
        updated_at: now,
    };
    diesel::update(units::table.find(&unit.id))
        .set(&changes)
        .execute(conn)?;
    find(conn, &unit.id)
}

/// One UPDATE for every changed column: `None` leaves a column, `Some(None)` clears it.
#[derive(AsChangeset)]
#[diesel(table_name = units)]
struct UnitChanges<'a> {
    code: Option<&'a str>,
    name: Option<&'a str>,
    parent_id: Option<Option<&'a str>>,
    boundary: Option<Option<String>>,
    min_lon: Option<Option<f64>>,
    min_lat: Option<Option<f64>>,
    max_lon: Option<Option<f64>>,
    max_lat: Option<Option<f64>>,
    leader_id: Option<Option<&'a str>>,
    updated_at: NaiveDateTime,
}

/// Rewrites the path prefix of every unit in the subtree at `old_path`.
fn move_subtree(
    conn: &mut DbConnection,
    old_path: &str,
    new_path: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let subtree: Vec<(String, String)> = units::table
        .filter(
            units::path
                .like(format!("{}%", db::like_escape(old_path)))
                .escape('\\'),
        )
        .select((units::id, units::path))
        .load(conn)?;
    for (id, path) in subtree {
        let moved = format!("{new_path}{}", &path[old_path.len()..]);
        diesel::update(units::table.find(id))
            .set((units::path.eq(moved), units::updated_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes a unit nothing refers to; otherwise 409 `unit_in_use`, naming what holds it.
pub fn delete(conn: &mut DbConnection, unit: &UnitRow) -> AppResult<()> {
    let children: i64 = units::table
        .filter(units::parent_id.eq(&unit.id))
        .count()
        .get_result(conn)?;
    let members: i64 = users::table
        .filter(users::unit_id.eq(&unit.id))
        .count()
        .get_result(conn)?;
    let paired: i64 = pairings::table
        .filter(
            pairings::department_id
                .eq(&unit.id)
                .or(pairings::partner_id.eq(&unit.id)),
        )
        .count()
        .get_result(conn)?;
    let mut holders = Vec::new();
    for (count, what) in [
        (children, "child units"),
        (members, "users"),
        (paired, "pairings"),
    ] {
        if count > 0 {
            holders.push(format!("{count} {what}"));
        }
    }
    if !holders.is_empty() {
        return Err(AppError::conflict(
            "unit_in_use",
            format!("the unit still has {}", holders.join(", ")),
        ));
    }
    diesel::delete(units::table.find(&unit.id)).execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum UnitSort {
    #[default]
    #[serde(rename = "code")]
    Code,
    #[serde(rename = "-code")]
    CodeDesc,
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    /// Direct children of this unit.
    #[param(format = Uuid)]
    pub parent_id: Option<uuid::Uuid>,
    pub kind: Option<UnitKind>,
    /// Substring of the name or code (Chinese works: `马岭岗`).
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<UnitSort>,
}

type BoxedUnits = IntoBoxed<'static, units::table, Backend>;

fn filtered(subject: &Subject, filter: &UnitFilter) -> BoxedUnits {
    let mut q = units::table.into_boxed::<Backend>();
    if let Some(roots) = subject.visible_roots() {
        q = q.filter(in_subtrees(roots));
    }
    if let Some(parent) = filter.parent_id {
        q = q.filter(units::parent_id.eq(parent.to_string()));
    }
    if let Some(kind) = filter.kind {
        q = q.filter(units::kind.eq(kind.as_str()));
    }
    if let Ok(Some(text)) = crate::http::pagination::search_text(filter.q.as_deref()) {
        let pattern = db::contains_pattern(text);
        q = q.filter(
            db::lower(units::name)
                .like(pattern.clone())
                .escape('\\')
                .or(db::lower(units::code).like(pattern).escape('\\')),
        );
    }
    q
}

pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &UnitFilter,
    paging: Paging,
) -> AppResult<(Vec<UnitRow>, i64)> {
    crate::http::pagination::search_text(filter.q.as_deref())?;
    let total = filtered(subject, filter).count().get_result(conn)?;
    let query = filtered(subject, filter);
    let query = match filter.sort.unwrap_or_default() {
        UnitSort::Code => query.order(units::code.asc()),
        UnitSort::CodeDesc => query.order(units::code.desc()),
        UnitSort::Name => query.order((units::name.asc(), units::code.asc())),
        UnitSort::NameDesc => query.order((units::name.desc(), units::code.asc())),
        UnitSort::CreatedAt => query.order((units::created_at.asc(), units::id.asc())),
        UnitSort::CreatedAtDesc => query.order((units::created_at.desc(), units::id.desc())),
    };
    let rows = query
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok((rows, total))
}

/// The unit at `root` and everything under it that the subject may see, in tree order.
pub fn subtree(
    conn: &mut DbConnection,
    subject: &Subject,
    root: &UnitRow,
    paging: Paging,
) -> AppResult<(Vec<UnitRow>, i64)> {
    let query = || {
        let mut q = units::table
            .filter(
                units::path
                    .like(format!("{}%", db::like_escape(&root.path)))
                    .escape('\\'),
            )
            .into_boxed::<Backend>();
        if let Some(roots) = subject.visible_roots() {
            q = q.filter(in_subtrees(roots));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let rows = query()
        .order(units::path.asc())
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok((rows, total))
}

/// The grid containing the point, among the grids the subject may see. The bounding box
/// narrows the candidates in SQL; the exact test runs here. Ties (a point on a shared
/// edge) go to the lowest code.
pub fn locate(
    conn: &mut DbConnection,
    subject: &Subject,
    lon: f64,
    lat: f64,
) -> AppResult<Option<UnitRow>> {
    let mut q = units::table
        .filter(units::kind.eq(UnitKind::Grid.as_str()))
        .filter(units::min_lon.le(lon))
        .filter(units::max_lon.ge(lon))
        .filter(units::min_lat.le(lat))
        .filter(units::max_lat.ge(lat))
        .into_boxed::<Backend>();
    if let Some(roots) = subject.visible_roots() {
        q = q.filter(in_subtrees(roots));
    }
    let candidates: Vec<UnitRow> = q.order(units::code.asc()).load(conn)?;
    for row in candidates {
        if row.boundary()?.is_some_and(|b| b.contains(lon, lat)) {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_shape() {
        use UnitKind::*;
        assert!(District.may_have_parent(None));
        assert!(!District.may_have_parent(Some(District)));
        assert!(Town.may_have_parent(Some(District)));
        assert!(!Town.may_have_parent(None));
        assert!(Department.may_have_parent(Some(District)));
        assert!(Village.may_have_parent(Some(Town)));
        assert!(!Village.may_have_parent(Some(Department)));
        assert!(Grid.may_have_parent(Some(Community)));
        assert!(!Grid.may_have_parent(Some(Grid)));
        assert!(!Grid.may_have_parent(Some(Department)));
    }

    #[test]
    fn codes() {
        assert!(check_code("HZGX-LLZ").is_ok());
        assert!(check_code("-x").is_err());
        assert!(check_code("吕陵").is_err());
        assert!(check_code(&"A".repeat(33)).is_err());
        assert!(check_code("").is_err());
    }

    #[test]
    fn only_grids_carry_boundaries_and_leaders() {
        let input = NewUnit {
            code: "T1".into(),
            name: "吕陵镇".into(),
            kind: UnitKind::Town,
            parent_id: None,
            boundary: Some(Geometry {
                kind: geometry::GeometryType::Polygon,
                coordinates: serde_json::json!([]),
            }),
            leader_id: Some(uuid::Uuid::now_v7().to_string()),
        };
        let fields: Vec<_> = input
            .validate()
            .unwrap_err()
            .problem()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["boundary", "leader_id"]);
    }
}
