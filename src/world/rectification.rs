//! The rectification part of a world: categories of problem and sites, loaded through the
//! same model functions the API uses, as the users the description names.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::attachments::store::Store;
use crate::categories::forms::NewCategory;
use crate::categories::rules::{AttributeSpec, Severity};
use crate::coords::CoordType;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ids::{AttachmentId, CampaignId, CategoryId, PatrolId, RectificationId, SiteId, UnitId};
use crate::rectifications::forms::{ItemTransition, NewItem};
use crate::rectifications::model::Reporting;
use crate::rectifications::rules::{ItemAction, Source};
use crate::sites::forms::NewSite;
use crate::sites::rules::SiteKind;
use crate::units::UnitKind;
use crate::world::work::Moment;
use crate::world::work::{key, Acting};
use crate::{attachments, categories, patrols, rectifications, sites};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySpec {
    /// How other records refer to it; its code when absent.
    #[serde(default)]
    pub key: Option<String>,
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    pub deadline_hours: i32,
    /// The kind of unit that fixes it.
    pub route_kind: UnitKind,
    /// The key of the one unit that fixes it, if any.
    #[serde(default)]
    pub route_unit: Option<String>,
    #[serde(default)]
    pub attributes: Vec<AttributeSpec>,
    /// The user (an office or admin) who creates it; it is managed by their unit.
    pub by: String,
}

impl CategorySpec {
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or(&self.code)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    pub key: String,
    pub kind: SiteKind,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// The grid's key; found from the point when absent.
    #[serde(default)]
    pub grid: Option<String>,
    /// The responsible unit's key.
    pub unit: String,
    #[serde(default)]
    pub address: String,
    pub by: String,
}

/// A reported problem and what happened to it since.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    pub key: String,
    /// The category's key.
    pub category: String,
    pub source: Source,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    /// The grid's key; found from the point when absent.
    #[serde(default)]
    pub grid: Option<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub site: Option<String>,
    #[serde(default)]
    pub campaign: Option<String>,
    /// Values of the category's extra fields.
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Sent with a photo of the problem (the loader's placeholder image).
    #[serde(default)]
    pub photo: bool,
    /// The reporter's key.
    pub by: String,
    pub at: Moment,
    /// Transitions, in order; a `submit` carries a placeholder photo as evidence.
    #[serde(default)]
    pub steps: Vec<ItemStep>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemStep {
    pub action: ItemAction,
    pub by: String,
    pub at: Moment,
    #[serde(default)]
    pub note: String,
    /// `assign`, `reassign`: the unit's key.
    #[serde(default)]
    pub unit: Option<String>,
    /// `request_extension`: the deadline asked for.
    #[serde(default)]
    pub new_due: Option<Moment>,
    /// `mark_duplicate`: the key of the item it repeats.
    #[serde(default)]
    pub duplicate_of: Option<String>,
}

/// A patrol an inspector walked (or is walking).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatrolSpec {
    pub key: String,
    /// The grid's key.
    pub grid: String,
    /// The inspector's key.
    pub by: String,
    pub at: Moment,
    #[serde(default)]
    pub note: String,
    /// Fixes as `[lon, lat, minutes after the start]` (WGS-84).
    #[serde(default)]
    pub track: Vec<(f64, f64, i64)>,
    /// Sites visited, as `[site key, minutes after the start]`.
    #[serde(default)]
    pub visits: Vec<(String, i64)>,
    /// Minutes after the start it ended; still going when absent.
    #[serde(default)]
    pub ended_after: Option<i64>,
}

/// A checklist; its items name their categories by key (`category`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistSpec {
    pub key: String,
    pub name: String,
    pub kind: String,
    pub items: Vec<serde_json::Value>,
    /// The office (or admin) that keeps it.
    pub by: String,
}

/// An inspection of a site against a checklist (its latest version).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionSpec {
    pub key: String,
    pub checklist: String,
    pub site: String,
    pub kind: crate::inspections::forms::InspectionKind,
    pub answers: BTreeMap<String, serde_json::Value>,
    pub by: String,
    pub at: Moment,
}

/// What a load of categories, sites, items and patrols found or made, by key.
#[derive(Debug, Default, Clone)]
pub struct LoadedRectification {
    pub categories: BTreeMap<String, CategoryId>,
    pub sites: BTreeMap<String, SiteId>,
    pub items: BTreeMap<String, RectificationId>,
    pub patrols: BTreeMap<String, PatrolId>,
    pub checklists: BTreeMap<String, crate::ids::ChecklistId>,
    pub inspections: BTreeMap<String, crate::ids::InspectionId>,
}

/// What a load of categories, sites, items and patrols created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CreatedRectification {
    pub categories: usize,
    pub sites: usize,
    pub items: usize,
    pub patrols: usize,
    pub inspections: usize,
}

/// The picture the loader attaches where a photo is called for: a 1×1 PNG.
const PLACEHOLDER_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A placeholder photo uploaded by `actor`, kept in `store`.
fn placeholder(
    conn: &mut DbConnection,
    store: Option<&Store>,
    actor: &crate::auth::Actor,
    name: &str,
    now: NaiveDateTime,
) -> AppResult<AttachmentId> {
    let store = store.ok_or_else(|| {
        crate::error::AppError::internal("the world's photos need an attachments folder")
    })?;
    let mut upload = store.begin()?;
    upload.write(PLACEHOLDER_PNG)?;
    let stored = store.keep(upload.finish()?)?;
    Ok(attachments::model::create(conn, actor.id, &stored, name, now)?.id)
}

/// Loads, in order, what the description has of rectification and field work: categories
/// (once by code), sites (once by name within their unit), items with their histories,
/// patrols, checklists and inspections (each once).
pub(super) fn load(
    conn: &mut DbConnection,
    spec: &super::Description,
    world: &mut super::Loaded,
    (now, store): (NaiveDateTime, Option<&Store>),
    progress: &mut dyn FnMut(&str),
) -> AppResult<()> {
    let (categories_spec, sites_spec, items_spec, patrols_spec) =
        (&spec.categories, &spec.sites, &spec.items, &spec.patrols);
    let field_spec = (&spec.checklists, &spec.inspections);
    let mut acting = Acting::new(&world.users);
    let units = &world.units;
    let campaigns = &world.work.campaigns;
    let loaded = &mut world.rectification;
    let created = &mut world.created.rectification;
    let result = (|| {
        for c in categories_spec {
            progress(&c.name);
            if let Some(existing) = categories::model::find_by_code(conn, &c.code)? {
                loaded.categories.insert(c.key().to_string(), existing.id);
                continue;
            }
            let actor = acting.as_user(conn, &c.by)?;
            let route_unit: Option<UnitId> = c
                .route_unit
                .as_deref()
                .map(|k| key(units, "unit", k))
                .transpose()?;
            let draft = NewCategory {
                code: c.code.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                default_severity: c.severity,
                deadline_hours: c.deadline_hours,
                routing: categories::rules::Routing {
                    unit_kind: c.route_kind,
                    unit_id: route_unit,
                },
                attributes: c.attributes.clone(),
            }
            .validate()?;
            let row = categories::model::create(conn, &actor, &draft, now)?;
            loaded.categories.insert(c.key().to_string(), row.id);
            created.categories += 1;
        }
        for s in sites_spec {
            progress(&s.name);
            let unit = key(units, "unit", &s.unit)?;
            if let Some(existing) = sites::model::find_by_name(conn, unit, &s.name)? {
                loaded.sites.insert(s.key.clone(), existing);
                continue;
            }
            let actor = acting.as_user(conn, &s.by)?;
            let draft = NewSite {
                kind: s.kind,
                name: s.name.clone(),
                lat: s.lat,
                lon: s.lon,
                coord_type: CoordType::Wgs84,
                grid_id: s
                    .grid
                    .as_deref()
                    .map(|k| key(units, "unit", k))
                    .transpose()?,
                unit_id: unit,
                address: s.address.clone(),
            }
            .validate()?;
            let row = sites::model::create(conn, &actor, &draft, now)?;
            loaded.sites.insert(s.key.clone(), row.id);
            created.sites += 1;
        }
        for item in items_spec {
            progress(&item.description);
            let reporter = acting.as_user(conn, &item.by)?;
            if let Some(existing) =
                rectifications::model::find_reported(conn, reporter.id, &item.description)?
            {
                loaded.items.insert(item.key.clone(), existing);
                continue;
            }
            let at = item.at.at(now);
            let photos = if item.photo {
                vec![placeholder(conn, store, &reporter, "现场照片.png", at)?]
            } else {
                Vec::new()
            };
            let campaign: Option<CampaignId> = item
                .campaign
                .as_deref()
                .map(|k| key(campaigns, "campaign", k))
                .transpose()?;
            let draft = NewItem {
                id: None,
                source: item.source,
                category_id: key(&loaded.categories, "category", &item.category)?,
                description: item.description.clone(),
                lat: item.lat,
                lon: item.lon,
                coord_type: CoordType::Wgs84,
                address: item.address.clone(),
                grid_id: item
                    .grid
                    .as_deref()
                    .map(|k| key(units, "unit", k))
                    .transpose()?,
                severity: None,
                due_at: None,
                attributes: item.attributes.clone(),
                attachment_ids: photos,
                campaign_id: campaign,
                site_id: item
                    .site
                    .as_deref()
                    .map(|k| key(&loaded.sites, "site", k))
                    .transpose()?,
                patrol_id: None,
            }
            .validate()?;
            let reporting = Reporting {
                now: at,
                duplicate_radius_m: 0.0,
            };
            let (mut row, _) = rectifications::model::create(conn, &reporter, &draft, reporting)?
                .numbered(conn, at)?;
            for step in &item.steps {
                let actor = acting.as_user(conn, &step.by)?;
                let at = step.at.at(now);
                let evidence = if step.action == ItemAction::Submit {
                    vec![placeholder(conn, store, &actor, "整改照片.png", at)?]
                } else {
                    Vec::new()
                };
                let input = ItemTransition {
                    action: step.action,
                    note: step.note.clone(),
                    unit_id: step
                        .unit
                        .as_deref()
                        .map(|k| key(units, "unit", k))
                        .transpose()?,
                    attachment_ids: evidence,
                    new_due_at: step.new_due.map(|m| m.at(now).and_utc()),
                    duplicate_of: step
                        .duplicate_of
                        .as_deref()
                        .map(|k| key(&loaded.items, "item", k))
                        .transpose()?,
                }
                .validate()?;
                let placed = rectifications::model::find(conn, row.id)?;
                row = rectifications::model::transition(conn, &actor, &placed, &input, at)?;
            }
            loaded.items.insert(item.key.clone(), row.id);
            created.items += 1;
        }
        for p in patrols_spec {
            progress(&p.key);
            let inspector = acting.as_user(conn, &p.by)?;
            let grid = key(units, "unit", &p.grid)?;
            let start = p.at.at(now);
            if let Some(existing) = patrols::model::find_noted(conn, inspector.id, &p.note)? {
                loaded.patrols.insert(p.key.clone(), existing);
                continue;
            }
            let draft = patrols::forms::NewPatrol {
                id: None,
                grid_id: grid,
                started_at: Some(start.and_utc()),
                campaign_id: None,
                note: p.note.clone(),
            }
            .validate()?;
            let mut row = patrols::model::start(conn, &inspector, &draft, start)?;
            let minutes = |m: i64| start + chrono::TimeDelta::minutes(m);
            let last = p
                .track
                .iter()
                .map(|f| f.2)
                .chain(p.visits.iter().map(|v| v.1))
                .chain(p.ended_after)
                .max()
                .unwrap_or(0);
            let points: Vec<patrols::forms::CheckedPoint> = p
                .track
                .iter()
                .map(|&(lon, lat, m)| patrols::forms::CheckedPoint {
                    t: minutes(m),
                    lat,
                    lon,
                    accuracy_m: Some(8.0),
                })
                .collect();
            if !points.is_empty() {
                row = patrols::model::append_track(conn, &inspector, &row, &points, minutes(last))?;
            }
            for (site, m) in &p.visits {
                let visit = patrols::forms::NewVisit {
                    id: None,
                    site_id: key(&loaded.sites, "site", site)?,
                    at: Some(minutes(*m).and_utc()),
                    note: String::new(),
                    attachment_ids: Vec::new(),
                }
                .validate()?;
                row = patrols::model::add_visit(conn, &inspector, &row, &visit, minutes(last))?.0;
            }
            if let Some(m) = p.ended_after {
                row = patrols::model::end(conn, &inspector, &row, Some(minutes(m)), minutes(last))?;
            }
            loaded.patrols.insert(p.key.clone(), row.id);
            created.patrols += 1;
        }
        let (checklists_spec, inspections_spec) = field_spec;
        for c in checklists_spec {
            progress(&c.name);
            if let Some(existing) = crate::checklists::model::find_by_name(conn, &c.name)? {
                loaded.checklists.insert(c.key.clone(), existing);
                continue;
            }
            let actor = acting.as_user(conn, &c.by)?;
            let mut items = Vec::new();
            for item in &c.items {
                let mut item = item.clone();
                if let Some(object) = item.as_object_mut() {
                    if let Some(category) = object.remove("category") {
                        let key_text = category.as_str().unwrap_or_default().to_string();
                        let id = key(&loaded.categories, "category", &key_text)?;
                        object.insert("category_id".into(), serde_json::json!(id));
                    }
                }
                items.push(serde_json::from_value(item).map_err(|e| {
                    crate::error::AppError::internal(format!("checklist {}: {e}", c.key))
                })?);
            }
            let draft = crate::checklists::forms::NewChecklist {
                name: c.name.clone(),
                kind: c.kind.clone(),
                items,
            }
            .validate()?;
            let row = crate::checklists::model::create(conn, &actor, &draft, now)?;
            loaded.checklists.insert(c.key.clone(), row.id);
        }
        for i in inspections_spec {
            progress(&i.key);
            let actor = acting.as_user(conn, &i.by)?;
            let checklist = key(&loaded.checklists, "checklist", &i.checklist)?;
            let site = key(&loaded.sites, "site", &i.site)?;
            if let Some(existing) =
                crate::inspections::model::find_done(conn, actor.id, checklist, site)?
            {
                loaded.inspections.insert(i.key.clone(), existing);
                continue;
            }
            let input = crate::inspections::forms::NewInspection {
                id: None,
                checklist_id: checklist,
                checklist_version: None,
                site_id: site,
                kind: i.kind,
                answers: i.answers.clone(),
                attachment_ids: Vec::new(),
                patrol_id: None,
                campaign_id: None,
            }
            .validate()?;
            let at = Reporting {
                now: i.at.at(now),
                duplicate_radius_m: 0.0,
            };
            let row = crate::inspections::model::create(conn, &actor, &input, at)?;
            loaded.inspections.insert(i.key.clone(), row.id);
            created.inspections += 1;
        }
        Ok(())
    })();
    acting.end(conn)?;
    result
}
