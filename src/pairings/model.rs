//! Pairing rows, forms and queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::policy::Subject;
use crate::db::schema::{pairings, units};
use crate::db::{self, Backend, DbConnection};
use crate::error::{AppError, AppResult};
use crate::http::pagination::Paging;
use crate::units::model::{in_subtrees, referenced, UnitKind, UnitRow};
use crate::validate::Checks;

#[derive(Debug, Clone, Queryable)]
pub struct PairingRow {
    pub id: String,
    pub department_id: String,
    pub partner_id: String,
    pub note: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pairing {
    #[schema(format = Uuid)]
    pub id: String,
    /// The department that helps.
    #[schema(format = Uuid)]
    pub department_id: String,
    /// The town, street, village or community it helps.
    #[schema(format = Uuid)]
    pub partner_id: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl From<PairingRow> for Pairing {
    fn from(row: PairingRow) -> Self {
        Pairing {
            id: row.id,
            department_id: row.department_id,
            partner_id: row.partner_id,
            note: row.note,
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPairing {
    #[schema(format = Uuid)]
    pub department_id: String,
    #[schema(format = Uuid)]
    pub partner_id: String,
    /// What the pairing covers, e.g. 网格巡查、入户宣传、志愿服务.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

fn unit_of_kind(
    conn: &mut DbConnection,
    id: &str,
    field: &str,
    allowed: &[UnitKind],
    rule: &str,
) -> AppResult<UnitRow> {
    let unit = referenced(conn, id, field)?;
    if !allowed.contains(&unit.kind()?) {
        return Err(AppError::invalid(field, rule));
    }
    Ok(unit)
}

pub fn create(conn: &mut DbConnection, input: &NewPairing) -> AppResult<PairingRow> {
    let mut c = Checks::new();
    c.uuid("department_id", &input.department_id);
    c.uuid("partner_id", &input.partner_id);
    if input.note.chars().count() > 500 || input.note.chars().any(char::is_control) {
        c.fail(
            "note",
            "must be at most 500 characters without control characters",
        );
    }
    c.finish()?;
    unit_of_kind(
        conn,
        &input.department_id,
        "department_id",
        &[UnitKind::Department],
        "must be a department",
    )?;
    unit_of_kind(
        conn,
        &input.partner_id,
        "partner_id",
        &[
            UnitKind::Town,
            UnitKind::Street,
            UnitKind::Village,
            UnitKind::Community,
        ],
        "must be a town, street, village or community",
    )?;
    let exists: i64 = pairings::table
        .filter(pairings::department_id.eq(&input.department_id))
        .filter(pairings::partner_id.eq(&input.partner_id))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Err(already_paired());
    }
    let row = PairingRow {
        id: uuid::Uuid::now_v7().to_string(),
        department_id: input.department_id.clone(),
        partner_id: input.partner_id.clone(),
        note: input.note.clone(),
        created_at: db::now(),
    };
    diesel::insert_into(pairings::table)
        .values((
            pairings::id.eq(&row.id),
            pairings::department_id.eq(&row.department_id),
            pairings::partner_id.eq(&row.partner_id),
            pairings::note.eq(&row.note),
            pairings::created_at.eq(row.created_at),
        ))
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
        "already_paired",
        "this department is already paired with this unit",
    )
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<PairingRow> {
    pairings::table
        .find(id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("pairing"))
}

/// Paths of the two units of a pairing; the pairing is visible to whoever sees either.
pub fn unit_paths(conn: &mut DbConnection, row: &PairingRow) -> AppResult<Vec<String>> {
    Ok(units::table
        .filter(units::id.eq_any([&row.department_id, &row.partner_id]))
        .select(units::path)
        .load(conn)?)
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum PairingSort {
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairingFilter {
    #[param(format = Uuid)]
    pub department_id: Option<uuid::Uuid>,
    #[param(format = Uuid)]
    pub partner_id: Option<uuid::Uuid>,
    #[param(inline)]
    pub sort: Option<PairingSort>,
}

pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &PairingFilter,
    paging: Paging,
) -> AppResult<(Vec<PairingRow>, i64)> {
    let visible: Option<Vec<String>> = match subject.visible_roots() {
        Some(roots) => Some(
            units::table
                .filter(in_subtrees(roots))
                .select(units::id)
                .load(conn)?,
        ),
        None => None,
    };
    let query = || {
        let mut q = pairings::table.into_boxed::<Backend>();
        if let Some(ids) = &visible {
            q = q.filter(
                pairings::department_id
                    .eq_any(ids.clone())
                    .or(pairings::partner_id.eq_any(ids.clone())),
            );
        }
        if let Some(d) = filter.department_id {
            q = q.filter(pairings::department_id.eq(d.to_string()));
        }
        if let Some(p) = filter.partner_id {
            q = q.filter(pairings::partner_id.eq(p.to_string()));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let sorted = match filter.sort.unwrap_or_default() {
        PairingSort::CreatedAt => query().order((pairings::created_at.asc(), pairings::id.asc())),
        PairingSort::CreatedAtDesc => {
            query().order((pairings::created_at.desc(), pairings::id.desc()))
        }
    };
    let rows = sorted
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok((rows, total))
}

pub fn delete(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    let deleted = diesel::delete(pairings::table.find(id)).execute(conn)?;
    if deleted == 0 {
        return Err(AppError::NotFound("pairing"));
    }
    Ok(())
}
