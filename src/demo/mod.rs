//! Demo data: the district of 菏泽高新区 as the July 2020 news describes it (towns,
//! streets, villages, departments, grids with boundaries, pairings) and one user per role.
//! Loading is idempotent: what already exists (by code, username or pair) is left alone.

use serde::Deserialize;

use crate::auth::{password, Role};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::pairings::model as pairings;
use crate::units::geometry::Geometry;
use crate::units::model::{self as units, NewUnit, UnitKind, UnitUpdate};
use crate::users::model::{self as users, NewUser};

const DISTRICT_JSON: &str = include_str!("district.json");

#[derive(Debug, Deserialize)]
pub struct DemoData {
    pub district: String,
    pub units: Vec<DemoUnit>,
    pub pairings: Vec<DemoPairing>,
    pub users: Vec<DemoUser>,
}

#[derive(Debug, Deserialize)]
pub struct DemoUnit {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<String>,
    #[serde(default)]
    pub boundary: Option<Geometry>,
    /// Username of the grid leader.
    #[serde(default)]
    pub leader: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DemoPairing {
    pub department: String,
    pub partner: String,
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DemoUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit: String,
    pub password: String,
}

pub fn data() -> AppResult<DemoData> {
    serde_json::from_str(DISTRICT_JSON).map_err(|e| AppError::internal(format!("demo data: {e}")))
}

/// What a run created; zeros on a second run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub units: usize,
    pub users: usize,
    pub pairings: usize,
    pub leaders: usize,
}

/// Loads the demo data. `progress` is called once per item with a short label.
pub fn load(
    conn: &mut DbConnection,
    mut progress: impl FnMut(&str),
) -> AppResult<(Loaded, DemoData)> {
    let data = data()?;
    // Hash outside the transaction: argon2 is slow on purpose.
    let mut hashes = Vec::new();
    for user in &data.users {
        hashes.push(password::hash(&user.password)?);
        progress(&user.username);
    }
    let loaded = db::write_tx(conn, |conn| {
        let mut loaded = Loaded::default();
        let unit_id = |conn: &mut DbConnection, code: &str| -> AppResult<String> {
            units::find_by_code(conn, code)?
                .map(|u| u.id)
                .ok_or_else(|| AppError::internal(format!("demo data names unknown unit {code}")))
        };
        for unit in &data.units {
            progress(&unit.name);
            if units::find_by_code(conn, &unit.code)?.is_some() {
                continue;
            }
            let parent_id = unit
                .parent
                .as_deref()
                .map(|code| unit_id(conn, code))
                .transpose()?;
            let input = NewUnit {
                code: unit.code.clone(),
                name: unit.name.clone(),
                kind: unit.kind,
                parent_id,
                boundary: unit.boundary.clone(),
                leader_id: None,
            };
            let boundary = input.validate()?;
            units::create(conn, &input, boundary.as_ref())?;
            loaded.units += 1;
        }
        for (user, hash) in data.users.iter().zip(hashes) {
            progress(&user.display_name);
            if users::find_by_username(conn, &user.username)?.is_some() {
                continue;
            }
            let input = NewUser {
                username: user.username.clone(),
                display_name: user.display_name.clone(),
                password: user.password.clone(),
                role: user.role,
                unit_id: unit_id(conn, &user.unit)?,
            };
            input.validate()?;
            users::create(conn, &input, hash)?;
            loaded.users += 1;
        }
        for unit in data.units.iter().filter(|u| u.leader.is_some()) {
            let row = units::find_by_code(conn, &unit.code)?.ok_or(AppError::NotFound("unit"))?;
            let Some(leader) = unit
                .leader
                .as_deref()
                .map(|u| users::find_by_username(conn, u))
                .transpose()?
                .flatten()
            else {
                continue;
            };
            if row.leader_id.is_none() {
                let change = UnitUpdate {
                    leader_id: Some(Some(leader.id)),
                    ..UnitUpdate::default()
                };
                units::update(conn, &row, &change)?;
                loaded.leaders += 1;
            }
        }
        for pairing in &data.pairings {
            progress(&pairing.note);
            let input = pairings::NewPairing {
                department_id: unit_id(conn, &pairing.department)?,
                partner_id: unit_id(conn, &pairing.partner)?,
                note: pairing.note.clone(),
            };
            match pairings::create(conn, &input) {
                Ok(_) => loaded.pairings += 1,
                Err(AppError::Conflict {
                    code: "already_paired",
                    ..
                }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok::<_, AppError>(loaded)
    })?;
    Ok((loaded, data))
}

/// Number of progress steps [`load`] reports, for a progress bar.
pub fn steps(data: &DemoData) -> u64 {
    (data.units.len() + 2 * data.users.len() + data.pairings.len()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::geometry;

    #[test]
    fn demo_data_is_consistent() {
        let data = data().unwrap();
        assert_eq!(data.district, "菏泽高新区");
        for role in [Role::Leader, Role::Office, Role::Officer, Role::Inspector] {
            assert_eq!(
                data.users.iter().filter(|u| u.role == role).count(),
                1,
                "{role:?}"
            );
        }
        let mut seen = std::collections::HashMap::new();
        for unit in &data.units {
            let parent_kind = unit
                .parent
                .as_ref()
                .map(|p| *seen.get(p).unwrap_or_else(|| panic!("{p} before use")));
            assert!(
                unit.kind.may_have_parent(parent_kind),
                "{} under {:?}",
                unit.code,
                unit.parent
            );
            if let Some(b) = &unit.boundary {
                geometry::parse(b, "boundary").unwrap();
            }
            assert!(
                seen.insert(unit.code.clone(), unit.kind).is_none(),
                "duplicate {}",
                unit.code
            );
        }
        assert!(data.units.iter().any(|u| u.name == "马岭岗镇"));
    }
}
