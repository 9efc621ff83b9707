//! What a patrol is made of, as plain functions: how far the track went (in time order,
//! GPS glitches left out), how much of the grid's sites it covered, and which track points
//! are believable. Tested here without a database; `patrols::model` applies them.

use chrono::{NaiveDateTime, TimeDelta};

use crate::coords::distance_m;
use crate::text_enum;

text_enum! {
    /// Where a patrol is.
    pub enum PatrolStatus {
        /// The inspector is out: points, visits and reports are added.
        Active = "active",
        /// Done: read only.
        Ended = "ended",
    }
}

text_enum! {
    /// What `POST /patrols/{id}/transitions` may ask for.
    pub enum PatrolAction {
        End = "end",
    }
}

/// A point of a track, in WGS-84.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    pub t: NaiveDateTime,
    pub lon: f64,
    pub lat: f64,
}

/// Faster than this between two fixes is a GPS jump, not walking or driving a grid's
/// lanes (150 km/h): the fix is left out of the distance.
pub const MAX_SPEED_M_PER_S: f64 = 150.0 / 3.6;

/// The length of a track in metres: fixes in time order, each leg measured on the globe; a
/// fix that would need more than [`MAX_SPEED_M_PER_S`] from the last kept one is a glitch
/// and skipped. `fixes` need not be sorted; fixes at one moment count once.
pub fn track_length(fixes: &[Fix]) -> f64 {
    let mut sorted: Vec<Fix> = fixes.to_vec();
    sorted.sort_by_key(|f| f.t);
    sorted.dedup_by_key(|f| f.t);
    let mut total = 0.0;
    let mut last: Option<Fix> = None;
    for fix in sorted {
        match last {
            None => last = Some(fix),
            Some(prev) => {
                let leg = distance_m((prev.lon, prev.lat), (fix.lon, fix.lat));
                let seconds = (fix.t - prev.t).num_milliseconds() as f64 / 1000.0;
                if leg <= MAX_SPEED_M_PER_S * seconds {
                    total += leg;
                    last = Some(fix);
                }
            }
        }
    }
    total
}

/// Sites of the grid visited over sites of the grid, 0–1 with three decimals; `None` for a
/// grid without sites.
pub fn coverage(visited: i64, total: i64) -> Option<f64> {
    if total <= 0 {
        return None;
    }
    let share = visited.min(total) as f64 / total as f64;
    Some((share * 1000.0).round() / 1000.0)
}

/// How far a phone's clock may be off: a point or a visit this much before the start or
/// after the server's now is still taken.
pub const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(10);

/// Whether a moment can belong to a patrol started at `started_at` (and ended at
/// `ended_at`, if it has), as seen at `now`.
pub fn within(
    t: NaiveDateTime,
    started_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<(), String> {
    if t < started_at - CLOCK_SKEW {
        return Err("is before the patrol started".into());
    }
    let latest = ended_at.unwrap_or(now + CLOCK_SKEW);
    if t > latest {
        return Err(match ended_at {
            Some(_) => "is after the patrol ended".into(),
            None => "is in the future".into(),
        });
    }
    Ok(())
}

/// Points one track batch may carry.
pub const MAX_BATCH_POINTS: usize = 2_000;
pub const MAX_NOTE_CHARS: usize = 2_000;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(minute: u32, second: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2020, 7, 24)
            .unwrap()
            .and_hms_opt(9, minute, second)
            .unwrap()
    }

    fn fix(minute: u32, second: u32, lon: f64, lat: f64) -> Fix {
        Fix {
            t: at(minute, second),
            lon,
            lat,
        }
    }

    #[test]
    fn the_track_is_measured_in_time_order_whatever_the_arrival() {
        // Three fixes ~100 m apart going east, a minute each.
        let a = fix(0, 0, 115.5000, 35.215);
        let b = fix(1, 0, 115.5011, 35.215);
        let c = fix(2, 0, 115.5022, 35.215);
        let in_order = track_length(&[a, b, c]);
        assert!((in_order - 200.0).abs() < 3.0, "{in_order}");
        // Out of order, and b sent twice by a retry: the same length.
        assert_eq!(track_length(&[c, a, b, b]), in_order);
        assert_eq!(track_length(&[a]), 0.0);
        assert_eq!(track_length(&[]), 0.0);
    }

    #[test]
    fn a_gps_jump_is_left_out() {
        let a = fix(0, 0, 115.5000, 35.215);
        // 10 km away one second later: a glitch.
        let jump = fix(0, 1, 115.6100, 35.215);
        let b = fix(1, 0, 115.5011, 35.215);
        let with_jump = track_length(&[a, jump, b]);
        assert!((with_jump - 100.0).abs() < 2.0, "{with_jump}");
    }

    #[test]
    fn coverage_is_a_share_of_the_grids_sites() {
        assert_eq!(coverage(0, 0), None);
        assert_eq!(coverage(0, 3), Some(0.0));
        assert_eq!(coverage(1, 3), Some(0.333));
        assert_eq!(coverage(3, 3), Some(1.0));
        assert_eq!(coverage(5, 3), Some(1.0));
    }

    #[test]
    fn points_belong_to_the_patrols_time() {
        let start = at(0, 0);
        let now = at(30, 0);
        assert!(within(at(5, 0), start, None, now).is_ok());
        // A phone's clock a few minutes off is taken.
        assert!(within(start - TimeDelta::minutes(5), start, None, now).is_ok());
        assert!(within(start - TimeDelta::minutes(11), start, None, now).is_err());
        assert!(within(now + TimeDelta::minutes(11), start, None, now).is_err());
        // After the end: refused.
        assert!(within(at(20, 0), start, Some(at(10, 0)), now).is_err());
        assert!(within(at(10, 0), start, Some(at(10, 0)), now).is_ok());
    }
}
