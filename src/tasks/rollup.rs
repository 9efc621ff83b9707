//! Roll-ups of tasks for the records above them: a directive's progress (the weighted
//! progress of its tasks that are not cancelled, [`rules::rollup`]) and its task counts by
//! status, and a campaign's progress (the average of its directives that have tasks). One
//! grouped query per page of directives or campaigns.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, sum};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::tasks;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ids::{CampaignId, DirectiveId};
use crate::tasks::rules::{round1, TaskStatus};

/// How many tasks of a directive are in each status, and how many are overdue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskCounts {
    pub assigned: i64,
    pub in_progress: i64,
    pub submitted: i64,
    pub accepted: i64,
    pub cancelled: i64,
    /// Open and past their deadline.
    pub overdue: i64,
    pub total: i64,
}

impl TaskCounts {
    fn add(&mut self, status: TaskStatus, n: i64) {
        let slot = match status {
            TaskStatus::Assigned => &mut self.assigned,
            TaskStatus::InProgress => &mut self.in_progress,
            TaskStatus::Submitted => &mut self.submitted,
            TaskStatus::Accepted => &mut self.accepted,
            TaskStatus::Cancelled => &mut self.cancelled,
        };
        *slot += n;
        self.total += n;
    }
}

/// A directive's roll-up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectiveRollup {
    pub progress: f64,
    pub counts: TaskCounts,
    /// Sum of the weights of its tasks that are not cancelled (0: nothing to average).
    weight: i64,
}

type Group = (
    DirectiveId,
    CampaignId,
    TaskStatus,
    i64,
    Option<i64>,
    Option<i64>,
);

/// The roll-ups of the directives that match `which` (by directive or by campaign).
fn load(
    conn: &mut DbConnection,
    which: Which<'_>,
    now: NaiveDateTime,
) -> AppResult<Vec<(DirectiveId, CampaignId, DirectiveRollup)>> {
    let mut groups = tasks::table
        .group_by((tasks::directive_id, tasks::campaign_id, tasks::status))
        .select((
            tasks::directive_id,
            tasks::campaign_id,
            tasks::status,
            count_star(),
            sum(tasks::progress * tasks::weight),
            sum(tasks::weight),
        ))
        .into_boxed();
    let mut late = tasks::table
        .filter(crate::db::in_list(tasks::status, TaskStatus::OPEN))
        .filter(tasks::due_at.lt(now))
        .group_by(tasks::directive_id)
        .select((tasks::directive_id, count_star()))
        .into_boxed();
    match which {
        Which::Directives(ids) => {
            groups = groups.filter(crate::db::in_list(tasks::directive_id, ids.to_vec()));
            late = late.filter(crate::db::in_list(tasks::directive_id, ids.to_vec()));
        }
        Which::Campaigns(ids) => {
            groups = groups.filter(crate::db::in_list(tasks::campaign_id, ids.to_vec()));
            late = late.filter(crate::db::in_list(tasks::campaign_id, ids.to_vec()));
        }
    }
    let groups: Vec<Group> = groups.load(conn)?;
    let late: HashMap<DirectiveId, i64> = late.load(conn)?.into_iter().collect();
    let mut by_directive: HashMap<DirectiveId, (CampaignId, DirectiveRollup, i64)> = HashMap::new();
    for (directive, campaign, status, n, weighted, weight) in groups {
        let entry = by_directive
            .entry(directive)
            .or_insert_with(|| (campaign, DirectiveRollup::default(), 0));
        entry.1.counts.add(status, n);
        if status != TaskStatus::Cancelled {
            entry.2 += weighted.unwrap_or(0);
            entry.1.weight += weight.unwrap_or(0);
        }
    }
    Ok(by_directive
        .into_iter()
        .map(|(directive, (campaign, mut rollup, weighted))| {
            rollup.counts.overdue = late.get(&directive).copied().unwrap_or(0);
            if rollup.weight > 0 {
                rollup.progress = round1(weighted as f64 / rollup.weight as f64);
            }
            (directive, campaign, rollup)
        })
        .collect())
}

enum Which<'a> {
    Directives(&'a [DirectiveId]),
    Campaigns(&'a [CampaignId]),
}

/// The roll-ups of these directives (absent: no tasks yet).
pub fn directives(
    conn: &mut DbConnection,
    ids: &[DirectiveId],
    now: NaiveDateTime,
) -> AppResult<HashMap<DirectiveId, DirectiveRollup>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(load(conn, Which::Directives(ids), now)?
        .into_iter()
        .map(|(d, _, r)| (d, r))
        .collect())
}

/// The progress of these campaigns: the average progress of their directives that have
/// tasks that are not cancelled (absent: none yet).
pub fn campaigns(
    conn: &mut DbConnection,
    ids: &[CampaignId],
    now: NaiveDateTime,
) -> AppResult<HashMap<CampaignId, f64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sums: HashMap<CampaignId, (f64, u32)> = HashMap::new();
    for (_, campaign, rollup) in load(conn, Which::Campaigns(ids), now)? {
        if rollup.weight > 0 {
            let entry = sums.entry(campaign).or_insert((0.0, 0));
            entry.0 += rollup.progress;
            entry.1 += 1;
        }
    }
    Ok(sums
        .into_iter()
        .map(|(c, (sum, n))| (c, round1(sum / f64::from(n))))
        .collect())
}
