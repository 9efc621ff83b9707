//! Pairing rows and their queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::Resource;
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{pairings, units};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::ids::{PairingId, UnitId};
use crate::names::Names;
use crate::pairings::forms::{NewPairing, PairingFilter, PairingSort};
use crate::pairings::rules;
use crate::units::model::{referenced, UnitRow};
use crate::units::UnitKind;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = pairings, treat_none_as_default_value = false)]
pub struct PairingRow {
    pub id: PairingId,
    pub department_id: UnitId,
    pub partner_id: UnitId,
    pub note: String,
    pub created_at: NaiveDateTime,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pairing {
    #[schema(value_type = String, format = Uuid)]
    pub id: PairingId,
    /// The department that helps.
    #[schema(value_type = String, format = Uuid)]
    pub department_id: UnitId,
    /// The department's name, e.g. 党群工作部.
    pub department_name: String,
    /// The town, street, village or community it helps.
    #[schema(value_type = String, format = Uuid)]
    pub partner_id: UnitId,
    /// The partner's name, e.g. 吕陵镇.
    pub partner_name: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
    /// Goes up by one with every change to the pairing; its `ETag`.
    pub version: i32,
}

impl Pairing {
    /// The view of `row`, with its units' names from `names`.
    pub fn new(row: PairingRow, names: &Names) -> Self {
        Pairing {
            id: row.id,
            department_id: row.department_id,
            department_name: names.unit(row.department_id),
            partner_id: row.partner_id,
            partner_name: names.unit(row.partner_id),
            note: row.note,
            created_at: row.created_at.and_utc(),
            version: row.version,
        }
    }
}

/// The views of `rows`, with their units' names (one query for all).
pub fn views(conn: &mut DbConnection, rows: Vec<PairingRow>) -> AppResult<Vec<Pairing>> {
    let names = Names::load(
        conn,
        rows.iter().flat_map(|r| [r.department_id, r.partner_id]),
        [],
    )?;
    Ok(rows.into_iter().map(|r| Pairing::new(r, &names)).collect())
}

fn unit_of_kind(
    conn: &mut DbConnection,
    id: UnitId,
    field: &str,
    allowed: &[UnitKind],
    rule: &str,
) -> AppResult<UnitRow> {
    let unit = referenced(conn, id, field)?;
    if !allowed.contains(&unit.kind) {
        return Err(AppError::invalid(field, rule));
    }
    Ok(unit)
}

pub fn create(conn: &mut DbConnection, input: &NewPairing) -> AppResult<PairingRow> {
    unit_of_kind(
        conn,
        input.department_id,
        "department_id",
        rules::DEPARTMENT_KINDS,
        rules::DEPARTMENT_RULE,
    )?;
    unit_of_kind(
        conn,
        input.partner_id,
        "partner_id",
        rules::PARTNER_KINDS,
        rules::PARTNER_RULE,
    )?;
    let exists: i64 = pairings::table
        .filter(pairings::department_id.eq(input.department_id))
        .filter(pairings::partner_id.eq(input.partner_id))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Err(already_paired());
    }
    let row = PairingRow {
        id: PairingId::new(),
        department_id: input.department_id,
        partner_id: input.partner_id,
        note: input.note.clone(),
        created_at: db::now(),
        version: 1,
    };
    diesel::insert_into(pairings::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| match e {
            // Why: the `exists` check above cannot see a concurrent request's uncommitted
            // pairing (PostgreSQL runs READ COMMITTED), so the unique index on
            // (department_id, partner_id) refuses the later one; it must still get
            // `already_paired`, not the generic `already_exists` (found by the concurrent
            // test in tests/api/pairings.rs).
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => already_paired(),
            other => other.into(),
        })?;
    Ok(row)
}

fn already_paired() -> AppError {
    AppError::conflict(
        crate::error::Code::AlreadyPaired,
        "this department is already paired with this unit",
    )
}

/// A pairing with the paths of its two units: it belongs to both, and is visible to
/// whoever sees either.
pub struct Placed {
    pub row: PairingRow,
    pub paths: Vec<String>,
}

impl Placed {
    pub fn resource(&self) -> Resource<'_> {
        Resource::of_units(self.paths.iter().map(String::as_str))
    }
}

pub fn find(conn: &mut DbConnection, id: PairingId) -> AppResult<Placed> {
    let row = pairings::table
        .find(id)
        .select(PairingRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("pairing"))?;
    let paths = units::table
        .filter(crate::db::in_list(
            units::id,
            [row.department_id, row.partner_id],
        ))
        .select(units::path)
        .load(conn)?;
    Ok(Placed { row, paths })
}

/// The pairing of these two units, if there is one.
pub fn find_between(
    conn: &mut DbConnection,
    department: UnitId,
    partner: UnitId,
) -> AppResult<Option<PairingId>> {
    Ok(pairings::table
        .filter(pairings::department_id.eq(department))
        .filter(pairings::partner_id.eq(partner))
        .select(pairings::id)
        .get_result(conn)
        .optional()?)
}

pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &PairingFilter,
    paging: &Paging,
) -> AppResult<Listed<PairingRow>> {
    let query = || {
        let mut q = pairings::table.select(PairingRow::as_select()).into_boxed();
        if let (Some(departments), Some(partners)) =
            (scope::visible_units(subject), scope::visible_units(subject))
        {
            q = q.filter(
                departments
                    .contains(pairings::department_id)
                    .or(partners.contains(pairings::partner_id)),
            );
        }
        if let Some(d) = filter.department_id {
            q = q.filter(pairings::department_id.eq(d));
        }
        if let Some(p) = filter.partner_id {
            q = q.filter(pairings::partner_id.eq(p));
        }
        q
    };
    let order = Order::new(format!("{:?}", filter.sort));
    let order = match filter.sort {
        PairingSort::CreatedAt => order
            .asc(pairings::created_at, |r: &PairingRow| r.created_at)
            .asc(pairings::id, |r| r.id),
        PairingSort::CreatedAtDesc => order
            .desc(pairings::created_at, |r: &PairingRow| r.created_at)
            .desc(pairings::id, |r| r.id),
    };
    paginate(conn, query, &order, paging)
}

/// Changes what the pairing covers, over the version read (a concurrent change → 409).
pub fn set_note(
    conn: &mut DbConnection,
    current: &PairingRow,
    note: &str,
) -> AppResult<PairingRow> {
    let unchanged = pairings::table
        .find(current.id)
        .filter(pairings::version.eq(current.version));
    crate::on_backend!(conn, |c| diesel::update(unchanged)
        .set((
            pairings::note.eq(note),
            pairings::version.eq(pairings::version + 1),
        ))
        .returning(PairingRow::as_returning())
        .get_result(c))
    .optional()?
    .ok_or_else(|| db::concurrent_change("pairing"))
}

/// Removes the pairing as read (a concurrent change → 409).
pub fn delete(conn: &mut DbConnection, current: &PairingRow) -> AppResult<()> {
    let deleted = diesel::delete(
        pairings::table
            .find(current.id)
            .filter(pairings::version.eq(current.version)),
    )
    .execute(conn)?;
    if deleted == 0 {
        return Err(db::concurrent_change("pairing"));
    }
    Ok(())
}
