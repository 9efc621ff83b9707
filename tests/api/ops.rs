//! Health, readiness, metrics, request ids, and the OpenAPI document.

use actix_web::http::Method;

use crate::common::*;

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let health = app.send(Method::GET, "/healthz", None, None).await.ok(200);
    assert_eq!(health["status"], "ok");
    let ready = app.send(Method::GET, "/readyz", None, None).await.ok(200);
    assert_eq!(ready["status"], "ready");
    let expected = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(ready["database"], expected);
}

#[actix_web::test]
async fn every_response_has_a_request_id() {
    let app = TestApp::new().await;
    let a = app.send(Method::GET, "/healthz", None, None).await;
    let b = app.send(Method::GET, "/nope", None, None).await;
    let (a, b) = (
        a.header("x-request-id").unwrap(),
        b.header("x-request-id").unwrap(),
    );
    assert_ne!(a, b);
    let echoed = app
        .send_raw("GET", "/healthz", &[("x-request-id", "client-abc-1")], "")
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("client-abc-1"));
    // An unsafe id is replaced, not echoed.
    let replaced = app
        .send_raw("GET", "/healthz", &[("x-request-id", "a b")], "")
        .await;
    let replacement = replaced.header("x-request-id").expect("a request id");
    assert!(uuid::Uuid::parse_str(replacement).is_ok(), "{replacement}");
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let (app, w) = TestApp::with_world().await;
    app.get(&format!("/api/v1/units/{}", w.unit("A")), w.token("admin"))
        .await
        .ok(200);
    app.get(
        &format!("/api/v1/units/{}", uuid::Uuid::now_v7()),
        w.token("admin"),
    )
    .await
    .problem(404, "not_found");
    let resp = app.send(Method::GET, "/metrics", None, None).await;
    assert_eq!(resp.status, 200);
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = &resp.text;
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/units/{id}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/units/{id}",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_max_connections 4"));
    assert!(text.contains("db_pool_wait_seconds_count"));
}

#[actix_web::test]
async fn served_spec_equals_the_committed_one() {
    let app = TestApp::new().await;
    let served = app
        .send(Method::GET, "/api-docs/openapi.json", None, None)
        .await
        .ok(200);
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json"))
            .expect("openapi/openapi.json is JSON");
    assert!(
        served == committed,
        "openapi/openapi.json is stale: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
    assert_eq!(served["openapi"], "3.1.0");
    // And the CLI prints exactly the committed text.
    assert_eq!(
        campaign_tracker::openapi::document_json(),
        include_str!("../../openapi/openapi.json")
    );
}

#[actix_web::test]
async fn swagger_ui_is_served_from_vendored_assets() {
    let app = TestApp::new().await;
    let page = app.send(Method::GET, "/swagger-ui/", None, None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("swagger-ui-bundle.js"), "{}", page.text);
    // The assets are in the binary (no CDN), and the UI is pointed at our document.
    let bundle = app
        .send(Method::GET, "/swagger-ui/swagger-ui-bundle.js", None, None)
        .await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000);
    let init = app
        .send(
            Method::GET,
            "/swagger-ui/swagger-initializer.js",
            None,
            None,
        )
        .await;
    assert!(
        init.text.contains("/api-docs/openapi.json"),
        "{}",
        init.text
    );
}

#[actix_web::test]
async fn metric_labels_stay_bounded_whatever_clients_send() {
    let app = TestApp::new().await;
    for (method, path) in [
        ("BREW", "/coffee"),
        ("QUERY", "/api/v1/units"),
        ("GET", "/random/path/1"),
        ("GET", "/random/path/2"),
    ] {
        let resp = app.send_raw(method, path, &[], "").await;
        assert!(resp.status.is_client_error());
    }
    let text = app.send(Method::GET, "/metrics", None, None).await.text;
    assert!(
        !text.contains("BREW") && !text.contains("/random/path"),
        "{text}"
    );
    assert!(
        text.contains(r#"method="OTHER",route="unmatched""#),
        "{text}"
    );
    assert!(
        text.contains(r#"method="GET",route="unmatched",status="404"} 2"#),
        "{text}"
    );
}

/// A connection that died under the pool (a database restart, a killed backend) costs one
/// failed request, not one per request until the pool recycles it. PostgreSQL only: an
/// embedded SQLite connection cannot be killed from outside.
#[actix_web::test]
async fn a_dead_connection_is_dropped_after_one_failure() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let app = TestApp::with_settings(&[("DATABASE_POOL_SIZE", "1")]).await;
    let Some((admin_url, name)) = app.postgres_schema() else {
        return;
    };
    app.send(Method::GET, "/readyz", None, None).await.ok(200);
    let mut admin = diesel::PgConnection::establish(admin_url).unwrap();
    admin
        .batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{name}'"
        ))
        .unwrap();
    let first = app.send(Method::GET, "/readyz", None, None).await;
    assert!(first.status.is_server_error(), "{}", first.text);
    app.send(Method::GET, "/readyz", None, None).await.ok(200);
}
