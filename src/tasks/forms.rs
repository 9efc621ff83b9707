//! What units and the issuer's side send about tasks, and the only place it is checked.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::AppResult;
use crate::ids::{CampaignId, DirectiveId, UnitId, UserId};
use crate::tasks::rules::{TaskAction, TaskStatus, Warning, MAX_PROGRESS};
use crate::validate::{self, Checks};

pub const MAX_NOTE_CHARS: usize = 2000;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "reject", "note": "整改照片不清晰，请补充整改前后对比照片"}))]
pub struct TaskTransition {
    pub action: TaskAction,
    /// Required for `reject`, `cancel` and `request_extension`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// `request_extension`: the deadline asked for.
    #[serde(default)]
    pub new_due_at: Option<DateTime<Utc>>,
    /// `reassign`: the new person responsible.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<UserId>,
    /// `reassign`: the new responsible unit.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
}

/// A checked transition.
#[derive(Debug, Clone)]
pub struct TransitionDraft {
    pub action: TaskAction,
    pub note: String,
    pub new_due_at: Option<NaiveDateTime>,
    pub assignee_id: Option<UserId>,
    pub unit_id: Option<UnitId>,
}

impl TaskTransition {
    /// Checks what each action needs (and refuses what it does not take).
    pub fn validate(self) -> AppResult<TransitionDraft> {
        let mut c = Checks::new();
        c.long_text("note", &self.note, MAX_NOTE_CHARS);
        if self.action.needs_note() && self.note.trim().is_empty() {
            c.fail("note", format!("is required to {}", self.action));
        }
        let new_due_at = self.new_due_at.map(validate::stored);
        match (self.action, new_due_at) {
            (TaskAction::RequestExtension, None) => c.fail("new_due_at", "is required"),
            (TaskAction::RequestExtension, Some(due)) => c.moment("new_due_at", due),
            (_, Some(_)) => c.fail("new_due_at", "only request_extension takes it"),
            _ => {}
        }
        let reassigning = self.action == TaskAction::Reassign;
        if reassigning && self.unit_id.is_none() && self.assignee_id.is_none() {
            c.fail("unit_id", "give unit_id or assignee_id (or both)");
        }
        if !reassigning && self.unit_id.is_some() {
            c.fail("unit_id", "only reassign takes it");
        }
        if !reassigning && self.assignee_id.is_some() {
            c.fail("assignee_id", "only reassign takes it");
        }
        c.finish()?;
        Ok(TransitionDraft {
            action: self.action,
            note: self.note,
            new_due_at,
            assignee_id: self.assignee_id,
            unit_id: self.unit_id,
        })
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"progress": 60, "note": "已完成背街小巷排查，建立问题台账23项"}))]
pub struct ProgressReport {
    #[schema(minimum = 0, maximum = 100)]
    pub progress: i32,
    /// Required when the progress goes down.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

impl ProgressReport {
    pub fn validate(self) -> AppResult<ProgressReport> {
        let mut c = Checks::new();
        c.long_text("note", &self.note, MAX_NOTE_CHARS);
        if !(0..=MAX_PROGRESS).contains(&self.progress) {
            c.fail("progress", format!("must be from 0 to {MAX_PROGRESS}"));
        }
        c.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum TaskSort {
    #[default]
    #[serde(rename = "due_at")]
    DueAt,
    #[serde(rename = "-due_at")]
    DueAtDesc,
    /// Most pressing first.
    #[serde(rename = "-priority")]
    PriorityDesc,
    #[serde(rename = "priority")]
    Priority,
    #[serde(rename = "-updated_at")]
    UpdatedAtDesc,
    #[serde(rename = "updated_at")]
    UpdatedAt,
}

/// Whose tasks: `me` (assigned to the caller).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
pub enum AssigneeFilter {
    #[serde(rename = "me")]
    Me,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub directive_id: Option<DirectiveId>,
    /// Tasks of this unit and the units below it.
    #[param(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    /// Repeat for several: `status=assigned&status=in_progress`.
    #[param(explode = true, style = Form)]
    pub status: Option<Vec<TaskStatus>>,
    /// Only open tasks past their deadline (`true`), or only the others (`false`).
    pub overdue: Option<bool>,
    pub warning: Option<Warning>,
    /// Due before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Due at or after this time.
    pub due_after: Option<DateTime<Utc>>,
    /// `me`: tasks assigned to the caller.
    #[param(inline)]
    pub assignee: Option<AssigneeFilter>,
    /// Text in the title (Chinese works).
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<TaskSort>,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub campaign_id: Option<CampaignId>,
    pub directive_id: Option<DirectiveId>,
    pub unit_id: Option<UnitId>,
    pub statuses: Vec<TaskStatus>,
    pub overdue: Option<bool>,
    pub warning: Option<Warning>,
    pub due_before: Option<NaiveDateTime>,
    pub due_after: Option<NaiveDateTime>,
    pub mine: bool,
    pub q: Option<String>,
    pub sort: TaskSort,
}

impl TaskQuery {
    pub fn validate(self) -> AppResult<TaskFilter> {
        let moment = validate::query_moment;
        Ok(TaskFilter {
            campaign_id: self.campaign_id,
            directive_id: self.directive_id,
            unit_id: self.unit_id,
            statuses: self.status.unwrap_or_default(),
            overdue: self.overdue,
            warning: self.warning,
            due_before: moment("due_before", self.due_before)?,
            due_after: moment("due_after", self.due_after)?,
            mine: self.assignee == Some(AssigneeFilter::Me),
            q: validate::search_text(self.q)?,
            sort: self.sort.unwrap_or_default(),
        })
    }
}
