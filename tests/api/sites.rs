//! `/api/v1/sites`: sites found in their grid by point, in any datum; who reads and who
//! changes them; map filters.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

const SITES: &str = "/api/v1/sites";

fn board(name: &str, (lon, lat): (f64, f64), unit: &str) -> Value {
    json!({"kind": "poster_board", "name": name, "lat": lat, "lon": lon, "unit_id": unit})
}

#[actix_web::test]
async fn a_site_is_placed_in_the_grid_that_holds_its_point() {
    let (app, w) = TestApp::with_world().await;
    let made = app
        .post(
            SITES,
            w.token("office"),
            &board("寨庄村口公益广告牌", GA_POINT, w.unit("A")),
        )
        .await;
    let site = made.ok(201);
    assert_eq!(made.header("etag"), Some("\"1\""));
    assert_eq!(site["grid_id"], w.unit("GA"));
    assert_eq!(site["grid_name"], "寨庄第一网格");
    assert_eq!(site["unit_name"], "吕陵镇");
    let path = made.header("location").expect("Location").to_string();
    // The grid's inspector reads it; the other town's officer does not find it.
    app.get(&path, w.token("inspector")).await.ok(200);
    app.get(&path, w.token("officer_b"))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn a_phone_map_point_is_stored_as_wgs84() {
    let (app, w) = TestApp::with_world().await;
    let (lon, lat) = campaign_tracker::coords::wgs84_to_gcj02(GA_POINT.0, GA_POINT.1);
    let mut body = board("寨庄文化广场宣传栏", (lon, lat), w.unit("A"));
    body["coord_type"] = json!("gcj02");
    let site = app.post(SITES, w.token("office"), &body).await.ok(201);
    let stored = (
        site["lon"].as_f64().expect("lon"),
        site["lat"].as_f64().expect("lat"),
    );
    let off = campaign_tracker::coords::distance_m(stored, GA_POINT);
    assert!(
        off < 5.0,
        "stored {stored:?}, {off} m from the WGS-84 point"
    );
    assert_eq!(site["grid_id"], w.unit("GA"));
}

#[actix_web::test]
async fn a_point_outside_every_grid_needs_its_grid_named() {
    let (app, w) = TestApp::with_world().await;
    let office = w.token("office");
    let far = (115.0, 35.0);
    app.post(SITES, office, &board("远处的广告牌", far, w.unit("A")))
        .await
        .names_field(422, "grid_id");
    // A grid the office does not see, or a unit that is not a grid, is refused too.
    let mut named = board("远处的广告牌", far, w.unit("A"));
    named["grid_id"] = json!(w.unit("GB"));
    app.post(SITES, office, &named)
        .await
        .names_field(422, "grid_id");
    named["grid_id"] = json!(w.unit("VA"));
    app.post(SITES, office, &named)
        .await
        .names_field(422, "grid_id");
    named["grid_id"] = json!(w.unit("GA"));
    let site = app.post(SITES, office, &named).await.ok(201);
    assert_eq!(site["grid_id"], w.unit("GA"));
    // A point in B's grid is found only among the grids the office sees.
    app.post(SITES, office, &board("程楼广告牌", GB_POINT, w.unit("A")))
        .await
        .names_field(422, "grid_id");
}

#[actix_web::test]
async fn bad_sites_are_refused_naming_each_field() {
    let (app, w) = TestApp::with_world().await;
    let office = w.token("office");
    let cases = [
        (json!({"lat": 91.0}), "lat"),
        (json!({"lon": -181.0}), "lon"),
        (json!({"name": ""}), "name"),
        (json!({"unit_id": w.unit("B")}), "unit_id"),
        (json!({"kind": "castle"}), "kind"),
    ];
    for (change, field) in cases {
        let mut body = board("寨庄广告牌", GA_POINT, w.unit("A"));
        for (k, v) in change.as_object().expect("object") {
            body[k] = v.clone();
        }
        app.post(SITES, office, &body).await.names_field(422, field);
    }
    for role in ["officer", "inspector", "leader"] {
        app.post(
            SITES,
            w.token(role),
            &board("寨庄广告牌", GA_POINT, w.unit("A")),
        )
        .await
        .problem(403, "forbidden");
    }
    assert_eq!(app.get(SITES, office).await.ok(200)["total"], 0);
}

#[actix_web::test]
async fn moving_a_site_finds_its_grid_again_and_honours_if_match() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let made = app
        .post(
            SITES,
            admin,
            &board("流动宣传车停靠点", GA_POINT, w.unit("A")),
        )
        .await;
    made.ok(201);
    let path = made.header("location").expect("Location").to_string();
    let moved = app
        .send_with(
            Method::PATCH,
            &path,
            admin,
            Some(&json!({"lat": GB_POINT.1, "lon": GB_POINT.0, "unit_id": w.unit("B")})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    let site = moved.ok(200);
    assert_eq!(site["grid_id"], w.unit("GB"));
    assert_eq!(moved.header("etag"), Some("\"2\""));
    // Now B's: A's office no longer finds it.
    app.get(&path, w.token("office"))
        .await
        .problem(404, "not_found");
    let stale = app
        .send_with(
            Method::PATCH,
            &path,
            admin,
            Some(&json!({"name": "旧名"})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(
        stale.problem(412, "precondition_failed")["current"]["grid_id"],
        w.unit("GB")
    );
    app.patch(&path, admin, &json!({"lat": 35.0}))
        .await
        .names_field(422, "lon");
}

#[actix_web::test]
async fn lists_filter_by_box_kind_grid_unit_and_text() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    app.post(
        SITES,
        admin,
        &board("寨庄公益广告牌", GA_POINT, w.unit("A")),
    )
    .await
    .ok(201);
    let mut shops = board("程楼沿街商铺", GB_POINT, w.unit("B"));
    shops["kind"] = json!("shop_street");
    app.post(SITES, admin, &shops).await.ok(201);
    let names = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| s["name"].as_str().expect("name").to_string())
            .collect()
    };
    let get = |query: String| {
        let app = &app;
        async move { app.get(&format!("{SITES}?{query}"), admin).await.ok(200) }
    };
    assert_eq!(
        names(get("bbox=115.48,35.25,115.49,35.26".into()).await),
        ["寨庄公益广告牌"]
    );
    assert_eq!(
        names(get("kind=shop_street".into()).await),
        ["程楼沿街商铺"]
    );
    assert_eq!(
        names(get(format!("grid_id={}", w.unit("GA"))).await),
        ["寨庄公益广告牌"]
    );
    assert_eq!(
        names(get(format!("unit_id={}", w.unit("D"))).await).len(),
        2
    );
    assert_eq!(
        names(get(format!("q={}", encode("商铺"))).await),
        ["程楼沿街商铺"]
    );
    // What the office sees: A's site only.
    let seen = app.get(SITES, w.token("office")).await.ok(200);
    assert_eq!(names(seen), ["寨庄公益广告牌"]);
    for bad in ["1,2,3", "115.49,35.25,115.48,35.26", "a,b,c,d"] {
        app.get(&format!("{SITES}?bbox={bad}"), admin)
            .await
            .names_field(400, "bbox");
    }
}
