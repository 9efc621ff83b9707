//! `/api/v1/checklists` and `/api/v1/inspections`: the flood-prep check of a sluice gate,
//! scored against a checklist version, its failure raising one rectification item however
//! often the phone retries; answers that do not fit are named; edits add versions.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

const CHECKLISTS: &str = "/api/v1/checklists";
const INSPECTIONS: &str = "/api/v1/inspections";

struct Setup {
    app: TestApp,
    w: World,
    site: String,
    checklist: String,
    category: String,
}

async fn setup() -> Setup {
    let (app, w) = TestApp::with_world().await;
    app.set_clock("2020-07-24T09:00:00+08:00");
    let w = app.load_more(
        w,
        r#"{"name": "B's office", "units": [], "users": [
            {"key": "office_b", "username": "office_b", "display_name": "马岭岗镇党政办", "role": "office", "unit": "B", "password": "fixture-password-1"}
        ]}"#,
    );
    let category = app
        .post(
            "/api/v1/categories",
            w.token("admin"),
            &json!({"code": "JZZ-GZ", "name": "节制闸故障", "default_severity": "high",
                    "deadline_hours": 12,
                    "routing": {"unit_kind": "department", "unit_id": w.unit("P")},
                    "attributes": [{"code": "water_level", "label": "水位", "type": "number", "required": true}]}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let site = app
        .post(
            "/api/v1/sites",
            w.token("office"),
            &json!({"kind": "sluice_gate", "name": "七里河节制闸", "lat": GA_POINT.1,
                    "lon": GA_POINT.0, "unit_id": w.unit("A")}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let checklist = app
        .post(
            CHECKLISTS,
            w.token("office"),
            &json!({"name": "汛前节制闸检查表", "kind": "flood_gate", "items": [
                {"key": "gate_operation", "label": "闸门启闭是否正常", "type": "yes_no", "points": 40,
                 "required": true, "pass": {"equals": "yes"}, "category_id": category},
                {"key": "water_level", "label": "闸前水位（米）", "type": "number", "points": 30,
                 "required": true, "pass": {"op": "<=", "value": 3.5}},
                {"key": "sandbags", "label": "防汛沙袋储备", "type": "choice", "points": 30,
                 "choices": ["充足", "不足"], "pass": {"equals": "充足"}}
            ]}),
        )
        .await
        .ok(201);
    assert_eq!(checklist["checklist_version"], 1);
    assert_eq!(checklist["max_score"], 100);
    Setup {
        app,
        w,
        site,
        checklist: checklist["id"].as_str().expect("id").to_string(),
        category,
    }
}

fn inspection(s: &Setup, answers: Value) -> Value {
    json!({"checklist_id": s.checklist, "site_id": s.site, "kind": "routine", "answers": answers})
}

async fn items_total(s: &Setup) -> i64 {
    s.app
        .get("/api/v1/rectifications", s.w.token("admin"))
        .await
        .ok(200)["total"]
        .as_i64()
        .expect("total")
}

#[actix_web::test]
async fn a_failed_gate_check_raises_one_item_however_often_sent() {
    let s = setup().await;
    let body = inspection(
        &s,
        json!({"gate_operation": "no", "water_level": 3.8, "sandbags": "充足"}),
    );
    let key = [("Idempotency-Key", "inspection-qlh-0001")];
    let inspector = s.w.token("inspector");
    let made = s
        .app
        .send_with(Method::POST, INSPECTIONS, inspector, Some(&body), &key)
        .await
        .ok(201);
    let again = s
        .app
        .send_with(Method::POST, INSPECTIONS, inspector, Some(&body), &key)
        .await
        .ok(201);
    assert_eq!(again["id"], made["id"]);
    assert_eq!(made["score"], 30);
    assert_eq!(made["max_score"], 100);
    assert_eq!(made["percent"], 30.0);
    assert_eq!(
        made["failed_items"],
        json!(["gate_operation", "water_level"])
    );
    // The water level has no category: it only costs points. The gate raised one item.
    let raised = made["raised"].as_array().expect("raised");
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0]["key"], "gate_operation");
    assert_eq!(items_total(&s).await, 1);
    let item = s
        .app
        .get(
            &format!(
                "/api/v1/rectifications/{}",
                raised[0]["rectification_id"].as_str().expect("id")
            ),
            s.w.token("admin"),
        )
        .await
        .ok(200);
    assert_eq!(item["source"], "inspection");
    assert_eq!(item["inspection_id"], made["id"], "linked both ways");
    assert_eq!(item["category_id"], s.category.as_str());
    assert_eq!(item["site_id"], s.site.as_str());
    assert_eq!(
        item["unit_id"],
        s.w.unit("P"),
        "routed to the named department"
    );
    assert_eq!(item["attributes"], json!({"water_level": 3.8}));
    assert!(item["description"]
        .as_str()
        .expect("description")
        .contains("闸门启闭是否正常"));
    // The inspection is read through its site.
    let path = format!("{INSPECTIONS}/{}", made["id"].as_str().expect("id"));
    s.app.get(&path, s.w.token("officer")).await.ok(200);
    s.app
        .get(&path, s.w.token("officer_b"))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn answers_that_do_not_fit_are_named_and_raise_nothing() {
    let s = setup().await;
    let inspector = s.w.token("inspector");
    s.app
        .post(
            INSPECTIONS,
            inspector,
            &inspection(&s, json!({"water_level": 2.0})),
        )
        .await
        .names_field(422, "answers.gate_operation");
    s.app
        .post(
            INSPECTIONS,
            inspector,
            &inspection(&s, json!({"gate_operation": "maybe", "water_level": 2.0})),
        )
        .await
        .names_field(422, "answers.gate_operation");
    s.app
        .post(
            INSPECTIONS,
            inspector,
            &inspection(
                &s,
                json!({"gate_operation": "no", "water_level": "high", "flow": 3}),
            ),
        )
        .await
        .names_field(422, "answers.flow");
    // A site out of sight.
    s.app
        .post(
            INSPECTIONS,
            s.w.token("officer_b"),
            &inspection(&s, json!({"gate_operation": "no", "water_level": 2.0})),
        )
        .await
        .names_field(422, "site_id");
    assert_eq!(items_total(&s).await, 0);
    let list = s.app.get(INSPECTIONS, s.w.token("admin")).await.ok(200);
    assert_eq!(list["total"], 0);
}

#[actix_web::test]
async fn an_edit_adds_a_version_and_inspections_keep_theirs() {
    let s = setup().await;
    let path = format!("{CHECKLISTS}/{}", s.checklist);
    // Another town's office reads it but does not edit it.
    s.app
        .patch(&path, s.w.token("office_b"), &json!({"name": "改名"}))
        .await
        .problem(403, "outside_your_units");
    let edited = s
        .app
        .patch(
            &path,
            s.w.token("office"),
            &json!({"items": [
                {"key": "gate_operation", "label": "闸门启闭是否正常", "type": "yes_no", "points": 100,
                 "required": true, "pass": {"equals": "yes"}}
            ]}),
        )
        .await
        .ok(200);
    assert_eq!(edited["checklist_version"], 2);
    assert_eq!(edited["latest_version"], 2);
    let old = s
        .app
        .get(&format!("{path}?version=1"), s.w.token("inspector"))
        .await
        .ok(200);
    assert_eq!(old["items"].as_array().expect("items").len(), 3);
    // An inspection on version 1 (a phone that had it offline) is scored on version 1.
    let mut body = inspection(
        &s,
        json!({"gate_operation": "yes", "water_level": 3.0, "sandbags": "不足"}),
    );
    body["checklist_version"] = json!(1);
    let kept = s
        .app
        .post(INSPECTIONS, s.w.token("inspector"), &body)
        .await
        .ok(201);
    assert_eq!(kept["checklist_version"], 1);
    assert_eq!(kept["score"], 70);
    body["checklist_version"] = json!(3);
    s.app
        .post(INSPECTIONS, s.w.token("inspector"), &body)
        .await
        .names_field(422, "checklist_version");
    // Bad templates are named.
    s.app
        .post(
            CHECKLISTS,
            s.w.token("office"),
            &json!({"name": "坏表", "kind": "Flood Gate", "items": [
                {"key": "a", "label": "甲", "type": "text", "pass": {"op": "<", "value": 1}}
            ]}),
        )
        .await
        .names_field(422, "items[0].pass");
    s.app
        .post(
            CHECKLISTS,
            s.w.token("officer"),
            &json!({"name": "表", "kind": "x", "items": []}),
        )
        .await
        .problem_status(403);
}

#[actix_web::test]
async fn checklists_list_by_kind_and_refuse_a_kind_too_long() {
    let s = setup().await;
    let admin = s.w.token("admin");
    let found = s
        .app
        .get(&format!("{CHECKLISTS}?kind=flood_gate"), admin)
        .await
        .ok(200);
    assert_eq!(found["total"], 1);
    let none = s
        .app
        .get(&format!("{CHECKLISTS}?kind=civilized_city_street"), admin)
        .await
        .ok(200);
    assert_eq!(none["total"], 0);
    s.app
        .get(&format!("{CHECKLISTS}?kind={}", "x".repeat(33)), admin)
        .await
        .names_field(400, "kind");
}
