//! `/api/v1/meetings` and `/api/v1/activities`: recorded under a campaign the caller sees,
//! by the roles that may; read by scope; changed safely.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The fixture world with an active district campaign.
async fn world() -> (TestApp, World, String) {
    let (app, w) = TestApp::with_world().await;
    let campaign = app
        .post(
            "/api/v1/campaigns",
            w.token("admin"),
            &json!({
                "kind": "civilized_city",
                "name": "2020年创建全国文明城市攻坚",
                "starts_on": "2020-07-24",
                "ends_on": "2020-10-31",
                "lead_unit_id": w.unit("D"),
            }),
        )
        .await
        .ok(201);
    (app, w, id(&campaign))
}

#[actix_web::test]
async fn meetings_list_their_units_and_the_directives_they_issued() {
    let (app, w, campaign) = world().await;
    let body = json!({
        "campaign_id": campaign,
        "title": "创建全国文明城市攻坚动员大会",
        "held_at": "2020-07-24T09:00:00+08:00",
        "place": "高新区管委会会议室",
        "chaired_by": "党工委书记",
        "unit_ids": [w.unit("A"), w.unit("B")],
        "summary": "部署创城攻坚任务。\n明确时间节点。",
    });
    let meeting = app
        .post("/api/v1/meetings", w.token("leader"), &body)
        .await
        .ok(201);
    assert_eq!(
        meeting["unit_name"], "菏泽高新区",
        "convened by the leader's unit"
    );
    assert_eq!(meeting["held_at"], "2020-07-24T01:00:00Z");
    assert_eq!(meeting["units"][0]["name"], "吕陵镇");
    let url = format!("/api/v1/meetings/{}", id(&meeting));
    app.post(
        "/api/v1/directives",
        w.token("leader"),
        &json!({"campaign_id": campaign, "meeting_id": id(&meeting), "title": "背街小巷整治"}),
    )
    .await
    .ok(201);
    // Attending units see it, with what it issued.
    let read = app.get(&url, w.token("officer_b")).await;
    let seen = read.ok(200);
    assert_eq!(seen["directives"][0]["title"], "背街小巷整治");
    assert_eq!(read.header("etag"), Some("\"1\""));
    // A list does not carry the directives.
    let page = app
        .get("/api/v1/meetings", w.token("officer"))
        .await
        .ok(200);
    assert_eq!(page["total"], 1);
    assert!(page["items"][0].get("directives").is_none());
    let page = app
        .get(
            &format!("/api/v1/meetings?unit_id={}", w.unit("B")),
            w.token("admin"),
        )
        .await
        .ok(200);
    assert_eq!(page["total"], 1);
    // Unknown or repeated units name their position; officers do not record meetings.
    let mut bad = body.clone();
    bad["unit_ids"] = json!([w.unit("A"), uuid::Uuid::now_v7().to_string(), w.unit("A")]);
    let refused = app.post("/api/v1/meetings", w.token("leader"), &bad).await;
    refused.names_field(422, "unit_ids[2]");
    app.post("/api/v1/meetings", w.token("officer"), &body)
        .await
        .problem(403, "forbidden");
    // An office records meetings of its own unit, and B's attending does not let it change
    // the district's.
    app.patch(&url, w.token("office"), &json!({"summary": "改"}))
        .await
        .problem(403, "outside_your_units");
    let changed = app
        .send_with(
            Method::PATCH,
            &url,
            w.token("leader"),
            Some(&json!({"unit_ids": [w.unit("A")], "summary": "会议纪要"})),
            &[("If-Match", "\"1\"")],
        )
        .await
        .ok(200);
    assert_eq!(changed["unit_ids"], json!([w.unit("A")]));
    assert_eq!(changed["version"], 2);
    // B no longer attends, but still sees the district's meeting (it works below the
    // district), with the units that attend now.
    let seen = app
        .get(
            &format!("/api/v1/meetings/{}", id(&meeting)),
            w.token("officer_b"),
        )
        .await
        .ok(200);
    assert_eq!(seen["units"].as_array().map(Vec::len), Some(1));
    app.send_with(
        Method::PATCH,
        &url,
        w.token("leader"),
        Some(&json!({"summary": "过时的修改"})),
        &[("If-Match", "\"1\"")],
    )
    .await
    .problem(412, "precondition_failed");
}

#[actix_web::test]
async fn activities_are_recorded_by_their_units() {
    let (app, w, campaign) = world().await;
    let body = json!({
        "campaign_id": campaign,
        "unit_id": w.unit("VA"),
        "title": "小荷学堂暑期公益课堂",
        "date": "2020-07-20",
        "place": "寨庄行政村小荷学堂",
        "participants": 12,
        "volunteer_hours": 36.5,
        "beneficiaries": 45,
        "description": "大学生志愿者为留守儿童辅导作业。",
    });
    let activity = app
        .post("/api/v1/activities", w.token("officer"), &body)
        .await
        .ok(201);
    assert_eq!(activity["unit_name"], "寨庄行政村");
    assert_eq!(activity["volunteer_hours"], 36.5);
    // Another town's unit, a leader, an inspector: refused.
    let mut elsewhere = body.clone();
    elsewhere["unit_id"] = json!(w.unit("B"));
    app.post("/api/v1/activities", w.token("officer"), &elsewhere)
        .await
        .names_field(422, "unit_id");
    app.post("/api/v1/activities", w.token("leader"), &body)
        .await
        .problem(403, "forbidden");
    // Bad numbers name their fields, all at once.
    let mut bad = body.clone();
    bad["participants"] = json!(-1);
    bad["volunteer_hours"] = json!(-2.5);
    bad["date"] = json!("1999-12-31");
    let refused = app
        .post("/api/v1/activities", w.token("officer"), &bad)
        .await;
    for field in ["participants", "volunteer_hours", "date"] {
        refused.names_field(422, field);
    }
    // Read by scope; filtered by unit subtree and date.
    app.get(
        &format!("/api/v1/activities/{}", id(&activity)),
        w.token("officer_b"),
    )
    .await
    .problem(404, "not_found");
    let page = app
        .get(
            &format!(
                "/api/v1/activities?unit_id={}&date_from=2020-07-01&date_to=2020-07-31",
                w.unit("A")
            ),
            w.token("office"),
        )
        .await
        .ok(200);
    assert_eq!(page["total"], 1);
    let page = app
        .get("/api/v1/activities?date_from=2020-07-21", w.token("office"))
        .await
        .ok(200);
    assert_eq!(page["total"], 0);
    let changed = app
        .patch(
            &format!("/api/v1/activities/{}", id(&activity)),
            w.token("office"),
            &json!({"participants": 15}),
        )
        .await
        .ok(200);
    assert_eq!(
        (
            changed["participants"].as_i64(),
            changed["version"].as_i64()
        ),
        (Some(15), Some(2))
    );
    app.patch(
        &format!("/api/v1/activities/{}", id(&activity)),
        w.token("office"),
        &json!({"participants": null}),
    )
    .await
    .names_field(422, "participants");
}
