//! The bounds on an activity's fields.

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_PLACE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// People at one activity, at most.
pub const MAX_PEOPLE: i32 = 1_000_000;
/// Volunteer hours of one activity, at most.
pub const MAX_HOURS: f64 = 1_000_000.0;

/// Hours are a non-negative number, to a tenth of an hour or finer.
pub fn check_hours(hours: f64) -> Result<(), String> {
    if hours.is_finite() && (0.0..=MAX_HOURS).contains(&hours) {
        Ok(())
    } else {
        Err(format!("must be from 0 to {MAX_HOURS}"))
    }
}

pub fn check_people(n: i32) -> Result<(), String> {
    if (0..=MAX_PEOPLE).contains(&n) {
        Ok(())
    } else {
        Err(format!("must be from 0 to {MAX_PEOPLE}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded() {
        assert!(check_hours(0.0).is_ok());
        assert!(check_hours(126.5).is_ok());
        assert!(check_hours(-0.5).is_err());
        assert!(check_hours(f64::NAN).is_err());
        assert!(check_people(45).is_ok());
        assert!(check_people(-1).is_err());
    }
}
