//! The bounds on a meeting's fields.

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_PLACE_CHARS: usize = 200;
pub const MAX_CHAIR_CHARS: usize = 100;
pub const MAX_SUMMARY_CHARS: usize = 10_000;
/// Units one meeting may list as attending.
pub const MAX_ATTENDING_UNITS: usize = 200;

/// Attending units are listed once each.
pub fn duplicate_positions<T: PartialEq>(items: &[T]) -> Vec<usize> {
    (0..items.len())
        .filter(|&i| items[..i].contains(&items[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repeats() {
        assert_eq!(duplicate_positions(&[1, 2, 1, 3, 2]), vec![2, 4]);
        assert!(duplicate_positions::<i32>(&[]).is_empty());
    }
}
