//! Rectification item rows and their views (with the deadline fields derived from the
//! clock on every read), the report that creates one (routing, numbering, nearby
//! duplicates), its transitions and its lists. Every write appends its event in the
//! caller's transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::scope::{self, Subject};
use crate::auth::{Action, Actor, OwnerRole, Resource};
use crate::categories::model::CategoryRow;
use crate::categories::rules::{check_attribute_values, Severity};
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{
    categories, inspection_items, rectification_attachments, rectification_numbers, rectifications,
    units, users,
};
use crate::db::{self, DbConnection};
use crate::deadlines::extension::{self, ExtensionColumns};
use crate::deadlines::{self, Extension, HasExtension, Timing, Warning, WarningRules};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, Change, Entity};
use crate::ids::{
    AttachmentId, CampaignId, CategoryId, InspectionId, RectificationId, SiteId, UnitId, UserId,
};
use crate::names::Names;
use crate::rectifications::filters::{self, Items};
use crate::rectifications::forms::{ItemDraft, ItemFilter, ItemSort, TransitionDraft};
use crate::rectifications::rules::{self, ItemAction, ItemState, ItemStatus, Source, Stage};
use crate::units::model::UnitRow;
use crate::units::UnitKind;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = rectifications, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct ItemRow {
    pub id: RectificationId,
    pub number: String,
    pub source: Source,
    pub category_id: CategoryId,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub grid_id: UnitId,
    pub unit_id: Option<UnitId>,
    pub severity: Severity,
    pub due_at: NaiveDateTime,
    pub original_due_at: NaiveDateTime,
    /// JSON object: the category's extra fields.
    pub attributes: String,
    pub campaign_id: Option<CampaignId>,
    pub site_id: Option<SiteId>,
    pub duplicate_of: Option<RectificationId>,
    pub reported_by: UserId,
    pub status: ItemStatus,
    pub rework_count: i32,
    /// A pending [`Extension`], or all `None` (see [`crate::deadlines::extension`]).
    pub extension_due_at: Option<NaiveDateTime>,
    pub extension_note: Option<String>,
    pub extension_requested_by: Option<UserId>,
    pub extension_requested_at: Option<NaiveDateTime>,
    pub assigned_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub submitted_by: Option<UserId>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

impl HasExtension for ItemRow {
    fn extension_columns(&mut self) -> ExtensionColumns<'_> {
        ExtensionColumns {
            due_at: &mut self.extension_due_at,
            note: &mut self.extension_note,
            requested_by: &mut self.extension_requested_by,
            requested_at: &mut self.extension_requested_at,
        }
    }

    fn pending_extension(&self) -> Option<Extension> {
        extension::pending(
            self.extension_due_at,
            self.extension_note.as_deref(),
            self.extension_requested_by,
            self.extension_requested_at,
        )
    }
}

impl ItemRow {
    fn state(&self) -> ItemState {
        ItemState {
            status: self.status,
            extension_pending: self.extension_due_at.is_some(),
        }
    }

    pub fn timing(&self) -> Timing {
        Timing {
            phase: self.status.phase(),
            progress: None,
            created_at: self.created_at,
            due_at: self.due_at,
        }
    }

    fn attribute_values(&self) -> AppResult<Value> {
        serde_json::from_str(&self.attributes).map_err(|e| {
            AppError::internal(format!("item {} has bad stored attributes: {e}", self.id))
        })
    }

    /// Accepted: when it was closed.
    pub fn accepted_at(&self) -> Option<NaiveDateTime> {
        (self.status == ItemStatus::Accepted)
            .then_some(self.closed_at)
            .flatten()
    }
}

/// An open item of the same category near a new report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PossibleDuplicate {
    #[schema(value_type = String, format = Uuid)]
    pub id: RectificationId,
    pub number: String,
    pub status: ItemStatus,
    /// From the new report's point, in metres.
    pub distance_m: f64,
}

/// A rectification item as the API shows it: its record, the names beside its ids, its
/// photos, and what the clock says about it now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Item {
    #[schema(value_type = String, format = Uuid)]
    pub id: RectificationId,
    /// e.g. `ZG-2020-000123`: unique, never reused.
    pub number: String,
    pub source: Source,
    #[schema(value_type = String, format = Uuid)]
    pub category_id: CategoryId,
    pub category_name: String,
    pub description: String,
    /// WGS-84.
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    #[schema(value_type = String, format = Uuid)]
    pub grid_id: UnitId,
    pub grid_name: String,
    /// The responsible unit; null while the item waits in triage.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    #[schema(value_type = Severity)]
    pub severity: Severity,
    /// The deadline now (moved by an approved extension).
    pub due_at: DateTime<Utc>,
    /// The deadline first set: on-time closure is judged on it.
    pub original_due_at: DateTime<Utc>,
    /// The category's extra fields.
    #[schema(value_type = Object)]
    pub attributes: Value,
    /// Photos of the problem (整改前).
    #[schema(value_type = Vec<String>)]
    pub attachment_ids: Vec<AttachmentId>,
    /// Evidence of the fixes (整改后), every submission's.
    #[schema(value_type = Vec<String>)]
    pub evidence_ids: Vec<AttachmentId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub site_id: Option<SiteId>,
    /// The inspection whose failed item raised it, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub inspection_id: Option<InspectionId>,
    /// The open item this one repeats (status `duplicate`).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub duplicate_of: Option<RectificationId>,
    #[schema(value_type = String, format = Uuid)]
    pub reported_by: UserId,
    pub reported_by_name: String,
    pub status: ItemStatus,
    /// Times a fix was sent back.
    pub rework_count: i32,
    /// A request for more time waiting for a decision.
    pub extension: Option<Extension>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub submitted_by: Option<UserId>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was accepted, cancelled or marked a duplicate.
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes with every write; sent as the `ETag`.
    pub version: i32,
    /// Past its deadline and still open.
    pub overdue: bool,
    /// Three-colour supervision: red overdue; while the unit works on it, yellow in the
    /// last stretch of its time, blue due soon.
    pub warning: Warning,
    /// Accepted by its original deadline; null while open or when not accepted.
    pub closed_on_time: Option<bool>,
    /// The actions its status allows (whether the caller may take them is the caller's
    /// role's business).
    pub allowed_actions: Vec<ItemAction>,
    /// On the answer to a report only: open items of the same category nearby.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_duplicates: Option<Vec<PossibleDuplicate>>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// The attachments of these items, by item and stage, in the order they were added.
pub fn attachments_of(
    conn: &mut DbConnection,
    items: &[RectificationId],
) -> AppResult<HashMap<(RectificationId, Stage), Vec<AttachmentId>>> {
    let mut by_item: HashMap<(RectificationId, Stage), Vec<AttachmentId>> = HashMap::new();
    if items.is_empty() {
        return Ok(by_item);
    }
    let links: Vec<(RectificationId, AttachmentId, Stage)> = rectification_attachments::table
        .filter(crate::db::in_list(
            rectification_attachments::rectification_id,
            items,
        ))
        .order((
            rectification_attachments::added_at.asc(),
            rectification_attachments::attachment_id.asc(),
        ))
        .select((
            rectification_attachments::rectification_id,
            rectification_attachments::attachment_id,
            rectification_attachments::stage,
        ))
        .load(conn)?;
    for (item, attachment, stage) in links {
        by_item.entry((item, stage)).or_default().push(attachment);
    }
    Ok(by_item)
}

/// What the views of a page of items need besides the rows: names, categories, photos
/// and the inspections that raised them.
struct ViewContext {
    names: Names,
    category_names: HashMap<CategoryId, String>,
    files: HashMap<(RectificationId, Stage), Vec<AttachmentId>>,
    raised_by: HashMap<RectificationId, InspectionId>,
}

/// The views of `rows` at `now`: names, categories and photos loaded together.
pub fn views(
    conn: &mut DbConnection,
    rows: Vec<ItemRow>,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Vec<Item>> {
    let names = Names::load(
        conn,
        rows.iter()
            .flat_map(|r| std::iter::once(r.grid_id).chain(r.unit_id)),
        rows.iter().map(|r| r.reported_by),
    )?;
    let mut category_ids: Vec<CategoryId> = rows.iter().map(|r| r.category_id).collect();
    category_ids.sort();
    category_ids.dedup();
    let category_names: HashMap<CategoryId, String> = if category_ids.is_empty() {
        HashMap::new()
    } else {
        categories::table
            .filter(crate::db::in_list(categories::id, category_ids))
            .select((categories::id, categories::name))
            .load::<(CategoryId, String)>(conn)?
            .into_iter()
            .collect()
    };
    let ids: Vec<RectificationId> = rows.iter().map(|r| r.id).collect();
    let files = attachments_of(conn, &ids)?;
    let raised_by: HashMap<RectificationId, InspectionId> = if ids.is_empty() {
        HashMap::new()
    } else {
        inspection_items::table
            .filter(crate::db::in_list(inspection_items::rectification_id, &ids))
            .select((
                inspection_items::rectification_id,
                inspection_items::inspection_id,
            ))
            .load::<(RectificationId, InspectionId)>(conn)?
            .into_iter()
            .collect()
    };
    let context = ViewContext {
        names,
        category_names,
        files,
        raised_by,
    };
    build_views(rows, context, now, warnings)
}

/// One item and its view, read by id in two queries: the item with its units' paths and
/// every name its view shows (joined by key), then its photos. What `GET` of one item
/// does; a page of items loads its names together instead ([`views`]).
pub fn find_viewed(
    conn: &mut DbConnection,
    id: RectificationId,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<(Placed, Item)> {
    let (grids, owners) = diesel::alias!(units as grids, units as owners);
    type Found = (
        ItemRow,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
        String,
        Option<InspectionId>,
    );
    // On the concrete connection: a query of static shape is then found in the statement
    // cache by its type (the multi-backend connection renders it to text every time).
    let found: Option<Found> = crate::on_backend!(conn, |c| rectifications::table
        .inner_join(grids.on(grids.field(units::id).eq(rectifications::grid_id)))
        .left_join(owners.on(rectifications::unit_id.eq(owners.field(units::id).nullable())))
        .inner_join(categories::table.on(categories::id.eq(rectifications::category_id)))
        .inner_join(users::table.on(users::id.eq(rectifications::reported_by)))
        .left_join(
            inspection_items::table.on(inspection_items::rectification_id.eq(rectifications::id)),
        )
        .filter(rectifications::id.eq(id))
        .select((
            ItemRow::as_select(),
            grids.field(units::path),
            owners.field(units::path).nullable(),
            grids.field(units::name),
            owners.field(units::name).nullable(),
            categories::name,
            users::display_name,
            inspection_items::inspection_id.nullable(),
        ))
        .get_result(c)
        .optional())?;
    let found = found.ok_or(AppError::NotFound("rectification item"))?;
    let (row, grid_path, unit_path, grid_name, unit_name, category, reporter, inspection) = found;
    let mut known = vec![
        (row.grid_id.to_string(), grid_name),
        (row.reported_by.to_string(), reporter),
    ];
    if let (Some(unit), Some(name)) = (row.unit_id, unit_name) {
        known.push((unit.to_string(), name));
    }
    let context = ViewContext {
        names: Names::known(known),
        category_names: HashMap::from([(row.category_id, category)]),
        files: attachments_of(conn, &[row.id])?,
        raised_by: inspection.map(|i| (row.id, i)).into_iter().collect(),
    };
    let view = build_views(vec![row.clone()], context, now, warnings)?
        .pop()
        .ok_or_else(|| AppError::internal("an item without its view"))?;
    Ok((
        Placed {
            row,
            grid_path,
            unit_path,
        },
        view,
    ))
}

fn build_views(
    rows: Vec<ItemRow>,
    context: ViewContext,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Vec<Item>> {
    let ViewContext {
        names,
        category_names,
        mut files,
        raised_by,
    } = context;
    rows.into_iter()
        .map(|row| {
            let timing = row.timing();
            Ok(Item {
                category_name: category_names
                    .get(&row.category_id)
                    .cloned()
                    .unwrap_or_default(),
                grid_name: names.unit(row.grid_id),
                unit_name: row.unit_id.map(|u| names.unit(u)),
                reported_by_name: names.user(row.reported_by),
                attributes: row.attribute_values()?,
                attachment_ids: files.remove(&(row.id, Stage::Report)).unwrap_or_default(),
                evidence_ids: files.remove(&(row.id, Stage::Evidence)).unwrap_or_default(),
                extension: row.pending_extension(),
                overdue: deadlines::overdue(timing.phase, row.due_at, now),
                warning: deadlines::warning(&timing, now, warnings),
                closed_on_time: deadlines::closed_on_time(row.accepted_at(), row.original_due_at),
                allowed_actions: rules::allowed(row.state()),
                accepted_at: row.accepted_at().map(utc),
                possible_duplicates: None,
                inspection_id: raised_by.get(&row.id).copied(),
                id: row.id,
                number: row.number,
                source: row.source,
                category_id: row.category_id,
                description: row.description,
                lat: row.lat,
                lon: row.lon,
                address: row.address,
                grid_id: row.grid_id,
                unit_id: row.unit_id,
                severity: row.severity,
                due_at: utc(row.due_at),
                original_due_at: utc(row.original_due_at),
                campaign_id: row.campaign_id,
                site_id: row.site_id,
                duplicate_of: row.duplicate_of,
                reported_by: row.reported_by,
                status: row.status,
                rework_count: row.rework_count,
                assigned_at: row.assigned_at.map(utc),
                started_at: row.started_at.map(utc),
                submitted_at: row.submitted_at.map(utc),
                submitted_by: row.submitted_by,
                closed_at: row.closed_at.map(utc),
                created_at: utc(row.created_at),
                updated_at: utc(row.updated_at),
                version: row.version,
            })
        })
        .collect()
}

pub fn view(
    conn: &mut DbConnection,
    row: ItemRow,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Item> {
    views(conn, vec![row], now, warnings)?
        .pop()
        .ok_or_else(|| AppError::internal("an item without its view"))
}

/// An item with what the policy needs: the paths of its grid and of its responsible unit.
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: ItemRow,
    pub grid_path: String,
    pub unit_path: Option<String>,
}

impl Placed {
    fn owned<'a>(&'a self, resource: Resource<'a>) -> Resource<'a> {
        resource
            .owned(OwnerRole::Reporter, Some(self.row.reported_by))
            .owned(OwnerRole::Submitter, self.row.submitted_by)
    }

    /// For reading, checking and managing: it belongs to its grid (the grid's inspector
    /// and the units above it) and to its responsible unit.
    pub fn resource(&self) -> Resource<'_> {
        let units = std::iter::once(self.grid_path.as_str()).chain(self.unit_path.as_deref());
        self.owned(Resource::of_units(units))
    }

    /// For fixing: only the responsible unit's side (an item in triage has none yet, and
    /// then stands for its grid, whose workflow allows no fixing anyway).
    pub fn fixing(&self) -> Resource<'_> {
        let unit = self.unit_path.as_deref().unwrap_or(self.grid_path.as_str());
        self.owned(Resource::of_unit(unit))
    }

    /// The resource an action is authorised on.
    pub fn for_action(&self, action: Action) -> Resource<'_> {
        match action {
            Action::FixItem => self.fixing(),
            _ => self.resource(),
        }
    }
}

pub fn find(conn: &mut DbConnection, id: RectificationId) -> AppResult<Placed> {
    let (grids, owners) = diesel::alias!(units as grids, units as owners);
    let found: Option<(ItemRow, String, Option<String>)> =
        crate::on_backend!(conn, |c| rectifications::table
            .inner_join(grids.on(grids.field(units::id).eq(rectifications::grid_id)))
            .left_join(owners.on(rectifications::unit_id.eq(owners.field(units::id).nullable())))
            .filter(rectifications::id.eq(id))
            .select((
                ItemRow::as_select(),
                grids.field(units::path),
                owners.field(units::path).nullable(),
            ))
            .get_result(c)
            .optional())?;
    let (row, grid_path, unit_path) = found.ok_or(AppError::NotFound("rectification item"))?;
    Ok(Placed {
        row,
        grid_path,
        unit_path,
    })
}

/// The item this user reported with this description, if any (the world loader's
/// idempotence).
pub fn find_reported(
    conn: &mut DbConnection,
    reporter: UserId,
    description: &str,
) -> AppResult<Option<RectificationId>> {
    Ok(rectifications::table
        .filter(rectifications::reported_by.eq(reporter))
        .filter(rectifications::description.eq(description))
        .select(rectifications::id)
        .order(rectifications::id)
        .limit(1)
        .load(conn)?
        .pop())
}

/// The unit that fixes an item of `category` in `grid`, or `None` (triage).
fn route(
    conn: &mut DbConnection,
    category: &CategoryRow,
    grid: &UnitRow,
) -> AppResult<Option<UnitId>> {
    let above = scope::ancestors_of_path(&grid.path);
    let kinds: HashMap<UnitId, UnitKind> = units::table
        .filter(crate::db::in_list(units::id, &above))
        .select((units::id, units::kind))
        .load::<(UnitId, UnitKind)>(conn)?
        .into_iter()
        .collect();
    let chain: Vec<(UnitId, UnitKind)> = above
        .iter()
        .filter_map(|id| kinds.get(id).map(|kind| (*id, *kind)))
        .chain(std::iter::once((grid.id, grid.kind)))
        .collect();
    Ok(rules::route(&category.routing(), &chain))
}

/// Takes the next number of the year `now` falls in: one statement, which increments the
/// year's counter and returns it. The counter's row stays locked (on PostgreSQL; SQLite
/// has one writer anyway) until the transaction ends, so no two items share a number
/// and a rolled-back report gives its number back: numbers have no gaps. Because the row
/// is every report's, it is taken as late as possible — see [`Reported::number`].
fn next_number(conn: &mut DbConnection, now: NaiveDateTime) -> AppResult<String> {
    let year = rules::number_year(now);
    let last: i32 =
        crate::on_backend!(conn, |c| diesel::insert_into(rectification_numbers::table)
            .values((
                rectification_numbers::year.eq(year),
                rectification_numbers::last.eq(1),
            ))
            .on_conflict(rectification_numbers::year)
            .do_update()
            .set(rectification_numbers::last.eq(rectification_numbers::last + 1))
            .returning(rectification_numbers::last)
            .get_result(c))?;
    Ok(rules::number(year, last))
}

/// The number an item holds until [`Reported::number`] gives it its own: unique (it
/// names the item's id) and never shown outside the transaction that made it.
fn provisional_number(id: RectificationId) -> String {
    format!("ZG-PENDING-{id}")
}

/// Open items of `category` within `radius_m` of the point, nearest first, among those
/// the caller sees.
pub fn nearby_open(
    conn: &mut DbConnection,
    subject: &Subject,
    category: CategoryId,
    (lon, lat): (f64, f64),
    radius_m: f64,
) -> AppResult<Vec<PossibleDuplicate>> {
    let b = rules::bbox_around(lon, lat, radius_m);
    let mut q = rectifications::table
        .filter(rectifications::category_id.eq(category))
        .filter(crate::db::in_list(rectifications::status, ItemStatus::OPEN))
        .filter(rectifications::lon.between(b.min_lon, b.max_lon))
        .filter(rectifications::lat.between(b.min_lat, b.max_lat))
        .select((
            rectifications::id,
            rectifications::number,
            rectifications::status,
            rectifications::lon,
            rectifications::lat,
        ))
        .into_boxed();
    if let (Some(by_unit), Some(by_grid)) =
        (scope::visible_units(subject), scope::visible_units(subject))
    {
        q = q.filter(
            by_unit
                .contains(rectifications::unit_id.assume_not_null())
                .or(by_grid.contains(rectifications::grid_id)),
        );
    }
    let mut found: Vec<PossibleDuplicate> = q
        .limit(100)
        .load::<(RectificationId, String, ItemStatus, f64, f64)>(conn)?
        .into_iter()
        .filter_map(|(id, number, status, olon, olat)| {
            let d = crate::coords::distance_m((lon, lat), (olon, olat));
            (d <= radius_m).then(|| PossibleDuplicate {
                id,
                number,
                status,
                distance_m: (d * 10.0).round() / 10.0,
            })
        })
        .collect();
    found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    Ok(found)
}

fn link_attachments(
    conn: &mut DbConnection,
    item: RectificationId,
    ids: &[AttachmentId],
    stage: Stage,
    now: NaiveDateTime,
) -> AppResult<()> {
    for id in ids {
        // A photo sent again with a later fix is already linked: once is enough.
        crate::on_backend!(conn, |c| diesel::insert_into(
            rectification_attachments::table
        )
        .values((
            rectification_attachments::rectification_id.eq(item),
            rectification_attachments::attachment_id.eq(*id),
            rectification_attachments::stage.eq(stage),
            rectification_attachments::added_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    }
    Ok(())
}

/// What a report needs from outside: the clock, and how near counts as a duplicate.
#[derive(Debug, Clone, Copy)]
pub struct Reporting {
    pub now: NaiveDateTime,
    pub duplicate_radius_m: f64,
}

/// Files a report: checks it against its category, finds its grid, routes it (or leaves
/// it in triage), numbers it, links its photos, and finds open items of the same category
/// nearby.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    draft: &ItemDraft,
    at: Reporting,
) -> AppResult<Reported> {
    let now = at.now;
    let category = crate::categories::model::referenced(conn, draft.category_id, "category_id")?;
    let problems = check_attribute_values(&category.attribute_specs()?, &draft.attributes);
    if !problems.is_empty() {
        return Err(AppError::Validation(
            problems
                .into_iter()
                .map(|(field, message)| FieldError::new(field, message))
                .collect(),
        ));
    }
    let point = crate::units::forms::Point {
        lon: draft.lon,
        lat: draft.lat,
    };
    let grid = crate::units::model::grid_for(conn, actor, draft.grid_id, point)?;
    if let Some(site) = draft.site_id {
        crate::sites::model::referenced(conn, actor, site, "site_id")?;
    }
    if let Some(campaign) = draft.campaign_id {
        crate::campaigns::model::writable(conn, actor, campaign, "campaign_id")?;
    }
    crate::attachments::model::own_attachments(
        conn,
        actor,
        &draft.attachment_ids,
        "attachment_ids",
    )?;
    let due_at = match draft.due_at {
        Some(due) if due <= now => {
            return Err(AppError::invalid("due_at", "must be in the future"));
        }
        Some(due) => due,
        None => now + TimeDelta::hours(i64::from(category.deadline_hours)),
    };
    let unit_id = route(conn, &category, &grid)?;
    // Before the item exists, so that it does not find itself.
    let nearby = nearby_open(
        conn,
        &actor.subject,
        category.id,
        (draft.lon, draft.lat),
        at.duplicate_radius_m,
    )?;
    let row = ItemRow {
        id: draft.id,
        number: provisional_number(draft.id),
        source: draft.source,
        category_id: category.id,
        description: draft.description.clone(),
        lat: draft.lat,
        lon: draft.lon,
        address: draft.address.clone(),
        grid_id: grid.id,
        unit_id,
        severity: draft.severity.unwrap_or(category.default_severity),
        due_at,
        original_due_at: due_at,
        attributes: serde_json::to_string(&draft.attributes)
            .map_err(|e| AppError::internal(format!("attributes: {e}")))?,
        campaign_id: draft.campaign_id,
        site_id: draft.site_id,
        duplicate_of: None,
        reported_by: actor.id,
        status: if unit_id.is_some() {
            ItemStatus::Assigned
        } else {
            ItemStatus::Reported
        },
        rework_count: 0,
        extension_due_at: None,
        extension_note: None,
        extension_requested_by: None,
        extension_requested_at: None,
        assigned_at: unit_id.map(|_| now),
        started_at: None,
        submitted_at: None,
        submitted_by: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(rectifications::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| match db::unique_violation(&e) {
            // A client's own id that is taken (without the Idempotency-Key that would have
            // replayed the first answer).
            Some(_) => AppError::conflict(
                crate::error::Code::AlreadyExists,
                "an item with this id exists",
            ),
            None => e.into(),
        })?;
    link_attachments(conn, row.id, &draft.attachment_ids, Stage::Report, now)?;
    if let Some(patrol) = draft.patrol_id {
        crate::patrols::model::link_item(conn, actor, patrol, row.id)?;
    }
    Ok(Reported {
        row,
        nearby,
        reporter: actor.id,
    })
}

/// A report filed but not yet numbered: what [`create`] leaves. Its number and its
/// `created` event come last ([`Reported::number`]), so that the year's counter, which
/// every report takes, is held for as short a time as possible — not across the views,
/// the duplicate search or the answer built before it.
#[derive(Debug)]
#[must_use = "a report holds a provisional number until `number` is called"]
pub struct Reported {
    /// The stored row (its number provisional until numbered).
    pub row: ItemRow,
    /// Open items of the same category nearby.
    pub nearby: Vec<PossibleDuplicate>,
    reporter: UserId,
}

impl Reported {
    /// Gives the item the next number of its year and records its `created` event: the
    /// last statements of the report's transaction but the answer's own.
    pub fn number(self, conn: &mut DbConnection, now: NaiveDateTime) -> AppResult<ItemRow> {
        let mut row = self.row;
        row.number = next_number(conn, now)?;
        diesel::update(rectifications::table.find(row.id))
            .set(rectifications::number.eq(&row.number))
            .execute(conn)?;
        events::record(
            conn,
            now,
            Change::created(Entity::Rectification, row.id, self.reporter, &row).entered(row.status),
        )?;
        // Routed straight to a unit: its people hear of it.
        if let Some(unit) = row.unit_id {
            use crate::notifications::{self, About, Message, NotificationKind};
            let users: Vec<UserId> = notifications::workers(conn, unit, None)?
                .into_iter()
                .filter(|u| *u != self.reporter)
                .collect();
            let title = crate::rectifications::reminders::title(&row.number, &row.description);
            let message = Message {
                kind: NotificationKind::ItemAssigned,
                about: About::Item(row.id),
                title: &title,
                body: row.address.clone(),
            };
            notifications::send(conn, &users, &message, now)?;
        }
        Ok(row)
    }

    /// [`Reported::number`], for callers that need no view before it.
    pub fn numbered(
        self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
    ) -> AppResult<(ItemRow, Vec<PossibleDuplicate>)> {
        let nearby = self.nearby.clone();
        Ok((self.number(conn, now)?, nearby))
    }
}

/// Writes `next` over `current` if nobody changed it since (`version`), with its event.
fn save(
    conn: &mut DbConnection,
    current: &ItemRow,
    next: &ItemRow,
    change: Change,
    now: NaiveDateTime,
) -> AppResult<()> {
    let updated = diesel::update(
        rectifications::table
            .filter(rectifications::id.eq(current.id))
            .filter(rectifications::version.eq(current.version)),
    )
    .set(next)
    .execute(conn)?;
    if updated == 0 {
        return Err(db::concurrent_change("rectification item"));
    }
    events::record(conn, now, change.diff(current, next))
}

/// A unit an item is sent to (`unit_id`): one the caller sees, and not a grid.
fn responsible_unit(conn: &mut DbConnection, actor: &Actor, id: UnitId) -> AppResult<UnitRow> {
    let unit = crate::units::model::referenced(conn, id, "unit_id")?;
    if !actor.may(Action::ReadOrg, &Resource::unit(&unit.path)) {
        return Err(AppError::invalid("unit_id", "no such unit"));
    }
    if unit.kind == UnitKind::Grid {
        return Err(AppError::invalid(
            "unit_id",
            "a grid does not fix problems: send it to the unit above",
        ));
    }
    Ok(unit)
}

/// Applies a transition the caller has been authorised for (its `action.needs()`); the
/// workflow ([`rules::next`]) decides whether the item's state allows it.
pub fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    placed: &Placed,
    input: &TransitionDraft,
    now: NaiveDateTime,
) -> AppResult<ItemRow> {
    let current = &placed.row;
    let to = rules::next(current.state(), input.action).map_err(|allowed| {
        AppError::InvalidTransition {
            what: "rectification item",
            action: input.action.to_string(),
            status: current.status.to_string(),
            allowed: allowed.iter().map(ToString::to_string).collect(),
        }
    })?;
    let mut next = ItemRow {
        status: to,
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    };
    match input.action {
        ItemAction::Assign | ItemAction::Reassign => {
            let target = input
                .unit_id
                .ok_or_else(|| AppError::invalid("unit_id", "is required"))?;
            if current.unit_id == Some(target) {
                return Err(AppError::invalid(
                    "unit_id",
                    "the item is already with this unit",
                ));
            }
            let unit = responsible_unit(conn, actor, target)?;
            next.unit_id = Some(unit.id);
            next.assigned_at = Some(now);
            next.started_at = None;
            // The new unit asks for its own time.
            extension::clear(&mut next);
        }
        ItemAction::Start => next.started_at = Some(now),
        ItemAction::Submit => {
            crate::attachments::model::own_attachments(
                conn,
                actor,
                &input.attachment_ids,
                "attachment_ids",
            )?;
            link_attachments(
                conn,
                current.id,
                &input.attachment_ids,
                Stage::Evidence,
                now,
            )?;
            next.submitted_at = Some(now);
            next.submitted_by = Some(actor.id);
        }
        ItemAction::Accept => {
            next.closed_at = Some(now);
            extension::clear(&mut next);
        }
        ItemAction::Reject => next.rework_count += 1,
        ItemAction::RequestExtension => {
            let (phase, due_at) = (current.status.phase(), current.due_at);
            extension::request(
                &mut next,
                phase,
                due_at,
                input.new_due_at,
                &input.note,
                actor.id,
                now,
            )?;
        }
        ItemAction::ApproveExtension => {
            next.due_at = extension::approve(&mut next, current.due_at);
        }
        ItemAction::DenyExtension => extension::clear(&mut next),
        ItemAction::Cancel => {
            next.closed_at = Some(now);
            extension::clear(&mut next);
        }
        ItemAction::MarkDuplicate => {
            let original = input
                .duplicate_of
                .ok_or_else(|| AppError::invalid("duplicate_of", "is required"))?;
            check_original(conn, actor, current, original)?;
            next.duplicate_of = Some(original);
            next.closed_at = Some(now);
            extension::clear(&mut next);
        }
    }
    let change = Change::new(
        Entity::Rectification,
        current.id,
        actor.id,
        input.action.as_str(),
    )
    .status(current.status, to)
    .note(&input.note);
    save(conn, current, &next, change, now)?;
    notify(conn, placed, &next, input, actor.id, now)?;
    Ok(next)
}

/// Who hears about a transition, in its transaction: the responsible unit's people when
/// work comes to them or is decided (assigned, accepted, sent back, extension decided), the
/// reporter when a fix waits for their check, the office above the unit when it asks for
/// more time.
fn notify(
    conn: &mut DbConnection,
    placed: &Placed,
    next: &ItemRow,
    input: &TransitionDraft,
    actor: UserId,
    now: NaiveDateTime,
) -> AppResult<()> {
    use crate::notifications::{self, About, Message, NotificationKind as Kind};
    let (kind, to_unit) = match input.action {
        ItemAction::Assign | ItemAction::Reassign => (Kind::ItemAssigned, true),
        ItemAction::Accept => (Kind::ItemAccepted, true),
        ItemAction::Reject => (Kind::ItemRejected, true),
        ItemAction::ApproveExtension => (Kind::ExtensionApproved, true),
        ItemAction::DenyExtension => (Kind::ExtensionDenied, true),
        ItemAction::Submit => (Kind::ItemSubmitted, false),
        ItemAction::RequestExtension => (Kind::ExtensionRequested, false),
        ItemAction::Start | ItemAction::Cancel | ItemAction::MarkDuplicate => return Ok(()),
    };
    let users = match (to_unit, next.unit_id) {
        (true, Some(unit)) => notifications::workers(conn, unit, None)?,
        (true, None) => Vec::new(),
        (false, _) if input.action == ItemAction::Submit => vec![next.reported_by],
        (false, _) => match &placed.unit_path {
            Some(path) => notifications::deciders_above(conn, path)?,
            None => Vec::new(),
        },
    };
    // Nobody is told of their own act.
    let users: Vec<UserId> = users.into_iter().filter(|u| *u != actor).collect();
    let body = match input.action {
        ItemAction::RequestExtension => format!(
            "申请延期至 {}：{}",
            next.extension_due_at.map_or_else(String::new, |t| t
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            input.note
        ),
        ItemAction::ApproveExtension => format!(
            "延期已批准，新截止时间 {}",
            next.due_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        _ if input.note.trim().is_empty() => kind.to_string(),
        _ => input.note.clone(),
    };
    let title = crate::rectifications::reminders::title(&next.number, &next.description);
    let message = Message {
        kind,
        about: About::Item(next.id),
        title: &title,
        body,
    };
    notifications::send(conn, &users, &message, now)
}

/// The item a duplicate points at: another open item the caller sees.
fn check_original(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &ItemRow,
    original: RectificationId,
) -> AppResult<()> {
    if original == current.id {
        return Err(AppError::invalid(
            "duplicate_of",
            "an item cannot repeat itself",
        ));
    }
    let placed = match find(conn, original) {
        Ok(placed) if actor.may(Action::ReadWork, &placed.resource()) => placed,
        Ok(_) | Err(AppError::NotFound(_)) => {
            return Err(AppError::invalid("duplicate_of", "no such item"))
        }
        Err(e) => return Err(e),
    };
    if !placed.row.status.is_open() {
        return Err(AppError::invalid(
            "duplicate_of",
            format!(
                "{} is {}: a duplicate points at an open item",
                placed.row.number, placed.row.status
            ),
        ));
    }
    Ok(())
}

/// The items the caller sees: those of its units, and those in its grids.
pub fn list(
    conn: &mut DbConnection,
    subject: &Subject,
    filter: &ItemFilter,
    paging: &Paging,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> AppResult<Listed<ItemRow>> {
    let Some(under) = unit_filter_path(conn, filter)? else {
        return Ok(Listed::empty());
    };
    paginate(
        conn,
        || filtered(subject, filter, under.as_deref(), now, warnings).select(ItemRow::as_select()),
        &order(filter.sort),
        paging,
    )
}

/// The order `sort` asks for, ids breaking ties so pages never overlap.
pub fn order(sort: ItemSort) -> Order<rectifications::table, ItemRow> {
    use rectifications::{created_at, due_at, id};
    let order = Order::new(format!("{sort:?}"));
    match sort {
        ItemSort::CreatedAtDesc => order
            .desc(created_at, |r: &ItemRow| r.created_at)
            .desc(id, |r| r.id),
        ItemSort::CreatedAt => order
            .asc(created_at, |r: &ItemRow| r.created_at)
            .asc(id, |r| r.id),
        ItemSort::DueAt => order.asc(due_at, |r: &ItemRow| r.due_at).asc(id, |r| r.id),
        ItemSort::DueAtDesc => order
            .desc(due_at, |r: &ItemRow| r.due_at)
            .desc(id, |r| r.id),
    }
}

/// The path of the `unit_id` filter's unit: `Some(None)` without that filter, `None` when
/// the unit does not exist (nothing matches).
pub fn unit_filter_path(
    conn: &mut DbConnection,
    filter: &ItemFilter,
) -> AppResult<Option<Option<String>>> {
    match filter.unit_id {
        Some(unit) => Ok(scope::path_of(conn, unit)?.map(Some)),
        None => Ok(Some(None)),
    }
}

type BoxedItems<'a> = rectifications::BoxedQuery<'a, db::Backend>;

/// The filtered items the caller sees, as a boxed query (lists and the ledger).
pub fn filtered<'a>(
    subject: &'a Subject,
    filter: &'a ItemFilter,
    under: Option<&'a str>,
    now: NaiveDateTime,
    warnings: &WarningRules,
) -> BoxedItems<'a> {
    let mut q = rectifications::table.into_boxed();
    if let (Some(by_unit), Some(by_grid)) =
        (scope::visible_units(subject), scope::visible_units(subject))
    {
        q = q.filter(
            by_unit
                .contains(rectifications::unit_id.assume_not_null())
                .or(by_grid.contains(rectifications::grid_id)),
        );
    }
    if filter.triage {
        q = q
            .filter(rectifications::unit_id.is_null())
            .filter(rectifications::status.eq(ItemStatus::Reported));
    }
    if !filter.statuses.is_empty() {
        q = q.filter(crate::db::in_list(
            rectifications::status,
            filter.statuses.clone(),
        ));
    }
    if let Some(category) = filter.category_id {
        q = q.filter(rectifications::category_id.eq(category));
    }
    if let Some(path) = under {
        q = q.filter(scope::units_under(path).contains(rectifications::unit_id.assume_not_null()));
    }
    if let Some(grid) = filter.grid_id {
        q = q.filter(rectifications::grid_id.eq(grid));
    }
    if let Some(source) = filter.source {
        q = q.filter(rectifications::source.eq(source));
    }
    if let Some(campaign) = filter.campaign_id {
        q = q.filter(rectifications::campaign_id.eq(campaign));
    }
    match filter.overdue {
        Some(true) => q = q.filter(filters::overdue(now)),
        Some(false) => q = q.filter(diesel::dsl::not(filters::overdue(now))),
        None => {}
    }
    if let Some(warning) = filter.warning {
        q = q.filter(crate::deadlines::sql::warning_is::<Items>(
            warning, now, warnings,
        ));
    }
    if let Some(b) = filter.bbox {
        q = q
            .filter(rectifications::lon.between(b.min_lon, b.max_lon))
            .filter(rectifications::lat.between(b.min_lat, b.max_lat));
    }
    if let Some(after) = filter.created_after {
        q = q.filter(rectifications::created_at.ge(after));
    }
    if let Some(before) = filter.created_before {
        q = q.filter(rectifications::created_at.lt(before));
    }
    if let Some(text) = &filter.q {
        let pattern = db::contains_pattern(text);
        q = q.filter(
            db::lower(rectifications::number)
                .like(pattern.clone())
                .escape('\\')
                .or(db::lower(rectifications::description)
                    .like(pattern.clone())
                    .escape('\\'))
                .or(db::lower(rectifications::address)
                    .like(pattern)
                    .escape('\\')),
        );
    }
    q
}

/// The attributes map of a row, for the ledger and Open311 (parsed from storage).
pub fn attribute_map(row: &ItemRow) -> AppResult<BTreeMap<String, Value>> {
    serde_json::from_str(&row.attributes)
        .map_err(|e| AppError::internal(format!("item {} has bad stored attributes: {e}", row.id)))
}

/// The items among `ids` the subject sees, as the list would show them (the sync feed).
pub fn visible_among(
    conn: &mut DbConnection,
    subject: &Subject,
    ids: &[RectificationId],
) -> AppResult<Vec<ItemRow>> {
    let mut q = rectifications::table
        .filter(crate::db::in_list(rectifications::id, ids))
        .select(ItemRow::as_select())
        .into_boxed();
    if let (Some(by_unit), Some(by_grid)) =
        (scope::visible_units(subject), scope::visible_units(subject))
    {
        q = q.filter(
            by_unit
                .contains(rectifications::unit_id.assume_not_null())
                .or(by_grid.contains(rectifications::grid_id)),
        );
    }
    Ok(q.load(conn)?)
}
