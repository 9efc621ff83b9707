//! What a directive is: its priorities and the bounds on its fields, and how one is split
//! into tasks.

pub use crate::work::Priority;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 10_000;
/// Units one split may name (a district has a few dozen towns, streets and departments).
pub const MAX_SPLIT_UNITS: usize = 500;

/// A split names its units one way: a list, or a selector.
pub fn check_targets(has_ids: bool, has_selector: bool) -> Result<(), &'static str> {
    match (has_ids, has_selector) {
        (true, false) | (false, true) => Ok(()),
        (true, true) => Err("give unit_ids or selector, not both"),
        (false, false) => Err("give unit_ids or selector"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_rank_by_urgency() {
        assert!(Priority::Urgent.rank() > Priority::High.rank());
        assert!(Priority::High.rank() > Priority::Normal.rank());
    }

    #[test]
    fn a_split_names_its_units_one_way() {
        assert!(check_targets(true, false).is_ok());
        assert!(check_targets(false, true).is_ok());
        assert!(check_targets(true, true).is_err());
        assert!(check_targets(false, false).is_err());
    }
}
