//! The feed's cursor and the decisions about it, without a database.
//!
//! A cursor is a position in the change log — `(tx, seq)`: the transaction that made a
//! change (PostgreSQL; always 0 on SQLite) and its sequence number — plus what the reader's
//! scope was when it was issued (the sync epoch, bumped when units move in the tree, and a
//! fingerprint of the caller's scope). A reader whose scope has changed since must start
//! over: records that entered its scope did so without changing, so they lie before its
//! cursor.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::scope::Subject;
use crate::ids::{PatrolId, RectificationId, TaskId};

/// What the feed carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Unit,
    Category,
    Site,
    Checklist,
    Task,
    /// A rectification item.
    Item,
    Patrol,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Unit,
        Kind::Category,
        Kind::Site,
        Kind::Checklist,
        Kind::Task,
        Kind::Item,
        Kind::Patrol,
    ];

    /// The name the change log's triggers write (migrations …_sync).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Unit => "unit",
            Kind::Category => "category",
            Kind::Site => "site",
            Kind::Checklist => "checklist",
            Kind::Task => "task",
            Kind::Item => "item",
            Kind::Patrol => "patrol",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A place in the change log; changes are ordered by `(tx, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub tx: i64,
    pub seq: i64,
}

/// Where a reader stands: a position, and the scope it was read with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub epoch: i64,
    pub scope: String,
    pub position: Position,
}

const PREFIX: &str = "s1";

impl Cursor {
    /// `s1.<epoch>.<scope>.<tx>.<seq>`: opaque to clients.
    pub fn encode(&self) -> String {
        format!(
            "{PREFIX}.{}.{}.{}.{}",
            self.epoch, self.scope, self.position.tx, self.position.seq
        )
    }

    pub fn decode(text: &str) -> Result<Cursor, &'static str> {
        const BAD: &str = "not a cursor this server issued: send back `next_cursor` as it was \
                           given, or leave it out to start from the beginning";
        let parts: Vec<&str> = text.split('.').collect();
        let [prefix, epoch, scope, tx, seq] = parts.as_slice() else {
            return Err(BAD);
        };
        let number = |s: &str| s.parse::<i64>().ok().filter(|n| *n >= 0);
        let scope_ok = scope.len() == 16 && scope.bytes().all(|b| b.is_ascii_hexdigit());
        match (
            *prefix == PREFIX,
            number(epoch),
            scope_ok,
            number(tx),
            number(seq),
        ) {
            (true, Some(epoch), true, Some(tx), Some(seq)) => Ok(Cursor {
                epoch,
                scope: scope.to_ascii_lowercase(),
                position: Position { tx, seq },
            }),
            _ => Err(BAD),
        }
    }
}

/// A short digest of what the caller's scope covers (role and subtrees): a cursor issued
/// under another scope is not continued.
pub fn scope_fingerprint(subject: &Subject) -> String {
    let mut roots = subject.roots.clone();
    roots.sort();
    let mut read_roots = subject.read_roots.clone();
    read_roots.sort();
    let mut ancestors: Vec<String> = subject.ancestors.iter().map(|a| a.to_string()).collect();
    ancestors.sort();
    let text = format!(
        "{}\n{}\n{}\n{}",
        subject.role,
        roots.join(","),
        read_roots.join(","),
        ancestors.join(",")
    );
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// Where a page starts, and whether the reader must drop what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub after: Position,
    pub reset: bool,
}

/// A page starts after the cursor, unless the cursor was issued under another scope or
/// epoch: then from the beginning, and the reader is told to reset.
pub fn start(cursor: Option<&Cursor>, epoch: i64, scope: &str) -> Start {
    match cursor {
        None => Start {
            after: Position::default(),
            reset: false,
        },
        Some(c) if c.epoch == epoch && c.scope == scope => Start {
            after: c.position,
            reset: false,
        },
        Some(_) => Start {
            after: Position::default(),
            reset: true,
        },
    }
}

/// The writes a batch may carry, with the record each acts on: the paths of the single
/// calls, matched segment by segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    StartPatrol,
    Track(PatrolId),
    Visit(PatrolId),
    EndPatrol(PatrolId),
    Report,
    ItemTransition(RectificationId),
    Inspection,
    TaskTransition(TaskId),
}

/// Why an operation matches no batchable write: 404 for a path, 405 for a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unroutable {
    NoSuchPath,
    MethodNotAllowed,
}

pub fn route(method: &str, path: &str) -> Result<Route, Unroutable> {
    let segments: Vec<&str> = path
        .strip_prefix("/api/v1/")
        .ok_or(Unroutable::NoSuchPath)?
        .trim_end_matches('/')
        .split('/')
        .collect();
    let route = match segments.as_slice() {
        ["patrols"] => Route::StartPatrol,
        ["patrols", id, "track"] => {
            Route::Track(PatrolId::parse(id).ok_or(Unroutable::NoSuchPath)?)
        }
        ["patrols", id, "visits"] => {
            Route::Visit(PatrolId::parse(id).ok_or(Unroutable::NoSuchPath)?)
        }
        ["patrols", id, "transitions"] => {
            Route::EndPatrol(PatrolId::parse(id).ok_or(Unroutable::NoSuchPath)?)
        }
        ["rectifications"] => Route::Report,
        ["rectifications", id, "transitions"] => {
            Route::ItemTransition(RectificationId::parse(id).ok_or(Unroutable::NoSuchPath)?)
        }
        ["inspections"] => Route::Inspection,
        ["tasks", id, "transitions"] => {
            Route::TaskTransition(TaskId::parse(id).ok_or(Unroutable::NoSuchPath)?)
        }
        _ => return Err(Unroutable::NoSuchPath),
    };
    if method.eq_ignore_ascii_case("POST") {
        Ok(route)
    } else {
        Err(Unroutable::MethodNotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_operations_route_to_the_writes_of_the_single_calls() {
        let id = "01938a2f-0000-7000-8000-000000000001";
        let patrol = PatrolId::parse(id).expect("id");
        assert_eq!(route("POST", "/api/v1/patrols"), Ok(Route::StartPatrol));
        assert_eq!(
            route("post", &format!("/api/v1/patrols/{id}/track")),
            Ok(Route::Track(patrol))
        );
        assert_eq!(
            route("POST", &format!("/api/v1/patrols/{id}/visits")),
            Ok(Route::Visit(patrol))
        );
        assert_eq!(
            route("POST", &format!("/api/v1/patrols/{id}/transitions")),
            Ok(Route::EndPatrol(patrol))
        );
        assert_eq!(route("POST", "/api/v1/rectifications"), Ok(Route::Report));
        assert!(matches!(
            route("POST", &format!("/api/v1/rectifications/{id}/transitions")),
            Ok(Route::ItemTransition(_))
        ));
        assert_eq!(route("POST", "/api/v1/inspections"), Ok(Route::Inspection));
        assert!(matches!(
            route("POST", &format!("/api/v1/tasks/{id}/transitions")),
            Ok(Route::TaskTransition(_))
        ));
        for path in [
            "/api/v1/users",
            "/api/v1/patrols/not-a-uuid/track",
            "/api/v2/patrols",
            "api/v1/patrols",
            "/api/v1/patrols/x/y/z",
            "",
        ] {
            assert_eq!(route("POST", path), Err(Unroutable::NoSuchPath), "{path}");
        }
        assert_eq!(
            route("DELETE", "/api/v1/patrols"),
            Err(Unroutable::MethodNotAllowed)
        );
    }
    use crate::auth::policy::Role;
    use crate::ids::UserId;

    fn subject(roots: &[&str]) -> Subject {
        Subject {
            user_id: UserId::new(),
            role: Role::Inspector,
            roots: roots.iter().map(|r| r.to_string()).collect(),
            read_roots: Vec::new(),
            ancestors: Vec::new(),
        }
    }

    #[test]
    fn a_cursor_round_trips() {
        let c = Cursor {
            epoch: 3,
            scope: "0123456789abcdef".into(),
            position: Position { tx: 981, seq: 17 },
        };
        assert_eq!(Cursor::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for bad in [
            "",
            "s1",
            "s2.0.0123456789abcdef.0.1",
            "s1.0.0123456789abcdef.0",
            "s1.0.0123456789abcdef.0.-1",
            "s1.0.xyz.0.1",
            "s1.0.0123456789abcdef.0.1.9",
            "s1.x.0123456789abcdef.0.1",
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_cursor_continues_only_under_the_same_scope_and_epoch() {
        let scope = scope_fingerprint(&subject(&["/a/b/"]));
        let cursor = Cursor {
            epoch: 2,
            scope: scope.clone(),
            position: Position { tx: 0, seq: 40 },
        };
        assert_eq!(
            start(Some(&cursor), 2, &scope),
            Start {
                after: Position { tx: 0, seq: 40 },
                reset: false
            }
        );
        let moved = start(Some(&cursor), 3, &scope);
        assert!(moved.reset);
        assert_eq!(moved.after, Position::default());
        let other = scope_fingerprint(&subject(&["/a/b/", "/a/c/"]));
        assert_ne!(other, scope);
        assert!(start(Some(&cursor), 2, &other).reset);
        assert!(!start(None, 2, &scope).reset);
    }

    #[test]
    fn the_fingerprint_ignores_the_order_of_roots() {
        assert_eq!(
            scope_fingerprint(&subject(&["/a/", "/b/"])),
            scope_fingerprint(&subject(&["/b/", "/a/"]))
        );
    }

    #[test]
    fn positions_order_by_transaction_then_sequence() {
        let early_tx_late_seq = Position { tx: 5, seq: 90 };
        let late_tx_early_seq = Position { tx: 6, seq: 10 };
        assert!(early_tx_late_seq < late_tx_early_seq);
    }
}
