//! What offices send about sites, and the only place it is checked.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::coords::{Bbox, CoordType};
use crate::error::{AppError, AppResult};
use crate::http::extract::not_null;
use crate::ids::UnitId;
use crate::sites::rules::{SiteKind, MAX_ADDRESS_CHARS, MAX_NAME_CHARS};
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "sluice_gate",
    "name": "七里河节制闸",
    "lat": 35.2152,
    "lon": 115.5043,
    "unit_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "address": "马岭岗镇七里河与国道交汇处"
}))]
pub struct NewSite {
    #[schema(value_type = SiteKind)]
    pub kind: SiteKind,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// The datum of `lat`/`lon` (default `wgs84`); stored as WGS-84.
    #[serde(default)]
    pub coord_type: CoordType,
    /// The grid it lies in. Found from the point when absent; a point outside every grid
    /// the caller sees then needs it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub grid_id: Option<UnitId>,
    /// The responsible unit (a town, or the department that runs a sluice gate).
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address: String,
}

/// A checked site (new, or the result of a change), its point in WGS-84.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteDraft {
    pub kind: SiteKind,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// Named by the caller, or `None`: found from the point.
    pub grid_id: Option<UnitId>,
    pub unit_id: UnitId,
    pub address: String,
}

fn check(c: &mut Checks, d: &SiteDraft) {
    c.text("name", &d.name, MAX_NAME_CHARS);
    c.long_text("address", &d.address, MAX_ADDRESS_CHARS);
}

impl NewSite {
    pub fn validate(self) -> AppResult<SiteDraft> {
        let mut c = Checks::new();
        let (lon, lat) = c.point(self.lon, self.lat, self.coord_type);
        let draft = SiteDraft {
            kind: self.kind,
            name: self.name,
            lat,
            lon,
            grid_id: self.grid_id,
            unit_id: self.unit_id,
            address: self.address,
        };
        check(&mut c, &draft);
        c.finish()?;
        Ok(draft)
    }
}

/// Changes to a site. Absent fields stay as they are. A new point (`lat` and `lon`
/// together) finds its grid again unless `grid_id` is given.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "七里河节制闸（北闸）", "address": "马岭岗镇七里河北段"}))]
pub struct SiteUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, value_type = Option<SiteKind>)]
    pub kind: Option<SiteKind>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub coord_type: Option<CoordType>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, value_type = Option<String>, format = Uuid)]
    pub grid_id: Option<UnitId>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 200)]
    pub address: Option<String>,
}

impl SiteUpdate {
    /// The site as it will be after the change, checked whole. `grid_id` is `None` when
    /// the grid must be found again from a new point.
    pub fn apply(self, current: SiteDraft) -> AppResult<SiteDraft> {
        let mut c = Checks::new();
        let (lon, lat, moved) = match (self.lon, self.lat) {
            (Some(lon), Some(lat)) => {
                let (lon, lat) = c.point(lon, lat, self.coord_type.unwrap_or_default());
                (lon, lat, true)
            }
            (None, None) => {
                if self.coord_type.is_some() {
                    c.fail("coord_type", "only with a new `lat` and `lon`");
                }
                (current.lon, current.lat, false)
            }
            (None, Some(_)) => {
                c.fail("lon", "a new point needs `lat` and `lon` together");
                (current.lon, current.lat, false)
            }
            (Some(_), None) => {
                c.fail("lat", "a new point needs `lat` and `lon` together");
                (current.lon, current.lat, false)
            }
        };
        let grid_id = match self.grid_id {
            Some(grid) => Some(grid),
            None if moved => None,
            None => current.grid_id,
        };
        let draft = SiteDraft {
            kind: self.kind.unwrap_or(current.kind),
            name: self.name.unwrap_or(current.name),
            lat,
            lon,
            grid_id,
            unit_id: self.unit_id.unwrap_or(current.unit_id),
            address: self.address.unwrap_or(current.address),
        };
        check(&mut c, &draft);
        c.finish()?;
        Ok(draft)
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteQuery {
    #[param(inline)]
    pub kind: Option<SiteKind>,
    /// Sites of this grid.
    #[param(value_type = Option<String>, format = Uuid)]
    pub grid_id: Option<UnitId>,
    /// Sites this unit, or a unit below it, is responsible for.
    #[param(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<UnitId>,
    /// `minLon,minLat,maxLon,maxLat` (WGS-84): sites inside the box.
    #[param(example = "115.45,35.19,115.55,35.27")]
    pub bbox: Option<String>,
    /// Text in the name or the address (Chinese works).
    #[param(max_length = 100)]
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SiteFilter {
    pub kind: Option<SiteKind>,
    pub grid_id: Option<UnitId>,
    pub unit_id: Option<UnitId>,
    pub bbox: Option<Bbox>,
    pub q: Option<String>,
}

impl SiteQuery {
    pub fn validate(self) -> AppResult<SiteFilter> {
        let bbox = match self.bbox {
            Some(text) => Some(Bbox::parse(&text).map_err(|m| AppError::bad_parameter("bbox", m))?),
            None => None,
        };
        Ok(SiteFilter {
            kind: self.kind,
            grid_id: self.grid_id,
            unit_id: self.unit_id,
            bbox,
            q: validate::search_text(self.q)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> SiteDraft {
        SiteDraft {
            kind: SiteKind::PosterBoard,
            name: "国道公益广告牌".into(),
            lat: 35.215,
            lon: 115.505,
            grid_id: Some(UnitId::new()),
            unit_id: UnitId::new(),
            address: String::new(),
        }
    }

    #[test]
    fn a_new_point_finds_its_grid_again() {
        let now = current();
        let moved = SiteUpdate {
            lat: Some(35.25),
            lon: Some(115.48),
            ..SiteUpdate::default()
        }
        .apply(now.clone())
        .expect("valid");
        assert_eq!(moved.grid_id, None);
        assert_eq!((moved.lon, moved.lat), (115.48, 35.25));
        let renamed = SiteUpdate {
            name: Some("新名".into()),
            ..SiteUpdate::default()
        }
        .apply(now.clone())
        .expect("valid");
        assert_eq!(renamed.grid_id, now.grid_id);
    }

    #[test]
    fn half_a_point_is_refused() {
        let err = SiteUpdate {
            lat: Some(35.25),
            ..SiteUpdate::default()
        }
        .apply(current())
        .unwrap_err();
        assert!(format!("{err:?}").contains("lon"), "{err:?}");
    }

    #[test]
    fn gcj02_points_are_stored_as_wgs84() {
        let site = NewSite {
            kind: SiteKind::SluiceGate,
            name: "七里河节制闸".into(),
            lat: 35.2152,
            lon: 115.5043,
            coord_type: CoordType::Gcj02,
            grid_id: None,
            unit_id: UnitId::new(),
            address: String::new(),
        }
        .validate()
        .expect("valid");
        let (lon, lat) = crate::coords::gcj02_to_wgs84(115.5043, 35.2152);
        assert_eq!((site.lon, site.lat), (lon, lat));
        assert!(
            (site.lon - 115.5043).abs() > 1e-4,
            "the datum was converted"
        );
    }
}
