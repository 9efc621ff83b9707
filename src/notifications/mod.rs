//! Notifications: each user's inbox, about the work with a deadline they do or issued — a
//! task or a rectification item ([`About`]). Transitions write theirs in their own
//! transaction (assigned to my unit, submitted, accepted, sent back, extension asked for
//! and decided…); the deadline sweep hands [`remind`] the records that are due soon or
//! overdue (each domain finds its own: `tasks::reminders`, `rectifications::reminders`),
//! and each gets one reminder per deadline — recorded in `reminders` in the same
//! transaction as the notifications, so a repeated or concurrent sweep (another replica)
//! writes nothing twice, and a deadline moved by an extension warns again.

pub mod routes;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Role;
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{notifications, reminders, units, users};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::ids::{NotificationId, RectificationId, TaskId, UnitId, UserId};

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
        /// A rectification item was sent to your unit.
        ItemAssigned = "item_assigned",
        /// A fix of an item you reported waits for your check.
        ItemSubmitted = "item_submitted",
        ItemAccepted = "item_accepted",
        /// A fix was sent back, with the reason.
        ItemRejected = "item_rejected",
        /// An item of your unit's is due within the warning window.
        ItemDueSoon = "item_due_soon",
        /// An item of your unit's is past its deadline.
        ItemOverdue = "item_overdue",
    }
}

/// The record a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    Task(TaskId),
    Item(RectificationId),
}

impl About {
    fn columns(self) -> (Option<TaskId>, Option<RectificationId>) {
        match self {
            About::Task(id) => (Some(id), None),
            About::Item(id) => (None, Some(id)),
        }
    }

    /// `task:<id>` or `item:<id>`: how the reminders table names the record.
    fn key(self) -> String {
        match self {
            About::Task(id) => format!("task:{id}"),
            About::Item(id) => format!("item:{id}"),
        }
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
    pub rectification_id: Option<RectificationId>,
}

/// A notification as its owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    #[schema(value_type = String, format = Uuid)]
    pub id: NotificationId,
    pub kind: NotificationKind,
    /// The task it is about, if a task.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub task_id: Option<TaskId>,
    /// The rectification item it is about, if an item.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub rectification_id: Option<RectificationId>,
    /// The task's title or the item's number and problem, e.g. 修订防汛应急预案.
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
            rectification_id: row.rectification_id,
            title: row.title,
            body: row.body,
            created_at: row.created_at.and_utc(),
            read_at: row.read_at.map(|t| t.and_utc()),
        }
    }
}

/// One message to some users about a record.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub kind: NotificationKind,
    pub about: About,
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
        .map(|user| {
            let (task_id, rectification_id) = message.about.columns();
            NotificationRow {
                id: NotificationId::new(),
                user_id: *user,
                kind: message.kind,
                task_id,
                rectification_id,
                title: message.title.to_string(),
                body: message.body.clone(),
                dedup_key: None,
                created_at: now,
                read_at: None,
            }
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

/// Who hears about a record's work: its assignee if it has one, otherwise the active
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

/// The office users who decide for work of the unit at `path`: those of the nearest unit
/// above it that has any (an item's extension request goes to them).
pub fn deciders_above(conn: &mut DbConnection, path: &str) -> AppResult<Vec<UserId>> {
    let above = crate::auth::scope::ancestors_of_path(path);
    if above.is_empty() {
        return Ok(Vec::new());
    }
    let offices: Vec<(UserId, String)> = users::table
        .inner_join(units::table.on(units::id.eq(users::unit_id)))
        .filter(crate::db::in_list(users::unit_id, above.clone()))
        .filter(users::active.eq(true))
        .filter(users::role.eq(Role::Office))
        .select((users::id, units::path))
        .load(conn)?;
    // The deepest path is the nearest unit above.
    let nearest = offices.iter().map(|(_, p)| p.len()).max();
    Ok(offices
        .into_iter()
        .filter(|(_, p)| Some(p.len()) == nearest)
        .map(|(user, _)| user)
        .collect())
}

/// A record whose deadline calls for a reminder: due within the warning window, or past.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub about: About,
    pub unit_id: UnitId,
    pub assignee_id: Option<UserId>,
    pub title: String,
    pub due_at: NaiveDateTime,
    pub overdue: bool,
}

/// What one sweep wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub due_soon: usize,
    pub overdue: usize,
}

/// Reminds the people who work on each of `due` (its assignee, or its unit's officers and
/// office), once per record, kind and deadline: the reminder is claimed in `reminders`
/// first, and one already claimed (an earlier sweep, or another replica's at the same
/// moment) writes nothing. The records are found by state — open, and due soon or past due
/// — so work created with less than the warning window left is reminded too, and nothing
/// depends on when the last sweep ran.
pub fn remind(conn: &mut DbConnection, due: &[Due], now: NaiveDateTime) -> AppResult<Swept> {
    let mut swept = Swept::default();
    for record in due {
        let (kind, label) = match (record.about, record.overdue) {
            (About::Task(_), false) => (NotificationKind::TaskDueSoon, "due_soon"),
            (About::Task(_), true) => (NotificationKind::TaskOverdue, "overdue"),
            (About::Item(_), false) => (NotificationKind::ItemDueSoon, "due_soon"),
            (About::Item(_), true) => (NotificationKind::ItemOverdue, "overdue"),
        };
        let claimed = crate::on_backend!(conn, |c| diesel::insert_into(reminders::table)
            .values((
                reminders::record.eq(record.about.key()),
                reminders::kind.eq(label),
                reminders::due_at.eq(record.due_at),
                reminders::sent_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if claimed == 0 {
            continue;
        }
        let stamp = record
            .due_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let body = if record.overdue {
            format!("已逾期：截止时间 {stamp}")
        } else {
            format!("即将到期：截止时间 {stamp}")
        };
        let key = format!(
            "{label}:{}:{}",
            record.about.key(),
            record.due_at.and_utc().timestamp()
        );
        let (task_id, rectification_id) = record.about.columns();
        let rows: Vec<NotificationRow> = workers(conn, record.unit_id, record.assignee_id)?
            .into_iter()
            .map(|user| NotificationRow {
                id: NotificationId::new(),
                user_id: user,
                kind,
                task_id,
                rectification_id,
                title: record.title.clone(),
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
        if record.overdue {
            swept.overdue += written;
        } else {
            swept.due_soon += written;
        }
    }
    Ok(swept)
}
