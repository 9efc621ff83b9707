//! A world described as data — units with their grids, users, pairings (and, as the
//! domains grow, their records) — and the one loader that builds it through the same
//! model functions the API uses. `demo` loads the demo district (`src/demo/district.json`);
//! the tests load their small fixture world (`tests/api/world.json`). Records refer to
//! each other by key (a unit's key defaults to its code, a user's to its username).
//!
//! Loading is idempotent: what already exists (a unit by code, a user by username, a
//! pairing by its two units) is left as it is and reported as existing.

pub mod bulk;
pub mod rectification;
pub mod work;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use serde::Deserialize;

use crate::auth::Role;
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::ids::{PairingId, UnitId, UserId};
use crate::pairings::forms::NewPairing;
use crate::units::forms::{NewUnit, UnitUpdate};
use crate::units::geometry::Geometry;
use crate::units::UnitKind;
use crate::users::forms::NewUser;
use crate::{pairings, units, users};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Description {
    /// What the world is called, e.g. 菏泽高新区.
    pub name: String,
    pub units: Vec<UnitSpec>,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub pairings: Vec<PairingSpec>,
    #[serde(default)]
    pub campaigns: Vec<work::CampaignSpec>,
    #[serde(default)]
    pub meetings: Vec<work::MeetingSpec>,
    #[serde(default)]
    pub directives: Vec<work::DirectiveSpec>,
    #[serde(default)]
    pub activities: Vec<work::ActivitySpec>,
    #[serde(default)]
    pub categories: Vec<rectification::CategorySpec>,
    #[serde(default)]
    pub sites: Vec<rectification::SiteSpec>,
    /// Rectification items, with what happened to them.
    #[serde(default)]
    pub items: Vec<rectification::ItemSpec>,
    /// Patrols with their tracks and visits.
    #[serde(default)]
    pub patrols: Vec<rectification::PatrolSpec>,
    #[serde(default)]
    pub checklists: Vec<rectification::ChecklistSpec>,
    #[serde(default)]
    pub inspections: Vec<rectification::InspectionSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    /// How other records refer to this unit; its code when absent.
    #[serde(default)]
    pub key: Option<String>,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// The parent's key.
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub boundary: Option<Geometry>,
    /// The grid leader's key (a user of this world).
    #[serde(default)]
    pub leader: Option<String>,
}

impl UnitSpec {
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or(&self.code)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// How other records refer to this user; its username when absent.
    #[serde(default)]
    pub key: Option<String>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The unit's key.
    pub unit: String,
    pub password: String,
}

impl UserSpec {
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or(&self.username)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairingSpec {
    /// How tests refer to this pairing; `department→partner` when absent.
    #[serde(default)]
    pub key: Option<String>,
    pub department: String,
    pub partner: String,
    #[serde(default)]
    pub note: String,
}

impl PairingSpec {
    pub fn key(&self) -> String {
        self.key
            .clone()
            .unwrap_or_else(|| format!("{}→{}", self.department, self.partner))
    }
}

/// What a load found or made, by key, and what it created.
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    pub units: BTreeMap<String, UnitId>,
    pub users: BTreeMap<String, UserId>,
    pub pairings: BTreeMap<String, PairingId>,
    /// Campaigns, meetings, directives, tasks and activities, by key.
    pub work: work::LoadedWork,
    /// Categories and sites, by key.
    pub rectification: rectification::LoadedRectification,
    pub created: Created,
}

/// What a load created (everything else existed already).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Created {
    pub units: usize,
    /// Usernames of the users created.
    pub users: Vec<String>,
    pub pairings: usize,
    pub leaders: usize,
    pub work: work::CreatedWork,
    pub rectification: rectification::CreatedRectification,
}

impl Description {
    pub fn parse(json: &str) -> AppResult<Description> {
        serde_json::from_str(json)
            .map_err(|e| AppError::internal(format!("world description: {e}")))
    }

    /// Number of progress steps [`load`] reports, for a progress bar.
    pub fn steps(&self) -> u64 {
        (self.units.len()
            + 2 * self.users.len()
            + self.pairings.len()
            + self.categories.len()
            + self.sites.len()
            + self.items.len()
            + self.patrols.len()
            + self.checklists.len()
            + self.inspections.len()) as u64
            + self.work().steps()
    }

    /// The campaign work it describes.
    pub fn work(&self) -> work::WorkSpec {
        work::WorkSpec {
            campaigns: self.campaigns.clone(),
            meetings: self.meetings.clone(),
            directives: self.directives.clone(),
            activities: self.activities.clone(),
        }
    }
}

/// How a load runs: passwords to hashes (called before the transaction: argon2 is slow on
/// purpose), the moment relative times count from, and a progress callback (once per
/// record).
pub struct Loader<'a> {
    pub hash: &'a mut dyn FnMut(&str) -> AppResult<String>,
    pub now: NaiveDateTime,
    pub progress: &'a mut dyn FnMut(&str),
    /// Where the photos of items go (the loader attaches a placeholder picture to reports
    /// and fixes); a world with photos fails to load without it.
    pub attachments: Option<&'a crate::attachments::store::Store>,
}

/// Loads `world`.
pub fn load(conn: &mut DbConnection, world: &Description, with: Loader<'_>) -> AppResult<Loaded> {
    load_onto(conn, world, &Loaded::default(), with)
}

/// Loads `world` on top of an earlier load: its records may refer to `base`'s keys.
pub fn load_onto(
    conn: &mut DbConnection,
    world: &Description,
    base: &Loaded,
    with: Loader<'_>,
) -> AppResult<Loaded> {
    let Loader {
        hash,
        now,
        progress,
        attachments,
    } = with;
    let mut hashes: HashMap<&str, String> = HashMap::new();
    for user in &world.users {
        if !hashes.contains_key(user.password.as_str()) {
            hashes.insert(&user.password, hash(&user.password)?);
        }
        progress(&user.username);
    }
    db::write_tx(conn, |conn| {
        units::model::lock_tree_for_import(conn)?;
        let mut loaded = Loaded {
            created: Created::default(),
            ..base.clone()
        };
        load_units(conn, world, &mut loaded, progress)?;
        for user in &world.users {
            progress(&user.display_name);
            let id = match users::model::find_by_username(conn, &user.username)? {
                Some(existing) => existing.id,
                None => {
                    let input = NewUser {
                        username: user.username.clone(),
                        display_name: user.display_name.clone(),
                        password: user.password.clone(),
                        role: user.role,
                        unit_id: unit_key(&loaded, &user.unit)?,
                    }
                    .validate()?;
                    let password_hash = hashes
                        .get(user.password.as_str())
                        .cloned()
                        .unwrap_or_default();
                    loaded.created.users.push(user.username.clone());
                    users::model::create(conn, &input, password_hash)?.id
                }
            };
            loaded.users.insert(user.key().to_string(), id);
        }
        set_leaders(conn, world, &mut loaded)?;
        for pairing in &world.pairings {
            progress(&pairing.note);
            let input = NewPairing {
                department_id: unit_key(&loaded, &pairing.department)?,
                partner_id: unit_key(&loaded, &pairing.partner)?,
                note: pairing.note.clone(),
            }
            .validate()?;
            let id =
                match pairings::model::find_between(conn, input.department_id, input.partner_id)? {
                    Some(existing) => existing,
                    None => {
                        loaded.created.pairings += 1;
                        pairings::model::create(conn, &input)?.id
                    }
                };
            loaded.pairings.insert(pairing.key(), id);
        }
        work::load(conn, &world.work(), &mut loaded, now, progress)?;
        rectification::load(conn, world, &mut loaded, (now, attachments), progress)?;
        Ok(loaded)
    })
}

fn unit_key(loaded: &Loaded, key: &str) -> AppResult<UnitId> {
    loaded
        .units
        .get(key)
        .copied()
        .ok_or_else(|| AppError::internal(format!("the world names unknown unit `{key}`")))
}

fn load_units(
    conn: &mut DbConnection,
    world: &Description,
    loaded: &mut Loaded,
    progress: &mut dyn FnMut(&str),
) -> AppResult<()> {
    for unit in &world.units {
        progress(&unit.name);
        let id = match units::model::find_by_code(conn, &unit.code)? {
            Some(existing) => existing.id,
            None => {
                let parent_id = unit
                    .parent
                    .as_deref()
                    .map(|key| unit_key(loaded, key))
                    .transpose()?;
                let draft = NewUnit {
                    code: unit.code.clone(),
                    name: unit.name.clone(),
                    kind: unit.kind,
                    parent_id,
                    boundary: unit.boundary.clone(),
                    leader_id: None,
                }
                .validate(units::geometry::DEFAULT_MAX_VERTICES)?;
                loaded.created.units += 1;
                units::model::create(conn, &draft)?.id
            }
        };
        loaded.units.insert(unit.key().to_string(), id);
    }
    Ok(())
}

/// Grid leaders are set once both the grid and its leader exist; a leader already set is
/// left alone.
fn set_leaders(conn: &mut DbConnection, world: &Description, loaded: &mut Loaded) -> AppResult<()> {
    for unit in &world.units {
        let Some(leader_key) = &unit.leader else {
            continue;
        };
        let leader = loaded.users.get(leader_key).copied().ok_or_else(|| {
            AppError::internal(format!("the world names unknown user `{leader_key}`"))
        })?;
        let id = unit_key(loaded, unit.key())?;
        if units::model::find(conn, id)?.leader_id.is_none() {
            let change = UnitUpdate {
                leader_id: Some(Some(leader)),
                ..UnitUpdate::default()
            }
            .validate(units::geometry::DEFAULT_MAX_VERTICES)?;
            units::model::update(conn, id, &change, |_, _| Ok(()))?;
            loaded.created.leaders += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reference in a description points at a record declared before it, units
    /// follow the tree's rules, boundaries are valid and keys are unique.
    pub fn check(world: &Description) {
        let mut kinds: HashMap<&str, UnitKind> = HashMap::new();
        for unit in &world.units {
            let parent = unit
                .parent
                .as_deref()
                .map(|p| *kinds.get(p).unwrap_or_else(|| panic!("{p} before use")));
            assert!(
                unit.kind.may_have_parent(parent),
                "{} under {parent:?}",
                unit.code
            );
            if let Some(b) = &unit.boundary {
                units::geometry::parse(b, "boundary", units::geometry::DEFAULT_MAX_VERTICES)
                    .unwrap();
            }
            assert!(
                kinds.insert(unit.key(), unit.kind).is_none(),
                "two {}",
                unit.key()
            );
        }
        let users: Vec<&str> = world.users.iter().map(UserSpec::key).collect();
        for user in &world.users {
            assert!(kinds.contains_key(user.unit.as_str()), "{}", user.unit);
        }
        for unit in &world.units {
            if let Some(leader) = &unit.leader {
                assert!(users.contains(&leader.as_str()), "leader {leader}");
            }
        }
        for pairing in &world.pairings {
            assert!(kinds.contains_key(pairing.department.as_str()));
            assert!(kinds.contains_key(pairing.partner.as_str()));
        }
    }

    #[test]
    fn the_demo_district_is_consistent() {
        let world = crate::demo::district().unwrap();
        check(&world);
        assert_eq!(world.name, "菏泽高新区");
        for role in [Role::Leader, Role::Office, Role::Officer, Role::Inspector] {
            assert!(
                world.users.iter().any(|u| u.role == role),
                "no demo {role:?}"
            );
        }
        assert!(world.units.iter().any(|u| u.name == "马岭岗镇"));
        assert_eq!(world.campaigns.len(), 4);
        assert!(world.directives.iter().all(|d| !d.tasks.is_empty()));
    }
}
