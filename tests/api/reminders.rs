//! Reminders (催办) and the notifications of work with a deadline, for tasks and
//! rectification items alike: found by state (due soon, overdue) however short the
//! deadline and whenever the last sweep ran, each sent once per deadline even when two
//! replicas sweep at the same moment; an item's transitions tell the people concerned.

use serde_json::{json, Value};

use campaign_tracker::jobs;
use campaign_tracker::notifications::Swept;

use crate::common::*;

/// Friday 24 July 2020, 09:00 in the district.
const START: &str = "2020-07-24T09:00:00+08:00";

/// Sweeps as `replicas` replicas at once at the app's current time; what each wrote.
fn sweep_racing(app: &TestApp, replicas: usize) -> Vec<Option<Swept>> {
    let now = app.state.clock.now();
    let rules = app.state.config.warnings;
    let handles: Vec<_> = (0..replicas)
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
                .expect("sweep")
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect()
}

/// The kinds of the caller's notifications about `record` (`task_id` or
/// `rectification_id`), oldest first.
async fn kinds_about(app: &TestApp, token: &str, field: &str, record: &str) -> Vec<String> {
    let inbox = app
        .get("/api/v1/notifications?per_page=100", token)
        .await
        .ok(200);
    let mut found: Vec<(String, String)> = inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n[field] == record)
        .map(|n| {
            (
                n["created_at"].as_str().unwrap_or_default().to_string(),
                n["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, kind)| kind).collect()
}

/// A category routed to the town above the grid, fixed within `hours`.
async fn category(app: &TestApp, w: &World, hours: i64) -> String {
    let made = app
        .post(
            "/api/v1/categories",
            w.token("admin"),
            &json!({"code": format!("ZDLJ-{hours}"), "name": "占道垃圾", "default_severity": "normal",
                    "deadline_hours": hours, "routing": {"unit_kind": "town"}}),
        )
        .await
        .ok(201);
    made["id"].as_str().expect("id").to_string()
}

async fn report(app: &TestApp, w: &World, category: &str) -> Value {
    let (lon, lat) = GA_POINT;
    app.post(
        "/api/v1/rectifications",
        w.token("inspector"),
        &json!({"source": "patrol", "category_id": category, "description": "路口堆放建筑垃圾",
                "lat": lat, "lon": lon}),
    )
    .await
    .ok(201)
}

#[actix_web::test]
async fn an_item_due_soon_and_then_overdue_reminds_its_unit_once_with_two_sweepers() {
    let (app, w) = TestApp::with_world().await;
    app.set_clock(START);
    // Two hours to fix: less than the due-soon window (72 h) from the start.
    let category = category(&app, &w, 2).await;
    let item = report(&app, &w, &category).await;
    let id = item["id"].as_str().expect("id").to_string();
    assert_eq!(item["unit_id"], w.unit("A"), "routed to 吕陵镇");
    // Its unit heard of it when it was routed.
    assert_eq!(
        kinds_about(&app, w.token("officer"), "rectification_id", &id).await,
        ["item_assigned"]
    );

    let swept = sweep_racing(&app, 2);
    let due_soon: usize = swept.iter().flatten().map(|s| s.due_soon).sum();
    assert_eq!(due_soon, 2, "A's officer and office, once: {swept:?}");
    let again = sweep_racing(&app, 2);
    assert_eq!(again.iter().flatten().map(|s| s.due_soon).sum::<usize>(), 0);

    app.set_clock("2020-07-24T12:00:00+08:00");
    let swept = sweep_racing(&app, 2);
    let overdue: usize = swept.iter().flatten().map(|s| s.overdue).sum();
    assert_eq!(overdue, 2, "{swept:?}");
    assert_eq!(
        sweep_racing(&app, 2)
            .iter()
            .flatten()
            .map(|s| s.overdue)
            .sum::<usize>(),
        0
    );
    for who in ["officer", "office"] {
        assert_eq!(
            kinds_about(&app, w.token(who), "rectification_id", &id).await,
            ["item_assigned", "item_due_soon", "item_overdue"],
            "{who}"
        );
    }
    // Not the other town's people.
    assert!(
        kinds_about(&app, w.token("officer_b"), "rectification_id", &id)
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn an_items_fix_and_its_check_tell_the_reporter_and_the_unit() {
    let (app, w) = TestApp::with_world().await;
    app.set_clock(START);
    let category = category(&app, &w, 72).await;
    let item = report(&app, &w, &category).await;
    let id = item["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/rectifications/{id}/transitions");
    app.post(&path, w.token("officer"), &json!({"action": "start"}))
        .await
        .ok(200);
    let photo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/after-fix.png"
    ))
    .expect("a fixture photo");
    let photo = app
        .upload(w.token("officer"), "after-fix.png", &photo)
        .await
        .ok(201);
    app.post(
        &path,
        w.token("officer"),
        &json!({"action": "submit", "note": "已清运", "attachment_ids": [photo["id"]]}),
    )
    .await
    .ok(200);
    assert_eq!(
        kinds_about(&app, w.token("inspector"), "rectification_id", &id).await,
        ["item_submitted"],
        "the reporter checks the fix"
    );
    app.post(
        &path,
        w.token("inspector"),
        &json!({"action": "reject", "note": "仍有残留"}),
    )
    .await
    .ok(200);
    let kinds = kinds_about(&app, w.token("office"), "rectification_id", &id).await;
    assert_eq!(kinds, ["item_assigned", "item_rejected"]);
    // Whoever acted is not told of it: the officer who submitted hears the rejection only.
    let officer = kinds_about(&app, w.token("officer"), "rectification_id", &id).await;
    assert_eq!(officer, ["item_assigned", "item_rejected"]);
}

#[actix_web::test]
async fn a_task_with_less_time_than_the_warning_window_is_reminded() {
    let (app, w) = TestApp::with_world().await;
    app.set_clock(START);
    let campaign = app
        .post(
            "/api/v1/campaigns",
            w.token("admin"),
            &json!({"kind": "flood_prep", "name": "防汛备汛", "starts_on": "2020-07-20",
                    "ends_on": "2020-09-30", "lead_unit_id": w.unit("D")}),
        )
        .await
        .ok(201);
    let campaign = campaign["id"].as_str().expect("id");
    app.post(
        &format!("/api/v1/campaigns/{campaign}/transitions"),
        w.token("admin"),
        &json!({"action": "activate"}),
    )
    .await
    .ok(200);
    // Due in five hours: inside the warning window (72 h) from the moment it exists. A
    // sweep that looked for deadlines crossing the window's edge never saw it.
    let directive = app
        .post(
            "/api/v1/directives",
            w.token("leader"),
            &json!({"campaign_id": campaign, "title": "今晚完成闸门检修", "body": "汛期值守",
                    "priority": "urgent", "default_due_at": "2020-07-24T14:00:00+08:00"}),
        )
        .await
        .ok(201);
    let directive = directive["id"].as_str().expect("id");
    let split = app
        .post(
            &format!("/api/v1/directives/{directive}/tasks"),
            w.token("leader"),
            &json!({"unit_ids": [w.unit("A")]}),
        )
        .await
        .ok(201);
    let task = split["items"][0]["id"]
        .as_str()
        .expect("a task")
        .to_string();
    let swept = sweep_racing(&app, 2);
    assert_eq!(
        swept.iter().flatten().map(|s| s.due_soon).sum::<usize>(),
        2,
        "A's officer and office: {swept:?}"
    );
    app.set_clock("2020-07-24T15:00:00+08:00");
    let swept = sweep_racing(&app, 2);
    assert_eq!(swept.iter().flatten().map(|s| s.overdue).sum::<usize>(), 2);
    assert_eq!(
        kinds_about(&app, w.token("officer"), "task_id", &task).await,
        ["task_assigned", "task_due_soon", "task_overdue"]
    );
}
