//! Open311's vocabulary over the rectification domain, as plain functions: which item
//! statuses are `open` or `closed`, how a category's attribute types read as Open311
//! datatypes, the date window of a search, how datetimes are written, what a notice says,
//! and how API keys are made and recognised. Tested here without a database.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::categories::rules::AttributeType;
use crate::rectifications::rules::ItemStatus;
use crate::text_enum;

/// The longest a search's window may be, and the window without dates (the last 90 days).
pub const MAX_WINDOW_DAYS: i64 = 90;
/// The most requests one search answers.
pub const MAX_RESULTS: i64 = 1_000;
/// The longest description a report may carry (the spec's limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// Contact fields, device and account ids.
pub const MAX_CONTACT_CHARS: usize = 200;
pub const MAX_MEDIA_URL_CHARS: usize = 2_000;
/// What a key shows of itself in a list, to be recognised.
pub const KEY_PREFIX_CHARS: usize = 12;
/// What a key starts with, so a leaked one is recognisable in a scan.
pub const KEY_MARK: &str = "ct311_";

text_enum! {
    /// A service request's status as Open311 has it.
    pub enum RequestStatus {
        /// Reported, assigned, being fixed or waiting to be checked.
        Open = "open",
        /// Accepted, cancelled or a duplicate of another.
        Closed = "closed",
    }
}

impl RequestStatus {
    pub fn of(status: ItemStatus) -> RequestStatus {
        if status.is_open() {
            RequestStatus::Open
        } else {
            RequestStatus::Closed
        }
    }

    /// The item statuses this status stands for.
    pub fn item_statuses(self) -> Vec<ItemStatus> {
        ItemStatus::ALL
            .iter()
            .copied()
            .filter(|s| RequestStatus::of(*s) == self)
            .collect()
    }
}

text_enum! {
    /// The type of an attribute's input (GeoReport v2 lists six; categories use three).
    pub enum Datatype {
        String = "string",
        Number = "number",
        Datetime = "datetime",
        Text = "text",
        Singlevaluelist = "singlevaluelist",
        Multivaluelist = "multivaluelist",
    }
}

/// A category's attribute type as an Open311 datatype.
pub fn datatype(kind: AttributeType) -> Datatype {
    match kind {
        AttributeType::String => Datatype::String,
        AttributeType::Number => Datatype::Number,
        AttributeType::Choice => Datatype::Singlevaluelist,
    }
}

/// The district's offset (China Standard Time): Open311 clients show times as given, so
/// they are written in the district's time with its offset.
pub fn district_offset() -> FixedOffset {
    crate::rectifications::rules::local_offset()
}

/// A stored UTC time as ISO 8601 with the district's offset (`2020-07-24T16:30:00+08:00`).
pub fn datetime(t: NaiveDateTime) -> String {
    t.and_utc()
        .with_timezone(&district_offset())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A window of time, from and to.
pub type Window = (DateTime<Utc>, DateTime<Utc>);

/// The window a search covers, from its `start_date` and `end_date`: both given — at most
/// [`MAX_WINDOW_DAYS`] apart, the end not before the start; one given — that many days
/// from (or to) it; none — the last [`MAX_WINDOW_DAYS`] days. `Err` names the field.
pub fn window(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Window, (&'static str, String)> {
    let span = TimeDelta::days(MAX_WINDOW_DAYS);
    match (start, end) {
        (Some(start), Some(end)) => {
            if end < start {
                Err(("end_date", "must not be before start_date".into()))
            } else if end - start > span {
                Err((
                    "end_date",
                    format!("must be at most {MAX_WINDOW_DAYS} days after start_date"),
                ))
            } else {
                Ok((start, end))
            }
        }
        (Some(start), None) => Ok((start, start + span)),
        (None, Some(end)) => Ok((end - span, end)),
        (None, None) => Ok((now - span, now)),
    }
}

/// A W3C datetime with its zone (`2010-01-01T00:00:00Z`, `2020-07-24T08:30:00+08:00`).
pub fn parse_datetime(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            "must be a W3C datetime with a zone, e.g. 2020-07-24T08:30:00+08:00".to_string()
        })
}

/// What a citizen is told about an open request: where it went and by when (none once it
/// is closed).
pub fn notice(status: ItemStatus, unit: Option<&str>, due: NaiveDateTime) -> Option<String> {
    if !status.is_open() {
        return None;
    }
    let by = due
        .and_utc()
        .with_timezone(&district_offset())
        .format("%Y-%m-%d %H:%M");
    Some(match unit {
        Some(unit) => format!("已交{unit}办理，期限 {by}"),
        None => "已受理，等待分派责任单位".to_string(),
    })
}

/// A new API key: the mark and 32 random bytes in hex. The key is shown once; only its
/// hash is kept.
pub fn new_key() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{KEY_MARK}{}", hex::encode(bytes))
}

/// What is stored of a key: its SHA-256 in hex. A key is 256 random bits, so a fast hash
/// is enough (nothing to guess that a slow one would protect).
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The start of a key, shown in lists so an admin can tell keys apart.
pub fn key_prefix(key: &str) -> String {
    key.chars().take(KEY_PREFIX_CHARS).collect()
}

/// A comma-delimited list (`a,b,c`), trimmed, without empty entries.
pub fn comma_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_datetime(s).unwrap()
    }

    #[test]
    fn statuses_are_open_or_closed() {
        assert_eq!(RequestStatus::of(ItemStatus::Reported), RequestStatus::Open);
        assert_eq!(
            RequestStatus::of(ItemStatus::Submitted),
            RequestStatus::Open
        );
        assert_eq!(
            RequestStatus::of(ItemStatus::Accepted),
            RequestStatus::Closed
        );
        assert_eq!(
            RequestStatus::of(ItemStatus::Duplicate),
            RequestStatus::Closed
        );
        let all = [RequestStatus::Open, RequestStatus::Closed]
            .iter()
            .map(|s| s.item_statuses().len())
            .sum::<usize>();
        assert_eq!(all, ItemStatus::ALL.len());
    }

    #[test]
    fn windows_are_at_most_ninety_days() {
        let now = at("2020-07-24T00:00:00Z");
        let (s, e) = window(None, None, now).unwrap();
        assert_eq!((e - s).num_days(), 90);
        assert_eq!(e, now);
        let start = at("2020-01-01T00:00:00+08:00");
        let (_, e) = window(Some(start), None, now).unwrap();
        assert_eq!((e - start).num_days(), 90);
        assert!(window(Some(start), Some(at("2020-04-01T00:00:00+08:00")), now).is_err());
        assert!(window(Some(start), Some(at("2019-12-31T00:00:00+08:00")), now).is_err());
        assert!(window(Some(start), Some(at("2020-03-30T00:00:00+08:00")), now).is_ok());
    }

    #[test]
    fn datetimes_need_a_zone_and_are_written_in_district_time() {
        assert!(parse_datetime("2020-07-24T08:30:00").is_err());
        assert!(parse_datetime("2020-07-24").is_err());
        assert!(parse_datetime("2010-01-01T00:00:00Z").is_ok());
        let t = at("2020-07-24T08:30:00Z").naive_utc();
        assert_eq!(datetime(t), "2020-07-24T16:30:00+08:00");
    }

    #[test]
    fn keys_are_random_and_kept_as_hashes() {
        let (a, b) = (new_key(), new_key());
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_MARK));
        assert_eq!(a.len(), KEY_MARK.len() + 64);
        assert_eq!(key_hash(&a).len(), 64);
        assert_ne!(key_hash(&a), key_hash(&b));
        assert_eq!(key_prefix(&a).len(), KEY_PREFIX_CHARS);
    }

    #[test]
    fn notices_say_where_and_by_when() {
        let due = at("2020-07-24T08:30:00Z").naive_utc();
        assert_eq!(
            notice(ItemStatus::Assigned, Some("马岭岗镇"), due).as_deref(),
            Some("已交马岭岗镇办理，期限 2020-07-24 16:30")
        );
        assert!(notice(ItemStatus::Reported, None, due).is_some());
        assert_eq!(notice(ItemStatus::Accepted, Some("x"), due), None);
        assert_eq!(comma_list(" a, ,b,"), ["a", "b"]);
    }
}
