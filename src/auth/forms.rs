//! What clients send to log in, refresh, log out and change their password; the only
//! place these inputs are checked.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::password;
use crate::error::{AppError, AppResult};
use crate::validate::Checks;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "wangge07", "password": "sluice gate at Qilihe 7"}))]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 64, example = "admin")]
    pub username: String,
    #[schema(min_length = 1, max_length = 128, format = Password)]
    pub password: String,
}

impl LoginRequest {
    pub fn validate(self) -> AppResult<Self> {
        let mut checks = Checks::new();
        if self.username.is_empty() || self.username.chars().count() > 64 {
            checks.fail("username", "must be 1 to 64 characters");
        }
        if self.password.is_empty() || self.password.chars().count() > password::MAX_PASSWORD_CHARS
        {
            checks.fail("password", "must be 1 to 128 characters");
        }
        checks.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "Jq3v2ZQm0r8w8kq2cTt0b5m0Z1u9YQ4n1v7xk3P0bQ8"}))]
pub struct RefreshRequest {
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

impl RefreshRequest {
    /// The token, if it has a plausible length.
    pub fn validate(self) -> AppResult<String> {
        let length = self.refresh_token.chars().count();
        if !(1..=256).contains(&length) {
            return Err(AppError::invalid(
                "refresh_token",
                "must be 1 to 256 characters",
            ));
        }
        Ok(self.refresh_token)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "sluice gate at Qilihe 7", "new_password": "flood season duty roster 2020"}))]
pub struct PasswordChange {
    #[schema(min_length = 1, max_length = 128, format = Password)]
    pub current_password: String,
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub new_password: String,
}

impl PasswordChange {
    /// Checked for the user `username`: the new password must meet the rules, and differ
    /// from the current one.
    pub fn validate(self, username: &str) -> AppResult<Self> {
        let mut checks = Checks::new();
        checks.check(
            "new_password",
            password::check_strength(&self.new_password, username),
        );
        if self.new_password == self.current_password {
            checks.fail("new_password", "must differ from the current password");
        }
        if self.current_password.is_empty()
            || self.current_password.chars().count() > password::MAX_PASSWORD_CHARS
        {
            checks.fail("current_password", "must be 1 to 128 characters");
        }
        checks.finish()?;
        Ok(self)
    }
}
