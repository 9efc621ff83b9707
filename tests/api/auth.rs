//! Login, tokens, refresh rotation, logout, the caller's account, and throttling.

use actix_web::http::Method;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::common::*;
use campaign_tracker::auth::sessions;
use campaign_tracker::auth::token::Claims;
use campaign_tracker::ids::UserId;

#[actix_web::test]
async fn login_returns_tokens_that_work() {
    let (app, _w) = TestApp::with_world().await;
    let resp = app.login("office_a", PASSWORD).await;
    let body = resp.ok(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["refresh_token"].as_str().unwrap().len(), 64);
    assert_no_secrets(&resp.text);
    let me = app
        .get("/api/v1/me", body["access_token"].as_str().unwrap())
        .await
        .ok(200);
    assert_eq!(me["username"], "office_a");
    assert_eq!(me["role"], "office");
    assert_eq!(me["display_name"], "office_a（测试）");
}

#[actix_web::test]
async fn access_token_carries_the_required_claims() {
    let (app, w) = TestApp::with_world().await;
    let body = app.login("inspector_a", PASSWORD).await.ok(200);
    let token = body["access_token"].as_str().unwrap();
    let claims = app.state.tokens.verify(token).unwrap();
    assert_eq!(claims.sub.to_string(), w.user("inspector"));
    assert_eq!(claims.exp - claims.iat, 900);
    // Only who and when: the role and unit are read from the user on every request.
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let mut names: Vec<&str> = payload
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    assert_eq!(names, ["exp", "iat", "nbf", "sid", "sub"]);
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let (app, _w) = TestApp::with_world().await;
    let wrong = app
        .login("office_a", "not-the-password")
        .await
        .problem(401, "invalid_credentials");
    let unknown = app
        .login("nobody", "not-the-password")
        .await
        .problem(401, "invalid_credentials");
    assert_eq!(wrong["detail"], unknown["detail"]);
}

#[actix_web::test]
async fn login_validates_its_input() {
    let (app, _w) = TestApp::with_world().await;
    app.login("", PASSWORD).await.names_field(422, "username");
    let body = json!({"username": "office_a"});
    app.send(Method::POST, "/api/v1/auth/login", None, Some(&body))
        .await
        .names_field(422, "password");
}

#[actix_web::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let app = TestApp::with_settings(&[
        ("LOGIN_MAX_FAILURES", "3"),
        ("LOGIN_LOCKOUT_SECONDS", "120"),
    ])
    .await;
    let _w = app.load_world();
    for _ in 0..3 {
        app.login("officer_a", "wrong-password-x")
            .await
            .problem(401, "invalid_credentials");
    }
    let locked = app.login("officer_a", PASSWORD).await;
    locked.problem(429, "too_many_requests");
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=120).contains(&retry), "{retry}");
    // Another account from the same address is not locked yet (the address limit is higher).
    app.login("office_a", PASSWORD).await.ok(200);
}

#[actix_web::test]
async fn guessing_from_one_address_is_throttled_across_usernames() {
    let app = TestApp::with_settings(&[
        ("LOGIN_MAX_FAILURES", "2"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "8"),
    ])
    .await;
    let _w = app.load_world();
    // Failures spread over usernames that never lock alone.
    for i in 0..8 {
        app.login(&format!("guess{i}"), "wrong-password-x")
            .await
            .problem(401, "invalid_credentials");
    }
    let limited = app.login("office_a", PASSWORD).await;
    let body = limited.problem(429, "too_many_requests");
    assert_eq!(body["limited"], "address");
    assert!(body["until"].is_string(), "{body}");
    // From another address the account works.
    app.login_from("10.9.9.9", "office_a", PASSWORD)
        .await
        .ok(200);
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let (app, _w) = TestApp::with_world().await;
    let first = app.login("officer_a", PASSWORD).await.ok(200);
    let r1 = first["refresh_token"].as_str().unwrap().to_string();

    let second = app.refresh(&r1).await.ok(200);
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    app.get("/api/v1/me", second["access_token"].as_str().unwrap())
        .await
        .ok(200);

    // r1 again: a replay. The whole family dies, r2 included.
    app.refresh(&r1).await.problem(401, "refresh_token_reused");
    app.refresh(&r2).await.problem(401, "invalid_refresh_token");

    // Another login (another family) is unaffected.
    let other = app.login("officer_a", PASSWORD).await.ok(200);
    let r3 = other["refresh_token"].as_str().unwrap();
    app.refresh(r3).await.ok(200);
    app.refresh("garbage")
        .await
        .problem(401, "invalid_refresh_token");
}

#[actix_web::test]
async fn logout_ends_the_session() {
    let (app, _w) = TestApp::with_world().await;
    let tokens = app.login("leader", PASSWORD).await.ok(200);
    let access = tokens["access_token"].as_str().unwrap();
    let body = json!({"refresh_token": tokens["refresh_token"]});
    app.post("/api/v1/auth/logout", access, &body).await.ok(204);
    app.refresh(body["refresh_token"].as_str().unwrap())
        .await
        .problem(401, "invalid_refresh_token");
    // The access token ended with its session, at once.
    app.get("/api/v1/me", access)
        .await
        .problem(401, "session_ended");
    // Silent about refresh tokens it does not know.
    let other = app.login("leader", PASSWORD).await.ok(200);
    let other_access = other["access_token"].as_str().unwrap();
    app.post(
        "/api/v1/auth/logout",
        other_access,
        &json!({"refresh_token": "unknown"}),
    )
    .await
    .ok(204);
}

#[actix_web::test]
async fn another_users_refresh_token_cannot_be_logged_out() {
    let (app, w) = TestApp::with_world().await;
    let victim = app.login("leader", PASSWORD).await.ok(200);
    let body = json!({"refresh_token": victim["refresh_token"]});
    app.post("/api/v1/auth/logout", w.token("officer"), &body)
        .await
        .ok(204);
    app.refresh(body["refresh_token"].as_str().unwrap())
        .await
        .ok(200);
}

fn forge(claims: &Claims, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
}

#[actix_web::test]
async fn bad_tokens_are_401_problems() {
    use base64::Engine;
    let (app, w) = TestApp::with_world().await;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let now = chrono::Utc::now().timestamp();
    let admin: UserId = w.user("admin").parse().unwrap();
    let claims = Claims {
        sub: admin,
        sid: app.db(|conn| sessions::start(conn, admin).unwrap()),
        iat: now,
        nbf: now,
        exp: now + 600,
    };

    let missing = app.send(Method::GET, "/api/v1/me", None, None).await;
    missing.problem(401, "missing_token");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    let expired = Claims {
        iat: now - 1000,
        nbf: now - 1000,
        exp: now - 100,
        ..claims.clone()
    };
    app.get("/api/v1/me", &forge(&expired, &jwt_key()))
        .await
        .problem(401, "token_expired");
    app.get(
        "/api/v1/me",
        &forge(&claims, b"some-other-secret-of-enough-length!!"),
    )
    .await
    .problem(401, "invalid_token");

    let good = forge(&claims, &jwt_key());
    app.get("/api/v1/me", &good).await.ok(200);
    // Not yet valid, issued in the future, or valid for longer than the server issues.
    for (iat, nbf, exp) in [
        (now, now + 300, now + 600),
        (now + 300, now, now + 600),
        (now, now, now + 901),
    ] {
        let odd = Claims {
            iat,
            nbf,
            exp,
            ..claims.clone()
        };
        app.get("/api/v1/me", &forge(&odd, &jwt_key()))
            .await
            .problem(401, "invalid_token");
    }
    let parts: Vec<&str> = good.split('.').collect();
    let tampered_claims = serde_json::to_string(&Claims {
        sub: w.user("officer").parse().unwrap(),
        ..claims.clone()
    })
    .unwrap();
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);
    app.get("/api/v1/me", &tampered)
        .await
        .problem(401, "invalid_token");

    let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    app.get("/api/v1/me", &none)
        .await
        .problem(401, "invalid_token");
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(&jwt_key()),
    )
    .unwrap();
    app.get("/api/v1/me", &hs512)
        .await
        .problem(401, "invalid_token");
    app.get("/api/v1/me", "not-a-jwt")
        .await
        .problem(401, "invalid_token");
    let basic = [("authorization", "Basic YWRtaW46eA==")];
    let resp = app.send_raw("GET", "/api/v1/me", &basic, "").await;
    resp.problem(401, "invalid_token");

    // A token for a user that does not exist.
    let ghost = Claims {
        sub: UserId::new(),
        ..claims
    };
    app.get("/api/v1/me", &forge(&ghost, &jwt_key()))
        .await
        .problem(401, "invalid_token");
}

#[actix_web::test]
async fn deactivated_users_tokens_stop_working() {
    let (app, w) = TestApp::with_world().await;
    let session = app.login("officer_a", PASSWORD).await.ok(200);
    app.get("/api/v1/me", w.token("officer")).await.ok(200);
    app.post(
        &format!("/api/v1/users/{}/deactivate", w.user("officer")),
        w.token("admin"),
        &json!({}),
    )
    .await
    .ok(200);
    app.get("/api/v1/me", w.token("officer"))
        .await
        .problem(401, "account_inactive");
    app.refresh(session["refresh_token"].as_str().unwrap())
        .await
        .problem(401, "invalid_refresh_token");
    app.login("officer_a", PASSWORD)
        .await
        .problem(401, "account_inactive");
}

#[actix_web::test]
async fn role_changes_take_effect_without_a_new_token() {
    let (app, w) = TestApp::with_world().await;
    app.get("/api/v1/users", w.token("leader"))
        .await
        .problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/users/{}", w.user("leader")),
        w.token("admin"),
        &json!({"role": "admin"}),
    )
    .await
    .ok(200);
    app.get("/api/v1/users", w.token("leader")).await.ok(200);
}

#[actix_web::test]
async fn users_change_their_own_password() {
    let (app, w) = TestApp::with_world().await;
    let token = w.token("inspector");
    let old_session = app.login("inspector_a", PASSWORD).await.ok(200);
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    app.post(
        "/api/v1/me/password",
        token,
        &change("wrong-password", "新的密码真的很长很长很长"),
    )
    .await
    .names_field(422, "current_password");
    app.post("/api/v1/me/password", token, &change(PASSWORD, "short"))
        .await
        .names_field(422, "new_password");
    app.login("inspector_a", PASSWORD).await.ok(200);

    app.post(
        "/api/v1/me/password",
        token,
        &change(PASSWORD, "新的密码真的很长很长很长"),
    )
    .await
    .ok(204);
    app.login("inspector_a", PASSWORD)
        .await
        .problem(401, "invalid_credentials");
    app.login("inspector_a", "新的密码真的很长很长很长")
        .await
        .ok(200);
    // Sessions started with the old password are over.
    app.refresh(old_session["refresh_token"].as_str().unwrap())
        .await
        .problem(401, "invalid_refresh_token");
}

#[actix_web::test]
async fn wrong_current_passwords_are_throttled_like_logins() {
    let app = TestApp::with_settings(&[("LOGIN_MAX_FAILURES", "2")]).await;
    let w = app.load_world();
    let body =
        json!({"current_password": "guess-number-one", "new_password": "a-brand-new-password"});
    for _ in 0..2 {
        app.post("/api/v1/me/password", w.token("officer"), &body)
            .await
            .names_field(422, "current_password");
    }
    let right = json!({"current_password": PASSWORD, "new_password": "a-brand-new-password"});
    let locked = app
        .post("/api/v1/me/password", w.token("officer"), &right)
        .await;
    locked.problem(429, "too_many_requests");
    assert!(locked.header("retry-after").is_some());
    // The lockout is the account's: logging in is refused too, and the password is unchanged.
    app.login("officer_a", PASSWORD)
        .await
        .problem(429, "too_many_requests");
}

#[actix_web::test]
async fn authorization_is_decided_before_the_body_is_read() {
    let (app, w) = TestApp::with_world().await;
    // Bodies that would be 400/415/422 for an admin are 403 for whoever may not write.
    app.post("/api/v1/units", w.token("office"), &json!({"code": 5}))
        .await
        .problem(403, "forbidden");
    let path = format!("/api/v1/users/{}", w.user("officer_b"));
    app.patch(&path, w.token("officer"), &json!({"unknown": 1}))
        .await
        .problem(403, "forbidden");
    let bearer = format!("Bearer {}", w.token("leader"));
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "text/plain"),
    ];
    let resp = app
        .send_raw("POST", "/api/v1/pairings", &headers, "not json")
        .await;
    resp.problem(403, "forbidden");
    // And a missing token is 401 whatever the body.
    let resp = app.send_raw("POST", "/api/v1/units", &[], "{").await;
    resp.problem(401, "missing_token");
}
