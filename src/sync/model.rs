//! The change log the triggers of migration `…_sync` keep, read as a feed.
//!
//! Every change to a record the feed carries moves the record's one `sync_log` row to a new
//! position `(tx, seq)`; `sync_anchors` names the units whose scope the record belongs
//! or belonged to. A page is the rows after the cursor whose anchors the caller sees,
//! each sent as the record is now (as the list would show it) or, when the caller can no
//! longer see it, as a tombstone.
//!
//! On PostgreSQL transactions commit in any order, so a page stops before the oldest
//! transaction still running (its snapshot's xmin): every change before that bound has
//! committed or rolled back, and every change still to come lies after it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::db::schema::{sync_anchors, sync_epoch, sync_log, units};
use crate::db::DbConnection;
use crate::deadlines::WarningRules;
use crate::error::{AppError, AppResult};
use crate::ids::{CategoryId, ChecklistId, PatrolId, RectificationId, SiteId, TaskId, UnitId};
use crate::sync::rules::{Kind, Position};

/// Upsert or tombstone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The record as it is now: store it.
    Upsert,
    /// The record was removed or left the caller's scope: forget it.
    Delete,
}

/// One change of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncChange {
    pub kind: Kind,
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub op: Op,
    /// The record as `GET` of its own resource shows it (for `upsert`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

/// A row of the log: which record, and where its last change stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub kind: Kind,
    pub id: String,
    pub position: Position,
}

/// The sync epoch (bumped when units move in the tree).
pub fn epoch(conn: &mut DbConnection) -> AppResult<i64> {
    Ok(sync_epoch::table
        .find(1)
        .select(sync_epoch::epoch)
        .get_result::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// The first transaction that may still be running: a page reads only changes before it.
/// SQLite commits its one writer at a time in log order, so there it is unbounded.
pub fn watermark(conn: &mut DbConnection) -> AppResult<i64> {
    match conn {
        DbConnection::Pg(c) => Ok(
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
            ))
            .get_result(c)?,
        ),
        DbConnection::Sqlite(_) => Ok(i64::MAX),
    }
}

/// Are there committed changes the bound `below` holds back (a transaction older than
/// them is still running)? Then the reader should ask again shortly.
pub fn held_back(conn: &mut DbConnection, below: i64) -> AppResult<bool> {
    if below == i64::MAX {
        return Ok(false);
    }
    Ok(diesel::select(diesel::dsl::exists(
        sync_log::table.filter(sync_log::tx.ge(below)),
    ))
    .get_result(conn)?)
}

/// Up to `limit` records changed after `after` and before the transaction `below`, whose
/// anchors the subject sees (or saw, until a change after `after` took them away).
pub fn changed(
    conn: &mut DbConnection,
    subject: &Subject,
    after: Position,
    below: i64,
    limit: i64,
) -> AppResult<Vec<Logged>> {
    let mut q = sync_log::table
        .filter(
            sync_log::tx
                .gt(after.tx)
                .or(sync_log::tx.eq(after.tx).and(sync_log::seq.gt(after.seq))),
        )
        .filter(sync_log::tx.lt(below))
        .select((
            sync_log::kind,
            sync_log::entity_id,
            sync_log::tx,
            sync_log::seq,
        ))
        .order((sync_log::tx.asc(), sync_log::seq.asc()))
        .limit(limit)
        .into_boxed();
    if let (Some(readable), Some(visible)) = (
        scope::readable_units(subject),
        scope::visible_units(subject),
    ) {
        let still_or_lately = sync_anchors::left_seq.is_null().or(sync_anchors::left_tx
            .assume_not_null()
            .gt(after.tx)
            .or(sync_anchors::left_tx
                .assume_not_null()
                .eq(after.tx)
                .and(sync_anchors::left_seq.assume_not_null().gt(after.seq))));
        let seen = sync_anchors::anchor
            .eq("*")
            .or(sync_anchors::kind
                .eq(Kind::Unit.as_str())
                .and(crate::db::in_subquery(
                    sync_anchors::anchor,
                    units::table.filter(readable).select(units::id),
                )))
            .or(sync_anchors::kind
                .ne(Kind::Unit.as_str())
                .and(visible.contains(sync_anchors::anchor)));
        q = q.filter(diesel::dsl::exists(
            sync_anchors::table
                .filter(sync_anchors::kind.eq(sync_log::kind))
                .filter(sync_anchors::entity_id.eq(sync_log::entity_id))
                .filter(still_or_lately)
                .filter(seen),
        ));
    }
    let rows: Vec<(String, String, i64, i64)> = q.load(conn)?;
    rows.into_iter()
        .map(|(kind, id, tx, seq)| {
            let kind = Kind::parse(&kind)
                .ok_or_else(|| AppError::internal(format!("sync log: unknown kind {kind}")))?;
            Ok(Logged {
                kind,
                id,
                position: Position { tx, seq },
            })
        })
        .collect()
}

/// The changes for `logged`, in its order: each record as the subject may see it now, or a
/// tombstone.
pub fn load(
    conn: &mut DbConnection,
    subject: &Subject,
    logged: &[Logged],
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Vec<SyncChange>> {
    let mut current: HashMap<(Kind, String), serde_json::Value> = HashMap::new();
    for kind in Kind::ALL {
        let ids: Vec<&str> = logged
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.id.as_str())
            .collect();
        if ids.is_empty() {
            continue;
        }
        for (id, value) in views(conn, subject, kind, &ids, now, warnings)? {
            current.insert((kind, id), value);
        }
    }
    Ok(logged
        .iter()
        .map(|l| {
            let data = current.remove(&(l.kind, l.id.clone()));
            SyncChange {
                kind: l.kind,
                id: l.id.clone(),
                op: if data.is_some() {
                    Op::Upsert
                } else {
                    Op::Delete
                },
                data,
            }
        })
        .collect())
}

/// The views of the records of one kind among `ids` that the subject sees, by id.
fn views(
    conn: &mut DbConnection,
    subject: &Subject,
    kind: Kind,
    ids: &[&str],
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Vec<(String, serde_json::Value)>> {
    fn parsed<T>(ids: &[&str], parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
        ids.iter().filter_map(|id| parse(id)).collect()
    }
    fn keyed<V: Serialize>(
        views: Vec<V>,
        id: impl Fn(&V) -> String,
    ) -> AppResult<Vec<(String, serde_json::Value)>> {
        views
            .into_iter()
            .map(|v| {
                let value = serde_json::to_value(&v)
                    .map_err(|e| AppError::internal(format!("sync: {e}")))?;
                Ok((id(&v), value))
            })
            .collect()
    }
    match kind {
        Kind::Unit => {
            let rows =
                crate::units::model::visible_among(conn, subject, &parsed(ids, UnitId::parse))?;
            keyed(crate::units::model::views(conn, rows)?, |v| {
                v.id.to_string()
            })
        }
        Kind::Category => {
            let rows = crate::categories::model::among(conn, &parsed(ids, CategoryId::parse))?;
            keyed(crate::categories::model::views(conn, rows)?, |v| {
                v.id.to_string()
            })
        }
        Kind::Site => {
            let rows =
                crate::sites::model::visible_among(conn, subject, &parsed(ids, SiteId::parse))?;
            keyed(crate::sites::model::views(conn, rows)?, |v| {
                v.id.to_string()
            })
        }
        Kind::Checklist => {
            let rows = crate::checklists::model::among(conn, &parsed(ids, ChecklistId::parse))?;
            keyed(crate::checklists::model::views(conn, rows)?, |v| {
                v.id.to_string()
            })
        }
        Kind::Task => {
            let rows =
                crate::tasks::model::visible_among(conn, subject, &parsed(ids, TaskId::parse))?;
            keyed(
                crate::tasks::model::views(conn, rows, now, warnings)?,
                |v| v.id.to_string(),
            )
        }
        Kind::Item => {
            let rows = crate::rectifications::model::visible_among(
                conn,
                subject,
                &parsed(ids, RectificationId::parse),
            )?;
            keyed(
                crate::rectifications::model::views(conn, rows, now, warnings)?,
                |v| v.id.to_string(),
            )
        }
        Kind::Patrol => {
            let rows =
                crate::patrols::model::visible_among(conn, subject, &parsed(ids, PatrolId::parse))?;
            keyed(crate::patrols::model::views(conn, rows, now)?, |v| {
                v.id.to_string()
            })
        }
    }
}
