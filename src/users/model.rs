//! User rows and their queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::{Resource, Role};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{units, users};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::ids::{UnitId, UserId};
use crate::users::forms::{NewUser, UserFilter, UserSort, UserUpdate};
use crate::users::rules;

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
    pub must_change_password: bool,
    pub version: i32,
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
    /// Set by an admin's password reset until the user chooses a new password.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Goes up by one with every change to the account; its `ETag`.
    pub version: i32,
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
            must_change_password: row.must_change_password,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
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
    must_change_password: Option<bool>,
    updated_at: Option<NaiveDateTime>,
}

fn username_taken(username: &str) -> AppError {
    AppError::conflict(
        crate::error::Code::UsernameTaken,
        format!("username `{username}` is taken (usernames ignore case)"),
    )
}

/// The unit a user is placed in, checked against its role: an inspector works in a grid
/// (placed higher, it would see and act on the whole town).
fn check_placement(conn: &mut DbConnection, role: Role, unit_id: UnitId) -> AppResult<()> {
    let unit = crate::units::model::referenced(conn, unit_id, "unit_id")?;
    rules::check_placement(role, unit.kind).map_err(|m| AppError::invalid("unit_id", m))
}

/// Creates a user; `password_hash` is computed by the caller outside the transaction
/// (argon2 is deliberately slow and must not hold the write lock).
pub fn create(
    conn: &mut DbConnection,
    input: &NewUser,
    password_hash: String,
) -> AppResult<UserRow> {
    check_placement(conn, input.role, input.unit_id)?;
    if find_by_username(conn, &input.username)?.is_some() {
        return Err(username_taken(&input.username));
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
        must_change_password: false,
        version: 1,
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| match db::unique_violation(&e) {
            // A concurrent create of the same name (any case) that committed first.
            Some(_) => username_taken(&input.username),
            None => e.into(),
        })?;
    Ok(row)
}

/// An account with the path of its unit, for the policy.
pub struct Placed {
    pub row: UserRow,
    pub unit_path: String,
}

impl Placed {
    pub fn resource(&self) -> Resource<'_> {
        Resource::of_unit(&self.unit_path)
    }
}

pub fn find_placed(conn: &mut DbConnection, id: UserId) -> AppResult<Placed> {
    let found: Option<(UserRow, String)> = users::table
        .inner_join(units::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), units::path))
        .get_result(conn)
        .optional()?;
    let (row, unit_path) = found.ok_or(AppError::NotFound("user"))?;
    Ok(Placed { row, unit_path })
}

pub fn find(conn: &mut DbConnection, id: UserId) -> AppResult<UserRow> {
    crate::on_backend!(conn, |c| users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(c))
    .optional()?
    .ok_or(AppError::NotFound("user"))
}

/// The user with this username, whatever its case.
pub fn find_by_username(conn: &mut DbConnection, username: &str) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .filter(db::lower(users::username).eq(username.to_lowercase()))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConnection) -> AppResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// The accounts `subject` may read: every account for an admin; for an office, those of
/// its own units but the admins'.
pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &UserFilter,
    paging: &Paging,
) -> AppResult<Listed<UserRow>> {
    let query = || {
        let mut q = users::table.select(UserRow::as_select()).into_boxed();
        if let Some(units) = scope::acting_units(subject) {
            q = q.filter(units.contains(users::unit_id));
        }
        if subject.role != Role::Admin {
            q = q.filter(users::role.ne(Role::Admin));
        }
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
    let order = Order::new(format!("{:?}", filter.sort));
    let order = match filter.sort {
        UserSort::Username => order
            .asc(users::username, |r: &UserRow| r.username.clone())
            .asc(users::id, |r| r.id),
        UserSort::UsernameDesc => order
            .desc(users::username, |r: &UserRow| r.username.clone())
            .desc(users::id, |r| r.id),
        UserSort::CreatedAt => order
            .asc(users::created_at, |r: &UserRow| r.created_at)
            .asc(users::id, |r| r.id),
        UserSort::CreatedAtDesc => order
            .desc(users::created_at, |r: &UserRow| r.created_at)
            .desc(users::id, |r| r.id),
    };
    paginate(conn, query, &order, paging)
}

/// Checks a password an admin sets for the user `id` against the rules (which need the
/// user's name), before it is hashed.
pub fn check_new_password(conn: &mut DbConnection, id: UserId, password: &str) -> AppResult<()> {
    let user = find(conn, id)?;
    crate::auth::password::check_strength(password, &user.username)
        .map_err(|m| AppError::invalid("password", m))
}

/// Applies admin changes. `password_hash` is the new hash when the password is reset:
/// then the user must choose a new one at the next login, and the account's lock is
/// lifted. Deactivating or resetting the password ends every session of the user;
/// deactivating also removes the user as the leader of any grid (an inactive user cannot
/// be made one either).
///
/// `expect` sees the account before any change and may refuse it (a stale `If-Match`);
/// the change is written only over the version it saw.
pub fn update(
    conn: &mut DbConnection,
    id: UserId,
    input: &UserUpdate,
    password_hash: Option<String>,
    expect: impl FnOnce(&UserRow) -> AppResult<()>,
) -> AppResult<UserRow> {
    let existing = find(conn, id)?;
    expect(&existing)?;
    if input.role.is_some() || input.unit_id.is_some() {
        let role = input.role.unwrap_or(existing.role);
        check_placement(conn, role, input.unit_id.unwrap_or(existing.unit_id))?;
    }
    let reset = password_hash.is_some();
    let changes = UserChanges {
        display_name: input.display_name.clone(),
        role: input.role,
        unit_id: input.unit_id,
        active: input.active,
        password_hash,
        must_change_password: reset.then_some(true),
        updated_at: Some(db::now()),
    };
    let updated = diesel::update(
        users::table
            .find(existing.id)
            .filter(users::version.eq(existing.version)),
    )
    .set((&changes, users::version.eq(users::version + 1)))
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("user"));
    }
    let deactivated = input.active == Some(false) && existing.active;
    if deactivated || reset {
        crate::auth::sessions::revoke_all(conn, existing.id, None)?;
    }
    if reset {
        crate::auth::throttle::unlock(conn, &existing.username)?;
    }
    if deactivated {
        diesel::update(units::table.filter(units::leader_id.eq(existing.id)))
            .set((
                units::leader_id.eq(None::<UserId>),
                units::version.eq(units::version + 1),
            ))
            .execute(conn)?;
    }
    find(conn, id)
}

/// Sets the user's own new password (`must_change` false: they chose it).
pub fn set_password(
    conn: &mut DbConnection,
    id: UserId,
    password_hash: String,
    must_change: bool,
) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::must_change_password.eq(must_change),
            users::updated_at.eq(db::now()),
            users::version.eq(users::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}
