//! `/api/v1/categories`: the categories of problem, their routing and report fields, who
//! manages them, and their safe writes.

use actix_web::http::Method;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::common::*;

const CATEGORIES: &str = "/api/v1/categories";

fn poster_board() -> Value {
    json!({
        "code": "GGP-PS",
        "name": "公益广告牌破损",
        "description": "公益广告牌、宣传栏画面破损、褪色或缺失",
        "default_severity": "normal",
        "deadline_hours": 72,
        "routing": {"unit_kind": "town"},
        "attributes": [
            {"code": "damage", "label": "损坏情况", "type": "choice", "required": true, "choices": ["破损", "褪色", "缺失"]},
            {"code": "size_m2", "label": "面积（平方米）", "type": "number"}
        ]
    })
}

#[actix_web::test]
async fn an_office_creates_a_category_everyone_reads_it() {
    let (app, w) = TestApp::with_world().await;
    let created = app
        .post(CATEGORIES, w.token("office"), &poster_board())
        .await;
    let category = created.ok(201);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(category["name"], "公益广告牌破损");
    assert_eq!(category["managed_by"], w.unit("A"));
    assert_eq!(category["managed_by_name"], "吕陵镇");
    assert_eq!(category["routing"], json!({"unit_kind": "town"}));
    assert_eq!(category["attributes"][0]["choices"][2], "缺失");
    assert_eq!(category["attributes"][1]["required"], false);
    assert_eq!(category["active"], true);
    let path = format!("{CATEGORIES}/{}", category["id"].as_str().expect("id"));
    // Everyone reads it: an inspector and another town's officer too.
    for reader in ["inspector", "officer_b", "leader"] {
        let read = app.get(&path, w.token(reader)).await.ok(200);
        assert_eq!(read["code"], "GGP-PS", "{reader}");
    }
    // Found by its Chinese name and by its code, whatever the case.
    for q in ["%E5%B9%BF%E5%91%8A%E7%89%8C", "ggp-ps"] {
        let listed = app
            .get(&format!("{CATEGORIES}?q={q}"), w.token("officer_b"))
            .await
            .ok(200);
        assert_eq!(listed["total"], 1, "{q}: {listed}");
    }
    let events: i64 = app.db(|conn| {
        use campaign_tracker::db::schema::events;
        events::table
            .filter(events::entity.eq("category"))
            .count()
            .get_result(conn)
            .expect("count")
    });
    assert_eq!(events, 1, "its creation is an event");
}

#[actix_web::test]
async fn only_admins_and_offices_manage_categories() {
    let (app, w) = TestApp::with_world().await;
    for role in ["leader", "officer", "inspector"] {
        app.post(CATEGORIES, w.token(role), &poster_board())
            .await
            .problem(403, "forbidden");
    }
    let category = app
        .post(CATEGORIES, w.token("office"), &poster_board())
        .await
        .ok(201);
    let path = format!("{CATEGORIES}/{}", category["id"].as_str().expect("id"));
    // Another town's office reads it but does not change it.
    let other = app.load_more(
        w,
        r#"{"name": "another office", "units": [], "users": [
            {"key": "office_b", "username": "office_b", "display_name": "马岭岗镇党政办", "role": "office", "unit": "B", "password": "fixture-password-1"}
        ]}"#,
    );
    app.patch(
        &path,
        other.token("office_b"),
        &json!({"deadline_hours": 1}),
    )
    .await
    .problem(403, "outside_your_units");
    app.patch(&path, other.token("admin"), &json!({"deadline_hours": 48}))
        .await
        .ok(200);
}

#[actix_web::test]
async fn codes_are_unique_whatever_their_case() {
    let (app, w) = TestApp::with_world().await;
    app.post(CATEGORIES, w.token("admin"), &poster_board())
        .await
        .ok(201);
    let mut again = poster_board();
    again["code"] = json!("ggp-ps");
    app.post(CATEGORIES, w.token("office"), &again)
        .await
        .problem(409, "code_taken");
}

#[actix_web::test]
async fn bad_categories_are_refused_naming_each_field() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let cases: Vec<(Value, &str)> = vec![
        (json!({"code": "bad code"}), "code"),
        (json!({"name": ""}), "name"),
        (json!({"deadline_hours": 0}), "deadline_hours"),
        (json!({"routing": {"unit_kind": "grid"}}), "routing"),
        (json!({"routing": {"unit_kind": "department"}}), "routing"),
        (
            json!({"attributes": [{"code": "damage", "label": "损坏", "type": "choice"}]}),
            "attributes[0].choices",
        ),
        (
            json!({"attributes": [
                {"code": "level", "label": "水位", "type": "number"},
                {"code": "level", "label": "水位2", "type": "number"}
            ]}),
            "attributes[1].code",
        ),
        (
            json!({"routing": {"unit_kind": "department", "unit_id": w.unit("A")}}),
            "routing.unit_id",
        ),
        (
            json!({"routing": {"unit_kind": "department", "unit_id": uuid::Uuid::now_v7()}}),
            "routing.unit_id",
        ),
    ];
    for (change, field) in cases {
        let mut body = poster_board();
        for (k, v) in change.as_object().expect("object") {
            body[k] = v.clone();
        }
        app.post(CATEGORIES, admin, &body)
            .await
            .names_field(422, field);
    }
    let total = app.get(CATEGORIES, admin).await.ok(200)["total"].clone();
    assert_eq!(total, 0, "nothing was created");
}

#[actix_web::test]
async fn a_department_routing_names_the_department() {
    let (app, w) = TestApp::with_world().await;
    let mut gate = poster_board();
    gate["code"] = json!("JZZ-GZ");
    gate["name"] = json!("节制闸故障");
    gate["routing"] = json!({"unit_kind": "department", "unit_id": w.unit("P")});
    gate["attributes"] =
        json!([{"code": "water_level", "label": "水位（米）", "type": "number", "required": true}]);
    let made = app.post(CATEGORIES, w.token("admin"), &gate).await.ok(201);
    assert_eq!(made["routing"]["unit_id"], w.unit("P"));
    assert_eq!(made["route_unit_name"], "党群工作部");
    // An office of a town does not see the department: it cannot route to it.
    gate["code"] = json!("JZZ-GZ2");
    app.post(CATEGORIES, w.token("office"), &gate)
        .await
        .names_field(422, "routing.unit_id");
}

#[actix_web::test]
async fn updates_honour_if_match_and_retired_categories_filter_out() {
    let (app, w) = TestApp::with_world().await;
    let office = w.token("office");
    let made = app.post(CATEGORIES, office, &poster_board()).await;
    made.ok(201);
    let path = made.header("location").expect("Location").to_string();
    let changed = app
        .send_with(
            Method::PATCH,
            &path,
            office,
            Some(&json!({"deadline_hours": 48, "default_severity": "high"})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(changed.ok(200)["deadline_hours"], 48);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    let stale = app
        .send_with(
            Method::PATCH,
            &path,
            office,
            Some(&json!({"active": false})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    let problem = stale.problem(412, "precondition_failed");
    assert_eq!(problem["current"]["default_severity"], "high");
    app.patch(&path, office, &json!({"active": false}))
        .await
        .ok(200);
    let active = app
        .get(&format!("{CATEGORIES}?active=true"), office)
        .await
        .ok(200);
    assert_eq!(active["total"], 0);
    let retired = app
        .get(&format!("{CATEGORIES}?active=false"), office)
        .await
        .ok(200);
    assert_eq!(retired["total"], 1);
    // The same change again writes nothing: the version stays.
    let same = app.patch(&path, office, &json!({"active": false})).await;
    assert_eq!(same.ok(200)["version"], 3);
    let events: i64 = app.db(|conn| {
        use campaign_tracker::db::schema::events;
        events::table
            .filter(events::entity.eq("category"))
            .count()
            .get_result(conn)
            .expect("count")
    });
    assert_eq!(events, 3, "created and two changes");
}
