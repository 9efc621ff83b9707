//! Directive rows, their views (with the roll-up of their tasks), their writes (each with
//! its event) and their split into tasks.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::policy::{self, Denial};
use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, Resource};
use crate::campaigns;
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{campaigns as campaign_table, directives, units};
use crate::db::{self, DbConnection};
use crate::directives::forms::{
    DirectiveChange, DirectiveDraft, DirectiveFilter, DirectiveSort, SplitDraft, Targets,
};
use crate::directives::rules::{Priority, MAX_SPLIT_UNITS};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, Change, Entity};
use crate::ids::{CampaignId, DirectiveId, MeetingId, UnitId, UserId};
use crate::names::Names;
use crate::tasks::model::{self as tasks, Split, TaskRow};
use crate::tasks::rollup::{self, TaskCounts};
use crate::units::model::{actionable, UnitRow};
use crate::units::UnitKind;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = directives, treat_none_as_default_value = false)]
pub struct DirectiveRow {
    pub id: DirectiveId,
    pub campaign_id: CampaignId,
    pub meeting_id: Option<MeetingId>,
    pub unit_id: UnitId,
    pub title: String,
    pub body: String,
    pub issued_by: UserId,
    pub priority: Priority,
    pub default_due_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// A directive as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Directive {
    #[schema(value_type = String, format = Uuid)]
    pub id: DirectiveId,
    #[schema(value_type = String, format = Uuid)]
    pub campaign_id: CampaignId,
    pub campaign_name: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub meeting_id: Option<MeetingId>,
    /// The issuer's unit: its office is the issuer's side of every task.
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    pub unit_name: String,
    pub title: String,
    pub body: String,
    /// Who issued it (a leader, an office or an admin).
    #[schema(value_type = String, format = Uuid)]
    pub issued_by: UserId,
    pub issued_by_name: String,
    pub priority: Priority,
    pub default_due_at: Option<DateTime<Utc>>,
    /// The weight-averaged progress (0–100) of its tasks that are not cancelled.
    pub progress: f64,
    /// Its tasks by status.
    pub task_counts: TaskCounts,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
}

/// The views of `rows`: names and task roll-ups loaded together.
pub fn views(
    conn: &mut DbConnection,
    rows: Vec<DirectiveRow>,
    now: NaiveDateTime,
) -> AppResult<Vec<Directive>> {
    let names = Names::load(
        conn,
        rows.iter().map(|r| r.unit_id),
        rows.iter().map(|r| r.issued_by),
    )?;
    let ids: Vec<DirectiveId> = rows.iter().map(|r| r.id).collect();
    let rollups = rollup::directives(conn, &ids, now)?;
    let mut campaign_ids: Vec<CampaignId> = rows.iter().map(|r| r.campaign_id).collect();
    campaign_ids.sort();
    campaign_ids.dedup();
    let campaign_names: HashMap<CampaignId, String> = if campaign_ids.is_empty() {
        HashMap::new()
    } else {
        campaign_table::table
            .filter(crate::db::in_list(campaign_table::id, campaign_ids))
            .select((campaign_table::id, campaign_table::name))
            .load::<(CampaignId, String)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let rollup = rollups.get(&row.id).cloned().unwrap_or_default();
            Directive {
                campaign_name: campaign_names
                    .get(&row.campaign_id)
                    .cloned()
                    .unwrap_or_default(),
                unit_name: names.unit(row.unit_id),
                issued_by_name: names.user(row.issued_by),
                progress: rollup.progress,
                task_counts: rollup.counts,
                id: row.id,
                campaign_id: row.campaign_id,
                meeting_id: row.meeting_id,
                unit_id: row.unit_id,
                title: row.title,
                body: row.body,
                issued_by: row.issued_by,
                priority: row.priority,
                default_due_at: row.default_due_at.map(|t| t.and_utc()),
                created_at: row.created_at.and_utc(),
                updated_at: row.updated_at.and_utc(),
                version: row.version,
            }
        })
        .collect())
}

pub fn view(
    conn: &mut DbConnection,
    row: DirectiveRow,
    now: NaiveDateTime,
) -> AppResult<Directive> {
    views(conn, vec![row], now)?
        .pop()
        .ok_or_else(|| AppError::internal("a directive without its view"))
}

/// A directive with its issuing unit's path.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: DirectiveRow,
    pub unit_path: String,
    pub unit_kind: UnitKind,
}

impl Placed {
    /// Issued from its unit, for the units below it (below the district, for a
    /// department's).
    pub fn resource(&self) -> Resource<'_> {
        Resource::led_from_reaching(
            &self.unit_path,
            scope::reach_path(&self.unit_path, self.unit_kind),
        )
    }
}

pub fn find(conn: &mut DbConnection, id: DirectiveId) -> AppResult<Placed> {
    let (row, unit_path, unit_kind) = crate::on_backend!(conn, |c| directives::table
        .inner_join(units::table.on(units::id.eq(directives::unit_id)))
        .filter(directives::id.eq(id))
        .select((DirectiveRow::as_select(), units::path, units::kind))
        .get_result::<(DirectiveRow, String, UnitKind)>(c))
    .optional()?
    .ok_or(AppError::NotFound("directive"))?;
    Ok(Placed {
        row,
        unit_path,
        unit_kind,
    })
}

/// May the caller read this directive? Those who see its unit or work below it, and the
/// units it was split to (a department's directive reaches the towns through their tasks).
pub fn readable(conn: &mut DbConnection, actor: &Actor, placed: &Placed) -> AppResult<()> {
    match actor.require_on(Action::ReadWork, &placed.resource(), "directive") {
        Err(AppError::NotFound(what)) => {
            if tasks::sees_any_of_directive(conn, &actor.subject, placed.row.id)? {
                Ok(())
            } else {
                Err(AppError::NotFound(what))
            }
        }
        other => other,
    }
}

/// The campaign's directive with this title, if any (the world loader's idempotence).
pub fn find_by_title(
    conn: &mut DbConnection,
    campaign: CampaignId,
    title: &str,
) -> AppResult<Option<DirectiveRow>> {
    Ok(directives::table
        .filter(directives::campaign_id.eq(campaign))
        .filter(directives::title.eq(title))
        .select(DirectiveRow::as_select())
        .order(directives::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// Issues a directive from the caller's unit, under a campaign it sees that is not closed,
/// at one of the campaign's meetings if it names one.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    draft: &DirectiveDraft,
    now: NaiveDateTime,
) -> AppResult<DirectiveRow> {
    campaigns::model::writable(conn, actor, draft.campaign_id, "campaign_id")?;
    if let Some(meeting) = draft.meeting_id {
        let placed = match crate::meetings::model::find(conn, meeting) {
            Ok(placed) if actor.may(Action::ReadWork, &placed.resource()) => placed,
            Ok(_) | Err(AppError::NotFound(_)) => {
                return Err(AppError::invalid("meeting_id", "no such meeting"))
            }
            Err(other) => return Err(other),
        };
        if placed.row.campaign_id != draft.campaign_id {
            return Err(AppError::invalid(
                "meeting_id",
                "belongs to another campaign",
            ));
        }
    }
    let row = DirectiveRow {
        id: DirectiveId::new(),
        campaign_id: draft.campaign_id,
        meeting_id: draft.meeting_id,
        unit_id: actor.unit_id,
        title: draft.title.clone(),
        body: draft.body.clone(),
        issued_by: actor.id,
        priority: draft.priority,
        default_due_at: draft.default_due_at,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(directives::table)
        .values(&row)
        .execute(conn)?;
    events::record(
        conn,
        now,
        Change::created(Entity::Directive, row.id, actor.id, &row),
    )?;
    Ok(row)
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &DirectiveRow,
    change: &DirectiveChange,
    now: NaiveDateTime,
) -> AppResult<DirectiveRow> {
    crate::work::ensure_open(conn, current.campaign_id)?;
    let mut next = current.clone();
    if let Some(title) = &change.title {
        next.title = title.clone();
    }
    if let Some(body) = &change.body {
        next.body = body.clone();
    }
    if let Some(priority) = change.priority {
        next.priority = priority;
    }
    if let Some(due) = change.default_due_at {
        next.default_due_at = due;
    }
    if next == *current {
        return Ok(next);
    }
    next.updated_at = now;
    next.version += 1;
    let updated = diesel::update(
        directives::table
            .filter(directives::id.eq(current.id))
            .filter(directives::version.eq(current.version)),
    )
    .set((
        directives::title.eq(&next.title),
        directives::body.eq(&next.body),
        directives::priority.eq(next.priority),
        directives::default_due_at.eq(next.default_due_at),
        directives::updated_at.eq(next.updated_at),
        directives::version.eq(next.version),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("directive"));
    }
    events::record(
        conn,
        now,
        Change::new(Entity::Directive, current.id, actor.id, "updated").diff(current, &next),
    )?;
    Ok(next)
}

/// The units a split names, each with the field that names it, checked: each exists, is
/// seen by the caller (else "no such unit") and is one it may assign work to.
fn targets(
    conn: &mut DbConnection,
    actor: &Actor,
    targets: &Targets,
) -> AppResult<Vec<(String, UnitRow)>> {
    let units: Vec<(String, UnitRow)> = match targets {
        Targets::Units(ids) => {
            let found: Vec<UnitRow> = units::table
                .filter(crate::db::in_list(units::id, ids.clone()))
                .select(UnitRow::as_select())
                .load(conn)?;
            let mut units = Vec::new();
            let mut errors = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let field = format!("unit_ids[{i}]");
                match found.iter().find(|u| u.id == *id) {
                    Some(unit) => units.push((field, unit.clone())),
                    None => errors.push(FieldError::new(field, "no such unit")),
                }
            }
            if !errors.is_empty() {
                return Err(AppError::Validation(errors));
            }
            units
        }
        Targets::Selector(selector) => {
            let under = actionable(
                conn,
                actor,
                selector.under,
                "selector.under",
                Action::IssueDirective,
            )?;
            let units: Vec<UnitRow> = units::table
                .filter(scope::UnitScope::subtrees(std::slice::from_ref(
                    &under.path,
                )))
                .filter(units::id.ne(under.id))
                .filter(units::kind.eq(selector.kind))
                .order(units::code)
                .select(UnitRow::as_select())
                .load(conn)?;
            if units.is_empty() {
                return Err(AppError::invalid(
                    "selector",
                    format!("there is no {} under {}", selector.kind, under.name),
                ));
            }
            if units.len() > MAX_SPLIT_UNITS {
                return Err(AppError::invalid(
                    "selector",
                    format!("matches more than {MAX_SPLIT_UNITS} units"),
                ));
            }
            units
                .into_iter()
                .map(|u| ("selector".to_string(), u))
                .collect()
        }
    };
    let errors: Vec<FieldError> = units
        .iter()
        .filter_map(|(field, unit)| {
            let resource = Resource::of_unit(&unit.path);
            match policy::authorize(&actor.subject, Action::IssueDirective, &resource) {
                Ok(()) => None,
                Err(Denial::Hidden) => Some(FieldError::new(field.clone(), "no such unit")),
                Err(_) => Some(FieldError::new(
                    field.clone(),
                    format!("{} is outside the units you may assign work to", unit.name),
                )),
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(units)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Splits the directive into one task per unit, all or none.
pub fn split(
    conn: &mut DbConnection,
    actor: &Actor,
    directive: &DirectiveRow,
    draft: &SplitDraft,
    now: NaiveDateTime,
) -> AppResult<Vec<TaskRow>> {
    crate::work::ensure_open(conn, directive.campaign_id)?;
    let units = targets(conn, actor, &draft.targets)?;
    let due_at = match draft.due_at.or(directive.default_due_at) {
        Some(due) if due > now => due,
        Some(_) => return Err(AppError::invalid("due_at", "must be in the future")),
        None => {
            return Err(AppError::invalid(
                "due_at",
                "is required: the directive has no default_due_at",
            ))
        }
    };
    let split = Split {
        directive_id: directive.id,
        campaign_id: directive.campaign_id,
        priority: directive.priority,
        title: draft.title.as_deref().unwrap_or(&directive.title),
        due_at,
        assignee_id: draft.assignee_id,
        weight: draft.weight,
    };
    let named: Vec<(String, &UnitRow)> = units.iter().map(|(f, u)| (f.clone(), u)).collect();
    tasks::create_many(conn, actor, &split, &named, now)
}

/// The directives the caller may see ([`readable`]).
pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &DirectiveFilter,
    paging: &Paging,
) -> AppResult<Listed<DirectiveRow>> {
    let query = || {
        let mut q = directives::table
            .select(DirectiveRow::as_select())
            .into_boxed();
        if let (Some(visible), Some(with_tasks)) = (
            scope::visible_units(subject),
            tasks::directives_of_visible_tasks(subject),
        ) {
            q = q.filter(
                visible
                    .contains(directives::unit_id)
                    .or(crate::db::in_subquery(
                        directives::unit_id,
                        scope::reaching_units(subject),
                    ))
                    .or(crate::db::in_subquery(directives::id, with_tasks)),
            );
        }
        if let Some(campaign) = filter.campaign_id {
            q = q.filter(directives::campaign_id.eq(campaign));
        }
        if let Some(meeting) = filter.meeting_id {
            q = q.filter(directives::meeting_id.eq(meeting));
        }
        if let Some(priority) = filter.priority {
            q = q.filter(directives::priority.eq(priority));
        }
        if let Some(text) = &filter.q {
            q = q.filter(
                db::lower(directives::title)
                    .like(db::contains_pattern(text))
                    .escape('\\'),
            );
        }
        q
    };
    use diesel::sql_types::Integer;
    let rank = diesel::dsl::case_when(
        directives::priority.eq(Priority::Urgent),
        Priority::Urgent.rank().into_sql::<Integer>(),
    )
    .when(
        directives::priority.eq(Priority::High),
        Priority::High.rank().into_sql::<Integer>(),
    )
    .otherwise(Priority::Normal.rank().into_sql::<Integer>());
    let order = Order::new(format!("{:?}", filter.sort));
    let order = match filter.sort {
        DirectiveSort::CreatedAtDesc => order
            .desc(directives::created_at, |r: &DirectiveRow| r.created_at)
            .desc(directives::id, |r| r.id),
        DirectiveSort::CreatedAt => order
            .asc(directives::created_at, |r: &DirectiveRow| r.created_at)
            .asc(directives::id, |r| r.id),
        DirectiveSort::PriorityDesc => order
            .desc(rank, |r: &DirectiveRow| r.priority.rank())
            .desc(directives::created_at, |r| r.created_at)
            .desc(directives::id, |r| r.id),
    };
    paginate(conn, query, &order, paging)
}

/// The directives a meeting issued, oldest first (for `GET /meetings/{id}`).
pub fn of_meeting(conn: &mut DbConnection, meeting: MeetingId) -> AppResult<Vec<DirectiveRow>> {
    Ok(directives::table
        .filter(directives::meeting_id.eq(meeting))
        .order((directives::created_at.asc(), directives::id.asc()))
        .select(DirectiveRow::as_select())
        .load(conn)?)
}
