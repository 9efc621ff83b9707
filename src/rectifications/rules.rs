//! The rectification workflow (立案 → 派遣 → 处置 → 核查 → 结案) and what surrounds it, as
//! plain functions: which action leads where from which status and which side of the
//! workflow takes it, how an item is routed to the unit that fixes it, how its number
//! reads, and what counts as a nearby duplicate. Tested here without a database;
//! `rectifications::model` applies them.

use chrono::{Datelike, FixedOffset, NaiveDateTime};

use crate::auth::Action;
use crate::categories::rules::Routing;
use crate::coords::Bbox;
use crate::deadlines::Phase;
use crate::ids::UnitId;
use crate::text_enum;
use crate::units::UnitKind;

text_enum! {
    /// Where a report came from.
    pub enum Source {
        /// Found on a grid patrol (巡查).
        Patrol = "patrol",
        /// A failed item of an inspection checklist (检查).
        Inspection = "inspection",
        /// An unannounced inspection (暗访).
        Unannounced = "unannounced",
        /// A citizen, through an outside app (Open311).
        Public = "public",
        /// Raised by a directive.
        Directive = "directive",
        Other = "other",
    }
}

text_enum! {
    /// Where an item is in its workflow.
    pub enum ItemStatus {
        /// Filed (立案) but no rule could route it: it waits in triage for an office.
        Reported = "reported",
        /// Sent to the responsible unit (派遣), not yet started.
        Assigned = "assigned",
        /// Being fixed (处置).
        InProgress = "in_progress",
        /// Fixed, with evidence, waiting to be checked (核查).
        Submitted = "submitted",
        /// Checked and closed (结案).
        Accepted = "accepted",
        /// Not a valid report.
        Cancelled = "cancelled",
        /// The same problem as another open item.
        Duplicate = "duplicate",
    }
}

impl ItemStatus {
    pub const OPEN: &'static [ItemStatus] = &[
        ItemStatus::Reported,
        ItemStatus::Assigned,
        ItemStatus::InProgress,
        ItemStatus::Submitted,
    ];
    pub const WORKING: &'static [ItemStatus] = &[ItemStatus::Assigned, ItemStatus::InProgress];
    /// Open but in someone else's hands than the fixing unit's: triage, or the check.
    pub const WAITING: &'static [ItemStatus] = &[ItemStatus::Reported, ItemStatus::Submitted];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// As deadlines see it: the unit works on it from assignment until it submits; an item
    /// in triage or being checked waits for an office (only red applies).
    pub fn phase(self) -> Phase {
        if Self::WORKING.contains(&self) {
            Phase::Working
        } else if self.is_open() {
            Phase::Waiting
        } else {
            Phase::Closed
        }
    }
}

text_enum! {
    /// What `POST /rectifications/{id}/transitions` may ask for.
    pub enum ItemAction {
        Assign = "assign",
        Start = "start",
        Submit = "submit",
        Accept = "accept",
        Reject = "reject",
        Reassign = "reassign",
        RequestExtension = "request_extension",
        ApproveExtension = "approve_extension",
        DenyExtension = "deny_extension",
        Cancel = "cancel",
        MarkDuplicate = "mark_duplicate",
    }
}

impl ItemAction {
    /// What the caller must be allowed ([`crate::auth::policy::RULES`]): the responsible
    /// unit fixes; the reporter, offices and leaders check (never whoever submitted the
    /// fix); offices route and manage.
    pub fn needs(self) -> Action {
        use ItemAction::*;
        match self {
            Start | Submit | RequestExtension => Action::FixItem,
            Accept | Reject => Action::VerifyItem,
            Assign | Reassign | ApproveExtension | DenyExtension | Cancel => Action::ManageItem,
            MarkDuplicate => Action::MarkDuplicate,
        }
    }

    /// Reasons are recorded for sending a fix back, dropping a report and asking for time.
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            ItemAction::Reject | ItemAction::Cancel | ItemAction::RequestExtension
        )
    }
}

text_enum! {
    /// What an attachment of an item shows.
    pub enum Stage {
        /// Sent with the report: the problem (整改前).
        Report = "report",
        /// Sent with a fix: the evidence (整改后).
        Evidence = "evidence",
    }
}

/// What the workflow needs to know about an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemState {
    pub status: ItemStatus,
    /// An extension request waits for a decision.
    pub extension_pending: bool,
}

/// The status `action` leads to from `state`; `Err` with the actions allowed instead.
pub fn next(state: ItemState, action: ItemAction) -> Result<ItemStatus, Vec<ItemAction>> {
    next_status(state, action).ok_or_else(|| allowed(state))
}

/// Every action allowed from `state`.
pub fn allowed(state: ItemState) -> Vec<ItemAction> {
    ItemAction::ALL
        .iter()
        .copied()
        .filter(|a| next_status(state, *a).is_some())
        .collect()
}

/// The workflow: status × action → status. Triage ends with an assignment; a rejected fix
/// goes back to work; a pending extension must be decided before another is asked for; an
/// item moves to another unit only while that unit has not submitted.
fn next_status(state: ItemState, action: ItemAction) -> Option<ItemStatus> {
    use ItemAction::*;
    use ItemStatus::*;
    match (state.status, action) {
        (Reported, Assign) => Some(Assigned),
        (Assigned, Start) => Some(InProgress),
        (InProgress, Submit) => Some(Submitted),
        (Submitted, Accept) => Some(Accepted),
        (Submitted, Reject) => Some(InProgress),
        (Assigned | InProgress, Reassign) => Some(Assigned),
        (Assigned | InProgress, RequestExtension) if !state.extension_pending => Some(state.status),
        (Assigned | InProgress | Submitted, ApproveExtension | DenyExtension)
            if state.extension_pending =>
        {
            Some(state.status)
        }
        (Reported | Assigned | InProgress | Submitted, Cancel) => Some(Cancelled),
        (Reported | Assigned | InProgress, MarkDuplicate) => Some(Duplicate),
        _ => None,
    }
}

/// The unit kinds a routing kind accepts above a grid: a street (街道) stands where a town
/// (镇) does, a community (社区) where a village (村) does.
fn same_level(wanted: UnitKind, found: UnitKind) -> bool {
    use UnitKind::*;
    wanted == found
        || matches!(
            (wanted, found),
            (Town, Street) | (Street, Town) | (Village, Community) | (Community, Village)
        )
}

/// The unit that fixes an item of a category with `routing`, found in the grid's chain
/// (`chain`: the grid's ancestors and the grid, from the root down, with their kinds): the
/// named unit when the routing names one; otherwise the nearest unit of the routing's kind
/// (or its level) above the grid. `None`: no rule decides, the item goes to triage.
pub fn route(routing: &Routing, chain: &[(UnitId, UnitKind)]) -> Option<UnitId> {
    if let Some(unit) = routing.unit_id {
        return Some(unit);
    }
    chain
        .iter()
        .rev()
        .find(|(_, kind)| *kind != UnitKind::Grid && same_level(routing.unit_kind, *kind))
        .map(|(id, _)| *id)
}

/// The district's time zone (China Standard Time): numbers run by the local year.
pub fn local_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

/// The year an item reported at `now` (UTC) is numbered in.
pub fn number_year(now: NaiveDateTime) -> i32 {
    now.and_utc().with_timezone(&local_offset()).year()
}

/// The human-readable number: `ZG-2020-000123` (整改 = ZG).
pub fn number(year: i32, sequence: i32) -> String {
    format!("ZG-{year}-{sequence:06}")
}

/// Default radius within which an open item of the same category is a possible duplicate.
pub const DEFAULT_DUPLICATE_RADIUS_M: f64 = 50.0;

/// A box surely holding every point within `radius_m` of (`lon`, `lat`): what the
/// database narrows by before distances are measured.
pub fn bbox_around(lon: f64, lat: f64, radius_m: f64) -> Bbox {
    const METRES_PER_DEGREE: f64 = 111_320.0;
    // Generous by a tenth, and never dividing by ~0 near the poles.
    let dlat = 1.1 * radius_m / METRES_PER_DEGREE;
    let dlon = 1.1 * radius_m / (METRES_PER_DEGREE * lat.to_radians().cos().abs().max(0.01));
    Bbox {
        min_lon: (lon - dlon).max(-180.0),
        min_lat: (lat - dlat).max(-90.0),
        max_lon: (lon + dlon).min(180.0),
        max_lat: (lat + dlat).min(90.0),
    }
}

pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
pub const MAX_ADDRESS_CHARS: usize = 200;
pub use crate::attachments::rules::MAX_ATTACHMENTS;

#[cfg(test)]
mod tests {
    use super::*;
    use ItemAction::*;
    use ItemStatus::*;

    fn state(status: ItemStatus, extension_pending: bool) -> ItemState {
        ItemState {
            status,
            extension_pending,
        }
    }

    /// The whole workflow as a table.
    #[test]
    fn workflow_table() {
        let cases: &[(ItemStatus, bool, ItemAction, Option<ItemStatus>)] = &[
            (Reported, false, Assign, Some(Assigned)),
            (Reported, false, Start, None),
            (Reported, false, Reassign, None),
            (Reported, false, Cancel, Some(Cancelled)),
            (Reported, false, MarkDuplicate, Some(Duplicate)),
            (Reported, false, RequestExtension, None),
            (Assigned, false, Assign, None),
            (Assigned, false, Start, Some(InProgress)),
            (Assigned, false, Submit, None),
            (Assigned, false, Reassign, Some(Assigned)),
            (Assigned, false, RequestExtension, Some(Assigned)),
            (Assigned, true, RequestExtension, None),
            (Assigned, true, ApproveExtension, Some(Assigned)),
            (Assigned, false, ApproveExtension, None),
            (Assigned, false, MarkDuplicate, Some(Duplicate)),
            (InProgress, false, Submit, Some(Submitted)),
            (InProgress, false, Accept, None),
            (InProgress, false, Reassign, Some(Assigned)),
            (InProgress, true, DenyExtension, Some(InProgress)),
            (InProgress, false, Cancel, Some(Cancelled)),
            (Submitted, false, Accept, Some(Accepted)),
            (Submitted, false, Reject, Some(InProgress)),
            (Submitted, false, Reassign, None),
            (Submitted, false, MarkDuplicate, None),
            (Submitted, false, RequestExtension, None),
            (Submitted, true, ApproveExtension, Some(Submitted)),
            (Submitted, false, Cancel, Some(Cancelled)),
        ];
        for (status, pending, action, expected) in cases {
            let got = next(state(*status, *pending), *action).ok();
            assert_eq!(got, *expected, "{status:?} (pending {pending}) {action:?}");
        }
        for status in [Accepted, Cancelled, Duplicate] {
            for pending in [false, true] {
                assert!(allowed(state(status, pending)).is_empty(), "{status:?}");
            }
        }
        assert_eq!(
            next(state(Submitted, false), Start).unwrap_err(),
            vec![Accept, Reject, Cancel]
        );
    }

    #[test]
    fn sides_and_phases() {
        for a in [Start, Submit, RequestExtension] {
            assert_eq!(a.needs(), Action::FixItem);
        }
        for a in [Accept, Reject] {
            assert_eq!(a.needs(), Action::VerifyItem);
        }
        for a in [Assign, Reassign, ApproveExtension, DenyExtension, Cancel] {
            assert_eq!(a.needs(), Action::ManageItem);
        }
        assert_eq!(MarkDuplicate.needs(), Action::MarkDuplicate);
        assert!(Reject.needs_note() && Cancel.needs_note() && RequestExtension.needs_note());
        assert!(!Accept.needs_note() && !Submit.needs_note() && !MarkDuplicate.needs_note());
        assert_eq!(Reported.phase(), Phase::Waiting);
        assert_eq!(Assigned.phase(), Phase::Working);
        assert_eq!(InProgress.phase(), Phase::Working);
        assert_eq!(Submitted.phase(), Phase::Waiting);
        for closed in [Accepted, Cancelled, Duplicate] {
            assert_eq!(closed.phase(), Phase::Closed);
            assert!(!closed.is_open());
        }
    }

    #[test]
    fn routing_finds_the_unit_above_the_grid() {
        let (district, town, street, village, grid, dept) = (
            UnitId::new(),
            UnitId::new(),
            UnitId::new(),
            UnitId::new(),
            UnitId::new(),
            UnitId::new(),
        );
        let town_chain = [
            (district, UnitKind::District),
            (town, UnitKind::Town),
            (village, UnitKind::Village),
            (grid, UnitKind::Grid),
        ];
        let street_chain = [
            (district, UnitKind::District),
            (street, UnitKind::Street),
            (grid, UnitKind::Grid),
        ];
        let to = |kind, unit_id| Routing {
            unit_kind: kind,
            unit_id,
        };
        assert_eq!(route(&to(UnitKind::Town, None), &town_chain), Some(town));
        // A street stands where a town does.
        assert_eq!(
            route(&to(UnitKind::Town, None), &street_chain),
            Some(street)
        );
        assert_eq!(
            route(&to(UnitKind::Village, None), &town_chain),
            Some(village)
        );
        assert_eq!(
            route(&to(UnitKind::District, None), &street_chain),
            Some(district)
        );
        // No village above a street's grid: triage.
        assert_eq!(route(&to(UnitKind::Village, None), &street_chain), None);
        // A named unit wins, wherever the grid is.
        assert_eq!(
            route(&to(UnitKind::Department, Some(dept)), &street_chain),
            Some(dept)
        );
        // A grid never fixes anything, even if asked.
        assert_eq!(route(&to(UnitKind::Grid, None), &town_chain), None);
    }

    #[test]
    fn numbers_run_by_the_local_year() {
        assert_eq!(number(2020, 123), "ZG-2020-000123");
        assert_eq!(number(2026, 1_234_567), "ZG-2026-1234567");
        let new_years_eve_utc = chrono::NaiveDate::from_ymd_opt(2020, 12, 31)
            .unwrap()
            .and_hms_opt(16, 30, 0)
            .unwrap();
        // 00:30 on 1 January in Beijing.
        assert_eq!(number_year(new_years_eve_utc), 2021);
        assert_eq!(
            number_year(new_years_eve_utc - chrono::TimeDelta::hours(1)),
            2020
        );
    }

    #[test]
    fn the_duplicate_box_holds_the_circle() {
        let (lon, lat) = (115.5043, 35.2152);
        let b = bbox_around(lon, lat, 50.0);
        for (dlon, dlat) in [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
            // A point 50 m away in each direction lies inside.
            let p = (lon + dlon * 0.00055, lat + dlat * 0.00045);
            let d = crate::coords::distance_m((lon, lat), p);
            assert!(d > 45.0 && d < 62.0, "{d}");
            if d <= 50.0 {
                assert!(
                    p.0 >= b.min_lon && p.0 <= b.max_lon && p.1 >= b.min_lat && p.1 <= b.max_lat
                );
            }
        }
        // And it is not much more than the circle.
        let far = (lon + 0.0012, lat);
        assert!(far.0 > b.max_lon);
    }
}
