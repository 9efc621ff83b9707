//! What reporters, fixing units and offices send about rectification items, and the only
//! place it is checked.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::categories::rules::Severity;
use crate::coords::{Bbox, CoordType};
use crate::deadlines::Warning;
use crate::error::{AppError, AppResult};
use crate::ids::{AttachmentId, CampaignId, CategoryId, PatrolId, RectificationId, SiteId, UnitId};
use crate::rectifications::rules::{
    ItemAction, ItemStatus, Source, MAX_ADDRESS_CHARS, MAX_ATTACHMENTS, MAX_DESCRIPTION_CHARS,
};
use crate::tasks::forms::MAX_NOTE_CHARS;
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "source": "patrol",
    "category_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d",
    "description": "国道旁公益广告牌面板破损，边角翘起",
    "lat": 35.2148,
    "lon": 115.5109,
    "coord_type": "gcj02",
    "address": "马岭岗镇国道106沿线",
    "attributes": {"damage": "面板破损"},
    "attachment_ids": ["0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5e"]
}))]
pub struct NewItem {
    /// A UUIDv7 the client minted (a phone offline); the server mints one when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<RectificationId>,
    #[schema(value_type = Source)]
    pub source: Source,
    #[schema(value_type = String, format = Uuid)]
    pub category_id: CategoryId,
    /// What is wrong, in the reporter's words.
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// The datum of `lat`/`lon` (default `wgs84`); stored as WGS-84.
    #[serde(default)]
    pub coord_type: CoordType,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address: String,
    /// The grid: found from the point when absent; a point outside every grid the caller
    /// sees then needs it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub grid_id: Option<UnitId>,
    /// The category's default when absent.
    #[serde(default)]
    #[schema(value_type = Option<Severity>)]
    pub severity: Option<Severity>,
    /// The category's deadline (`deadline_hours` from now) when absent.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// The category's extra fields, by code.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, Value>,
    /// Photos of the problem (整改前), uploaded by the caller.
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 20)]
    pub attachment_ids: Vec<AttachmentId>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub site_id: Option<SiteId>,
    /// The reporter's own active patrol it was found on.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub patrol_id: Option<PatrolId>,
}

/// A checked report, its point in WGS-84.
#[derive(Debug, Clone)]
pub struct ItemDraft {
    pub id: RectificationId,
    pub source: Source,
    pub category_id: CategoryId,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub grid_id: Option<UnitId>,
    pub severity: Option<Severity>,
    pub due_at: Option<NaiveDateTime>,
    pub attributes: BTreeMap<String, Value>,
    pub attachment_ids: Vec<AttachmentId>,
    pub campaign_id: Option<CampaignId>,
    pub site_id: Option<SiteId>,
    pub patrol_id: Option<PatrolId>,
}

/// Refuses a list of attachments that is too long or names one twice.
fn check_attachments(c: &mut Checks, ids: &[AttachmentId]) {
    if ids.len() > MAX_ATTACHMENTS {
        c.fail(
            "attachment_ids",
            format!("at most {MAX_ATTACHMENTS} attachments"),
        );
    }
    let mut seen = ids.to_vec();
    seen.sort();
    seen.dedup();
    if seen.len() != ids.len() {
        c.fail("attachment_ids", "an attachment is listed twice");
    }
}

impl NewItem {
    pub fn validate(self) -> AppResult<ItemDraft> {
        let mut c = Checks::new();
        c.client_id(self.id.map(|id| id.uuid()));
        let (lon, lat) = c.point(self.lon, self.lat, self.coord_type);
        c.text("description", &self.description, MAX_DESCRIPTION_CHARS);
        c.long_text("address", &self.address, MAX_ADDRESS_CHARS);
        let due_at = self.due_at.map(validate::stored);
        if let Some(due) = due_at {
            c.moment("due_at", due);
        }
        check_attachments(&mut c, &self.attachment_ids);
        c.finish()?;
        Ok(ItemDraft {
            id: self.id.unwrap_or_default(),
            source: self.source,
            category_id: self.category_id,
            description: self.description.trim().to_string(),
            lat,
            lon,
            address: self.address,
            grid_id: self.grid_id,
            severity: self.severity,
            due_at,
            attributes: self.attributes,
            attachment_ids: self.attachment_ids,
            campaign_id: self.campaign_id,
            site_id: self.site_id,
            patrol_id: self.patrol_id,
        })
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "action": "submit",
    "note": "广告牌面板已更换",
    "attachment_ids": ["0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5e"]
}))]
pub struct ItemTransition {
    pub action: ItemAction,
    /// Required for `reject`, `cancel` and `request_extension`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// `assign`, `reassign`: the responsible unit.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    /// `submit`: the evidence of the fix (整改后), at least one, uploaded by the caller.
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 20)]
    pub attachment_ids: Vec<AttachmentId>,
    /// `request_extension`: the deadline asked for.
    #[serde(default)]
    pub new_due_at: Option<DateTime<Utc>>,
    /// `mark_duplicate`: the open item this one repeats.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub duplicate_of: Option<RectificationId>,
}

/// A checked transition.
#[derive(Debug, Clone)]
pub struct TransitionDraft {
    pub action: ItemAction,
    pub note: String,
    pub unit_id: Option<UnitId>,
    pub attachment_ids: Vec<AttachmentId>,
    pub new_due_at: Option<NaiveDateTime>,
    pub duplicate_of: Option<RectificationId>,
}

impl ItemTransition {
    /// Checks what each action needs, and refuses what it does not take.
    pub fn validate(self) -> AppResult<TransitionDraft> {
        use ItemAction::*;
        let mut c = Checks::new();
        let action = self.action;
        c.long_text("note", &self.note, MAX_NOTE_CHARS);
        if action.needs_note() && self.note.trim().is_empty() {
            c.fail("note", format!("is required to {action}"));
        }
        let routes = matches!(action, Assign | Reassign);
        match (routes, self.unit_id) {
            (true, None) => c.fail("unit_id", "is required"),
            (false, Some(_)) => c.fail("unit_id", "only assign and reassign take it"),
            _ => {}
        }
        match (action, self.attachment_ids.is_empty()) {
            (Submit, true) => c.fail(
                "attachment_ids",
                "a fix needs at least one photo or document as evidence",
            ),
            (Submit, false) => check_attachments(&mut c, &self.attachment_ids),
            (_, false) => c.fail("attachment_ids", "only submit takes them"),
            _ => {}
        }
        let new_due_at = self.new_due_at.map(validate::stored);
        match (action, new_due_at) {
            (RequestExtension, None) => c.fail("new_due_at", "is required"),
            (RequestExtension, Some(due)) => c.moment("new_due_at", due),
            (_, Some(_)) => c.fail("new_due_at", "only request_extension takes it"),
            _ => {}
        }
        match (action, self.duplicate_of) {
            (MarkDuplicate, None) => c.fail("duplicate_of", "is required"),
            (MarkDuplicate, Some(_)) => {}
            (_, Some(_)) => c.fail("duplicate_of", "only mark_duplicate takes it"),
            _ => {}
        }
        c.finish()?;
        Ok(TransitionDraft {
            action,
            note: self.note,
            unit_id: self.unit_id,
            attachment_ids: self.attachment_ids,
            new_due_at,
            duplicate_of: self.duplicate_of,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum ItemSort {
    /// Newest first.
    #[default]
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "due_at")]
    DueAt,
    #[serde(rename = "-due_at")]
    DueAtDesc,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Repeat for several: `status=assigned&status=in_progress`.
    #[param(explode = true, style = Form)]
    pub status: Option<Vec<ItemStatus>>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub category_id: Option<CategoryId>,
    /// Items of this unit and the units below it.
    #[param(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub grid_id: Option<UnitId>,
    #[param(inline)]
    pub source: Option<Source>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    /// Only open items past their deadline (`true`), or only the others (`false`).
    pub overdue: Option<bool>,
    pub warning: Option<Warning>,
    /// `minLon,minLat,maxLon,maxLat` (WGS-84): items inside the box.
    #[param(example = "115.45,35.19,115.55,35.27")]
    pub bbox: Option<String>,
    /// Reported at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Reported before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Text in the number, the description or the address (Chinese works).
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<ItemSort>,
}

#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub statuses: Vec<ItemStatus>,
    pub category_id: Option<CategoryId>,
    pub unit_id: Option<UnitId>,
    pub grid_id: Option<UnitId>,
    pub source: Option<Source>,
    pub campaign_id: Option<CampaignId>,
    pub overdue: Option<bool>,
    pub warning: Option<Warning>,
    pub bbox: Option<Bbox>,
    pub created_after: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
    pub q: Option<String>,
    pub sort: ItemSort,
    /// Only items waiting in triage (no responsible unit yet).
    pub triage: bool,
}

impl ItemQuery {
    pub fn validate(self) -> AppResult<ItemFilter> {
        let moment = validate::query_moment;
        let bbox = match self.bbox {
            Some(text) => Some(Bbox::parse(&text).map_err(|m| AppError::bad_parameter("bbox", m))?),
            None => None,
        };
        Ok(ItemFilter {
            statuses: self.status.unwrap_or_default(),
            category_id: self.category_id,
            unit_id: self.unit_id,
            grid_id: self.grid_id,
            source: self.source,
            campaign_id: self.campaign_id,
            overdue: self.overdue,
            warning: self.warning,
            bbox,
            created_after: moment("created_after", self.created_after)?,
            created_before: moment("created_before", self.created_before)?,
            q: validate::search_text(self.q)?,
            sort: self.sort.unwrap_or_default(),
            triage: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transition(action: ItemAction) -> ItemTransition {
        ItemTransition {
            action,
            note: String::new(),
            unit_id: None,
            attachment_ids: Vec::new(),
            new_due_at: None,
            duplicate_of: None,
        }
    }

    fn fields(result: AppResult<TransitionDraft>) -> Vec<String> {
        match result {
            Err(AppError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("not a validation error: {other:?}"),
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn each_action_takes_what_it_needs() {
        // A fix without evidence is refused, naming the field.
        assert_eq!(
            fields(transition(ItemAction::Submit).validate()),
            ["attachment_ids"]
        );
        let submit = ItemTransition {
            attachment_ids: vec![AttachmentId::new()],
            ..transition(ItemAction::Submit)
        };
        assert!(submit.validate().is_ok());
        let twice = AttachmentId::new();
        let submit = ItemTransition {
            attachment_ids: vec![twice, twice],
            ..transition(ItemAction::Submit)
        };
        assert_eq!(fields(submit.validate()), ["attachment_ids"]);
        assert_eq!(fields(transition(ItemAction::Reject).validate()), ["note"]);
        assert_eq!(
            fields(transition(ItemAction::Assign).validate()),
            ["unit_id"]
        );
        assert_eq!(
            fields(transition(ItemAction::MarkDuplicate).validate()),
            ["duplicate_of"]
        );
        assert_eq!(
            fields(transition(ItemAction::RequestExtension).validate()),
            ["note", "new_due_at"]
        );
        let accept = ItemTransition {
            unit_id: Some(UnitId::new()),
            attachment_ids: vec![AttachmentId::new()],
            ..transition(ItemAction::Accept)
        };
        assert_eq!(fields(accept.validate()), ["unit_id", "attachment_ids"]);
        assert!(transition(ItemAction::Accept).validate().is_ok());
    }
}
