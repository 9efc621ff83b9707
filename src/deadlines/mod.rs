//! Deadlines, for everything that has one (tasks, rectification items): when it is
//! overdue, which colour three-colour supervision (三色督办) gives it, and whether it was
//! closed on time. Plain functions of the facts and the clock, tested here; [`sql`]
//! mirrors them as conditions so that lists filter by colour across pages.

pub mod extension;
pub mod sql;

pub use extension::{Extension, HasExtension};

use chrono::{NaiveDateTime, TimeDelta};

use crate::text_enum;

text_enum! {
    /// Three-colour supervision (三色督办), derived from the clock on every read.
    pub enum Warning {
        None = "none",
        /// Due soon.
        Blue = "blue",
        /// Behind the planned pace (序时进度), or little time left.
        Yellow = "yellow",
        /// Overdue and not done.
        Red = "red",
    }
}

/// When warnings start; from the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarningRules {
    /// Blue when the deadline is this near.
    pub due_soon: TimeDelta,
    /// Yellow when less than this percentage of the time (creation to deadline) is left.
    pub time_left_percent: i64,
    /// Yellow when progress is more than this many points behind the straight line from
    /// creation (0 %) to the deadline (100 %). Only for work that reports progress.
    pub pace_tolerance: i64,
}

impl Default for WarningRules {
    fn default() -> Self {
        WarningRules {
            due_soon: TimeDelta::hours(72),
            time_left_percent: 10,
            pace_tolerance: 10,
        }
    }
}

/// Where a piece of work stands, as far as its deadline is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The responsible unit is at it (or has yet to start): every colour applies.
    Working,
    /// Done on the unit's side, waiting for someone else (a check, a triage): only red.
    Waiting,
    /// Accepted, cancelled or otherwise closed: no colour, never overdue.
    Closed,
}

impl Phase {
    pub fn is_open(self) -> bool {
        self != Phase::Closed
    }
}

/// The facts warnings are derived from.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub phase: Phase,
    /// 0–100 for work that reports progress (tasks); `None` where there is no pace to keep
    /// (a rectification item is fixed or not), so only the time left counts.
    pub progress: Option<i32>,
    pub created_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
}

/// Seconds since the epoch, as the SQL mirror computes them.
pub fn epoch_seconds(t: NaiveDateTime) -> f64 {
    t.and_utc().timestamp_micros() as f64 / 1e6
}

/// Past the deadline and still open.
pub fn overdue(phase: Phase, due_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    phase.is_open() && now > due_at
}

/// Behind the planned pace, or in the last stretch of the time. The same arithmetic as
/// the SQL mirror ([`sql::Behind`]), in seconds since the epoch.
pub fn behind(t: &Timing, now: NaiveDateTime, rules: &WarningRules) -> bool {
    let (created, due, now) = (
        epoch_seconds(t.created_at),
        epoch_seconds(t.due_at),
        epoch_seconds(now),
    );
    let span = due - created;
    let pace = t.progress.is_some_and(|progress| {
        (f64::from(progress) + rules.pace_tolerance as f64) * span < 100.0 * (now - created)
    });
    let late = 100.0 * (due - now) < rules.time_left_percent as f64 * span;
    pace || late
}

/// The colour at `now`: red when overdue; for work still being done, yellow when behind
/// ([`behind`]), blue when due within `rules.due_soon`; otherwise none. Work waiting for
/// someone else is only ever red.
pub fn warning(t: &Timing, now: NaiveDateTime, rules: &WarningRules) -> Warning {
    if !t.phase.is_open() {
        return Warning::None;
    }
    if overdue(t.phase, t.due_at, now) {
        return Warning::Red;
    }
    if t.phase != Phase::Working {
        return Warning::None;
    }
    if behind(t, now, rules) {
        Warning::Yellow
    } else if t.due_at <= now + rules.due_soon {
        Warning::Blue
    } else {
        Warning::None
    }
}

/// Accepted at or before the original deadline (extensions do not count); `None` while
/// open or when closed without acceptance.
pub fn closed_on_time(
    accepted_at: Option<NaiveDateTime>,
    original_due_at: NaiveDateTime,
) -> Option<bool> {
    accepted_at.map(|at| at <= original_due_at)
}

/// Whole days past the original deadline (超期天数): up to `closed_at` when closed, up to
/// `now` while open; 0 when on time. A part of a day counts as a day.
pub fn days_overdue(
    original_due_at: NaiveDateTime,
    closed_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> i64 {
    let end = closed_at.unwrap_or(now);
    if end <= original_due_at {
        return 0;
    }
    let late = end - original_due_at;
    let day = TimeDelta::days(1);
    let whole = late.num_days();
    if late > day * i32::try_from(whole).unwrap_or(i32::MAX) {
        whole + 1
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use Phase::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2020, 7, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    /// Ten days from 1 July 00:00 to 11 July 00:00, with the default rules: blue within
    /// 72 h, yellow under 10 % of the time left or 10 points behind the line.
    fn timing(phase: Phase, progress: Option<i32>) -> Timing {
        Timing {
            phase,
            progress,
            created_at: at(1, 0),
            due_at: at(11, 0),
        }
    }

    #[test]
    fn warnings_at_fixed_times() {
        let rules = WarningRules::default();
        let cases: &[(Phase, Option<i32>, NaiveDateTime, Warning)] = &[
            // Day 1, nothing done: within the tolerance.
            (Working, Some(0), at(1, 12), Warning::None),
            // Day 2 (10 % of the time gone, 0 done): exactly at the tolerance, not behind.
            (Working, Some(0), at(2, 0), Warning::None),
            // Day 3: 20 % gone, 5 % done: behind.
            (Working, Some(5), at(3, 0), Warning::Yellow),
            (Working, Some(15), at(3, 0), Warning::None),
            // Without progress there is no pace: day 3 is fine.
            (Working, None, at(3, 0), Warning::None),
            // Day 8 (70 % gone), 80 % done: on pace, due in 72 h: blue.
            (Working, Some(80), at(8, 0), Warning::Blue),
            (Working, None, at(8, 0), Warning::Blue),
            // Day 8 plus an hour: 60 % done is behind.
            (Working, Some(60), at(8, 1), Warning::Yellow),
            // Day 10 at 03:00, 95 % done: under 10 % of the time left: yellow.
            (Working, Some(95), at(10, 3), Warning::Yellow),
            (Working, None, at(10, 3), Warning::Yellow),
            // Waiting before the deadline: no colour.
            (Waiting, Some(100), at(10, 3), Warning::None),
            (Waiting, None, at(10, 3), Warning::None),
            // Past the deadline: red, whatever was done, until closed.
            (Working, Some(99), at(11, 1), Warning::Red),
            (Waiting, Some(100), at(11, 1), Warning::Red),
            (Closed, Some(100), at(12, 0), Warning::None),
            (Closed, None, at(12, 0), Warning::None),
        ];
        for (phase, progress, now, expected) in cases {
            let t = timing(*phase, *progress);
            assert_eq!(
                warning(&t, *now, &rules),
                *expected,
                "{phase:?} at {progress:?} on {now}"
            );
        }
        // Exactly at the deadline is not yet overdue.
        assert!(!overdue(Working, at(11, 0), at(11, 0)));
        assert!(overdue(Waiting, at(11, 0), at(11, 1)));
        assert!(!overdue(Closed, at(11, 0), at(12, 0)));
    }

    #[test]
    fn warning_rules_are_configurable() {
        let strict = WarningRules {
            due_soon: TimeDelta::days(5),
            time_left_percent: 0,
            pace_tolerance: 0,
        };
        // Nothing done an hour in: behind the line with no tolerance.
        assert_eq!(
            warning(&timing(Working, Some(0)), at(1, 1), &strict),
            Warning::Yellow
        );
        // 70 % done on day 7 (60 % gone), due in 4 days: blue with a 5-day window.
        assert_eq!(
            warning(&timing(Working, Some(70)), at(7, 0), &strict),
            Warning::Blue
        );
        // No "little time left" rule at 0 %.
        assert_eq!(
            warning(&timing(Working, Some(100)), at(10, 23), &strict),
            Warning::Blue
        );
    }

    #[test]
    fn on_time_is_judged_on_the_original_deadline() {
        assert_eq!(closed_on_time(Some(at(10, 0)), at(11, 0)), Some(true));
        assert_eq!(closed_on_time(Some(at(11, 0)), at(11, 0)), Some(true));
        // Accepted within an approved extension, after the original deadline: late.
        assert_eq!(closed_on_time(Some(at(12, 0)), at(11, 0)), Some(false));
        assert_eq!(closed_on_time(None, at(11, 0)), None);
    }

    #[test]
    fn days_overdue_count_started_days() {
        assert_eq!(days_overdue(at(11, 0), None, at(10, 0)), 0);
        assert_eq!(days_overdue(at(11, 0), None, at(11, 0)), 0);
        assert_eq!(days_overdue(at(11, 0), None, at(11, 1)), 1);
        assert_eq!(days_overdue(at(11, 0), None, at(12, 0)), 1);
        assert_eq!(days_overdue(at(11, 0), None, at(12, 1)), 2);
        // Closed: counted to the closing, not to now.
        assert_eq!(days_overdue(at(11, 0), Some(at(13, 0)), at(30, 0)), 2);
        assert_eq!(days_overdue(at(11, 0), Some(at(10, 0)), at(30, 0)), 0);
    }
}
