//! `/api/v1/sync`: the change feed a phone catches up from. Each change reaches each
//! reader once, within its scope, with a tombstone when a record leaves it — and none is
//! skipped when transactions commit out of order around a read.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::{json, Value};

use campaign_tracker::db::schema::categories;

use crate::common::*;

const SYNC: &str = "/api/v1/sync";
const START: &str = "2020-07-24T09:00:00+08:00";

/// One page from `cursor` (empty: from the beginning).
async fn page(app: &TestApp, token: &str, cursor: &str, limit: u32) -> Value {
    let path = match cursor {
        "" => format!("{SYNC}?limit={limit}"),
        c => format!("{SYNC}?limit={limit}&cursor={c}"),
    };
    app.get(&path, token).await.ok(200)
}

/// Every page from `cursor` to the end, `limit` at a time: the changes in order, and the
/// cursor to continue from. Waits out changes held back behind a transaction still running
/// (on PostgreSQL any transaction of the cluster, such as another test's, holds the feed).
async fn drain(app: &TestApp, token: &str, cursor: &str, limit: u32) -> (Vec<Value>, String) {
    let mut cursor = cursor.to_string();
    let mut changes = Vec::new();
    for _ in 0..500 {
        let page = page(app, token, &cursor, limit).await;
        assert!(
            page["changes"].as_array().expect("changes").len() <= limit as usize,
            "{page}"
        );
        changes.extend(page["changes"].as_array().expect("changes").iter().cloned());
        cursor = page["next_cursor"].as_str().expect("cursor").to_string();
        if page["has_more"] == false && page["pending"] == false {
            return (changes, cursor);
        }
        if page["pending"] == true {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    panic!("the feed never ended");
}

fn ids_of(changes: &[Value], kind: &str, op: &str) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c["kind"] == kind && c["op"] == op)
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

/// The fixture world with 马岭岗镇's inspector and a poster-board category routed to the
/// town above the grid.
async fn world() -> (TestApp, World, String) {
    let (app, w) = TestApp::with_world().await;
    app.set_clock(START);
    let w = app.load_more(
        w,
        r#"{"name": "sync", "units": [], "users": [
            {"key": "inspector_b", "username": "inspector_b", "display_name": "程楼网格员", "role": "inspector", "unit": "GB", "password": "fixture-password-1"}
        ]}"#,
    );
    let category = app
        .post(
            "/api/v1/categories",
            w.token("admin"),
            &json!({"code": "GGP-PS", "name": "公益广告牌破损", "default_severity": "normal",
                    "deadline_hours": 72, "routing": {"unit_kind": "town"}}),
        )
        .await
        .ok(201);
    (app, w, category["id"].as_str().expect("id").to_string())
}

fn report(category: &str, (lon, lat): (f64, f64)) -> Value {
    json!({"source": "patrol", "category_id": category, "description": "国道旁公益广告牌面板破损",
           "lat": lat, "lon": lon})
}

#[actix_web::test]
async fn each_change_reaches_each_reader_once_within_its_scope() {
    let (app, w, category) = world().await;
    let b = w.token("officer_b");
    let a = w.token("officer");

    // A first sync, three at a time: the reader's units and the categories, each once.
    let (first, b_cursor) = drain(&app, b, "", 3).await;
    let units = ids_of(&first, "unit", "upsert");
    let mut unique = units.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), units.len(), "a unit twice: {first:?}");
    assert!(units.contains(&w.unit("B").to_string()));
    assert!(units.contains(&w.unit("GB").to_string()));
    assert!(
        !units.contains(&w.unit("A").to_string()),
        "another town's unit"
    );
    assert_eq!(ids_of(&first, "category", "upsert"), vec![category.clone()]);
    let (_, a_cursor) = drain(&app, a, "", 100).await;

    // A report in 程楼's grid reaches 马岭岗镇, once, as it is now; not 吕陵镇.
    let item = app
        .post(
            "/api/v1/rectifications",
            w.token("inspector_b"),
            &report(&category, GB_POINT),
        )
        .await
        .ok(201);
    let id = item["id"].as_str().expect("id").to_string();
    app.post(
        &format!("/api/v1/rectifications/{id}/transitions"),
        b,
        &json!({"action": "start"}),
    )
    .await
    .ok(200);
    let (changes, b_cursor) = drain(&app, b, &b_cursor, 100).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["kind"], "item");
    assert_eq!(changes[0]["op"], "upsert");
    assert_eq!(changes[0]["data"]["status"], "in_progress");
    assert_eq!(changes[0]["data"]["number"], item["number"]);
    let (changes, a_cursor) = drain(&app, a, &a_cursor, 100).await;
    assert!(changes.is_empty(), "another town's item: {changes:?}");

    // Reassigned to 吕陵镇: it reaches 吕陵镇, and 马岭岗镇 still sees it through its grid.
    let reassign =
        |unit: &str| json!({"action": "reassign", "unit_id": unit, "note": "调整责任单位"});
    let item_path = format!("/api/v1/rectifications/{id}/transitions");
    app.post(&item_path, w.token("admin"), &reassign(w.unit("A")))
        .await
        .ok(200);
    let (changes, a_cursor) = drain(&app, a, &a_cursor, 100).await;
    assert_eq!(
        ids_of(&changes, "item", "upsert"),
        vec![id.clone()],
        "{changes:?}"
    );
    assert_eq!(changes[0]["data"]["unit_id"], w.unit("A"));
    let (changes, b_cursor) = drain(&app, b, &b_cursor, 100).await;
    assert_eq!(ids_of(&changes, "item", "upsert"), vec![id.clone()]);

    // Back to 马岭岗镇: 吕陵镇 is told to forget it (a tombstone carries no data)…
    app.post(&item_path, w.token("admin"), &reassign(w.unit("B")))
        .await
        .ok(200);
    let (changes, a_cursor) = drain(&app, a, &a_cursor, 100).await;
    assert_eq!(
        ids_of(&changes, "item", "delete"),
        vec![id.clone()],
        "{changes:?}"
    );
    assert!(changes[0].get("data").is_none());
    let (changes, _) = drain(&app, b, &b_cursor, 100).await;
    assert_eq!(ids_of(&changes, "item", "upsert"), vec![id.clone()]);

    // …once: later changes of the item are no longer its business.
    app.post(&item_path, b, &json!({"action": "start"}))
        .await
        .ok(200);
    let (changes, _) = drain(&app, a, &a_cursor, 100).await;
    assert!(changes.is_empty(), "{changes:?}");
}

#[actix_web::test]
async fn a_removed_record_is_a_tombstone_and_a_moved_unit_restarts_every_cursor() {
    let (app, w, _) = world().await;
    let office = w.token("office");
    let unit = app
        .post(
            "/api/v1/units",
            w.token("admin"),
            &json!({"code": "HZGX-LLZ-NEW", "name": "吕陵镇新社区", "kind": "community",
                    "parent_id": w.unit("A")}),
        )
        .await
        .ok(201);
    let unit_id = unit["id"].as_str().expect("id").to_string();
    let (changes, cursor) = drain(&app, office, "", 100).await;
    assert!(ids_of(&changes, "unit", "upsert").contains(&unit_id));
    app.delete(&format!("/api/v1/units/{unit_id}"), w.token("admin"))
        .await
        .ok(204);
    let (changes, cursor) = drain(&app, office, &cursor, 100).await;
    assert_eq!(ids_of(&changes, "unit", "delete"), vec![unit_id]);

    // A village moves to another town: what each scope covers changed under records that
    // did not, so every reader starts over (told to drop what it holds).
    app.patch(
        &format!("/api/v1/units/{}", w.unit("VB")),
        w.token("admin"),
        &json!({"parent_id": w.unit("A")}),
    )
    .await
    .ok(200);
    let page = app
        .get(&format!("{SYNC}?cursor={cursor}"), office)
        .await
        .ok(200);
    assert_eq!(page["reset"], true);
    // The full sync it starts (on PostgreSQL the move itself may wait behind another
    // test's transaction for a page or two).
    let next = page["next_cursor"].as_str().expect("cursor");
    let (rest, _) = drain(&app, office, next, 100).await;
    let mut all = page["changes"].as_array().expect("changes").clone();
    all.extend(rest);
    let units = ids_of(&all, "unit", "upsert");
    assert!(units.contains(&w.unit("VB").to_string()), "{all:?}");
    assert!(
        units.contains(&w.unit("A").to_string()),
        "a full sync: {all:?}"
    );
    let again = app
        .get(&format!("{SYNC}?cursor={next}"), office)
        .await
        .ok(200);
    assert_eq!(again["reset"], false);
}

#[actix_web::test]
async fn foreign_cursors_and_bad_limits_are_refused_naming_the_parameter() {
    let (app, w) = TestApp::with_world().await;
    let token = w.token("officer");
    for query in [
        "cursor=abc",
        "cursor=s1.0.0123456789abcdef.0",
        "cursor=s1.0.0123456789abcdef.-4.1",
    ] {
        app.get(&format!("{SYNC}?{query}"), token)
            .await
            .names_field(400, "cursor");
    }
    for query in ["limit=0", "limit=501", "limit=-3"] {
        app.get(&format!("{SYNC}?{query}"), token)
            .await
            .names_field(400, "limit");
    }
    app.get(SYNC, "").await.problem_status(401);
}

/// Two writers, the later one committing first, with a read in between: the read must
/// not move its cursor past the earlier writer's change before that change commits. On
/// PostgreSQL the later transaction really does commit first; on SQLite writers take
/// turns, so the later one waits for the earlier (and the read in between sees neither).
#[actix_web::test]
async fn no_change_is_skipped_when_transactions_commit_out_of_order() {
    let (app, w, first) = world().await;
    let second = app
        .post(
            "/api/v1/categories",
            w.token("admin"),
            &json!({"code": "ZDJY", "name": "占道经营", "default_severity": "normal",
                    "deadline_hours": 24, "routing": {"unit_kind": "town"}}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let token = w.token("officer");
    let (_, cursor) = drain(&app, token, "", 500).await;
    let rename = |conn: &mut campaign_tracker::db::DbConnection, id: &str, name: &str| {
        diesel::update(categories::table.find(id))
            .set(categories::name.eq(name))
            .execute(conn)
            .expect("update");
    };
    let postgres = app.postgres_schema().is_some();
    let mut earlier = app.state.db.get().expect("connection");
    earlier
        .batch_execute(if postgres { "BEGIN" } else { "BEGIN IMMEDIATE" })
        .expect("begin");
    rename(&mut earlier, &first, "公益广告牌破损（先开始）");

    let later = if postgres {
        let mut later = app.state.db.get().expect("connection");
        later.batch_execute("BEGIN").expect("begin");
        rename(&mut later, &second, "占道经营（后开始）");
        later.batch_execute("COMMIT").expect("commit");
        None
    } else {
        let db = app.state.db.clone();
        let id = second.clone();
        Some(std::thread::spawn(move || {
            let mut later = db.get().expect("connection");
            rename(&mut later, &id, "占道经营（后开始）");
        }))
    };

    // The read between: the later change may have committed, the earlier not.
    let read = page(&app, token, &cursor, 500).await;
    let between = read["changes"].as_array().expect("changes").clone();
    let cursor = read["next_cursor"].as_str().expect("cursor").to_string();
    assert!(
        ids_of(&between, "category", "upsert").is_empty(),
        "a change read past a transaction still running: {between:?}"
    );
    earlier.batch_execute("COMMIT").expect("commit");
    if let Some(thread) = later {
        thread.join().expect("the later writer");
    }
    let (after, _) = drain(&app, token, &cursor, 500).await;
    let mut seen = ids_of(&after, "category", "upsert");
    seen.sort();
    let mut both = vec![first.clone(), second.clone()];
    both.sort();
    assert_eq!(seen, both, "{after:?}");
    let names: Vec<&str> = after
        .iter()
        .map(|c| c["data"]["name"].as_str().expect("name"))
        .collect();
    assert!(names.contains(&"公益广告牌破损（先开始）"), "{names:?}");
    assert!(names.contains(&"占道经营（后开始）"), "{names:?}");
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const BATCH: &str = "/api/v1/sync/batch";

/// 程楼's grid with a sluice gate and the flood-gate checklist whose gate item raises a
/// gate-fault item for 马岭岗镇.
async fn field(app: &TestApp, w: &World) -> (String, String) {
    let gate_fault = app
        .post(
            "/api/v1/categories",
            w.token("admin"),
            &json!({"code": "JZZ-GZ", "name": "节制闸故障", "default_severity": "high",
                    "deadline_hours": 12, "routing": {"unit_kind": "town"}}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let site = app
        .post(
            "/api/v1/sites",
            w.token("admin"),
            &json!({"kind": "sluice_gate", "name": "七里河节制闸", "lat": GB_POINT.1,
                    "lon": GB_POINT.0, "unit_id": w.unit("B")}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let checklist = app
        .post(
            "/api/v1/checklists",
            w.token("admin"),
            &json!({"name": "汛前节制闸检查表", "kind": "flood_gate", "items": [
                {"key": "gate_operation", "label": "闸门启闭是否正常", "type": "yes_no", "points": 60,
                 "required": true, "pass": {"equals": "yes"}, "category_id": gate_fault},
                {"key": "water_level", "label": "闸前水位（米）", "type": "number", "points": 40,
                 "required": true, "pass": {"op": "<=", "value": 3.5}}
            ]}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    (site, checklist)
}

fn op(path: &str, key: &str, body: Value) -> Value {
    json!({"method": "POST", "path": path, "idempotency_key": key, "body": body})
}

fn statuses(results: &Value) -> Vec<u64> {
    results["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_u64().expect("status"))
        .collect()
}

/// The issue's story: an inspector starts a patrol, loses signal in the village, and later
/// sends one batch — track points, a visit, an inspection whose gate item fails, a report
/// with a photo — then, unsure it arrived, the same batch again. One of each exists, the
/// failure raised one item, and the town's office, syncing from before, sees each once.
#[actix_web::test]
async fn an_offline_batch_sent_twice_makes_each_thing_once() {
    let (app, w, poster) = world().await;
    let (site, checklist) = field(&app, &w).await;
    let inspector = w.token("inspector_b");
    let office = w.token("officer_b");
    let (_, old_cursor) = drain(&app, office, "", 500).await;

    let patrol = app
        .post(
            "/api/v1/patrols",
            inspector,
            &json!({"grid_id": w.unit("GB"), "started_at": "2020-07-24T09:00:00+08:00",
                    "note": "程楼网格汛前巡查"}),
        )
        .await
        .ok(201);
    let patrol_id = patrol["id"].as_str().expect("id").to_string();
    let photo = app
        .upload(
            inspector,
            "poster-board-exif.jpg",
            &std::fs::read(format!("{FIXTURES}/poster-board-exif.jpg")).expect("fixture"),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string();

    // Offline: the phone queues its writes, each with an id and a key it made itself.
    app.set_clock("2020-07-24T10:30:00+08:00");
    let (lon, lat) = GB_POINT;
    let report_id = "01a22fe3-0000-7000-8000-0000000000c1";
    let inspection_id = "01a22fe3-0000-7000-8000-0000000000c2";
    let batch = json!({"operations": [
        op(&format!("/api/v1/patrols/{patrol_id}/track"), "k-track", json!({"points": [
            {"t": "2020-07-24T09:10:00+08:00", "lat": lat, "lon": lon, "accuracy_m": 5.0},
            {"t": "2020-07-24T09:20:00+08:00", "lat": lat + 0.001, "lon": lon, "accuracy_m": 5.0},
            {"t": "2020-07-24T09:30:00+08:00", "lat": lat + 0.002, "lon": lon, "accuracy_m": 5.0}
        ]})),
        op(&format!("/api/v1/patrols/{patrol_id}/visits"), "k-visit", json!({
            "id": "01a22fe3-0000-7000-8000-0000000000c3", "site_id": site,
            "at": "2020-07-24T09:25:00+08:00", "note": "闸门启闭卡滞"})),
        op("/api/v1/inspections", "k-inspection", json!({
            "id": inspection_id, "checklist_id": checklist, "site_id": site,
            "kind": "routine", "patrol_id": patrol_id,
            "answers": {"gate_operation": "no", "water_level": 2.8}})),
        op("/api/v1/rectifications", "k-report", json!({
            "id": report_id, "source": "patrol", "category_id": poster, "patrol_id": patrol_id,
            "description": "国道旁公益广告牌面板破损", "lat": lat + 0.002, "lon": lon,
            "attachment_ids": [photo]})),
    ]});
    let first = app.post(BATCH, inspector, &batch).await.ok(200);
    assert_eq!(statuses(&first), vec![200, 200, 201, 201], "{first}");
    let results = first["results"].as_array().expect("results");
    assert_eq!(results[0]["body"]["point_count"], 3);
    assert_eq!(results[1]["body"]["visits"][0]["site_id"], site.as_str());
    assert_eq!(results[2]["body"]["score"], 40);
    assert_eq!(
        results[2]["location"],
        format!("/api/v1/inspections/{inspection_id}")
    );
    let raised = results[2]["body"]["raised"]
        .as_array()
        .expect("raised")
        .clone();
    assert_eq!(raised.len(), 1, "{}", results[2]);
    assert_eq!(results[3]["body"]["attachment_ids"], json!([photo]));
    assert!(results.iter().all(|r| r["replayed"] == false));

    // The same batch again: every answer replayed, nothing written twice.
    let again = app.post(BATCH, inspector, &batch).await.ok(200);
    assert_eq!(statuses(&again), vec![200, 200, 201, 201]);
    for (a, b) in results
        .iter()
        .zip(again["results"].as_array().expect("results"))
    {
        assert_eq!(b["replayed"], true);
        assert_eq!(a["body"], b["body"]);
    }
    let now = app
        .get(&format!("/api/v1/patrols/{patrol_id}"), inspector)
        .await
        .ok(200);
    assert_eq!(now["point_count"], 3);
    assert_eq!(now["visits"].as_array().expect("visits").len(), 1);
    let inspections = app
        .get(&format!("/api/v1/inspections?site_id={site}"), office)
        .await
        .ok(200);
    assert_eq!(inspections["total"], 1, "{inspections}");
    let items = app
        .get("/api/v1/rectifications?per_page=100", office)
        .await
        .ok(200);
    let item_ids: Vec<&str> = items["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    assert_eq!(items["total"], 2, "the report and the raised item: {items}");
    assert!(item_ids.contains(&report_id));
    assert!(item_ids.contains(&raised[0]["rectification_id"].as_str().expect("raised id")));

    // The office, syncing from before it all: each record once, as it is now.
    let (changes, _) = drain(&app, office, &old_cursor, 2).await;
    let mut seen: Vec<(String, String)> = changes
        .iter()
        .map(|c| (c["kind"].to_string(), c["id"].to_string()))
        .collect();
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), count, "a record twice: {changes:?}");
    assert_eq!(
        ids_of(&changes, "patrol", "upsert"),
        vec![patrol_id.clone()]
    );
    let mut items_seen = ids_of(&changes, "item", "upsert");
    items_seen.sort();
    let mut expected = vec![
        report_id.to_string(),
        raised[0]["rectification_id"]
            .as_str()
            .expect("id")
            .to_string(),
    ];
    expected.sort();
    assert_eq!(items_seen, expected);
    let synced_patrol = changes
        .iter()
        .find(|c| c["kind"] == "patrol")
        .expect("the patrol");
    assert_eq!(synced_patrol["data"]["point_count"], 3);
    assert_eq!(
        synced_patrol["data"]["visits"]
            .as_array()
            .expect("visits")
            .len(),
        1
    );
}

#[actix_web::test]
async fn one_bad_operation_does_not_sink_the_others_and_stale_versions_get_412() {
    let (app, w, _) = world().await;
    let inspector = w.token("inspector_b");
    let patrol = app
        .post(
            "/api/v1/patrols",
            inspector,
            &json!({"grid_id": w.unit("GB"), "started_at": "2020-07-24T08:30:00+08:00"}),
        )
        .await
        .ok(201);
    let id = patrol["id"].as_str().expect("id");
    // Another inspector's patrol, in another town: a batch reaches no further than a call.
    let theirs = app
        .post(
            "/api/v1/patrols",
            w.token("inspector"),
            &json!({"grid_id": w.unit("GA"), "started_at": "2020-07-24T08:30:00+08:00"}),
        )
        .await
        .ok(201);
    let theirs = theirs["id"].as_str().expect("id");
    let (lon, lat) = GB_POINT;
    let track = |t: &str| json!({"points": [{"t": t, "lat": lat, "lon": lon}]});
    let batch = json!({"operations": [
        op(&format!("/api/v1/patrols/{id}/track"), "b-1", track("2020-07-24T08:40:00+08:00")),
        op(&format!("/api/v1/patrols/{id}/visits"), "b-2",
           json!({"site_id": "01a22fe3-0000-7000-8000-00000000dead"})),
        op(&format!("/api/v1/patrols/{id}/track"), "b-3", json!({"points": [{"t": "soon"}]})),
        op("/api/v1/users", "b-4", json!({})),
        {"method": "DELETE", "path": "/api/v1/patrols", "idempotency_key": "b-5", "body": {}},
        {"method": "POST", "path": format!("/api/v1/patrols/{id}/track"), "idempotency_key": "b-6",
         "if_match": "\"1\"", "body": track("2020-07-24T08:45:00+08:00")},
        op(&format!("/api/v1/patrols/{id}/transitions"), "b-7", json!({"action": "end"})),
        op(&format!("/api/v1/patrols/{theirs}/transitions"), "b-8", json!({"action": "end"})),
    ]});
    let answered = app.post(BATCH, inspector, &batch).await.ok(200);
    assert_eq!(
        statuses(&answered),
        vec![200, 422, 422, 404, 405, 412, 200, 404],
        "{answered}"
    );
    let results = answered["results"].as_array().expect("results");
    assert_eq!(results[1]["body"]["errors"][0]["field"], "site_id");
    assert_eq!(results[2]["body"]["status"], 422);
    // The 412 carries the patrol as it is, to merge with.
    assert_eq!(results[5]["body"]["current"]["point_count"], 1);
    assert_eq!(results[5]["etag"], "\"2\"");
    assert_eq!(results[6]["body"]["status"], "ended");

    // Failed operations keep no key: fixed, they go through on a resend.
    let fixed = json!({"operations": [
        op(&format!("/api/v1/patrols/{id}/track"), "b-1", track("2020-07-24T08:40:00+08:00")),
        op(&format!("/api/v1/patrols/{id}/transitions"), "b-7", json!({"action": "end"})),
        op(&format!("/api/v1/patrols/{id}/visits"), "b-1", json!({})),
    ]});
    let resent = app.post(BATCH, inspector, &fixed).await.ok(200);
    assert_eq!(statuses(&resent), vec![200, 200, 422], "{resent}");
    assert_eq!(resent["results"][0]["replayed"], true);
    assert_eq!(
        resent["results"][2]["body"]["code"], "idempotency_key_reused",
        "a key names one operation"
    );
}

#[actix_web::test]
async fn a_malformed_batch_is_refused_whole() {
    let (app, w, _) = world().await;
    let inspector = w.token("inspector_b");
    let too_many: Vec<Value> = (0..101)
        .map(|i| op("/api/v1/patrols", &format!("k{i}"), json!({})))
        .collect();
    app.post(BATCH, inspector, &json!({"operations": too_many}))
        .await
        .names_field(422, "operations");
    app.post(
        BATCH,
        inspector,
        &json!({"operations": [op("/api/v1/patrols", " ", json!({}))]}),
    )
    .await
    .names_field(422, "operations[0].idempotency_key");
    let long_tag = json!({"method": "POST", "path": "/api/v1/patrols", "idempotency_key": "k",
                          "if_match": "0".repeat(101), "body": {}});
    app.post(BATCH, inspector, &json!({"operations": [long_tag]}))
        .await
        .names_field(422, "operations[0].if_match");
    let not_an_object = json!({"method": "POST", "path": "/api/v1/patrols", "idempotency_key": "k",
                               "body": [null, null]});
    app.post(BATCH, inspector, &json!({"operations": [not_an_object]}))
        .await
        .names_field(422, "operations[0].body");
    let listed = app.get("/api/v1/patrols", inspector).await.ok(200);
    assert_eq!(listed["total"], 0, "nothing applied");
}

/// A phone that resends its queue while the first delivery is still being applied: the
/// copies race, and still every write is made once, each copy answering each operation.
#[actix_web::test]
async fn the_same_batch_sent_four_times_at_once_writes_once() {
    let (app, w, poster) = world().await;
    let inspector = w.token("inspector_b");
    let (lon, lat) = GB_POINT;
    let reports: Vec<Value> = (0..5)
        .map(|i| {
            op(
                "/api/v1/rectifications",
                &format!("race-{i}"),
                json!({"source": "patrol", "category_id": poster,
                       "description": format!("国道旁公益广告牌破损 {i}"),
                       "lat": lat, "lon": lon + 0.0001 * f64::from(i)}),
            )
        })
        .collect();
    let batch = json!({ "operations": reports });
    let answers = at_once(4, |_| app.post(BATCH, inspector, &batch)).await;
    let mut numbers: Vec<Vec<Value>> = Vec::new();
    for answer in &answers {
        let body = answer.ok(200);
        assert_eq!(statuses(&body), vec![201; 5], "{body}");
        numbers.push(
            body["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| r["body"]["number"].clone())
                .collect(),
        );
    }
    assert!(numbers.windows(2).all(|w| w[0] == w[1]), "{numbers:?}");
    let items = app
        .get("/api/v1/rectifications?per_page=100", inspector)
        .await
        .ok(200);
    assert_eq!(items["total"], 5, "{items}");
}
