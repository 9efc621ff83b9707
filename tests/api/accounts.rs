//! Accounts and sessions under attack and in trouble: guessing bursts against the lockout,
//! floods against password hashing, one person's typos against a whole office, locks an
//! admin lifts, tokens that must die with their session, passwords that must not be weak.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

fn login_body(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password})
}

/// 40 logins for one account at once, 39 wrong and one right: the attempts are reserved
/// before any password is checked, so no more than the limit are checked at all, and the
/// right one does not reopen the account while the burst runs.
#[actix_web::test]
async fn a_concurrent_burst_cannot_beat_the_account_lock() {
    let app = TestApp::with_settings(&[("LOGIN_MAX_FAILURES", "5")]).await;
    let _w = app.load_world();
    let answers = at_once(40, |i| {
        let password = if i == 20 {
            PASSWORD
        } else {
            "not-the-password-1"
        };
        app.login("officer_a", password)
    })
    .await;
    let checked = answers.iter().filter(|r| r.status.as_u16() != 429).count();
    assert!(
        checked <= 5,
        "{checked} passwords were checked: {answers:?}"
    );
    for refused in answers.iter().filter(|r| r.status.as_u16() == 429) {
        let body = refused.problem(429, "too_many_requests");
        assert_eq!(body["limited"], "account");
        assert!(refused.header("retry-after").is_some());
    }
    // Enough failures settled to lock it, and no success in the burst unlocked it.
    let failed = count_status(&answers, 401);
    if failed >= 5 {
        app.login("officer_a", PASSWORD)
            .await
            .problem(429, "too_many_requests");
    }
}

/// 100 bad logins at once from one address, on 100 usernames: the address's limit holds.
#[actix_web::test]
async fn a_concurrent_flood_from_one_address_is_held_to_its_limit() {
    let app = TestApp::with_settings(&[
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "20"),
        ("PASSWORD_HASH_CONCURRENCY", "64"),
    ])
    .await;
    let _w = app.load_world();
    let names: Vec<String> = (0..100).map(|i| format!("nobody{i}")).collect();
    let answers = at_once(100, |i| app.login(&names[i], "not-the-password-1")).await;
    let checked = answers.iter().filter(|r| r.status.as_u16() != 429).count();
    assert!(checked <= 20, "{checked} passwords were checked");
    for refused in answers.iter().filter(|r| r.status.as_u16() == 429) {
        assert_eq!(
            refused.problem(429, "too_many_requests")["limited"],
            "address"
        );
    }
}

/// Hashing is bounded: beyond a few running and a few waiting, the answer is 503 with
/// Retry-After at once, not a growing pile of 19 MiB hashes.
#[actix_web::test]
async fn password_hashing_is_bounded_and_overload_answers_503() {
    let app = TestApp::with_settings(&[
        ("PASSWORD_HASH_CONCURRENCY", "1"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "1000"),
    ])
    .await;
    let _w = app.load_world();
    let names: Vec<String> = (0..30).map(|i| format!("nobody{i}")).collect();
    let answers = at_once(30, |i| app.login(&names[i], "not-the-password-1")).await;
    let busy = count_status(&answers, 503);
    assert!(busy > 0, "{answers:?}");
    assert_eq!(busy + count_status(&answers, 401), 30, "{answers:?}");
    for refused in answers.iter().filter(|r| r.status.as_u16() == 503) {
        refused.problem(503, "overloaded");
        assert_eq!(refused.header("retry-after"), Some("1"));
    }
    // Once the flood has passed, logins work again.
    app.login("officer_a", PASSWORD).await.ok(200);
}

/// One person failing on many usernames does not lock the office out: the address limit is
/// far above the account limit, and an account's lock is that account's only.
#[actix_web::test]
async fn one_persons_failures_do_not_lock_everyone_out() {
    let (app, _w) = TestApp::with_world().await;
    for i in 0..20 {
        app.login(&format!("typo{i}"), "not-the-password-1")
            .await
            .problem(401, "invalid_credentials");
    }
    app.login("admin", PASSWORD).await.ok(200);
    for _ in 0..5 {
        app.login("officer_a", "not-the-password-1")
            .await
            .problem(401, "invalid_credentials");
    }
    let locked = app.login("officer_a", PASSWORD).await;
    let body = locked.problem(429, "too_many_requests");
    assert_eq!(body["limited"], "account");
    let until = chrono::DateTime::parse_from_rfc3339(body["until"].as_str().unwrap()).unwrap();
    assert!(until > chrono::Utc::now());
    assert!(body["detail"].as_str().unwrap().contains("account"));
    // The lock is the account's, whatever its case, from every address.
    app.login_from("10.7.7.7", "OFFICER_A", PASSWORD)
        .await
        .problem(429, "too_many_requests");
    app.login("office_a", PASSWORD).await.ok(200);
}

/// Behind a trusted proxy, the client is the address the proxy forwards; from anyone else,
/// X-Forwarded-For is ignored.
#[actix_web::test]
async fn the_client_address_comes_from_trusted_proxies_only() {
    let app = TestApp::with_settings(&[
        ("TRUSTED_PROXIES", "10.1.2.0/24"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "2"),
    ])
    .await;
    let _w = app.load_world();
    let app = &app;
    let via = |forwarded: &'static str, username: &'static str, password: &'static str| {
        let body = login_body(username, password).to_string();
        async move {
            let headers = [
                ("content-type", "application/json"),
                ("x-forwarded-for", forwarded),
            ];
            app.send_raw("POST", "/api/v1/auth/login", &headers, &body)
                .await
        }
    };
    // The test peer is 10.1.2.3: a trusted proxy.
    for _ in 0..2 {
        via("203.0.113.9", "nobody", "not-the-password-1")
            .await
            .problem(401, "invalid_credentials");
    }
    let limited = via("203.0.113.9", "admin", PASSWORD).await;
    assert_eq!(
        limited.problem(429, "too_many_requests")["limited"],
        "address"
    );
    // Another client behind the same proxy is not limited.
    via("198.51.100.7", "admin", PASSWORD).await.ok(200);
    // A peer that is not a proxy cannot choose its address.
    let untrusted = TestApp::with_settings(&[("LOGIN_MAX_FAILURES_PER_ADDRESS", "2")]).await;
    let _w = untrusted.load_world();
    for forwarded in ["203.0.113.1", "203.0.113.2"] {
        let body = login_body("nobody", "not-the-password-1").to_string();
        untrusted
            .send_raw(
                "POST",
                "/api/v1/auth/login",
                &[
                    ("content-type", "application/json"),
                    ("x-forwarded-for", forwarded),
                ],
                &body,
            )
            .await
            .problem(401, "invalid_credentials");
    }
    untrusted
        .login("admin", PASSWORD)
        .await
        .problem(429, "too_many_requests");
}

/// An admin lifts a lock with unlock, or with a password reset (which also makes the user
/// choose a new password before anything else).
#[actix_web::test]
async fn admins_unlock_accounts_and_resets_force_a_new_password() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let lock = || async {
        for _ in 0..5 {
            app.login("officer_a", "not-the-password-1").await;
        }
        app.login("officer_a", PASSWORD)
            .await
            .problem(429, "too_many_requests");
    };
    lock().await;
    let unlock = format!("/api/v1/users/{}/unlock", w.user("officer"));
    app.send(Method::POST, &unlock, Some(admin), None)
        .await
        .ok(204);
    app.login("officer_a", PASSWORD).await.ok(200);

    lock().await;
    let user = format!("/api/v1/users/{}", w.user("officer"));
    let reset = "Temporary sluice gate 9";
    app.patch(&user, admin, &json!({"password": reset}))
        .await
        .ok(200);
    let session = app.login("officer_a", reset).await.ok(200);
    assert_eq!(session["must_change_password"], true);
    let token = session["access_token"].as_str().unwrap();
    app.get("/api/v1/units", token)
        .await
        .problem(403, "password_change_required");
    assert_eq!(
        app.get("/api/v1/me", token).await.ok(200)["must_change_password"],
        true
    );
    let change = json!({"current_password": reset, "new_password": "chosen by the officer 7"});
    app.post("/api/v1/me/password", token, &change)
        .await
        .ok(204);
    app.get("/api/v1/units", token).await.ok(200);
    assert_eq!(
        app.get("/api/v1/me", token).await.ok(200)["must_change_password"],
        false
    );
}

/// Logout, a replayed refresh token, a password change and an admin's reset each end the
/// access tokens they should, at once.
#[actix_web::test]
async fn access_tokens_end_with_their_session() {
    let (app, w) = TestApp::with_world().await;
    let access = |session: &Value| session["access_token"].as_str().unwrap().to_string();
    let refresh = |session: &Value| session["refresh_token"].as_str().unwrap().to_string();

    // A replayed refresh token ends its session: the stolen copy and the original.
    let first = app.login("officer_a", PASSWORD).await.ok(200);
    let rotated = app.refresh(&refresh(&first)).await.ok(200);
    app.refresh(&refresh(&first))
        .await
        .problem(401, "refresh_token_reused");
    for token in [access(&first), access(&rotated)] {
        app.get("/api/v1/me", &token)
            .await
            .problem(401, "session_ended");
    }

    // A password change ends the other sessions, not the caller's.
    let mine = app.login("officer_a", PASSWORD).await.ok(200);
    let other = app.login("officer_a", PASSWORD).await.ok(200);
    let change = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase 3"});
    app.post("/api/v1/me/password", &access(&mine), &change)
        .await
        .ok(204);
    app.get("/api/v1/me", &access(&mine)).await.ok(200);
    app.refresh(&refresh(&mine)).await.ok(200);
    app.get("/api/v1/me", &access(&other))
        .await
        .problem(401, "session_ended");
    app.refresh(&refresh(&other))
        .await
        .problem(401, "invalid_refresh_token");

    // An admin's reset ends every session of the user.
    let victim = app.login("office_a", PASSWORD).await.ok(200);
    let user = format!("/api/v1/users/{}", w.user("office"));
    app.patch(
        &user,
        w.token("admin"),
        &json!({"password": "reset by the admin 42"}),
    )
    .await
    .ok(200);
    app.get("/api/v1/me", &access(&victim))
        .await
        .problem(401, "session_ended");
}

/// Requests racing a logout: once the logout has answered, no request with that token
/// succeeds, however many were sent alongside it.
#[actix_web::test]
async fn nothing_succeeds_with_a_token_after_its_logout() {
    let (app, _w) = TestApp::with_world().await;
    let session = app.login("leader", PASSWORD).await.ok(200);
    let token = session["access_token"].as_str().unwrap();
    let body = json!({"refresh_token": session["refresh_token"]});
    let (logout, during) = futures_util::future::join(
        app.post("/api/v1/auth/logout", token, &body),
        at_once(20, |_| app.get("/api/v1/units", token)),
    )
    .await;
    logout.ok(204);
    for resp in &during {
        assert!(matches!(resp.status.as_u16(), 200 | 401), "{resp:?}");
    }
    let after = at_once(20, |_| app.get("/api/v1/units", token)).await;
    assert_eq!(count_status(&after, 401), 20, "{after:?}");
}

/// New passwords: not the username, not the current one, not common.
#[actix_web::test]
async fn weak_new_passwords_are_refused() {
    let (app, w) = TestApp::with_world().await;
    let officer = w.token("officer");
    for new in ["officer_a-2020-x", PASSWORD, "password123", "qwertyuiop12"] {
        let change = json!({"current_password": PASSWORD, "new_password": new});
        app.post("/api/v1/me/password", officer, &change)
            .await
            .names_field(422, "new_password");
    }
    let admin = w.token("admin");
    let weak = json!({"username": "wangge09", "display_name": "网格员", "password": "wangge09wangge09",
                      "role": "officer", "unit_id": w.unit("A")});
    app.post("/api/v1/users", admin, &weak)
        .await
        .names_field(422, "password");
    let user = format!("/api/v1/users/{}", w.user("officer"));
    app.patch(&user, admin, &json!({"password": "1234567890"}))
        .await
        .names_field(422, "password");
    // Nothing changed: the old password still works.
    app.login("officer_a", PASSWORD).await.ok(200);
}

/// Usernames ignore case: no second account that differs only by case, and logging in with
/// another case finds the account.
#[actix_web::test]
async fn usernames_are_unique_whatever_their_case() {
    let (app, w) = TestApp::with_world().await;
    let body = json!({"username": "OFFICE_A", "display_name": "影子", "password": "sluice gate at Qilihe 7",
                      "role": "officer", "unit_id": w.unit("A")});
    app.post("/api/v1/users", w.token("admin"), &body)
        .await
        .problem(409, "username_taken");
    app.login("Office_A", PASSWORD).await.ok(200);
    let rlo = json!({"username": "ld_\u{202e}zhang", "display_name": "x", "password": "sluice gate at Qilihe 7",
                     "role": "officer", "unit_id": w.unit("A")});
    app.post("/api/v1/users", w.token("admin"), &rlo)
        .await
        .names_field(422, "username");
}
