//! What offices send about campaigns, and the only place it is checked.

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::campaigns::rules::{
    self, CampaignAction, CampaignKind, CampaignStatus, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
};
use crate::error::{AppError, AppResult};
use crate::http::extract::{not_null, nullable};
use crate::ids::UnitId;
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "civilized_city",
    "name": "2020年创建全国文明城市攻坚",
    "description": "对标全国文明城市测评体系，集中攻坚，补齐短板。",
    "starts_on": "2020-07-24",
    "ends_on": "2020-10-31",
    "lead_unit_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"
}))]
pub struct NewCampaign {
    pub kind: CampaignKind,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The unit that leads it (its office manages it); the units below it see it.
    #[schema(value_type = String, format = Uuid)]
    pub lead_unit_id: UnitId,
    /// The assessment scheme it is scored by (scoring).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub scheme_id: Option<uuid::Uuid>,
}

impl NewCampaign {
    pub fn validate(self) -> AppResult<NewCampaign> {
        let mut c = Checks::new();
        c.text("name", &self.name, MAX_NAME_CHARS);
        c.long_text("description", &self.description, MAX_DESCRIPTION_CHARS);
        c.check("starts_on", validate::date_rule(self.starts_on));
        c.check("ends_on", validate::date_rule(self.ends_on));
        c.check("ends_on", rules::check_period(self.starts_on, self.ends_on));
        c.finish()?;
        Ok(self)
    }
}

/// Changes to a campaign. Absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ends_on": "2020-11-30", "description": "延长至11月底"}))]
pub struct CampaignUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub kind: Option<CampaignKind>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 4000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub ends_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, value_type = Option<String>, format = Uuid)]
    pub lead_unit_id: Option<UnitId>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub scheme_id: Option<Option<uuid::Uuid>>,
}

impl CampaignUpdate {
    /// Checks the fields on their own; the period is checked against the stored dates by
    /// the model.
    pub fn validate(self) -> AppResult<CampaignUpdate> {
        let mut c = Checks::new();
        if let Some(name) = &self.name {
            c.text("name", name, MAX_NAME_CHARS);
        }
        if let Some(description) = &self.description {
            c.long_text("description", description, MAX_DESCRIPTION_CHARS);
        }
        if let Some(d) = self.starts_on {
            c.check("starts_on", validate::date_rule(d));
        }
        if let Some(d) = self.ends_on {
            c.check("ends_on", validate::date_rule(d));
        }
        c.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "activate", "note": "7月24日动员大会后启动"}))]
pub struct CampaignTransition {
    pub action: CampaignAction,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub note: String,
}

impl CampaignTransition {
    pub fn validate(self) -> AppResult<CampaignTransition> {
        let mut c = Checks::new();
        c.long_text("note", &self.note, MAX_NOTE_CHARS);
        c.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum CampaignSort {
    #[default]
    #[serde(rename = "-starts_on")]
    StartsOnDesc,
    #[serde(rename = "starts_on")]
    StartsOn,
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-updated_at")]
    UpdatedAtDesc,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    pub kind: Option<CampaignKind>,
    pub status: Option<CampaignStatus>,
    /// Campaigns led by this unit or a unit below it.
    #[param(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    /// Campaigns whose period includes this day.
    pub active_on: Option<NaiveDate>,
    /// Text in the name (Chinese works).
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<CampaignSort>,
}

/// A checked campaign list filter.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    pub kind: Option<CampaignKind>,
    pub status: Option<CampaignStatus>,
    pub unit_id: Option<UnitId>,
    pub active_on: Option<NaiveDate>,
    pub q: Option<String>,
    pub sort: CampaignSort,
}

impl CampaignQuery {
    pub fn validate(self) -> AppResult<CampaignFilter> {
        if let Some(day) = self.active_on {
            validate::date_rule(day).map_err(|m| AppError::bad_parameter("active_on", m))?;
        }
        Ok(CampaignFilter {
            kind: self.kind,
            status: self.status,
            unit_id: self.unit_id,
            active_on: self.active_on,
            q: validate::search_text(self.q)?,
            sort: self.sort.unwrap_or_default(),
        })
    }
}
