//! `/api/v1/patrols`: an inspector's patrol of its grid — a GPS track sent in batches that
//! merge however often they are retried, sites visited, problems reported on the way —
//! read by the grid's chain of units and written only by its inspector.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

const PATROLS: &str = "/api/v1/patrols";
/// Friday 24 July 2020, 09:00 in the district.
const START: &str = "2020-07-24T09:00:00+08:00";

fn point(t: &str, (lon, lat): (f64, f64)) -> Value {
    json!({"t": t, "lat": lat, "lon": lon, "accuracy_m": 6.5})
}

/// Three fixes about 100 m apart going east through grid GA, a minute each.
fn walk() -> Vec<Value> {
    let (lon, lat) = GA_POINT;
    vec![
        point("2020-07-24T09:01:00+08:00", (lon, lat)),
        point("2020-07-24T09:02:00+08:00", (lon + 0.0011, lat)),
        point("2020-07-24T09:03:00+08:00", (lon + 0.0022, lat)),
    ]
}

async fn started(app: &TestApp, w: &World) -> String {
    let patrol = app
        .post(
            PATROLS,
            w.token("inspector"),
            &json!({"grid_id": w.unit("GA"), "started_at": START, "note": "寨庄网格日常巡查"}),
        )
        .await
        .ok(201);
    assert_eq!(patrol["status"], "active");
    assert_eq!(patrol["grid_name"], "寨庄第一网格");
    patrol["id"].as_str().expect("id").to_string()
}

#[actix_web::test]
async fn a_patrol_tracks_visits_reports_and_ends() {
    let (app, w) = TestApp::with_world().await;
    app.set_clock("2020-07-24T09:05:00+08:00");
    let inspector = w.token("inspector");
    let site = app
        .post(
            "/api/v1/sites",
            w.token("office"),
            &json!({"kind": "poster_board", "name": "寨庄村口公益广告牌",
                    "lat": GA_POINT.1, "lon": GA_POINT.0, "unit_id": w.unit("A")}),
        )
        .await
        .ok(201);
    let category = app
        .post(
            "/api/v1/categories",
            w.token("admin"),
            &json!({"code": "GGP", "name": "公益广告牌破损", "default_severity": "normal",
                    "deadline_hours": 72, "routing": {"unit_kind": "town"}}),
        )
        .await
        .ok(201);
    let id = started(&app, &w).await;
    let track = format!("{PATROLS}/{id}/track");

    // Out of order, as a phone flushing its queue may send them; the same batch again
    // under its key is the first answer; the overlapping batch without a key merges.
    let mut batch = walk();
    batch.swap(0, 2);
    let key = [("Idempotency-Key", "track-0001")];
    let first = app
        .send_with(
            Method::POST,
            &track,
            inspector,
            Some(&json!({"points": batch})),
            &key,
        )
        .await
        .ok(200);
    assert_eq!(first["point_count"], 3);
    let d = first["distance_m"].as_f64().expect("distance");
    assert!((195.0..=205.0).contains(&d), "{d} m");
    let again = app
        .send_with(
            Method::POST,
            &track,
            inspector,
            Some(&json!({"points": batch})),
            &key,
        )
        .await
        .ok(200);
    assert_eq!(again["version"], first["version"]);
    let later = point(
        "2020-07-24T09:04:00+08:00",
        (GA_POINT.0 + 0.0033, GA_POINT.1),
    );
    let overlap = json!({"points": [walk()[2], later]});
    let merged = app.post(&track, inspector, &overlap).await.ok(200);
    assert_eq!(merged["point_count"], 4, "the repeated fix is merged");
    let d4 = merged["distance_m"].as_f64().expect("distance");
    assert!((295.0..=305.0).contains(&d4), "{d4} m");

    let visit = app
        .post(
            &format!("{PATROLS}/{id}/visits"),
            inspector,
            &json!({"site_id": site["id"], "at": "2020-07-24T09:02:30+08:00", "note": "画面完好"}),
        )
        .await
        .ok(200);
    assert_eq!(visit["visits"][0]["site_name"], "寨庄村口公益广告牌");
    let item = app
        .post(
            "/api/v1/rectifications",
            inspector,
            &json!({"source": "patrol", "category_id": category["id"], "description": "广告牌立柱松动",
                    "lat": GA_POINT.1, "lon": GA_POINT.0, "patrol_id": id}),
        )
        .await
        .ok(201);

    app.set_clock("2020-07-24T10:00:00+08:00");
    let ended = app
        .post(
            &format!("{PATROLS}/{id}/transitions"),
            inspector,
            &json!({"action": "end", "ended_at": "2020-07-24T09:30:00+08:00"}),
        )
        .await
        .ok(200);
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["duration_s"], 30 * 60);
    assert_eq!(ended["coverage"], 1.0);
    assert_eq!(ended["sites_visited"], 1);
    assert_eq!(ended["item_ids"], json!([item["id"]]));
    // Ended: nothing more is added, and a report cannot name it.
    app.post(&track, inspector, &json!({"points": walk()}))
        .await
        .problem(409, "patrol_ended");
    app.post(
        &format!("{PATROLS}/{id}/transitions"),
        inspector,
        &json!({"action": "end"}),
    )
    .await
    .problem(409, "invalid_transition");

    // The map: the track in time order.
    let geo = app
        .send_with(
            Method::GET,
            &format!("{PATROLS}/{id}"),
            w.token("officer"),
            None,
            &[("Accept", "application/geo+json")],
        )
        .await;
    assert_eq!(geo.header("content-type"), Some("application/geo+json"));
    let geo = geo.json();
    assert_eq!(geo["geometry"]["type"], "LineString");
    let coords = geo["geometry"]["coordinates"]
        .as_array()
        .expect("coordinates");
    assert_eq!(coords.len(), 4);
    let lons: Vec<f64> = coords.iter().map(|c| c[0].as_f64().expect("lon")).collect();
    assert!(
        lons.windows(2).all(|p| p[0] < p[1]),
        "in time order: {lons:?}"
    );
    // The story: start, three writes to the track (the replay is not one), a visit, the end.
    let events = app
        .get(&format!("{PATROLS}/{id}/events"), inspector)
        .await
        .ok(200);
    let actions: Vec<&str> = events["items"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["created", "track", "track", "visit", "end"]);
    assert_eq!(ended["version"], 5);
}

#[actix_web::test]
async fn only_its_inspector_writes_and_the_grids_chain_reads() {
    let (app, w) = TestApp::with_world().await;
    app.set_clock("2020-07-24T09:05:00+08:00");
    let w = app.load_more(
        w,
        r#"{"name": "another inspector", "units": [], "users": [
            {"key": "inspector_b", "username": "inspector_b", "display_name": "程楼网格员", "role": "inspector", "unit": "GB", "password": "fixture-password-1"}
        ]}"#,
    );
    // Not one's own grid; not an inspector.
    app.post(
        PATROLS,
        w.token("inspector_b"),
        &json!({"grid_id": w.unit("GA")}),
    )
    .await
    .names_field(422, "grid_id");
    app.post(
        PATROLS,
        w.token("office"),
        &json!({"grid_id": w.unit("GA")}),
    )
    .await
    .problem_status(403);
    let id = started(&app, &w).await;
    // One patrol at a time.
    app.post(
        PATROLS,
        w.token("inspector"),
        &json!({"grid_id": w.unit("GA")}),
    )
    .await
    .problem(409, "patrol_active");
    let path = format!("{PATROLS}/{id}");
    for reader in ["officer", "office", "leader", "admin"] {
        app.get(&path, w.token(reader)).await.ok(200);
    }
    for stranger in ["officer_b", "inspector_b"] {
        app.get(&path, w.token(stranger))
            .await
            .problem(404, "not_found");
    }
    // The town reads it but does not write to it.
    app.post(
        &format!("{path}/track"),
        w.token("office"),
        &json!({"points": walk()}),
    )
    .await
    .problem_status(403);
    let list = app.get(PATROLS, w.token("officer")).await.ok(200);
    assert_eq!(list["total"], 1);
    let list = app.get(PATROLS, w.token("officer_b")).await.ok(200);
    assert_eq!(list["total"], 0);
}

#[actix_web::test]
async fn bad_fixes_are_named_and_change_nothing() {
    let (app, w) = TestApp::with_world().await;
    app.set_clock("2020-07-24T09:05:00+08:00");
    let id = started(&app, &w).await;
    let track = format!("{PATROLS}/{id}/track");
    let inspector = w.token("inspector");
    let mut bad = walk();
    bad[1]["lat"] = json!(95.0);
    app.post(&track, inspector, &json!({"points": bad}))
        .await
        .names_field(422, "points[1].lat");
    let early = json!({"points": [point("2020-07-24T08:00:00+08:00", GA_POINT)]});
    app.post(&track, inspector, &early)
        .await
        .names_field(422, "points[0].t");
    app.post(&track, inspector, &json!({"points": []}))
        .await
        .names_field(422, "points");
    // A phone's GCJ-02 is stored as WGS-84: three fixes ~100 m apart stay ~200 m.
    let gcj: Vec<Value> = walk()
        .into_iter()
        .map(|mut p| {
            let (lon, lat) = campaign_tracker::coords::wgs84_to_gcj02(
                p["lon"].as_f64().expect("lon"),
                p["lat"].as_f64().expect("lat"),
            );
            p["lon"] = json!(lon);
            p["lat"] = json!(lat);
            p
        })
        .collect();
    let patrol = app
        .post(
            &track,
            inspector,
            &json!({"coord_type": "gcj02", "points": gcj}),
        )
        .await
        .ok(200);
    assert_eq!(patrol["point_count"], 3);
    assert_eq!(patrol["version"], 2, "the refused batches wrote nothing");
}

/// The demo's patrols along the national road in 马岭岗镇: one walked yesterday, one going.
#[actix_web::test]
async fn the_demo_has_patrols_with_tracks() {
    let app = TestApp::new().await;
    app.db(|conn| {
        campaign_tracker::demo::load(conn, &app.state.attachments, &mut |_| {})
            .expect("the demo loads")
    });
    let officer = app.db(|conn| {
        use campaign_tracker::db::schema::users;
        use diesel::prelude::*;
        users::table
            .filter(users::username.eq("officer"))
            .select(users::id)
            .get_result::<String>(conn)
            .expect("马岭岗镇's officer")
    });
    let page = app.get(PATROLS, &app.token_for(&officer)).await.ok(200);
    let patrols = page["items"].as_array().expect("items");
    assert_eq!(patrols.len(), 2);
    let ended = patrols
        .iter()
        .find(|p| p["status"] == "ended")
        .expect("an ended patrol");
    assert!(ended["distance_m"].as_f64().expect("distance") > 1000.0);
    assert_eq!(ended["sites_visited"], 2);
    assert!(patrols.iter().any(|p| p["status"] == "active"));
}
