//! Grid boundaries: GeoJSON Polygon / MultiPolygon, validated strictly (numeric lon/lat
//! in range, rings of at least four positions, closed, a bounded number of vertices, and a
//! valid shape by geo's OGC rules: no self-intersection, holes inside their shell), point-in-
//! grid tests, and the area two grids overlap.

use geo::{
    Area, BooleanOps, Coord, GeodesicArea, Intersects, LineString, MultiPolygon, Point, Polygon,
    Validation,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum GeometryType {
    Polygon,
    MultiPolygon,
}

/// A GeoJSON geometry (RFC 7946) of type Polygon or MultiPolygon, positions as
/// `[longitude, latitude]` in WGS 84.
// Stored as its JSON text; read back as a `StoredGeometry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Geometry {
    #[serde(rename = "type")]
    pub kind: GeometryType,
    /// Polygon: an array of linear rings (the first is the outer boundary, the others
    /// holes); MultiPolygon: an array of those. A ring is an array of at least four
    /// `[lon, lat]` positions whose first and last are equal.
    #[schema(value_type = Vec<serde_json::Value>, min_items = 1)]
    pub coordinates: serde_json::Value,
}

impl Geometry {
    /// The JSON text stored in the database.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A stored boundary as its JSON text, passed through to responses without being parsed
/// into a tree and serialised again (a grid may have thousands of vertices, and every unit
/// list carries them). Parsed only where the shape is needed ([`StoredGeometry::parse`]).
#[derive(Debug, Clone, diesel::FromSqlRow)]
pub struct StoredGeometry(pub Box<serde_json::value::RawValue>);

impl StoredGeometry {
    pub fn parse(&self) -> Result<Geometry, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl PartialEq for StoredGeometry {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Serialize for StoredGeometry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for StoredGeometry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<serde_json::value::RawValue>::deserialize(d).map(StoredGeometry)
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for StoredGeometry
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let text =
            <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
        Ok(StoredGeometry(serde_json::value::RawValue::from_string(
            text,
        )?))
    }
}

/// A validated boundary, ready for containment tests.
#[derive(Debug, Clone)]
pub struct Boundary {
    pub shape: MultiPolygon<f64>,
    /// Bounding box: (min_lon, min_lat, max_lon, max_lat), stored to pre-filter lookups.
    pub bbox: (f64, f64, f64, f64),
}

impl Boundary {
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        // Intersects counts the edge as inside: a point on a shared edge belongs to a grid
        // (the lookup breaks the tie by code) rather than to none.
        self.shape.intersects(&Point::new(lon, lat))
    }
}

/// How many vertices a boundary may have unless configured (`MAX_BOUNDARY_VERTICES`).
pub const DEFAULT_MAX_VERTICES: usize = 10_000;

/// Validates `geometry` (at most `max_vertices` positions); errors are reported at `field`
/// (e.g. `boundary.coordinates[0][1]`).
pub fn parse(
    geometry: &Geometry,
    field: &str,
    max_vertices: usize,
) -> Result<Boundary, Vec<FieldError>> {
    let mut errors = Vec::new();
    let at = format!("{field}.coordinates");
    let vertices = count_positions(&geometry.coordinates);
    if vertices > max_vertices {
        return Err(vec![FieldError::new(
            &at,
            format!("has {vertices} positions; a boundary may have at most {max_vertices}"),
        )]);
    }
    let polygons = match geometry.kind {
        GeometryType::Polygon => polygon(&geometry.coordinates, &at, &mut errors)
            .into_iter()
            .collect(),
        GeometryType::MultiPolygon => match geometry.coordinates.as_array() {
            Some(items) if !items.is_empty() => items
                .iter()
                .enumerate()
                .filter_map(|(i, p)| polygon(p, &format!("{at}[{i}]"), &mut errors))
                .collect(),
            _ => {
                errors.push(FieldError::new(
                    &at,
                    "must be a non-empty array of polygons",
                ));
                Vec::new()
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let shape = MultiPolygon(polygons);
    let invalid: Vec<FieldError> = match geometry.kind {
        GeometryType::Polygon => shape
            .0
            .iter()
            .flat_map(|p| p.validation_errors())
            .map(|e| FieldError::new(&at, format!("is not a valid polygon: {e}")))
            .collect(),
        GeometryType::MultiPolygon => shape
            .validation_errors()
            .into_iter()
            .map(|e| FieldError::new(&at, format!("is not a valid multipolygon: {e}")))
            .collect(),
    };
    if !invalid.is_empty() {
        return Err(invalid);
    }
    if shape.unsigned_area() <= 0.0 {
        return Err(vec![FieldError::new(&at, "encloses no area")]);
    }
    let mut bbox = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for poly in &shape.0 {
        for c in poly.exterior().coords() {
            bbox = (
                bbox.0.min(c.x),
                bbox.1.min(c.y),
                bbox.2.max(c.x),
                bbox.3.max(c.y),
            );
        }
    }
    Ok(Boundary { shape, bbox })
}

/// Positions anywhere in a coordinates array (counted before anything else is parsed, so a
/// huge one costs nothing more).
fn count_positions(value: &serde_json::Value) -> usize {
    match value.as_array() {
        Some(items) if items.first().is_some_and(serde_json::Value::is_number) => 1,
        Some(items) => items.iter().map(count_positions).sum(),
        None => 0,
    }
}

/// The area, in square metres on the WGS-84 ellipsoid, that two boundaries share.
pub fn overlap_m2(a: &Boundary, b: &Boundary) -> f64 {
    let disjoint =
        a.bbox.2 < b.bbox.0 || b.bbox.2 < a.bbox.0 || a.bbox.3 < b.bbox.1 || b.bbox.3 < a.bbox.1;
    if disjoint {
        return 0.0;
    }
    a.shape.intersection(&b.shape).geodesic_area_unsigned()
}

fn polygon(
    value: &serde_json::Value,
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Polygon<f64>> {
    let Some(rings) = value.as_array().filter(|r| !r.is_empty()) else {
        errors.push(FieldError::new(
            at,
            "must be a non-empty array of linear rings",
        ));
        return None;
    };
    let before = errors.len();
    let mut parsed: Vec<LineString<f64>> = rings
        .iter()
        .enumerate()
        .filter_map(|(i, ring)| linear_ring(ring, &format!("{at}[{i}]"), errors))
        .collect();
    if errors.len() > before {
        return None;
    }
    let exterior = parsed.remove(0);
    Some(Polygon::new(exterior, parsed))
}

fn linear_ring(
    value: &serde_json::Value,
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Option<LineString<f64>> {
    let Some(positions) = value.as_array() else {
        errors.push(FieldError::new(at, "must be an array of positions"));
        return None;
    };
    if positions.len() < 4 {
        errors.push(FieldError::new(
            at,
            "a linear ring needs at least 4 positions",
        ));
        return None;
    }
    let mut coords = Vec::with_capacity(positions.len());
    for (i, p) in positions.iter().enumerate() {
        match position(p) {
            Ok(c) => coords.push(c),
            Err(message) => {
                errors.push(FieldError::new(format!("{at}[{i}]"), message));
                return None;
            }
        }
    }
    if coords.first() != coords.last() {
        errors.push(FieldError::new(
            at,
            "a linear ring must be closed (first position equal to the last)",
        ));
        return None;
    }
    Some(LineString::new(coords))
}

fn position(value: &serde_json::Value) -> Result<Coord<f64>, String> {
    let items = value
        .as_array()
        .ok_or("must be a [longitude, latitude] array")?;
    if !(2..=3).contains(&items.len()) {
        return Err("must have 2 (or 3, with altitude) numbers".into());
    }
    let number = |v: &serde_json::Value| v.as_f64().filter(|n| n.is_finite());
    let (Some(lon), Some(lat)) = (number(&items[0]), number(&items[1])) else {
        return Err("longitude and latitude must be numbers".into());
    };
    if items.len() == 3 && number(&items[2]).is_none() {
        return Err("altitude must be a number".into());
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err("longitude must be between -180 and 180".into());
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err("latitude must be between -90 and 90".into());
    }
    Ok(Coord { x: lon, y: lat })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square(x: f64, y: f64, size: f64) -> serde_json::Value {
        json!([[
            [x, y],
            [x + size, y],
            [x + size, y + size],
            [x, y + size],
            [x, y]
        ]])
    }

    fn geometry(kind: GeometryType, coordinates: serde_json::Value) -> Geometry {
        Geometry { kind, coordinates }
    }

    #[test]
    fn polygon_contains_inside_and_edge_not_outside() {
        let b = check(GeometryType::Polygon, square(115.5, 35.2, 0.01)).unwrap();
        assert!(b.contains(115.505, 35.205));
        assert!(b.contains(115.5, 35.205), "edge counts as inside");
        assert!(!b.contains(115.52, 35.205));
        assert_eq!(b.bbox, (115.5, 35.2, 115.51, 35.21));
    }

    #[test]
    fn holes_are_outside() {
        let mut rings = square(0.0, 0.0, 10.0);
        let hole = square(4.0, 4.0, 2.0)[0].clone();
        rings.as_array_mut().unwrap().push(hole);
        let b = check(GeometryType::Polygon, rings).unwrap();
        assert!(b.contains(1.0, 1.0));
        assert!(!b.contains(5.0, 5.0));
    }

    #[test]
    fn multipolygon_contains_each_part() {
        let coords = json!([square(0.0, 0.0, 1.0), square(5.0, 5.0, 1.0)]);
        let b = check(GeometryType::MultiPolygon, coords).unwrap();
        assert!(b.contains(0.5, 0.5) && b.contains(5.5, 5.5));
        assert!(!b.contains(3.0, 3.0));
    }

    fn check(kind: GeometryType, coords: serde_json::Value) -> Result<Boundary, Vec<FieldError>> {
        parse(&geometry(kind, coords), "boundary", DEFAULT_MAX_VERTICES)
    }

    fn first_error(kind: GeometryType, coords: serde_json::Value) -> FieldError {
        check(kind, coords).unwrap_err().remove(0)
    }

    #[test]
    fn invalid_shapes_are_refused() {
        let bow_tie = json!([[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]);
        let e = first_error(GeometryType::Polygon, bow_tie);
        assert_eq!(e.field, "boundary.coordinates");
        assert!(e.message.contains("self-intersection"), "{}", e.message);
        let flat = json!([[[0, 0], [1, 0], [2, 0], [0, 0]]]);
        assert!(check(GeometryType::Polygon, flat).is_err(), "zero area");
        let mut hole_outside = square(0.0, 0.0, 1.0);
        hole_outside
            .as_array_mut()
            .unwrap()
            .push(square(5.0, 5.0, 1.0)[0].clone());
        let e = first_error(GeometryType::Polygon, hole_outside);
        assert!(e.message.contains("exterior"), "{}", e.message);
        let overlapping = json!([square(0.0, 0.0, 2.0), square(1.0, 1.0, 2.0)]);
        assert!(check(GeometryType::MultiPolygon, overlapping).is_err());
    }

    #[test]
    fn vertices_are_capped_whatever_the_body_size() {
        let mut ring: Vec<serde_json::Value> = (0..20)
            .map(|i| {
                let angle = f64::from(i) * std::f64::consts::TAU / 20.0;
                json!([angle.cos(), angle.sin()])
            })
            .collect();
        ring.push(ring[0].clone());
        let circle = json!([ring]);
        assert!(parse(
            &geometry(GeometryType::Polygon, circle.clone()),
            "boundary",
            21
        )
        .is_ok());
        let e = parse(&geometry(GeometryType::Polygon, circle), "boundary", 20).unwrap_err();
        assert!(e[0].message.contains("at most 20"), "{}", e[0].message);
    }

    #[test]
    fn overlaps_are_measured_in_square_metres() {
        // Two 0.01° squares in Heze (about 1 km across) sharing a quarter, and a neighbour
        // sharing only an edge.
        let a = check(GeometryType::Polygon, square(115.50, 35.20, 0.01)).unwrap();
        let quarter = check(GeometryType::Polygon, square(115.505, 35.205, 0.01)).unwrap();
        let neighbour = check(GeometryType::Polygon, square(115.51, 35.20, 0.01)).unwrap();
        let shared = overlap_m2(&a, &quarter);
        let whole = a.shape.geodesic_area_unsigned();
        assert!((shared / whole - 0.25).abs() < 0.01, "{shared} of {whole}");
        assert!(overlap_m2(&a, &neighbour) < 1.0);
    }

    #[test]
    fn rejects_bad_rings_naming_the_place() {
        let open = json!([[[0, 0], [1, 0], [1, 1], [0, 1]]]);
        assert_eq!(
            first_error(GeometryType::Polygon, open).field,
            "boundary.coordinates[0]"
        );
        let short = json!([[[0, 0], [1, 0], [0, 0]]]);
        assert!(first_error(GeometryType::Polygon, short)
            .message
            .contains("at least 4"));
        let text = json!([[[0, 0], ["1", 0], [1, 1], [0, 0]]]);
        assert_eq!(
            first_error(GeometryType::Polygon, text).field,
            "boundary.coordinates[0][1]"
        );
        let range = json!([[[0, 0], [181, 0], [1, 1], [0, 0]]]);
        assert!(first_error(GeometryType::Polygon, range)
            .message
            .contains("longitude"));
        let lat = json!([[[0, 0], [1, 91], [1, 1], [0, 0]]]);
        assert!(first_error(GeometryType::Polygon, lat)
            .message
            .contains("latitude"));
        assert_eq!(
            first_error(GeometryType::Polygon, json!([])).field,
            "boundary.coordinates"
        );
        assert_eq!(
            first_error(GeometryType::MultiPolygon, json!([[]])).field,
            "boundary.coordinates[0]"
        );
        assert_eq!(
            first_error(GeometryType::MultiPolygon, json!({})).field,
            "boundary.coordinates"
        );
    }
}
