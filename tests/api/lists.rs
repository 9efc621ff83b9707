//! Every list's paging: page numbers and keyset cursors walk the same rows once each,
//! `has_more` says when rows follow, and `total` is exact up to the cap and an estimate
//! (a lower bound) beyond it unless `count=exact` is asked for.

use std::collections::HashSet;

use serde_json::{json, Value};

use campaign_tracker::db::page::COUNT_CAP;
use campaign_tracker::events::{self, Change, Entity};
use campaign_tracker::ids::UserId;

use crate::common::{TestApp, World};

/// 25 villages under 吕陵镇 (besides the fixture's one).
async fn villages(app: &TestApp, w: &World) {
    for i in 0..25 {
        let body = json!({
            "code": format!("HZ-LL-V{i:02}"),
            "name": format!("分页测试村{i:02}"),
            "kind": "village",
            "parent_id": w.unit("A"),
        });
        app.post("/api/v1/units", w.token("admin"), &body)
            .await
            .ok(201);
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_string())
        .collect()
}

#[actix_web::test]
async fn cursors_and_page_numbers_walk_the_same_rows_once() {
    let (app, w) = TestApp::with_world().await;
    villages(&app, &w).await;
    let base = format!(
        "/api/v1/units?parent_id={}&sort=-name&per_page=10",
        w.unit("A")
    );
    let mut by_number = Vec::new();
    for page in 1..=3 {
        let body = app
            .get(&format!("{base}&page={page}"), w.token("admin"))
            .await
            .ok(200);
        assert_eq!(body["total"], 26, "{body}");
        assert_eq!(body["total_is_estimate"], false);
        assert_eq!(body["has_more"], page < 3, "page {page}: {body}");
        by_number.extend(ids(&body));
    }
    let mut by_cursor = Vec::new();
    let mut url = base.clone();
    let mut pages = 0;
    loop {
        let body = app.get(&url, w.token("admin")).await.ok(200);
        pages += 1;
        by_cursor.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(body["has_more"], true);
                url = format!("{base}&cursor={cursor}");
            }
            None => {
                assert_eq!(body["has_more"], false);
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(by_cursor.len(), 26);
    assert_eq!(by_cursor, by_number, "both ways give the same order");
    let distinct: HashSet<&String> = by_cursor.iter().collect();
    assert_eq!(distinct.len(), 26, "no row twice");
    // A row added before the cursor's position does not shift the pages after it.
    let first = app.get(&base, w.token("admin")).await.ok(200);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_string();
    let body = json!({"code": "HZ-LL-V99", "name": "分页测试村99", "kind": "village", "parent_id": w.unit("A")});
    app.post("/api/v1/units", w.token("admin"), &body)
        .await
        .ok(201);
    let second = app
        .get(&format!("{base}&cursor={cursor}"), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(ids(&second), by_number[10..20].to_vec());
}

#[actix_web::test]
async fn a_cursor_from_another_sort_or_made_up_is_refused_naming_it() {
    let (app, w) = TestApp::with_world().await;
    villages(&app, &w).await;
    let first = app
        .get("/api/v1/units?per_page=5&sort=name", w.token("admin"))
        .await
        .ok(200);
    let cursor = first["next_cursor"].as_str().expect("a cursor");
    for url in [
        format!("/api/v1/units?per_page=5&sort=-created_at&cursor={cursor}"),
        format!("/api/v1/units?per_page=5&sort=name&cursor={cursor}&page=2"),
        "/api/v1/units?cursor=not-a-cursor".to_string(),
        "/api/v1/units?cursor=eyJvIjoiTmFtZSIsImsiOlsxLDJdfQ&sort=name".to_string(),
    ] {
        app.get(&url, w.token("admin"))
            .await
            .names_field(400, "cursor");
    }
    app.get("/api/v1/units?count=everything", w.token("admin"))
        .await
        .names_field(400, "count");
}

#[actix_web::test]
async fn totals_are_capped_unless_asked_for_exactly() {
    let (app, w) = TestApp::with_world().await;
    let campaign = json!({
        "kind": "civilized_city", "name": "计数测试", "description": "",
        "starts_on": "2020-07-24", "ends_on": "2020-10-31", "lead_unit_id": w.unit("A"),
    });
    let campaign = app
        .post("/api/v1/campaigns", w.token("admin"), &campaign)
        .await
        .ok(201);
    let id = campaign["id"].as_str().expect("id").to_string();
    let admin = UserId::parse(w.user("admin")).expect("id");
    let extra = COUNT_CAP as usize + 5;
    app.db(|conn| {
        campaign_tracker::db::write_tx(conn, |conn| {
            for i in 0..extra {
                let change = Change::new(Entity::Campaign, &id, admin, "edited")
                    .note(&format!("第{i}次进展"));
                events::record(conn, campaign_tracker::db::now(), change)?;
            }
            Ok::<_, campaign_tracker::error::AppError>(())
        })
        .expect("events")
    });
    let path = format!("/api/v1/campaigns/{id}/events?per_page=5&page=3");
    let capped = app.get(&path, w.token("admin")).await.ok(200);
    assert_eq!(capped["total"], COUNT_CAP, "{capped}");
    assert_eq!(capped["total_is_estimate"], true);
    assert_eq!(capped["has_more"], true);
    let exact = app
        .get(&format!("{path}&count=exact"), w.token("admin"))
        .await
        .ok(200);
    let total = exact["total"].as_i64().expect("total");
    assert!(total >= extra as i64, "{exact}");
    assert_eq!(exact["total_is_estimate"], false);
}

#[actix_web::test]
async fn unit_lists_leave_boundaries_out_unless_asked() {
    let (app, w) = TestApp::with_world().await;
    let grid = |page: &Value| {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|u| u["id"] == w.unit("GA"))
            .cloned()
            .expect("grid GA listed")
    };
    let light = app
        .get("/api/v1/units?kind=grid", w.token("admin"))
        .await
        .ok(200);
    assert!(grid(&light)["boundary"].is_null(), "{light}");
    let full = app
        .get("/api/v1/units?kind=grid&include=boundary", w.token("admin"))
        .await
        .ok(200);
    assert_eq!(grid(&full)["boundary"]["type"], "Polygon", "{full}");
    let one = app
        .get(&format!("/api/v1/units/{}", w.unit("GA")), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(one["boundary"]["type"], "Polygon");
}
