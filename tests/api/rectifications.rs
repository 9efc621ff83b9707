//! `/api/v1/rectifications`: a report routed by grid and category, fixed with evidence
//! and checked (never by whoever submitted the fix), with its story in the events;
//! triage, nearby duplicates, map and ledger views.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

const ITEMS: &str = "/api/v1/rectifications";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
/// Friday 24 July 2020, 09:00 in the district.
const START: &str = "2020-07-24T09:00:00+08:00";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The fixture world, plus 马岭岗镇's office and the inspector of its grid GB, a grid
/// straight under 吕陵镇 (no village above it) and the poster-board category (routed to
/// the town above the grid, 72 hours).
async fn world() -> (TestApp, World, String) {
    let (app, w) = TestApp::with_world().await;
    app.set_clock(START);
    let w = app.load_more(
        w,
        r#"{"name": "rectification", "units": [
            {"key": "GT", "code": "LLZ-ZS", "name": "吕陵镇直属网格", "kind": "grid", "parent": "A"}
        ], "users": [
            {"key": "office_b", "username": "office_b", "display_name": "马岭岗镇党政办", "role": "office", "unit": "B", "password": "fixture-password-1"},
            {"key": "inspector_b", "username": "inspector_b", "display_name": "程楼网格员", "role": "inspector", "unit": "GB", "password": "fixture-password-1"}
        ]}"#,
    );
    let category = app
        .post(
            "/api/v1/categories",
            w.token("admin"),
            &json!({
                "code": "GGP-PS",
                "name": "公益广告牌破损",
                "default_severity": "normal",
                "deadline_hours": 72,
                "routing": {"unit_kind": "town"},
                "attributes": [{"code": "damage", "label": "损坏情况", "type": "choice",
                    "required": true, "choices": ["面板破损", "立柱倾斜", "画面褪色"]}]
            }),
        )
        .await
        .ok(201);
    let id = category["id"].as_str().expect("id").to_string();
    (app, w, id)
}

async fn photo(app: &TestApp, token: &str, name: &str) -> String {
    let uploaded = app.upload(token, name, &fixture(name)).await.ok(201);
    uploaded["id"].as_str().expect("id").to_string()
}

fn report(category: &str, (lon, lat): (f64, f64), photos: &[&str]) -> Value {
    json!({
        "source": "patrol",
        "category_id": category,
        "description": "国道旁公益广告牌面板破损，边角翘起",
        "lat": lat,
        "lon": lon,
        "address": "马岭岗镇国道106沿线",
        "attributes": {"damage": "面板破损"},
        "attachment_ids": photos,
    })
}

async fn act(app: &TestApp, item: &str, token: &str, body: Value) -> Resp {
    app.post(&format!("{ITEMS}/{item}/transitions"), token, &body)
        .await
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The issue's story: a report sent twice under one key is one item, routed to 马岭岗镇
/// with the category's deadline; the town fixes it, the inspector rejects once, then
/// accepts; the events tell it in order.
#[actix_web::test]
async fn a_poster_board_is_reported_fixed_rejected_fixed_again_and_accepted() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let before = photo(&app, inspector, "poster-board-exif.jpg").await;
    let body = report(&category, GB_POINT, &[&before]);
    let key = [("Idempotency-Key", "report-ggp-0001")];
    let first = app
        .send_with(Method::POST, ITEMS, inspector, Some(&body), &key)
        .await;
    let item = first.ok(201);
    let again = app
        .send_with(Method::POST, ITEMS, inspector, Some(&body), &key)
        .await;
    assert_eq!(again.ok(201)["id"], item["id"], "a retry is the same item");
    let all = app.get(ITEMS, w.token("admin")).await.ok(200);
    assert_eq!(all["total"], 1, "one item, not two");

    assert_eq!(item["unit_id"], w.unit("B"));
    assert_eq!(item["unit_name"], "马岭岗镇");
    assert_eq!(item["grid_id"], w.unit("GB"));
    assert_eq!(item["status"], "assigned");
    assert_eq!(item["number"], "ZG-2020-000001");
    assert_eq!(
        item["due_at"], "2020-07-27T01:00:00Z",
        "72 hours from the report"
    );
    assert_eq!(item["original_due_at"], item["due_at"]);
    assert_eq!(item["attachment_ids"], json!([before]));
    assert_eq!(item["possible_duplicates"], json!([]));
    let id = id_of(&item);

    let officer = w.token("officer_b");
    act(&app, &id, officer, json!({"action": "start"}))
        .await
        .ok(200);
    let fixed = photo(&app, officer, "after-fix.jpg").await;
    let submitted = act(
        &app,
        &id,
        officer,
        json!({"action": "submit", "note": "面板已更换", "attachment_ids": [fixed]}),
    )
    .await
    .ok(200);
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["evidence_ids"], json!([fixed]));
    // The fixing side does not check its own fix.
    act(&app, &id, officer, json!({"action": "accept"}))
        .await
        .problem_status(403);
    let rejected = act(
        &app,
        &id,
        inspector,
        json!({"action": "reject", "note": "立柱仍有松动，请加固"}),
    )
    .await
    .ok(200);
    assert_eq!(rejected["status"], "in_progress");
    assert_eq!(rejected["rework_count"], 1);
    let fixed_again = photo(&app, officer, "after-fix.png").await;
    act(
        &app,
        &id,
        officer,
        json!({"action": "submit", "attachment_ids": [fixed_again]}),
    )
    .await
    .ok(200);
    let accepted = act(&app, &id, inspector, json!({"action": "accept"}))
        .await
        .ok(200);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["rework_count"], 1);
    assert_eq!(accepted["closed_on_time"], true);
    assert_eq!(accepted["overdue"], false);
    assert_eq!(accepted["evidence_ids"], json!([fixed, fixed_again]));
    assert_eq!(accepted["allowed_actions"], json!([]));

    let events = app
        .get(&format!("{ITEMS}/{id}/events"), w.token("office_b"))
        .await
        .ok(200);
    let story: Vec<(String, Value)> = events["items"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["to_status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        story,
        vec![
            ("created".to_string(), json!("assigned")),
            ("start".to_string(), json!("in_progress")),
            ("submit".to_string(), json!("submitted")),
            ("reject".to_string(), json!("in_progress")),
            ("submit".to_string(), json!("submitted")),
            ("accept".to_string(), json!("accepted")),
        ]
    );
    assert_eq!(accepted["version"], 6, "one version per event");
}

#[actix_web::test]
async fn whoever_submitted_a_fix_never_accepts_it() {
    let (app, w, category) = world().await;
    // 吕陵镇's office reports in its own grid, then fixes it itself.
    let office = w.token("office");
    let item = app
        .post(ITEMS, office, &report(&category, GA_POINT, &[]))
        .await
        .ok(201);
    assert_eq!(item["unit_id"], w.unit("A"));
    let id = id_of(&item);
    act(&app, &id, office, json!({"action": "start"}))
        .await
        .ok(200);
    let evidence = photo(&app, office, "after-fix.webp").await;
    act(
        &app,
        &id,
        office,
        json!({"action": "submit", "attachment_ids": [evidence]}),
    )
    .await
    .ok(200);
    act(&app, &id, office, json!({"action": "accept"}))
        .await
        .problem(403, "own_submission");
    // Another inspector (not the reporter) does not check it either; a leader does.
    act(&app, &id, w.token("inspector"), json!({"action": "accept"}))
        .await
        .problem_status(403);
    act(&app, &id, w.token("leader"), json!({"action": "accept"}))
        .await
        .ok(200);
}

#[actix_web::test]
async fn a_fix_needs_evidence_of_ones_own_and_the_right_state() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let item = app
        .post(ITEMS, inspector, &report(&category, GB_POINT, &[]))
        .await
        .ok(201);
    let id = id_of(&item);
    let officer = w.token("officer_b");
    // Wrong state: the 409 names what is allowed.
    let refused = act(
        &app,
        &id,
        officer,
        json!({"action": "submit", "attachment_ids": [id]}),
    )
    .await
    .problem(409, "invalid_transition");
    assert!(refused["detail"]
        .as_str()
        .expect("detail")
        .contains("start"));
    act(&app, &id, officer, json!({"action": "start"}))
        .await
        .ok(200);
    act(&app, &id, officer, json!({"action": "submit"}))
        .await
        .names_field(422, "attachment_ids");
    // Someone else's photo is not evidence of this unit's fix.
    let theirs = photo(&app, inspector, "after-fix.jpg").await;
    act(
        &app,
        &id,
        officer,
        json!({"action": "submit", "attachment_ids": [theirs]}),
    )
    .await
    .names_field(422, "attachment_ids[0]");
    // The other town's officer does not see it at all; 吕陵镇's inspector neither.
    act(&app, &id, w.token("officer"), json!({"action": "start"}))
        .await
        .problem(404, "not_found");
    app.get(&format!("{ITEMS}/{id}"), w.token("inspector"))
        .await
        .problem(404, "not_found");
    // Nothing changed by the refusals.
    let now = app.get(&format!("{ITEMS}/{id}"), officer).await.ok(200);
    assert_eq!(now["status"], "in_progress");
    assert_eq!(now["version"], 2);
}

#[actix_web::test]
async fn what_no_rule_routes_waits_in_triage_for_an_office() {
    let (app, w, _) = world().await;
    // Routed to a village: the grid straight under the town has none above it.
    let category = app
        .post(
            "/api/v1/categories",
            w.token("admin"),
            &json!({"code": "LJ-LD", "name": "垃圾乱堆", "default_severity": "normal",
                    "deadline_hours": 24, "routing": {"unit_kind": "village"}}),
        )
        .await
        .ok(201);
    let mut body = report(&id_of(&category), (115.6, 35.3), &[]);
    body["attributes"] = json!({});
    body["grid_id"] = json!(w.unit("GT"));
    let item = app.post(ITEMS, w.token("office"), &body).await.ok(201);
    assert_eq!(item["status"], "reported");
    assert_eq!(item["unit_id"], Value::Null);
    assert_eq!(
        item["allowed_actions"],
        json!(["assign", "cancel", "mark_duplicate"])
    );
    let id = id_of(&item);

    let triage = app.get("/api/v1/triage", w.token("office")).await.ok(200);
    assert_eq!(triage["total"], 1);
    assert_eq!(triage["items"][0]["id"], id.as_str());
    app.get("/api/v1/triage", w.token("officer"))
        .await
        .problem_status(403);
    // Not to be fixed before it is routed.
    act(&app, &id, w.token("officer"), json!({"action": "start"}))
        .await
        .problem(409, "invalid_transition");
    act(
        &app,
        &id,
        w.token("office"),
        json!({"action": "assign", "unit_id": w.unit("GT")}),
    )
    .await
    .names_field(422, "unit_id");
    let assigned = act(
        &app,
        &id,
        w.token("office"),
        json!({"action": "assign", "unit_id": w.unit("VA")}),
    )
    .await
    .ok(200);
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["unit_name"], "寨庄行政村");
    let triage = app.get("/api/v1/triage", w.token("office")).await.ok(200);
    assert_eq!(triage["total"], 0);
}

#[actix_web::test]
async fn a_report_near_an_open_item_of_its_category_lists_it() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let first = app
        .post(ITEMS, inspector, &report(&category, GB_POINT, &[]))
        .await
        .ok(201);
    // About 20 m east, sent as the phone's GCJ-02.
    let (lon, lat) = campaign_tracker::coords::wgs84_to_gcj02(GB_POINT.0 + 0.0002, GB_POINT.1);
    let mut body = report(&category, (lon, lat), &[]);
    body["coord_type"] = json!("gcj02");
    let second = app.post(ITEMS, inspector, &body).await.ok(201);
    let near = second["possible_duplicates"].as_array().expect("list");
    assert_eq!(near.len(), 1);
    assert_eq!(near[0]["id"], first["id"]);
    assert_eq!(near[0]["number"], "ZG-2020-000001");
    let d = near[0]["distance_m"].as_f64().expect("distance");
    assert!((15.0..25.0).contains(&d), "{d} m");
    assert_eq!(second["number"], "ZG-2020-000002");
    // The reporter marks it; it is closed and points at the first.
    let marked = act(
        &app,
        &id_of(&second),
        inspector,
        json!({"action": "mark_duplicate", "duplicate_of": first["id"]}),
    )
    .await
    .ok(200);
    assert_eq!(marked["status"], "duplicate");
    assert_eq!(marked["duplicate_of"], first["id"]);
    // A duplicate cannot point at a closed item, nor at itself.
    let third = app
        .post(ITEMS, inspector, &report(&category, GB_POINT, &[]))
        .await
        .ok(201);
    let near = third["possible_duplicates"].as_array().expect("list");
    assert_eq!(
        near.len(),
        1,
        "the closed duplicate is not listed: {near:?}"
    );
    act(
        &app,
        &id_of(&third),
        inspector,
        json!({"action": "mark_duplicate", "duplicate_of": marked["id"]}),
    )
    .await
    .names_field(422, "duplicate_of");
    act(
        &app,
        &id_of(&third),
        inspector,
        json!({"action": "mark_duplicate", "duplicate_of": third["id"]}),
    )
    .await
    .names_field(422, "duplicate_of");
    // Far away (over 1 km): nothing near.
    let far = app
        .post(
            ITEMS,
            inspector,
            &report(&category, (GB_POINT.0 + 0.012, GB_POINT.1), &[]),
        )
        .await;
    if far.status.as_u16() == 201 {
        assert_eq!(far.json()["possible_duplicates"], json!([]));
    }
}

#[actix_web::test]
async fn bad_reports_are_refused_naming_the_field_and_leave_nothing() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let mut body = report(&category, GB_POINT, &[]);
    body["attributes"] = json!({});
    app.post(ITEMS, inspector, &body)
        .await
        .names_field(422, "attributes.damage");
    let mut body = report(&category, GB_POINT, &[]);
    body["lat"] = json!(123.0);
    app.post(ITEMS, inspector, &body)
        .await
        .names_field(422, "lat");
    let mut body = report(&category, GB_POINT, &[]);
    body["id"] = json!("6ba7b810-9dad-41d1-80b4-00c04fd430c8");
    app.post(ITEMS, inspector, &body)
        .await
        .names_field(422, "id");
    // Outside every grid the inspector sees.
    app.post(ITEMS, inspector, &report(&category, GA_POINT, &[]))
        .await
        .names_field(422, "grid_id");
    let mut body = report(&category, GB_POINT, &[]);
    body["description"] = json!("   ");
    app.post(ITEMS, inspector, &body)
        .await
        .names_field(422, "description");
    let all = app.get(ITEMS, w.token("admin")).await.ok(200);
    assert_eq!(all["total"], 0);
    // A client's own UUIDv7 is kept; the same id again (without a key) is a conflict.
    let own = "01890a5d-ac96-774b-bcce-b302099a8057";
    let mut body = report(&category, GB_POINT, &[]);
    body["id"] = json!(own);
    let made = app.post(ITEMS, inspector, &body).await.ok(201);
    assert_eq!(made["id"], own);
    assert_eq!(made["number"], "ZG-2020-000001");
    app.post(ITEMS, inspector, &body)
        .await
        .problem(409, "already_exists");
    // The refused reports took no numbers.
    let next = app
        .post(ITEMS, inspector, &report(&category, GB_POINT, &[]))
        .await
        .ok(201);
    assert_eq!(next["number"], "ZG-2020-000002");
}

#[actix_web::test]
async fn an_items_photos_are_read_by_those_who_see_the_item() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let before = photo(&app, inspector, "poster-board-exif.jpg").await;
    let path = format!("/api/v1/attachments/{before}");
    app.get(&path, w.token("office_b"))
        .await
        .problem(404, "not_found");
    app.post(ITEMS, inspector, &report(&category, GB_POINT, &[&before]))
        .await
        .ok(201);
    let got = app.get(&path, w.token("office_b")).await;
    assert_eq!(got.status.as_u16(), 200);
    assert_eq!(got.bytes, fixture("poster-board-exif.jpg"));
    assert_eq!(app.get(&path, w.token("leader")).await.status.as_u16(), 200);
    // 吕陵镇 does not see the item, so not its photo either.
    app.get(&path, w.token("officer"))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn lists_filter_by_state_place_and_time_and_map_as_geojson() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let a = app
        .post(ITEMS, inspector, &report(&category, GB_POINT, &[]))
        .await
        .ok(201);
    app.set_clock("2020-07-25T09:00:00+08:00");
    let b = app
        .post(ITEMS, w.token("office"), &report(&category, GA_POINT, &[]))
        .await
        .ok(201);
    let admin = w.token("admin");
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    };
    let page = app.get(ITEMS, admin).await.ok(200);
    assert_eq!(ids(&page), vec![id_of(&b), id_of(&a)], "newest first");
    let by_unit = app
        .get(&format!("{ITEMS}?unit_id={}", w.unit("B")), admin)
        .await
        .ok(200);
    assert_eq!(ids(&by_unit), vec![id_of(&a)]);
    let later = app
        .get(
            &format!("{ITEMS}?created_after={}", encode("2020-07-25T00:00:00Z")),
            admin,
        )
        .await
        .ok(200);
    assert_eq!(ids(&later), vec![id_of(&b)]);
    let text = app
        .get(&format!("{ITEMS}?q={}", encode("ZG-2020-000001")), admin)
        .await
        .ok(200);
    assert_eq!(ids(&text), vec![id_of(&a)]);
    let bbox = format!(
        "{},{},{},{}",
        GB_POINT.0 - 0.001,
        GB_POINT.1 - 0.001,
        GB_POINT.0 + 0.001,
        GB_POINT.1 + 0.001
    );
    let boxed = app
        .get(
            &format!("{ITEMS}?bbox={bbox}&status=assigned&status=in_progress"),
            admin,
        )
        .await
        .ok(200);
    assert_eq!(ids(&boxed), vec![id_of(&a)]);
    // Three days and an hour after the first report it is overdue: red. The second, due
    // within 72 hours, is blue; with under a tenth of its time left, yellow.
    app.set_clock("2020-07-27T10:00:00+08:00");
    let red = app
        .get(&format!("{ITEMS}?overdue=true"), admin)
        .await
        .ok(200);
    assert_eq!(ids(&red), vec![id_of(&a)]);
    assert_eq!(red["items"][0]["warning"], "red");
    let blue = app
        .get(&format!("{ITEMS}?warning=blue"), admin)
        .await
        .ok(200);
    assert_eq!(ids(&blue), vec![id_of(&b)]);
    assert_eq!(blue["items"][0]["warning"], "blue");
    app.set_clock("2020-07-28T04:00:00+08:00");
    let yellow = app
        .get(&format!("{ITEMS}?warning=yellow"), admin)
        .await
        .ok(200);
    assert_eq!(ids(&yellow), vec![id_of(&b)]);
    assert_eq!(yellow["items"][0]["warning"], "yellow");
    let none = app
        .get(&format!("{ITEMS}?warning=none"), admin)
        .await
        .ok(200);
    assert_eq!(none["total"], 0);
    // Each sees its own: the inspector of GB only the item in its grid.
    let own = app.get(ITEMS, inspector).await.ok(200);
    assert_eq!(ids(&own), vec![id_of(&a)]);
    // The map.
    let geo = app
        .send_with(
            Method::GET,
            ITEMS,
            admin,
            None,
            &[("Accept", "application/geo+json")],
        )
        .await;
    assert_eq!(geo.header("content-type"), Some("application/geo+json"));
    let geo = geo.json();
    assert_eq!(geo["type"], "FeatureCollection");
    assert_eq!(geo["total"], 2);
    let feature = &geo["features"][1];
    assert_eq!(feature["type"], "Feature");
    assert_eq!(feature["geometry"]["type"], "Point");
    assert_eq!(
        feature["geometry"]["coordinates"],
        json!([a["lon"], a["lat"]])
    );
    assert_eq!(feature["properties"]["number"], "ZG-2020-000001");
    // Bad filters are named.
    app.get(&format!("{ITEMS}?bbox=1,2,3"), admin)
        .await
        .names_field(400, "bbox");
    app.get(&format!("{ITEMS}?status=fixed"), admin)
        .await
        .names_field(400, "status");
}

#[actix_web::test]
async fn the_ledger_comes_as_csv_for_excel_and_as_xlsx() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let before = photo(&app, inspector, "poster-board-exif.jpg").await;
    let item = app
        .post(ITEMS, inspector, &report(&category, GB_POINT, &[&before]))
        .await
        .ok(201);
    let mut body = report(&category, GA_POINT, &[]);
    body["source"] = json!("unannounced");
    app.post(ITEMS, w.token("office"), &body).await.ok(201);
    app.set_clock("2020-07-29T10:00:00+08:00");

    let csv = app
        .get(
            &format!("{ITEMS}/ledger?unit_id={}", w.unit("B")),
            w.token("office_b"),
        )
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM first");
    let text = String::from_utf8(csv.bytes[3..].to_vec()).expect("UTF-8");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "the header and 马岭岗镇's one item: {text}");
    assert!(lines[0]
        .starts_with("编号,问题类别,位置,发现时间,发现人,来源,责任单位,整改期限,状态,超期天数"));
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[0], item["number"].as_str().expect("number"));
    assert_eq!(cells[1], "公益广告牌破损");
    assert_eq!(cells[3], "2020-07-24 09:00", "local time");
    assert_eq!(cells[4], "程楼网格员");
    assert_eq!(cells[5], "巡查");
    assert_eq!(cells[6], "马岭岗镇");
    assert_eq!(cells[7], "2020-07-27 09:00");
    assert_eq!(cells[8], "已派遣");
    assert_eq!(
        cells[9], "3",
        "two days and an hour late: three started days"
    );
    assert!(cells[12].ends_with(&format!("/api/v1/attachments/{before}")));
    // 吕陵镇's inspector's ledger has its grid's item and nothing of 马岭岗镇.
    let theirs = app
        .get(&format!("{ITEMS}/ledger"), w.token("inspector"))
        .await;
    let theirs = String::from_utf8(theirs.bytes[3..].to_vec()).expect("UTF-8");
    assert_eq!(theirs.trim_end().split("\r\n").count(), 2, "{theirs}");
    assert!(
        theirs.contains("暗访") && !theirs.contains(cells[0]),
        "{theirs}"
    );

    let xlsx = app
        .get(&format!("{ITEMS}/ledger?format=xlsx"), w.token("admin"))
        .await;
    assert_eq!(xlsx.status.as_u16(), 200);
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(xlsx.bytes.clone())).expect("a zip");
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut archive
            .by_name("xl/worksheets/sheet1.xml")
            .expect("the sheet"),
        &mut sheet,
    )
    .expect("XML");
    assert!(sheet.contains("ZG-2020-000001") && sheet.contains("ZG-2020-000002"));
    assert!(sheet.contains("暗访") && sheet.contains("公益广告牌破损"));
    assert!(sheet.contains("<pane"), "frozen panes");
    app.get(&format!("{ITEMS}/ledger?format=pdf"), w.token("admin"))
        .await
        .names_field(400, "format");
}

/// The demo district's items, loaded today: every status, unannounced ones, an overdue
/// one, one rejected and fixed again, one in triage, a pending extension; each item's
/// version is its number of events.
#[actix_web::test]
async fn the_demo_has_items_in_every_state() {
    let app = TestApp::new().await;
    app.db(|conn| {
        campaign_tracker::demo::load(conn, &app.state.attachments, &mut |_| {})
            .expect("the demo loads")
    });
    let leader = app.db(|conn| {
        use campaign_tracker::db::schema::users;
        use diesel::prelude::*;
        users::table
            .filter(users::username.eq("leader"))
            .select(users::id)
            .get_result::<String>(conn)
            .expect("the demo leader")
    });
    let token = app.token_for(&leader);
    let page = app
        .get(&format!("{ITEMS}?per_page=100"), &token)
        .await
        .ok(200);
    let items = page["items"].as_array().expect("items");
    // Nine reported, and one raised by the failed flood-gate inspection at 七里河节制闸.
    assert_eq!(items.len(), 10);
    let raised = items
        .iter()
        .find(|i| !i["inspection_id"].is_null())
        .expect("an item raised by an inspection");
    assert_eq!(raised["source"], "inspection");
    assert_eq!(raised["unit_name"], "万福水利管理站");
    assert_eq!(raised["attributes"]["gate_state"], "漏水");
    for status in [
        "reported",
        "assigned",
        "in_progress",
        "submitted",
        "accepted",
        "cancelled",
        "duplicate",
    ] {
        assert!(items.iter().any(|i| i["status"] == status), "none {status}");
    }
    assert!(items.iter().any(|i| i["source"] == "unannounced"));
    assert!(items.iter().any(|i| i["overdue"] == true));
    assert!(items
        .iter()
        .any(|i| i["rework_count"] == 1 && i["status"] == "accepted"));
    assert!(items.iter().any(|i| !i["extension"].is_null()));
    assert!(items.iter().any(|i| i["unit_name"] == "万福水利管理站"));
    let triage = app.get("/api/v1/triage", &token).await.ok(200);
    assert_eq!(triage["total"], 1);
    for item in items {
        let events = app
            .get(&format!("{ITEMS}/{}/events", id_of(item)), &token)
            .await
            .ok(200);
        assert_eq!(events["total"], item["version"], "{}", item["number"]);
    }
    // Loading again adds nothing.
    app.db(|conn| {
        let (loaded, _) = campaign_tracker::demo::load(conn, &app.state.attachments, &mut |_| {})
            .expect("the demo loads again");
        assert_eq!(loaded.created.rectification.items, 0);
    });
}

/// Eight phones report at once: eight items, eight different numbers, none skipped.
#[actix_web::test]
async fn concurrent_reports_get_distinct_numbers() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let body = report(&category, GB_POINT, &[]);
    let answers = at_once(8, |_| app.post(ITEMS, inspector, &body)).await;
    assert_eq!(count_status(&answers, 201), 8, "{answers:?}");
    let mut numbers: Vec<String> = answers
        .iter()
        .map(|a| a.json()["number"].as_str().expect("number").to_string())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=8).map(|n| format!("ZG-2020-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

/// Racing transitions: of two accepts sent at once, one wins and the other gets a
/// conflict; the item has one accept event.
#[actix_web::test]
async fn two_accepts_at_once_make_one() {
    let (app, w, category) = world().await;
    let inspector = w.token("inspector_b");
    let officer = w.token("officer_b");
    let item = app
        .post(ITEMS, inspector, &report(&category, GB_POINT, &[]))
        .await
        .ok(201);
    let id = id_of(&item);
    act(&app, &id, officer, json!({"action": "start"}))
        .await
        .ok(200);
    let evidence = photo(&app, officer, "after-fix.jpg").await;
    act(
        &app,
        &id,
        officer,
        json!({"action": "submit", "attachment_ids": [evidence]}),
    )
    .await
    .ok(200);
    let path = format!("{ITEMS}/{id}/transitions");
    let tokens = [inspector, w.token("office_b")];
    let accept = json!({"action": "accept"});
    let answers = at_once(2, |i| app.post(&path, tokens[i], &accept)).await;
    assert_eq!(count_status(&answers, 200), 1, "{answers:?}");
    assert!(answers
        .iter()
        .all(|a| matches!(a.status.as_u16(), 200 | 409)));
    let events = app
        .get(&format!("{ITEMS}/{id}/events"), officer)
        .await
        .ok(200);
    let accepts = events["items"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "accept")
        .count();
    assert_eq!(accepts, 1);
}

#[actix_web::test]
async fn a_grid_with_items_is_not_deleted() {
    let (app, w, category) = world().await;
    app.post(
        ITEMS,
        w.token("inspector_b"),
        &report(&category, GB_POINT, &[]),
    )
    .await
    .ok(201);
    let refused = app
        .delete(&format!("/api/v1/units/{}", w.unit("GB")), w.token("admin"))
        .await
        .problem(409, "unit_in_use");
    assert!(refused["detail"]
        .as_str()
        .expect("detail")
        .contains("rectification items"));
}

/// A ledger longer than one batch, with many items reported at the same moment across the
/// batches' edges: every item once, none skipped, none twice.
#[actix_web::test]
async fn a_long_ledger_has_every_item_once() {
    use campaign_tracker::db::schema::rectifications;
    use campaign_tracker::ids::RectificationId;
    use campaign_tracker::rectifications::model::ItemRow;
    use diesel::prelude::*;

    let (app, w, category) = world().await;
    let first = app
        .post(
            ITEMS,
            w.token("inspector_b"),
            &report(&category, GB_POINT, &[]),
        )
        .await
        .ok(201);
    let template: ItemRow = app.db(|conn| {
        rectifications::table
            .select(ItemRow::as_select())
            .first(conn)
            .expect("the first item")
    });
    // 1,202 more, in runs of seven at one moment, so ties straddle the batches of 500.
    let copies: Vec<ItemRow> = (2..=1203)
        .map(|n| ItemRow {
            id: RectificationId::new(),
            number: format!("ZG-2020-{n:06}"),
            created_at: template.created_at - chrono::TimeDelta::seconds(n / 7),
            ..template.clone()
        })
        .collect();
    app.db(|conn| {
        for chunk in copies.chunks(100) {
            campaign_tracker::on_backend!(conn, |c| diesel::insert_into(rectifications::table)
                .values(chunk)
                .execute(c))
            .expect("copies");
        }
    });
    let csv = app.get(&format!("{ITEMS}/ledger"), w.token("admin")).await;
    let text = String::from_utf8(csv.bytes[3..].to_vec()).expect("UTF-8");
    let mut numbers: Vec<&str> = text
        .trim_end()
        .split("\r\n")
        .skip(1)
        .map(|line| line.split(',').next().expect("number"))
        .collect();
    assert_eq!(numbers.len(), 1203);
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 1203, "an item twice");
    assert_eq!(numbers[0], first["number"].as_str().expect("number"));
}
