//! Names shown beside ids: units' names and users' display names, looked up together in
//! one query for a whole page of records (a task shows its unit, its assignee and its
//! issuer; a unit its ancestors and its grid leader).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{units, users};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ids::{UnitId, UserId};

/// Names by id, as loaded by [`Names::load`].
#[derive(Debug, Default)]
pub struct Names {
    /// Keyed by the id's text: unit and user ids are UUIDs, so they never collide.
    by_id: HashMap<String, String>,
}

impl Names {
    /// The names of these units and users, in one query (a `UNION ALL` of the two tables).
    pub fn load(
        conn: &mut DbConnection,
        units: impl IntoIterator<Item = UnitId>,
        users: impl IntoIterator<Item = UserId>,
    ) -> AppResult<Names> {
        let mut unit_ids: Vec<UnitId> = units.into_iter().collect();
        unit_ids.sort();
        unit_ids.dedup();
        let mut user_ids: Vec<UserId> = users.into_iter().collect();
        user_ids.sort();
        user_ids.dedup();
        let unit_names = units::table
            .filter(crate::db::in_list(units::id, unit_ids.clone()))
            .select((units::id, units::name));
        let user_names = users::table
            .filter(crate::db::in_list(users::id, user_ids.clone()))
            .select((users::id, users::display_name));
        let rows: Vec<(String, String)> = match (unit_ids.is_empty(), user_ids.is_empty()) {
            (true, true) => Vec::new(),
            (false, true) => unit_names.load(conn)?,
            (true, false) => user_names.load(conn)?,
            // A combination clause is built for one backend at a time.
            (false, false) => {
                crate::on_backend!(conn, |c| unit_names.union_all(user_names).load(c))?
            }
        };
        Ok(Names {
            by_id: rows.into_iter().collect(),
        })
    }

    /// Names already at hand (read with the record they belong to), by id.
    pub fn known(names: impl IntoIterator<Item = (String, String)>) -> Names {
        Names {
            by_id: names.into_iter().collect(),
        }
    }

    /// The unit's name (empty if it was not loaded: a unit deleted since).
    pub fn unit(&self, id: UnitId) -> String {
        self.by_id.get(id.as_str()).cloned().unwrap_or_default()
    }

    /// The user's display name (empty if it was not loaded).
    pub fn user(&self, id: UserId) -> String {
        self.by_id.get(id.as_str()).cloned().unwrap_or_default()
    }

    /// The user's display name, when there is a user.
    pub fn user_opt(&self, id: Option<UserId>) -> Option<String> {
        id.map(|id| self.user(id))
    }
}
