//! `/api/v1/attachments`: real files of each accepted kind go in and come back unchanged;
//! anything else — a script renamed `.jpg`, an oversized or a truncated upload — is refused
//! and leaves nothing behind; a file is its uploader's.

use crate::common::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The files kept for good (not the temporary ones of uploads in progress).
fn kept(app: &TestApp) -> Vec<std::path::PathBuf> {
    let dir = app.state.attachments.dir.clone();
    app.stored_files()
        .into_iter()
        .filter(|p| !p.strip_prefix(&dir).is_ok_and(|p| p.starts_with("tmp")))
        .collect()
}

#[actix_web::test]
async fn each_accepted_kind_is_recognised_and_comes_back_unchanged() {
    let (app, w) = TestApp::with_world().await;
    let inspector = w.token("inspector");
    for (name, content_type) in [
        ("after-fix.jpg", "image/jpeg"),
        ("after-fix.png", "image/png"),
        ("after-fix.webp", "image/webp"),
        ("rectification-notice.pdf", "application/pdf"),
    ] {
        let content = fixture(name);
        // Named as something else: the content decides, not the name.
        let sent = app.upload(inspector, "upload.bin", &content).await;
        let attachment = sent.ok(201);
        assert_eq!(attachment["content_type"], content_type, "{name}");
        assert_eq!(attachment["bytes"], content.len(), "{name}");
        assert_eq!(attachment["file_name"], "upload.bin");
        assert_eq!(attachment["uploaded_by"], w.user("inspector"));
        let location = sent.header("location").expect("Location").to_string();
        let back = app.get(&location, inspector).await;
        assert_eq!(back.status.as_u16(), 200, "{name}: {}", back.text);
        assert_eq!(back.bytes, content, "{name} comes back byte for byte");
        assert_eq!(back.header("content-type"), Some(content_type));
        assert_eq!(back.header("x-content-type-options"), Some("nosniff"));
    }
    assert_eq!(kept(&app).len(), 4);
}

#[actix_web::test]
async fn a_photo_keeps_when_and_where_it_was_taken() {
    let (app, w) = TestApp::with_world().await;
    let photo = app
        .upload(
            w.token("inspector"),
            "国道广告牌.jpg",
            &fixture("poster-board-exif.jpg"),
        )
        .await
        .ok(201);
    assert_eq!(photo["file_name"], "国道广告牌.jpg");
    assert_eq!(photo["taken_at"], "2020-07-22T09:30:05");
    let lat = photo["lat"].as_f64().expect("lat");
    let lon = photo["lon"].as_f64().expect("lon");
    assert!((lat - 35.215).abs() < 1e-4, "{lat}");
    assert!((lon - 115.505).abs() < 1e-4, "{lon}");
    // A photo without EXIF has none.
    let plain = app
        .upload(w.token("inspector"), "plain.jpg", &fixture("after-fix.jpg"))
        .await
        .ok(201);
    assert!(plain["taken_at"].is_null() && plain["lat"].is_null());
}

#[actix_web::test]
async fn a_script_renamed_jpg_is_refused_and_nothing_is_kept() {
    let (app, w) = TestApp::with_world().await;
    app.upload(
        w.token("officer"),
        "photo.jpg",
        &fixture("script-renamed.jpg"),
    )
    .await
    .problem(415, "unsupported_media_type");
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    let rows: i64 = app.db(|conn| {
        use campaign_tracker::db::schema::attachments;
        use diesel::prelude::*;
        attachments::table.count().get_result(conn).expect("count")
    });
    assert_eq!(rows, 0);
}

#[actix_web::test]
async fn an_oversized_upload_is_refused_and_nothing_is_kept() {
    let app = TestApp::with_settings(&[("MAX_UPLOAD_BYTES", "100")]).await;
    let w = app.load_world();
    let small = fixture("after-fix.png");
    assert!(small.len() <= 100);
    app.upload(w.token("officer"), "small.png", &small)
        .await
        .ok(201);
    let large = fixture("after-fix.jpg");
    assert!(large.len() > 100);
    app.upload(w.token("officer"), "large.jpg", &large)
        .await
        .problem(413, "payload_too_large");
    assert_eq!(app.stored_files().len(), 1, "only the small file");
}

#[actix_web::test]
async fn a_truncated_upload_leaves_nothing_behind() {
    let (app, w) = TestApp::with_world().await;
    let boundary = "----cut-short";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.jpg\"\r\n\r\n"
    )
    .into_bytes();
    let photo = fixture("poster-board-exif.jpg");
    body.extend_from_slice(&photo[..photo.len() / 2]);
    let cut = app.upload_raw(w.token("inspector"), boundary, body).await;
    assert!(cut.status.is_client_error(), "{}: {}", cut.status, cut.text);
    assert_eq!(cut.header("content-type"), Some("application/problem+json"));
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
}

#[actix_web::test]
async fn a_form_without_a_file_names_the_field() {
    let (app, w) = TestApp::with_world().await;
    let boundary = "----no-file";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n整改后\r\n--{boundary}--\r\n"
    );
    app.upload_raw(w.token("inspector"), boundary, body.into_bytes())
        .await
        .names_field(422, "file");
}

#[actix_web::test]
async fn a_file_is_its_uploaders_and_stored_once() {
    let (app, w) = TestApp::with_world().await;
    let photo = fixture("after-fix.png");
    let first = app.upload(w.token("inspector"), "a.png", &photo).await;
    first.ok(201);
    let second = app.upload(w.token("officer"), "b.png", &photo).await;
    let second_body = second.ok(201);
    assert_eq!(first.json()["sha256"], second_body["sha256"]);
    assert_ne!(first.json()["id"], second_body["id"]);
    assert_eq!(kept(&app).len(), 1, "the same file is stored once");
    let location = first.header("location").expect("Location");
    // Not another user's (it looks absent), an admin's.
    for other in ["officer", "office", "leader"] {
        app.get(location, w.token(other))
            .await
            .problem(404, "not_found");
    }
    let by_admin = app.get(location, w.token("admin")).await;
    assert_eq!(by_admin.bytes, photo);
}

#[actix_web::test]
async fn a_stalled_upload_times_out_and_leaves_nothing() {
    use futures_util::StreamExt;
    let app = TestApp::with_settings(&[("BODY_TIMEOUT_SECONDS", "1")]).await;
    let w = app.load_world();
    let boundary = "----stalls";
    let mut head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.jpg\"\r\n\r\n"
    )
    .into_bytes();
    head.extend_from_slice(&fixture("poster-board-exif.jpg")[..64]);
    // The first bytes arrive, then nothing more, ever.
    let stream = futures_util::stream::iter(vec![Ok::<_, actix_web::error::PayloadError>(
        actix_web::web::Bytes::from(head),
    )])
    .chain(futures_util::stream::pending());
    let req = actix_web::test::TestRequest::post()
        .uri("/api/v1/attachments")
        .peer_addr("10.1.2.3:5555".parse().expect("addr"))
        .insert_header(("Authorization", format!("Bearer {}", w.token("inspector"))))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .to_request();
    let (req, _) = req.replace_payload(actix_http::Payload::from(
        Box::pin(stream) as actix_http::BoxedPayloadStream
    ));
    let answer = app.call(req).await;
    answer.problem(408, "request_timeout");
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
}

#[actix_web::test]
async fn a_retried_upload_with_its_key_is_one_attachment() {
    let (app, w) = TestApp::with_world().await;
    let token = Some(w.token("inspector"));
    let photo = fixture("poster-board-exif.jpg");
    let key = [("Idempotency-Key", "0193f1c2-photo-1")];
    let first = app.upload_with(token, "国道广告牌.jpg", &photo, &key).await;
    first.ok(201);
    let retry = app.upload_with(token, "国道广告牌.jpg", &photo, &key).await;
    assert_eq!(retry.status.as_u16(), 201, "{}", retry.text);
    assert_eq!(retry.text, first.text, "the first answer again");
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    // Another file under the same key is a mistake, not a retry.
    app.upload_with(token, "其他.png", &fixture("after-fix.png"), &key)
        .await
        .problem(422, "idempotency_key_reused");
    let rows: i64 = app.db(|conn| {
        use campaign_tracker::db::schema::attachments;
        use diesel::prelude::*;
        attachments::table.count().get_result(conn).expect("count")
    });
    assert_eq!(rows, 1);
    assert_eq!(kept(&app).len(), 1, "the refused file was not kept");
}
