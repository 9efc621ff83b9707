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

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
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
}
