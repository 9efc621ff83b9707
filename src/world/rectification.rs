//! The rectification part of a world: categories of problem and sites, loaded through the
//! same model functions the API uses, as the users the description names.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::categories::forms::NewCategory;
use crate::categories::rules::{AttributeSpec, Severity};
use crate::coords::CoordType;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ids::{CategoryId, SiteId, UnitId};
use crate::sites::forms::NewSite;
use crate::sites::rules::SiteKind;
use crate::units::UnitKind;
use crate::world::work::{key, Acting};
use crate::{categories, sites};

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

/// What a load of categories and sites found or made, by key.
#[derive(Debug, Default, Clone)]
pub struct LoadedRectification {
    pub categories: BTreeMap<String, CategoryId>,
    pub sites: BTreeMap<String, SiteId>,
}

/// What a load of categories and sites created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CreatedRectification {
    pub categories: usize,
    pub sites: usize,
}

/// Loads categories (once by code) and sites (once by name within their unit).
pub(super) fn load(
    conn: &mut DbConnection,
    (categories_spec, sites_spec): (&[CategorySpec], &[SiteSpec]),
    world: &mut super::Loaded,
    now: NaiveDateTime,
    progress: &mut dyn FnMut(&str),
) -> AppResult<()> {
    let mut acting = Acting::new(&world.users);
    let units = &world.units;
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
        Ok(())
    })();
    acting.end(conn)?;
    result
}
