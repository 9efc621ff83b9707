//! `/api/v1/campaigns`: who creates and runs campaigns, who sees them, their workflow,
//! their events, and the safe-write mechanisms they were the first to use (ETag/If-Match,
//! Idempotency-Key).

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

const CAMPAIGNS: &str = "/api/v1/campaigns";

fn url(id: &str) -> String {
    format!("{CAMPAIGNS}/{id}")
}

fn new_campaign(lead: &str, name: &str) -> Value {
    json!({
        "kind": "civilized_city",
        "name": name,
        "description": "对标测评体系，补齐短板。\n第二段。",
        "starts_on": "2020-07-24",
        "ends_on": "2020-10-31",
        "lead_unit_id": lead,
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    app.post(CAMPAIGNS, token, body).await.ok(201)
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[actix_web::test]
async fn offices_create_campaigns_of_their_units_and_everyone_below_sees_them() {
    let (app, w) = TestApp::with_world().await;
    let district = create(
        &app,
        w.token("admin"),
        &new_campaign(w.unit("D"), "2020年创建全国文明城市攻坚"),
    )
    .await;
    assert_eq!(district["status"], "planned");
    assert_eq!(district["lead_unit_name"], "菏泽高新区");
    assert_eq!(district["progress"], 0.0);
    assert_eq!(district["version"], 1);
    // An office creates campaigns of its own unit, not of the district's.
    let town = create(
        &app,
        w.token("office"),
        &new_campaign(w.unit("A"), "吕陵镇人居环境整治"),
    )
    .await;
    app.post(
        CAMPAIGNS,
        w.token("office"),
        &new_campaign(w.unit("D"), "越权"),
    )
    .await
    .names_field(422, "lead_unit_id");
    app.post(
        CAMPAIGNS,
        w.token("office"),
        &new_campaign(w.unit("B"), "别的镇"),
    )
    .await
    .names_field(422, "lead_unit_id");
    // Officers, inspectors and leaders do not create campaigns.
    for who in ["officer", "inspector", "leader"] {
        app.post(CAMPAIGNS, w.token(who), &new_campaign(w.unit("A"), "x"))
            .await
            .problem(403, "forbidden");
    }
    // Everyone below the district sees its campaign; B's officer does not see A's.
    for who in ["office", "officer", "inspector", "officer_b", "leader"] {
        app.get(&url(&id(&district)), w.token(who)).await.ok(200);
    }
    app.get(&url(&id(&town)), w.token("officer_b"))
        .await
        .problem(404, "not_found");
    let listed = app.get(CAMPAIGNS, w.token("officer_b")).await.ok(200);
    assert_eq!(listed["total"], 1, "{listed}");
    let listed = app.get(CAMPAIGNS, w.token("officer")).await.ok(200);
    assert_eq!(listed["total"], 2, "{listed}");
    // Filters: Chinese text, kind, unit subtree, active day.
    let page = app
        .get(
            &format!("{CAMPAIGNS}?q={}", encode("文明城市")),
            w.token("admin"),
        )
        .await
        .ok(200);
    assert_eq!(page["total"], 1);
    let page = app
        .get(
            &format!("{CAMPAIGNS}?unit_id={}", w.unit("A")),
            w.token("admin"),
        )
        .await
        .ok(200);
    assert_eq!(page["items"][0]["id"], town["id"]);
    let page = app
        .get(
            &format!("{CAMPAIGNS}?active_on=2020-11-01"),
            w.token("admin"),
        )
        .await
        .ok(200);
    assert_eq!(page["total"], 0);
    app.get(
        &format!("{CAMPAIGNS}?active_on=yesterday"),
        w.token("admin"),
    )
    .await
    .names_field(400, "active_on");
}

#[actix_web::test]
async fn bad_campaigns_name_their_fields() {
    let (app, w) = TestApp::with_world().await;
    let mut body = new_campaign(w.unit("D"), " ");
    body["ends_on"] = json!("2020-07-01");
    let problem = app.post(CAMPAIGNS, w.token("admin"), &body).await;
    problem.names_field(422, "name");
    problem.names_field(422, "ends_on");
    let mut body = new_campaign(w.unit("D"), "x");
    body["kind"] = json!("party");
    app.post(CAMPAIGNS, w.token("admin"), &body)
        .await
        .names_field(422, "kind");
    let mut body = new_campaign(w.unit("D"), "x");
    body["status"] = json!("active");
    app.post(CAMPAIGNS, w.token("admin"), &body)
        .await
        .names_field(422, "status");
}

#[actix_web::test]
async fn the_campaign_workflow_and_its_events() {
    let (app, w) = TestApp::with_world().await;
    app.set_clock("2020-07-24T09:00:00+08:00");
    let c = create(
        &app,
        w.token("office"),
        &new_campaign(w.unit("A"), "防汛备汛"),
    )
    .await;
    let transitions = format!("{}/transitions", url(&id(&c)));
    let active = app
        .post(
            &transitions,
            w.token("office"),
            &json!({"action": "activate", "note": "动员"}),
        )
        .await
        .ok(200);
    assert_eq!(active["status"], "active");
    assert_eq!(active["version"], 2);
    let refused = app
        .post(
            &transitions,
            w.token("office"),
            &json!({"action": "activate"}),
        )
        .await
        .problem(409, "invalid_transition");
    assert_eq!(refused["allowed"], json!(["close"]));
    // Officers read but do not run it; B's officer does not even see it.
    app.post(
        &transitions,
        w.token("officer"),
        &json!({"action": "close"}),
    )
    .await
    .problem(403, "forbidden");
    app.post(
        &transitions,
        w.token("officer_b"),
        &json!({"action": "close"}),
    )
    .await
    .problem(404, "not_found");
    app.post(&transitions, w.token("office"), &json!({"action": "close"}))
        .await
        .ok(200);
    // Closed: no change but reopening.
    app.patch(&url(&id(&c)), w.token("office"), &json!({"name": "改名"}))
        .await
        .problem(409, "campaign_closed");
    app.post(
        &transitions,
        w.token("office"),
        &json!({"action": "reopen"}),
    )
    .await
    .ok(200);
    let changed = app
        .patch(
            &url(&id(&c)),
            w.token("office"),
            &json!({"name": "防汛备汛（2020）"}),
        )
        .await
        .ok(200);
    assert_eq!(changed["version"], 5);
    let events = app
        .get(&format!("{}/events", url(&id(&c))), w.token("officer"))
        .await
        .ok(200);
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["created", "activate", "close", "reopen", "updated"]
    );
    assert_eq!(events["items"][1]["from_status"], "planned");
    assert_eq!(events["items"][1]["to_status"], "active");
    assert_eq!(events["items"][1]["note"], "动员");
    assert_eq!(events["items"][1]["actor_name"], "office_a（测试）");
    assert_eq!(
        events["items"][4]["changes"],
        json!({"name": ["防汛备汛", "防汛备汛（2020）"]})
    );
    assert_eq!(events["items"][0]["at"], "2020-07-24T01:00:00Z");
    // An update that changes nothing writes nothing.
    let same = app
        .patch(
            &url(&id(&c)),
            w.token("office"),
            &json!({"name": "防汛备汛（2020）"}),
        )
        .await
        .ok(200);
    assert_eq!(same["version"], 5);
}

#[actix_web::test]
async fn etag_and_if_match_prevent_lost_updates() {
    let (app, w) = TestApp::with_world().await;
    let c = create(
        &app,
        w.token("office"),
        &new_campaign(w.unit("A"), "述职述廉"),
    )
    .await;
    let read = app.get(&url(&id(&c)), w.token("office")).await;
    let etag = read.header("etag").expect("an ETag").to_string();
    assert_eq!(etag, "\"1\"");
    let first = app
        .send_with(
            Method::PATCH,
            &url(&id(&c)),
            w.token("office"),
            Some(&json!({"description": "第一次修改"})),
            &[("If-Match", &etag)],
        )
        .await;
    first.ok(200);
    assert_eq!(first.header("etag"), Some("\"2\""));
    // A second writer with the old ETag is refused with the record as it is now.
    let stale = app
        .send_with(
            Method::PATCH,
            &url(&id(&c)),
            w.token("office"),
            Some(&json!({"description": "第二次修改"})),
            &[("If-Match", &etag)],
        )
        .await;
    let problem = stale.problem(412, "precondition_failed");
    assert_eq!(stale.header("etag"), Some("\"2\""));
    assert_eq!(problem["current"]["description"], "第一次修改");
    assert_eq!(problem["current"]["version"], 2);
    // Transitions honour it too; `*` and a list containing the current tag pass.
    let transitions = format!("{}/transitions", url(&id(&c)));
    app.send_with(
        Method::POST,
        &transitions,
        w.token("office"),
        Some(&json!({"action": "activate"})),
        &[("If-Match", "\"1\"")],
    )
    .await
    .problem(412, "precondition_failed");
    app.send_with(
        Method::POST,
        &transitions,
        w.token("office"),
        Some(&json!({"action": "activate"})),
        &[("If-Match", "\"7\", \"2\"")],
    )
    .await
    .ok(200);
    let now = app.get(&url(&id(&c)), w.token("office")).await.ok(200);
    assert_eq!(now["description"], "第一次修改");
    assert_eq!(now["status"], "active");
}

#[actix_web::test]
async fn idempotency_keys_replay_the_first_answer() {
    let (app, w) = TestApp::with_world().await;
    let body = new_campaign(w.unit("A"), "小荷学堂志愿服务");
    let send = |body: Value, key: &'static str, token: &'static str| {
        let app = &app;
        let w = &w;
        async move {
            app.send_with(
                Method::POST,
                CAMPAIGNS,
                w.token(token),
                Some(&body),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = send(body.clone(), "key-1", "office").await;
    first.ok(201);
    assert!(first.header("idempotent-replayed").is_none());
    let again = send(body.clone(), "key-1", "office").await;
    assert_eq!(again.status.as_u16(), 201);
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // Another body with the same key is refused; another user's same key is theirs.
    let mut other = body.clone();
    other["name"] = json!("另一个活动");
    send(other, "key-1", "office")
        .await
        .problem(422, "idempotency_key_reused");
    send(body.clone(), "bad key with spaces", "office")
        .await
        .names_field(400, "Idempotency-Key");
    send(body.clone(), "key-1", "admin").await.ok(201);
    let all = app.get(CAMPAIGNS, w.token("admin")).await.ok(200);
    assert_eq!(all["total"], 2, "one per user, none for the replay");
    // A failed request keeps no key: fixing the body and retrying with it works.
    let mut invalid = body.clone();
    invalid["name"] = json!("");
    send(invalid, "key-2", "office")
        .await
        .names_field(422, "name");
    send(body.clone(), "key-2", "office").await.ok(201);
}

#[actix_web::test]
async fn two_creates_with_one_key_at_once_make_one_campaign() {
    let (app, w) = TestApp::with_world().await;
    let body = new_campaign(w.unit("A"), "同时提交");
    let answers = at_once(8, |_| {
        app.send_with(
            Method::POST,
            CAMPAIGNS,
            w.token("office"),
            Some(&body),
            &[("Idempotency-Key", "same-moment")],
        )
    })
    .await;
    assert_eq!(
        count_status(&answers, 201),
        8,
        "every answer is the one answer"
    );
    let ids: std::collections::BTreeSet<String> = answers.iter().map(|a| id(&a.json())).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let all = app.get(CAMPAIGNS, w.token("admin")).await.ok(200);
    assert_eq!(all["total"], 1);
}
