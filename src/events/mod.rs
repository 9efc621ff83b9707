//! The event store: one append-only table for every entity. Each create, update,
//! transition and progress report appends an event in the same transaction as the change
//! (the domain's model functions call [`record`] beside their write), so nothing changes
//! without its event; database triggers refuse to update or delete one. Histories and the
//! audit trail are read from here (`GET /api/v1/{tasks,directives,campaigns}/{id}/events`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::events;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::ids::{EventId, UserId};
use crate::names::Names;

crate::text_enum! {
    /// What an event is about.
    pub enum Entity {
        Campaign = "campaign",
        Meeting = "meeting",
        Directive = "directive",
        Task = "task",
        Activity = "activity",
        Category = "category",
        Site = "site",
        Rectification = "rectification",
        Patrol = "patrol",
        Checklist = "checklist",
        Inspection = "inspection",
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: EventId,
    pub entity: Entity,
    pub entity_id: String,
    pub actor_id: Option<UserId>,
    pub at: NaiveDateTime,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    pub changes: String,
}

/// One change, as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    #[schema(value_type = String, format = Uuid)]
    pub id: EventId,
    pub entity: Entity,
    #[schema(format = Uuid)]
    pub entity_id: String,
    /// Who made the change; null for the system (the deadline sweep).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub actor_id: Option<UserId>,
    /// The actor's display name.
    pub actor_name: Option<String>,
    pub at: DateTime<Utc>,
    /// `created`, `updated`, `progress`, or the transition's action (`start`, `submit`…).
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    /// What changed: for a create, each field's value; otherwise each changed field's
    /// `[before, after]`.
    #[schema(value_type = Object)]
    pub changes: Value,
}

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct Change {
    pub entity: Entity,
    pub entity_id: String,
    pub actor: Option<UserId>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    pub changes: Value,
}

impl Change {
    /// `action` on the entity by `actor`, with no status change, note or field changes yet.
    pub fn new(
        entity: Entity,
        entity_id: impl std::fmt::Display,
        actor: UserId,
        action: &str,
    ) -> Change {
        Change {
            entity,
            entity_id: entity_id.to_string(),
            actor: Some(actor),
            action: action.to_string(),
            from_status: None,
            to_status: None,
            note: None,
            changes: Value::Object(Default::default()),
        }
    }

    /// A record created: its fields, as the API shows them.
    pub fn created(
        entity: Entity,
        entity_id: impl std::fmt::Display,
        actor: UserId,
        record: &impl Serialize,
    ) -> Change {
        let mut change = Change::new(entity, entity_id, actor, "created");
        change.changes = snapshot(record);
        change
    }

    /// The status a record was created in.
    pub fn entered(mut self, status: impl ToString) -> Change {
        self.to_status = Some(status.to_string());
        self
    }

    pub fn status(mut self, from: impl ToString, to: impl ToString) -> Change {
        self.from_status = Some(from.to_string());
        self.to_status = Some(to.to_string());
        self
    }

    pub fn note(mut self, note: &str) -> Change {
        if !note.trim().is_empty() {
            self.note = Some(note.to_string());
        }
        self
    }

    /// The fields that differ between `before` and `after` (as serialised), each as
    /// `[before, after]`; bookkeeping fields (`updated_at`, `version`) are left out.
    pub fn diff(mut self, before: &impl Serialize, after: &impl Serialize) -> Change {
        self.changes = diff(&snapshot(before), &snapshot(after));
        self
    }

    pub fn with_changes(mut self, changes: Value) -> Change {
        self.changes = changes;
        self
    }
}

const BOOKKEEPING: [&str; 2] = ["updated_at", "version"];

fn snapshot(record: &impl Serialize) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        for field in BOOKKEEPING {
            map.remove(field);
        }
    }
    value
}

/// `{field: [before, after]}` for every top-level field that differs.
pub fn diff(before: &Value, after: &Value) -> Value {
    let empty = serde_json::Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut changes = BTreeMap::new();
    for (field, new) in a {
        let old = b.get(field).unwrap_or(&Value::Null);
        if old != new && !BOOKKEEPING.contains(&field.as_str()) {
            changes.insert(field.clone(), Value::Array(vec![old.clone(), new.clone()]));
        }
    }
    serde_json::to_value(changes).unwrap_or(Value::Null)
}

/// Appends `change`, at `at`. Call it in the transaction that makes the change.
pub fn record(conn: &mut DbConnection, at: NaiveDateTime, change: Change) -> AppResult<()> {
    let row = EventRow {
        id: EventId::new(),
        entity: change.entity,
        entity_id: change.entity_id,
        actor_id: change.actor,
        at,
        action: change.action,
        from_status: change.from_status,
        to_status: change.to_status,
        note: change.note,
        changes: serde_json::to_string(&change.changes)
            .map_err(|e| AppError::internal(format!("serialising an event: {e}")))?,
    };
    diesel::insert_into(events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// A page of the history of one record, oldest first.
pub fn list(
    conn: &mut DbConnection,
    entity: Entity,
    entity_id: &str,
    paging: &Paging,
) -> AppResult<Listed<Event>> {
    let query = || {
        events::table
            .filter(events::entity.eq(entity))
            .filter(events::entity_id.eq(entity_id.to_string()))
            .select(EventRow::as_select())
            .into_boxed()
    };
    let order = Order::new("at")
        .asc(events::at, |r: &EventRow| r.at)
        .asc(events::id, |r| r.id);
    let listed = paginate(conn, query, &order, paging)?;
    let names = Names::load(conn, [], listed.items.iter().filter_map(|e| e.actor_id))?;
    Ok(listed.map(|row| Event {
        actor_name: names.user_opt(row.actor_id),
        changes: serde_json::from_str(&row.changes).unwrap_or(Value::Null),
        id: row.id,
        entity: row.entity,
        entity_id: row.entity_id,
        actor_id: row.actor_id,
        at: row.at.and_utc(),
        action: row.action,
        from_status: row.from_status,
        to_status: row.to_status,
        note: row.note,
    }))
}

/// How many events a record has (its version must equal it: one event per change).
pub fn count(conn: &mut DbConnection, entity: Entity, entity_id: &str) -> AppResult<i64> {
    Ok(events::table
        .filter(events::entity.eq(entity))
        .filter(events::entity_id.eq(entity_id.to_string()))
        .count()
        .get_result(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_name_changed_fields_only() {
        let before =
            json!({"title": "防汛物资储备", "progress": 10, "version": 1, "updated_at": "a"});
        let after =
            json!({"title": "防汛物资储备", "progress": 40, "version": 2, "updated_at": "b"});
        assert_eq!(diff(&before, &after), json!({"progress": [10, 40]}));
        assert_eq!(
            diff(&json!({}), &json!({"note": "补充"})),
            json!({"note": [null, "补充"]})
        );
    }

    #[test]
    fn created_records_their_fields_without_bookkeeping() {
        let change = Change::created(
            Entity::Task,
            "t",
            UserId::new(),
            &json!({"title": "应急预案修订", "version": 1}),
        );
        assert_eq!(change.changes, json!({"title": "应急预案修订"}));
        assert_eq!(change.action, "created");
        assert_eq!(
            Change::new(Entity::Task, "t", UserId::new(), "start")
                .note("  ")
                .note,
            None
        );
    }
}
