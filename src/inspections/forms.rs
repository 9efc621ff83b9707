//! What inspectors send about inspections, and the only place it is checked.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::attachments::rules::MAX_ATTACHMENTS;
use crate::error::AppResult;
use crate::ids::{AttachmentId, CampaignId, ChecklistId, InspectionId, PatrolId, SiteId};
use crate::text_enum;
use crate::validate::Checks;

text_enum! {
    /// How the site was inspected.
    pub enum InspectionKind {
        Routine = "routine",
        /// 暗访: the unit was not told in advance.
        Unannounced = "unannounced",
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "checklist_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "checklist_version": 1,
    "site_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d",
    "kind": "routine",
    "answers": {"gate_operation": "no", "water_level": 3.8, "sandbags": "充足"}
}))]
pub struct NewInspection {
    /// A UUIDv7 the phone minted; the server mints one when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<InspectionId>,
    #[schema(value_type = String, format = Uuid)]
    pub checklist_id: ChecklistId,
    /// The version answered; the latest when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub checklist_version: Option<i32>,
    #[schema(value_type = String, format = Uuid)]
    pub site_id: SiteId,
    #[schema(value_type = InspectionKind)]
    pub kind: InspectionKind,
    /// The answers, by item key.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Value>,
    /// Photos taken, uploaded by the caller (also the photos of the items failures raise).
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 20)]
    pub attachment_ids: Vec<AttachmentId>,
    /// The caller's own active patrol it was done on.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub patrol_id: Option<PatrolId>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
}

impl NewInspection {
    pub fn validate(self) -> AppResult<NewInspection> {
        let mut c = Checks::new();
        c.client_id(self.id.map(|id| id.uuid()));
        if self.attachment_ids.len() > MAX_ATTACHMENTS {
            c.fail(
                "attachment_ids",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            );
        }
        if self.checklist_version.is_some_and(|v| v < 1) {
            c.fail("checklist_version", "must be 1 or more");
        }
        c.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectionQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub site_id: Option<SiteId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub checklist_id: Option<ChecklistId>,
    #[param(inline)]
    pub kind: Option<InspectionKind>,
}
