//! `/api/v1/users`: admin-only account management; never a hard delete, never a hash.

use serde_json::json;

use crate::common::*;

/// A password the rules accept.
const NEW_PASSWORD: &str = "sluice gate at Qilihe 7";

fn new_user(username: &str, unit: &str) -> serde_json::Value {
    json!({"username": username, "display_name": "寨庄联络员", "password": NEW_PASSWORD, "role": "officer", "unit_id": unit})
}

#[actix_web::test]
async fn admin_creates_and_reads_users() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let mut body = new_user("wangge01", w.unit("GA"));
    body["role"] = json!("inspector");
    body["display_name"] = json!("寨庄网格员");
    let resp = app.post("/api/v1/users", admin, &body).await;
    let created = resp.ok(201);
    assert_no_secrets(&resp.text);
    assert!(created.get("password").is_none());
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/users/{}", created["id"].as_str().unwrap()).as_str())
    );
    assert_eq!(created["display_name"], "寨庄网格员");
    assert_eq!(created["active"], true);

    let fetched = app
        .get(
            &format!("/api/v1/users/{}", created["id"].as_str().unwrap()),
            admin,
        )
        .await
        .ok(200);
    assert_eq!(fetched, created);
    // The new account can log in.
    app.login("wangge01", NEW_PASSWORD).await.ok(200);
}

#[actix_web::test]
async fn user_input_is_validated() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    app.post("/api/v1/users", admin, &new_user("has space", w.unit("A")))
        .await
        .names_field(422, "username");
    let mut body = new_user("ok_name", w.unit("A"));
    body["password"] = json!("short");
    app.post("/api/v1/users", admin, &body)
        .await
        .names_field(422, "password");
    body["password"] = json!(NEW_PASSWORD);
    body["role"] = json!("superuser");
    app.post("/api/v1/users", admin, &body)
        .await
        .names_field(422, "role");
    let unknown_unit = uuid::Uuid::now_v7().to_string();
    app.post("/api/v1/users", admin, &new_user("ok_name", &unknown_unit))
        .await
        .names_field(422, "unit_id");
    let mut body = new_user("ok_name", w.unit("A"));
    body["password_hash"] = json!("$argon2id$forged");
    app.post("/api/v1/users", admin, &body)
        .await
        .names_field(422, "password_hash");
    let list = app.get("/api/v1/users?q=ok_name", admin).await.ok(200);
    assert_eq!(list["total"], 0, "nothing was created");
}

#[actix_web::test]
async fn duplicate_usernames_conflict() {
    let (app, w) = TestApp::with_world().await;
    app.post(
        "/api/v1/users",
        w.token("admin"),
        &new_user("office_a", w.unit("A")),
    )
    .await
    .problem(409, "username_taken");
}

#[actix_web::test]
async fn list_filters_sorts_and_pages() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let all = app
        .get("/api/v1/users?per_page=2&sort=-username", admin)
        .await
        .ok(200);
    assert_eq!(all["total"], 6);
    assert_eq!(all["per_page"], 2);
    let names: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["officer_b", "officer_a"]);
    let page3 = app
        .get("/api/v1/users?per_page=2&page=3&sort=-username", admin)
        .await
        .ok(200);
    assert_eq!(page3["items"].as_array().unwrap().len(), 2);
    assert_eq!(page3["page"], 3);

    let officers = app.get("/api/v1/users?role=officer", admin).await.ok(200);
    assert_eq!(officers["total"], 2);
    let in_a = app
        .get(&format!("/api/v1/users?unit_id={}", w.unit("A")), admin)
        .await
        .ok(200);
    assert_eq!(in_a["total"], 2);
    let search = app
        .get("/api/v1/users?q=%E6%B5%8B%E8%AF%95", admin)
        .await
        .ok(200); // 测试
    assert_eq!(search["total"], 6);
    assert_no_secrets(&search.to_string());
}

#[actix_web::test]
async fn admin_updates_and_deactivates_but_never_deletes() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let path = format!("/api/v1/users/{}", w.user("officer_b"));
    let updated = app
        .patch(
            &path,
            admin,
            &json!({"display_name": "马岭岗镇联络员", "unit_id": w.unit("VB")}),
        )
        .await
        .ok(200);
    assert_eq!(updated["display_name"], "马岭岗镇联络员");
    assert_eq!(updated["unit_id"], w.unit("VB"));

    let deactivated = app
        .post(&format!("{path}/deactivate"), admin, &json!({}))
        .await
        .ok(200);
    assert_eq!(deactivated["active"], false);
    let inactive = app.get("/api/v1/users?active=false", admin).await.ok(200);
    assert_eq!(inactive["total"], 1);
    app.delete(&path, admin)
        .await
        .problem(405, "method_not_allowed");
    app.get(&path, admin).await.ok(200);

    let reactivated = app
        .patch(&path, admin, &json!({"active": true}))
        .await
        .ok(200);
    assert_eq!(reactivated["active"], true);
    app.patch(&path, admin, &json!({"password": "reset-by-admin-1"}))
        .await
        .ok(200);
    app.login("officer_b", "reset-by-admin-1").await.ok(200);
}

#[actix_web::test]
async fn admins_cannot_lock_themselves_out() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let me = format!("/api/v1/users/{}", w.user("admin"));
    app.post(&format!("{me}/deactivate"), admin, &json!({}))
        .await
        .problem(422, "self_lockout");
    app.patch(&me, admin, &json!({"role": "leader"}))
        .await
        .problem(422, "self_lockout");
    app.patch(&me, admin, &json!({"active": false}))
        .await
        .problem(422, "self_lockout");
    assert_eq!(app.get(&me, admin).await.ok(200)["role"], "admin");
}

#[actix_web::test]
async fn non_admins_cannot_manage_users() {
    let (app, w) = TestApp::with_world().await;
    for role in ["leader", "office", "officer", "inspector"] {
        let token = w.token(role);
        if role != "office" {
            app.get("/api/v1/users", token)
                .await
                .problem(403, "forbidden");
            app.get(&format!("/api/v1/users/{}", w.user("officer")), token)
                .await
                .problem(403, "forbidden");
        }
        app.post("/api/v1/users", token, &new_user("sneaky", w.unit("A")))
            .await
            .problem(403, "forbidden");
        let path = format!("/api/v1/users/{}", w.user(role));
        app.patch(&path, token, &json!({"role": "admin"}))
            .await
            .problem(403, "forbidden");
    }
    let list = app
        .get("/api/v1/users?q=sneaky", w.token("admin"))
        .await
        .ok(200);
    assert_eq!(list["total"], 0);
}
