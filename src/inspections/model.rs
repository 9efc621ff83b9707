//! Inspection rows and their views, and the inspection that scores a site against a
//! checklist version and raises a rectification item for each failed item (with a
//! category), all in the caller's transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, Resource};
use crate::checklists::rules;
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{checklists, inspection_items, inspections, sites, units};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, Change, Entity};
use crate::ids::{
    AttachmentId, CampaignId, ChecklistId, InspectionId, PatrolId, RectificationId, SiteId, UserId,
};
use crate::inspections::forms::{InspectionKind, InspectionQuery, NewInspection};
use crate::names::Names;
use crate::rectifications::forms::NewItem;
use crate::rectifications::model::Reporting;
use crate::rectifications::rules::Source;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = inspections)]
pub struct InspectionRow {
    pub id: InspectionId,
    pub checklist_id: ChecklistId,
    pub checklist_version: i32,
    pub site_id: SiteId,
    pub kind: InspectionKind,
    pub answers: String,
    pub attachment_ids: String,
    pub score: i32,
    pub max_score: i32,
    pub percent: f64,
    pub failed_items: String,
    pub patrol_id: Option<PatrolId>,
    pub campaign_id: Option<CampaignId>,
    pub inspected_by: UserId,
    pub created_at: NaiveDateTime,
    pub version: i32,
}

/// A rectification item a failed checklist item raised.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Raised {
    /// The checklist item's key.
    pub key: String,
    #[schema(value_type = String, format = Uuid)]
    pub rectification_id: RectificationId,
}

/// An inspection as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Inspection {
    #[schema(value_type = String, format = Uuid)]
    pub id: InspectionId,
    #[schema(value_type = String, format = Uuid)]
    pub checklist_id: ChecklistId,
    pub checklist_name: String,
    pub checklist_version: i32,
    #[schema(value_type = String, format = Uuid)]
    pub site_id: SiteId,
    pub site_name: String,
    #[schema(value_type = InspectionKind)]
    pub kind: InspectionKind,
    #[schema(value_type = Object)]
    pub answers: Value,
    #[schema(value_type = Vec<String>)]
    pub attachment_ids: Vec<AttachmentId>,
    pub score: i32,
    pub max_score: i32,
    pub percent: f64,
    /// Keys of the items that failed.
    pub failed_items: Vec<String>,
    /// The rectification items the failures raised.
    pub raised: Vec<Raised>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub patrol_id: Option<PatrolId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    #[schema(value_type = String, format = Uuid)]
    pub inspected_by: UserId,
    pub inspected_by_name: String,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> AppResult<T> {
    serde_json::from_str(text).map_err(|e| AppError::internal(format!("bad stored {what}: {e}")))
}

pub fn views(conn: &mut DbConnection, rows: Vec<InspectionRow>) -> AppResult<Vec<Inspection>> {
    let names = Names::load(conn, [], rows.iter().map(|r| r.inspected_by))?;
    rows.into_iter()
        .map(|row| {
            let checklist_name: String = checklists::table
                .find(row.checklist_id)
                .select(checklists::name)
                .get_result(conn)?;
            let site_name: String = sites::table
                .find(row.site_id)
                .select(sites::name)
                .get_result(conn)?;
            let raised = inspection_items::table
                .filter(inspection_items::inspection_id.eq(row.id))
                .order(inspection_items::item_key.asc())
                .select((
                    inspection_items::item_key,
                    inspection_items::rectification_id,
                ))
                .load::<(String, RectificationId)>(conn)?
                .into_iter()
                .map(|(key, rectification_id)| Raised {
                    key,
                    rectification_id,
                })
                .collect();
            Ok(Inspection {
                checklist_name,
                site_name,
                raised,
                inspected_by_name: names.user(row.inspected_by),
                answers: json(&row.answers, "answers")?,
                attachment_ids: json(&row.attachment_ids, "attachments")?,
                failed_items: json(&row.failed_items, "failed items")?,
                id: row.id,
                checklist_id: row.checklist_id,
                checklist_version: row.checklist_version,
                site_id: row.site_id,
                kind: row.kind,
                score: row.score,
                max_score: row.max_score,
                percent: row.percent,
                patrol_id: row.patrol_id,
                campaign_id: row.campaign_id,
                inspected_by: row.inspected_by,
                created_at: row.created_at.and_utc(),
                version: row.version,
            })
        })
        .collect()
}

pub fn view(conn: &mut DbConnection, row: InspectionRow) -> AppResult<Inspection> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::internal("an inspection without its view"))
}

/// An inspection with its site's paths: read by whoever sees the site.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: InspectionRow,
    pub unit_path: String,
    pub grid_path: String,
}

impl Placed {
    pub fn resource(&self) -> Resource<'_> {
        Resource::of_units([self.unit_path.as_str(), self.grid_path.as_str()])
    }
}

pub fn find(conn: &mut DbConnection, id: InspectionId) -> AppResult<Placed> {
    let (grids, owners) = diesel::alias!(units as grids, units as owners);
    let (row, unit_path, grid_path) = inspections::table
        .inner_join(sites::table.on(sites::id.eq(inspections::site_id)))
        .inner_join(owners.on(owners.field(units::id).eq(sites::unit_id)))
        .inner_join(grids.on(grids.field(units::id).eq(sites::grid_id)))
        .filter(inspections::id.eq(id))
        .select((
            InspectionRow::as_select(),
            owners.field(units::path),
            grids.field(units::path),
        ))
        .get_result::<(InspectionRow, String, String)>(conn)
        .optional()?
        .ok_or(AppError::NotFound("inspection"))?;
    Ok(Placed {
        row,
        unit_path,
        grid_path,
    })
}

/// This user's inspection of this site with this checklist, if any (the world loader's
/// idempotence).
pub fn find_done(
    conn: &mut DbConnection,
    by: UserId,
    checklist: ChecklistId,
    site: SiteId,
) -> AppResult<Option<InspectionId>> {
    Ok(inspections::table
        .filter(inspections::inspected_by.eq(by))
        .filter(inspections::checklist_id.eq(checklist))
        .filter(inspections::site_id.eq(site))
        .select(inspections::id)
        .order(inspections::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// Scores the answers against the checklist version and records the inspection; each
/// failed item with a category raises a rectification item at the site (source
/// `inspection`, or `unannounced`), carrying the answers that are its category's fields.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    input: &NewInspection,
    at: Reporting,
) -> AppResult<InspectionRow> {
    let now = at.now;
    let (checklist, version) = crate::checklists::model::referenced(
        conn,
        input.checklist_id,
        input.checklist_version,
        "checklist_id",
    )?;
    let site = crate::sites::model::referenced(conn, actor, input.site_id, "site_id")?.row;
    let items = version.item_list()?;
    let scored = rules::score(&items, &input.answers).map_err(|problems| {
        AppError::Validation(
            problems
                .into_iter()
                .map(|(f, m)| FieldError::new(f, m))
                .collect(),
        )
    })?;
    if let Some(campaign) = input.campaign_id {
        crate::campaigns::model::writable(conn, actor, campaign, "campaign_id")?;
    }
    check_patrol(conn, actor, input.patrol_id)?;
    crate::attachments::model::own_attachments(
        conn,
        actor,
        &input.attachment_ids,
        "attachment_ids",
    )?;
    let row = InspectionRow {
        id: input.id.unwrap_or_default(),
        checklist_id: checklist.id,
        checklist_version: version.number,
        site_id: site.id,
        kind: input.kind,
        answers: to_json(&input.answers)?,
        attachment_ids: to_json(&input.attachment_ids)?,
        score: scored.score,
        max_score: scored.max_score,
        percent: scored.percent,
        failed_items: to_json(&scored.failed_items)?,
        patrol_id: input.patrol_id,
        campaign_id: input.campaign_id,
        inspected_by: actor.id,
        created_at: now,
        version: 1,
    };
    diesel::insert_into(inspections::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| match db::unique_violation(&e) {
            Some(_) => AppError::conflict(
                crate::error::Code::AlreadyExists,
                "an inspection with this id exists",
            ),
            None => e.into(),
        })?;
    let source = match input.kind {
        InspectionKind::Routine => Source::Inspection,
        InspectionKind::Unannounced => Source::Unannounced,
    };
    for key in &scored.failed_items {
        let Some(item) = items.iter().find(|i| &i.key == key) else {
            continue;
        };
        let Some(category) = item.category_id else {
            continue;
        };
        let answer = input.answers.get(key).cloned().unwrap_or(Value::Null);
        let shown = match &answer {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // The answers keyed like the category's fields fill them (a flood-gate checklist's
        // water level is the gate fault's water level).
        let codes: Vec<String> =
            crate::categories::model::referenced(conn, category, "category_id")
                .and_then(|c| c.attribute_specs())?
                .into_iter()
                .map(|s| s.code)
                .collect();
        let attributes: BTreeMap<String, Value> = input
            .answers
            .iter()
            .filter(|(k, _)| codes.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let draft = NewItem {
            id: None,
            source,
            category_id: category,
            description: format!("{}：{}不合格（{}）", version.name, item.label, shown),
            lat: site.lat,
            lon: site.lon,
            coord_type: Default::default(),
            address: site.address.clone(),
            grid_id: Some(site.grid_id),
            severity: None,
            due_at: None,
            attributes,
            attachment_ids: input.attachment_ids.clone(),
            campaign_id: input.campaign_id,
            site_id: Some(site.id),
            patrol_id: input.patrol_id,
        }
        .validate()
        .map_err(|e| prefixed(e, key))?;
        let (raised, _) = crate::rectifications::model::create(conn, actor, &draft, at)
            .and_then(|reported| reported.numbered(conn, at.now))
            .map_err(|e| prefixed(e, key))?;
        diesel::insert_into(inspection_items::table)
            .values((
                inspection_items::inspection_id.eq(row.id),
                inspection_items::item_key.eq(key),
                inspection_items::rectification_id.eq(raised.id),
            ))
            .execute(conn)?;
    }
    events::record(
        conn,
        now,
        Change::created(Entity::Inspection, row.id, actor.id, &row),
    )?;
    Ok(row)
}

/// A patrol an inspection names: the caller's own, and going.
fn check_patrol(conn: &mut DbConnection, actor: &Actor, patrol: Option<PatrolId>) -> AppResult<()> {
    let Some(patrol) = patrol else {
        return Ok(());
    };
    match crate::patrols::model::find(conn, patrol) {
        Ok(placed)
            if actor.may(Action::WritePatrol, &placed.resource())
                && placed.row.status == crate::patrols::rules::PatrolStatus::Active =>
        {
            Ok(())
        }
        Ok(_) | Err(AppError::NotFound(_)) => Err(AppError::invalid(
            "patrol_id",
            "no such active patrol of yours",
        )),
        Err(e) => Err(e),
    }
}

/// A problem raising the item of a failed answer names the answer it came from.
fn prefixed(error: AppError, key: &str) -> AppError {
    match error {
        AppError::Validation(errors) => AppError::Validation(
            errors
                .into_iter()
                .map(|e| match e.field.as_str() {
                    "patrol_id" | "campaign_id" | "attachment_ids" => e,
                    f if f.starts_with("attachment_ids") => e,
                    _ => FieldError::new(
                        format!("answers.{key}"),
                        format!("its failure cannot be filed: {} {}", e.field, e.message),
                    ),
                })
                .collect(),
        ),
        other => other,
    }
}

/// A stored JSON column.
fn to_json<T: Serialize>(value: &T) -> AppResult<String> {
    serde_json::to_string(value).map_err(|e| AppError::internal(format!("to JSON: {e}")))
}

/// The inspections of the sites the caller sees, latest first.
pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &InspectionQuery,
    paging: &Paging,
) -> AppResult<Listed<InspectionRow>> {
    paginate(
        conn,
        || {
            let mut q = inspections::table
                .select(InspectionRow::as_select())
                .into_boxed();
            if let (Some(by_unit), Some(by_grid)) =
                (scope::visible_units(subject), scope::visible_units(subject))
            {
                q = q.filter(crate::db::in_subquery(
                    inspections::site_id,
                    sites::table
                        .filter(
                            by_unit
                                .contains(sites::unit_id)
                                .or(by_grid.contains(sites::grid_id)),
                        )
                        .select(sites::id),
                ));
            }
            if let Some(site) = filter.site_id {
                q = q.filter(inspections::site_id.eq(site));
            }
            if let Some(checklist) = filter.checklist_id {
                q = q.filter(inspections::checklist_id.eq(checklist));
            }
            if let Some(kind) = filter.kind {
                q = q.filter(inspections::kind.eq(kind));
            }
            q
        },
        &Order::new("created_at_desc")
            .desc(inspections::created_at, |r: &InspectionRow| r.created_at)
            .desc(inspections::id, |r| r.id),
        paging,
    )
}
