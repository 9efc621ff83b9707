//! Activity rows, their views and their writes (each with its event).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::activities::forms::{ActivityDraft, ActivityFilter};
use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, Resource};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{activities, units};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::events::{self, Change, Entity};
use crate::ids::{ActivityId, CampaignId, UnitId, UserId};
use crate::names::Names;
use crate::units::model::actionable;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = activities)]
pub struct ActivityRow {
    pub id: ActivityId,
    pub campaign_id: CampaignId,
    pub unit_id: UnitId,
    pub title: String,
    pub date: NaiveDate,
    pub place: String,
    pub participants: i32,
    pub volunteer_hours: f64,
    pub beneficiaries: i32,
    pub description: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

impl ActivityRow {
    pub fn draft(&self) -> ActivityDraft {
        ActivityDraft {
            title: self.title.clone(),
            date: self.date,
            place: self.place.clone(),
            participants: self.participants,
            volunteer_hours: self.volunteer_hours,
            beneficiaries: self.beneficiaries,
            description: self.description.clone(),
        }
    }
}

/// An activity as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    #[schema(value_type = String, format = Uuid)]
    pub id: ActivityId,
    #[schema(value_type = String, format = Uuid)]
    pub campaign_id: CampaignId,
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    pub unit_name: String,
    pub title: String,
    pub date: NaiveDate,
    pub place: String,
    pub participants: i32,
    pub volunteer_hours: f64,
    pub beneficiaries: i32,
    pub description: String,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
}

pub fn views(conn: &mut DbConnection, rows: Vec<ActivityRow>) -> AppResult<Vec<Activity>> {
    let names = Names::load(conn, rows.iter().map(|r| r.unit_id), [])?;
    Ok(rows
        .into_iter()
        .map(|row| Activity {
            unit_name: names.unit(row.unit_id),
            id: row.id,
            campaign_id: row.campaign_id,
            unit_id: row.unit_id,
            title: row.title,
            date: row.date,
            place: row.place,
            participants: row.participants,
            volunteer_hours: row.volunteer_hours,
            beneficiaries: row.beneficiaries,
            description: row.description,
            created_by: row.created_by,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
        .collect())
}

pub fn view(conn: &mut DbConnection, row: ActivityRow) -> AppResult<Activity> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::internal("an activity without its view"))
}

/// An activity with its unit's path.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: ActivityRow,
    pub unit_path: String,
}

impl Placed {
    pub fn resource(&self) -> Resource<'_> {
        Resource::of_unit(&self.unit_path)
    }
}

pub fn find(conn: &mut DbConnection, id: ActivityId) -> AppResult<Placed> {
    let (row, unit_path) = activities::table
        .inner_join(units::table.on(units::id.eq(activities::unit_id)))
        .filter(activities::id.eq(id))
        .select((ActivityRow::as_select(), units::path))
        .get_result::<(ActivityRow, String)>(conn)
        .optional()?
        .ok_or(AppError::NotFound("activity"))?;
    Ok(Placed { row, unit_path })
}

/// The campaign's activity with this title, if any (the world loader's idempotence).
pub fn find_by_title(
    conn: &mut DbConnection,
    campaign: CampaignId,
    title: &str,
) -> AppResult<Option<ActivityId>> {
    Ok(activities::table
        .filter(activities::campaign_id.eq(campaign))
        .filter(activities::title.eq(title))
        .select(activities::id)
        .order(activities::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// Records an activity of a unit the caller may record for, under a campaign it sees
/// that is not closed.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    (campaign_id, unit_id): (CampaignId, UnitId),
    draft: &ActivityDraft,
    now: NaiveDateTime,
) -> AppResult<ActivityRow> {
    crate::campaigns::model::writable(conn, actor, campaign_id, "campaign_id")?;
    actionable(conn, actor, unit_id, "unit_id", Action::RecordActivity)?;
    let row = ActivityRow {
        id: ActivityId::new(),
        campaign_id,
        unit_id,
        title: draft.title.clone(),
        date: draft.date,
        place: draft.place.clone(),
        participants: draft.participants,
        volunteer_hours: draft.volunteer_hours,
        beneficiaries: draft.beneficiaries,
        description: draft.description.clone(),
        created_by: actor.id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(activities::table)
        .values(&row)
        .execute(conn)?;
    events::record(
        conn,
        now,
        Change::created(Entity::Activity, row.id, actor.id, &row),
    )?;
    Ok(row)
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &ActivityRow,
    draft: &ActivityDraft,
    now: NaiveDateTime,
) -> AppResult<ActivityRow> {
    crate::work::ensure_open(conn, current.campaign_id)?;
    if current.draft() == *draft {
        return Ok(current.clone());
    }
    let next = ActivityRow {
        title: draft.title.clone(),
        date: draft.date,
        place: draft.place.clone(),
        participants: draft.participants,
        volunteer_hours: draft.volunteer_hours,
        beneficiaries: draft.beneficiaries,
        description: draft.description.clone(),
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let updated = diesel::update(
        activities::table
            .filter(activities::id.eq(current.id))
            .filter(activities::version.eq(current.version)),
    )
    .set((
        activities::title.eq(&next.title),
        activities::date.eq(next.date),
        activities::place.eq(&next.place),
        activities::participants.eq(next.participants),
        activities::volunteer_hours.eq(next.volunteer_hours),
        activities::beneficiaries.eq(next.beneficiaries),
        activities::description.eq(&next.description),
        activities::updated_at.eq(next.updated_at),
        activities::version.eq(next.version),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("activity"));
    }
    events::record(
        conn,
        now,
        Change::new(Entity::Activity, current.id, actor.id, "updated").diff(current, &next),
    )?;
    Ok(next)
}

/// The activities of the units the caller sees.
pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &ActivityFilter,
    paging: &Paging,
) -> AppResult<Listed<ActivityRow>> {
    let under = match filter.unit_id {
        Some(unit) => match scope::path_of(conn, unit)? {
            Some(path) => Some(path),
            None => return Ok(Listed::empty()),
        },
        None => None,
    };
    let query = || {
        let mut q = activities::table
            .select(ActivityRow::as_select())
            .into_boxed();
        if let Some(visible) = scope::visible_units(subject) {
            q = q.filter(visible.contains(activities::unit_id));
        }
        if let Some(campaign) = filter.campaign_id {
            q = q.filter(activities::campaign_id.eq(campaign));
        }
        if let Some(path) = &under {
            q = q.filter(scope::units_under(path).contains(activities::unit_id));
        }
        if let Some(from) = filter.date_from {
            q = q.filter(activities::date.ge(from));
        }
        if let Some(to) = filter.date_to {
            q = q.filter(activities::date.le(to));
        }
        if let Some(text) = &filter.q {
            q = q.filter(
                db::lower(activities::title)
                    .like(db::contains_pattern(text))
                    .escape('\\'),
            );
        }
        q
    };
    let order = Order::new("date_desc")
        .desc(activities::date, |r: &ActivityRow| r.date)
        .desc(activities::id, |r| r.id);
    paginate(conn, query, &order, paging)
}
