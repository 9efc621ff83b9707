//! Safe writes on the organisation's records (units, users, pairings), as campaign work has
//! them: an `ETag` on every single-record GET, `If-Match` on every update and delete, an
//! `Idempotency-Key` on every create.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

async fn etag_of(app: &TestApp, path: &str, token: &str) -> String {
    let read = app.get(path, token).await;
    read.ok(200);
    read.header("etag").expect("an ETag").to_string()
}

async fn with_headers(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    app.send_with(method, path, token, body, headers).await
}

#[actix_web::test]
async fn a_unit_update_honours_if_match_and_a_move_changes_the_versions_below() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let town = format!("/api/v1/units/{}", w.unit("A"));
    let village = format!("/api/v1/units/{}", w.unit("VA"));
    let etag = etag_of(&app, &town, admin).await;
    let village_etag = etag_of(&app, &village, admin).await;

    let renamed = with_headers(
        &app,
        Method::PATCH,
        &town,
        admin,
        Some(&json!({"name": "吕陵镇（新）"})),
        &[("If-Match", &etag)],
    )
    .await;
    let body = renamed.ok(200);
    let new_etag = renamed.header("etag").expect("ETag").to_string();
    assert_ne!(new_etag, etag);
    assert_eq!(format!("\"{}\"", body["version"]), new_etag);

    // A second admin working from the old view is told, and gets the unit as it is now.
    let stale = with_headers(
        &app,
        Method::PATCH,
        &town,
        admin,
        Some(&json!({"name": "吕陵镇（旧）"})),
        &[("If-Match", &etag)],
    )
    .await;
    let problem = stale.problem(412, "precondition_failed");
    assert_eq!(problem["current"]["name"], "吕陵镇（新）");
    assert_eq!(stale.header("etag"), Some(new_etag.as_str()));
    let now = app.get(&town, admin).await.ok(200);
    assert_eq!(
        now["name"], "吕陵镇（新）",
        "the stale change was not written"
    );

    // Moving the village to the other town changes the place of the grid below it: the
    // grid's version moves too.
    let grid = format!("/api/v1/units/{}", w.unit("GA"));
    let grid_before = app.get(&grid, admin).await.ok(200)["version"].clone();
    let moved = with_headers(
        &app,
        Method::PATCH,
        &village,
        admin,
        Some(&json!({"parent_id": w.unit("B")})),
        &[("If-Match", &village_etag)],
    )
    .await;
    moved.ok(200);
    let grid_now = app.get(&grid, admin).await.ok(200);
    assert_eq!(
        grid_now["version"].as_i64(),
        grid_before.as_i64().map(|v| v + 1),
        "the grid below moved with it"
    );
    assert_eq!(grid_now["path_names"][1], "马岭岗镇");

    // Without If-Match the change proceeds (documented: last writer wins).
    app.patch(&town, admin, &json!({"name": "吕陵镇"}))
        .await
        .ok(200);
}

#[actix_web::test]
async fn a_stale_delete_is_refused_and_deletes_nothing() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let created = app
        .post(
            "/api/v1/units",
            admin,
            &json!({"code": "HZGX-TMP", "name": "临时社区", "kind": "community", "parent_id": w.unit("A")}),
        )
        .await;
    let unit = created.ok(201);
    assert_eq!(created.header("etag"), Some("\"1\""));
    let path = format!("/api/v1/units/{}", unit["id"].as_str().expect("id"));
    app.patch(&path, admin, &json!({"name": "临时社区二"}))
        .await
        .ok(200);
    let stale = with_headers(
        &app,
        Method::DELETE,
        &path,
        admin,
        None,
        &[("If-Match", "\"1\"")],
    )
    .await;
    stale.problem(412, "precondition_failed");
    app.get(&path, admin).await.ok(200);
    let fresh = with_headers(
        &app,
        Method::DELETE,
        &path,
        admin,
        None,
        &[("If-Match", "\"2\"")],
    )
    .await;
    assert_eq!(fresh.status.as_u16(), 204, "{}", fresh.text);
    app.get(&path, admin).await.problem(404, "not_found");
}

#[actix_web::test]
async fn user_updates_and_deactivation_honour_if_match() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let path = format!("/api/v1/users/{}", w.user("officer_b"));
    let etag = etag_of(&app, &path, admin).await;
    assert_eq!(etag, "\"1\"");
    let renamed = with_headers(
        &app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({"display_name": "程楼办事员"})),
        &[("If-Match", &etag)],
    )
    .await;
    renamed.ok(200);
    assert_eq!(renamed.header("etag"), Some("\"2\""));

    let stale = with_headers(
        &app,
        Method::POST,
        &format!("{path}/deactivate"),
        admin,
        None,
        &[("If-Match", &etag)],
    )
    .await;
    let problem = stale.problem(412, "precondition_failed");
    assert_eq!(problem["current"]["display_name"], "程楼办事员");
    assert!(
        problem["current"].get("password_hash").is_none(),
        "the 412 shows the account as the API does"
    );
    let still = app.get(&path, admin).await.ok(200);
    assert_eq!(still["active"], true, "the stale deactivation did nothing");

    let done = with_headers(
        &app,
        Method::POST,
        &format!("{path}/deactivate"),
        admin,
        None,
        &[("If-Match", "\"2\"")],
    )
    .await;
    assert_eq!(done.ok(200)["active"], false);
    assert_eq!(done.header("etag"), Some("\"3\""));
}

#[actix_web::test]
async fn a_pairing_note_honours_if_match() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let path = format!("/api/v1/pairings/{}", w.pairings["PA"]);
    let etag = etag_of(&app, &path, w.token("office")).await;
    with_headers(
        &app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({"note": "包联吕陵镇创城工作"})),
        &[("If-Match", &etag)],
    )
    .await
    .ok(200);
    let stale = with_headers(
        &app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({"note": "旧的说明"})),
        &[("If-Match", &etag)],
    )
    .await;
    let problem = stale.problem(412, "precondition_failed");
    assert_eq!(problem["current"]["note"], "包联吕陵镇创城工作");
    let stale_delete = with_headers(
        &app,
        Method::DELETE,
        &path,
        admin,
        None,
        &[("If-Match", &etag)],
    )
    .await;
    stale_delete.problem(412, "precondition_failed");
    app.get(&path, admin).await.ok(200);
}

#[actix_web::test]
async fn retried_creates_of_units_users_and_pairings_create_once() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let creates = [
        (
            "/api/v1/units",
            json!({"code": "HZGX-LLZ-XZ", "name": "新庄行政村", "kind": "village", "parent_id": w.unit("A")}),
        ),
        (
            "/api/v1/users",
            json!({"username": "xinzhuang", "display_name": "新庄网格员", "role": "officer", "unit_id": w.unit("A"), "password": "Qiu-shou-2020-zheng-gai"}),
        ),
        (
            "/api/v1/pairings",
            json!({"department_id": w.unit("P"), "partner_id": w.unit("VB"), "note": "包联程楼"}),
        ),
    ];
    for (path, body) in &creates {
        let key = format!("create-once-{path}");
        let headers = [("Idempotency-Key", key.as_str())];
        let first = with_headers(&app, Method::POST, path, admin, Some(body), &headers).await;
        first.ok(201);
        let retry = with_headers(&app, Method::POST, path, admin, Some(body), &headers).await;
        assert_eq!(retry.status.as_u16(), 201, "{path}: {}", retry.text);
        assert_eq!(retry.text, first.text, "{path}: the first answer again");
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.header("location"), first.header("location"));
        let mut other = body.clone();
        let field = ["code", "display_name", "note"]
            .into_iter()
            .find(|f| body.get(*f).is_some())
            .expect("a field to change");
        other[field] = json!(if field == "code" {
            "HZGX-OTHER"
        } else {
            "另一个"
        });
        let reused = with_headers(&app, Method::POST, path, admin, Some(&other), &headers).await;
        reused.problem(422, "idempotency_key_reused");
    }
    // One of each was made.
    let listed = app
        .get("/api/v1/units?q=%E6%96%B0%E5%BA%84", admin)
        .await
        .ok(200);
    assert_eq!(listed["total"], 1, "{listed}");
    let users = app.get("/api/v1/users?q=xinzhuang", admin).await.ok(200);
    assert_eq!(users["total"], 1, "{users}");
}

#[actix_web::test]
async fn two_user_creates_at_once_with_one_key_make_one_account() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let body = json!({"username": "shuangfa", "display_name": "双发", "role": "officer", "unit_id": w.unit("B"), "password": "Liang-ge-qing-qiu-tong-shi"});
    let answers = at_once(4, |_| {
        let (app, body) = (&app, &body);
        async move {
            app.send_with(
                Method::POST,
                "/api/v1/users",
                admin,
                Some(body),
                &[("Idempotency-Key", "same-moment")],
            )
            .await
        }
    })
    .await;
    assert_eq!(count_status(&answers, 201), 4, "{answers:?}");
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| a.json()["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one account, answered four times");
}
