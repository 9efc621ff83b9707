//! The unit tree's rules, as pure functions: which kind hangs under which, what a code
//! looks like, what only grids carry, and how a move re-roots a subtree's paths.

use crate::error::{AppError, AppResult};
pub use crate::tree::UnitKind;

pub const MAX_CODE_CHARS: usize = 32;
pub const MAX_NAME_CHARS: usize = 100;

/// Codes: 1–32 ASCII letters, digits, `-` or `_`, starting with a letter or digit.
pub fn check_code(code: &str) -> Result<(), String> {
    let first_ok = code
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok
        || code.len() > MAX_CODE_CHARS
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(
            "must be 1 to 32 ASCII letters, digits, `-` or `_`, starting with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

/// The materialised path of a unit with id `id` under the parent at `parent_path`.
pub fn child_path(parent_path: Option<&str>, id: &str) -> String {
    format!("{}{id}/", parent_path.unwrap_or("/"))
}

/// Where a unit at `unit_path` may move: not under itself or one of its descendants.
pub fn check_move(unit_path: &str, new_parent_path: Option<&str>) -> AppResult<()> {
    if new_parent_path.is_some_and(|p| p.starts_with(unit_path)) {
        return Err(AppError::unprocessable(
            crate::error::Code::UnitCycle,
            "a unit cannot be moved under itself or its own descendant",
        ));
    }
    Ok(())
}

/// The new paths of a subtree that moves from `old_root` to `new_root`: every `(id, path)`
/// under `old_root` with that prefix replaced. Paths outside the subtree are left out.
pub fn rebase<T>(
    subtree: impl IntoIterator<Item = (T, String)>,
    old_root: &str,
    new_root: &str,
) -> Vec<(T, String)> {
    subtree
        .into_iter()
        .filter_map(|(id, path)| {
            path.strip_prefix(old_root)
                .map(|rest| (id, format!("{new_root}{rest}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_shape() {
        use UnitKind::*;
        assert!(District.may_have_parent(None));
        assert!(!District.may_have_parent(Some(District)));
        assert!(Town.may_have_parent(Some(District)));
        assert!(!Town.may_have_parent(None));
        assert!(Department.may_have_parent(Some(District)));
        assert!(Village.may_have_parent(Some(Town)));
        assert!(!Village.may_have_parent(Some(Department)));
        assert!(Grid.may_have_parent(Some(Community)));
        assert!(!Grid.may_have_parent(Some(Grid)));
        assert!(!Grid.may_have_parent(Some(Department)));
    }

    #[test]
    fn codes() {
        assert!(check_code("HZGX-LLZ").is_ok());
        assert!(check_code("-x").is_err());
        assert!(check_code("吕陵").is_err());
        assert!(check_code(&"A".repeat(33)).is_err());
        assert!(check_code("").is_err());
    }

    #[test]
    fn a_move_under_itself_or_below_is_a_cycle() {
        assert!(check_move("/d/a/", Some("/d/a/")).is_err());
        assert!(check_move("/d/a/", Some("/d/a/v/")).is_err());
        assert!(check_move("/d/a/", Some("/d/ab/")).is_ok());
        assert!(check_move("/d/a/", Some("/d/")).is_ok());
        assert!(check_move("/d/a/", None).is_ok());
    }

    #[test]
    fn rebase_rewrites_every_path_of_the_subtree_and_nothing_else() {
        let rows = [
            ("v", "/d/a/v/"),
            ("g1", "/d/a/v/g1/"),
            ("g2", "/d/a/v/g2/"),
            ("other", "/d/a/w/"),
        ];
        let rows = rows.map(|(id, path)| (id, path.to_string()));
        let moved = rebase(rows, "/d/a/v/", "/d/b/v/");
        let paths: Vec<(&str, &str)> = moved.iter().map(|(id, p)| (*id, p.as_str())).collect();
        assert_eq!(
            paths,
            [("v", "/d/b/v/"), ("g1", "/d/b/v/g1/"), ("g2", "/d/b/v/g2/")]
        );
        assert_eq!(child_path(Some("/d/b/"), "v"), "/d/b/v/");
        assert_eq!(child_path(None, "d"), "/d/");
    }
}
