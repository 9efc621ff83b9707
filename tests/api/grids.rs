//! Grids as districts draw them: valid shapes only, no two grids over one place, points as
//! Chinese map SDKs give them, codes and names that cannot be told apart refused, and the
//! people placed in them.

use serde_json::{json, Value};

use crate::common::*;

const UNITS: &str = "/api/v1/units";

fn grid(code: &str, parent: &str, boundary: Value) -> Value {
    json!({"code": code, "name": format!("网格{code}"), "kind": "grid", "parent_id": parent, "boundary": boundary})
}

fn polygon(ring: &[(f64, f64)]) -> Value {
    let ring: Vec<Value> = ring.iter().map(|(x, y)| json!([x, y])).collect();
    json!({"type": "Polygon", "coordinates": [ring]})
}

#[actix_web::test]
async fn invalid_shapes_are_refused_naming_the_boundary() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let bow_tie = polygon(&[
        (115.6, 35.6),
        (115.61, 35.61),
        (115.61, 35.6),
        (115.6, 35.61),
        (115.6, 35.6),
    ]);
    let zero_area = polygon(&[(115.6, 35.6), (115.61, 35.6), (115.62, 35.6), (115.6, 35.6)]);
    let mut hole_outside = square(115.6, 35.6, 0.01);
    hole_outside["coordinates"]
        .as_array_mut()
        .unwrap()
        .push(square(115.7, 35.7, 0.01)["coordinates"][0].clone());
    for (i, shape) in [bow_tie, zero_area, hole_outside].into_iter().enumerate() {
        let body = grid(&format!("BAD-{i}"), w.unit("VA"), shape);
        app.post(UNITS, admin, &body)
            .await
            .names_field(422, "boundary.coordinates");
    }
    assert!(
        app.get("/api/v1/units?q=BAD-", admin).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn vertices_are_capped() {
    let app = TestApp::with_settings(&[("MAX_BOUNDARY_VERTICES", "8")]).await;
    let w = app.load_world();
    let ring: Vec<(f64, f64)> = (0..12)
        .map(|i| {
            let a = f64::from(i) * std::f64::consts::TAU / 12.0;
            (115.7 + 0.005 * a.cos(), 35.7 + 0.005 * a.sin())
        })
        .chain(std::iter::once((115.705, 35.7)))
        .collect();
    let body = grid("ROUND", w.unit("VA"), polygon(&ring));
    let resp = app.post(UNITS, w.token("admin"), &body).await;
    let problem = resp.names_field(422, "boundary.coordinates");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("at most 8"));
}

#[actix_web::test]
async fn overlapping_grids_are_refused_naming_the_other_grid() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // GA covers [115.48, 115.49] × [35.25, 35.26]; this one takes its eastern half and more.
    let over = grid("OVER", w.unit("VA"), square(115.485, 35.25, 0.01));
    let resp = app.post(UNITS, admin, &over).await;
    let problem = resp.problem(422, "grid_overlap");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert_eq!(problem["errors"][0]["field"], "boundary");
    assert!(message.contains("HZGX-LLZ-ZZ-G01"), "{message}");
    assert!(message.contains("m²"), "{message}");
    // Sharing an edge is not overlapping.
    let beside = grid("BESIDE", w.unit("VA"), square(115.49, 35.25, 0.01));
    let beside = app.post(UNITS, admin, &beside).await.ok(201);
    // Moving a boundary onto another grid is refused too.
    let path = format!("{UNITS}/{}", beside["id"].as_str().unwrap());
    app.patch(
        &path,
        admin,
        &json!({"boundary": square(115.485, 35.255, 0.01)}),
    )
    .await
    .problem(422, "grid_overlap");
    // So a point belongs to one grid at most.
    let located = app
        .get("/api/v1/units/locate?lat=35.255&lon=115.4925", admin)
        .await
        .ok(200);
    assert_eq!(located["id"], beside["id"]);
}

/// Two overlapping grids sent at once: one is created, the other refused.
#[actix_web::test]
async fn concurrent_overlapping_grids_do_not_both_get_in() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    for round in 0..4 {
        let x = 115.7 + f64::from(round) * 0.1;
        let bodies = [
            grid(
                &format!("RACE-{round}-A"),
                w.unit("VA"),
                square(x, 35.7, 0.01),
            ),
            grid(
                &format!("RACE-{round}-B"),
                w.unit("VA"),
                square(x + 0.005, 35.7, 0.01),
            ),
        ];
        let answers = at_once(2, |i| app.post(UNITS, admin, &bodies[i])).await;
        assert_eq!(count_status(&answers, 201), 1, "round {round}: {answers:?}");
        assert_eq!(count_status(&answers, 422), 1, "round {round}: {answers:?}");
    }
}

#[actix_web::test]
async fn locate_takes_points_as_chinese_map_sdks_give_them() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // Near GA's north-east corner: in GA as GPS gives it. As Gaode shows the same place
    // (GCJ-02, a few hundred metres east and north), read as GPS it is outside every grid.
    let wgs = (115.4895, 35.2595);
    let gcj = campaign_tracker::coords::wgs84_to_gcj02(wgs.0, wgs.1);
    let bd = campaign_tracker::coords::gcj02_to_bd09(gcj.0, gcj.1);
    let locate = |lon: f64, lat: f64, coord_type: &str| {
        let suffix = if coord_type.is_empty() {
            String::new()
        } else {
            format!("&coord_type={coord_type}")
        };
        format!("/api/v1/units/locate?lat={lat}&lon={lon}{suffix}")
    };
    let found = app.get(&locate(wgs.0, wgs.1, ""), admin).await.ok(200);
    assert_eq!(found["id"], w.unit("GA"));
    app.get(&locate(gcj.0, gcj.1, ""), admin)
        .await
        .problem(404, "not_found");
    for (point, coord_type) in [(gcj, "gcj02"), (bd, "bd09"), (wgs, "wgs84")] {
        let found = app
            .get(&locate(point.0, point.1, coord_type), admin)
            .await
            .ok(200);
        assert_eq!(found["id"], w.unit("GA"), "{coord_type}");
    }
    app.get(&locate(wgs.0, wgs.1, "mercator"), admin)
        .await
        .names_field(400, "coord_type");
}

#[actix_web::test]
async fn codes_ignore_case_and_siblings_differ_by_name() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let twin =
        json!({"code": "hzgx-llz", "name": "吕陵镇二", "kind": "town", "parent_id": w.unit("D")});
    app.post(UNITS, admin, &twin)
        .await
        .problem(409, "code_taken");
    app.patch(
        &format!("{UNITS}/{}", w.unit("B")),
        admin,
        &json!({"code": "Hzgx-Llz"}),
    )
    .await
    .problem(409, "code_taken");
    // Two 都司镇 under one district: refused; one under each of two parents: fine.
    let first =
        json!({"code": "HZGX-DSZ", "name": "都司镇", "kind": "town", "parent_id": w.unit("D")});
    app.post(UNITS, admin, &first).await.ok(201);
    let second =
        json!({"code": "HZGX-DSZ2", "name": "都司镇", "kind": "town", "parent_id": w.unit("D")});
    app.post(UNITS, admin, &second)
        .await
        .problem(409, "name_taken");
    app.patch(
        &format!("{UNITS}/{}", w.unit("B")),
        admin,
        &json!({"name": "都司镇"}),
    )
    .await
    .problem(409, "name_taken");
    for (code, parent) in [("HZGX-LLZ-X", "A"), ("HZGX-MLGZ-X", "B")] {
        let village =
            json!({"code": code, "name": "新村", "kind": "village", "parent_id": w.unit(parent)});
        app.post(UNITS, admin, &village).await.ok(201);
    }
}

#[actix_web::test]
async fn inspectors_are_placed_in_grids() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let at_town = json!({"username": "wangge10", "display_name": "网格员", "password": "sluice gate at Qilihe 7",
                         "role": "inspector", "unit_id": w.unit("A")});
    app.post("/api/v1/users", admin, &at_town)
        .await
        .names_field(422, "unit_id");
    // Promoting a town's officer to inspector, or moving the inspector to the town: refused.
    let officer = format!("/api/v1/users/{}", w.user("officer"));
    app.patch(&officer, admin, &json!({"role": "inspector"}))
        .await
        .names_field(422, "unit_id");
    let inspector = format!("/api/v1/users/{}", w.user("inspector"));
    app.patch(&inspector, admin, &json!({"unit_id": w.unit("A")}))
        .await
        .names_field(422, "unit_id");
    app.patch(
        &officer,
        admin,
        &json!({"role": "inspector", "unit_id": w.unit("GA")}),
    )
    .await
    .ok(200);
}

/// A deactivated user stops leading their grid (and an inactive one cannot be made a leader).
#[actix_web::test]
async fn deactivating_a_grid_leader_clears_the_leadership() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let ga = format!("{UNITS}/{}", w.unit("GA"));
    assert_eq!(
        app.get(&ga, admin).await.ok(200)["leader_id"],
        w.user("inspector")
    );
    app.send(
        actix_web::http::Method::POST,
        &format!("/api/v1/users/{}/deactivate", w.user("inspector")),
        Some(admin),
        None,
    )
    .await
    .ok(200);
    assert_eq!(app.get(&ga, admin).await.ok(200)["leader_id"], Value::Null);
    app.patch(&ga, admin, &json!({"leader_id": w.user("inspector")}))
        .await
        .names_field(422, "leader_id");
}

/// A unit read says where the unit is: its ancestors by name, and its leader's name.
#[actix_web::test]
async fn units_carry_their_ancestors_and_leaders_names() {
    let (app, w) = TestApp::with_world().await;
    let ga = app
        .get(&format!("{UNITS}/{}", w.unit("GA")), w.token("officer"))
        .await
        .ok(200);
    assert_eq!(
        ga["path_names"],
        json!(["菏泽高新区", "吕陵镇", "寨庄行政村"])
    );
    assert_eq!(ga["ancestors"][1]["id"], w.unit("A"));
    assert_eq!(ga["leader_name"], "inspector_a（测试）");
    let d = app
        .get(&format!("{UNITS}/{}", w.unit("D")), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(d["path_names"], json!([]));
    // Lists carry them too.
    let page = app
        .get("/api/v1/units?kind=grid", w.token("admin"))
        .await
        .ok(200);
    for item in page["items"].as_array().unwrap() {
        assert_eq!(item["path_names"].as_array().unwrap().len(), 3, "{item}");
    }
}

/// Pairings carry their units' names; what a pairing covers can be edited.
#[actix_web::test]
async fn pairings_carry_names_and_their_note_can_change() {
    let (app, w) = TestApp::with_world().await;
    let path = format!("/api/v1/pairings/{}", w.pairings["PA"]);
    let pa = app.get(&path, w.token("officer")).await.ok(200);
    assert_eq!(pa["department_name"], "党群工作部");
    assert_eq!(pa["partner_name"], "吕陵镇");
    let note = "创城包联：真包真联，督导重点区域、重点位置整改";
    let changed = app
        .patch(&path, w.token("admin"), &json!({"note": note}))
        .await
        .ok(200);
    assert_eq!(changed["note"], note);
    assert_eq!(
        app.get(&path, w.token("officer")).await.ok(200)["note"],
        note
    );
    app.patch(&path, w.token("admin"), &json!({"note": "x\u{0007}"}))
        .await
        .names_field(422, "note");
}

/// An office lists the accounts of its own units, never an admin's.
#[actix_web::test]
async fn offices_list_their_own_units_accounts() {
    let (app, w) = TestApp::with_world().await;
    let office = w.token("office");
    let page = app.get("/api/v1/users", office).await.ok(200);
    let mut names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["inspector_a", "office_a", "officer_a"]);
    let admins = app.get("/api/v1/users?role=admin", office).await.ok(200);
    assert_eq!(admins["total"], 0);
    app.get(&format!("/api/v1/users/{}", w.user("admin")), office)
        .await
        .problem(404, "not_found");
    app.get(&format!("/api/v1/users/{}", w.user("officer_b")), office)
        .await
        .problem(404, "not_found");
    app.patch(
        &format!("/api/v1/users/{}", w.user("officer")),
        office,
        &json!({"display_name": "改"}),
    )
    .await
    .problem(403, "forbidden");
}
