//! Meeting rows, their attending units, their views and their writes (each with its event).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, Resource};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{meeting_units, meetings, units};
use crate::db::{self, DbConnection};
use crate::directives::model::Directive;
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, Change, Entity};
use crate::ids::{CampaignId, MeetingId, UnitId, UserId};
use crate::meetings::forms::{MeetingDraft, MeetingFilter};
use crate::names::Names;
use crate::units::model::UnitRef;
use crate::units::UnitKind;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: MeetingId,
    pub campaign_id: CampaignId,
    pub unit_id: UnitId,
    pub title: String,
    pub held_at: NaiveDateTime,
    pub place: String,
    pub chaired_by: String,
    pub summary: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// A meeting as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Meeting {
    #[schema(value_type = String, format = Uuid)]
    pub id: MeetingId,
    #[schema(value_type = String, format = Uuid)]
    pub campaign_id: CampaignId,
    /// The unit that convened it (the recording user's unit).
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    pub unit_name: String,
    pub title: String,
    pub held_at: DateTime<Utc>,
    pub place: String,
    pub chaired_by: String,
    /// The units that attended.
    #[schema(value_type = Vec<String>)]
    pub unit_ids: Vec<UnitId>,
    /// The attending units, with their names.
    pub units: Vec<UnitRef>,
    pub summary: String,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
    /// The directives it issued (in `GET /meetings/{id}` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directives: Option<Vec<Directive>>,
}

/// A meeting with its attending units and their paths.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: MeetingRow,
    pub convening_path: String,
    pub convening_kind: UnitKind,
    pub attending: Vec<(UnitId, String)>,
}

impl Placed {
    /// Led from its convening unit for the units below, and seen by the units attending.
    pub fn resource(&self) -> Resource<'_> {
        let reach = scope::reach_path(&self.convening_path, self.convening_kind);
        let mut resource = Resource::led_from_reaching(&self.convening_path, reach);
        resource
            .units
            .extend(self.attending.iter().map(|(_, p)| p.as_str()));
        resource
    }

    /// The meeting as a form would describe it (to apply a change to).
    pub fn draft(&self) -> MeetingDraft {
        MeetingDraft {
            title: self.row.title.clone(),
            held_at: self.row.held_at,
            place: self.row.place.clone(),
            chaired_by: self.row.chaired_by.clone(),
            unit_ids: self.attending.iter().map(|(id, _)| *id).collect(),
            summary: self.row.summary.clone(),
        }
    }
}

/// What an event records of a meeting.
#[derive(Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    row: &'a MeetingRow,
    unit_ids: &'a [UnitId],
}

/// The views of `rows`, with their attending units and names.
pub fn views(conn: &mut DbConnection, rows: Vec<MeetingRow>) -> AppResult<Vec<Meeting>> {
    let ids: Vec<MeetingId> = rows.iter().map(|r| r.id).collect();
    let attending: Vec<(MeetingId, UnitId)> = if ids.is_empty() {
        Vec::new()
    } else {
        meeting_units::table
            .filter(crate::db::in_list(meeting_units::meeting_id, ids))
            .order((meeting_units::meeting_id, meeting_units::unit_id))
            .select((meeting_units::meeting_id, meeting_units::unit_id))
            .load(conn)?
    };
    let names = Names::load(
        conn,
        rows.iter()
            .map(|r| r.unit_id)
            .chain(attending.iter().map(|(_, u)| *u)),
        [],
    )?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let unit_ids: Vec<UnitId> = attending
                .iter()
                .filter(|(m, _)| *m == row.id)
                .map(|(_, u)| *u)
                .collect();
            Meeting {
                units: unit_ids
                    .iter()
                    .map(|id| UnitRef {
                        id: *id,
                        name: names.unit(*id),
                    })
                    .collect(),
                unit_ids,
                unit_name: names.unit(row.unit_id),
                id: row.id,
                campaign_id: row.campaign_id,
                unit_id: row.unit_id,
                title: row.title,
                held_at: row.held_at.and_utc(),
                place: row.place,
                chaired_by: row.chaired_by,
                summary: row.summary,
                created_by: row.created_by,
                created_at: row.created_at.and_utc(),
                updated_at: row.updated_at.and_utc(),
                version: row.version,
                directives: None,
            }
        })
        .collect())
}

pub fn view(conn: &mut DbConnection, row: MeetingRow) -> AppResult<Meeting> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::internal("a meeting without its view"))
}

pub fn find(conn: &mut DbConnection, id: MeetingId) -> AppResult<Placed> {
    let (row, convening_path, convening_kind) = meetings::table
        .inner_join(units::table.on(units::id.eq(meetings::unit_id)))
        .filter(meetings::id.eq(id))
        .select((MeetingRow::as_select(), units::path, units::kind))
        .get_result::<(MeetingRow, String, UnitKind)>(conn)
        .optional()?
        .ok_or(AppError::NotFound("meeting"))?;
    let attending = meeting_units::table
        .inner_join(units::table.on(units::id.eq(meeting_units::unit_id)))
        .filter(meeting_units::meeting_id.eq(id))
        .order(meeting_units::unit_id)
        .select((units::id, units::path))
        .load(conn)?;
    Ok(Placed {
        row,
        convening_path,
        convening_kind,
        attending,
    })
}

/// The units a meeting lists: each must exist and be one the caller sees (a 422 naming
/// `unit_ids[i]` otherwise).
fn check_units(conn: &mut DbConnection, actor: &Actor, ids: &[UnitId]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let found: Vec<(UnitId, String)> = units::table
        .filter(crate::db::in_list(units::id, ids.to_vec()))
        .select((units::id, units::path))
        .load(conn)?;
    let errors: Vec<FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| {
            !found
                .iter()
                .any(|(f, path)| f == *id && actor.may(Action::ReadOrg, &Resource::unit(path)))
        })
        .map(|(i, _)| FieldError::new(format!("unit_ids[{i}]"), "no such unit"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

fn set_units(conn: &mut DbConnection, id: MeetingId, ids: &[UnitId]) -> AppResult<()> {
    diesel::delete(meeting_units::table.filter(meeting_units::meeting_id.eq(id))).execute(conn)?;
    for unit in ids {
        diesel::insert_into(meeting_units::table)
            .values((
                meeting_units::meeting_id.eq(id),
                meeting_units::unit_id.eq(*unit),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The campaign's meeting with this title, if any (the world loader's idempotence).
pub fn find_by_title(
    conn: &mut DbConnection,
    campaign: CampaignId,
    title: &str,
) -> AppResult<Option<MeetingId>> {
    Ok(meetings::table
        .filter(meetings::campaign_id.eq(campaign))
        .filter(meetings::title.eq(title))
        .select(meetings::id)
        .order(meetings::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// Records a meeting convened by the caller's unit, under a campaign it sees that is not
/// closed.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    campaign_id: CampaignId,
    draft: &MeetingDraft,
    now: NaiveDateTime,
) -> AppResult<MeetingRow> {
    crate::campaigns::model::writable(conn, actor, campaign_id, "campaign_id")?;
    check_units(conn, actor, &draft.unit_ids)?;
    let row = MeetingRow {
        id: MeetingId::new(),
        campaign_id,
        unit_id: actor.unit_id,
        title: draft.title.clone(),
        held_at: draft.held_at,
        place: draft.place.clone(),
        chaired_by: draft.chaired_by.clone(),
        summary: draft.summary.clone(),
        created_by: actor.id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(meetings::table)
        .values(&row)
        .execute(conn)?;
    set_units(conn, row.id, &draft.unit_ids)?;
    let record = Record {
        row: &row,
        unit_ids: &draft.unit_ids,
    };
    events::record(
        conn,
        now,
        Change::created(Entity::Meeting, row.id, actor.id, &record),
    )?;
    Ok(row)
}

/// Changes a meeting to `draft` (a checked, whole meeting).
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    placed: &Placed,
    draft: &MeetingDraft,
    now: NaiveDateTime,
) -> AppResult<MeetingRow> {
    crate::work::ensure_open(conn, placed.row.campaign_id)?;
    let current = &placed.row;
    let before_units: Vec<UnitId> = placed.attending.iter().map(|(id, _)| *id).collect();
    if draft.unit_ids != before_units {
        check_units(conn, actor, &draft.unit_ids)?;
    }
    let mut next = MeetingRow {
        title: draft.title.clone(),
        held_at: draft.held_at,
        place: draft.place.clone(),
        chaired_by: draft.chaired_by.clone(),
        summary: draft.summary.clone(),
        ..current.clone()
    };
    if next == *current && draft.unit_ids == before_units {
        return Ok(next);
    }
    next.updated_at = now;
    next.version += 1;
    let updated = diesel::update(
        meetings::table
            .filter(meetings::id.eq(current.id))
            .filter(meetings::version.eq(current.version)),
    )
    .set((
        meetings::title.eq(&next.title),
        meetings::held_at.eq(next.held_at),
        meetings::place.eq(&next.place),
        meetings::chaired_by.eq(&next.chaired_by),
        meetings::summary.eq(&next.summary),
        meetings::updated_at.eq(next.updated_at),
        meetings::version.eq(next.version),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("meeting"));
    }
    if draft.unit_ids != before_units {
        set_units(conn, current.id, &draft.unit_ids)?;
    }
    let before = Record {
        row: current,
        unit_ids: &before_units,
    };
    let after = Record {
        row: &next,
        unit_ids: &draft.unit_ids,
    };
    events::record(
        conn,
        now,
        Change::new(Entity::Meeting, current.id, actor.id, "updated").diff(&before, &after),
    )?;
    Ok(next)
}

/// The meetings the caller may see: convened by a unit it sees or above its own, or
/// attended by a unit it sees.
pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &MeetingFilter,
    paging: &Paging,
) -> AppResult<Listed<MeetingRow>> {
    let query = || {
        let mut q = meetings::table.select(MeetingRow::as_select()).into_boxed();
        if let (Some(visible), Some(attended)) =
            (scope::visible_units(subject), scope::visible_units(subject))
        {
            q = q.filter(
                visible
                    .contains(meetings::unit_id)
                    .or(crate::db::in_subquery(
                        meetings::unit_id,
                        scope::reaching_units(subject),
                    ))
                    .or(crate::db::in_subquery(
                        meetings::id,
                        meeting_units::table
                            .filter(attended.contains(meeting_units::unit_id))
                            .select(meeting_units::meeting_id),
                    )),
            );
        }
        if let Some(campaign) = filter.campaign_id {
            q = q.filter(meetings::campaign_id.eq(campaign));
        }
        if let Some(unit) = filter.unit_id {
            q = q.filter(
                meetings::unit_id.eq(unit).or(crate::db::in_subquery(
                    meetings::id,
                    meeting_units::table
                        .filter(meeting_units::unit_id.eq(unit))
                        .select(meeting_units::meeting_id),
                )),
            );
        }
        if let Some(text) = &filter.q {
            q = q.filter(
                db::lower(meetings::title)
                    .like(db::contains_pattern(text))
                    .escape('\\'),
            );
        }
        q
    };
    let order = Order::new("held_at_desc")
        .desc(meetings::held_at, |r: &MeetingRow| r.held_at)
        .desc(meetings::id, |r| r.id);
    paginate(conn, query, &order, paging)
}
