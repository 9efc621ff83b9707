//! Which units may be paired (包联): a department helps a town, street, village or
//! community.

use crate::units::UnitKind;

pub const DEPARTMENT_KINDS: &[UnitKind] = &[UnitKind::Department];
pub const DEPARTMENT_RULE: &str = "must be a department";
pub const PARTNER_KINDS: &[UnitKind] = &[
    UnitKind::Town,
    UnitKind::Street,
    UnitKind::Village,
    UnitKind::Community,
];
pub const PARTNER_RULE: &str = "must be a town, street, village or community";
pub const MAX_NOTE_CHARS: usize = 500;

/// Notes are free text, but bounded and free of control characters.
pub fn check_note(note: &str) -> Result<(), String> {
    if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(char::is_control) {
        return Err(format!(
            "must be at most {MAX_NOTE_CHARS} characters without control characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_bounded() {
        assert!(check_note("").is_ok());
        assert!(check_note("创城包联：网格巡查、入户宣传、志愿服务").is_ok());
        assert!(check_note(&"包".repeat(501)).is_err());
        assert!(check_note("a\nb").is_err());
    }

    #[test]
    fn departments_help_the_units_below_the_district() {
        assert!(!PARTNER_KINDS.contains(&UnitKind::Department));
        assert!(!PARTNER_KINDS.contains(&UnitKind::Grid));
        assert!(!PARTNER_KINDS.contains(&UnitKind::District));
    }
}
