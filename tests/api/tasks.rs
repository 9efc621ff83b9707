//! Directives split into tasks, and the task workflow: who may take which action from
//! which state, extensions, reassignment, progress, the warnings derived from the clock,
//! roll-ups, events, notifications, safe writes, and closed campaigns.

use actix_web::http::Method;
use serde_json::{json, Value};

use campaign_tracker::jobs;

use crate::common::*;

const TASKS: &str = "/api/v1/tasks";

/// The test clock starts here: 24 July 2020, 09:00 in 菏泽 (UTC+8).
const START: &str = "2020-07-24T09:00:00+08:00";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn task_url(id: &str) -> String {
    format!("{TASKS}/{id}")
}

/// A world with a running campaign led by the district, at the test clock's start.
async fn world() -> (TestApp, World, String) {
    let (app, w) = TestApp::with_world().await;
    app.set_clock(START);
    let campaign = app
        .post(
            "/api/v1/campaigns",
            w.token("admin"),
            &json!({
                "kind": "flood_prep",
                "name": "2020年防汛备汛",
                "starts_on": "2020-07-01",
                "ends_on": "2020-09-30",
                "lead_unit_id": w.unit("D"),
            }),
        )
        .await
        .ok(201);
    let campaign = id(&campaign);
    app.post(
        &format!("/api/v1/campaigns/{campaign}/transitions"),
        w.token("admin"),
        &json!({"action": "activate"}),
    )
    .await
    .ok(200);
    (app, w, campaign)
}

/// A directive issued by `who` under `campaign`.
async fn directive(app: &TestApp, w: &World, who: &str, campaign: &str, title: &str) -> String {
    let d = app
        .post(
            "/api/v1/directives",
            w.token(who),
            &json!({
                "campaign_id": campaign,
                "title": title,
                "body": "按照防汛工作要求，限期完成。",
                "priority": "high",
                "default_due_at": "2020-08-03T18:00:00+08:00",
            }),
        )
        .await
        .ok(201);
    id(&d)
}

/// Splits `directive` to these units; returns the tasks' ids in order.
async fn split(
    app: &TestApp,
    w: &World,
    who: &str,
    directive: &str,
    units: &[&str],
) -> Vec<String> {
    let body = json!({"unit_ids": units.iter().map(|u| w.unit(u)).collect::<Vec<_>>()});
    let created = app
        .post(
            &format!("/api/v1/directives/{directive}/tasks"),
            w.token(who),
            &body,
        )
        .await
        .ok(201);
    created["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id)
        .collect()
}

async fn act(app: &TestApp, who: &str, task: &str, token: &str, body: Value) -> Resp {
    let _ = who;
    app.post(&format!("{}/transitions", task_url(task)), token, &body)
        .await
}

async fn task(app: &TestApp, w: &World, task: &str) -> Value {
    app.get(&task_url(task), w.token("admin")).await.ok(200)
}

/// The ids of the directive's tasks with this warning colour, sorted.
async fn listed(app: &TestApp, w: &World, directive: &str, warning: &str) -> Vec<String> {
    let page = app
        .get(
            &format!("{TASKS}?warning={warning}&directive_id={directive}"),
            w.token("admin"),
        )
        .await
        .ok(200);
    let mut ids: Vec<String> = page["items"].as_array().unwrap().iter().map(id).collect();
    ids.sort();
    assert_eq!(page["total"], ids.len());
    ids
}

fn total(page: &Value) -> i64 {
    page["total"].as_i64().expect("total")
}

#[actix_web::test]
async fn a_split_makes_one_task_per_unit_or_none() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "leader", &campaign, "修订防汛应急预案").await;
    // Every town under the district, by selector.
    let created = app
        .post(
            &format!("/api/v1/directives/{d}/tasks"),
            w.token("leader"),
            &json!({"selector": {"under": w.unit("D"), "kind": "town"}, "weight": 2}),
        )
        .await;
    let body = created.ok(201);
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/tasks?directive_id={d}").as_str())
    );
    let mut units: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["unit_name"].as_str().unwrap())
        .collect();
    units.sort();
    assert_eq!(units, ["吕陵镇", "马岭岗镇"]);
    let first = &body["items"][0];
    assert_eq!(first["status"], "assigned");
    assert_eq!(
        first["due_at"], "2020-08-03T10:00:00Z",
        "the directive's default"
    );
    assert_eq!(first["original_due_at"], first["due_at"]);
    assert_eq!(first["weight"], 2);
    assert_eq!(first["priority"], "high");
    assert_eq!(first["directive_title"], "修订防汛应急预案");
    assert_eq!(
        first["allowed_actions"],
        json!(["start", "request_extension", "reassign", "cancel"])
    );

    // One bad unit among good ones: nothing is created, and the error names it.
    let d2 = directive(&app, &w, "leader", &campaign, "防汛物资储备").await;
    let before = total(&app.get(TASKS, w.token("admin")).await.ok(200));
    let missing = uuid::Uuid::now_v7().to_string();
    let bad = json!({"unit_ids": [w.unit("A"), w.unit("B"), missing]});
    app.post(
        &format!("/api/v1/directives/{d2}/tasks"),
        w.token("leader"),
        &bad,
    )
    .await
    .names_field(422, "unit_ids[2]");
    let twice = json!({"unit_ids": [w.unit("A"), w.unit("A")]});
    app.post(
        &format!("/api/v1/directives/{d2}/tasks"),
        w.token("leader"),
        &twice,
    )
    .await
    .names_field(422, "unit_ids[1]");
    // A unit that already has an open task of the directive.
    let again = json!({"unit_ids": [w.unit("VA"), w.unit("A")]});
    app.post(
        &format!("/api/v1/directives/{d}/tasks"),
        w.token("leader"),
        &again,
    )
    .await
    .names_field(422, "unit_ids[1]");
    assert_eq!(
        total(&app.get(TASKS, w.token("admin")).await.ok(200)),
        before
    );
    // Both lists and a selector, no deadline, a deadline in the past, a bad weight.
    app.post(
        &format!("/api/v1/directives/{d2}/tasks"),
        w.token("leader"),
        &json!({"unit_ids": [w.unit("A")], "selector": {"under": w.unit("D"), "kind": "town"}}),
    )
    .await
    .names_field(422, "unit_ids");
    app.post(
        &format!("/api/v1/directives/{d2}/tasks"),
        w.token("leader"),
        &json!({"unit_ids": [w.unit("A")], "due_at": "2020-07-01T00:00:00Z", "weight": 0}),
    )
    .await
    .names_field(422, "weight");
    app.post(
        &format!("/api/v1/directives/{d2}/tasks"),
        w.token("leader"),
        &json!({"unit_ids": [w.unit("A")], "due_at": "2020-07-01T00:00:00Z"}),
    )
    .await
    .names_field(422, "due_at");
    app.post(
        &format!("/api/v1/directives/{d2}/tasks"),
        w.token("leader"),
        &json!({"selector": {"under": w.unit("GA"), "kind": "town"}}),
    )
    .await
    .names_field(422, "selector");
}

#[actix_web::test]
async fn an_office_splits_its_own_directives_to_its_own_units() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "office", &campaign, "寨庄村背街小巷整治").await;
    // Its own subtree: yes. Another town: "no such unit" (it does not see it). A unit it
    // only reads through a pairing is not its own either.
    split(&app, &w, "office", &d, &["VA"]).await;
    app.post(
        &format!("/api/v1/directives/{d}/tasks"),
        w.token("office"),
        &json!({"unit_ids": [w.unit("B")]}),
    )
    .await
    .names_field(422, "unit_ids[0]");
    // Officers and inspectors do not split; B's officer does not see the directive.
    for who in ["officer", "inspector"] {
        app.post(
            &format!("/api/v1/directives/{d}/tasks"),
            w.token(who),
            &json!({"unit_ids": [w.unit("GA")]}),
        )
        .await
        .problem(403, "forbidden");
    }
    app.post(
        &format!("/api/v1/directives/{d}/tasks"),
        w.token("officer_b"),
        &json!({"unit_ids": [w.unit("GA")]}),
    )
    .await
    .problem(404, "not_found");
    // An assignee must belong to the unit.
    app.post(
        &format!("/api/v1/directives/{d}/tasks"),
        w.token("office"),
        &json!({"unit_ids": [w.unit("GA")], "assignee_id": w.user("officer_b")}),
    )
    .await
    .names_field(422, "assignee_id");
    let assigned = app
        .post(
            &format!("/api/v1/directives/{d}/tasks"),
            w.token("office"),
            &json!({"unit_ids": [w.unit("GA")], "assignee_id": w.user("inspector"), "title": "寨庄第一网格巡查"}),
        )
        .await
        .ok(201);
    assert_eq!(assigned["items"][0]["assignee_name"], "inspector_a（测试）");
    assert_eq!(assigned["items"][0]["title"], "寨庄第一网格巡查");
}

#[actix_web::test]
async fn the_workflow_from_assignment_to_acceptance() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "leader", &campaign, "防汛值班表报送").await;
    let t = split(&app, &w, "leader", &d, &["A"]).await.remove(0);
    let (officer, office, leader) = (w.token("officer"), w.token("office"), w.token("leader"));

    // Not allowed from `assigned`: 409 naming what is.
    let refused = act(&app, "officer", &t, officer, json!({"action": "submit"}))
        .await
        .problem(409, "invalid_transition");
    assert_eq!(
        refused["allowed"],
        json!(["start", "request_extension", "reassign", "cancel"])
    );
    // The unit's side starts and reports; the leader does not work on it; B does not see it.
    act(&app, "leader", &t, leader, json!({"action": "start"}))
        .await
        .problem(403, "forbidden");
    act(
        &app,
        "officer_b",
        &t,
        w.token("officer_b"),
        json!({"action": "start"}),
    )
    .await
    .problem(404, "not_found");
    let started = act(&app, "officer", &t, officer, json!({"action": "start"}))
        .await
        .ok(200);
    assert_eq!(started["status"], "in_progress");
    assert_eq!(started["started_at"], "2020-07-24T01:00:00Z");
    let progress = format!("{}/progress", task_url(&t));
    app.post(
        &progress,
        officer,
        &json!({"progress": 40, "note": "预案初稿完成"}),
    )
    .await
    .ok(200);
    // Lower without a note: refused, naming the note; with one: accepted.
    app.post(&progress, officer, &json!({"progress": 30}))
        .await
        .names_field(422, "note");
    app.post(&progress, officer, &json!({"progress": 101}))
        .await
        .names_field(422, "progress");
    app.post(
        &progress,
        officer,
        &json!({"progress": 30, "note": "重新核算"}),
    )
    .await
    .ok(200);
    // Submitted by the officer: the leader sends it back (a reason is required).
    let submitted = act(&app, "officer", &t, officer, json!({"action": "submit"}))
        .await
        .ok(200);
    assert_eq!(submitted["progress"], 100);
    assert_eq!(submitted["submitted_by"], w.user("officer"));
    act(&app, "leader", &t, leader, json!({"action": "reject"}))
        .await
        .names_field(422, "note");
    act(&app, "officer", &t, officer, json!({"action": "accept"}))
        .await
        .problem(403, "forbidden");
    let rejected = act(
        &app,
        "leader",
        &t,
        leader,
        json!({"action": "reject", "note": "值班表缺少夜间带班领导"}),
    )
    .await
    .ok(200);
    assert_eq!(rejected["status"], "in_progress");
    assert_eq!(rejected["rework_count"], 1);
    // This time the office submits; it may not accept its own submission, the leader may.
    act(&app, "office", &t, office, json!({"action": "submit"}))
        .await
        .ok(200);
    // The issuer's side of a district directive is the district's, not A's office.
    act(&app, "office", &t, office, json!({"action": "accept"}))
        .await
        .problem(403, "outside_your_units");
    app.set_clock("2020-07-30T10:00:00+08:00");
    let accepted = act(&app, "leader", &t, leader, json!({"action": "accept"}))
        .await
        .ok(200);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["closed_on_time"], true);
    assert_eq!(accepted["overdue"], false);
    assert_eq!(accepted["allowed_actions"], json!([]));
    act(
        &app,
        "leader",
        &t,
        leader,
        json!({"action": "cancel", "note": "x"}),
    )
    .await
    .problem(409, "invalid_transition");

    // Every change is an event, in order, with its actor and note.
    let events = app
        .get(&format!("{}/events", task_url(&t)), officer)
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
        ["created", "start", "progress", "progress", "submit", "reject", "submit", "accept"]
    );
    let reject = &events["items"][5];
    assert_eq!(reject["note"], "值班表缺少夜间带班领导");
    assert_eq!(reject["from_status"], "submitted");
    assert_eq!(reject["to_status"], "in_progress");
    assert_eq!(reject["changes"]["rework_count"], json!([0, 1]));
    assert_eq!(events["items"][3]["changes"]["progress"], json!([40, 30]));
    assert_eq!(events["items"][3]["note"], "重新核算");
    assert_eq!(events["total"], accepted["version"]);
}

#[actix_web::test]
async fn an_office_verifies_the_work_it_issued_but_never_its_own_submission() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "office", &campaign, "寨庄村防汛物资清点").await;
    let t = split(&app, &w, "office", &d, &["VA"]).await.remove(0);
    let office = w.token("office");
    act(&app, "office", &t, office, json!({"action": "start"}))
        .await
        .ok(200);
    act(&app, "office", &t, office, json!({"action": "submit"}))
        .await
        .ok(200);
    act(&app, "office", &t, office, json!({"action": "accept"}))
        .await
        .problem(403, "own_submission");
    // The leader and the admin may; so may the office once someone else submitted.
    act(
        &app,
        "office",
        &t,
        office,
        json!({"action": "reject", "note": "重新清点"}),
    )
    .await
    .problem(403, "own_submission");
    act(
        &app,
        "leader",
        &t,
        w.token("leader"),
        json!({"action": "reject", "note": "重新清点"}),
    )
    .await
    .ok(200);
    act(
        &app,
        "officer",
        &t,
        w.token("officer"),
        json!({"action": "submit"}),
    )
    .await
    .ok(200);
    act(&app, "office", &t, office, json!({"action": "accept"}))
        .await
        .ok(200);
}

#[actix_web::test]
async fn extensions_are_asked_before_the_deadline_and_judged_on_the_original() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "leader", &campaign, "闸门启闭试运行").await;
    let tasks = split(&app, &w, "leader", &d, &["A", "B"]).await;
    let (ta, tb) = (&tasks[0], &tasks[1]);
    let (officer, leader) = (w.token("officer"), w.token("leader"));
    // A needs a date later than the deadline and a reason.
    act(
        &app,
        "officer",
        ta,
        officer,
        json!({"action": "request_extension", "note": "等待配件"}),
    )
    .await
    .names_field(422, "new_due_at");
    act(
        &app,
        "officer",
        ta,
        officer,
        json!({"action": "request_extension", "new_due_at": "2020-08-01T00:00:00Z", "note": "等待配件"}),
    )
    .await
    .names_field(422, "new_due_at");
    let asked = act(
        &app,
        "officer",
        ta,
        officer,
        json!({"action": "request_extension", "new_due_at": "2020-08-10T18:00:00+08:00", "note": "等待闸门配件到货"}),
    )
    .await
    .ok(200);
    assert_eq!(asked["extension"]["due_at"], "2020-08-10T10:00:00Z");
    assert_eq!(asked["extension"]["note"], "等待闸门配件到货");
    // One request at a time; the unit may not decide it; the issuer's side does.
    act(
        &app,
        "officer",
        ta,
        officer,
        json!({"action": "request_extension", "new_due_at": "2020-08-11T00:00:00Z", "note": "再延"}),
    )
    .await
    .problem(409, "invalid_transition");
    act(
        &app,
        "officer",
        ta,
        officer,
        json!({"action": "approve_extension"}),
    )
    .await
    .problem(403, "forbidden");
    let approved = act(
        &app,
        "leader",
        ta,
        leader,
        json!({"action": "approve_extension"}),
    )
    .await
    .ok(200);
    assert_eq!(approved["due_at"], "2020-08-10T10:00:00Z");
    assert_eq!(approved["original_due_at"], "2020-08-03T10:00:00Z");
    assert_eq!(approved["extension"], Value::Null);
    // Done within the extension but after the original deadline: not on time.
    app.set_clock("2020-08-05T09:00:00+08:00");
    act(&app, "officer", ta, officer, json!({"action": "start"}))
        .await
        .ok(200);
    act(&app, "officer", ta, officer, json!({"action": "submit"}))
        .await
        .ok(200);
    let accepted = act(&app, "leader", ta, leader, json!({"action": "accept"}))
        .await
        .ok(200);
    assert_eq!(accepted["closed_on_time"], false);
    // B asks after its deadline: too late.
    act(
        &app,
        "officer_b",
        tb,
        w.token("officer_b"),
        json!({"action": "request_extension", "new_due_at": "2020-08-20T00:00:00Z", "note": "晚了"}),
    )
    .await
    .problem(409, "deadline_passed");
    let late = task(&app, &w, tb).await;
    assert_eq!(late["overdue"], true);
    assert_eq!(late["warning"], "red");
}

#[actix_web::test]
async fn extensions_can_be_denied_and_tasks_reassigned_or_cancelled() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "office", &campaign, "寨庄村排水沟清淤").await;
    let t = split(&app, &w, "office", &d, &["VA"]).await.remove(0);
    let office = w.token("office");
    act(
        &app,
        "officer",
        &t,
        w.token("officer"),
        json!({"action": "request_extension", "new_due_at": "2020-08-20T00:00:00Z", "note": "雨天"}),
    )
    .await
    .ok(200);
    let denied = act(
        &app,
        "office",
        &t,
        office,
        json!({"action": "deny_extension", "note": "汛期不能延"}),
    )
    .await
    .ok(200);
    assert_eq!(denied["extension"], Value::Null);
    assert_eq!(denied["due_at"], "2020-08-03T10:00:00Z");
    // Reassign within the office's units; a unit it does not act for is refused.
    act(
        &app,
        "officer",
        &t,
        w.token("officer"),
        json!({"action": "start"}),
    )
    .await
    .ok(200);
    act(&app, "office", &t, office, json!({"action": "reassign"}))
        .await
        .names_field(422, "unit_id");
    act(
        &app,
        "office",
        &t,
        office,
        json!({"action": "reassign", "unit_id": w.unit("B")}),
    )
    .await
    .names_field(422, "unit_id");
    let moved = act(
        &app,
        "office",
        &t,
        office,
        json!({"action": "reassign", "unit_id": w.unit("GA"), "assignee_id": w.user("inspector")}),
    )
    .await
    .ok(200);
    assert_eq!(moved["unit_name"], "寨庄第一网格");
    assert_eq!(moved["status"], "assigned", "a new unit starts over");
    assert_eq!(moved["assignee_id"], w.user("inspector"));
    // The inspector now sees it and is told.
    app.get(&task_url(&t), w.token("inspector")).await.ok(200);
    let inbox = app
        .get("/api/v1/notifications?unread=true", w.token("inspector"))
        .await
        .ok(200);
    assert_eq!(inbox["items"][0]["kind"], "task_reassigned");
    // Cancelling needs a reason.
    act(&app, "office", &t, office, json!({"action": "cancel"}))
        .await
        .names_field(422, "note");
    let cancelled = act(
        &app,
        "office",
        &t,
        office,
        json!({"action": "cancel", "note": "已由区级统一实施"}),
    )
    .await
    .ok(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["closed_on_time"], Value::Null);
    assert_eq!(cancelled["overdue"], false);
    // A transition takes only its own fields.
    act(
        &app,
        "office",
        &t,
        office,
        json!({"action": "accept", "unit_id": w.unit("A")}),
    )
    .await
    .names_field(422, "unit_id");
}

/// Warnings at fixed times, in the view and in the list filters, with the default rules
/// (blue within 72 h, yellow 10 points behind the line or under 10 % of the time left).
#[actix_web::test]
async fn warnings_follow_the_clock() {
    let (app, w, campaign) = world().await;
    // 24 July 09:00 → 3 August 09:00 (+08:00): ten days.
    let d = directive(&app, &w, "leader", &campaign, "河道清障").await;
    let due =
        json!({"unit_ids": [w.unit("A"), w.unit("B")], "due_at": "2020-08-03T09:00:00+08:00"});
    let created = app
        .post(
            &format!("/api/v1/directives/{d}/tasks"),
            w.token("leader"),
            &due,
        )
        .await
        .ok(201);
    let (ta, tb) = (id(&created["items"][0]), id(&created["items"][1]));
    let officer = w.token("officer");
    act(&app, "officer", &ta, officer, json!({"action": "start"}))
        .await
        .ok(200);
    let colour = |t: Value| t["warning"].as_str().unwrap().to_string();
    assert_eq!(colour(task(&app, &w, &ta).await), "none");
    assert_eq!(listed(&app, &w, &d, "none").await.len(), 2);
    // Day 3 (20 % of the time gone): A at 15 % is within the tolerance, B at 0 % is behind.
    app.set_clock("2020-07-26T09:00:00+08:00");
    app.post(
        &format!("{}/progress", task_url(&ta)),
        officer,
        &json!({"progress": 15}),
    )
    .await
    .ok(200);
    assert_eq!(colour(task(&app, &w, &ta).await), "none");
    assert_eq!(colour(task(&app, &w, &tb).await), "yellow");
    assert_eq!(listed(&app, &w, &d, "yellow").await, vec![tb.clone()]);
    assert_eq!(listed(&app, &w, &d, "none").await, vec![ta.clone()]);
    // Day 8 (70 % gone), A at 80 %: on pace, due within 72 h: blue.
    app.set_clock("2020-07-31T09:00:00+08:00");
    app.post(
        &format!("{}/progress", task_url(&ta)),
        officer,
        &json!({"progress": 80}),
    )
    .await
    .ok(200);
    assert_eq!(colour(task(&app, &w, &ta).await), "blue");
    assert_eq!(listed(&app, &w, &d, "blue").await, vec![ta.clone()]);
    // Past the deadline: red and overdue for both until accepted.
    app.set_clock("2020-08-03T09:00:01+08:00");
    assert_eq!(colour(task(&app, &w, &ta).await), "red");
    assert_eq!(task(&app, &w, &tb).await["overdue"], true);
    let mut red = vec![ta.clone(), tb.clone()];
    red.sort();
    assert_eq!(listed(&app, &w, &d, "red").await, red);
    let overdue = app
        .get(&format!("{TASKS}?overdue=true"), w.token("officer"))
        .await
        .ok(200);
    assert_eq!(overdue["total"], 1, "the officer of A sees only A's");
    assert_eq!(overdue["items"][0]["id"], json!(ta));
    // Accepted late: no colour, not overdue, not on time.
    act(&app, "officer", &ta, officer, json!({"action": "submit"}))
        .await
        .ok(200);
    act(
        &app,
        "leader",
        &ta,
        w.token("leader"),
        json!({"action": "accept"}),
    )
    .await
    .ok(200);
    let done = task(&app, &w, &ta).await;
    assert_eq!(
        (done["warning"].as_str(), done["overdue"].as_bool()),
        (Some("none"), Some(false))
    );
    assert_eq!(done["closed_on_time"], false);
    assert_eq!(listed(&app, &w, &d, "red").await, vec![tb.clone()]);
}

#[actix_web::test]
async fn directive_and_campaign_progress_roll_up() {
    let (app, w, campaign) = world().await;
    let d1 = directive(&app, &w, "leader", &campaign, "应急预案").await;
    let heavy = app
        .post(
            &format!("/api/v1/directives/{d1}/tasks"),
            w.token("leader"),
            &json!({"unit_ids": [w.unit("A")], "weight": 3}),
        )
        .await
        .ok(201);
    let ta = id(&heavy["items"][0]);
    let tb = split(&app, &w, "leader", &d1, &["B"]).await.remove(0);
    let tp = split(&app, &w, "leader", &d1, &["P"]).await.remove(0);
    act(
        &app,
        "officer",
        &ta,
        w.token("officer"),
        json!({"action": "start"}),
    )
    .await
    .ok(200);
    app.post(
        &format!("{}/progress", task_url(&ta)),
        w.token("officer"),
        &json!({"progress": 50}),
    )
    .await
    .ok(200);
    act(
        &app,
        "officer_b",
        &tb,
        w.token("officer_b"),
        json!({"action": "start"}),
    )
    .await
    .ok(200);
    act(
        &app,
        "officer_b",
        &tb,
        w.token("officer_b"),
        json!({"action": "submit"}),
    )
    .await
    .ok(200);
    act(
        &app,
        "leader",
        &tp,
        w.token("leader"),
        json!({"action": "cancel", "note": "不涉及"}),
    )
    .await
    .ok(200);
    // (50 × 3 + 100 × 1) / 4; the cancelled task does not count.
    let view = app
        .get(&format!("/api/v1/directives/{d1}"), w.token("leader"))
        .await
        .ok(200);
    assert_eq!(view["progress"], 62.5);
    assert_eq!(view["task_counts"]["in_progress"], 1);
    assert_eq!(view["task_counts"]["submitted"], 1);
    assert_eq!(view["task_counts"]["cancelled"], 1);
    assert_eq!(view["task_counts"]["total"], 3);
    // A second directive at 0 %: the campaign is the average of the two.
    let d2 = directive(&app, &w, "leader", &campaign, "值班表").await;
    split(&app, &w, "leader", &d2, &["A"]).await;
    let c = app
        .get(&format!("/api/v1/campaigns/{campaign}"), w.token("leader"))
        .await
        .ok(200);
    assert_eq!(c["progress"], 31.3);
    // A directive without tasks does not drag the campaign down.
    directive(&app, &w, "leader", &campaign, "尚未分解").await;
    let c = app
        .get(&format!("/api/v1/campaigns/{campaign}"), w.token("leader"))
        .await
        .ok(200);
    assert_eq!(c["progress"], 31.3);
}

#[actix_web::test]
async fn task_lists_filter_sort_and_keep_to_scope() {
    let (app, w, campaign) = world().await;
    let urgent = app
        .post(
            "/api/v1/directives",
            w.token("leader"),
            &json!({"campaign_id": campaign, "title": "急办：堤防隐患排查", "priority": "urgent"}),
        )
        .await
        .ok(201);
    let normal = directive(&app, &w, "leader", &campaign, "防汛宣传").await;
    let due = json!({"unit_ids": [w.unit("A"), w.unit("B")], "due_at": "2020-08-10T00:00:00Z"});
    app.post(
        &format!("/api/v1/directives/{}/tasks", id(&urgent)),
        w.token("leader"),
        &due,
    )
    .await
    .ok(201);
    let mine = app
        .post(
            &format!("/api/v1/directives/{normal}/tasks"),
            w.token("leader"),
            &json!({"unit_ids": [w.unit("A")], "assignee_id": w.user("officer")}),
        )
        .await
        .ok(201);
    let mine = id(&mine["items"][0]);
    act(
        &app,
        "officer",
        &mine,
        w.token("officer"),
        json!({"action": "start"}),
    )
    .await
    .ok(200);
    // Scope: A's officer sees A's two tasks, never B's; the unit filter takes the subtree.
    let page = app.get(TASKS, w.token("officer")).await.ok(200);
    assert_eq!(page["total"], 2);
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["unit_name"] == "吕陵镇"));
    let page = app
        .get(
            &format!("{TASKS}?unit_id={}", w.unit("D")),
            w.token("admin"),
        )
        .await
        .ok(200);
    assert_eq!(page["total"], 3);
    // Repeatable status, assignee=me, Chinese text, priority first.
    let page = app
        .get(
            &format!("{TASKS}?status=in_progress&status=submitted"),
            w.token("admin"),
        )
        .await
        .ok(200);
    assert_eq!(page["total"], 1);
    let page = app
        .get(&format!("{TASKS}?assignee=me"), w.token("officer"))
        .await
        .ok(200);
    assert_eq!(page["items"][0]["id"], json!(mine));
    assert_eq!(page["total"], 1);
    let page = app
        .get(&format!("{TASKS}?q={}", encode("堤防")), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(page["total"], 2);
    let page = app
        .get(&format!("{TASKS}?sort=-priority"), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(page["items"][0]["priority"], "urgent");
    assert_eq!(page["items"][2]["priority"], "high");
    let page = app
        .get(
            &format!("{TASKS}?due_before=2020-08-05T00:00:00Z"),
            w.token("admin"),
        )
        .await
        .ok(200);
    assert_eq!(page["total"], 1, "the directive's default, 3 August");
    // Bad parameters name themselves.
    app.get(&format!("{TASKS}?status=done"), w.token("admin"))
        .await
        .names_field(400, "status");
    app.get(&format!("{TASKS}?assignee=you"), w.token("admin"))
        .await
        .names_field(400, "assignee");
    app.get(
        &format!("{TASKS}?due_before=1900-01-01T00:00:00Z"),
        w.token("admin"),
    )
    .await
    .names_field(400, "due_before");
}

#[actix_web::test]
async fn notifications_follow_the_work_and_the_deadlines() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "leader", &campaign, "防汛物资储备").await;
    let t = split(&app, &w, "leader", &d, &["A"]).await.remove(0);
    // Assigned to A: A's officer and office hear of it; B's officer does not.
    let inbox = app
        .get("/api/v1/notifications", w.token("officer"))
        .await
        .ok(200);
    assert_eq!(inbox["total"], 1);
    assert_eq!(inbox["items"][0]["kind"], "task_assigned");
    assert_eq!(inbox["items"][0]["task_id"], json!(t));
    assert_eq!(inbox["items"][0]["unread"], true);
    assert_eq!(
        app.get("/api/v1/notifications", w.token("office"))
            .await
            .ok(200)["total"],
        1
    );
    assert_eq!(
        app.get("/api/v1/notifications", w.token("officer_b"))
            .await
            .ok(200)["total"],
        0
    );
    // Submitted: the issuer hears; rejected: the unit hears, with the reason.
    act(
        &app,
        "officer",
        &t,
        w.token("officer"),
        json!({"action": "start"}),
    )
    .await
    .ok(200);
    act(
        &app,
        "officer",
        &t,
        w.token("officer"),
        json!({"action": "submit"}),
    )
    .await
    .ok(200);
    let leader_inbox = app
        .get("/api/v1/notifications", w.token("leader"))
        .await
        .ok(200);
    assert_eq!(leader_inbox["items"][0]["kind"], "task_submitted");
    act(
        &app,
        "leader",
        &t,
        w.token("leader"),
        json!({"action": "reject", "note": "缺少照片"}),
    )
    .await
    .ok(200);
    let inbox = app
        .get("/api/v1/notifications", w.token("officer"))
        .await
        .ok(200);
    assert_eq!(inbox["items"][0]["kind"], "task_rejected");
    assert_eq!(inbox["items"][0]["body"], "缺少照片");
    // Read one, then all; someone else's is not found.
    let first = id(&inbox["items"][0]);
    let read = app
        .post(
            &format!("/api/v1/notifications/{first}/read"),
            w.token("officer"),
            &json!({}),
        )
        .await
        .ok(200);
    assert_eq!(read["unread"], false);
    app.post(
        &format!("/api/v1/notifications/{first}/read"),
        w.token("office"),
        &json!({}),
    )
    .await
    .problem(404, "not_found");
    let unread = app
        .get("/api/v1/notifications?unread=true", w.token("officer"))
        .await
        .ok(200);
    assert_eq!(unread["total"], 1);
    let marked = app
        .post(
            "/api/v1/notifications/read-all",
            w.token("officer"),
            &json!({}),
        )
        .await
        .ok(200);
    assert_eq!(marked["marked"], 1);
    // Unread first, then newest first.
    let all = app
        .get("/api/v1/notifications", w.token("office"))
        .await
        .ok(200);
    assert_eq!(all["items"][0]["unread"], true);

    // The deadline sweep: "due soon" inside the 72 h window, "overdue" past the deadline;
    // each once, however often (and by however many replicas) it runs.
    let sweep = |at: &str| {
        app.set_clock(at);
        let now = app.state.clock.now();
        let rules = app.state.config.warnings;
        app.db(|conn| {
            jobs::sweep_deadlines(
                conn,
                "test",
                now,
                &rules,
                std::time::Duration::from_secs(86_400),
            )
            .expect("sweep")
        })
    };
    let swept = sweep("2020-07-25T09:00:00+08:00").expect("claimed");
    assert_eq!((swept.due_soon, swept.overdue), (0, 0));
    let swept = sweep("2020-07-31T19:00:00+08:00").expect("claimed");
    assert_eq!(swept.due_soon, 2, "A's officer and office");
    let swept = sweep("2020-07-31T19:05:00+08:00").expect("claimed");
    assert_eq!(swept.due_soon, 0, "not twice");
    let swept = sweep("2020-08-04T09:00:00+08:00").expect("claimed");
    assert_eq!(swept.overdue, 2);
    // A replica that finds the job claimed does nothing.
    let now = app.state.clock.now();
    let claimed = app.db(|conn| {
        jobs::claim(
            conn,
            jobs::DEADLINE_SWEEP,
            "other",
            now + chrono::TimeDelta::seconds(1),
            chrono::TimeDelta::minutes(5),
        )
        .expect("claim")
    });
    assert!(claimed.is_some());
    let rules = app.state.config.warnings;
    let second = app.db(|conn| {
        jobs::sweep_deadlines(
            conn,
            "test",
            now,
            &rules,
            std::time::Duration::from_secs(86_400),
        )
        .expect("sweep")
    });
    assert!(second.is_none(), "another replica holds the sweep");
    let inbox = app
        .get("/api/v1/notifications", w.token("officer"))
        .await
        .ok(200);
    let kinds: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "task_overdue").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "task_due_soon").count(), 1);
}

#[actix_web::test]
async fn concurrent_sweeps_write_each_notification_once() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "leader", &campaign, "防汛值守").await;
    split(&app, &w, "leader", &d, &["A", "B"]).await;
    app.set_clock("2020-08-04T09:00:00+08:00");
    let now = app.state.clock.now();
    let rules = app.state.config.warnings;
    // Two "replicas" sweep at once, each on its own connection.
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let db = app.state.db.clone();
            std::thread::spawn(move || {
                let mut conn = db.get().expect("connection");
                jobs::sweep_deadlines(
                    &mut conn,
                    &format!("replica-{i}"),
                    now,
                    &rules,
                    std::time::Duration::from_secs(86_400),
                )
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    let written: usize = results
        .iter()
        .map(|r| {
            r.as_ref()
                .ok()
                .and_then(|s| s.map(|s| s.overdue))
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(
        written, 3,
        "A's officer and office, B's officer: {results:?}"
    );
    let overdue = app.db(|conn| {
        use campaign_tracker::db::schema::notifications;
        use diesel::prelude::*;
        notifications::table
            .filter(notifications::kind.eq("task_overdue"))
            .count()
            .get_result::<i64>(conn)
            .expect("count")
    });
    assert_eq!(overdue, 3);
}

#[actix_web::test]
async fn stale_if_match_and_retried_transitions() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "leader", &campaign, "防汛演练").await;
    let t = split(&app, &w, "leader", &d, &["A"]).await.remove(0);
    let read = app.get(&task_url(&t), w.token("officer")).await;
    let etag = read.header("etag").expect("ETag").to_string();
    assert_eq!(etag, "\"1\"");
    let officer = w.token("officer");
    let transitions = format!("{}/transitions", task_url(&t));
    let start = json!({"action": "start"});
    let first = app
        .send_with(
            Method::POST,
            &transitions,
            officer,
            Some(&start),
            &[("If-Match", &etag), ("Idempotency-Key", "start-1")],
        )
        .await;
    first.ok(200);
    // The same request again (a mobile retry): the first answer, not a 409.
    let retry = app
        .send_with(
            Method::POST,
            &transitions,
            officer,
            Some(&start),
            &[("If-Match", &etag), ("Idempotency-Key", "start-1")],
        )
        .await;
    assert_eq!(retry.status.as_u16(), 200, "{}", retry.text);
    assert_eq!(retry.text, first.text);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    // Someone else's stale view: 412 with the task as it is now.
    let stale = app
        .send_with(
            Method::POST,
            &format!("{}/progress", task_url(&t)),
            w.token("office"),
            Some(&json!({"progress": 10})),
            &[("If-Match", &etag)],
        )
        .await;
    let problem = stale.problem(412, "precondition_failed");
    assert_eq!(problem["current"]["status"], "in_progress");
    assert_eq!(stale.header("etag"), Some("\"2\""));
    let events = app
        .get(&format!("{}/events", task_url(&t)), officer)
        .await
        .ok(200);
    assert_eq!(events["total"], 2, "created and one start");
}

#[actix_web::test]
async fn two_acceptances_at_once_accept_once() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "leader", &campaign, "防汛检查").await;
    let t = split(&app, &w, "leader", &d, &["A"]).await.remove(0);
    act(
        &app,
        "officer",
        &t,
        w.token("officer"),
        json!({"action": "start"}),
    )
    .await
    .ok(200);
    act(
        &app,
        "officer",
        &t,
        w.token("officer"),
        json!({"action": "submit"}),
    )
    .await
    .ok(200);
    let transitions = format!("{}/transitions", task_url(&t));
    let answers = at_once(6, |i| {
        let who = if i % 2 == 0 { "leader" } else { "admin" };
        let body = if i % 3 == 0 {
            json!({"action": "reject", "note": "并发退回"})
        } else {
            json!({"action": "accept"})
        };
        let app = &app;
        let w = &w;
        let transitions = transitions.clone();
        async move { app.post(&transitions, w.token(who), &body).await }
    })
    .await;
    assert_eq!(count_status(&answers, 200), 1, "{answers:?}");
    assert_eq!(count_status(&answers, 409), 5);
    let events = app
        .get(&format!("{}/events", task_url(&t)), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(
        events["total"], 4,
        "created, start, submit, and one decision"
    );
}

#[actix_web::test]
async fn nothing_is_written_under_a_closed_campaign() {
    let (app, w, campaign) = world().await;
    let d = directive(&app, &w, "leader", &campaign, "汛后总结").await;
    let t = split(&app, &w, "leader", &d, &["A"]).await.remove(0);
    app.post(
        &format!("/api/v1/campaigns/{campaign}/transitions"),
        w.token("admin"),
        &json!({"action": "close"}),
    )
    .await
    .ok(200);
    act(
        &app,
        "officer",
        &t,
        w.token("officer"),
        json!({"action": "start"}),
    )
    .await
    .problem(409, "campaign_closed");
    app.post(
        &format!("/api/v1/directives/{d}/tasks"),
        w.token("leader"),
        &json!({"unit_ids": [w.unit("B")]}),
    )
    .await
    .problem(409, "campaign_closed");
    app.post(
        "/api/v1/directives",
        w.token("leader"),
        &json!({"campaign_id": campaign, "title": "关闭后"}),
    )
    .await
    .problem(409, "campaign_closed");
    app.patch(
        &format!("/api/v1/directives/{d}"),
        w.token("leader"),
        &json!({"title": "改"}),
    )
    .await
    .problem(409, "campaign_closed");
    // Reading goes on.
    assert_eq!(task(&app, &w, &t).await["status"], "assigned");
}

/// The demo district's campaign work, loaded today: tasks in every state, some on time and
/// some late, one rejected once, some overdue now, an extension waiting — and each
/// record's events match its version.
#[actix_web::test]
async fn the_demo_has_work_in_every_state() {
    let app = TestApp::new().await;
    app.db(|conn| {
        campaign_tracker::demo::load(conn, &app.state.attachments, &mut |_| {})
            .expect("the demo loads")
    });
    let admin = app.db(|conn| {
        use campaign_tracker::db::schema::users;
        use diesel::prelude::*;
        users::table
            .filter(users::username.eq("leader"))
            .select(users::id)
            .get_result::<String>(conn)
            .expect("the demo leader")
    });
    let token = app.token_for(&admin);
    let page = app
        .get(&format!("{TASKS}?per_page=100"), &token)
        .await
        .ok(200);
    let tasks = page["items"].as_array().expect("items");
    assert_eq!(tasks.len(), 21);
    for status in [
        "assigned",
        "in_progress",
        "submitted",
        "accepted",
        "cancelled",
    ] {
        assert!(tasks.iter().any(|t| t["status"] == status), "none {status}");
    }
    for warning in ["none", "blue", "yellow", "red"] {
        assert!(
            tasks.iter().any(|t| t["warning"] == warning),
            "none {warning}"
        );
    }
    assert!(tasks.iter().any(|t| t["closed_on_time"] == true));
    assert!(tasks.iter().any(|t| t["closed_on_time"] == false));
    assert!(tasks.iter().any(|t| t["rework_count"] == 1));
    assert!(tasks.iter().any(|t| t["extension"].is_object()));
    let campaigns = app.get("/api/v1/campaigns", &token).await.ok(200);
    let statuses: Vec<&str> = campaigns["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"closed") && statuses.contains(&"active"));
    let activities = app.get("/api/v1/activities", &token).await.ok(200);
    assert_eq!(activities["total"], 2);
    // 马岭岗镇's officer sees its own tasks only.
    let officer = app.db(|conn| {
        use campaign_tracker::db::schema::users;
        use diesel::prelude::*;
        users::table
            .filter(users::username.eq("officer"))
            .select(users::id)
            .get_result::<String>(conn)
            .expect("the demo officer")
    });
    let mine = app
        .get(&format!("{TASKS}?per_page=100"), &app.token_for(&officer))
        .await
        .ok(200);
    assert!(mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["unit_name"] == "马岭岗镇"));
    assert_eq!(mine["total"], 7);
}
