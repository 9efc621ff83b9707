//! The time, injected: everything time-dependent in campaign work (deadlines, warnings,
//! overdue, timestamps of transitions) asks the [`Clock`] in the app state, so that tests
//! set the time instead of sleeping. In production it is the system clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// Microseconds since the epoch of a fixed time, or `SYSTEM` for the system clock.
const SYSTEM: i64 = i64::MIN;

/// The system clock, or a fixed time that tests set and move. Cheap to clone; clones share
/// the time.
#[derive(Debug, Clone)]
pub struct Clock {
    fixed: Arc<AtomicI64>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    pub fn system() -> Self {
        Clock {
            fixed: Arc::new(AtomicI64::new(SYSTEM)),
        }
    }

    /// Now, as stored: UTC without offset, in whole microseconds (what both databases keep).
    pub fn now(&self) -> NaiveDateTime {
        match self.fixed.load(Ordering::Relaxed) {
            SYSTEM => crate::db::now(),
            micros => DateTime::from_timestamp_micros(micros)
                .map(|t| t.naive_utc())
                .unwrap_or_else(crate::db::now),
        }
    }

    pub fn now_utc(&self) -> DateTime<Utc> {
        self.now().and_utc()
    }

    /// Stops the clock at `at` (tests).
    pub fn set(&self, at: DateTime<Utc>) {
        self.fixed.store(at.timestamp_micros(), Ordering::Relaxed);
    }

    /// Moves a stopped clock (or stops the system clock at now + `by`).
    pub fn advance(&self, by: TimeDelta) {
        let next = self.now().and_utc() + by;
        self.set(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_stays_until_moved() {
        let clock = Clock::system();
        let at = DateTime::parse_from_rfc3339("2020-07-24T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        clock.set(at);
        assert_eq!(clock.now_utc(), at);
        let shared = clock.clone();
        shared.advance(TimeDelta::hours(2));
        assert_eq!(clock.now_utc(), at + TimeDelta::hours(2));
    }

    #[test]
    fn the_system_clock_moves() {
        let clock = Clock::system();
        let a = clock.now();
        assert!(clock.now() >= a);
        assert!((Utc::now().naive_utc() - a).num_seconds().abs() < 5);
    }
}
