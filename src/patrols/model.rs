//! Patrol rows and their views (distance, duration, coverage, visits, reports), and their
//! writes: start, track batches that merge with what came before, visits, the end. Every
//! write appends its event in the caller's transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, OwnerRole, Resource};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{
    patrol_items, patrol_points, patrol_visit_attachments, patrol_visits, patrols, sites, units,
};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, Change, Entity};
use crate::ids::{
    AttachmentId, CampaignId, PatrolId, PatrolVisitId, RectificationId, SiteId, UnitId, UserId,
};
use crate::names::Names;
use crate::patrols::forms::{CheckedPoint, PatrolDraft, PatrolFilter, VisitDraft};
use crate::patrols::rules::{self, Fix, PatrolStatus};
use crate::units::UnitKind;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = patrols, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct PatrolRow {
    pub id: PatrolId,
    pub grid_id: UnitId,
    pub inspector_id: UserId,
    pub campaign_id: Option<CampaignId>,
    pub note: String,
    pub status: PatrolStatus,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub distance_m: f64,
    pub point_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = patrol_visits)]
pub struct VisitRow {
    pub id: PatrolVisitId,
    pub patrol_id: PatrolId,
    pub site_id: SiteId,
    pub at: NaiveDateTime,
    pub note: String,
    /// JSON array of attachment ids.
    pub attachment_ids: String,
    pub created_at: NaiveDateTime,
}

/// A site visited on a patrol.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Visit {
    #[schema(value_type = String, format = Uuid)]
    pub id: PatrolVisitId,
    #[schema(value_type = String, format = Uuid)]
    pub site_id: SiteId,
    pub site_name: String,
    pub at: DateTime<Utc>,
    pub note: String,
    #[schema(value_type = Vec<String>)]
    pub attachment_ids: Vec<AttachmentId>,
}

/// A patrol as the API shows it: its record, and what its track, visits and reports add
/// up to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Patrol {
    #[schema(value_type = String, format = Uuid)]
    pub id: PatrolId,
    #[schema(value_type = String, format = Uuid)]
    pub grid_id: UnitId,
    pub grid_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub inspector_id: UserId,
    pub inspector_name: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    pub note: String,
    #[schema(value_type = PatrolStatus)]
    pub status: PatrolStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The track's length in time order, GPS jumps left out.
    pub distance_m: f64,
    /// From the start to the end (or to now while active).
    pub duration_s: i64,
    pub point_count: i32,
    /// Sites of the grid visited over sites of the grid (0–1); null for a grid without
    /// sites.
    pub coverage: Option<f64>,
    pub sites_visited: i64,
    pub sites_total: i64,
    pub visits: Vec<Visit>,
    /// Rectification items reported on this patrol.
    #[schema(value_type = Vec<String>)]
    pub item_ids: Vec<RectificationId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn attachment_list(text: &str, visit: PatrolVisitId) -> AppResult<Vec<AttachmentId>> {
    serde_json::from_str(text)
        .map_err(|e| AppError::internal(format!("visit {visit} has bad attachments: {e}")))
}

/// The views of `rows` at `now`, with their visits, reports and the grids' site counts.
pub fn views(
    conn: &mut DbConnection,
    rows: Vec<PatrolRow>,
    now: NaiveDateTime,
) -> AppResult<Vec<Patrol>> {
    let names = Names::load(
        conn,
        rows.iter().map(|r| r.grid_id),
        rows.iter().map(|r| r.inspector_id),
    )?;
    let ids: Vec<PatrolId> = rows.iter().map(|r| r.id).collect();
    let mut grids: Vec<UnitId> = rows.iter().map(|r| r.grid_id).collect();
    grids.sort();
    grids.dedup();
    let (visits, items, site_counts) = if ids.is_empty() {
        (Vec::new(), Vec::new(), HashMap::new())
    } else {
        let visits: Vec<(VisitRow, String, UnitId)> = patrol_visits::table
            .inner_join(sites::table.on(sites::id.eq(patrol_visits::site_id)))
            .filter(crate::db::in_list(patrol_visits::patrol_id, &ids))
            .order((patrol_visits::at.asc(), patrol_visits::id.asc()))
            .select((VisitRow::as_select(), sites::name, sites::grid_id))
            .load(conn)?;
        let items: Vec<(PatrolId, RectificationId)> = patrol_items::table
            .filter(crate::db::in_list(patrol_items::patrol_id, &ids))
            .order(patrol_items::rectification_id.asc())
            .select((patrol_items::patrol_id, patrol_items::rectification_id))
            .load(conn)?;
        let counts: HashMap<UnitId, i64> = sites::table
            .filter(crate::db::in_list(sites::grid_id, &grids))
            .group_by(sites::grid_id)
            .select((sites::grid_id, diesel::dsl::count_star()))
            .load::<(UnitId, i64)>(conn)?
            .into_iter()
            .collect();
        (visits, items, counts)
    };
    rows.into_iter()
        .map(|row| {
            let mine: Vec<Visit> = visits
                .iter()
                .filter(|(v, _, _)| v.patrol_id == row.id)
                .map(|(v, site_name, _)| {
                    Ok(Visit {
                        id: v.id,
                        site_id: v.site_id,
                        site_name: site_name.clone(),
                        at: utc(v.at),
                        note: v.note.clone(),
                        attachment_ids: attachment_list(&v.attachment_ids, v.id)?,
                    })
                })
                .collect::<AppResult<_>>()?;
            // Coverage counts the grid's own sites once each, however often visited.
            let mut visited: Vec<SiteId> = visits
                .iter()
                .filter(|(v, _, grid)| v.patrol_id == row.id && *grid == row.grid_id)
                .map(|(v, _, _)| v.site_id)
                .collect();
            visited.sort();
            visited.dedup();
            let total = site_counts.get(&row.grid_id).copied().unwrap_or(0);
            let in_grid = i64::try_from(visited.len()).unwrap_or(i64::MAX);
            let end = row.ended_at.unwrap_or(now);
            Ok(Patrol {
                grid_name: names.unit(row.grid_id),
                inspector_name: names.user(row.inspector_id),
                duration_s: (end - row.started_at).num_seconds().max(0),
                coverage: rules::coverage(in_grid, total),
                sites_visited: in_grid,
                sites_total: total,
                visits: mine,
                item_ids: items
                    .iter()
                    .filter(|(p, _)| *p == row.id)
                    .map(|(_, i)| *i)
                    .collect(),
                id: row.id,
                grid_id: row.grid_id,
                inspector_id: row.inspector_id,
                campaign_id: row.campaign_id,
                note: row.note,
                status: row.status,
                started_at: utc(row.started_at),
                ended_at: row.ended_at.map(utc),
                distance_m: (row.distance_m * 10.0).round() / 10.0,
                point_count: row.point_count,
                created_at: utc(row.created_at),
                updated_at: utc(row.updated_at),
                version: row.version,
            })
        })
        .collect()
}

pub fn view(conn: &mut DbConnection, row: PatrolRow, now: NaiveDateTime) -> AppResult<Patrol> {
    views(conn, vec![row], now)?
        .pop()
        .ok_or_else(|| AppError::internal("a patrol without its view"))
}

/// A patrol with its grid's path: the grid's chain reads it; its inspector writes it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: PatrolRow,
    pub grid_path: String,
}

impl Placed {
    pub fn resource(&self) -> Resource<'_> {
        Resource::of_unit(&self.grid_path).owned(OwnerRole::Inspector, Some(self.row.inspector_id))
    }
}

pub fn find(conn: &mut DbConnection, id: PatrolId) -> AppResult<Placed> {
    let (row, grid_path) = patrols::table
        .inner_join(units::table.on(units::id.eq(patrols::grid_id)))
        .filter(patrols::id.eq(id))
        .select((PatrolRow::as_select(), units::path))
        .get_result::<(PatrolRow, String)>(conn)
        .optional()?
        .ok_or(AppError::NotFound("patrol"))?;
    Ok(Placed { row, grid_path })
}

/// This inspector's patrol with this note, if any (the world loader's idempotence: its
/// times are relative to the day it loads).
pub fn find_noted(
    conn: &mut DbConnection,
    inspector: UserId,
    note: &str,
) -> AppResult<Option<PatrolId>> {
    Ok(patrols::table
        .filter(patrols::inspector_id.eq(inspector))
        .filter(patrols::note.eq(note))
        .order(patrols::id)
        .select(patrols::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// The track in time order, for the map.
pub fn track(conn: &mut DbConnection, id: PatrolId) -> AppResult<Vec<(f64, f64)>> {
    Ok(patrol_points::table
        .filter(patrol_points::patrol_id.eq(id))
        .order(patrol_points::t.asc())
        .select((patrol_points::lon, patrol_points::lat))
        .load(conn)?)
}

/// Starts a patrol of one of the inspector's grids. One patrol at a time: another active
/// one is 409 `patrol_active`.
pub fn start(
    conn: &mut DbConnection,
    actor: &Actor,
    draft: &PatrolDraft,
    now: NaiveDateTime,
) -> AppResult<PatrolRow> {
    let grid = crate::units::model::referenced(conn, draft.grid_id, "grid_id")?;
    if grid.kind != UnitKind::Grid {
        return Err(AppError::invalid(
            "grid_id",
            format!("is a {}, not a grid", grid.kind),
        ));
    }
    let own = Resource::of_unit(&grid.path).owned(OwnerRole::Inspector, Some(actor.id));
    if !actor.may(Action::WritePatrol, &own) {
        return Err(AppError::invalid("grid_id", "is not one of your grids"));
    }
    if let Some(campaign) = draft.campaign_id {
        crate::campaigns::model::writable(conn, actor, campaign, "campaign_id")?;
    }
    let started_at = draft.started_at.unwrap_or(now);
    if started_at > now + rules::CLOCK_SKEW {
        return Err(AppError::invalid("started_at", "is in the future"));
    }
    let active: i64 = patrols::table
        .filter(patrols::inspector_id.eq(actor.id))
        .filter(patrols::status.eq(PatrolStatus::Active))
        .count()
        .get_result(conn)?;
    if active > 0 {
        return Err(AppError::conflict(
            crate::error::Code::PatrolActive,
            "you have a patrol going: end it before starting another",
        ));
    }
    let row = PatrolRow {
        id: draft.id,
        grid_id: grid.id,
        inspector_id: actor.id,
        campaign_id: draft.campaign_id,
        note: draft.note.clone(),
        status: PatrolStatus::Active,
        started_at,
        ended_at: None,
        distance_m: 0.0,
        point_count: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(patrols::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| match db::unique_violation(&e) {
            Some(_) => AppError::conflict(
                crate::error::Code::AlreadyExists,
                "a patrol with this id exists",
            ),
            None => e.into(),
        })?;
    events::record(
        conn,
        now,
        Change::created(Entity::Patrol, row.id, actor.id, &row).entered(row.status),
    )?;
    Ok(row)
}

fn ensure_active(row: &PatrolRow) -> AppResult<()> {
    match row.status {
        PatrolStatus::Active => Ok(()),
        PatrolStatus::Ended => Err(AppError::conflict(
            crate::error::Code::PatrolEnded,
            "the patrol has ended: nothing more is added to it",
        )),
    }
}

/// Writes `next` over `current` if nobody changed it since, with its event.
fn save(
    conn: &mut DbConnection,
    current: &PatrolRow,
    next: &PatrolRow,
    change: Change,
    now: NaiveDateTime,
) -> AppResult<()> {
    let updated = diesel::update(
        patrols::table
            .filter(patrols::id.eq(current.id))
            .filter(patrols::version.eq(current.version)),
    )
    .set(next)
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("patrol"));
    }
    events::record(conn, now, change.diff(current, next))
}

/// Adds a batch of fixes. A fix at a moment the track already has is the same fix sent
/// again (a retry) and is merged, not doubled; fixes may arrive in any order. The distance
/// is measured again over the whole track in time order.
pub fn append_track(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &PatrolRow,
    points: &[CheckedPoint],
    now: NaiveDateTime,
) -> AppResult<PatrolRow> {
    ensure_active(current)?;
    let errors: Vec<FieldError> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            rules::within(p.t, current.started_at, current.ended_at, now)
                .err()
                .map(|m| FieldError::new(format!("points[{i}].t"), m))
        })
        .collect();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut added = 0;
    for p in points {
        added += crate::on_backend!(conn, |c| diesel::insert_into(patrol_points::table)
            .values((
                patrol_points::patrol_id.eq(current.id),
                patrol_points::t.eq(p.t),
                patrol_points::lat.eq(p.lat),
                patrol_points::lon.eq(p.lon),
                patrol_points::accuracy_m.eq(p.accuracy_m),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    if added == 0 {
        // All of it was here already: a retried batch changes nothing.
        return Ok(current.clone());
    }
    let fixes: Vec<Fix> = patrol_points::table
        .filter(patrol_points::patrol_id.eq(current.id))
        .select((patrol_points::t, patrol_points::lon, patrol_points::lat))
        .load::<(NaiveDateTime, f64, f64)>(conn)?
        .into_iter()
        .map(|(t, lon, lat)| Fix { t, lon, lat })
        .collect();
    let next = PatrolRow {
        distance_m: rules::track_length(&fixes),
        point_count: i32::try_from(fixes.len()).unwrap_or(i32::MAX),
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let change =
        Change::new(Entity::Patrol, current.id, actor.id, "track").note(&format!("{added} points"));
    save(conn, current, &next, change, now)?;
    Ok(next)
}

/// Records a visit to a site the inspector sees; photos must be the inspector's own.
pub fn add_visit(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &PatrolRow,
    draft: &VisitDraft,
    now: NaiveDateTime,
) -> AppResult<(PatrolRow, VisitRow)> {
    ensure_active(current)?;
    crate::sites::model::referenced(conn, actor, draft.site_id, "site_id")?;
    let at = draft.at.unwrap_or(now);
    rules::within(at, current.started_at, current.ended_at, now)
        .map_err(|m| AppError::invalid("at", m))?;
    crate::attachments::model::own_attachments(
        conn,
        actor,
        &draft.attachment_ids,
        "attachment_ids",
    )?;
    let visit = VisitRow {
        id: draft.id,
        patrol_id: current.id,
        site_id: draft.site_id,
        at,
        note: draft.note.clone(),
        attachment_ids: serde_json::to_string(&draft.attachment_ids)
            .map_err(|e| AppError::internal(format!("attachments: {e}")))?,
        created_at: now,
    };
    diesel::insert_into(patrol_visits::table)
        .values(&visit)
        .execute(conn)
        .map_err(|e| match db::unique_violation(&e) {
            Some(_) => AppError::conflict(
                crate::error::Code::AlreadyExists,
                "a visit with this id exists",
            ),
            None => e.into(),
        })?;
    // Linked as rows too: whoever may read the visit may read its photos
    // (`attachments::model::readable_through_records`).
    let links: Vec<_> = draft
        .attachment_ids
        .iter()
        .map(|id| {
            (
                patrol_visit_attachments::visit_id.eq(visit.id),
                patrol_visit_attachments::attachment_id.eq(*id),
            )
        })
        .collect();
    if !links.is_empty() {
        crate::on_backend!(conn, |c| diesel::insert_into(
            patrol_visit_attachments::table
        )
        .values(&links)
        .on_conflict_do_nothing()
        .execute(c))?;
    }
    let next = PatrolRow {
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let change = Change::new(Entity::Patrol, current.id, actor.id, "visit")
        .with_changes(serde_json::json!({"site_id": visit.site_id, "at": utc(at)}));
    save(conn, current, &next, change, now)?;
    Ok((next, visit))
}

/// Ends the patrol.
pub fn end(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &PatrolRow,
    ended_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> AppResult<PatrolRow> {
    if current.status != PatrolStatus::Active {
        return Err(AppError::InvalidTransition {
            what: "patrol",
            action: "end".into(),
            status: current.status.to_string(),
            allowed: Vec::new(),
        });
    }
    let ended_at = ended_at.unwrap_or(now);
    rules::within(ended_at, current.started_at, None, now)
        .map_err(|m| AppError::invalid("ended_at", m))?;
    // A track point later than the end would be outside the patrol.
    let last_point: Option<NaiveDateTime> = patrol_points::table
        .filter(patrol_points::patrol_id.eq(current.id))
        .select(diesel::dsl::max(patrol_points::t))
        .get_result(conn)?;
    let ended_at = ended_at
        .max(current.started_at)
        .max(last_point.unwrap_or(ended_at));
    let next = PatrolRow {
        status: PatrolStatus::Ended,
        ended_at: Some(ended_at),
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let change = Change::new(Entity::Patrol, current.id, actor.id, "end")
        .status(current.status, next.status);
    save(conn, current, &next, change, now)?;
    Ok(next)
}

/// Links a report to the patrol it was made on: the reporter's own active patrol.
pub fn link_item(
    conn: &mut DbConnection,
    actor: &Actor,
    patrol: PatrolId,
    item: RectificationId,
) -> AppResult<()> {
    let placed = match find(conn, patrol) {
        Ok(placed) if actor.may(Action::WritePatrol, &placed.resource()) => placed,
        Ok(_) | Err(AppError::NotFound(_)) => {
            return Err(AppError::invalid("patrol_id", "no such patrol of yours"))
        }
        Err(e) => return Err(e),
    };
    if placed.row.status != PatrolStatus::Active {
        return Err(AppError::invalid("patrol_id", "the patrol has ended"));
    }
    diesel::insert_into(patrol_items::table)
        .values((
            patrol_items::patrol_id.eq(patrol),
            patrol_items::rectification_id.eq(item),
        ))
        .execute(conn)?;
    Ok(())
}

/// The patrols the caller sees: those of the grids it sees.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &PatrolFilter,
    paging: &Paging,
) -> AppResult<Listed<PatrolRow>> {
    let subject: &Subject = &actor.subject;
    let query = || {
        let mut q = patrols::table.select(PatrolRow::as_select()).into_boxed();
        if let Some(visible) = scope::visible_units(subject) {
            q = q.filter(visible.contains(patrols::grid_id));
        }
        if let Some(grid) = filter.grid_id {
            q = q.filter(patrols::grid_id.eq(grid));
        }
        if let Some(status) = filter.status {
            q = q.filter(patrols::status.eq(status));
        }
        if filter.mine {
            q = q.filter(patrols::inspector_id.eq(actor.id));
        }
        if let Some(after) = filter.started_after {
            q = q.filter(patrols::started_at.ge(after));
        }
        if let Some(before) = filter.started_before {
            q = q.filter(patrols::started_at.lt(before));
        }
        q
    };
    let order = Order::new("started_at_desc")
        .desc(patrols::started_at, |r: &PatrolRow| r.started_at)
        .desc(patrols::id, |r| r.id);
    paginate(conn, query, &order, paging)
}

/// The patrols among `ids` the subject sees, as the list would show them (the sync feed).
pub fn visible_among(
    conn: &mut DbConnection,
    subject: &Subject,
    ids: &[PatrolId],
) -> AppResult<Vec<PatrolRow>> {
    let mut q = patrols::table
        .filter(crate::db::in_list(patrols::id, ids))
        .select(PatrolRow::as_select())
        .into_boxed();
    if let Some(visible) = scope::visible_units(subject) {
        q = q.filter(visible.contains(patrols::grid_id));
    }
    Ok(q.load(conn)?)
}
