//! User rows and their queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Role;
use crate::db::page::{self, paginate, Listed, Paging};
use crate::db::schema::users;
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::ids::{UnitId, UserId};
use crate::users::forms::{NewUser, UserFilter, UserSort, UserUpdate};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub unit_id: UnitId,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A user as the API shows it. Never carries the password hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            role: row.role,
            unit_id: row.unit_id,
            active: row.active,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
struct UserChanges {
    display_name: Option<String>,
    role: Option<Role>,
    unit_id: Option<UnitId>,
    active: Option<bool>,
    password_hash: Option<String>,
    updated_at: Option<NaiveDateTime>,
}

/// Creates a user; `password_hash` is computed by the caller outside the transaction
/// (argon2 is deliberately slow and must not hold the write lock).
pub fn create(
    conn: &mut DbConnection,
    input: &NewUser,
    password_hash: String,
) -> AppResult<UserRow> {
    crate::units::model::referenced(conn, input.unit_id, "unit_id")?;
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
        id: UserId::new(),
        username: input.username.clone(),
        display_name: input.display_name.clone(),
        password_hash,
        role: input.role,
        unit_id: input.unit_id,
        active: true,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: UserId) -> AppResult<UserRow> {
    crate::on_backend!(conn, |c| users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(c))
    .optional()?
    .ok_or(AppError::NotFound("user"))
}

pub fn find_by_username(conn: &mut DbConnection, username: &str) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConnection) -> AppResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    filter: &UserFilter,
    paging: Paging,
) -> AppResult<Listed<UserRow>> {
    let query = || {
        let mut q = users::table
            .select((UserRow::as_select(), page::total()))
            .into_boxed();
        if let Some(role) = filter.role {
            q = q.filter(users::role.eq(role));
        }
        if let Some(unit_id) = filter.unit_id {
            q = q.filter(users::unit_id.eq(unit_id));
        }
        if let Some(active) = filter.active {
            q = q.filter(users::active.eq(active));
        }
        if let Some(text) = &filter.q {
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
    paginate(
        conn,
        query,
        |q| match filter.sort {
            UserSort::Username => q.order(users::username.asc()),
            UserSort::UsernameDesc => q.order(users::username.desc()),
            UserSort::CreatedAt => q.order((users::created_at.asc(), users::id.asc())),
            UserSort::CreatedAtDesc => q.order((users::created_at.desc(), users::id.desc())),
        },
        paging,
    )
}

/// Applies admin changes. `password_hash` is the new hash when the password is reset.
/// Deactivating or resetting the password ends every session of the user.
pub fn update(
    conn: &mut DbConnection,
    id: UserId,
    input: &UserUpdate,
    password_hash: Option<String>,
) -> AppResult<UserRow> {
    let existing = find(conn, id)?;
    if let Some(unit_id) = input.unit_id {
        crate::units::model::referenced(conn, unit_id, "unit_id")?;
    }
    let changes = UserChanges {
        display_name: input.display_name.clone(),
        role: input.role,
        unit_id: input.unit_id,
        active: input.active,
        password_hash,
        updated_at: Some(db::now()),
    };
    diesel::update(users::table.find(existing.id))
        .set(&changes)
        .execute(conn)?;
    if input.active == Some(false) || changes.password_hash.is_some() {
        crate::auth::sessions::revoke_all(conn, existing.id)?;
    }
    find(conn, id)
}

pub fn set_password(conn: &mut DbConnection, id: UserId, password_hash: String) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}
