//! Task rows and their views (with the fields derived from the clock on every read), the
//! split that creates them, their transitions and progress reports. Every write appends
//! its event and sends its notifications in the caller's transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, OwnerRole, Resource};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{directives, tasks, units, users};
use crate::db::{self, DbConnection};
use crate::deadlines::extension::{self, ExtensionColumns};
use crate::deadlines::{Extension, HasExtension};
use crate::error::{AppError, AppResult};
use crate::events::{self, Change, Entity};
use crate::ids::{CampaignId, DirectiveId, TaskId, UnitId, UserId};
use crate::names::Names;
use crate::notifications::{self, Message, NotificationKind};
use crate::tasks::filters;
use crate::tasks::forms::{ProgressReport, TaskFilter, TaskSort, TransitionDraft};
use crate::tasks::rules::{
    self, ProgressRefusal, TaskAction, TaskState, TaskStatus, Timing, Warning, WarningRules,
};
use crate::units::model::{actionable, UnitRow};
use crate::work::Priority;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = tasks, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct TaskRow {
    pub id: TaskId,
    pub directive_id: DirectiveId,
    pub campaign_id: CampaignId,
    pub unit_id: UnitId,
    pub assignee_id: Option<UserId>,
    pub title: String,
    pub priority: Priority,
    pub due_at: NaiveDateTime,
    pub original_due_at: NaiveDateTime,
    pub status: TaskStatus,
    pub progress: i32,
    pub rework_count: i32,
    pub weight: i32,
    pub extension_due_at: Option<NaiveDateTime>,
    pub extension_note: Option<String>,
    pub extension_requested_by: Option<UserId>,
    pub extension_requested_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub submitted_by: Option<UserId>,
    pub accepted_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

impl TaskRow {
    fn state(&self) -> TaskState {
        TaskState {
            status: self.status,
            extension_pending: self.extension_due_at.is_some(),
        }
    }

    fn timing(&self) -> Timing {
        Timing {
            phase: self.status.phase(),
            progress: Some(self.progress),
            created_at: self.created_at,
            due_at: self.due_at,
        }
    }

    fn clear_extension(&mut self) {
        extension::clear(self);
    }
}

impl HasExtension for TaskRow {
    fn extension_columns(&mut self) -> ExtensionColumns<'_> {
        ExtensionColumns {
            due_at: &mut self.extension_due_at,
            note: &mut self.extension_note,
            requested_by: &mut self.extension_requested_by,
            requested_at: &mut self.extension_requested_at,
        }
    }

    fn pending_extension(&self) -> Option<Extension> {
        extension::pending(
            self.extension_due_at,
            self.extension_note.as_deref(),
            self.extension_requested_by,
            self.extension_requested_at,
        )
    }
}

/// A task as the API shows it: its record, the names beside its ids, and what the clock
/// says about it now (`overdue`, `warning`, `closed_on_time`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Task {
    #[schema(value_type = String, format = Uuid)]
    pub id: TaskId,
    #[schema(value_type = String, format = Uuid)]
    pub directive_id: DirectiveId,
    pub directive_title: String,
    #[schema(value_type = String, format = Uuid)]
    pub campaign_id: CampaignId,
    /// The responsible unit.
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    pub unit_name: String,
    /// The responsible person, if one is named.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub title: String,
    /// The directive's priority.
    pub priority: Priority,
    /// The deadline now (moved by an approved extension).
    pub due_at: DateTime<Utc>,
    /// The deadline first set: on-time closure is judged on it.
    pub original_due_at: DateTime<Utc>,
    pub status: TaskStatus,
    /// 0–100.
    pub progress: i32,
    /// Times the submission was sent back.
    pub rework_count: i32,
    /// How much it counts in its directive's progress.
    pub weight: i32,
    /// A request for more time waiting for a decision.
    pub extension: Option<Extension>,
    pub started_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub submitted_by: Option<UserId>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
    /// Past its deadline and neither accepted nor cancelled.
    pub overdue: bool,
    /// Three-colour supervision: red overdue, yellow behind pace or little time left,
    /// blue due soon.
    pub warning: Warning,
    /// Accepted by its original deadline; null while open or when cancelled.
    pub closed_on_time: Option<bool>,
    /// The actions its status allows (whether the caller may take them is the caller's
    /// role's business).
    pub allowed_actions: Vec<TaskAction>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// The views of `rows` at `now`: unit, assignee and directive names loaded together.
pub fn views(
    conn: &mut DbConnection,
    rows: Vec<TaskRow>,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Vec<Task>> {
    let names = Names::load(
        conn,
        rows.iter().map(|r| r.unit_id),
        rows.iter().filter_map(|r| r.assignee_id),
    )?;
    let mut directive_ids: Vec<DirectiveId> = rows.iter().map(|r| r.directive_id).collect();
    directive_ids.sort();
    directive_ids.dedup();
    let titles: HashMap<DirectiveId, String> = if directive_ids.is_empty() {
        HashMap::new()
    } else {
        directives::table
            .filter(crate::db::in_list(directives::id, directive_ids))
            .select((directives::id, directives::title))
            .load::<(DirectiveId, String)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let timing = row.timing();
            let extension = row.pending_extension();
            Task {
                directive_title: titles.get(&row.directive_id).cloned().unwrap_or_default(),
                unit_name: names.unit(row.unit_id),
                assignee_name: names.user_opt(row.assignee_id),
                overdue: rules::overdue(row.status, row.due_at, now),
                warning: crate::deadlines::warning(&timing, now, warnings),
                closed_on_time: rules::closed_on_time(
                    row.status,
                    row.accepted_at,
                    row.original_due_at,
                ),
                allowed_actions: rules::allowed(row.state()),
                extension,
                id: row.id,
                directive_id: row.directive_id,
                campaign_id: row.campaign_id,
                unit_id: row.unit_id,
                assignee_id: row.assignee_id,
                title: row.title,
                priority: row.priority,
                due_at: utc(row.due_at),
                original_due_at: utc(row.original_due_at),
                status: row.status,
                progress: row.progress,
                rework_count: row.rework_count,
                weight: row.weight,
                started_at: row.started_at.map(utc),
                submitted_at: row.submitted_at.map(utc),
                submitted_by: row.submitted_by,
                accepted_at: row.accepted_at.map(utc),
                cancelled_at: row.cancelled_at.map(utc),
                created_at: utc(row.created_at),
                updated_at: utc(row.updated_at),
                version: row.version,
            }
        })
        .collect())
}

pub fn view(
    conn: &mut DbConnection,
    row: TaskRow,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Task> {
    views(conn, vec![row], now, warnings)?
        .pop()
        .ok_or_else(|| AppError::internal("a task without its view"))
}

diesel::alias!(units as issuer_units: IssuerUnits);

/// A task with what the policy needs: its unit's path, the path of the unit that issued
/// its directive, and who issued it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: TaskRow,
    pub unit_path: String,
    pub issuer_path: String,
    pub issued_by: UserId,
}

impl Placed {
    /// Belongs to its unit; issued from its directive's unit; owned by its assignee, its
    /// submitter and its issuer.
    pub fn resource(&self) -> Resource<'_> {
        Resource::of_unit(&self.unit_path)
            .issued_from(&self.issuer_path)
            .owned(OwnerRole::Submitter, self.row.submitted_by)
            .owned(OwnerRole::Assignee, self.row.assignee_id)
            .owned(OwnerRole::Issuer, Some(self.issued_by))
    }
}

pub fn find(conn: &mut DbConnection, id: TaskId) -> AppResult<Placed> {
    let (row, unit_path, issuer_path, issued_by) = crate::on_backend!(conn, |c| tasks::table
        .inner_join(units::table.on(units::id.eq(tasks::unit_id)))
        .inner_join(directives::table.on(directives::id.eq(tasks::directive_id)))
        .inner_join(issuer_units.on(issuer_units.field(units::id).eq(directives::unit_id)),)
        .filter(tasks::id.eq(id))
        .select((
            TaskRow::as_select(),
            units::path,
            issuer_units.field(units::path),
            directives::issued_by,
        ))
        .get_result::<(TaskRow, String, String, UserId)>(c))
    .optional()?
    .ok_or(AppError::NotFound("task"))?;
    Ok(Placed {
        row,
        unit_path,
        issuer_path,
        issued_by,
    })
}

/// The directive's task for this unit, if any (the world loader's idempotence).
pub fn find_for_unit(
    conn: &mut DbConnection,
    directive: DirectiveId,
    unit: UnitId,
) -> AppResult<Option<TaskId>> {
    Ok(tasks::table
        .filter(tasks::directive_id.eq(directive))
        .filter(tasks::unit_id.eq(unit))
        .select(tasks::id)
        .order(tasks::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// What a split creates from: the directive's side of each new task.
#[derive(Debug, Clone)]
pub struct Split<'a> {
    pub directive_id: DirectiveId,
    pub campaign_id: CampaignId,
    pub priority: Priority,
    pub title: &'a str,
    pub due_at: NaiveDateTime,
    pub assignee_id: Option<UserId>,
    pub weight: i32,
}

/// An active user who belongs to `unit` or a unit below it, for `field`.
fn member_of(conn: &mut DbConnection, user: UserId, unit: &UnitRow, field: &str) -> AppResult<()> {
    let found: Option<(bool, String)> = users::table
        .inner_join(units::table.on(units::id.eq(users::unit_id)))
        .filter(users::id.eq(user))
        .select((users::active, units::path))
        .get_result(conn)
        .optional()?;
    match found {
        None => Err(AppError::invalid(field, "no such user")),
        Some((false, _)) => Err(AppError::invalid(field, "this account is deactivated")),
        Some((true, path)) if !path.starts_with(&unit.path) => Err(AppError::invalid(
            field,
            format!("does not belong to {}", unit.name),
        )),
        Some(_) => Ok(()),
    }
}

/// Refuses a unit that already has an open task of the directive (`field` names it).
fn ensure_no_open_task(
    conn: &mut DbConnection,
    directive: DirectiveId,
    units: &[(String, &UnitRow)],
) -> AppResult<()> {
    let ids: Vec<UnitId> = units.iter().map(|(_, u)| u.id).collect();
    let taken: Vec<UnitId> = tasks::table
        .filter(tasks::directive_id.eq(directive))
        .filter(crate::db::in_list(tasks::unit_id, ids))
        .filter(tasks::status.ne(TaskStatus::Cancelled))
        .select(tasks::unit_id)
        .load(conn)?;
    let errors: Vec<crate::error::FieldError> = units
        .iter()
        .filter(|(_, u)| taken.contains(&u.id))
        .map(|(field, u)| {
            crate::error::FieldError::new(
                field.clone(),
                format!("{} already has an open task of this directive", u.name),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

fn already_assigned(error: diesel::result::Error) -> AppError {
    match db::unique_violation(&error) {
        // Another request split the same directive to the same unit at the same moment.
        Some(_) => AppError::conflict(
            crate::error::Code::AlreadyAssigned,
            "a unit already has an open task of this directive",
        ),
        None => error.into(),
    }
}

/// Creates one task per unit (each `(field, unit)`: the field names the unit in errors),
/// all or none, with their events and "assigned" notifications.
pub fn create_many(
    conn: &mut DbConnection,
    actor: &Actor,
    split: &Split<'_>,
    units: &[(String, &UnitRow)],
    now: NaiveDateTime,
) -> AppResult<Vec<TaskRow>> {
    if let Some(assignee) = split.assignee_id {
        for (_, unit) in units {
            member_of(conn, assignee, unit, "assignee_id")?;
        }
    }
    ensure_no_open_task(conn, split.directive_id, units)?;
    let rows: Vec<TaskRow> = units
        .iter()
        .map(|(_, unit)| TaskRow {
            id: TaskId::new(),
            directive_id: split.directive_id,
            campaign_id: split.campaign_id,
            unit_id: unit.id,
            assignee_id: split.assignee_id,
            title: split.title.to_string(),
            priority: split.priority,
            due_at: split.due_at,
            original_due_at: split.due_at,
            status: TaskStatus::Assigned,
            progress: 0,
            rework_count: 0,
            weight: split.weight,
            extension_due_at: None,
            extension_note: None,
            extension_requested_by: None,
            extension_requested_at: None,
            started_at: None,
            submitted_at: None,
            submitted_by: None,
            accepted_at: None,
            cancelled_at: None,
            created_by: actor.id,
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .collect();
    // A batch insert is built for one backend at a time.
    crate::on_backend!(conn, |c| diesel::insert_into(tasks::table)
        .values(&rows)
        .execute(c))
    .map_err(already_assigned)?;
    for row in &rows {
        events::record(
            conn,
            now,
            Change::created(Entity::Task, row.id, actor.id, row).entered(row.status),
        )?;
        let workers = notifications::workers(conn, row.unit_id, row.assignee_id)?;
        let message = Message {
            kind: NotificationKind::TaskAssigned,
            about: notifications::About::Task(row.id),
            title: &row.title,
            body: format!("新任务，截止 {}", stamp(row.due_at)),
        };
        notifications::send(conn, &workers, &message, now)?;
    }
    Ok(rows)
}

/// A time as notifications show it.
fn stamp(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Writes `next` over `current` if nobody changed it since (`version`), with its event.
fn save(
    conn: &mut DbConnection,
    current: &TaskRow,
    next: &TaskRow,
    change: Change,
    now: NaiveDateTime,
) -> AppResult<()> {
    let updated = diesel::update(
        tasks::table
            .filter(tasks::id.eq(current.id))
            .filter(tasks::version.eq(current.version)),
    )
    .set(next)
    .execute(conn)
    .map_err(already_assigned)?;
    if updated == 0 {
        return Err(db::concurrent_change("task"));
    }
    events::record(conn, now, change.diff(current, next))
}

/// Applies a transition the caller has been authorised for (its `action.needs()`); the
/// workflow ([`rules::next`]) decides whether the task's state allows it.
pub fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    placed: &Placed,
    input: &TransitionDraft,
    now: NaiveDateTime,
) -> AppResult<TaskRow> {
    let current = &placed.row;
    let to = rules::next(current.state(), input.action).map_err(|allowed| {
        AppError::InvalidTransition {
            what: "task",
            action: input.action.to_string(),
            status: current.status.to_string(),
            allowed: allowed.iter().map(ToString::to_string).collect(),
        }
    })?;
    let mut next = TaskRow {
        status: to,
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    // Who hears about it, and what: the unit's side, or the issuer.
    let mut to_issuer: Option<NotificationKind> = None;
    let mut to_workers: Option<NotificationKind> = None;
    match input.action {
        TaskAction::Start => next.started_at = Some(now),
        TaskAction::Submit => {
            next.progress = rules::MAX_PROGRESS;
            next.submitted_at = Some(now);
            next.submitted_by = Some(actor.id);
            to_issuer = Some(NotificationKind::TaskSubmitted);
        }
        TaskAction::Accept => {
            next.accepted_at = Some(now);
            next.clear_extension();
            to_workers = Some(NotificationKind::TaskAccepted);
        }
        TaskAction::Reject => {
            next.rework_count += 1;
            to_workers = Some(NotificationKind::TaskRejected);
        }
        TaskAction::RequestExtension => {
            let (phase, due_at) = (current.status.phase(), current.due_at);
            extension::request(
                &mut next,
                phase,
                due_at,
                input.new_due_at,
                &input.note,
                actor.id,
                now,
            )?;
            to_issuer = Some(NotificationKind::ExtensionRequested);
        }
        TaskAction::ApproveExtension => {
            next.due_at = extension::approve(&mut next, current.due_at);
            to_workers = Some(NotificationKind::ExtensionApproved);
        }
        TaskAction::DenyExtension => {
            next.clear_extension();
            to_workers = Some(NotificationKind::ExtensionDenied);
        }
        TaskAction::Reassign => {
            reassign(conn, actor, placed, input, &mut next)?;
            to_workers = Some(NotificationKind::TaskReassigned);
        }
        TaskAction::Cancel => {
            next.cancelled_at = Some(now);
            next.clear_extension();
            to_workers = Some(NotificationKind::TaskCancelled);
        }
    }
    let change = Change::new(Entity::Task, current.id, actor.id, input.action.as_str())
        .status(current.status, to)
        .note(&input.note);
    save(conn, current, &next, change, now)?;
    let body = |kind: NotificationKind| match kind {
        NotificationKind::ExtensionRequested => {
            format!(
                "申请延期至 {}：{}",
                stamp(
                    next.due_at
                        .max(next.extension_due_at.unwrap_or(next.due_at))
                ),
                input.note
            )
        }
        NotificationKind::ExtensionApproved => {
            format!("延期已批准，新截止时间 {}", stamp(next.due_at))
        }
        _ if input.note.trim().is_empty() => kind.to_string(),
        _ => input.note.clone(),
    };
    if let Some(kind) = to_issuer {
        let message = Message {
            kind,
            about: notifications::About::Task(next.id),
            title: &next.title,
            body: body(kind),
        };
        notifications::send(conn, &[placed.issued_by], &message, now)?;
    }
    if let Some(kind) = to_workers {
        let workers = notifications::workers(conn, next.unit_id, next.assignee_id)?;
        let message = Message {
            kind,
            about: notifications::About::Task(next.id),
            title: &next.title,
            body: body(kind),
        };
        notifications::send(conn, &workers, &message, now)?;
    }
    Ok(next)
}

/// A new unit (which the caller may assign work to, without an open task of the same
/// directive) and/or a new person (an active member of the task's unit). A new unit starts
/// the task over from `assigned`.
fn reassign(
    conn: &mut DbConnection,
    actor: &Actor,
    placed: &Placed,
    input: &TransitionDraft,
    next: &mut TaskRow,
) -> AppResult<()> {
    let current = &placed.row;
    let unit = match input.unit_id.filter(|u| *u != current.unit_id) {
        Some(id) => {
            let unit = actionable(conn, actor, id, "unit_id", Action::IssueDirective)?;
            ensure_no_open_task(conn, current.directive_id, &[("unit_id".into(), &unit)])?;
            next.unit_id = unit.id;
            next.status = rules::status_after_reassign(current.status, true);
            next.started_at = None;
            next.assignee_id = None;
            Some(unit)
        }
        None => None,
    };
    if let Some(assignee) = input.assignee_id {
        let unit = match unit {
            Some(unit) => unit,
            None => crate::units::model::find(conn, current.unit_id)?,
        };
        member_of(conn, assignee, &unit, "assignee_id")?;
        next.assignee_id = Some(assignee);
    }
    Ok(())
}

/// A progress report by the task's unit, while in progress: never lower without a note.
pub fn report_progress(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &TaskRow,
    report: &ProgressReport,
    now: NaiveDateTime,
) -> AppResult<TaskRow> {
    rules::check_progress(
        current.status,
        current.progress,
        report.progress,
        &report.note,
    )
    .map_err(|refusal| match refusal {
        ProgressRefusal::NotInProgress => AppError::conflict(
            crate::error::Code::NotInProgress,
            format!(
                "progress is reported while the task is in progress; it is {}",
                current.status
            ),
        ),
        ProgressRefusal::OutOfRange => AppError::invalid(
            "progress",
            format!("must be from 0 to {}", rules::MAX_PROGRESS),
        ),
        ProgressRefusal::LowerWithoutNote => AppError::invalid(
            "note",
            format!(
                "is required to lower the progress (from {} to {})",
                current.progress, report.progress
            ),
        ),
    })?;
    let next = TaskRow {
        progress: report.progress,
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    let change = Change::new(Entity::Task, current.id, actor.id, "progress").note(&report.note);
    save(conn, current, &next, change, now)?;
    Ok(next)
}

/// The tasks the caller may see (those of the units it sees), filtered and sorted.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &TaskFilter,
    paging: &Paging,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Listed<TaskRow>> {
    let subject: &Subject = &actor.subject;
    let under = match filter.unit_id {
        Some(unit) => match scope::path_of(conn, unit)? {
            Some(path) => Some(path),
            None => return Ok(Listed::empty()),
        },
        None => None,
    };
    let query = || {
        let mut q = tasks::table.select(TaskRow::as_select()).into_boxed();
        if let Some(visible) = scope::visible_units(subject) {
            q = q.filter(visible.contains(tasks::unit_id));
        }
        if let Some(campaign) = filter.campaign_id {
            q = q.filter(tasks::campaign_id.eq(campaign));
        }
        if let Some(directive) = filter.directive_id {
            q = q.filter(tasks::directive_id.eq(directive));
        }
        if let Some(path) = &under {
            q = q.filter(scope::units_under(path).contains(tasks::unit_id));
        }
        if !filter.statuses.is_empty() {
            q = q.filter(crate::db::in_list(tasks::status, filter.statuses.clone()));
        }
        match filter.overdue {
            Some(true) => q = q.filter(filters::overdue(now)),
            Some(false) => q = q.filter(diesel::dsl::not(filters::overdue(now))),
            None => {}
        }
        if let Some(warning) = filter.warning {
            q = q.filter(filters::warning_is(warning, now, warnings));
        }
        if let Some(before) = filter.due_before {
            q = q.filter(tasks::due_at.lt(before));
        }
        if let Some(after) = filter.due_after {
            q = q.filter(tasks::due_at.ge(after));
        }
        if filter.mine {
            q = q.filter(tasks::assignee_id.eq(actor.id));
        }
        if let Some(text) = &filter.q {
            q = q.filter(
                db::lower(tasks::title)
                    .like(db::contains_pattern(text))
                    .escape('\\'),
            );
        }
        q
    };
    paginate(conn, query, &order(filter.sort), paging)
}

/// The order `sort` asks for, ids breaking ties so pages never overlap.
fn order(sort: TaskSort) -> Order<tasks::table, TaskRow> {
    use diesel::sql_types::Integer;
    let rank = diesel::dsl::case_when(
        tasks::priority.eq(Priority::Urgent),
        Priority::Urgent.rank().into_sql::<Integer>(),
    )
    .when(
        tasks::priority.eq(Priority::High),
        Priority::High.rank().into_sql::<Integer>(),
    )
    .otherwise(Priority::Normal.rank().into_sql::<Integer>());
    let order = Order::new(format!("{sort:?}"));
    match sort {
        TaskSort::DueAt => order
            .asc(tasks::due_at, |r: &TaskRow| r.due_at)
            .asc(tasks::id, |r| r.id),
        TaskSort::DueAtDesc => order
            .desc(tasks::due_at, |r: &TaskRow| r.due_at)
            .desc(tasks::id, |r| r.id),
        TaskSort::PriorityDesc => order
            .desc(rank, |r: &TaskRow| r.priority.rank())
            .asc(tasks::due_at, |r| r.due_at)
            .asc(tasks::id, |r| r.id),
        TaskSort::Priority => order
            .asc(rank, |r: &TaskRow| r.priority.rank())
            .asc(tasks::due_at, |r| r.due_at)
            .asc(tasks::id, |r| r.id),
        TaskSort::UpdatedAtDesc => order
            .desc(tasks::updated_at, |r: &TaskRow| r.updated_at)
            .desc(tasks::id, |r| r.id),
        TaskSort::UpdatedAt => order
            .asc(tasks::updated_at, |r: &TaskRow| r.updated_at)
            .asc(tasks::id, |r| r.id),
    }
}

/// Does the caller see any task of this directive (its directive is then visible too)?
pub fn sees_any_of_directive(
    conn: &mut DbConnection,
    subject: &Subject,
    directive: DirectiveId,
) -> AppResult<bool> {
    let mut q = tasks::table
        .filter(tasks::directive_id.eq(directive))
        .select(tasks::id)
        .into_boxed();
    if let Some(visible) = scope::visible_units(subject) {
        q = q.filter(visible.contains(tasks::unit_id));
    }
    Ok(!q.limit(1).load::<TaskId>(conn)?.is_empty())
}

/// Does the caller see any task of this campaign (the campaign is then visible too)?
pub fn sees_any_of_campaign(
    conn: &mut DbConnection,
    subject: &Subject,
    campaign: CampaignId,
) -> AppResult<bool> {
    let mut q = tasks::table
        .filter(tasks::campaign_id.eq(campaign))
        .select(tasks::id)
        .into_boxed();
    if let Some(visible) = scope::visible_units(subject) {
        q = q.filter(visible.contains(tasks::unit_id));
    }
    Ok(!q.limit(1).load::<TaskId>(conn)?.is_empty())
}

/// Tasks of the units the caller sees.
type VisibleTasks = diesel::dsl::Filter<tasks::table, scope::Within<tasks::unit_id>>;

/// The ids of the directives whose tasks the caller sees, as a subquery (a directive is
/// visible to the units it was split to). `None` when the caller sees every unit.
pub fn directives_of_visible_tasks(
    subject: &Subject,
) -> Option<diesel::dsl::Select<VisibleTasks, tasks::directive_id>> {
    scope::visible_units(subject).map(|visible| {
        tasks::table
            .filter(visible.contains(tasks::unit_id))
            .select(tasks::directive_id)
    })
}

/// The ids of the campaigns whose tasks the caller sees, as a subquery.
pub fn campaigns_of_visible_tasks(
    subject: &Subject,
) -> Option<diesel::dsl::Select<VisibleTasks, tasks::campaign_id>> {
    scope::visible_units(subject).map(|visible| {
        tasks::table
            .filter(visible.contains(tasks::unit_id))
            .select(tasks::campaign_id)
    })
}

/// The tasks among `ids` the subject sees, as the list would show them (the sync feed).
pub fn visible_among(
    conn: &mut DbConnection,
    subject: &Subject,
    ids: &[TaskId],
) -> AppResult<Vec<TaskRow>> {
    let mut q = tasks::table
        .filter(crate::db::in_list(tasks::id, ids))
        .select(TaskRow::as_select())
        .into_boxed();
    if let Some(visible) = scope::visible_units(subject) {
        q = q.filter(visible.contains(tasks::unit_id));
    }
    Ok(q.load(conn)?)
}
