//! What an inspector's phone sends about patrols, and the only place it is checked.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::attachments::rules::MAX_ATTACHMENTS;
use crate::coords::CoordType;
use crate::error::{AppError, AppResult};
use crate::ids::{AttachmentId, CampaignId, PatrolId, PatrolVisitId, SiteId, UnitId};
use crate::patrols::rules::{PatrolAction, PatrolStatus, MAX_BATCH_POINTS, MAX_NOTE_CHARS};
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "grid_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d",
    "started_at": "2020-07-24T08:30:00+08:00",
    "note": "国道沿线商铺及公益广告牌巡查"
}))]
pub struct NewPatrol {
    /// A UUIDv7 the phone minted; the server mints one when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<PatrolId>,
    /// One of the inspector's grids.
    #[schema(value_type = String, format = Uuid)]
    pub grid_id: UnitId,
    /// When the inspector set out (the phone's time); now when absent.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct PatrolDraft {
    pub id: PatrolId,
    pub grid_id: UnitId,
    pub started_at: Option<NaiveDateTime>,
    pub campaign_id: Option<CampaignId>,
    pub note: String,
}

impl NewPatrol {
    pub fn validate(self) -> AppResult<PatrolDraft> {
        let mut c = Checks::new();
        c.client_id(self.id.map(|id| id.uuid()));
        c.long_text("note", &self.note, MAX_NOTE_CHARS);
        let started_at = self.started_at.map(validate::stored);
        if let Some(t) = started_at {
            c.moment("started_at", t);
        }
        c.finish()?;
        Ok(PatrolDraft {
            id: self.id.unwrap_or_default(),
            grid_id: self.grid_id,
            started_at,
            campaign_id: self.campaign_id,
            note: self.note,
        })
    }
}

/// One GPS fix of a track.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackPoint {
    /// When the phone took it.
    pub t: DateTime<Utc>,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// The phone's estimate of its error, in metres.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub accuracy_m: Option<f64>,
}

/// A batch of fixes, in WGS-84, each named by its place in the batch when refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckedPoint {
    pub t: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

/// A batch of fixes, as a phone flushes its queue.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "coord_type": "gcj02",
    "points": [
        {"t": "2020-07-24T09:00:00+08:00", "lat": 35.2150, "lon": 115.5100, "accuracy_m": 8.0},
        {"t": "2020-07-24T09:00:30+08:00", "lat": 35.2153, "lon": 115.5104, "accuracy_m": 6.5}
    ]
}))]
pub struct TrackBatch {
    /// The datum of the points: `wgs84` (default), `gcj02` or `bd09`, as the phone's map
    /// SDK gives them; stored as WGS-84.
    #[serde(default)]
    pub coord_type: CoordType,
    /// 1 to 2,000 fixes, in any order.
    #[schema(max_items = 2000)]
    pub points: Vec<TrackPoint>,
}

/// Checks a batch: its size, each point's coordinates, time and accuracy.
pub fn check_track(points: Vec<TrackPoint>, from: CoordType) -> AppResult<Vec<CheckedPoint>> {
    let mut c = Checks::new();
    if points.is_empty() {
        c.fail("points", "a batch needs at least one point");
    }
    if points.len() > MAX_BATCH_POINTS {
        return Err(AppError::invalid(
            "points",
            format!("at most {MAX_BATCH_POINTS} points a batch"),
        ));
    }
    let mut checked = Vec::with_capacity(points.len());
    for (i, p) in points.into_iter().enumerate() {
        let mut one = Checks::new();
        let (lon, lat) = one.point(p.lon, p.lat, from);
        let t = validate::stored(p.t);
        one.moment("t", t);
        if let Some(acc) = p.accuracy_m {
            if !(0.0..=100_000.0).contains(&acc) {
                one.fail("accuracy_m", "must be from 0 to 100000 metres");
            }
        }
        if let Err(AppError::Validation(errors)) = one.finish() {
            for e in errors {
                c.fail(format!("points[{i}].{}", e.field), e.message);
            }
        }
        checked.push(CheckedPoint {
            t,
            lat,
            lon,
            accuracy_m: p.accuracy_m,
        });
    }
    c.finish()?;
    Ok(checked)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "site_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "at": "2020-07-24T09:10:00+08:00",
    "note": "广告牌完好，画面清晰",
    "attachment_ids": []
}))]
pub struct NewVisit {
    /// A UUIDv7 the phone minted; the server mints one when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<PatrolVisitId>,
    #[schema(value_type = String, format = Uuid)]
    pub site_id: SiteId,
    /// When the site was visited (the phone's time); now when absent.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// Photos taken there, uploaded by the inspector.
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 20)]
    pub attachment_ids: Vec<AttachmentId>,
}

#[derive(Debug, Clone)]
pub struct VisitDraft {
    pub id: PatrolVisitId,
    pub site_id: SiteId,
    pub at: Option<NaiveDateTime>,
    pub note: String,
    pub attachment_ids: Vec<AttachmentId>,
}

impl NewVisit {
    pub fn validate(self) -> AppResult<VisitDraft> {
        let mut c = Checks::new();
        c.client_id(self.id.map(|id| id.uuid()));
        c.long_text("note", &self.note, MAX_NOTE_CHARS);
        let at = self.at.map(validate::stored);
        if let Some(t) = at {
            c.moment("at", t);
        }
        if self.attachment_ids.len() > MAX_ATTACHMENTS {
            c.fail(
                "attachment_ids",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            );
        }
        c.finish()?;
        Ok(VisitDraft {
            id: self.id.unwrap_or_default(),
            site_id: self.site_id,
            at,
            note: self.note,
            attachment_ids: self.attachment_ids,
        })
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "end", "ended_at": "2020-07-24T11:30:00+08:00"}))]
pub struct PatrolTransition {
    pub action: PatrolAction,
    /// `end`: when the inspector finished (the phone's time); now when absent.
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatrolQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub grid_id: Option<UnitId>,
    #[param(inline)]
    pub status: Option<PatrolStatus>,
    /// `me`: the caller's own patrols.
    #[param(inline)]
    pub inspector: Option<crate::tasks::forms::AssigneeFilter>,
    /// Started at or after this time.
    pub started_after: Option<DateTime<Utc>>,
    /// Started before this time.
    pub started_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct PatrolFilter {
    pub grid_id: Option<UnitId>,
    pub status: Option<PatrolStatus>,
    pub mine: bool,
    pub started_after: Option<NaiveDateTime>,
    pub started_before: Option<NaiveDateTime>,
}

impl PatrolQuery {
    pub fn validate(self) -> AppResult<PatrolFilter> {
        let moment = validate::query_moment;
        Ok(PatrolFilter {
            grid_id: self.grid_id,
            status: self.status,
            mine: self.inspector.is_some(),
            started_after: moment("started_after", self.started_after)?,
            started_before: moment("started_before", self.started_before)?,
        })
    }
}
