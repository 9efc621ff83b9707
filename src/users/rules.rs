//! Rules about accounts, as pure functions.

use crate::auth::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::ids::UserId;
use crate::units::UnitKind;

pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

pub use crate::validate::check_username;

/// Where a role may be placed: an inspector in a grid; the other roles anywhere.
pub fn check_placement(role: Role, unit: UnitKind) -> Result<(), String> {
    if role == Role::Inspector && unit != UnitKind::Grid {
        return Err("an inspector's unit must be a grid".into());
    }
    Ok(())
}

/// Whose accounts a reader sees: admins see every account; others (an office, within its
/// own units) never see an admin's.
pub fn shows_account(reader: Role, account: Role) -> bool {
    reader == Role::Admin || account != Role::Admin
}

/// An admin who deactivates or demotes themselves may leave nobody able to manage users.
pub fn refuse_self_lockout(
    actor: &Actor,
    target: UserId,
    deactivates: bool,
    new_role: Option<Role>,
) -> AppResult<()> {
    let demotes = new_role.is_some_and(|r| r != actor.role);
    if target == actor.id && (deactivates || demotes) {
        return Err(AppError::unprocessable(
            crate::error::Code::SelfLockout,
            "you cannot deactivate or demote your own account",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::scope::Subject;

    #[test]
    fn usernames() {
        assert!(check_username("wangge01").is_ok());
        assert!(check_username("网格员").is_ok());
        assert!(check_username("a").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username(&"x".repeat(65)).is_err());
        assert!(check_username("ld_\u{202e}zhang").is_err());
    }

    #[test]
    fn inspectors_work_in_grids() {
        assert!(check_placement(Role::Inspector, UnitKind::Grid).is_ok());
        assert!(check_placement(Role::Inspector, UnitKind::Town).is_err());
        assert!(check_placement(Role::Officer, UnitKind::Town).is_ok());
        assert!(check_placement(Role::Office, UnitKind::Department).is_ok());
    }

    #[test]
    fn an_admin_cannot_lock_themselves_out() {
        let me = UserId::new();
        let admin = Actor {
            unit_id: crate::ids::UnitId::new(),
            unit_path: String::new(),
            id: me,
            username: "admin".into(),
            role: Role::Admin,
            session: crate::ids::SessionId::new(),
            must_change_password: false,
            subject: Subject {
                user_id: me,
                role: Role::Admin,
                roots: vec![],
                read_roots: vec![],
                ancestors: vec![],
            },
        };
        assert!(refuse_self_lockout(&admin, me, true, None).is_err());
        assert!(refuse_self_lockout(&admin, me, false, Some(Role::Officer)).is_err());
        assert!(refuse_self_lockout(&admin, me, false, Some(Role::Admin)).is_ok());
        assert!(refuse_self_lockout(&admin, me, false, None).is_ok());
        assert!(refuse_self_lockout(&admin, UserId::new(), true, Some(Role::Officer)).is_ok());
    }
}
