//! Authorization in one place: [`authorize`] decides whether an actor may perform an
//! action on a resource that belongs to a unit. Scope is the unit subtree, expressed by
//! materialised unit paths (`/root/…/unit/`): a resource is in scope when its unit's
//! path starts with one of the actor's scope roots.
//!
//! A resource outside the caller's scope is reported as not found (404), so ids do not
//! leak across units; an operation the role may never perform is forbidden (403).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user is, which decides what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, units, grid boundaries; everything.
    Admin,
    /// District leader: reads everything, issues directives.
    Leader,
    /// District or town office: manages campaign work in its unit subtree.
    Office,
    /// Unit officer: works on its unit subtree's items.
    Officer,
    /// Grid inspector: its grid(s).
    Inspector,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Leader,
        Role::Office,
        Role::Officer,
        Role::Inspector,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Office => "office",
            Role::Officer => "officer",
            Role::Inspector => "inspector",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// Everything a handler may ask the policy about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read an organisational record (unit, grid, pairing) of a unit.
    ReadOrg,
    /// Create, change or delete units, grid boundaries and pairings.
    ManageOrg,
    /// Create, list, change and deactivate user accounts.
    ManageUsers,
    /// Issue a directive (leaders and the office that records meetings).
    IssueDirective,
    /// Create and assign campaign work (campaigns, tasks) for a unit.
    ManageCampaignWork,
}

/// Why a request is refused; the HTTP status follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The role may never do this: 403.
    Forbidden,
    /// The resource is outside the actor's scope: 404, as if it did not exist.
    Hidden,
}

/// The part of the caller the policy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub role: Role,
    /// Unit paths whose subtrees the actor may act on: its own unit, plus for inspectors
    /// the grids it leads.
    pub scope_roots: Vec<String>,
}

impl Subject {
    /// True when the unit with this materialised path is inside the subject's scope.
    pub fn covers(&self, unit_path: &str) -> bool {
        self.scope_roots
            .iter()
            .any(|root| unit_path.starts_with(root.as_str()))
    }

    /// The scope roots lists must be filtered by, or `None` when the subject sees every unit.
    pub fn visible_roots(&self) -> Option<&[String]> {
        match self.role {
            Role::Admin | Role::Leader => None,
            Role::Office | Role::Officer | Role::Inspector => Some(&self.scope_roots),
        }
    }
}

/// Decides whether `subject` may perform `action`; `unit_path` is the path of the unit
/// the resource belongs to, or `None` for an action on a collection.
pub fn authorize(subject: &Subject, action: Action, unit_path: Option<&str>) -> Result<(), Denial> {
    use Role::*;
    let role_may = match action {
        Action::ReadOrg => true,
        Action::ManageOrg | Action::ManageUsers => subject.role == Admin,
        Action::IssueDirective => matches!(subject.role, Admin | Leader | Office),
        Action::ManageCampaignWork => matches!(subject.role, Admin | Office),
    };
    let in_scope = match (subject.role, unit_path) {
        (Admin, _) | (_, None) => true,
        (Leader, Some(_)) if action == Action::ReadOrg || action == Action::IssueDirective => true,
        (_, Some(path)) => subject.covers(path),
    };
    // Scope first: an out-of-scope resource must look absent, even to a role that could
    // not act on it anyway.
    if !in_scope && action == Action::ReadOrg {
        return Err(Denial::Hidden);
    }
    if !role_may {
        return Err(Denial::Forbidden);
    }
    if !in_scope {
        return Err(Denial::Hidden);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISTRICT: &str = "/d/";
    const TOWN_A: &str = "/d/a/";
    const GRID_A: &str = "/d/a/v/g/";
    const TOWN_B: &str = "/d/b/";

    fn subject(role: Role) -> Subject {
        let roots = match role {
            Role::Admin | Role::Leader => vec![DISTRICT.to_string()],
            Role::Office | Role::Officer => vec![TOWN_A.to_string()],
            Role::Inspector => vec![GRID_A.to_string()],
        };
        Subject {
            role,
            scope_roots: roots,
        }
    }

    /// The whole policy as a table: role × action × target → decision.
    #[test]
    fn policy_table() {
        use Denial::*;
        use Role::*;
        let ok = Ok(());
        type Case = (Role, Action, Option<&'static str>, Result<(), Denial>);
        let cases: &[Case] = &[
            // Reading the organisation: by scope.
            (Admin, Action::ReadOrg, Some(TOWN_B), ok),
            (Leader, Action::ReadOrg, Some(TOWN_B), ok),
            (Office, Action::ReadOrg, Some(GRID_A), ok),
            (Office, Action::ReadOrg, Some(TOWN_A), ok),
            (Office, Action::ReadOrg, Some(TOWN_B), Err(Hidden)),
            (Office, Action::ReadOrg, Some(DISTRICT), Err(Hidden)),
            (Officer, Action::ReadOrg, Some(TOWN_A), ok),
            (Officer, Action::ReadOrg, Some(TOWN_B), Err(Hidden)),
            (Inspector, Action::ReadOrg, Some(GRID_A), ok),
            (Inspector, Action::ReadOrg, Some(TOWN_A), Err(Hidden)),
            (Inspector, Action::ReadOrg, Some(TOWN_B), Err(Hidden)),
            (Inspector, Action::ReadOrg, None, ok),
            // Managing the organisation and users: admin only.
            (Admin, Action::ManageOrg, Some(TOWN_B), ok),
            (Admin, Action::ManageOrg, None, ok),
            (Leader, Action::ManageOrg, Some(TOWN_A), Err(Forbidden)),
            (Office, Action::ManageOrg, Some(TOWN_A), Err(Forbidden)),
            (Officer, Action::ManageOrg, None, Err(Forbidden)),
            (Inspector, Action::ManageOrg, Some(GRID_A), Err(Forbidden)),
            (Admin, Action::ManageUsers, None, ok),
            (Leader, Action::ManageUsers, None, Err(Forbidden)),
            (Office, Action::ManageUsers, None, Err(Forbidden)),
            (Officer, Action::ManageUsers, None, Err(Forbidden)),
            (Inspector, Action::ManageUsers, None, Err(Forbidden)),
            // Directives: leaders anywhere, offices in their subtree.
            (Leader, Action::IssueDirective, Some(TOWN_B), ok),
            (Office, Action::IssueDirective, Some(TOWN_A), ok),
            (Office, Action::IssueDirective, Some(TOWN_B), Err(Hidden)),
            (
                Officer,
                Action::IssueDirective,
                Some(TOWN_A),
                Err(Forbidden),
            ),
            (Inspector, Action::IssueDirective, None, Err(Forbidden)),
            // Campaign work: offices in their subtree; leaders read but do not manage.
            (Admin, Action::ManageCampaignWork, Some(TOWN_B), ok),
            (Office, Action::ManageCampaignWork, Some(GRID_A), ok),
            (
                Office,
                Action::ManageCampaignWork,
                Some(TOWN_B),
                Err(Hidden),
            ),
            (
                Leader,
                Action::ManageCampaignWork,
                Some(TOWN_A),
                Err(Forbidden),
            ),
            (
                Officer,
                Action::ManageCampaignWork,
                Some(TOWN_A),
                Err(Forbidden),
            ),
            (
                Inspector,
                Action::ManageCampaignWork,
                Some(GRID_A),
                Err(Forbidden),
            ),
        ];
        for (role, action, target, expected) in cases {
            assert_eq!(
                authorize(&subject(*role), *action, *target),
                *expected,
                "{role:?} {action:?} on {target:?}"
            );
        }
    }

    #[test]
    fn prefix_match_is_by_whole_segments() {
        // "/d/a/" must not cover "/d/ab/": paths end in a slash for this reason.
        let s = Subject {
            role: Role::Officer,
            scope_roots: vec!["/d/a/".into()],
        };
        assert!(!s.covers("/d/ab/"));
        assert!(s.covers("/d/a/x/"));
    }

    #[test]
    fn leaders_and_admins_see_every_unit() {
        assert!(subject(Role::Leader).visible_roots().is_none());
        assert!(subject(Role::Admin).visible_roots().is_none());
        assert_eq!(
            subject(Role::Inspector).visible_roots().unwrap(),
            [GRID_A.to_string()]
        );
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
