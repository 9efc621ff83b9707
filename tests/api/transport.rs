//! What every response carries and what every request must be: security headers, CORS,
//! request ids, text without invisible characters, known query parameters, no `null` where
//! a value is required, UTF-8 JSON, bodies that arrive in time.

use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let (app, w) = TestApp::with_world().await;
    let responses = [
        app.send(Method::GET, "/healthz", None, None).await,
        app.get("/api/v1/units", w.token("admin")).await,
        app.send(Method::GET, "/api/v1/units", None, None).await,
        app.send(Method::GET, "/api/v1/nothing", None, None).await,
        app.send(Method::GET, "/swagger-ui/", None, None).await,
    ];
    for resp in &responses {
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(resp.header("x-frame-options"), Some("DENY"));
        let csp = resp.header("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
    for api in &responses[1..4] {
        assert_eq!(api.header("cache-control"), Some("no-store"));
    }
    // The API loads nothing; Swagger UI its own scripts.
    assert!(responses[1]
        .header("content-security-policy")
        .unwrap()
        .starts_with("default-src 'none'"));
    assert!(responses[4]
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    // Tokens are never cached either.
    let login = app.login("admin", PASSWORD).await;
    assert_eq!(login.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn cors_is_closed_unless_an_origin_is_allowed() {
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/api/v1/units")
            .insert_header(("origin", origin))
            .insert_header(("access-control-request-method", "GET"))
            .insert_header(("access-control-request-headers", "authorization"))
            .to_request()
    };
    let closed = TestApp::new().await;
    let resp = closed.call(preflight("https://evil.example")).await;
    assert!(
        resp.header("access-control-allow-origin").is_none(),
        "{resp:?}"
    );

    let open =
        TestApp::with_settings(&[("CORS_ALLOWED_ORIGINS", "https://dashboard.example.org")]).await;
    let w = open.load_world();
    let resp = open.call(preflight("https://dashboard.example.org")).await;
    assert_eq!(resp.status.as_u16(), 200, "{resp:?}");
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("https://dashboard.example.org")
    );
    let methods = resp.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("PATCH"), "{methods}");
    let resp = open.call(preflight("https://evil.example")).await;
    assert!(resp.header("access-control-allow-origin").is_none());
    // A real request from the allowed origin gets the header and can read the request id.
    let req = TestRequest::get()
        .uri("/api/v1/units")
        .insert_header(("origin", "https://dashboard.example.org"))
        .insert_header(("authorization", format!("Bearer {}", w.token("admin"))))
        .to_request();
    let resp = open.call(req).await;
    assert_eq!(resp.status.as_u16(), 200);
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("https://dashboard.example.org")
    );
    assert!(resp
        .header("access-control-expose-headers")
        .unwrap()
        .contains("x-request-id"));
}

#[actix_web::test]
async fn only_plain_request_ids_are_echoed() {
    let app = TestApp::new().await;
    for bad in [
        "<script>alert(1)</script>",
        "a%0d%0aX-Evil:1",
        "with space",
        &"x".repeat(65),
    ] {
        let resp = app
            .send_raw("GET", "/healthz", &[("x-request-id", bad)], "")
            .await;
        let id = resp.header("x-request-id").unwrap();
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
    let resp = app
        .send_raw(
            "GET",
            "/healthz",
            &[("x-request-id", "mobile-7.retry_2")],
            "",
        )
        .await;
    assert_eq!(resp.header("x-request-id"), Some("mobile-7.retry_2"));
}

#[actix_web::test]
async fn invisible_formatting_characters_are_refused_in_names_and_codes() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    for name in ["都\u{200b}司镇", "吕陵\u{202e}镇", "\u{feff}马岭岗"] {
        let body =
            json!({"code": "HZGX-NEW", "name": name, "kind": "town", "parent_id": w.unit("D")});
        app.post("/api/v1/units", admin, &body)
            .await
            .names_field(422, "name");
    }
    let rename = json!({"name": "寨庄\u{200d}行政村"});
    app.patch(&format!("/api/v1/units/{}", w.unit("VA")), admin, &rename)
        .await
        .names_field(422, "name");
}

#[actix_web::test]
async fn unknown_query_parameters_are_400_naming_them() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // `type` is not `kind`: answering every unit would look like a filtered list.
    let resp = app.get("/api/v1/units?type=grid", admin).await;
    let body = resp.names_field(400, "type");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("kind"));
    app.get(
        "/api/v1/units?kind=grid&page=1&per_page=5&sort=code&q=%E7%BD%91%E6%A0%BC",
        admin,
    )
    .await
    .ok(200);
    app.get(&format!("/api/v1/units/{}?expand=all", w.unit("A")), admin)
        .await
        .names_field(400, "expand");
    app.send(Method::GET, "/healthz?verbose=1", None, None)
        .await
        .names_field(400, "verbose");
    app.get("/api/v1/pairings?unit=1", admin)
        .await
        .names_field(400, "unit");
}

#[actix_web::test]
async fn null_for_a_field_that_cannot_be_empty_is_422() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let unit = format!("/api/v1/units/{}", w.unit("A"));
    for field in ["name", "code"] {
        let mut body = serde_json::Map::new();
        body.insert(field.to_string(), serde_json::Value::Null);
        app.patch(&unit, admin, &serde_json::Value::Object(body))
            .await
            .names_field(422, field);
    }
    let user = format!("/api/v1/users/{}", w.user("officer"));
    for field in ["display_name", "role", "unit_id", "active", "password"] {
        let mut body = serde_json::Map::new();
        body.insert(field.to_string(), serde_json::Value::Null);
        app.patch(&user, admin, &serde_json::Value::Object(body))
            .await
            .names_field(422, field);
    }
    // `null` still clears what may be empty.
    app.patch(
        &format!("/api/v1/units/{}", w.unit("GA")),
        admin,
        &json!({"leader_id": null}),
    )
    .await
    .ok(200);
}

#[actix_web::test]
async fn json_that_is_not_utf8_is_415() {
    let (app, w) = TestApp::with_world().await;
    let bearer = format!("Bearer {}", w.token("admin"));
    let body =
        json!({"code": "HZGX-U16", "name": "编码镇", "kind": "town", "parent_id": w.unit("D")});
    for (content_type, status) in [
        ("application/json; charset=utf-16", 415),
        ("application/json; charset=latin1", 415),
        ("application/json; charset=UTF-8", 201),
    ] {
        let resp = app
            .send_raw(
                "POST",
                "/api/v1/units",
                &[("authorization", &bearer), ("content-type", content_type)],
                &body.to_string(),
            )
            .await;
        assert_eq!(
            resp.status.as_u16(),
            status,
            "{content_type}: {}",
            resp.text
        );
    }
}

#[actix_web::test]
async fn swagger_ui_without_its_slash_redirects() {
    let app = TestApp::new().await;
    let resp = app.send(Method::GET, "/swagger-ui", None, None).await;
    assert_eq!(resp.status.as_u16(), 308);
    assert_eq!(resp.header("location"), Some("/swagger-ui/"));
}

/// A body that stops arriving times out with 408 (see tests/cli.rs for the same over TCP).
#[actix_web::test]
async fn a_body_that_stops_arriving_is_408() {
    let app = TestApp::with_settings(&[("BODY_TIMEOUT_SECONDS", "1")]).await;
    let w = app.load_world();
    let (mut sender, payload) = actix_http::h1::Payload::create(false);
    sender.feed_data(actix_web::web::Bytes::from_static(b"{\"na"));
    let req = TestRequest::post()
        .uri("/api/v1/units")
        .insert_header(("authorization", format!("Bearer {}", w.token("admin"))))
        .insert_header(("content-type", "application/json"))
        .insert_header(("content-length", "1000"))
        .to_request();
    let (mut req, _) = req.replace_payload(payload.into());
    req.head_mut().peer_addr = Some("10.1.2.3:5555".parse().unwrap());
    let started = std::time::Instant::now();
    let resp = app.call(req).await;
    resp.problem(408, "request_timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(sender);
}
