//! Every kind of bad input gets its 4xx as problem+json, naming the field where there is one.

use actix_web::http::Method;
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn malformed_json_is_400() {
    let (app, w) = TestApp::with_world().await;
    let bearer = format!("Bearer {}", w.token("admin"));
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let resp = app
        .send_raw("POST", "/api/v1/units", &headers, "{\"code\": \"X\", ")
        .await;
    resp.problem(400, "malformed_json");
}

#[actix_web::test]
async fn wrong_content_type_is_415() {
    let (app, w) = TestApp::with_world().await;
    let bearer = format!("Bearer {}", w.token("admin"));
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "text/plain"),
    ];
    let resp = app.send_raw("POST", "/api/v1/units", &headers, "{}").await;
    resp.problem(415, "unsupported_media_type");
    let login = r#"{"username":"admin","password":"x"}"#;
    let resp = app.send_raw("POST", "/api/v1/auth/login", &[], login).await;
    resp.problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn wrong_type_missing_and_unknown_fields_are_422_naming_the_field() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let body = json!({"code": "X1", "name": 5, "kind": "town", "parent_id": w.unit("D")});
    app.post("/api/v1/units", admin, &body)
        .await
        .names_field(422, "name");
    let body = json!({"code": "X1", "kind": "town", "parent_id": w.unit("D")});
    app.post("/api/v1/units", admin, &body)
        .await
        .names_field(422, "name");
    let body = json!({"code": "X1", "name": "新镇", "kind": "town", "parent_id": w.unit("D"), "path": "/x/"});
    app.post("/api/v1/units", admin, &body)
        .await
        .names_field(422, "path");
    let body =
        json!({"code": "X1", "name": "新镇", "kind": "metropolis", "parent_id": w.unit("D")});
    app.post("/api/v1/units", admin, &body)
        .await
        .names_field(422, "kind");
    // Nothing was written by any of these.
    let list = app.get("/api/v1/units?q=X1", admin).await.ok(200);
    assert_eq!(list["total"], 0);
}

#[actix_web::test]
async fn body_over_the_limit_is_413() {
    let app = TestApp::with_settings(&[("MAX_BODY_BYTES", "2048")]).await;
    let w = app.load_world();
    let body =
        json!({"code": "X1", "name": "x".repeat(5000), "kind": "town", "parent_id": w.unit("D")});
    app.post("/api/v1/units", w.token("admin"), &body)
        .await
        .problem(413, "payload_too_large");
}

#[actix_web::test]
async fn unknown_route_is_404_and_wrong_method_405_with_allow() {
    let (app, w) = TestApp::with_world().await;
    app.get("/api/v1/nothing-here", w.token("admin"))
        .await
        .problem(404, "not_found");
    app.send(Method::GET, "/no/such/page", None, None)
        .await
        .problem(404, "not_found");
    let resp = app
        .send(
            Method::PUT,
            "/api/v1/units",
            Some(w.token("admin")),
            Some(&json!({})),
        )
        .await;
    resp.problem(405, "method_not_allowed");
    assert_eq!(resp.header("allow"), Some("GET, POST"));
    let resp = app
        .send(
            Method::POST,
            &format!("/api/v1/units/{}", w.unit("A")),
            Some(w.token("admin")),
            None,
        )
        .await;
    resp.problem(405, "method_not_allowed");
}

#[actix_web::test]
async fn bad_path_and_query_parameters_are_400_naming_them() {
    let (app, w) = TestApp::with_world().await;
    for (path, field) in [
        ("/api/v1/units/not-a-uuid", "id"),
        ("/api/v1/units?page=0", "page"),
        ("/api/v1/units?per_page=101", "per_page"),
        ("/api/v1/units?per_page=ten", "per_page"),
        ("/api/v1/units?per_page=1&per_page=2", "per_page"),
        ("/api/v1/units?kind=planet", "kind"),
        ("/api/v1/units?sort=colour", "sort"),
        ("/api/v1/units?parent_id=nope", "parent_id"),
        ("/api/v1/units/locate?lat=91&lon=115", "lat"),
        ("/api/v1/units/locate?lat=35", "lon"),
        ("/api/v1/units/locate?lat=NaN&lon=115", "lat"),
        ("/api/v1/users?active=maybe", "active"),
    ] {
        app.get(path, w.token("admin"))
            .await
            .names_field(400, field);
    }
}

#[actix_web::test]
async fn missing_resources_are_404() {
    let (app, w) = TestApp::with_world().await;
    let id = uuid::Uuid::now_v7();
    app.get(&format!("/api/v1/units/{id}"), w.token("admin"))
        .await
        .problem(404, "not_found");
    app.get(&format!("/api/v1/users/{id}"), w.token("admin"))
        .await
        .problem(404, "not_found");
    app.get(&format!("/api/v1/pairings/{id}"), w.token("admin"))
        .await
        .problem(404, "not_found");
}
