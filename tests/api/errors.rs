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

/// `/units/locate` is a literal route beside `/units/{id}`: other methods on it are 405
/// with its `Allow`, not a bad id.
#[actix_web::test]
async fn other_methods_on_a_literal_route_are_405_not_a_bad_id() {
    let (app, w) = TestApp::with_world().await;
    for method in [Method::PATCH, Method::DELETE, Method::POST, Method::PUT] {
        let resp = app
            .send(
                method.clone(),
                "/api/v1/units/locate",
                Some(w.token("admin")),
                Some(&json!({"name": "x"})),
            )
            .await;
        resp.problem(405, "method_not_allowed");
        assert_eq!(resp.header("allow"), Some("GET"), "{method}");
    }
    // A bad id elsewhere is still a bad id.
    app.patch("/api/v1/units/not-an-id", w.token("admin"), &json!({}))
        .await
        .names_field(400, "id");
}

/// `HEAD` answers as `GET` would (the body is dropped by the HTTP codec; see tests/cli.rs).
#[actix_web::test]
async fn head_answers_like_get() {
    let (app, w) = TestApp::with_world().await;
    let path = format!("/api/v1/units/{}", w.unit("A"));
    let get = app
        .send(Method::GET, &path, Some(w.token("admin")), None)
        .await;
    let head = app
        .send(Method::HEAD, &path, Some(w.token("admin")), None)
        .await;
    assert_eq!(head.status.as_u16(), 200, "{}", head.text);
    assert_eq!(head.header("content-type"), get.header("content-type"));
    for path in ["/healthz", "/api/v1/units", "/api-docs/openapi.json"] {
        let resp = app
            .send(Method::HEAD, path, Some(w.token("office")), None)
            .await;
        assert_eq!(resp.status.as_u16(), 200, "HEAD {path}: {}", resp.text);
    }
    // Scope and authentication apply as to GET.
    let hidden = format!("/api/v1/units/{}", w.unit("B"));
    app.send(Method::HEAD, &hidden, Some(w.token("office")), None)
        .await
        .problem(404, "not_found");
    app.send(Method::HEAD, &path, None, None)
        .await
        .problem(401, "missing_token");
}

/// A pool with no free connection answers 503 once the wait times out.
#[actix_web::test]
async fn an_exhausted_pool_is_503() {
    let app = TestApp::with_settings(&[
        ("DATABASE_POOL_SIZE", "1"),
        ("DATABASE_TIMEOUT_SECONDS", "1"),
    ])
    .await;
    let held = app.state.db.get().expect("the only connection");
    app.send(Method::GET, "/readyz", None, None)
        .await
        .problem(503, "service_unavailable");
    drop(held);
    app.send(Method::GET, "/readyz", None, None).await.ok(200);
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
        // An empty value is not an absent one.
        ("/api/v1/units?page=", "page"),
        ("/api/v1/notifications?unread=", "unread"),
        ("/api/v1/tasks?status=assigned&status=", "status"),
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
