//! What campaign work has in common, below the domains that do it: how pressing work is
//! ([`Priority`], a directive's and so its tasks'), whether a campaign still takes work
//! ([`CampaignStatus`], [`ensure_open`]). Tasks, directives, rectification items,
//! patrols and activities all live under a campaign; the campaign module itself sits
//! above tasks (its progress is their roll-up), so what they need of it is here.

use diesel::prelude::*;

use crate::db::schema::campaigns;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, Code};
use crate::ids::CampaignId;
use crate::text_enum;

text_enum! {
    /// How pressing a directive is; its tasks sort by it.
    pub enum Priority {
        Normal = "normal",
        High = "high",
        /// 急办.
        Urgent = "urgent",
    }
}

impl Priority {
    /// Higher is more pressing (for sorting).
    pub fn rank(self) -> i32 {
        match self {
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }
}

text_enum! {
    pub enum CampaignStatus {
        /// Being prepared: work may be recorded already.
        Planned = "planned",
        Active = "active",
        /// Over: nothing under it may be written until it is reopened.
        Closed = "closed",
    }
}

/// Refuses work under a campaign that is closed (`campaign_closed`); `name` names it.
pub fn refuse_if_closed(status: CampaignStatus, name: &str) -> AppResult<()> {
    if status == CampaignStatus::Closed {
        return Err(AppError::conflict(
            Code::CampaignClosed,
            format!("the campaign {name} is closed: reopen it before recording work under it"),
        ));
    }
    Ok(())
}

/// Refuses a write under the campaign `id` while it is closed.
pub fn ensure_open(conn: &mut DbConnection, id: CampaignId) -> AppResult<()> {
    let (status, name): (CampaignStatus, String) = campaigns::table
        .find(id)
        .select((campaigns::status, campaigns::name))
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("campaign"))?;
    refuse_if_closed(status, &name)
}
