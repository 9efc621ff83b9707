//! Campaign rows, their views and their writes (each with its event).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, Resource};
use crate::campaigns::forms::{
    CampaignFilter, CampaignSort, CampaignTransition, CampaignUpdate, NewCampaign,
};
use crate::campaigns::rules::{self, CampaignKind, CampaignStatus};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{campaigns, units};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::events::{self, Change, Entity};
use crate::ids::{CampaignId, UnitId, UserId};
use crate::names::Names;
use crate::tasks::rollup;
use crate::units::model::actionable;
use crate::units::UnitKind;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: CampaignId,
    pub kind: CampaignKind,
    pub name: String,
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: CampaignStatus,
    pub lead_unit_id: UnitId,
    pub scheme_id: Option<String>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// A campaign as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    #[schema(value_type = String, format = Uuid)]
    pub id: CampaignId,
    pub kind: CampaignKind,
    pub name: String,
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: CampaignStatus,
    #[schema(value_type = String, format = Uuid)]
    pub lead_unit_id: UnitId,
    /// The lead unit's name, e.g. 创城办.
    pub lead_unit_name: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub scheme_id: Option<String>,
    /// The average progress (0–100) of its directives that have tasks.
    pub progress: f64,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
}

/// The views of `rows`: lead unit names and progress, loaded together.
pub fn views(
    conn: &mut DbConnection,
    rows: Vec<CampaignRow>,
    now: NaiveDateTime,
) -> AppResult<Vec<Campaign>> {
    let names = Names::load(conn, rows.iter().map(|r| r.lead_unit_id), [])?;
    let ids: Vec<CampaignId> = rows.iter().map(|r| r.id).collect();
    let progress = rollup::campaigns(conn, &ids, now)?;
    Ok(rows
        .into_iter()
        .map(|row| Campaign {
            lead_unit_name: names.unit(row.lead_unit_id),
            progress: progress.get(&row.id).copied().unwrap_or(0.0),
            id: row.id,
            kind: row.kind,
            name: row.name,
            description: row.description,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            status: row.status,
            lead_unit_id: row.lead_unit_id,
            scheme_id: row.scheme_id,
            created_by: row.created_by,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
        .collect())
}

pub fn view(conn: &mut DbConnection, row: CampaignRow, now: NaiveDateTime) -> AppResult<Campaign> {
    views(conn, vec![row], now)?
        .pop()
        .ok_or_else(|| AppError::internal("a campaign without its view"))
}

/// A campaign with its lead unit's path: what the policy needs.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: CampaignRow,
    pub lead_path: String,
    pub lead_kind: UnitKind,
}

impl Placed {
    /// Belongs to its lead unit, and reaches every unit below it (below the district, for
    /// a department's).
    pub fn resource(&self) -> Resource<'_> {
        Resource::led_from_reaching(
            &self.lead_path,
            scope::reach_path(&self.lead_path, self.lead_kind),
        )
    }
}

pub fn find(conn: &mut DbConnection, id: CampaignId) -> AppResult<Placed> {
    let (row, lead_path, lead_kind) = crate::on_backend!(conn, |c| campaigns::table
        .inner_join(units::table.on(units::id.eq(campaigns::lead_unit_id)))
        .filter(campaigns::id.eq(id))
        .select((CampaignRow::as_select(), units::path, units::kind))
        .get_result(c))
    .optional()?
    .ok_or(AppError::NotFound("campaign"))?;
    Ok(Placed {
        row,
        lead_path,
        lead_kind,
    })
}

/// May the caller read this campaign? It sees what is led from the units it sees or from
/// the units above its own, and any campaign it has tasks in (a campaign led by a district
/// department reaches the towns through their tasks). Otherwise it is not found.
pub fn readable(conn: &mut DbConnection, actor: &Actor, placed: &Placed) -> AppResult<()> {
    match actor.require_on(Action::ReadWork, &placed.resource(), "campaign") {
        Err(AppError::NotFound(what)) => {
            if crate::tasks::model::sees_any_of_campaign(conn, &actor.subject, placed.row.id)? {
                Ok(())
            } else {
                Err(AppError::NotFound(what))
            }
        }
        other => other,
    }
}

/// The campaign a form names in `field`, for recording work under it: it must be visible
/// to the caller (otherwise a 422 naming the field) and not closed (409 `campaign_closed`).
pub fn writable(
    conn: &mut DbConnection,
    actor: &Actor,
    id: CampaignId,
    field: &str,
) -> AppResult<CampaignRow> {
    let placed = match find(conn, id) {
        Ok(placed) => placed,
        Err(AppError::NotFound(_)) => return Err(AppError::invalid(field, "no such campaign")),
        Err(other) => return Err(other),
    };
    match readable(conn, actor, &placed) {
        Ok(()) => {}
        Err(AppError::NotFound(_)) => return Err(AppError::invalid(field, "no such campaign")),
        Err(other) => return Err(other),
    }
    ensure_open(&placed.row)?;
    Ok(placed.row)
}

/// Nothing under a closed campaign may be written until it is reopened.
pub fn ensure_open(row: &CampaignRow) -> AppResult<()> {
    crate::work::refuse_if_closed(row.status, &row.name)
}

/// The campaign with this name, if any (the world loader's idempotence).
pub fn find_by_name(conn: &mut DbConnection, name: &str) -> AppResult<Option<CampaignRow>> {
    Ok(campaigns::table
        .filter(campaigns::name.eq(name))
        .select(CampaignRow::as_select())
        .order(campaigns::id)
        .limit(1)
        .load(conn)?
        .pop())
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    input: &NewCampaign,
    now: NaiveDateTime,
) -> AppResult<CampaignRow> {
    actionable(
        conn,
        actor,
        input.lead_unit_id,
        "lead_unit_id",
        Action::ManageCampaignWork,
    )?;
    let row = CampaignRow {
        id: CampaignId::new(),
        kind: input.kind,
        name: input.name.clone(),
        description: input.description.clone(),
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        status: CampaignStatus::Planned,
        lead_unit_id: input.lead_unit_id,
        scheme_id: input.scheme_id.map(|s| s.to_string()),
        created_by: actor.id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(campaigns::table)
        .values(&row)
        .execute(conn)?;
    events::record(
        conn,
        now,
        Change::created(Entity::Campaign, row.id, actor.id, &row).entered(row.status),
    )?;
    Ok(row)
}

/// Writes `next` over `current` if nobody changed it since (`version`), with its event.
fn save(
    conn: &mut DbConnection,
    current: &CampaignRow,
    next: &CampaignRow,
    change: Change,
    now: NaiveDateTime,
) -> AppResult<()> {
    let updated = diesel::update(
        campaigns::table
            .filter(campaigns::id.eq(current.id))
            .filter(campaigns::version.eq(current.version)),
    )
    .set((
        campaigns::kind.eq(next.kind),
        campaigns::name.eq(&next.name),
        campaigns::description.eq(&next.description),
        campaigns::starts_on.eq(next.starts_on),
        campaigns::ends_on.eq(next.ends_on),
        campaigns::status.eq(next.status),
        campaigns::lead_unit_id.eq(next.lead_unit_id),
        campaigns::scheme_id.eq(&next.scheme_id),
        campaigns::updated_at.eq(next.updated_at),
        campaigns::version.eq(next.version),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("campaign"));
    }
    events::record(conn, now, change.diff(current, next))
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &CampaignRow,
    change: &CampaignUpdate,
    now: NaiveDateTime,
) -> AppResult<CampaignRow> {
    ensure_open(current)?;
    if let Some(lead) = change.lead_unit_id.filter(|l| *l != current.lead_unit_id) {
        actionable(
            conn,
            actor,
            lead,
            "lead_unit_id",
            Action::ManageCampaignWork,
        )?;
    }
    let mut next = current.clone();
    if let Some(kind) = change.kind {
        next.kind = kind;
    }
    if let Some(name) = &change.name {
        next.name = name.clone();
    }
    if let Some(description) = &change.description {
        next.description = description.clone();
    }
    next.starts_on = change.starts_on.unwrap_or(next.starts_on);
    next.ends_on = change.ends_on.unwrap_or(next.ends_on);
    if let Err(message) = rules::check_period(next.starts_on, next.ends_on) {
        return Err(AppError::invalid("ends_on", message));
    }
    next.lead_unit_id = change.lead_unit_id.unwrap_or(next.lead_unit_id);
    if let Some(scheme) = change.scheme_id {
        next.scheme_id = scheme.map(|s| s.to_string());
    }
    if next == *current {
        return Ok(next);
    }
    next.updated_at = now;
    next.version += 1;
    save(
        conn,
        current,
        &next,
        Change::new(Entity::Campaign, current.id, actor.id, "updated"),
        now,
    )?;
    Ok(next)
}

pub fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &CampaignRow,
    input: &CampaignTransition,
    now: NaiveDateTime,
) -> AppResult<CampaignRow> {
    let to = rules::next(current.status, input.action).map_err(|allowed| {
        AppError::InvalidTransition {
            what: "campaign",
            action: input.action.to_string(),
            status: current.status.to_string(),
            allowed: allowed.iter().map(ToString::to_string).collect(),
        }
    })?;
    let next = CampaignRow {
        status: to,
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let change = Change::new(
        Entity::Campaign,
        current.id,
        actor.id,
        input.action.as_str(),
    )
    .status(current.status, to)
    .note(&input.note);
    save(conn, current, &next, change, now)?;
    Ok(next)
}

/// The campaigns the caller may see ([`readable`]).
pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &CampaignFilter,
    paging: &Paging,
) -> AppResult<Listed<CampaignRow>> {
    let under = match filter.unit_id {
        Some(unit) => match scope::path_of(conn, unit)? {
            Some(path) => Some(path),
            None => return Ok(Listed::empty()),
        },
        None => None,
    };
    let query = || {
        let mut q = campaigns::table
            .select(CampaignRow::as_select())
            .into_boxed();
        if let (Some(visible), Some(with_tasks)) = (
            scope::visible_units(subject),
            crate::tasks::model::campaigns_of_visible_tasks(subject),
        ) {
            q = q.filter(
                visible
                    .contains(campaigns::lead_unit_id)
                    .or(crate::db::in_subquery(
                        campaigns::lead_unit_id,
                        scope::reaching_units(subject),
                    ))
                    .or(crate::db::in_subquery(campaigns::id, with_tasks)),
            );
        }
        if let Some(kind) = filter.kind {
            q = q.filter(campaigns::kind.eq(kind));
        }
        if let Some(status) = filter.status {
            q = q.filter(campaigns::status.eq(status));
        }
        if let Some(path) = &under {
            q = q.filter(scope::units_under(path).contains(campaigns::lead_unit_id));
        }
        if let Some(day) = filter.active_on {
            q = q
                .filter(campaigns::starts_on.le(day))
                .filter(campaigns::ends_on.ge(day));
        }
        if let Some(text) = &filter.q {
            q = q.filter(
                db::lower(campaigns::name)
                    .like(db::contains_pattern(text))
                    .escape('\\'),
            );
        }
        q
    };
    let order = Order::new(format!("{:?}", filter.sort));
    let order = match filter.sort {
        CampaignSort::StartsOnDesc => order
            .desc(campaigns::starts_on, |r: &CampaignRow| r.starts_on)
            .desc(campaigns::id, |r| r.id),
        CampaignSort::StartsOn => order
            .asc(campaigns::starts_on, |r: &CampaignRow| r.starts_on)
            .asc(campaigns::id, |r| r.id),
        CampaignSort::Name => order
            .asc(campaigns::name, |r: &CampaignRow| r.name.clone())
            .asc(campaigns::id, |r| r.id),
        CampaignSort::UpdatedAtDesc => order
            .desc(campaigns::updated_at, |r: &CampaignRow| r.updated_at)
            .desc(campaigns::id, |r| r.id),
    };
    paginate(conn, query, &order, paging)
}
