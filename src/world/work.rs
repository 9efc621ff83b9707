//! Campaign work in a world description: campaigns, meetings, directives with their tasks
//! and each task's history, and volunteer activities — loaded through the same model
//! functions the API uses, acting as the users the description names, at the moments it
//! gives (absolute, or relative to the load: a demo loaded today has tasks overdue today).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde::Deserialize;

use crate::activities::forms::ActivityDraft;
use crate::auth::{sessions, Actor, Caller};
use crate::campaigns::forms::{CampaignTransition, NewCampaign};
use crate::campaigns::rules::{CampaignAction, CampaignKind, CampaignStatus};
use crate::db::DbConnection;
use crate::directives::forms::{DirectiveDraft, SplitDraft, Targets};
use crate::directives::rules::Priority;
use crate::error::{AppError, AppResult};
use crate::ids::{
    ActivityId, CampaignId, DirectiveId, MeetingId, SessionId, TaskId, UnitId, UserId,
};
use crate::meetings::forms::MeetingDraft;
use crate::tasks::forms::{ProgressReport, TransitionDraft};
use crate::tasks::rules::TaskAction;
use crate::{activities, campaigns, directives, meetings, tasks};

/// A moment: an RFC 3339 time, or days (and hours) from the moment of loading.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Moment {
    At(DateTime<Utc>),
    Relative {
        days: i64,
        #[serde(default)]
        hours: i64,
    },
}

impl Moment {
    pub fn at(&self, now: NaiveDateTime) -> NaiveDateTime {
        match self {
            Moment::At(t) => crate::validate::stored(*t),
            Moment::Relative { days, hours } => {
                now + TimeDelta::days(*days) + TimeDelta::hours(*hours)
            }
        }
    }

    fn date(&self, now: NaiveDateTime) -> NaiveDate {
        self.at(now).date()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    pub key: String,
    pub kind: CampaignKind,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub starts_on: Moment,
    pub ends_on: Moment,
    /// The lead unit's key.
    pub lead: String,
    /// The user (key) who creates and runs it.
    pub by: String,
    /// Where it ends up; `planned` when absent.
    #[serde(default)]
    pub status: Option<CampaignStatus>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingSpec {
    pub key: String,
    pub campaign: String,
    pub title: String,
    pub held_at: Moment,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub chaired_by: String,
    /// Attending units' keys.
    #[serde(default)]
    pub units: Vec<String>,
    #[serde(default)]
    pub summary: String,
    pub by: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectiveSpec {
    pub key: String,
    pub campaign: String,
    #[serde(default)]
    pub meeting: Option<String>,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub priority: Option<Priority>,
    pub by: String,
    /// When it was issued and split (default: the load's moment).
    #[serde(default)]
    pub at: Option<Moment>,
    #[serde(default)]
    pub tasks: Vec<TaskSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub key: String,
    pub unit: String,
    pub due: Moment,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub weight: Option<i32>,
    /// What happened to it, in order.
    #[serde(default)]
    pub steps: Vec<StepSpec>,
}

/// A transition (`action`) or a progress report (`progress`), by a user, at a moment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    #[serde(default)]
    pub action: Option<TaskAction>,
    #[serde(default)]
    pub progress: Option<i32>,
    pub by: String,
    pub at: Moment,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub new_due: Option<Moment>,
    /// `reassign`: the new unit's key.
    #[serde(default)]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivitySpec {
    pub key: String,
    pub campaign: String,
    pub unit: String,
    pub title: String,
    pub date: Moment,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub participants: i32,
    #[serde(default)]
    pub volunteer_hours: f64,
    #[serde(default)]
    pub beneficiaries: i32,
    #[serde(default)]
    pub description: String,
    pub by: String,
}

/// The campaign work of a world, as described.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkSpec {
    #[serde(default)]
    pub campaigns: Vec<CampaignSpec>,
    #[serde(default)]
    pub meetings: Vec<MeetingSpec>,
    #[serde(default)]
    pub directives: Vec<DirectiveSpec>,
    #[serde(default)]
    pub activities: Vec<ActivitySpec>,
}

impl WorkSpec {
    pub fn steps(&self) -> u64 {
        (self.campaigns.len() + self.meetings.len() + self.directives.len() + self.activities.len())
            as u64
    }
}

/// What a load of campaign work found or made, by key.
#[derive(Debug, Default, Clone)]
pub struct LoadedWork {
    pub campaigns: BTreeMap<String, CampaignId>,
    pub meetings: BTreeMap<String, MeetingId>,
    pub directives: BTreeMap<String, DirectiveId>,
    pub tasks: BTreeMap<String, TaskId>,
    pub activities: BTreeMap<String, ActivityId>,
}

/// What a load of campaign work created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CreatedWork {
    pub campaigns: usize,
    pub meetings: usize,
    pub directives: usize,
    pub tasks: usize,
    pub activities: usize,
}

/// The users the loader acts as, each in a session of its own (ended by [`Acting::end`]).
pub(super) struct Acting<'a> {
    users: &'a BTreeMap<String, UserId>,
    actors: HashMap<String, Actor>,
    sessions: Vec<SessionId>,
}

impl<'a> Acting<'a> {
    pub(super) fn new(users: &'a BTreeMap<String, UserId>) -> Self {
        Acting {
            users,
            actors: HashMap::new(),
            sessions: Vec::new(),
        }
    }

    /// Ends the sessions the load started.
    pub(super) fn end(self, conn: &mut DbConnection) -> AppResult<()> {
        for session in self.sessions {
            sessions::revoke_session(conn, session)?;
        }
        Ok(())
    }

    pub(super) fn as_user(&mut self, conn: &mut DbConnection, key: &str) -> AppResult<Actor> {
        if let Some(actor) = self.actors.get(key) {
            return Ok(actor.clone());
        }
        let user = *self
            .users
            .get(key)
            .ok_or_else(|| AppError::internal(format!("the world names unknown user `{key}`")))?;
        let session = sessions::start(conn, user)?;
        self.sessions.push(session);
        let actor = Caller::of_session(user, session).resolve(conn)?;
        self.actors.insert(key.to_string(), actor.clone());
        Ok(actor)
    }
}

pub(super) fn key<T: Copy>(map: &BTreeMap<String, T>, what: &str, key: &str) -> AppResult<T> {
    map.get(key)
        .copied()
        .ok_or_else(|| AppError::internal(format!("the world names unknown {what} `{key}`")))
}

/// Loads `spec` (in the caller's transaction) at `now` into `world` (whose units and
/// users it refers to); records are created once (a campaign by name, the rest by title or
/// unit within it).
pub fn load(
    conn: &mut DbConnection,
    spec: &WorkSpec,
    world: &mut super::Loaded,
    now: NaiveDateTime,
    progress: &mut dyn FnMut(&str),
) -> AppResult<()> {
    let mut acting = Acting::new(&world.users);
    let result = load_as(
        conn,
        spec,
        &world.units,
        &mut acting,
        &mut world.work,
        &mut world.created.work,
        now,
        progress,
    );
    acting.end(conn)?;
    result
}

#[allow(clippy::too_many_arguments)]
fn load_as(
    conn: &mut DbConnection,
    spec: &WorkSpec,
    units: &BTreeMap<String, UnitId>,
    acting: &mut Acting<'_>,
    loaded: &mut LoadedWork,
    created: &mut CreatedWork,
    now: NaiveDateTime,
    progress: &mut dyn FnMut(&str),
) -> AppResult<()> {
    // Campaigns that existed already are left alone, with everything under them.
    let mut fresh: Vec<&str> = Vec::new();
    for c in &spec.campaigns {
        progress(&c.name);
        if let Some(existing) = campaigns::model::find_by_name(conn, &c.name)? {
            loaded.campaigns.insert(c.key.clone(), existing.id);
            continue;
        }
        let actor = acting.as_user(conn, &c.by)?;
        let input = NewCampaign {
            kind: c.kind,
            name: c.name.clone(),
            description: c.description.clone(),
            starts_on: c.starts_on.date(now),
            ends_on: c.ends_on.date(now),
            lead_unit_id: key(units, "unit", &c.lead)?,
            scheme_id: None,
        }
        .validate()?;
        // Recorded when it starts, if that is past.
        let at = now.min(input.starts_on.and_time(chrono::NaiveTime::MIN));
        let row = campaigns::model::create(conn, &actor, &input, at)?;
        if matches!(
            c.status,
            Some(CampaignStatus::Active | CampaignStatus::Closed)
        ) {
            let activate = CampaignTransition {
                action: CampaignAction::Activate,
                note: String::new(),
            };
            campaigns::model::transition(conn, &actor, &row, &activate, at)?;
        }
        loaded.campaigns.insert(c.key.clone(), row.id);
        fresh.push(&c.key);
        created.campaigns += 1;
    }
    let is_fresh = |campaign: &str| fresh.contains(&campaign);

    for m in &spec.meetings {
        progress(&m.title);
        let campaign = key(&loaded.campaigns, "campaign", &m.campaign)?;
        if !is_fresh(&m.campaign) {
            if let Some(id) = meetings::model::find_by_title(conn, campaign, &m.title)? {
                loaded.meetings.insert(m.key.clone(), id);
            }
            continue;
        }
        let actor = acting.as_user(conn, &m.by)?;
        let draft = MeetingDraft {
            title: m.title.clone(),
            held_at: m.held_at.at(now),
            place: m.place.clone(),
            chaired_by: m.chaired_by.clone(),
            unit_ids: m
                .units
                .iter()
                .map(|u| key(units, "unit", u))
                .collect::<AppResult<_>>()?,
            summary: m.summary.clone(),
        };
        let at = draft.held_at;
        let row = meetings::model::create(conn, &actor, campaign, &draft, at)?;
        loaded.meetings.insert(m.key.clone(), row.id);
        created.meetings += 1;
    }

    for d in &spec.directives {
        progress(&d.title);
        let campaign = key(&loaded.campaigns, "campaign", &d.campaign)?;
        if !is_fresh(&d.campaign) {
            if let Some(row) = directives::model::find_by_title(conn, campaign, &d.title)? {
                loaded.directives.insert(d.key.clone(), row.id);
                for t in &d.tasks {
                    let unit = key(units, "unit", &t.unit)?;
                    if let Some(id) = tasks::model::find_for_unit(conn, row.id, unit)? {
                        loaded.tasks.insert(t.key.clone(), id);
                    }
                }
            }
            continue;
        }
        load_directive(conn, d, campaign, units, acting, loaded, created, now)?;
    }

    for a in &spec.activities {
        progress(&a.title);
        let campaign = key(&loaded.campaigns, "campaign", &a.campaign)?;
        if !is_fresh(&a.campaign) {
            if let Some(id) = activities::model::find_by_title(conn, campaign, &a.title)? {
                loaded.activities.insert(a.key.clone(), id);
            }
            continue;
        }
        let actor = acting.as_user(conn, &a.by)?;
        let draft = ActivityDraft {
            title: a.title.clone(),
            date: a.date.date(now),
            place: a.place.clone(),
            participants: a.participants,
            volunteer_hours: a.volunteer_hours,
            beneficiaries: a.beneficiaries,
            description: a.description.clone(),
        };
        let unit = key(units, "unit", &a.unit)?;
        let row = activities::model::create(conn, &actor, (campaign, unit), &draft, now)?;
        loaded.activities.insert(a.key.clone(), row.id);
        created.activities += 1;
    }

    // Closed last: nothing may be written under a closed campaign.
    for c in spec
        .campaigns
        .iter()
        .filter(|c| is_fresh(&c.key) && c.status == Some(CampaignStatus::Closed))
    {
        let actor = acting.as_user(conn, &c.by)?;
        let id = key(&loaded.campaigns, "campaign", &c.key)?;
        let row = campaigns::model::find(conn, id)?.row;
        let close = CampaignTransition {
            action: CampaignAction::Close,
            note: String::new(),
        };
        campaigns::model::transition(conn, &actor, &row, &close, now)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn load_directive(
    conn: &mut DbConnection,
    d: &DirectiveSpec,
    campaign: CampaignId,
    units: &BTreeMap<String, UnitId>,
    acting: &mut Acting<'_>,
    loaded: &mut LoadedWork,
    created: &mut CreatedWork,
    now: NaiveDateTime,
) -> AppResult<()> {
    let actor = acting.as_user(conn, &d.by)?;
    let at = d.at.map_or(now, |m| m.at(now));
    let draft = DirectiveDraft {
        campaign_id: campaign,
        meeting_id: d
            .meeting
            .as_deref()
            .map(|m| key(&loaded.meetings, "meeting", m))
            .transpose()?,
        title: d.title.clone(),
        body: d.body.clone(),
        priority: d.priority.unwrap_or(Priority::Normal),
        default_due_at: None,
    };
    let directive = directives::model::create(conn, &actor, &draft, at)?;
    loaded.directives.insert(d.key.clone(), directive.id);
    created.directives += 1;
    for t in &d.tasks {
        let split = SplitDraft {
            targets: Targets::Units(vec![key(units, "unit", &t.unit)?]),
            due_at: Some(t.due.at(now)),
            assignee_id: t
                .assignee
                .as_deref()
                .map(|a| key(acting.users, "user", a))
                .transpose()?,
            title: t.title.clone(),
            weight: t.weight.unwrap_or(1),
        };
        let rows = directives::model::split(conn, &actor, &directive, &split, at)?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| AppError::internal("a split of one unit made no task"))?;
        loaded.tasks.insert(t.key.clone(), row.id);
        created.tasks += 1;
        for step in &t.steps {
            let by = acting.as_user(conn, &step.by)?;
            let placed = tasks::model::find(conn, row.id)?;
            let at = step.at.at(now);
            match (step.action, step.progress) {
                (Some(action), None) => {
                    let draft = TransitionDraft {
                        action,
                        note: step.note.clone(),
                        new_due_at: step.new_due.map(|m| m.at(now)),
                        assignee_id: None,
                        unit_id: step
                            .unit
                            .as_deref()
                            .map(|u| key(units, "unit", u))
                            .transpose()?,
                    };
                    by.require_on(action.needs(), &placed.resource(), "task")?;
                    tasks::model::transition(conn, &by, &placed, &draft, at)?;
                }
                (None, Some(progress)) => {
                    let report = ProgressReport {
                        progress,
                        note: step.note.clone(),
                    };
                    tasks::model::report_progress(conn, &by, &placed.row, &report, at)?;
                }
                _ => {
                    return Err(AppError::internal(format!(
                        "a step of task `{}` needs an action or a progress, not both",
                        t.key
                    )))
                }
            }
        }
    }
    Ok(())
}
