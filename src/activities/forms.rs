//! What units send about volunteer activities, and the only place it is checked.

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::activities::rules::{
    check_hours, check_people, MAX_DESCRIPTION_CHARS, MAX_PLACE_CHARS, MAX_TITLE_CHARS,
};
use crate::error::{AppError, AppResult};
use crate::http::extract::not_null;
use crate::ids::{CampaignId, UnitId};
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "campaign_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
    "unit_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "title": "小荷学堂暑期公益课堂",
    "date": "2020-07-20",
    "place": "吕陵镇新时代文明实践所",
    "participants": 12,
    "volunteer_hours": 36.0,
    "beneficiaries": 45,
    "description": "大学生志愿者为留守儿童辅导暑假作业、开展安全教育。"
}))]
pub struct NewActivity {
    #[schema(value_type = String, format = Uuid)]
    pub campaign_id: CampaignId,
    /// The unit that held it.
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub date: NaiveDate,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub place: String,
    /// Volunteers taking part.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000)]
    pub participants: i32,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000)]
    pub volunteer_hours: f64,
    /// People served.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000)]
    pub beneficiaries: i32,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: String,
}

/// A checked activity (new, or the result of a change).
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityDraft {
    pub title: String,
    pub date: NaiveDate,
    pub place: String,
    pub participants: i32,
    pub volunteer_hours: f64,
    pub beneficiaries: i32,
    pub description: String,
}

fn check(c: &mut Checks, a: &ActivityDraft) {
    c.text("title", &a.title, MAX_TITLE_CHARS);
    c.check("date", validate::date_rule(a.date));
    c.long_text("place", &a.place, MAX_PLACE_CHARS);
    c.check("participants", check_people(a.participants));
    c.check("volunteer_hours", check_hours(a.volunteer_hours));
    c.check("beneficiaries", check_people(a.beneficiaries));
    c.long_text("description", &a.description, MAX_DESCRIPTION_CHARS);
}

impl NewActivity {
    pub fn validate(self) -> AppResult<(CampaignId, UnitId, ActivityDraft)> {
        let draft = ActivityDraft {
            title: self.title,
            date: self.date,
            place: self.place,
            participants: self.participants,
            volunteer_hours: self.volunteer_hours,
            beneficiaries: self.beneficiaries,
            description: self.description,
        };
        let mut c = Checks::new();
        check(&mut c, &draft);
        c.finish()?;
        Ok((self.campaign_id, self.unit_id, draft))
    }
}

/// Changes to an activity. Absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"participants": 15, "volunteer_hours": 45.0}))]
pub struct ActivityUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 200)]
    pub place: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, minimum = 0, maximum = 1000000)]
    pub participants: Option<i32>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, minimum = 0, maximum = 1000000)]
    pub volunteer_hours: Option<f64>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, minimum = 0, maximum = 1000000)]
    pub beneficiaries: Option<i32>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 10000)]
    pub description: Option<String>,
}

impl ActivityUpdate {
    /// The activity as it will be after the change, checked whole.
    pub fn apply(self, current: ActivityDraft) -> AppResult<ActivityDraft> {
        let draft = ActivityDraft {
            title: self.title.unwrap_or(current.title),
            date: self.date.unwrap_or(current.date),
            place: self.place.unwrap_or(current.place),
            participants: self.participants.unwrap_or(current.participants),
            volunteer_hours: self.volunteer_hours.unwrap_or(current.volunteer_hours),
            beneficiaries: self.beneficiaries.unwrap_or(current.beneficiaries),
            description: self.description.unwrap_or(current.description),
        };
        let mut c = Checks::new();
        check(&mut c, &draft);
        c.finish()?;
        Ok(draft)
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    /// Activities of this unit and the units below it.
    #[param(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    /// On or after this day.
    pub date_from: Option<NaiveDate>,
    /// On or before this day.
    pub date_to: Option<NaiveDate>,
    /// Text in the title (Chinese works).
    #[param(max_length = 100)]
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub campaign_id: Option<CampaignId>,
    pub unit_id: Option<UnitId>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub q: Option<String>,
}

impl ActivityQuery {
    pub fn validate(self) -> AppResult<ActivityFilter> {
        for (name, day) in [("date_from", self.date_from), ("date_to", self.date_to)] {
            if let Some(day) = day {
                validate::date_rule(day).map_err(|m| AppError::bad_parameter(name, m))?;
            }
        }
        Ok(ActivityFilter {
            campaign_id: self.campaign_id,
            unit_id: self.unit_id,
            date_from: self.date_from,
            date_to: self.date_to,
            q: validate::search_text(self.q)?,
        })
    }
}
