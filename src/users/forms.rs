//! What admins send about accounts, and the only place it is checked.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{password, Role};
use crate::error::AppResult;
use crate::http::extract::not_null;
use crate::ids::UnitId;
use crate::users::rules::{check_username, MAX_DISPLAY_NAME_CHARS};
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "wangge07", "display_name": "寨庄第一网格员", "password": "sluice gate at Qilihe 7", "role": "inspector", "unit_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"}))]
pub struct NewUser {
    #[schema(
        min_length = 2,
        max_length = 64,
        pattern = r"^\S+$",
        example = "wangge01"
    )]
    pub username: String,
    #[schema(min_length = 1, max_length = 100, example = "寨庄网格员")]
    pub display_name: String,
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: String,
    pub role: Role,
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
}

impl NewUser {
    /// Checked as a whole; the password is hashed by the caller, outside any transaction.
    pub fn validate(self) -> AppResult<NewUser> {
        let mut c = Checks::new();
        c.check("username", check_username(&self.username));
        c.text("display_name", &self.display_name, MAX_DISPLAY_NAME_CHARS);
        c.check(
            "password",
            password::check_strength(&self.password, &self.username),
        );
        c.finish()?;
        Ok(self)
    }
}

/// Admin changes to a user. Absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "吕陵镇联络员", "active": true}))]
pub struct UserUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    /// Reactivates (`true`) or deactivates (`false`) the account.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
    /// Resets the password: the user must change it at the next login, their sessions
    /// end, and a lock from failed logins is lifted.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 10, max_length = 128, format = Password)]
    pub password: Option<String>,
}

impl UserUpdate {
    pub fn validate(self) -> AppResult<UserUpdate> {
        let mut c = Checks::new();
        if let Some(name) = &self.display_name {
            c.text("display_name", name, MAX_DISPLAY_NAME_CHARS);
        }
        // The rest of the password rules need the user's name: `users::model::update`.
        if let Some(password) = &self.password {
            c.check("password", password::check_length(password));
        }
        c.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UserSort {
    #[default]
    Username,
    #[serde(rename = "-username")]
    UsernameDesc,
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub role: Option<Role>,
    /// Users of this unit only.
    #[param(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    pub active: Option<bool>,
    /// Substring of the username or display name.
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<UserSort>,
}

/// A checked user list filter.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub unit_id: Option<UnitId>,
    pub active: Option<bool>,
    pub q: Option<String>,
    pub sort: UserSort,
}

impl UserQuery {
    pub fn validate(self) -> AppResult<UserFilter> {
        Ok(UserFilter {
            role: self.role,
            unit_id: self.unit_id,
            active: self.active,
            q: validate::search_text(self.q)?,
            sort: self.sort.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_user_reports_every_bad_field() {
        let input = NewUser {
            username: "a b".into(),
            display_name: " ".into(),
            password: "short".into(),
            role: Role::Officer,
            unit_id: UnitId::new(),
        };
        let problem = input.validate().unwrap_err().problem();
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "display_name", "password"]);
    }
}
