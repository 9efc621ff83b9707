//! Notifications: each user's inbox. Transitions write theirs in their own transaction
//! (a task assigned to my unit, rejected, accepted, extension decided, reassigned…); the
//! deadline sweep ([`sweep`]) writes "due soon" and "overdue" ones, each at most once per
//! task, deadline and user (a unique key), however many replicas sweep at once.

pub mod routes;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Role;
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{notifications, tasks, users};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::ids::{NotificationId, TaskId, UnitId, UserId};
use crate::tasks::rules::{TaskStatus, WarningRules};

crate::text_enum! {
    /// What a notification is about.
    pub enum NotificationKind {
        /// A task was assigned to your unit (or to you).
        TaskAssigned = "task_assigned",
        /// A task you issued was submitted for checking.
        TaskSubmitted = "task_submitted",
        TaskAccepted = "task_accepted",
        /// Your submission was sent back (退办), with the reason.
        TaskRejected = "task_rejected",
        /// A unit asks for more time on a task you issued.
        ExtensionRequested = "extension_requested",
        ExtensionApproved = "extension_approved",
        ExtensionDenied = "extension_denied",
        /// A task moved to another unit or person.
        TaskReassigned = "task_reassigned",
        TaskCancelled = "task_cancelled",
        /// A task of yours is due within the warning window.
        TaskDueSoon = "task_due_soon",
        /// A task of yours is past its deadline.
        TaskOverdue = "task_overdue",
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications, treat_none_as_default_value = false)]
pub struct NotificationRow {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub task_id: Option<TaskId>,
    pub title: String,
    pub body: String,
    pub dedup_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// A notification as its owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    #[schema(value_type = String, format = Uuid)]
    pub id: NotificationId,
    pub kind: NotificationKind,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub task_id: Option<TaskId>,
    /// The task's title, e.g. 修订防汛应急预案.
    pub title: String,
    /// What happened, e.g. 已退回：照片不清晰.
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub unread: bool,
}

impl From<NotificationRow> for Notification {
    fn from(row: NotificationRow) -> Self {
        Notification {
            unread: row.read_at.is_none(),
            id: row.id,
            kind: row.kind,
            task_id: row.task_id,
            title: row.title,
            body: row.body,
            created_at: row.created_at.and_utc(),
            read_at: row.read_at.map(|t| t.and_utc()),
        }
    }
}

/// One message to some users about a task.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub kind: NotificationKind,
    pub task_id: TaskId,
    pub title: &'a str,
    pub body: String,
}

/// Writes `message` to each of `users` (once each), at `now`.
pub fn send(
    conn: &mut DbConnection,
    users: &[UserId],
    message: &Message<'_>,
    now: NaiveDateTime,
) -> AppResult<()> {
    let mut seen: Vec<UserId> = Vec::new();
    let rows: Vec<NotificationRow> = users
        .iter()
        .filter(|u| {
            let new = !seen.contains(u);
            seen.push(**u);
            new
        })
        .map(|user| NotificationRow {
            id: NotificationId::new(),
            user_id: *user,
            kind: message.kind,
            task_id: Some(message.task_id),
            title: message.title.to_string(),
            body: message.body.clone(),
            dedup_key: None,
            created_at: now,
            read_at: None,
        })
        .collect();
    if !rows.is_empty() {
        // A batch insert is built for one backend at a time.
        crate::on_backend!(conn, |c| diesel::insert_into(notifications::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// Who hears about a task's work: its assignee if it has one, otherwise the active
/// officers and office users of its unit.
pub fn workers(
    conn: &mut DbConnection,
    unit: UnitId,
    assignee: Option<UserId>,
) -> AppResult<Vec<UserId>> {
    if let Some(assignee) = assignee {
        return Ok(vec![assignee]);
    }
    Ok(users::table
        .filter(users::unit_id.eq(unit))
        .filter(users::active.eq(true))
        .filter(crate::db::in_list(
            users::role,
            [Role::Officer, Role::Office],
        ))
        .select(users::id)
        .order(users::id)
        .load(conn)?)
}

#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
}

/// The caller's notifications, unread first, newest first within each.
pub fn list(
    conn: &mut DbConnection,
    user: UserId,
    unread_only: bool,
    paging: &Paging,
) -> AppResult<Listed<Notification>> {
    let query = || {
        let mut q = notifications::table
            .filter(notifications::user_id.eq(user))
            .select(NotificationRow::as_select())
            .into_boxed();
        if unread_only {
            q = q.filter(notifications::read_at.is_null());
        }
        q
    };
    // Unread first, then newest first.
    let order = Order::new("unread_first")
        .asc(
            notifications::read_at.is_not_null(),
            |r: &NotificationRow| r.read_at.is_some(),
        )
        .desc(notifications::created_at, |r| r.created_at)
        .desc(notifications::id, |r| r.id);
    let listed = paginate(conn, query, &order, paging)?;
    Ok(listed.map(Notification::from))
}

/// Marks one of the caller's notifications read (again: no change). Another user's
/// notification is not found.
pub fn mark_read(
    conn: &mut DbConnection,
    user: UserId,
    id: NotificationId,
    now: NaiveDateTime,
) -> AppResult<Notification> {
    let row: NotificationRow = notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::user_id.eq(user))
        .select(NotificationRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("notification"))?;
    if row.read_at.is_some() {
        return Ok(row.into());
    }
    diesel::update(notifications::table.find(id))
        .set(notifications::read_at.eq(now))
        .execute(conn)?;
    Ok(NotificationRow {
        read_at: Some(now),
        ..row
    }
    .into())
}

/// Marks all the caller's notifications read; returns how many were unread.
pub fn mark_all_read(
    conn: &mut DbConnection,
    user: UserId,
    now: NaiveDateTime,
) -> AppResult<usize> {
    Ok(diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(now))
    .execute(conn)?)
}

/// What one sweep wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub due_soon: usize,
    pub overdue: usize,
}

/// Writes "due soon" and "overdue" notifications for the open tasks whose deadline came
/// within the warning window, or passed, since `since` (every open task when `None`). Each
/// is keyed by task, deadline and user, so a repeated or concurrent sweep writes nothing
/// twice, and a deadline moved by an extension warns again.
pub fn sweep(
    conn: &mut DbConnection,
    since: Option<NaiveDateTime>,
    now: NaiveDateTime,
    rules: &WarningRules,
) -> AppResult<Swept> {
    type Due = (TaskId, UnitId, Option<UserId>, String, NaiveDateTime);
    let select = (
        tasks::id,
        tasks::unit_id,
        tasks::assignee_id,
        tasks::title,
        tasks::due_at,
    );
    let window = rules.due_soon;
    // Due soon: the deadline entered the window (due_at - window <= now) and has not passed.
    let mut soon = tasks::table
        .filter(crate::db::in_list(tasks::status, TaskStatus::WORKING))
        .filter(tasks::due_at.ge(now))
        .filter(tasks::due_at.le(now + window))
        .select(select)
        .into_boxed();
    let mut late = tasks::table
        .filter(crate::db::in_list(tasks::status, TaskStatus::OPEN))
        .filter(tasks::due_at.lt(now))
        .select(select)
        .into_boxed();
    if let Some(since) = since {
        soon = soon.filter(tasks::due_at.gt(since + window - TimeDelta::minutes(1)));
        late = late.filter(tasks::due_at.ge(since - TimeDelta::minutes(1)));
    }
    let soon: Vec<Due> = soon.load(conn)?;
    let late: Vec<Due> = late.load(conn)?;
    let mut swept = Swept::default();
    for (tasks, kind, label) in [
        (soon, NotificationKind::TaskDueSoon, "due_soon"),
        (late, NotificationKind::TaskOverdue, "overdue"),
    ] {
        for (task, unit, assignee, title, due_at) in tasks {
            let body = match kind {
                NotificationKind::TaskOverdue => format!(
                    "已逾期：截止时间 {}",
                    due_at
                        .and_utc()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                _ => format!(
                    "即将到期：截止时间 {}",
                    due_at
                        .and_utc()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            };
            let key = format!("{label}:{task}:{}", due_at.and_utc().timestamp());
            let rows: Vec<NotificationRow> = workers(conn, unit, assignee)?
                .into_iter()
                .map(|user| NotificationRow {
                    id: NotificationId::new(),
                    user_id: user,
                    kind,
                    task_id: Some(task),
                    title: title.clone(),
                    body: body.clone(),
                    dedup_key: Some(key.clone()),
                    created_at: now,
                    read_at: None,
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            let written = crate::on_backend!(conn, |c| diesel::insert_into(notifications::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c))?;
            match kind {
                NotificationKind::TaskOverdue => swept.overdue += written,
                _ => swept.due_soon += written,
            }
        }
    }
    Ok(swept)
}
