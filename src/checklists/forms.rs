//! What offices send about checklists, and the only place it is checked.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::checklists::rules::{check_items, ChecklistItem};
use crate::error::AppResult;
use crate::http::extract::not_null;
use crate::validate::Checks;

pub const MAX_NAME_CHARS: usize = 100;

fn check_kind(c: &mut Checks, kind: &str) {
    let ok = !kind.is_empty()
        && kind.len() <= 32
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        c.fail(
            "kind",
            "must be 1 to 32 lowercase ASCII letters, digits or `_`",
        );
    }
}

fn check(c: &mut Checks, d: &ChecklistDraft) {
    c.text("name", &d.name, MAX_NAME_CHARS);
    check_kind(c, &d.kind);
    for (field, message) in check_items(&d.items) {
        c.fail(field, message);
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "汛前节制闸检查表",
    "kind": "flood_gate",
    "items": [
        {"key": "gate_operation", "label": "闸门启闭是否正常", "type": "yes_no", "points": 40,
         "required": true, "pass": {"equals": "yes"}},
        {"key": "water_level", "label": "闸前水位（米）", "type": "number", "points": 30,
         "required": true, "pass": {"op": "<=", "value": 3.5}},
        {"key": "sandbags", "label": "防汛沙袋储备", "type": "choice", "points": 30,
         "choices": ["充足", "不足"], "pass": {"equals": "充足"}}
    ]
}))]
pub struct NewChecklist {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// What it checks, e.g. `flood_gate`, `civilized_city_street`.
    #[schema(min_length = 1, max_length = 32, example = "flood_gate")]
    pub kind: String,
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<ChecklistItem>,
}

/// A checked checklist version.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistDraft {
    pub name: String,
    pub kind: String,
    pub items: Vec<ChecklistItem>,
}

impl NewChecklist {
    pub fn validate(self) -> AppResult<ChecklistDraft> {
        let draft = ChecklistDraft {
            name: self.name,
            kind: self.kind,
            items: self.items,
        };
        let mut c = Checks::new();
        check(&mut c, &draft);
        c.finish()?;
        Ok(draft)
    }
}

/// An edit: a new version with these fields changed (absent ones as they are).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "汛前节制闸检查表（2020修订）"}))]
pub struct ChecklistUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 32)]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_items = 1, max_items = 100)]
    pub items: Option<Vec<ChecklistItem>>,
}

impl ChecklistUpdate {
    pub fn apply(self, current: ChecklistDraft) -> AppResult<ChecklistDraft> {
        let draft = ChecklistDraft {
            name: self.name.unwrap_or(current.name),
            kind: self.kind.unwrap_or(current.kind),
            items: self.items.unwrap_or(current.items),
        };
        let mut c = Checks::new();
        check(&mut c, &draft);
        c.finish()?;
        Ok(draft)
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChecklistQuery {
    /// Only checklists of this kind.
    #[param(max_length = 32)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// An earlier version (from 1); the latest when absent.
    #[param(minimum = 1)]
    pub version: Option<i32>,
}
