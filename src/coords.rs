//! Coordinates as Chinese map SDKs give them. Phones report WGS-84 from GPS, but Gaode
//! (AMap) and Tencent maps shift points to GCJ-02, and Baidu maps further to BD-09; a point
//! picked on such a map lands a few hundred metres off if it is taken as WGS-84. Every
//! input that takes a point accepts `coord_type` and converts with [`to_wgs84`]; the
//! database holds WGS-84 only.
//!
//! The GCJ-02 shift is a published-by-use algorithm on the Krasovsky ellipsoid; it applies
//! inside China only (outside, GCJ-02 equals WGS-84). Its inverse has no closed form: it is
//! found by iterating the forward shift, to well under a centimetre.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The datum a point is given in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CoordType {
    /// GPS, and the default.
    #[default]
    Wgs84,
    /// Gaode (AMap), Tencent and other Chinese maps.
    Gcj02,
    /// Baidu maps.
    Bd09,
}

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// Whether the GCJ-02 shift applies: a rough box around China, as the SDKs use.
fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn shift_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn shift_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 → GCJ-02.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let d_lat = shift_lat(lon - 105.0, lat - 35.0);
    let d_lon = shift_lon(lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (A / sqrt_magic * rad.cos() * PI);
    (lon + d_lon, lat + d_lat)
}

/// GCJ-02 → WGS-84, by iterating the forward shift until it lands on the given point.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let (mut w_lon, mut w_lat) = (lon, lat);
    for _ in 0..10 {
        let (g_lon, g_lat) = wgs84_to_gcj02(w_lon, w_lat);
        let (e_lon, e_lat) = (g_lon - lon, g_lat - lat);
        w_lon -= e_lon;
        w_lat -= e_lat;
        if e_lon.abs() < 1e-10 && e_lat.abs() < 1e-10 {
            break;
        }
    }
    (w_lon, w_lat)
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02: the usual closed-form inverse (good to about a metre), refined by
/// iterating the forward conversion.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    let (mut g_lon, mut g_lat) = (z * theta.cos(), z * theta.sin());
    for _ in 0..5 {
        let (b_lon, b_lat) = gcj02_to_bd09(g_lon, g_lat);
        g_lon -= b_lon - lon;
        g_lat -= b_lat - lat;
    }
    (g_lon, g_lat)
}

/// A point given in `from`, as WGS-84 `(lon, lat)`.
pub fn to_wgs84(from: CoordType, lon: f64, lat: f64) -> (f64, f64) {
    match from {
        CoordType::Wgs84 => (lon, lat),
        CoordType::Gcj02 => gcj02_to_wgs84(lon, lat),
        CoordType::Bd09 => {
            let (g_lon, g_lat) = bd09_to_gcj02(lon, lat);
            gcj02_to_wgs84(g_lon, g_lat)
        }
    }
}

/// Distance in metres between two WGS-84 points (haversine; plenty for metres apart).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    use geo::{Distance, Haversine, Point};
    Haversine.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
}

/// A box on the map, as lists take it: `bbox=minLon,minLat,maxLon,maxLat` (WGS-84).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl Bbox {
    /// Four finite numbers in range, minimums not above maximums.
    pub fn parse(text: &str) -> Result<Bbox, String> {
        const RULE: &str =
            "must be minLon,minLat,maxLon,maxLat: four numbers, in range, minimums first";
        let numbers: Vec<f64> = text
            .split(',')
            .map(|n| n.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| RULE.to_string())?;
        let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
            return Err(RULE.into());
        };
        let lon_ok = |v: f64| (-180.0..=180.0).contains(&v);
        let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
        if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat))
            || min_lon > max_lon
            || min_lat > max_lat
        {
            return Err(RULE.into());
        }
        Ok(Bbox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }
}

/// A point's coordinates in range (NaN and infinities are not).
pub fn check_point(lon: f64, lat: f64) -> Vec<(&'static str, &'static str)> {
    let mut problems = Vec::new();
    if !(-180.0..=180.0).contains(&lon) {
        problems.push(("lon", "must be a number between -180 and 180"));
    }
    if !(-90.0..=90.0).contains(&lat) {
        problems.push(("lat", "must be a number between -90 and 90"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bboxes_are_four_numbers_in_order() {
        let b = Bbox::parse("115.4,35.2,115.6,35.3").expect("a box");
        assert_eq!((b.min_lon, b.max_lat), (115.4, 35.3));
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5",
            "a,b,c,d",
            "115.6,35.2,115.4,35.3",
            "0,-91,1,1",
            "NaN,0,1,1",
        ] {
            assert!(Bbox::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn points_out_of_range_name_their_coordinate() {
        assert!(check_point(115.5, 35.2).is_empty());
        assert_eq!(
            check_point(f64::NAN, 35.2),
            [("lon", "must be a number between -180 and 180")]
        );
        assert_eq!(check_point(181.0, -91.0).len(), 2);
    }

    /// 马岭岗镇, Heze.
    const HEZE: (f64, f64) = (115.505, 35.215);

    #[test]
    fn gcj02_shifts_a_few_hundred_metres_and_converts_back() {
        let gcj = wgs84_to_gcj02(HEZE.0, HEZE.1);
        let shift = distance_m(HEZE, gcj);
        assert!((100.0..1000.0).contains(&shift), "{shift} m");
        let back = gcj02_to_wgs84(gcj.0, gcj.1);
        assert!(distance_m(HEZE, back) < 0.01, "{back:?}");
    }

    #[test]
    fn bd09_converts_back_through_gcj02() {
        let gcj = wgs84_to_gcj02(HEZE.0, HEZE.1);
        let bd = gcj02_to_bd09(gcj.0, gcj.1);
        assert!(distance_m(gcj, bd) > 100.0, "Baidu shifts further");
        let back = to_wgs84(CoordType::Bd09, bd.0, bd.1);
        assert!(distance_m(HEZE, back) < 0.05, "{back:?}");
    }

    #[test]
    fn known_points_match_the_published_shift() {
        // Tiananmen, as GPS (WGS-84) and as Gaode shows it (GCJ-02).
        let (wgs, gcj) = ((116.391_275, 39.907_500), (116.397_510, 39.908_901));
        let computed = wgs84_to_gcj02(wgs.0, wgs.1);
        assert!(distance_m(computed, gcj) < 5.0, "{computed:?}");
    }

    #[test]
    fn outside_china_nothing_moves() {
        let paris = (2.3522, 48.8566);
        assert_eq!(to_wgs84(CoordType::Gcj02, paris.0, paris.1), paris);
        assert_eq!(to_wgs84(CoordType::Wgs84, HEZE.0, HEZE.1), HEZE);
    }
}
