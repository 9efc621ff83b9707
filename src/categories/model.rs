//! Category rows, their views and their writes (each with its event).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Actor, Resource};
use crate::categories::forms::{CategoryDraft, CategoryFilter};
use crate::categories::rules::{AttributeSpec, Routing, Severity};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{categories, units};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::events::{self, Change, Entity};
use crate::ids::{CategoryId, UnitId};
use crate::names::Names;
use crate::units::UnitKind;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub id: CategoryId,
    pub code: String,
    pub name: String,
    pub description: String,
    pub default_severity: Severity,
    pub deadline_hours: i32,
    pub route_kind: UnitKind,
    pub route_unit_id: Option<UnitId>,
    /// JSON: the attribute specs ([`CategoryRow::attribute_specs`]).
    pub attributes: String,
    pub active: bool,
    pub managed_by: UnitId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

impl CategoryRow {
    /// The attribute specs as stored; a value that does not parse is an internal error.
    pub fn attribute_specs(&self) -> AppResult<Vec<AttributeSpec>> {
        serde_json::from_str(&self.attributes).map_err(|e| {
            AppError::internal(format!(
                "category {} has bad stored attributes: {e}",
                self.id
            ))
        })
    }

    pub fn routing(&self) -> Routing {
        Routing {
            unit_kind: self.route_kind,
            unit_id: self.route_unit_id,
        }
    }

    pub fn draft(&self) -> AppResult<CategoryDraft> {
        Ok(CategoryDraft {
            code: self.code.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            default_severity: self.default_severity,
            deadline_hours: self.deadline_hours,
            routing: self.routing(),
            attributes: self.attribute_specs()?,
            active: self.active,
        })
    }
}

/// A category as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Category {
    #[schema(value_type = String, format = Uuid)]
    pub id: CategoryId,
    pub code: String,
    /// e.g. 公益广告牌破损.
    pub name: String,
    pub description: String,
    #[schema(value_type = Severity)]
    pub default_severity: Severity,
    /// How long the responsible unit has, from the report.
    pub deadline_hours: i32,
    pub routing: Routing,
    /// The name of the routing's named unit, if any.
    pub route_unit_name: Option<String>,
    pub attributes: Vec<AttributeSpec>,
    /// Open for new reports.
    pub active: bool,
    /// The unit whose office manages it.
    #[schema(value_type = String, format = Uuid)]
    pub managed_by: UnitId,
    pub managed_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
}

pub fn views(conn: &mut DbConnection, rows: Vec<CategoryRow>) -> AppResult<Vec<Category>> {
    let names = Names::load(
        conn,
        rows.iter()
            .flat_map(|r| std::iter::once(r.managed_by).chain(r.route_unit_id)),
        [],
    )?;
    rows.into_iter()
        .map(|row| {
            Ok(Category {
                attributes: row.attribute_specs()?,
                routing: row.routing(),
                route_unit_name: row.route_unit_id.map(|u| names.unit(u)),
                managed_by_name: names.unit(row.managed_by),
                id: row.id,
                code: row.code,
                name: row.name,
                description: row.description,
                default_severity: row.default_severity,
                deadline_hours: row.deadline_hours,
                active: row.active,
                managed_by: row.managed_by,
                created_at: row.created_at.and_utc(),
                updated_at: row.updated_at.and_utc(),
                version: row.version,
            })
        })
        .collect()
}

pub fn view(conn: &mut DbConnection, row: CategoryRow) -> AppResult<Category> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::internal("a category without its view"))
}

/// A category with the path of the unit that manages it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: CategoryRow,
    pub managed_path: String,
}

impl Placed {
    /// For managing: the managing unit's office (and admins).
    pub fn resource(&self) -> Resource<'_> {
        Resource::of_unit(&self.managed_path)
    }
}

pub fn find(conn: &mut DbConnection, id: CategoryId) -> AppResult<Placed> {
    let (row, managed_path) = categories::table
        .inner_join(units::table.on(units::id.eq(categories::managed_by)))
        .filter(categories::id.eq(id))
        .select((CategoryRow::as_select(), units::path))
        .get_result::<(CategoryRow, String)>(conn)
        .optional()?
        .ok_or(AppError::NotFound("category"))?;
    Ok(Placed { row, managed_path })
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> AppResult<Option<CategoryRow>> {
    Ok(categories::table
        .filter(db::lower(categories::code).eq(code.to_lowercase()))
        .select(CategoryRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// A category a form names in `field`: it must exist and be open for reports.
pub fn referenced(conn: &mut DbConnection, id: CategoryId, field: &str) -> AppResult<CategoryRow> {
    let row = match find(conn, id) {
        Ok(placed) => placed.row,
        Err(AppError::NotFound(_)) => return Err(AppError::invalid(field, "no such category")),
        Err(e) => return Err(e),
    };
    if !row.active {
        return Err(AppError::invalid(field, "the category is retired"));
    }
    Ok(row)
}

/// The routing's named unit must exist, be of the routing's kind and be seen by the caller.
fn check_route_unit(conn: &mut DbConnection, actor: &Actor, routing: &Routing) -> AppResult<()> {
    let Some(id) = routing.unit_id else {
        return Ok(());
    };
    let unit = crate::units::model::referenced(conn, id, "routing.unit_id")?;
    if !actor.may(crate::auth::Action::ReadOrg, &Resource::unit(&unit.path)) {
        return Err(AppError::invalid("routing.unit_id", "no such unit"));
    }
    if unit.kind != routing.unit_kind {
        return Err(AppError::invalid(
            "routing.unit_id",
            format!(
                "is a {}, not a {} as `unit_kind` says",
                unit.kind, routing.unit_kind
            ),
        ));
    }
    Ok(())
}

fn code_taken(code: &str) -> AppError {
    AppError::conflict(
        crate::error::Code::CodeTaken,
        format!("category code `{code}` is taken (codes ignore case)"),
    )
}

fn specs_json(specs: &[AttributeSpec]) -> AppResult<String> {
    serde_json::to_string(specs)
        .map_err(|e| AppError::internal(format!("serialising attributes: {e}")))
}

/// Creates a category managed by the caller's unit.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    draft: &CategoryDraft,
    now: NaiveDateTime,
) -> AppResult<CategoryRow> {
    check_route_unit(conn, actor, &draft.routing)?;
    if find_by_code(conn, &draft.code)?.is_some() {
        return Err(code_taken(&draft.code));
    }
    let row = CategoryRow {
        id: CategoryId::new(),
        code: draft.code.clone(),
        name: draft.name.clone(),
        description: draft.description.clone(),
        default_severity: draft.default_severity,
        deadline_hours: draft.deadline_hours,
        route_kind: draft.routing.unit_kind,
        route_unit_id: draft.routing.unit_id,
        attributes: specs_json(&draft.attributes)?,
        active: draft.active,
        managed_by: actor.unit_id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(categories::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| match db::unique_violation(&e) {
            Some(_) => code_taken(&draft.code),
            None => e.into(),
        })?;
    let view = view(conn, row.clone())?;
    events::record(
        conn,
        now,
        Change::created(Entity::Category, row.id, actor.id, &view),
    )?;
    Ok(row)
}

/// Writes `draft` over `current` if nobody changed it since, with its event.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &CategoryRow,
    draft: &CategoryDraft,
    now: NaiveDateTime,
) -> AppResult<CategoryRow> {
    if current.draft()? == *draft {
        return Ok(current.clone());
    }
    if draft.routing != current.routing() {
        check_route_unit(conn, actor, &draft.routing)?;
    }
    if draft.code.to_lowercase() != current.code.to_lowercase()
        && find_by_code(conn, &draft.code)?.is_some()
    {
        return Err(code_taken(&draft.code));
    }
    let next = CategoryRow {
        code: draft.code.clone(),
        name: draft.name.clone(),
        description: draft.description.clone(),
        default_severity: draft.default_severity,
        deadline_hours: draft.deadline_hours,
        route_kind: draft.routing.unit_kind,
        route_unit_id: draft.routing.unit_id,
        attributes: specs_json(&draft.attributes)?,
        active: draft.active,
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let updated = diesel::update(
        categories::table
            .filter(categories::id.eq(current.id))
            .filter(categories::version.eq(current.version)),
    )
    .set((
        categories::code.eq(&next.code),
        categories::name.eq(&next.name),
        categories::description.eq(&next.description),
        categories::default_severity.eq(next.default_severity),
        categories::deadline_hours.eq(next.deadline_hours),
        categories::route_kind.eq(next.route_kind),
        categories::route_unit_id.eq(next.route_unit_id),
        categories::attributes.eq(&next.attributes),
        categories::active.eq(next.active),
        categories::updated_at.eq(next.updated_at),
        categories::version.eq(next.version),
    ))
    .execute(conn)
    .map_err(|e| match db::unique_violation(&e) {
        Some(_) => code_taken(&draft.code),
        None => e.into(),
    })?;
    if updated == 0 {
        return Err(db::concurrent_change("category"));
    }
    let (before, after) = (view(conn, current.clone())?, view(conn, next.clone())?);
    events::record(
        conn,
        now,
        Change::new(Entity::Category, current.id, actor.id, "updated").diff(&before, &after),
    )?;
    Ok(next)
}

/// Every category: they are the district's shared vocabulary, read by everyone who reports.
pub fn list(
    conn: &mut DbConnection,
    filter: &CategoryFilter,
    paging: &Paging,
) -> AppResult<Listed<CategoryRow>> {
    let query = || {
        let mut q = categories::table
            .select(CategoryRow::as_select())
            .into_boxed();
        if let Some(active) = filter.active {
            q = q.filter(categories::active.eq(active));
        }
        if let Some(text) = &filter.q {
            let pattern = db::contains_pattern(text);
            q = q.filter(
                db::lower(categories::code)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(db::lower(categories::name).like(pattern).escape('\\')),
            );
        }
        q
    };
    let order = Order::new("code")
        .asc(categories::code, |r: &CategoryRow| r.code.clone())
        .asc(categories::id, |r| r.id);
    paginate(conn, query, &order, paging)
}

/// The categories among `ids` (everyone reads them all; what the sync feed sends).
pub fn among(conn: &mut DbConnection, ids: &[CategoryId]) -> AppResult<Vec<CategoryRow>> {
    Ok(categories::table
        .filter(crate::db::in_list(categories::id, ids))
        .select(CategoryRow::as_select())
        .load(conn)?)
}
