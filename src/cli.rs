//! What the `user` commands of the CLI do, through the same model functions as the API.
//! Passwords are read from standard input (one line) or, on a terminal, from a prompt
//! that does not echo — never from the command line, where `ps` and shell history see them.

use std::io::{BufRead, IsTerminal};

use crate::auth::{password, throttle, Role};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::ids::UnitId;
use crate::units::model::UnitRow;
use crate::users::forms::{NewUser, UserFilter, UserUpdate};
use crate::{units, users};

/// One line for the terminal, naming the invalid fields.
pub fn describe(error: AppError) -> String {
    let problem = error.problem();
    let mut line = problem.detail;
    for e in problem.errors {
        line.push_str(&format!("; {}: {}", e.field, e.message));
    }
    line
}

/// A new password: from a prompt (typed twice) on a terminal, else the first line of
/// standard input.
pub fn read_password(what: &str) -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("{what}: ")).map_err(|e| e.to_string())?;
        let again =
            rpassword::prompt_password(format!("{what} (again): ")).map_err(|e| e.to_string())?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err("no password on standard input (pipe it in, or run on a terminal)".into());
    }
    Ok(password)
}

/// A unit named by code or id, or an error naming `--unit`.
pub fn unit(conn: &mut DbConnection, code_or_id: &str) -> Result<UnitRow, String> {
    let missing = || format!("--unit: no unit with code or id `{code_or_id}`");
    if let Some(row) = units::model::find_by_code(conn, code_or_id).map_err(describe)? {
        return Ok(row);
    }
    let id = UnitId::parse(code_or_id).ok_or_else(missing)?;
    units::model::find(conn, id).map_err(|_| missing())
}

pub fn create_user(
    conn: &mut DbConnection,
    username: String,
    role: Role,
    unit_code: &str,
    display_name: Option<String>,
    given: String,
) -> Result<String, String> {
    let unit = unit(conn, unit_code)?;
    let input = NewUser {
        display_name: display_name.unwrap_or_else(|| username.clone()),
        username,
        password: given,
        role,
        unit_id: unit.id,
    }
    .validate()
    .map_err(describe)?;
    let hash = password::hash(&input.password).map_err(describe)?;
    let row =
        db::write_tx(conn, |conn| users::model::create(conn, &input, hash)).map_err(describe)?;
    Ok(format!(
        "created {} ({}) in {} — id {}",
        row.username, row.role, unit.name, row.id
    ))
}

fn find_user(conn: &mut DbConnection, username: &str) -> Result<users::model::UserRow, String> {
    users::model::find_by_username(conn, username)
        .map_err(describe)?
        .ok_or_else(|| format!("no user `{username}`"))
}

/// Sets a new password the user must change at the next login; ends their sessions and
/// lifts a lock.
pub fn reset_password(
    conn: &mut DbConnection,
    username: &str,
    given: String,
) -> Result<String, String> {
    let user = find_user(conn, username)?;
    users::model::check_new_password(conn, user.id, &given).map_err(describe)?;
    let hash = password::hash(&given).map_err(describe)?;
    let change = UserUpdate {
        password: Some(given),
        ..UserUpdate::default()
    };
    db::write_tx(conn, |conn| {
        users::model::update(conn, user.id, &change, Some(hash), |_| Ok(()))
    })
    .map_err(describe)?;
    tracing::info!(target: "security", event = "password_reset", username = %user.username, "password reset from the command line");
    Ok(format!(
        "reset the password of {}; they must change it at their next login",
        user.username
    ))
}

pub fn unlock(conn: &mut DbConnection, username: &str) -> Result<String, String> {
    let user = find_user(conn, username)?;
    let was_locked = db::write_tx(conn, |conn| {
        let was = throttle::locked_until(conn, &user.username)?.is_some();
        throttle::unlock(conn, &user.username)?;
        Ok::<_, AppError>(was)
    })
    .map_err(describe)?;
    tracing::info!(target: "security", event = "unlock", username = %user.username, was_locked, "account unlocked from the command line");
    Ok(if was_locked {
        format!("unlocked {}", user.username)
    } else {
        format!("{} was not locked", user.username)
    })
}

/// Every account, as a table.
pub fn list(conn: &mut DbConnection, role: Option<Role>) -> Result<String, String> {
    use std::fmt::Write;
    let admin = crate::auth::scope::Subject {
        user_id: crate::ids::UserId::new(),
        role: Role::Admin,
        roots: Vec::new(),
        read_roots: Vec::new(),
        ancestors: Vec::new(),
    };
    let filter = UserFilter {
        role,
        ..UserFilter::default()
    };
    let mut out = format!(
        "{:<20} {:<10} {:<24} {:<8} {}\n",
        "username", "role", "unit", "active", "locked until"
    );
    let mut paging = db::page::Paging {
        per_page: db::page::MAX_PER_PAGE,
        ..db::page::Paging::default()
    };
    loop {
        let listed = users::model::list(conn, &admin, &filter, &paging).map_err(describe)?;
        for user in &listed.items {
            let unit = units::model::find(conn, user.unit_id).map_err(describe)?;
            let locked = throttle::locked_until(conn, &user.username)
                .map_err(describe)?
                .map_or_else(|| "-".to_string(), |u| u.and_utc().to_rfc3339());
            let _ = writeln!(
                out,
                "{:<20} {:<10} {:<24} {:<8} {}",
                user.username,
                user.role,
                unit.name,
                if user.active { "yes" } else { "no" },
                locked
            );
        }
        if !listed.has_more {
            break;
        }
        paging.page += 1;
    }
    Ok(out)
}
