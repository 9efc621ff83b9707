//! Site rows, their views and their writes (each with its event).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, Resource};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{sites, units};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::events::{self, Change, Entity};
use crate::ids::{SiteId, UnitId, UserId};
use crate::names::Names;
use crate::sites::forms::{SiteDraft, SiteFilter};
use crate::sites::rules::SiteKind;
use crate::units::forms::Point;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sites)]
pub struct SiteRow {
    pub id: SiteId,
    pub kind: SiteKind,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub grid_id: UnitId,
    pub unit_id: UnitId,
    pub address: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

impl SiteRow {
    pub fn draft(&self) -> SiteDraft {
        SiteDraft {
            kind: self.kind,
            name: self.name.clone(),
            lat: self.lat,
            lon: self.lon,
            grid_id: Some(self.grid_id),
            unit_id: self.unit_id,
            address: self.address.clone(),
        }
    }
}

/// A site as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Site {
    #[schema(value_type = String, format = Uuid)]
    pub id: SiteId,
    #[schema(value_type = SiteKind)]
    pub kind: SiteKind,
    /// e.g. 七里河节制闸.
    pub name: String,
    /// WGS-84.
    pub lat: f64,
    pub lon: f64,
    #[schema(value_type = String, format = Uuid)]
    pub grid_id: UnitId,
    pub grid_name: String,
    /// The responsible unit.
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    pub unit_name: String,
    pub address: String,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
}

pub fn views(conn: &mut DbConnection, rows: Vec<SiteRow>) -> AppResult<Vec<Site>> {
    let names = Names::load(conn, rows.iter().flat_map(|r| [r.grid_id, r.unit_id]), [])?;
    Ok(rows
        .into_iter()
        .map(|row| Site {
            grid_name: names.unit(row.grid_id),
            unit_name: names.unit(row.unit_id),
            id: row.id,
            kind: row.kind,
            name: row.name,
            lat: row.lat,
            lon: row.lon,
            grid_id: row.grid_id,
            unit_id: row.unit_id,
            address: row.address,
            created_by: row.created_by,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
        .collect())
}

pub fn view(conn: &mut DbConnection, row: SiteRow) -> AppResult<Site> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::internal("a site without its view"))
}

/// A site with the paths of its responsible unit and of its grid.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: SiteRow,
    pub unit_path: String,
    pub grid_path: String,
}

impl Placed {
    /// For reading: whoever sees its responsible unit or its grid (the grid's inspector).
    pub fn resource(&self) -> Resource<'_> {
        Resource::of_units([self.unit_path.as_str(), self.grid_path.as_str()])
    }

    /// For managing: the responsible unit's office (and admins).
    pub fn managed(&self) -> Resource<'_> {
        Resource::of_unit(&self.unit_path)
    }
}

pub fn find(conn: &mut DbConnection, id: SiteId) -> AppResult<Placed> {
    let (grids, owners) = diesel::alias!(units as grids, units as owners);
    let (row, unit_path, grid_path) = sites::table
        .inner_join(owners.on(owners.field(units::id).eq(sites::unit_id)))
        .inner_join(grids.on(grids.field(units::id).eq(sites::grid_id)))
        .filter(sites::id.eq(id))
        .select((
            SiteRow::as_select(),
            owners.field(units::path),
            grids.field(units::path),
        ))
        .get_result::<(SiteRow, String, String)>(conn)
        .optional()?
        .ok_or(AppError::NotFound("site"))?;
    Ok(Placed {
        row,
        unit_path,
        grid_path,
    })
}

/// The unit's site of this name, if any (the world loader's idempotence).
pub fn find_by_name(
    conn: &mut DbConnection,
    unit: UnitId,
    name: &str,
) -> AppResult<Option<SiteId>> {
    Ok(sites::table
        .filter(sites::unit_id.eq(unit))
        .filter(sites::name.eq(name))
        .select(sites::id)
        .order(sites::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// A site that a form names in `field`: it must exist and be seen by the caller.
pub fn referenced(
    conn: &mut DbConnection,
    actor: &Actor,
    id: SiteId,
    field: &str,
) -> AppResult<Placed> {
    match find(conn, id) {
        Ok(placed) if actor.may(Action::ReadOrg, &placed.resource()) => Ok(placed),
        Ok(_) | Err(AppError::NotFound(_)) => Err(AppError::invalid(field, "no such site")),
        Err(e) => Err(e),
    }
}

/// The grid of a site ([`crate::units::model::grid_for`]).
fn grid_for(conn: &mut DbConnection, actor: &Actor, draft: &SiteDraft) -> AppResult<UnitId> {
    let point = Point {
        lon: draft.lon,
        lat: draft.lat,
    };
    Ok(crate::units::model::grid_for(conn, actor, draft.grid_id, point)?.id)
}

/// Records a site of a unit the caller manages sites for.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    draft: &SiteDraft,
    now: NaiveDateTime,
) -> AppResult<SiteRow> {
    crate::units::model::actionable(conn, actor, draft.unit_id, "unit_id", Action::ManageSites)?;
    let grid_id = grid_for(conn, actor, draft)?;
    let row = SiteRow {
        id: SiteId::new(),
        kind: draft.kind,
        name: draft.name.clone(),
        lat: draft.lat,
        lon: draft.lon,
        grid_id,
        unit_id: draft.unit_id,
        address: draft.address.clone(),
        created_by: actor.id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(sites::table)
        .values(&row)
        .execute(conn)?;
    let view = view(conn, row.clone())?;
    events::record(
        conn,
        now,
        Change::created(Entity::Site, row.id, actor.id, &view),
    )?;
    Ok(row)
}

/// Writes `draft` over `current` if nobody changed it since, with its event.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &SiteRow,
    draft: &SiteDraft,
    now: NaiveDateTime,
) -> AppResult<SiteRow> {
    if current.draft() == *draft {
        return Ok(current.clone());
    }
    if draft.unit_id != current.unit_id {
        crate::units::model::actionable(
            conn,
            actor,
            draft.unit_id,
            "unit_id",
            Action::ManageSites,
        )?;
    }
    let grid_id = if draft.grid_id == Some(current.grid_id) {
        current.grid_id
    } else {
        grid_for(conn, actor, draft)?
    };
    let next = SiteRow {
        kind: draft.kind,
        name: draft.name.clone(),
        lat: draft.lat,
        lon: draft.lon,
        grid_id,
        unit_id: draft.unit_id,
        address: draft.address.clone(),
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let updated = diesel::update(
        sites::table
            .filter(sites::id.eq(current.id))
            .filter(sites::version.eq(current.version)),
    )
    .set((
        sites::kind.eq(next.kind),
        sites::name.eq(&next.name),
        sites::lat.eq(next.lat),
        sites::lon.eq(next.lon),
        sites::grid_id.eq(next.grid_id),
        sites::unit_id.eq(next.unit_id),
        sites::address.eq(&next.address),
        sites::updated_at.eq(next.updated_at),
        sites::version.eq(next.version),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("site"));
    }
    let (before, after) = (view(conn, current.clone())?, view(conn, next.clone())?);
    events::record(
        conn,
        now,
        Change::new(Entity::Site, current.id, actor.id, "updated").diff(&before, &after),
    )?;
    Ok(next)
}

/// The sites whose responsible unit or grid the caller sees.
pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &SiteFilter,
    paging: &Paging,
) -> AppResult<Listed<SiteRow>> {
    let under = match filter.unit_id {
        Some(unit) => match scope::path_of(conn, unit)? {
            Some(path) => Some(path),
            None => return Ok(Listed::empty()),
        },
        None => None,
    };
    let query = || {
        let mut q = sites::table.select(SiteRow::as_select()).into_boxed();
        if let (Some(by_unit), Some(by_grid)) =
            (scope::visible_units(subject), scope::visible_units(subject))
        {
            q = q.filter(
                by_unit
                    .contains(sites::unit_id)
                    .or(by_grid.contains(sites::grid_id)),
            );
        }
        if let Some(kind) = filter.kind {
            q = q.filter(sites::kind.eq(kind));
        }
        if let Some(grid) = filter.grid_id {
            q = q.filter(sites::grid_id.eq(grid));
        }
        if let Some(path) = &under {
            q = q.filter(scope::units_under(path).contains(sites::unit_id));
        }
        if let Some(b) = filter.bbox {
            q = q
                .filter(sites::lon.between(b.min_lon, b.max_lon))
                .filter(sites::lat.between(b.min_lat, b.max_lat));
        }
        if let Some(text) = &filter.q {
            let pattern = db::contains_pattern(text);
            q = q.filter(
                db::lower(sites::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(db::lower(sites::address).like(pattern).escape('\\')),
            );
        }
        q
    };
    let order = Order::new("name")
        .asc(sites::name, |r: &SiteRow| r.name.clone())
        .asc(sites::id, |r| r.id);
    paginate(conn, query, &order, paging)
}

/// The sites among `ids` the subject sees, as the list would show them (the sync feed).
pub fn visible_among(
    conn: &mut DbConnection,
    subject: &Subject,
    ids: &[SiteId],
) -> AppResult<Vec<SiteRow>> {
    let mut q = sites::table
        .filter(crate::db::in_list(sites::id, ids))
        .select(SiteRow::as_select())
        .into_boxed();
    if let (Some(by_unit), Some(by_grid)) =
        (scope::visible_units(subject), scope::visible_units(subject))
    {
        q = q.filter(
            by_unit
                .contains(sites::unit_id)
                .or(by_grid.contains(sites::grid_id)),
        );
    }
    Ok(q.load(conn)?)
}
