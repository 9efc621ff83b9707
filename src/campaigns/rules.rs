//! What a campaign is and how it moves: its kinds, its statuses and the transitions
//! between them, and the checks on its fields. Plain functions, tested without a database.

use chrono::NaiveDate;

use crate::text_enum;

text_enum! {
    /// The kinds of campaign districts run.
    pub enum CampaignKind {
        /// 创建全国文明城市 (the national civilized-city drive).
        CivilizedCity = "civilized_city",
        /// 防汛备汛 (flood-season preparation).
        FloodPrep = "flood_prep",
        /// 述职述廉 (duty and integrity reviews).
        DutyReview = "duty_review",
        /// 志愿服务 (volunteer work).
        Volunteer = "volunteer",
        /// 督查检查 (inspections, unannounced visits).
        Inspection = "inspection",
        Other = "other",
    }
}

pub use crate::work::CampaignStatus;

text_enum! {
    /// What `POST /campaigns/{id}/transitions` may ask for.
    pub enum CampaignAction {
        Activate = "activate",
        Close = "close",
        Reopen = "reopen",
    }
}

/// The status `action` leads to from `status`; `Err` with the allowed actions.
pub fn next(
    status: CampaignStatus,
    action: CampaignAction,
) -> Result<CampaignStatus, Vec<CampaignAction>> {
    use CampaignAction::*;
    use CampaignStatus::*;
    let to = |status, action| match (status, action) {
        (Planned, Activate) => Some(Active),
        (Planned | Active, Close) => Some(Closed),
        (Closed, Reopen) => Some(Active),
        _ => None,
    };
    to(status, action).ok_or_else(|| {
        CampaignAction::ALL
            .iter()
            .copied()
            .filter(|a| to(status, *a).is_some())
            .collect()
    })
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
pub const MAX_NOTE_CHARS: usize = 1000;

/// A campaign ends on or after the day it starts.
pub fn check_period(starts_on: NaiveDate, ends_on: NaiveDate) -> Result<(), String> {
    if ends_on < starts_on {
        return Err(format!("must not be before starts_on ({starts_on})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignAction::*;
    use CampaignStatus::*;

    #[test]
    fn campaign_workflow() {
        assert_eq!(next(Planned, Activate), Ok(Active));
        assert_eq!(next(Planned, Close), Ok(Closed));
        assert_eq!(next(Active, Close), Ok(Closed));
        assert_eq!(next(Closed, Reopen), Ok(Active));
        assert_eq!(next(Active, Activate), Err(vec![Close]));
        assert_eq!(next(Closed, Close), Err(vec![Reopen]));
        assert_eq!(next(Planned, Reopen), Err(vec![Activate, Close]));
    }

    #[test]
    fn periods() {
        let d = |day| NaiveDate::from_ymd_opt(2020, 7, day).unwrap();
        assert!(check_period(d(1), d(31)).is_ok());
        assert!(check_period(d(24), d(24)).is_ok());
        assert!(check_period(d(24), d(23)).is_err());
    }
}
