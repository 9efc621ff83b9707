//! The test harness: the real application (the same `app::build` as `main`) on a fresh
//! database per test — a temporary SQLite file, or a fresh PostgreSQL schema when
//! `TEST_DATABASE_URL` is set — plus a small fixture district and request helpers.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_http::Request;
use actix_service::boxed::{self, BoxService};
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, Method, StatusCode};
use actix_web::test::TestRequest;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::{json, Value};

use campaign_tracker::app::{self, AppState};
use campaign_tracker::auth::{password, sessions};
use campaign_tracker::config::Config;
use campaign_tracker::db::DbConnection;
use campaign_tracker::error::AppError;
use campaign_tracker::ids::UserId;
use campaign_tracker::world::{self, Description, Loaded};

pub const PASSWORD: &str = "fixture-password-1";
/// A random key, hex encoded (what `openssl rand -hex 32` prints); tests forge tokens with
/// its bytes, which [`jwt_key`] decodes.
pub const JWT_SECRET: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

pub fn jwt_key() -> Vec<u8> {
    hex::decode(JWT_SECRET).expect("hex")
}

/// Where this test's data lives; dropped (file removed, schema dropped) with the app.
enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, schema } = self {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

fn fresh_database() -> (String, TestDb) {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(admin_url) => {
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            let mut conn = diesel::PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: cannot connect: {e}"));
            conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                .expect("create schema");
            let sep = if admin_url.contains('?') { '&' } else { '?' };
            // The application name lets a test find its own server connections.
            let url = format!(
                "{admin_url}{sep}options=-csearch_path%3D{schema}&application_name={schema}"
            );
            (url, TestDb::Postgres { admin_url, schema })
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            (url, TestDb::Sqlite(dir))
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub text: String,
    /// The body as sent (`text` is it read as UTF-8).
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with this status; returns the body.
    #[track_caller]
    pub fn problem_status(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type of {}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(
            body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(),
            "{}",
            self.text
        );
        assert!(body["code"].is_string(), "{}", self.text);
        body
    }

    /// Asserts a problem+json response with this status and code; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        let body = self.problem_status(status);
        assert_eq!(body["code"], code, "code of {}", self.text);
        body
    }

    /// Asserts a problem with this status naming `field` among its `errors`.
    #[track_caller]
    pub fn names_field(&self, status: u16, field: &str) -> Value {
        let body = self.problem_status(status);
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.contains(&field),
            "expected {field} in {fields:?}: {}",
            self.text
        );
        body.clone()
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        if self.text.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// The fixture world, described in `tests/api/world.json` and loaded by the same loader
/// as the demo district (`campaign_tracker::world`):
///
/// ```text
/// D 菏泽高新区 (district)
/// ├── A 吕陵镇 (town) ── VA 寨庄行政村 (village) ── GA 寨庄第一网格 (grid, led by inspector)
/// ├── B 马岭岗镇 (town) ── VB 程楼行政村 (village) ── GB 程楼第一网格 (grid)
/// └── P 党群工作部 (department), paired with A (PA) and with B (PB)
/// ```
///
/// Users: admin and leader in D, office and officer in A, inspector in GA, officer_b in B.
/// Maps go from fixture keys to ids (as text, as the API shows them).
pub struct World {
    pub units: HashMap<String, String>,
    pub users: HashMap<String, String>,
    pub pairings: HashMap<String, String>,
    pub campaigns: HashMap<String, String>,
    pub meetings: HashMap<String, String>,
    pub directives: HashMap<String, String>,
    pub tasks: HashMap<String, String>,
    pub activities: HashMap<String, String>,
    /// Notifications the fixture picked out by key (none unless a test adds them).
    pub notifications: HashMap<String, String>,
    pub categories: HashMap<String, String>,
    pub sites: HashMap<String, String>,
    pub rectifications: HashMap<String, String>,
    pub patrols: HashMap<String, String>,
    /// Filled by tests that make them over HTTP.
    pub checklists: HashMap<String, String>,
    pub inspections: HashMap<String, String>,
    /// Open311 API keys (ids), and what a test keeps beside them (a key itself, a request
    /// id), by key; filled by tests that issue them.
    pub open311: HashMap<String, String>,
    /// Uploaded files a test picked out by key (none unless it adds them).
    pub attachments: HashMap<String, String>,
    pub tokens: HashMap<String, String>,
    /// What the loader returned, for loading more on top ([`TestApp::load_more`]).
    pub loaded: Loaded,
}

impl World {
    pub fn unit(&self, key: &str) -> &str {
        &self.units[key]
    }
    pub fn user(&self, key: &str) -> &str {
        &self.users[key]
    }
    pub fn token(&self, key: &str) -> &str {
        &self.tokens[key]
    }
}

fn as_text<T: std::fmt::Display>(
    map: &std::collections::BTreeMap<String, T>,
) -> HashMap<String, String> {
    map.iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect()
}

const WORLD_JSON: &str = include_str!("world.json");

/// Hashing is slow on purpose; every fixture user shares one password, hashed once.
fn hash_password(given: &str) -> Result<String, AppError> {
    static HASHES: OnceLock<std::sync::Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = HASHES.get_or_init(Default::default);
    let mut cache = cache.lock().expect("hash cache");
    if let Some(hash) = cache.get(given) {
        return Ok(hash.clone());
    }
    let hash = password::hash(given)?;
    cache.insert(given.to_string(), hash.clone());
    Ok(hash)
}

pub fn square(lon: f64, lat: f64, size: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]})
}

/// Grid GA covers this point; GB covers [`GB_POINT`].
pub const GA_POINT: (f64, f64) = (115.485, 35.255);
pub const GB_POINT: (f64, f64) = (115.505, 35.215);

pub struct TestApp {
    pub state: AppState,
    service: BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>,
    _db: TestDb,
    /// This test's attachments folder (removed with it).
    _files: tempfile::TempDir,
}

impl TestApp {
    /// A fresh app on an empty, migrated database.
    pub async fn new() -> TestApp {
        Self::with_settings(&[]).await
    }

    /// The PostgreSQL schema (and application name) of this test's database, if it runs on
    /// PostgreSQL.
    pub fn postgres_schema(&self) -> Option<(&str, &str)> {
        match &self._db {
            TestDb::Postgres { admin_url, schema } => Some((admin_url, schema)),
            TestDb::Sqlite(_) => None,
        }
    }

    pub async fn with_settings(extra: &[(&str, &str)]) -> TestApp {
        let (url, guard) = fresh_database();
        let files = tempfile::tempdir().expect("an attachments folder");
        let files_dir = files.path().display().to_string();
        let mut settings: HashMap<String, String> = [
            ("DATABASE_URL", url.as_str()),
            ("ATTACHMENTS_DIR", files_dir.as_str()),
            ("JWT_SECRET", JWT_SECRET),
            ("LOG_LEVEL", "warn"),
            ("DATABASE_POOL_SIZE", "4"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            settings.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_lookup(|k| settings.get(k).cloned()).expect("test config");
        let state = app::prepare(config).expect("prepare app");
        let service =
            boxed::service(actix_web::test::init_service(app::build(state.clone())).await);
        TestApp {
            state,
            service,
            _db: guard,
            _files: files,
        }
    }

    /// Runs `f` on a connection of this app's database.
    pub fn db<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let mut conn = self.state.db.get().expect("connection");
        f(&mut conn)
    }

    /// An access token for the user with this id, in a new session, as login would issue.
    pub fn token_for(&self, user_id: &str) -> String {
        let id = UserId::parse(user_id).expect("a user id");
        let session = self.db(|conn| sessions::start(conn, id).expect("a session"));
        self.state.tokens.issue(id, session).expect("token")
    }

    /// A fresh app with the fixture world loaded.
    pub async fn with_world() -> (TestApp, World) {
        let app = TestApp::new().await;
        let world = app.load_world();
        (app, world)
    }

    pub fn load_world(&self) -> World {
        let description = Description::parse(WORLD_JSON).expect("tests/api/world.json");
        let loaded = self.db(|conn| {
            let with = world::Loader {
                hash: &mut hash_password,
                now: self.state.clock.now(),
                progress: &mut |_| {},
                attachments: Some(&self.state.attachments),
            };
            world::load(conn, &description, with).expect("load the fixture world")
        });
        self.world_of(loaded)
    }

    /// Loads more records on top of `world` (they may refer to its keys); returns the
    /// grown world.
    pub fn load_more(&self, world: World, json: &str) -> World {
        let description = Description::parse(json).expect("a world description");
        let loaded = self.db(|conn| {
            let with = world::Loader {
                hash: &mut hash_password,
                now: self.state.clock.now(),
                progress: &mut |_| {},
                attachments: Some(&self.state.attachments),
            };
            world::load_onto(conn, &description, &world.loaded, with)
                .expect("load more of the world")
        });
        self.world_of(loaded)
    }

    fn world_of(&self, loaded: Loaded) -> World {
        let users = as_text(&loaded.users);
        let tokens = users
            .iter()
            .map(|(key, id)| (key.clone(), self.token_for(id)))
            .collect();
        World {
            units: as_text(&loaded.units),
            pairings: as_text(&loaded.pairings),
            campaigns: as_text(&loaded.work.campaigns),
            meetings: as_text(&loaded.work.meetings),
            directives: as_text(&loaded.work.directives),
            tasks: as_text(&loaded.work.tasks),
            activities: as_text(&loaded.work.activities),
            notifications: HashMap::new(),
            categories: as_text(&loaded.rectification.categories),
            sites: as_text(&loaded.rectification.sites),
            rectifications: as_text(&loaded.rectification.items),
            patrols: as_text(&loaded.rectification.patrols),
            checklists: HashMap::new(),
            inspections: HashMap::new(),
            open311: HashMap::new(),
            attachments: HashMap::new(),
            users,
            tokens,
            loaded,
        }
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = TestRequest::default()
            .method(method)
            .uri(path)
            .peer_addr("10.1.2.3:5555".parse().expect("addr"));
        if let Some(token) = token {
            req = req.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        }
        if let Some(body) = body {
            req = req
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload(body.to_string());
        }
        self.call(req.to_request()).await
    }

    /// Sends a request with extra headers (`If-Match`, `Idempotency-Key`…); `body` as JSON.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = TestRequest::default()
            .method(method)
            .uri(path)
            .peer_addr("10.1.2.3:5555".parse().expect("addr"))
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        if let Some(body) = body {
            req = req
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload(body.to_string());
        }
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        self.call(req.to_request()).await
    }

    /// Stops the app's clock at `at` (RFC 3339).
    pub fn set_clock(&self, at: &str) {
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .expect("an RFC 3339 time")
            .with_timezone(&chrono::Utc);
        self.state.clock.set(at);
    }

    /// Sends `payload` as-is with exactly these headers: for malformed bodies, wrong
    /// content types, odd methods and hand-made headers.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        payload: &str,
    ) -> Resp {
        let mut req = TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(path)
            .peer_addr("10.1.2.3:5555".parse().expect("addr"))
            .set_payload(payload.to_string());
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        self.call(req.to_request()).await
    }

    /// Uploads `content` as the multipart field `file`, named `file_name`.
    pub async fn upload(&self, token: &str, file_name: &str, content: &[u8]) -> Resp {
        self.upload_as(Some(token), file_name, content).await
    }

    /// [`TestApp::upload`], with or without a token.
    pub async fn upload_as(&self, token: Option<&str>, file_name: &str, content: &[u8]) -> Resp {
        self.upload_with(token, file_name, content, &[]).await
    }

    /// [`TestApp::upload_as`] with more headers (an `Idempotency-Key`).
    pub async fn upload_with(
        &self,
        token: Option<&str>,
        file_name: &str,
        content: &[u8],
        headers: &[(&str, &str)],
    ) -> Resp {
        let boundary = "----campaign-tracker-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.upload_raw_as(token, boundary, body, headers).await
    }

    /// Sends `body` as a multipart form with `boundary`, as it is (truncated ones too).
    pub async fn upload_raw(&self, token: &str, boundary: &str, body: Vec<u8>) -> Resp {
        self.upload_raw_as(Some(token), boundary, body, &[]).await
    }

    async fn upload_raw_as(
        &self,
        token: Option<&str>,
        boundary: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = TestRequest::post()
            .uri("/api/v1/attachments")
            .peer_addr("10.1.2.3:5555".parse().expect("addr"))
            .insert_header((
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .set_payload(body);
        if let Some(token) = token {
            req = req.insert_header(("Authorization", format!("Bearer {token}")));
        }
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        self.call(req.to_request()).await
    }

    /// Every file under this app's attachments folder (temporary ones included).
    pub fn stored_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.state.attachments.dir, &mut found);
        found
    }

    pub async fn call(&self, req: Request) -> Resp {
        let resp = actix_web::test::call_service(&self.service, req).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = actix_web::test::read_body(resp).await;
        Resp {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(Method::PATCH, path, Some(token), Some(body))
            .await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Resp {
        self.login_from("10.1.2.3", username, password).await
    }

    /// A login from this client address (the TCP peer).
    pub async fn login_from(&self, address: &str, username: &str, password: &str) -> Resp {
        let body = json!({"username": username, "password": password});
        let req = TestRequest::default()
            .method(Method::POST)
            .uri("/api/v1/auth/login")
            .peer_addr(format!("{address}:5555").parse().expect("addr"))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body.to_string());
        self.call(req.to_request()).await
    }

    /// `POST /api/v1/auth/refresh` with this refresh token (what a client's session does).
    pub async fn refresh(&self, refresh_token: &str) -> Resp {
        let body = json!({"refresh_token": refresh_token});
        self.send(Method::POST, "/api/v1/auth/refresh", None, Some(&body))
            .await
    }
}

/// `text` percent-encoded for a query string (Chinese search terms).
pub fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Every serialised response must be free of secrets.
#[track_caller]
pub fn assert_no_secrets(text: &str) {
    if let Some(needle) = leaked_secret(text) {
        panic!("response leaks {needle}: {text}");
    }
}

/// The first sign of a secret in a response text, if any.
pub fn leaked_secret(text: &str) -> Option<&'static str> {
    ["password_hash", "$argon2", "token_hash"]
        .into_iter()
        .find(|needle| text.contains(needle))
}

/// Sends `count` requests at once (they interleave on the test's thread; their database work
/// runs on the blocking pool, in parallel) and waits for every answer.
pub async fn at_once<F>(count: usize, request: impl Fn(usize) -> F) -> Vec<Resp>
where
    F: std::future::Future<Output = Resp>,
{
    futures_util::future::join_all((0..count).map(request)).await
}

/// How many answers have this status.
pub fn count_status(answers: &[Resp], status: u16) -> usize {
    answers
        .iter()
        .filter(|r| r.status.as_u16() == status)
        .count()
}
