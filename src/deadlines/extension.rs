//! Extensions (延期): the one rule for asking for more time and deciding on it, for every
//! record with a deadline (tasks, rectification items). A request must come **before** the
//! deadline, for a later date, with its reason; while it waits, the record keeps its
//! deadline; an approval moves `due_at` (never `original_due_at`, on which on-time closure
//! is judged); a denial or the record's closing drops it. Every such record stores a
//! pending request in the same four columns (`extension_due_at`, `extension_note`,
//! `extension_requested_by`, `extension_requested_at`), read and written through
//! [`HasExtension`].

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::deadlines::{overdue, Phase};
use crate::error::{AppError, AppResult, Code};
use crate::ids::UserId;

/// A pending request for more time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Extension {
    /// The deadline asked for.
    pub due_at: DateTime<Utc>,
    pub note: String,
    #[schema(value_type = String, format = Uuid)]
    pub requested_by: UserId,
    pub requested_at: DateTime<Utc>,
}

/// The four columns of a record's pending extension, to read and write them in place.
pub struct ExtensionColumns<'a> {
    pub due_at: &'a mut Option<NaiveDateTime>,
    pub note: &'a mut Option<String>,
    pub requested_by: &'a mut Option<UserId>,
    pub requested_at: &'a mut Option<NaiveDateTime>,
}

/// A record that may hold a pending extension in the four columns.
pub trait HasExtension {
    fn extension_columns(&mut self) -> ExtensionColumns<'_>;

    /// The pending request, if one is complete in the columns.
    fn pending_extension(&self) -> Option<Extension>;
}

/// The pending request the four stored values make, if they make one.
pub fn pending(
    due_at: Option<NaiveDateTime>,
    note: Option<&str>,
    requested_by: Option<UserId>,
    requested_at: Option<NaiveDateTime>,
) -> Option<Extension> {
    match (due_at, note, requested_by, requested_at) {
        (Some(due_at), Some(note), Some(by), Some(at)) => Some(Extension {
            due_at: due_at.and_utc(),
            note: note.to_string(),
            requested_by: by,
            requested_at: at.and_utc(),
        }),
        _ => None,
    }
}

fn stamp(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Records a request by `by` for the deadline `asked` (or, if none is named, refuses it:
/// the current one is not later). Refused with `deadline_passed` (409) once the record is
/// overdue, and naming `new_due_at` (422) when the date asked for is not later than the
/// current deadline.
pub fn request(
    record: &mut impl HasExtension,
    phase: Phase,
    due_at: NaiveDateTime,
    asked: Option<NaiveDateTime>,
    note: &str,
    by: UserId,
    now: NaiveDateTime,
) -> AppResult<()> {
    if overdue(phase, due_at, now) {
        return Err(AppError::conflict(
            Code::DeadlinePassed,
            "an extension must be asked for before the deadline; this one has passed",
        ));
    }
    let asked = asked.unwrap_or(due_at);
    if asked <= due_at {
        return Err(AppError::invalid(
            "new_due_at",
            format!(
                "must be later than the current deadline ({})",
                stamp(due_at)
            ),
        ));
    }
    let columns = record.extension_columns();
    *columns.due_at = Some(asked);
    *columns.note = Some(note.to_string());
    *columns.requested_by = Some(by);
    *columns.requested_at = Some(now);
    Ok(())
}

/// The deadline an approval gives: the one asked for (or `due_at` when nothing is
/// pending); the request is dropped.
pub fn approve(record: &mut impl HasExtension, due_at: NaiveDateTime) -> NaiveDateTime {
    let asked = *record.extension_columns().due_at;
    clear(record);
    asked.unwrap_or(due_at)
}

/// Drops a pending request (denied, or the record closed or moved to another unit).
pub fn clear(record: &mut impl HasExtension) {
    let columns = record.extension_columns();
    *columns.due_at = None;
    *columns.note = None;
    *columns.requested_by = None;
    *columns.requested_at = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[derive(Default)]
    struct Record {
        due_at: Option<NaiveDateTime>,
        note: Option<String>,
        by: Option<UserId>,
        at: Option<NaiveDateTime>,
    }

    impl HasExtension for Record {
        fn extension_columns(&mut self) -> ExtensionColumns<'_> {
            ExtensionColumns {
                due_at: &mut self.due_at,
                note: &mut self.note,
                requested_by: &mut self.by,
                requested_at: &mut self.at,
            }
        }
        fn pending_extension(&self) -> Option<Extension> {
            pending(self.due_at, self.note.as_deref(), self.by, self.at)
        }
    }

    fn day(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2020, 7, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    #[test]
    fn a_request_comes_before_the_deadline_for_a_later_date() {
        let me = UserId::new();
        let mut r = Record::default();
        let late = request(
            &mut r,
            Phase::Working,
            day(10),
            Some(day(20)),
            "雨季",
            me,
            day(11),
        );
        assert_eq!(late.unwrap_err().code(), Code::DeadlinePassed);
        let sooner = request(
            &mut r,
            Phase::Working,
            day(10),
            Some(day(9)),
            "x",
            me,
            day(5),
        );
        assert_eq!(sooner.unwrap_err().errors()[0].field, "new_due_at");
        assert!(request(&mut r, Phase::Working, day(10), None, "x", me, day(5)).is_err());
        assert!(
            r.pending_extension().is_none(),
            "a refused request leaves nothing"
        );
        request(
            &mut r,
            Phase::Working,
            day(10),
            Some(day(20)),
            "雨季",
            me,
            day(5),
        )
        .unwrap();
        let pending = r.pending_extension().expect("pending");
        assert_eq!(pending.due_at, day(20).and_utc());
        assert_eq!(pending.requested_by, me);
    }

    #[test]
    fn an_approval_moves_the_deadline_and_a_denial_does_not() {
        let me = UserId::new();
        let mut r = Record::default();
        request(
            &mut r,
            Phase::Working,
            day(10),
            Some(day(20)),
            "雨季",
            me,
            day(5),
        )
        .unwrap();
        assert_eq!(approve(&mut r, day(10)), day(20));
        assert!(r.pending_extension().is_none());
        assert_eq!(
            approve(&mut r, day(10)),
            day(10),
            "nothing pending: no move"
        );
        request(
            &mut r,
            Phase::Working,
            day(10),
            Some(day(20)),
            "雨季",
            me,
            day(5),
        )
        .unwrap();
        clear(&mut r);
        assert!(r.pending_extension().is_none());
    }
}
