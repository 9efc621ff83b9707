//! What leaders and offices send about directives and their splits, and the only place it
//! is checked.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::directives::rules::{self, Priority, MAX_BODY_CHARS, MAX_SPLIT_UNITS, MAX_TITLE_CHARS};
use crate::error::AppResult;
use crate::http::extract::{not_null, nullable};
use crate::ids::{CampaignId, MeetingId, UnitId, UserId};
use crate::tasks::rules::MAX_WEIGHT;
use crate::units::UnitKind;
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "campaign_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
    "meeting_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "title": "背街小巷环境卫生集中整治",
    "body": "各镇街对辖区背街小巷开展拉网式排查，建立问题台账，限期整改到位。",
    "priority": "high",
    "default_due_at": "2020-08-15T18:00:00+08:00"
}))]
pub struct NewDirective {
    #[schema(value_type = String, format = Uuid)]
    pub campaign_id: CampaignId,
    /// The meeting that issued it (of the same campaign).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub meeting_id: Option<MeetingId>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub body: String,
    #[serde(default = "normal")]
    pub priority: Priority,
    /// The deadline its tasks get unless a split says otherwise.
    #[serde(default)]
    pub default_due_at: Option<DateTime<Utc>>,
}

fn normal() -> Priority {
    Priority::Normal
}

/// A checked new directive.
#[derive(Debug, Clone)]
pub struct DirectiveDraft {
    pub campaign_id: CampaignId,
    pub meeting_id: Option<MeetingId>,
    pub title: String,
    pub body: String,
    pub priority: Priority,
    pub default_due_at: Option<NaiveDateTime>,
}

impl NewDirective {
    pub fn validate(self) -> AppResult<DirectiveDraft> {
        let mut c = Checks::new();
        c.text("title", &self.title, MAX_TITLE_CHARS);
        c.long_text("body", &self.body, MAX_BODY_CHARS);
        let default_due_at = self.default_due_at.map(validate::stored);
        if let Some(due) = default_due_at {
            c.moment("default_due_at", due);
        }
        c.finish()?;
        Ok(DirectiveDraft {
            campaign_id: self.campaign_id,
            meeting_id: self.meeting_id,
            title: self.title,
            body: self.body,
            priority: self.priority,
            default_due_at,
        })
    }
}

/// Changes to a directive. Absent fields stay as they are; tasks already split keep
/// their own deadlines and titles.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"priority": "urgent", "body": "补充：8月10日前完成自查。"}))]
pub struct DirectiveUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 10000)]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub priority: Option<Priority>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    pub default_due_at: Option<Option<DateTime<Utc>>>,
}

/// A checked directive change.
#[derive(Debug, Clone, Default)]
pub struct DirectiveChange {
    pub title: Option<String>,
    pub body: Option<String>,
    pub priority: Option<Priority>,
    pub default_due_at: Option<Option<NaiveDateTime>>,
}

impl DirectiveUpdate {
    pub fn validate(self) -> AppResult<DirectiveChange> {
        let mut c = Checks::new();
        if let Some(title) = &self.title {
            c.text("title", title, MAX_TITLE_CHARS);
        }
        if let Some(body) = &self.body {
            c.long_text("body", body, MAX_BODY_CHARS);
        }
        let default_due_at = self.default_due_at.map(|d| d.map(validate::stored));
        if let Some(Some(due)) = default_due_at {
            c.moment("default_due_at", due);
        }
        c.finish()?;
        Ok(DirectiveChange {
            title: self.title,
            body: self.body,
            priority: self.priority,
            default_due_at,
        })
    }
}

/// "Every unit of this kind under that unit", e.g. every town under the district.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitSelector {
    #[schema(value_type = String, format = Uuid)]
    pub under: UnitId,
    pub kind: UnitKind,
}

/// Split a directive into one task per unit: all are created, or none.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "selector": {"under": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "kind": "town"},
    "due_at": "2020-08-15T18:00:00+08:00",
    "weight": 2
}))]
pub struct NewTasks {
    /// The responsible units, one task each.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, max_items = 500)]
    pub unit_ids: Option<Vec<UnitId>>,
    /// Or: every unit of a kind under a unit.
    #[serde(default)]
    pub selector: Option<UnitSelector>,
    /// Defaults to the directive's `default_due_at`.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// A person of the unit responsible (only with a single unit, or one who belongs to
    /// every unit named).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<UserId>,
    /// Defaults to the directive's title.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// How much the task counts in the directive's progress (1–100, default 1).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub weight: Option<i32>,
}

/// Where the tasks go.
#[derive(Debug, Clone)]
pub enum Targets {
    Units(Vec<UnitId>),
    Selector(UnitSelector),
}

/// A checked split.
#[derive(Debug, Clone)]
pub struct SplitDraft {
    pub targets: Targets,
    pub due_at: Option<NaiveDateTime>,
    pub assignee_id: Option<UserId>,
    pub title: Option<String>,
    pub weight: i32,
}

impl NewTasks {
    pub fn validate(self) -> AppResult<SplitDraft> {
        let mut c = Checks::new();
        if let Err(message) = rules::check_targets(self.unit_ids.is_some(), self.selector.is_some())
        {
            c.fail("unit_ids", message);
        }
        if let Some(ids) = &self.unit_ids {
            if ids.is_empty() {
                c.fail("unit_ids", "must name at least one unit");
            }
            if ids.len() > MAX_SPLIT_UNITS {
                c.fail(
                    "unit_ids",
                    format!("must name at most {MAX_SPLIT_UNITS} units"),
                );
            }
            for (i, id) in ids.iter().enumerate() {
                if ids[..i].contains(id) {
                    c.fail(format!("unit_ids[{i}]"), "is named twice");
                }
            }
        }
        let due_at = self.due_at.map(validate::stored);
        if let Some(due) = due_at {
            c.moment("due_at", due);
        }
        if let Some(title) = &self.title {
            c.text("title", title, MAX_TITLE_CHARS);
        }
        let weight = self.weight.unwrap_or(1);
        if !(1..=MAX_WEIGHT).contains(&weight) {
            c.fail("weight", format!("must be from 1 to {MAX_WEIGHT}"));
        }
        c.finish()?;
        let targets = match (self.unit_ids, self.selector) {
            (Some(ids), _) => Targets::Units(ids),
            (None, Some(selector)) => Targets::Selector(selector),
            (None, None) => Targets::Units(Vec::new()),
        };
        Ok(SplitDraft {
            targets,
            due_at,
            assignee_id: self.assignee_id,
            title: self.title,
            weight,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum DirectiveSort {
    #[default]
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-priority")]
    PriorityDesc,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectiveQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub meeting_id: Option<MeetingId>,
    pub priority: Option<Priority>,
    /// Text in the title (Chinese works).
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<DirectiveSort>,
}

#[derive(Debug, Clone, Default)]
pub struct DirectiveFilter {
    pub campaign_id: Option<CampaignId>,
    pub meeting_id: Option<MeetingId>,
    pub priority: Option<Priority>,
    pub q: Option<String>,
    pub sort: DirectiveSort,
}

impl DirectiveQuery {
    pub fn validate(self) -> AppResult<DirectiveFilter> {
        Ok(DirectiveFilter {
            campaign_id: self.campaign_id,
            meeting_id: self.meeting_id,
            priority: self.priority,
            q: validate::search_text(self.q)?,
            sort: self.sort.unwrap_or_default(),
        })
    }
}
