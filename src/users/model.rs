//! User rows, forms and queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{password, Role};
use crate::db::schema::{refresh_tokens, users};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::http::pagination::Paging;
use crate::validate::Checks;

#[derive(Debug, Clone, Queryable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub unit_id: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl UserRow {
    pub fn role(&self) -> AppResult<Role> {
        Role::parse(&self.role).ok_or_else(|| {
            AppError::internal(format!("user {} has unknown role {}", self.id, self.role))
        })
    }
}

/// A user as the API shows it. Never carries the password hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    #[schema(format = Uuid)]
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[schema(format = Uuid)]
    pub unit_id: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = AppError;
    fn try_from(row: UserRow) -> AppResult<User> {
        Ok(User {
            role: row.role()?,
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            unit_id: row.unit_id,
            active: row.active,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// Usernames: 2–64 characters, no whitespace or control characters (Chinese is fine).
pub fn check_username(username: &str) -> Result<(), String> {
    let chars = username.chars().count();
    if !(2..=64).contains(&chars) {
        return Err("must be 2 to 64 characters".into());
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must not contain whitespace or control characters".into());
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
    #[schema(format = Uuid)]
    pub unit_id: String,
}

impl NewUser {
    pub fn validate(&self) -> AppResult<()> {
        let mut c = Checks::new();
        c.check("username", check_username(&self.username));
        c.text("display_name", &self.display_name, 100);
        c.check("password", password::check_strength(&self.password));
        c.uuid("unit_id", &self.unit_id);
        c.finish()
    }
}

/// Admin changes to a user. Absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    #[schema(format = Uuid)]
    pub unit_id: Option<String>,
    /// Reactivates (`true`) or deactivates (`false`) the account.
    pub active: Option<bool>,
    /// Resets the password.
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: Option<String>,
}

impl UserUpdate {
    pub fn validate(&self) -> AppResult<()> {
        let mut c = Checks::new();
        if let Some(name) = &self.display_name {
            c.text("display_name", name, 100);
        }
        if let Some(password) = &self.password {
            c.check("password", password::check_strength(password));
        }
        if let Some(unit_id) = &self.unit_id {
            c.uuid("unit_id", unit_id);
        }
        c.finish()
    }
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
struct UserChanges {
    display_name: Option<String>,
    role: Option<String>,
    unit_id: Option<String>,
    active: Option<bool>,
    password_hash: Option<String>,
    updated_at: Option<NaiveDateTime>,
}

fn ensure_unit_exists(conn: &mut DbConnection, unit_id: &str) -> AppResult<()> {
    crate::units::model::referenced(conn, unit_id, "unit_id").map(|_| ())
}

/// Creates a user; `password_hash` is computed by the caller outside the transaction
/// (argon2 is deliberately slow and must not hold the write lock).
pub fn create(
    conn: &mut DbConnection,
    input: &NewUser,
    password_hash: String,
) -> AppResult<UserRow> {
    ensure_unit_exists(conn, &input.unit_id)?;
    let taken: i64 = users::table
        .filter(users::username.eq(&input.username))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict(
            "username_taken",
            format!("username `{}` is taken", input.username),
        ));
    }
    let now = db::now();
    let row = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        username: input.username.clone(),
        display_name: input.display_name.clone(),
        password_hash,
        role: input.role.as_str().to_string(),
        unit_id: input.unit_id.clone(),
        active: true,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&row.id),
            users::username.eq(&row.username),
            users::display_name.eq(&row.display_name),
            users::password_hash.eq(&row.password_hash),
            users::role.eq(&row.role),
            users::unit_id.eq(&row.unit_id),
            users::active.eq(row.active),
            users::created_at.eq(row.created_at),
            users::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<UserRow> {
    users::table
        .find(id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("user"))
}

pub fn find_by_username(conn: &mut DbConnection, username: &str) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConnection) -> AppResult<i64> {
    Ok(users::table.count().get_result(conn)?)
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

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub role: Option<Role>,
    /// Users of this unit only.
    #[param(format = Uuid)]
    pub unit_id: Option<uuid::Uuid>,
    pub active: Option<bool>,
    /// Substring of the username or display name.
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<UserSort>,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &UserFilter,
    paging: Paging,
) -> AppResult<(Vec<UserRow>, i64)> {
    let search = crate::http::pagination::search_text(filter.q.as_deref())?;
    let query = || {
        let mut q = users::table.into_boxed::<db::Backend>();
        if let Some(role) = filter.role {
            q = q.filter(users::role.eq(role.as_str()));
        }
        if let Some(unit_id) = filter.unit_id {
            q = q.filter(users::unit_id.eq(unit_id.to_string()));
        }
        if let Some(active) = filter.active {
            q = q.filter(users::active.eq(active));
        }
        if let Some(text) = search {
            let pattern = db::contains_pattern(text);
            q = q.filter(
                db::lower(users::username)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(db::lower(users::display_name).like(pattern).escape('\\')),
            );
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let sorted = match filter.sort.unwrap_or_default() {
        UserSort::Username => query().order(users::username.asc()),
        UserSort::UsernameDesc => query().order(users::username.desc()),
        UserSort::CreatedAt => query().order((users::created_at.asc(), users::id.asc())),
        UserSort::CreatedAtDesc => query().order((users::created_at.desc(), users::id.desc())),
    };
    let rows = sorted
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok((rows, total))
}

/// Applies admin changes. `password_hash` is the new hash when the password is reset.
pub fn update(
    conn: &mut DbConnection,
    id: &str,
    input: &UserUpdate,
    password_hash: Option<String>,
) -> AppResult<UserRow> {
    let existing = find(conn, id)?;
    if let Some(unit_id) = &input.unit_id {
        ensure_unit_exists(conn, unit_id)?;
    }
    let changes = UserChanges {
        display_name: input.display_name.clone(),
        role: input.role.map(|r| r.as_str().to_string()),
        unit_id: input.unit_id.clone(),
        active: input.active,
        password_hash,
        updated_at: Some(db::now()),
    };
    diesel::update(users::table.find(&existing.id))
        .set(&changes)
        .execute(conn)?;
    if input.active == Some(false) || changes.password_hash.is_some() {
        revoke_all_refresh_tokens(conn, &existing.id)?;
    }
    find(conn, id)
}

pub fn set_password(conn: &mut DbConnection, id: &str, password_hash: String) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    revoke_all_refresh_tokens(conn, id)
}

/// Ends every session of a user (deactivation, password change).
pub fn revoke_all_refresh_tokens(conn: &mut DbConnection, user_id: &str) -> AppResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(check_username("wangge01").is_ok());
        assert!(check_username("网格员").is_ok());
        assert!(check_username("a").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username(&"x".repeat(65)).is_err());
    }

    #[test]
    fn new_user_reports_every_bad_field() {
        let input = NewUser {
            username: "a b".into(),
            display_name: " ".into(),
            password: "short".into(),
            role: Role::Officer,
            unit_id: "nope".into(),
        };
        let problem = input.validate().unwrap_err().problem();
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "display_name", "password", "unit_id"]);
    }
}
