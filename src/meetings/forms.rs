//! What leaders and offices send about meetings, and the only place it is checked.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::AppResult;
use crate::http::extract::not_null;
use crate::ids::{CampaignId, UnitId};
use crate::meetings::rules::{
    duplicate_positions, MAX_ATTENDING_UNITS, MAX_CHAIR_CHARS, MAX_PLACE_CHARS, MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
};
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "campaign_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
    "title": "创建全国文明城市攻坚动员大会",
    "held_at": "2020-07-24T09:00:00+08:00",
    "place": "高新区管委会三楼会议室",
    "chaired_by": "党工委书记",
    "unit_ids": ["0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c"],
    "summary": "部署创城攻坚任务，明确责任分工和时间节点。"
}))]
pub struct NewMeeting {
    #[schema(value_type = String, format = Uuid)]
    pub campaign_id: CampaignId,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub held_at: DateTime<Utc>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub place: String,
    /// Who chaired it (a name or a post).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub chaired_by: String,
    /// The units that attended.
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 200)]
    pub unit_ids: Vec<UnitId>,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub summary: String,
}

/// A checked meeting (new, or the result of a change).
#[derive(Debug, Clone)]
pub struct MeetingDraft {
    pub title: String,
    pub held_at: NaiveDateTime,
    pub place: String,
    pub chaired_by: String,
    pub unit_ids: Vec<UnitId>,
    pub summary: String,
}

fn check(c: &mut Checks, m: &MeetingDraft) {
    c.text("title", &m.title, MAX_TITLE_CHARS);
    c.moment("held_at", m.held_at);
    c.long_text("place", &m.place, MAX_PLACE_CHARS);
    c.long_text("chaired_by", &m.chaired_by, MAX_CHAIR_CHARS);
    c.long_text("summary", &m.summary, MAX_SUMMARY_CHARS);
    if m.unit_ids.len() > MAX_ATTENDING_UNITS {
        c.fail(
            "unit_ids",
            format!("must list at most {MAX_ATTENDING_UNITS} units"),
        );
    }
    for i in duplicate_positions(&m.unit_ids) {
        c.fail(format!("unit_ids[{i}]"), "is listed twice");
    }
}

impl NewMeeting {
    pub fn validate(self) -> AppResult<(CampaignId, MeetingDraft)> {
        let draft = MeetingDraft {
            title: self.title,
            held_at: validate::stored(self.held_at),
            place: self.place,
            chaired_by: self.chaired_by,
            unit_ids: self.unit_ids,
            summary: self.summary,
        };
        let mut c = Checks::new();
        check(&mut c, &draft);
        c.finish()?;
        Ok((self.campaign_id, draft))
    }
}

/// Changes to a meeting. Absent fields stay as they are; `unit_ids` replaces the list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"summary": "会议纪要：各镇街8月15日前完成背街小巷整治。"}))]
pub struct MeetingUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub held_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 200)]
    pub place: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 100)]
    pub chaired_by: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, value_type = Option<Vec<String>>, max_items = 200)]
    pub unit_ids: Option<Vec<UnitId>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 10000)]
    pub summary: Option<String>,
}

impl MeetingUpdate {
    /// The meeting as it will be after the change, checked whole.
    pub fn apply(self, current: MeetingDraft) -> AppResult<MeetingDraft> {
        let draft = MeetingDraft {
            title: self.title.unwrap_or(current.title),
            held_at: self
                .held_at
                .map(validate::stored)
                .unwrap_or(current.held_at),
            place: self.place.unwrap_or(current.place),
            chaired_by: self.chaired_by.unwrap_or(current.chaired_by),
            unit_ids: self.unit_ids.unwrap_or(current.unit_ids),
            summary: self.summary.unwrap_or(current.summary),
        };
        let mut c = Checks::new();
        check(&mut c, &draft);
        c.finish()?;
        Ok(draft)
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    /// Meetings this unit convened or attended.
    #[param(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    /// Text in the title (Chinese works).
    #[param(max_length = 100)]
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MeetingFilter {
    pub campaign_id: Option<CampaignId>,
    pub unit_id: Option<UnitId>,
    pub q: Option<String>,
}

impl MeetingQuery {
    pub fn validate(self) -> AppResult<MeetingFilter> {
        Ok(MeetingFilter {
            campaign_id: self.campaign_id,
            unit_id: self.unit_id,
            q: validate::search_text(self.q)?,
        })
    }
}
