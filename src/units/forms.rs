//! What clients send about units, and the only place it is checked. A checked form is a
//! different type from the raw one, so a model function cannot receive unchecked input.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::coords::{to_wgs84, CoordType};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{not_null, nullable};
use crate::ids::{UnitId, UserId};
use crate::units::geometry::{self, Geometry};
use crate::units::rules::{self, UnitKind, MAX_NAME_CHARS};
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "HZGX-LLZ-ZZ-G03", "name": "寨庄行政村第三网格", "kind": "grid", "parent_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "boundary": {"type": "Polygon", "coordinates": [[[115.48, 35.25], [115.49, 35.25], [115.49, 35.26], [115.48, 35.26], [115.48, 35.25]]]}}))]
pub struct NewUnit {
    /// Short unique code, e.g. `HZGX-LLZ`.
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", example = "HZGX-LLZ")]
    pub code: String,
    #[schema(min_length = 1, max_length = 100, example = "吕陵镇")]
    pub name: String,
    pub kind: UnitKind,
    /// Required for every kind but `district`.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<UnitId>,
    /// Grids only.
    pub boundary: Option<Geometry>,
    /// Grids only: the grid leader's user id.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub leader_id: Option<UserId>,
}

/// A boundary that passed validation: the GeoJSON to store, and its shape (for overlap
/// checks) with its bounding box `(min_lon, min_lat, max_lon, max_lat)` (stored, to
/// pre-filter point lookups).
#[derive(Debug, Clone)]
pub struct CheckedBoundary {
    pub geometry: Geometry,
    pub shape: geometry::Boundary,
}

impl CheckedBoundary {
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        self.shape.bbox
    }
}

/// A new unit, checked.
#[derive(Debug, Clone)]
pub struct UnitDraft {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    pub boundary: Option<CheckedBoundary>,
    pub leader_id: Option<UserId>,
}

fn check_boundary(
    c: &mut Checks,
    geometry: &Geometry,
    max_vertices: usize,
) -> Option<CheckedBoundary> {
    match geometry::parse(geometry, "boundary", max_vertices) {
        Ok(parsed) => Some(CheckedBoundary {
            geometry: geometry.clone(),
            shape: parsed,
        }),
        Err(errors) => {
            for FieldError { field, message } in errors {
                c.fail(field, message);
            }
            None
        }
    }
}

/// Boundaries and leaders belong to grids.
pub fn grid_only_fields(c: &mut Checks, kind: UnitKind, boundary: bool, leader: bool) {
    if kind != UnitKind::Grid {
        if boundary {
            c.fail("boundary", "only a grid has a boundary");
        }
        if leader {
            c.fail("leader_id", "only a grid has a leader");
        }
    }
}

impl NewUnit {
    /// Checked, with a boundary of at most `max_vertices` positions.
    pub fn validate(self, max_vertices: usize) -> AppResult<UnitDraft> {
        let mut c = Checks::new();
        c.check("code", rules::check_code(&self.code));
        c.text("name", &self.name, MAX_NAME_CHARS);
        grid_only_fields(
            &mut c,
            self.kind,
            self.boundary.is_some(),
            self.leader_id.is_some(),
        );
        let boundary = match (&self.boundary, self.kind) {
            (Some(g), UnitKind::Grid) => check_boundary(&mut c, g, max_vertices),
            _ => None,
        };
        c.finish()?;
        Ok(UnitDraft {
            code: self.code,
            name: self.name,
            kind: self.kind,
            parent_id: self.parent_id,
            boundary,
            leader_id: self.leader_id,
        })
    }
}

/// Changes to a unit; absent fields stay, `null` clears a nullable field. The kind of a
/// unit cannot change (create a new unit instead).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "寨庄行政村第三网格（调整）"}))]
pub struct UnitUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Moves the unit (with its subtree) under another parent.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<Option<UnitId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub boundary: Option<Option<Geometry>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub leader_id: Option<Option<UserId>>,
}

/// A change to a unit, checked as far as it can be without knowing the unit (what only a
/// grid may carry is checked against the stored kind, [`UnitChange::check_for`]).
#[derive(Debug, Clone, Default)]
pub struct UnitChange {
    pub code: Option<String>,
    pub name: Option<String>,
    pub parent_id: Option<Option<UnitId>>,
    pub boundary: Option<Option<CheckedBoundary>>,
    pub leader_id: Option<Option<UserId>>,
}

impl UnitUpdate {
    /// Checked, with a boundary of at most `max_vertices` positions.
    pub fn validate(self, max_vertices: usize) -> AppResult<UnitChange> {
        let mut c = Checks::new();
        if let Some(code) = &self.code {
            c.check("code", rules::check_code(code));
        }
        if let Some(name) = &self.name {
            c.text("name", name, MAX_NAME_CHARS);
        }
        let boundary = match &self.boundary {
            Some(Some(g)) => Some(check_boundary(&mut c, g, max_vertices)),
            Some(None) => Some(None),
            None => None,
        };
        c.finish()?;
        Ok(UnitChange {
            code: self.code,
            name: self.name,
            parent_id: self.parent_id,
            boundary,
            leader_id: self.leader_id,
        })
    }
}

impl UnitChange {
    /// Setting a boundary or a leader is for grids only.
    pub fn check_for(&self, kind: UnitKind) -> AppResult<()> {
        let mut c = Checks::new();
        grid_only_fields(
            &mut c,
            kind,
            matches!(self.boundary, Some(Some(_))),
            matches!(self.leader_id, Some(Some(_))),
        );
        c.finish()
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum UnitSort {
    #[default]
    #[serde(rename = "code")]
    Code,
    #[serde(rename = "-code")]
    CodeDesc,
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// Direct children of this unit.
    #[param(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<UnitId>,
    pub kind: Option<UnitKind>,
    /// Substring of the name or code (Chinese works: `马岭岗`).
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<UnitSort>,
    /// `boundary`: include grids' boundaries, which a list leaves out by default (they are
    /// most of a list's weight; `GET /units/{id}` and the sync feed always carry them).
    #[param(inline)]
    pub include: Option<UnitInclude>,
}

/// What a unit list may add to its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitInclude {
    Boundary,
}

/// A checked unit list filter.
#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    pub parent_id: Option<UnitId>,
    pub kind: Option<UnitKind>,
    pub q: Option<String>,
    pub sort: UnitSort,
    /// Items carry their boundaries.
    pub boundaries: bool,
}

impl UnitQuery {
    pub fn validate(self) -> AppResult<UnitFilter> {
        Ok(UnitFilter {
            parent_id: self.parent_id,
            kind: self.kind,
            q: validate::search_text(self.q)?,
            sort: self.sort.unwrap_or_default(),
            boundaries: self.include == Some(UnitInclude::Boundary),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocateQuery {
    /// Latitude (WGS 84).
    #[param(minimum = -90, maximum = 90, example = 35.255)]
    pub lat: f64,
    /// Longitude (WGS 84).
    #[param(minimum = -180, maximum = 180, example = 115.485)]
    pub lon: f64,
    /// The datum of `lat`/`lon`: `wgs84` (GPS, the default), `gcj02` (Gaode, Tencent) or
    /// `bd09` (Baidu). The point is converted to WGS 84.
    #[param(inline)]
    pub coord_type: Option<CoordType>,
}

/// A point to look up, checked: `(lon, lat)` in range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lon: f64,
    pub lat: f64,
}

impl LocateQuery {
    pub fn validate(self) -> AppResult<Point> {
        if !(-90.0..=90.0).contains(&self.lat) {
            return Err(AppError::bad_parameter(
                "lat",
                "must be a number between -90 and 90",
            ));
        }
        if !(-180.0..=180.0).contains(&self.lon) {
            return Err(AppError::bad_parameter(
                "lon",
                "must be a number between -180 and 180",
            ));
        }
        let (lon, lat) = to_wgs84(self.coord_type.unwrap_or_default(), self.lon, self.lat);
        Ok(Point { lon, lat })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_grids_carry_boundaries_and_leaders() {
        let input = NewUnit {
            code: "T1".into(),
            name: "吕陵镇".into(),
            kind: UnitKind::Town,
            parent_id: None,
            boundary: Some(Geometry {
                kind: geometry::GeometryType::Polygon,
                coordinates: serde_json::json!([]),
            }),
            leader_id: Some(UserId::new()),
        };
        let fields: Vec<_> = input
            .validate(geometry::DEFAULT_MAX_VERTICES)
            .unwrap_err()
            .problem()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["boundary", "leader_id"]);
    }

    #[test]
    fn a_change_is_checked_against_the_stored_kind() {
        let change = UnitUpdate {
            leader_id: Some(Some(UserId::new())),
            ..UnitUpdate::default()
        }
        .validate(geometry::DEFAULT_MAX_VERTICES)
        .unwrap();
        assert!(change.check_for(UnitKind::Grid).is_ok());
        assert_eq!(
            change
                .check_for(UnitKind::Town)
                .unwrap_err()
                .problem()
                .errors[0]
                .field,
            "leader_id"
        );
        let clear = UnitUpdate {
            leader_id: Some(None),
            ..UnitUpdate::default()
        }
        .validate(geometry::DEFAULT_MAX_VERTICES)
        .unwrap();
        assert!(clear.check_for(UnitKind::Town).is_ok());
    }
}
