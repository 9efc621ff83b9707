//! Checklist rows, their versions and views, and their writes (each with its event).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Actor, Resource};
use crate::checklists::forms::ChecklistDraft;
use crate::checklists::rules::ChecklistItem;
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{checklist_versions, checklists, units};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, Change, Entity};
use crate::ids::{ChecklistId, UnitId, UserId};
use crate::names::Names;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = checklists)]
pub struct ChecklistRow {
    pub id: ChecklistId,
    pub name: String,
    pub kind: String,
    pub managed_by: UnitId,
    pub latest_version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = checklist_versions)]
pub struct VersionRow {
    pub checklist_id: ChecklistId,
    pub number: i32,
    pub name: String,
    /// JSON: the items.
    pub items: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
}

impl VersionRow {
    pub fn item_list(&self) -> AppResult<Vec<ChecklistItem>> {
        serde_json::from_str(&self.items).map_err(|e| {
            AppError::internal(format!(
                "checklist {} v{} has bad items: {e}",
                self.checklist_id, self.number
            ))
        })
    }
}

/// A checklist as the API shows it: one of its versions (the latest unless asked).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Checklist {
    #[schema(value_type = String, format = Uuid)]
    pub id: ChecklistId,
    pub name: String,
    pub kind: String,
    /// The version shown.
    pub checklist_version: i32,
    pub latest_version: i32,
    pub items: Vec<ChecklistItem>,
    /// The sum of the items' points.
    pub max_score: i32,
    #[schema(value_type = String, format = Uuid)]
    pub managed_by: UnitId,
    pub managed_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every edit; sent as the `ETag`.
    pub version: i32,
}

/// The version `number` of a checklist (the latest when `None`).
pub fn version_of(
    conn: &mut DbConnection,
    row: &ChecklistRow,
    number: Option<i32>,
) -> AppResult<VersionRow> {
    let number = number.unwrap_or(row.latest_version);
    checklist_versions::table
        .filter(checklist_versions::checklist_id.eq(row.id))
        .filter(checklist_versions::number.eq(number))
        .select(VersionRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("checklist version"))
}

pub fn view(
    conn: &mut DbConnection,
    row: ChecklistRow,
    number: Option<i32>,
) -> AppResult<Checklist> {
    let version = version_of(conn, &row, number)?;
    let items = version.item_list()?;
    let names = Names::load(conn, [row.managed_by], [])?;
    Ok(Checklist {
        managed_by_name: names.unit(row.managed_by),
        max_score: items.iter().map(|i| i.points).sum(),
        items,
        checklist_version: version.number,
        name: version.name,
        id: row.id,
        kind: row.kind,
        latest_version: row.latest_version,
        managed_by: row.managed_by,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        version: row.version,
    })
}

pub fn views(conn: &mut DbConnection, rows: Vec<ChecklistRow>) -> AppResult<Vec<Checklist>> {
    rows.into_iter().map(|row| view(conn, row, None)).collect()
}

/// A checklist with its managing unit's path.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: ChecklistRow,
    pub managed_path: String,
}

impl Placed {
    /// For managing: the managing unit's office (everyone reads checklists).
    pub fn managed(&self) -> Resource<'_> {
        Resource::of_unit(&self.managed_path)
    }
}

pub fn find(conn: &mut DbConnection, id: ChecklistId) -> AppResult<Placed> {
    let (row, managed_path) = checklists::table
        .inner_join(units::table.on(units::id.eq(checklists::managed_by)))
        .filter(checklists::id.eq(id))
        .select((ChecklistRow::as_select(), units::path))
        .get_result::<(ChecklistRow, String)>(conn)
        .optional()?
        .ok_or(AppError::NotFound("checklist"))?;
    Ok(Placed { row, managed_path })
}

/// The failing items' categories must exist and be open for reports.
fn check_categories(conn: &mut DbConnection, draft: &ChecklistDraft) -> AppResult<()> {
    let mut errors = Vec::new();
    for (i, item) in draft.items.iter().enumerate() {
        if let Some(category) = item.category_id {
            let field = format!("items[{i}].category_id");
            match crate::categories::model::referenced(conn, category, &field) {
                Ok(_) => {}
                Err(AppError::Validation(mut e)) => errors.append(&mut e),
                Err(e) => return Err(e),
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

fn add_version(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ChecklistId,
    number: i32,
    draft: &ChecklistDraft,
    now: NaiveDateTime,
) -> AppResult<()> {
    let version = VersionRow {
        checklist_id: id,
        number,
        name: draft.name.clone(),
        items: serde_json::to_string(&draft.items)
            .map_err(|e| AppError::internal(format!("checklist items: {e}")))?,
        created_by: actor.id,
        created_at: now,
    };
    diesel::insert_into(checklist_versions::table)
        .values(&version)
        .execute(conn)?;
    Ok(())
}

/// Creates a checklist managed by the caller's unit, as its version 1.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    draft: &ChecklistDraft,
    now: NaiveDateTime,
) -> AppResult<ChecklistRow> {
    check_categories(conn, draft)?;
    let row = ChecklistRow {
        id: ChecklistId::new(),
        name: draft.name.clone(),
        kind: draft.kind.clone(),
        managed_by: actor.unit_id,
        latest_version: 1,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(checklists::table)
        .values(&row)
        .execute(conn)?;
    add_version(conn, actor, row.id, 1, draft, now)?;
    events::record(
        conn,
        now,
        Change::created(Entity::Checklist, row.id, actor.id, &row),
    )?;
    Ok(row)
}

/// An edit: a new version (earlier ones stay as inspections used them).
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &ChecklistRow,
    before: &ChecklistDraft,
    draft: &ChecklistDraft,
    now: NaiveDateTime,
) -> AppResult<ChecklistRow> {
    if before == draft {
        return Ok(current.clone());
    }
    check_categories(conn, draft)?;
    let next = ChecklistRow {
        name: draft.name.clone(),
        kind: draft.kind.clone(),
        latest_version: current.latest_version + 1,
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let updated = diesel::update(
        checklists::table
            .filter(checklists::id.eq(current.id))
            .filter(checklists::version.eq(current.version)),
    )
    .set((
        checklists::name.eq(&next.name),
        checklists::kind.eq(&next.kind),
        checklists::latest_version.eq(next.latest_version),
        checklists::updated_at.eq(next.updated_at),
        checklists::version.eq(next.version),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("checklist"));
    }
    add_version(conn, actor, current.id, next.latest_version, draft, now)?;
    events::record(
        conn,
        now,
        Change::new(Entity::Checklist, current.id, actor.id, "updated").diff(current, &next),
    )?;
    Ok(next)
}

/// The checklist of this name, if any (the world loader's idempotence).
pub fn find_by_name(conn: &mut DbConnection, name: &str) -> AppResult<Option<ChecklistId>> {
    Ok(checklists::table
        .filter(checklists::name.eq(name))
        .select(checklists::id)
        .order(checklists::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// The checklist a form names in `field`, at `number` (the latest when `None`).
pub fn referenced(
    conn: &mut DbConnection,
    id: ChecklistId,
    number: Option<i32>,
    field: &str,
) -> AppResult<(ChecklistRow, VersionRow)> {
    let row = match find(conn, id) {
        Ok(placed) => placed.row,
        Err(AppError::NotFound(_)) => return Err(AppError::invalid(field, "no such checklist")),
        Err(e) => return Err(e),
    };
    let version = version_of(conn, &row, number).map_err(|e| match e {
        AppError::NotFound(_) => AppError::Validation(vec![FieldError::new(
            "checklist_version",
            format!("the checklist has versions 1 to {}", row.latest_version),
        )]),
        other => other,
    })?;
    Ok((row, version))
}

/// Every checklist (everyone reads them), by name.
pub fn list(
    conn: &mut DbConnection,
    kind: Option<&str>,
    paging: &Paging,
) -> AppResult<Listed<ChecklistRow>> {
    let order = Order::new("name")
        .asc(checklists::name, |r: &ChecklistRow| r.name.clone())
        .asc(checklists::id, |r| r.id);
    paginate(
        conn,
        || {
            let mut q = checklists::table
                .select(ChecklistRow::as_select())
                .into_boxed();
            if let Some(kind) = kind {
                q = q.filter(checklists::kind.eq(kind.to_string()));
            }
            q
        },
        &order,
        paging,
    )
}

/// The checklists among `ids` (everyone reads them all; what the sync feed sends).
pub fn among(conn: &mut DbConnection, ids: &[ChecklistId]) -> AppResult<Vec<ChecklistRow>> {
    Ok(checklists::table
        .filter(crate::db::in_list(checklists::id, ids))
        .select(ChecklistRow::as_select())
        .load(conn)?)
}
