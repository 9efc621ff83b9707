//! Input checks that collect every problem at once, so a client learns about all invalid
//! fields in one response.

use crate::error::{AppError, FieldError};

#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records `result`'s error, if any, against `field`.
    pub fn check(&mut self, field: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.fail(field, message);
        }
    }

    /// Trimmed, non-empty, at most `max` characters, no control characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        self.check(field, text_rule(value, max));
    }

    /// Free text that may be empty and span lines (a directive's body, a meeting's
    /// summary): at most `max` characters, no control characters but line breaks and tabs.
    pub fn long_text(&mut self, field: &str, value: &str, max: usize) {
        self.check(field, long_text_rule(value, max));
    }

    /// A date or time within [`EARLIEST_YEAR`]–[`LATEST_YEAR`].
    pub fn moment(&mut self, field: &str, value: chrono::NaiveDateTime) {
        self.check(field, moment_rule(value));
    }

    /// A point as a phone's map SDK gives it, in WGS-84 (`lat` and `lon` named when out
    /// of range; then returned as they came).
    pub fn point(&mut self, lon: f64, lat: f64, from: crate::coords::CoordType) -> (f64, f64) {
        let problems = crate::coords::check_point(lon, lat);
        let ok = problems.is_empty();
        for (field, message) in problems {
            self.fail(field, message);
        }
        if ok {
            crate::coords::to_wgs84(from, lon, lat)
        } else {
            (lon, lat)
        }
    }

    /// A client's own `id` must be a UUIDv7 (time-ordered, as the server's are): another
    /// version is most likely a bug that would collide across phones.
    pub fn client_id(&mut self, id: Option<uuid::Uuid>) {
        if id.is_some_and(|id| id.get_version_num() != 7) {
            self.fail("id", "must be a UUIDv7");
        }
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

pub fn long_text_rule(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters other than line breaks and tabs".into());
    }
    check_no_format_characters(value)
}

/// Dates and times the service accepts: far enough apart for any campaign, near enough
/// that arithmetic on them never overflows.
pub const EARLIEST_YEAR: i32 = 2000;
pub const LATEST_YEAR: i32 = 2100;

pub fn moment_rule(value: chrono::NaiveDateTime) -> Result<(), String> {
    date_rule(value.date())
}

pub fn date_rule(value: chrono::NaiveDate) -> Result<(), String> {
    use chrono::Datelike;
    if (EARLIEST_YEAR..=LATEST_YEAR).contains(&value.year()) {
        Ok(())
    } else {
        Err(format!(
            "must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}"
        ))
    }
}

/// A time as stored: UTC, whole microseconds.
pub fn stored(value: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    let naive = value.naive_utc();
    chrono::DurationRound::duration_trunc(naive, chrono::TimeDelta::microseconds(1))
        .unwrap_or(naive)
}

/// A time given as a query parameter (`due_before`, `created_after`…), as stored; out of
/// range is a 400 naming the parameter.
pub fn query_moment(
    name: &str,
    t: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Option<chrono::NaiveDateTime>, AppError> {
    t.map(stored)
        .map(|t| {
            moment_rule(t)
                .map(|_| t)
                .map_err(|m| AppError::bad_parameter(name, m))
        })
        .transpose()
}

/// Maximum length of a list's free-text `q` parameter.
pub const MAX_SEARCH_CHARS: usize = 100;

/// The `q` parameter of a list: `None` when absent or empty, 400 when too long.
pub fn search_text(q: Option<String>) -> Result<Option<String>, AppError> {
    match q {
        Some(text) if text.chars().count() > MAX_SEARCH_CHARS => Err(AppError::bad_parameter(
            "q",
            format!("must be at most {MAX_SEARCH_CHARS} characters"),
        )),
        Some(text) if !text.is_empty() => Ok(Some(text)),
        _ => Ok(None),
    }
}

pub fn text_rule(value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if value.trim() != value {
        return Err("must not start or end with whitespace".into());
    }
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    check_no_format_characters(value)
}

/// Refuses Unicode format characters (category Cf): zero-width spaces and joiners,
/// right-to-left overrides, soft hyphens. Invisible in a name, they make two names that
/// look the same differ, or make one read backwards.
pub fn check_no_format_characters(value: &str) -> Result<(), String> {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    match value
        .chars()
        .find(|c| c.general_category() == GeneralCategory::Format)
    {
        Some(c) => Err(format!(
            "must not contain invisible formatting characters (U+{:04X})",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

/// Usernames: 2–64 characters, no whitespace or control characters (Chinese is fine).
pub fn check_username(username: &str) -> Result<(), String> {
    let chars = username.chars().count();
    if !(2..=64).contains(&chars) {
        return Err("must be 2 to 64 characters".into());
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must not contain whitespace or control characters".into());
    }
    check_no_format_characters(username)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error() {
        let mut c = Checks::new();
        c.text("name", "", 10);
        c.text("code", " x", 10);
        c.text("title", "马岭岗镇", 4);
        c.text("long", "马岭岗镇", 3);
        c.text("ctl", "a\u{7}", 3);
        c.text("zwsp", "都\u{200b}司镇", 10);
        c.text("rlo", "a\u{202e}b", 10);
        c.text("fine", "马岭岗镇·七里河", 10);
        let problem = c.finish().unwrap_err().problem();
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "code", "long", "ctl", "zwsp", "rlo"]);
    }

    #[test]
    fn long_text_keeps_line_breaks() {
        assert!(long_text_rule("", 10).is_ok());
        assert!(long_text_rule("一、应急预案\n二、值班表\t(附件)", 100).is_ok());
        assert!(long_text_rule("a\u{7}", 10).is_err());
        assert!(long_text_rule("a\u{202e}", 10).is_err());
        assert!(long_text_rule(&"字".repeat(11), 10).is_err());
    }

    #[test]
    fn moments_are_bounded() {
        let date = |y| chrono::NaiveDate::from_ymd_opt(y, 7, 24).unwrap();
        assert!(date_rule(date(2020)).is_ok());
        assert!(date_rule(date(1999)).is_err());
        assert!(date_rule(date(2101)).is_err());
    }
}
