//! Authorization in one place: [`authorize`] decides whether a [`Subject`] may perform an
//! [`Action`] on a [`Resource`] — the units it belongs to and who owns it (creator,
//! reporter, assignee, issuer, submitter, verifier, inspector). What each role needs is
//! the table [`RULES`]; the decision is a pure function, tested as a table.
//!
//! A resource the caller may not see answers as not found (404), so ids do not leak across
//! units; an operation the role may never perform, or may not perform on this visible
//! resource, is forbidden (403).

use crate::auth::scope::Subject;
use crate::ids::UserId;

crate::text_enum! {
    /// What a user is, which decides what they may do.
    pub enum Role {
        /// Users, units, grid boundaries; everything.
        Admin = "admin",
        /// District leader: reads everything, issues directives.
        Leader = "leader",
        /// District or town office: manages campaign work in its unit subtree.
        Office = "office",
        /// Unit officer: works on its unit subtree's items.
        Officer = "officer",
        /// Grid inspector: its grid(s).
        Inspector = "inspector",
    }
}

/// Everything a handler may ask the policy about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read an organisational record (unit, grid, pairing) of a unit.
    ReadOrg,
    /// Create, change or delete units, grid boundaries and pairings.
    ManageOrg,
    /// Create, change, deactivate and unlock user accounts.
    ManageUsers,
    /// List and read user accounts (an office: those of its own subtree, never admins).
    ReadUsers,
    /// Read campaign work (campaigns, meetings, directives, tasks, activities, their events)
    /// the caller's scope covers.
    ReadWork,
    /// Record meetings and issue directives, and split them into tasks (leaders, and the
    /// office of the issuing unit).
    IssueDirective,
    /// Create and run campaigns of a unit (its office).
    ManageCampaignWork,
    /// Work on a task of one's unit: start, report progress, submit, ask for more time.
    WorkOnTask,
    /// Accept or reject submitted work (the issuer's side): never the one who submitted it.
    VerifyWork,
    /// Decide a task's extension, reassign or cancel it (the issuer's side).
    ManageTask,
    /// Record a volunteer activity of one's unit.
    RecordActivity,
    /// Write to a patrol (its track, its visits): only its own inspector.
    WritePatrol,
    /// Create and change the categories of problem a unit manages (its office).
    ManageCategories,
    /// Record and change the sites (点位) of a unit (its office).
    ManageSites,
    /// Upload a photo or a document (evidence).
    UploadAttachment,
    /// Download an attachment: its uploader (and admins); whoever sees a rectification item
    /// it belongs to is let through by the handler.
    ReadAttachment,
    /// Report a problem (a rectification item) in a grid the caller sees.
    ReportProblem,
    /// Fix a rectification item routed to one's unit: start, submit, ask for more time.
    FixItem,
    /// Check a fix: the reporter, offices over the item, leaders; never its submitter.
    VerifyItem,
    /// Route an item from triage, reassign it, decide its extensions, cancel it (offices
    /// over the item, leaders).
    ManageItem,
    /// Mark an item a duplicate of another: whoever manages it, and its reporter.
    MarkDuplicate,
    /// Create and edit the checklists a unit manages (its office).
    ManageChecklists,
    /// Issue, list and revoke the Open311 API keys outside apps report with (admins).
    ManageOpen311Keys,
}

/// The ways a user can own a resource; a resource names the users in these roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerRole {
    Creator,
    Reporter,
    Assignee,
    Issuer,
    Submitter,
    Verifier,
    Inspector,
}

/// What the policy needs to know about a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource<'a> {
    /// Paths of the units the resource belongs to: visible when any of them is (a pairing
    /// belongs to both its units). Empty for a collection or a resource not yet placed.
    pub units: Vec<&'a str>,
    /// Who owns it, in which role.
    pub owners: Vec<(OwnerRole, UserId)>,
    /// The resource is a unit itself, not something that belongs to one: an inspector
    /// reads its grid's ancestors by name ([`Subject::sees_unit`]).
    pub unit_itself: bool,
    /// Path of the unit the resource is led from for the units below it too (a district's
    /// campaign, a directive it issued): visible to whoever works below it
    /// ([`Subject::works_below`]). A department's work reaches from its district
    /// ([`crate::auth::scope::reach_path`]).
    pub reach: Option<&'a str>,
    /// Path of the unit that issued the work (a task's directive's unit): whose office is
    /// "the issuer's side" ([`Reach::IssuerScope`]).
    pub issued_from: Option<&'a str>,
}

impl<'a> Resource<'a> {
    /// A collection, or an operation not about one resource.
    pub fn collection() -> Self {
        Resource::default()
    }

    /// A resource of the unit at `path`.
    pub fn of_unit(path: &'a str) -> Self {
        Resource {
            units: vec![path],
            ..Resource::default()
        }
    }

    /// The unit at `path` itself.
    pub fn unit(path: &'a str) -> Self {
        Resource {
            unit_itself: true,
            ..Resource::of_unit(path)
        }
    }

    /// A resource of several units, visible through any of them.
    pub fn of_units(paths: impl IntoIterator<Item = &'a str>) -> Self {
        Resource {
            units: paths.into_iter().collect(),
            ..Resource::default()
        }
    }

    /// A record led from the unit at `path` for the units below it (campaigns, directives):
    /// visible to those who see the unit, and to those who work below it.
    pub fn led_from(path: &'a str) -> Self {
        Resource::led_from_reaching(path, path)
    }

    /// A record of the unit at `path` that reaches down from the unit at `reach` (a
    /// department's campaign reaches the district's units).
    pub fn led_from_reaching(path: &'a str, reach: &'a str) -> Self {
        Resource {
            reach: Some(reach),
            ..Resource::of_unit(path)
        }
    }

    /// Work issued from the unit at `path` (the issuer's side may verify and manage it).
    pub fn issued_from(mut self, path: &'a str) -> Self {
        self.issued_from = Some(path);
        self
    }

    /// Adds an owner (nothing when `user` is `None`).
    pub fn owned(mut self, role: OwnerRole, user: Option<UserId>) -> Self {
        if let Some(user) = user {
            self.owners.push((role, user));
        }
        self
    }

    fn is_owned_by(&self, role: OwnerRole, user: UserId) -> bool {
        self.owners.contains(&(role, user))
    }
}

/// How far a role's permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Any resource the caller can see.
    Anywhere,
    /// Resources of the units the caller acts on (its own subtree), not those it only
    /// reads (pairing partners, an inspector's ancestors).
    OwnScope,
    /// Work issued from a unit the caller acts on (`Resource::issued_from`), wherever the
    /// unit doing the work is: the issuer's side.
    IssuerScope,
}

/// A condition on the resource's owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerCheck {
    /// Only the user in this role.
    Is(OwnerRole),
    /// Never the user in this role (the submitter never accepts their own fix).
    IsNot(OwnerRole),
}

/// What `role` needs to perform `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub role: Role,
    pub reach: Reach,
    pub owner: Option<OwnerCheck>,
}

const fn rule(action: Action, role: Role, reach: Reach, owner: Option<OwnerCheck>) -> Rule {
    Rule {
        action,
        role,
        reach,
        owner,
    }
}

use Action::*;
use OwnerCheck::*;
use Reach::*;
use Role::*;

/// Who may do what. A (action, role) pair that is not listed is forbidden.
pub const RULES: &[Rule] = &[
    rule(ReadOrg, Admin, Anywhere, None),
    rule(ReadOrg, Leader, Anywhere, None),
    rule(ReadOrg, Office, Anywhere, None),
    rule(ReadOrg, Officer, Anywhere, None),
    rule(ReadOrg, Inspector, Anywhere, None),
    rule(ManageOrg, Admin, Anywhere, None),
    rule(ManageOpen311Keys, Admin, Anywhere, None),
    rule(ManageUsers, Admin, Anywhere, None),
    rule(ReadUsers, Admin, Anywhere, None),
    rule(ReadUsers, Office, OwnScope, None),
    rule(ReadWork, Admin, Anywhere, None),
    rule(ReadWork, Leader, Anywhere, None),
    rule(ReadWork, Office, Anywhere, None),
    rule(ReadWork, Officer, Anywhere, None),
    rule(ReadWork, Inspector, Anywhere, None),
    rule(IssueDirective, Admin, Anywhere, None),
    rule(IssueDirective, Leader, Anywhere, None),
    rule(IssueDirective, Office, OwnScope, None),
    rule(ManageCampaignWork, Admin, Anywhere, None),
    rule(ManageCampaignWork, Office, OwnScope, None),
    rule(WorkOnTask, Admin, Anywhere, None),
    rule(WorkOnTask, Office, OwnScope, None),
    rule(WorkOnTask, Officer, OwnScope, None),
    rule(
        VerifyWork,
        Admin,
        Anywhere,
        Some(IsNot(OwnerRole::Submitter)),
    ),
    rule(
        VerifyWork,
        Leader,
        Anywhere,
        Some(IsNot(OwnerRole::Submitter)),
    ),
    rule(
        VerifyWork,
        Office,
        IssuerScope,
        Some(IsNot(OwnerRole::Submitter)),
    ),
    rule(ManageTask, Admin, Anywhere, None),
    rule(ManageTask, Leader, Anywhere, None),
    rule(ManageTask, Office, IssuerScope, None),
    rule(RecordActivity, Admin, Anywhere, None),
    rule(RecordActivity, Office, OwnScope, None),
    rule(RecordActivity, Officer, OwnScope, None),
    rule(ManageCategories, Admin, Anywhere, None),
    rule(ManageCategories, Office, OwnScope, None),
    rule(ManageSites, Admin, Anywhere, None),
    rule(ManageSites, Office, OwnScope, None),
    rule(UploadAttachment, Admin, Anywhere, None),
    rule(UploadAttachment, Leader, Anywhere, None),
    rule(UploadAttachment, Office, Anywhere, None),
    rule(UploadAttachment, Officer, Anywhere, None),
    rule(UploadAttachment, Inspector, Anywhere, None),
    rule(ReadAttachment, Admin, Anywhere, None),
    rule(
        ReadAttachment,
        Leader,
        Anywhere,
        Some(Is(OwnerRole::Creator)),
    ),
    rule(
        ReadAttachment,
        Office,
        Anywhere,
        Some(Is(OwnerRole::Creator)),
    ),
    rule(
        ReadAttachment,
        Officer,
        Anywhere,
        Some(Is(OwnerRole::Creator)),
    ),
    rule(
        ReadAttachment,
        Inspector,
        Anywhere,
        Some(Is(OwnerRole::Creator)),
    ),
    rule(ReportProblem, Admin, Anywhere, None),
    rule(ReportProblem, Leader, Anywhere, None),
    rule(ReportProblem, Office, Anywhere, None),
    rule(ReportProblem, Officer, Anywhere, None),
    rule(ReportProblem, Inspector, Anywhere, None),
    rule(FixItem, Admin, Anywhere, None),
    rule(FixItem, Office, OwnScope, None),
    rule(FixItem, Officer, OwnScope, None),
    rule(
        VerifyItem,
        Admin,
        Anywhere,
        Some(IsNot(OwnerRole::Submitter)),
    ),
    rule(
        VerifyItem,
        Leader,
        Anywhere,
        Some(IsNot(OwnerRole::Submitter)),
    ),
    rule(
        VerifyItem,
        Office,
        OwnScope,
        Some(IsNot(OwnerRole::Submitter)),
    ),
    rule(
        VerifyItem,
        Inspector,
        Anywhere,
        Some(Is(OwnerRole::Reporter)),
    ),
    rule(ManageItem, Admin, Anywhere, None),
    rule(ManageItem, Leader, Anywhere, None),
    rule(ManageItem, Office, OwnScope, None),
    rule(ManageChecklists, Admin, Anywhere, None),
    rule(ManageChecklists, Office, OwnScope, None),
    rule(MarkDuplicate, Admin, Anywhere, None),
    rule(MarkDuplicate, Leader, Anywhere, None),
    rule(MarkDuplicate, Office, OwnScope, None),
    rule(
        MarkDuplicate,
        Officer,
        Anywhere,
        Some(Is(OwnerRole::Reporter)),
    ),
    rule(
        MarkDuplicate,
        Inspector,
        Anywhere,
        Some(Is(OwnerRole::Reporter)),
    ),
    rule(
        WritePatrol,
        Inspector,
        OwnScope,
        Some(Is(OwnerRole::Inspector)),
    ),
];

/// Why a request is refused; the HTTP status follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The resource is outside what the caller may see: 404, as if it did not exist.
    Hidden,
    /// The role may never do this: 403.
    RoleMayNot,
    /// The caller sees the resource but it is outside the units it acts on: 403.
    ReadOnly,
    /// The caller is not the owner the action needs, or is the owner it excludes: 403.
    Owner(OwnerCheck),
}

/// Decides whether `subject` may perform `action` on `resource`.
pub fn authorize(subject: &Subject, action: Action, resource: &Resource) -> Result<(), Denial> {
    // Visibility first: what the caller may not see must look absent, even to a role that
    // could not act on it anyway.
    let sees = |path: &&str| match resource.unit_itself {
        true => subject.sees_unit(path),
        false => subject.sees(path),
    };
    let visible = resource.units.is_empty()
        || resource.units.iter().any(sees)
        || resource.reach.is_some_and(|path| subject.works_below(path));
    if !visible {
        return Err(Denial::Hidden);
    }
    let rule = RULES
        .iter()
        .find(|r| r.action == action && r.role == subject.role)
        .ok_or(Denial::RoleMayNot)?;
    let reached = match rule.reach {
        Anywhere => true,
        OwnScope => resource.units.is_empty() || resource.units.iter().any(|p| subject.acts_on(p)),
        IssuerScope => match resource.issued_from {
            Some(path) => subject.acts_on(path),
            None => resource.units.is_empty(),
        },
    };
    if !reached {
        return Err(Denial::ReadOnly);
    }
    match rule.owner {
        Some(check @ Is(role)) if !resource.is_owned_by(role, subject.user_id) => {
            Err(Denial::Owner(check))
        }
        Some(check @ IsNot(role)) if resource.is_owned_by(role, subject.user_id) => {
            Err(Denial::Owner(check))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISTRICT: &str = "/d/";
    const TOWN_A: &str = "/d/a/";
    const GRID_A: &str = "/d/a/v/g/";
    const TOWN_B: &str = "/d/b/";
    /// A town department `p` is paired with: readable, not actionable, for p's users.
    const PARTNER: &str = "/d/c/";

    fn subject(role: Role, me: UserId) -> Subject {
        let roots = match role {
            Admin | Leader => vec![DISTRICT.to_string()],
            Office | Officer => vec![TOWN_A.to_string()],
            Inspector => vec![GRID_A.to_string()],
        };
        Subject {
            user_id: me,
            role,
            roots,
            read_roots: vec![PARTNER.to_string()],
            ancestors: Vec::new(),
        }
    }

    /// Who owns the resource in a case.
    #[derive(Debug, Clone, Copy)]
    enum Owned {
        Nobody,
        /// The caller, in this role.
        Me(OwnerRole),
        /// Someone else, in this role.
        Other(OwnerRole),
    }

    /// The whole policy as a table: role × action × resource (unit, owner) → decision.
    #[test]
    fn policy_table() {
        use Denial::*;
        use Owned::*;
        let ok = Ok(());
        let not_submitter = Err(Owner(IsNot(OwnerRole::Submitter)));
        let not_inspector = Err(Owner(Is(OwnerRole::Inspector)));
        type Case = (
            Role,
            Action,
            Option<&'static str>,
            Owned,
            Result<(), Denial>,
        );
        let cases: &[Case] = &[
            // Reading the organisation: by scope, pairing partners included.
            (Admin, ReadOrg, Some(TOWN_B), Nobody, ok),
            (Leader, ReadOrg, Some(TOWN_B), Nobody, ok),
            (Office, ReadOrg, Some(GRID_A), Nobody, ok),
            (Office, ReadOrg, Some(TOWN_A), Nobody, ok),
            (Office, ReadOrg, Some(TOWN_B), Nobody, Err(Hidden)),
            (Office, ReadOrg, Some(DISTRICT), Nobody, Err(Hidden)),
            (Officer, ReadOrg, Some(TOWN_A), Nobody, ok),
            (Officer, ReadOrg, Some(PARTNER), Nobody, ok),
            (Officer, ReadOrg, Some(TOWN_B), Nobody, Err(Hidden)),
            (Inspector, ReadOrg, Some(GRID_A), Nobody, ok),
            (Inspector, ReadOrg, Some(TOWN_A), Nobody, Err(Hidden)),
            (Inspector, ReadOrg, Some(TOWN_B), Nobody, Err(Hidden)),
            (Inspector, ReadOrg, None, Nobody, ok),
            // Managing the organisation and users: admin only.
            (Admin, ManageOrg, Some(TOWN_B), Nobody, ok),
            (Admin, ManageOrg, None, Nobody, ok),
            (Leader, ManageOrg, Some(TOWN_A), Nobody, Err(RoleMayNot)),
            (Office, ManageOrg, Some(TOWN_A), Nobody, Err(RoleMayNot)),
            (Officer, ManageOrg, None, Nobody, Err(RoleMayNot)),
            (Inspector, ManageOrg, Some(GRID_A), Nobody, Err(RoleMayNot)),
            (Admin, ManageUsers, None, Nobody, ok),
            (Leader, ManageUsers, None, Nobody, Err(RoleMayNot)),
            (Office, ManageUsers, None, Nobody, Err(RoleMayNot)),
            (Officer, ManageUsers, None, Nobody, Err(RoleMayNot)),
            (Inspector, ManageUsers, None, Nobody, Err(RoleMayNot)),
            // Reading accounts: admins, and offices within their own units.
            (Admin, ReadUsers, Some(TOWN_B), Nobody, ok),
            (Office, ReadUsers, Some(GRID_A), Nobody, ok),
            (Office, ReadUsers, Some(TOWN_B), Nobody, Err(Hidden)),
            (Office, ReadUsers, Some(PARTNER), Nobody, Err(ReadOnly)),
            (Leader, ReadUsers, None, Nobody, Err(RoleMayNot)),
            (Officer, ReadUsers, Some(TOWN_A), Nobody, Err(RoleMayNot)),
            // Directives: leaders anywhere, offices in their subtree.
            (Leader, IssueDirective, Some(TOWN_B), Nobody, ok),
            (Office, IssueDirective, Some(TOWN_A), Nobody, ok),
            (Office, IssueDirective, Some(TOWN_B), Nobody, Err(Hidden)),
            (Office, IssueDirective, Some(PARTNER), Nobody, Err(ReadOnly)),
            (
                Officer,
                IssueDirective,
                Some(TOWN_A),
                Nobody,
                Err(RoleMayNot),
            ),
            (Inspector, IssueDirective, None, Nobody, Err(RoleMayNot)),
            // Campaign work: offices in their subtree; leaders read but do not manage.
            (Admin, ManageCampaignWork, Some(TOWN_B), Nobody, ok),
            (Office, ManageCampaignWork, Some(GRID_A), Nobody, ok),
            (
                Office,
                ManageCampaignWork,
                Some(TOWN_B),
                Nobody,
                Err(Hidden),
            ),
            (
                Leader,
                ManageCampaignWork,
                Some(TOWN_A),
                Nobody,
                Err(RoleMayNot),
            ),
            (
                Officer,
                ManageCampaignWork,
                Some(TOWN_A),
                Nobody,
                Err(RoleMayNot),
            ),
            (
                Inspector,
                ManageCampaignWork,
                Some(GRID_A),
                Nobody,
                Err(RoleMayNot),
            ),
            // Verifying work: the issuer's side, never whoever submitted it.
            (
                Office,
                VerifyWork,
                Some(TOWN_A),
                Other(OwnerRole::Submitter),
                ok,
            ),
            (
                Office,
                VerifyWork,
                Some(TOWN_A),
                Me(OwnerRole::Submitter),
                not_submitter,
            ),
            (Office, VerifyWork, Some(TOWN_A), Me(OwnerRole::Issuer), ok),
            (
                Leader,
                VerifyWork,
                Some(TOWN_B),
                Me(OwnerRole::Submitter),
                not_submitter,
            ),
            (Leader, VerifyWork, Some(TOWN_B), Nobody, ok),
            (
                Admin,
                VerifyWork,
                Some(TOWN_B),
                Me(OwnerRole::Submitter),
                not_submitter,
            ),
            (Office, VerifyWork, Some(PARTNER), Nobody, Err(ReadOnly)),
            (
                Officer,
                VerifyWork,
                Some(TOWN_A),
                Other(OwnerRole::Submitter),
                Err(RoleMayNot),
            ),
            // Rectification items: the responsible unit fixes; the reporter, offices over
            // the item and leaders check, never the submitter; offices manage.
            (Officer, FixItem, Some(TOWN_A), Nobody, ok),
            (Officer, FixItem, Some(PARTNER), Nobody, Err(ReadOnly)),
            (Inspector, FixItem, Some(GRID_A), Nobody, Err(RoleMayNot)),
            (Leader, FixItem, Some(TOWN_A), Nobody, Err(RoleMayNot)),
            (
                Inspector,
                VerifyItem,
                Some(GRID_A),
                Me(OwnerRole::Reporter),
                ok,
            ),
            (
                Inspector,
                VerifyItem,
                Some(GRID_A),
                Other(OwnerRole::Reporter),
                Err(Owner(Is(OwnerRole::Reporter))),
            ),
            (
                Office,
                VerifyItem,
                Some(TOWN_A),
                Me(OwnerRole::Submitter),
                not_submitter,
            ),
            (Office, VerifyItem, Some(TOWN_A), Nobody, ok),
            (Office, VerifyItem, Some(TOWN_B), Nobody, Err(Hidden)),
            (Officer, VerifyItem, Some(TOWN_A), Nobody, Err(RoleMayNot)),
            (Office, ManageItem, Some(GRID_A), Nobody, ok),
            (Office, ManageItem, Some(PARTNER), Nobody, Err(ReadOnly)),
            (Officer, ManageItem, Some(TOWN_A), Nobody, Err(RoleMayNot)),
            (
                Inspector,
                MarkDuplicate,
                Some(GRID_A),
                Me(OwnerRole::Reporter),
                ok,
            ),
            (
                Officer,
                MarkDuplicate,
                Some(TOWN_A),
                Other(OwnerRole::Reporter),
                Err(Owner(Is(OwnerRole::Reporter))),
            ),
            (Inspector, ReportProblem, None, Nobody, ok),
            // Patrols: only the patrol's own inspector writes to it.
            (
                Inspector,
                WritePatrol,
                Some(GRID_A),
                Me(OwnerRole::Inspector),
                ok,
            ),
            (
                Inspector,
                WritePatrol,
                Some(GRID_A),
                Other(OwnerRole::Inspector),
                not_inspector,
            ),
            (
                Inspector,
                WritePatrol,
                Some(TOWN_B),
                Me(OwnerRole::Inspector),
                Err(Hidden),
            ),
            (
                Admin,
                WritePatrol,
                Some(GRID_A),
                Other(OwnerRole::Inspector),
                Err(RoleMayNot),
            ),
            (
                Office,
                WritePatrol,
                Some(GRID_A),
                Me(OwnerRole::Inspector),
                Err(RoleMayNot),
            ),
        ];
        for (role, action, unit, owned, expected) in cases {
            let me = UserId::new();
            let resource = unit.map_or_else(Resource::collection, Resource::of_unit);
            // Work issued from the unit it is done in (the issuer's side is tested apart).
            let resource = match (action, unit) {
                (VerifyWork | ManageTask, Some(path)) => resource.issued_from(path),
                _ => resource,
            };
            let resource = match owned {
                Nobody => resource,
                Me(role) => resource.owned(*role, Some(me)),
                Other(role) => resource.owned(*role, Some(UserId::new())),
            };
            assert_eq!(
                authorize(&subject(*role, me), *action, &resource),
                *expected,
                "{role:?} {action:?} on {unit:?} owned by {owned:?}"
            );
        }
    }

    /// Accepting, rejecting, deciding extensions, reassigning and cancelling belong to the
    /// office of the unit that issued the work, not to the office above the unit doing it.
    #[test]
    fn the_issuer_side_is_the_issuing_units_office() {
        let me = UserId::new();
        let of_district = Resource::of_unit(GRID_A).issued_from(DISTRICT);
        let of_town = Resource::of_unit(GRID_A).issued_from(TOWN_A);
        for action in [VerifyWork, ManageTask] {
            assert_eq!(
                authorize(&subject(Office, me), action, &of_district),
                Err(Denial::ReadOnly),
                "{action:?}"
            );
            assert_eq!(authorize(&subject(Office, me), action, &of_town), Ok(()));
            assert_eq!(
                authorize(&subject(Leader, me), action, &of_district),
                Ok(())
            );
            assert_eq!(
                authorize(&subject(Officer, me), action, &of_town),
                Err(Denial::RoleMayNot)
            );
        }
        // The unit doing the work works on it; the issuer's office may too (its subtree).
        assert_eq!(
            authorize(&subject(Officer, me), WorkOnTask, &of_district),
            Ok(())
        );
        assert_eq!(
            authorize(&subject(Inspector, me), WorkOnTask, &of_district),
            Err(Denial::RoleMayNot)
        );
        let partner_task = Resource::of_unit(PARTNER).issued_from(DISTRICT);
        assert_eq!(
            authorize(&subject(Officer, me), WorkOnTask, &partner_task),
            Err(Denial::ReadOnly),
            "a pairing partner's tasks are read-only"
        );
        assert_eq!(
            authorize(&subject(Officer, me), ReadWork, &partner_task),
            Ok(())
        );
    }

    /// A district's campaign is visible to the towns below it, not to a sibling's subtree
    /// only because it sees the district by name.
    #[test]
    fn work_led_from_above_reaches_down() {
        let me = UserId::new();
        let campaign = Resource::led_from(DISTRICT);
        for role in [Office, Officer, Inspector] {
            assert_eq!(
                authorize(&subject(role, me), ReadWork, &campaign),
                Ok(()),
                "{role:?}"
            );
        }
        assert_eq!(
            authorize(&subject(Office, me), ManageCampaignWork, &campaign),
            Err(Denial::ReadOnly)
        );
        let of_town_b = Resource::led_from(TOWN_B);
        assert_eq!(
            authorize(&subject(Officer, me), ReadWork, &of_town_b),
            Err(Denial::Hidden)
        );
        let of_grid = Resource::led_from(GRID_A);
        assert_eq!(authorize(&subject(Officer, me), ReadWork, &of_grid), Ok(()));
        // A district department's campaign reaches the district's units, and its office
        // still runs it.
        let department = "/d/p/";
        let of_department = Resource::led_from_reaching(department, DISTRICT);
        assert_eq!(
            authorize(&subject(Officer, me), ReadWork, &of_department),
            Ok(())
        );
        assert_eq!(
            authorize(&subject(Office, me), ManageCampaignWork, &of_department),
            Err(Denial::ReadOnly)
        );
        let mut department_office = subject(Office, me);
        department_office.roots = vec![department.to_string()];
        assert_eq!(
            authorize(&department_office, ManageCampaignWork, &of_department),
            Ok(())
        );
        assert_eq!(
            authorize(
                &subject(Officer, me),
                ReadWork,
                &Resource::of_unit(DISTRICT)
            ),
            Err(Denial::Hidden),
            "only what reaches down"
        );
    }

    #[test]
    fn a_resource_of_two_units_is_visible_through_either() {
        let me = UserId::new();
        let both = Resource::of_units([TOWN_B, TOWN_A]);
        assert_eq!(authorize(&subject(Officer, me), ReadOrg, &both), Ok(()));
        let neither = Resource::of_units([TOWN_B, DISTRICT]);
        assert_eq!(
            authorize(&subject(Officer, me), ReadOrg, &neither),
            Err(Denial::Hidden)
        );
    }

    #[test]
    fn every_role_and_action_pair_is_listed_at_most_once() {
        for (i, a) in RULES.iter().enumerate() {
            for b in &RULES[i + 1..] {
                assert!(
                    (a.action, a.role) != (b.action, b.role),
                    "{:?} {:?} twice",
                    a.action,
                    a.role
                );
            }
        }
    }
}
