//! The authorization matrix: every operation in `openapi/openapi.json` × every caller (the
//! five roles, and no token at all) × a target inside the caller's unit scope, one outside
//! it and, for `{id}` paths, an id that does not exist — each with the status it must get.
//!
//! For every case, [`run_case`] checks that
//! - the status is the one the table states: `403` where the role may never act (admin-only
//!   operations refuse before any lookup, so out-of-scope and unknown ids get `403` too),
//!   `404` where the target is outside the caller's scope (indistinguishable from a missing
//!   id), `401` without a token; every error answer is problem+json;
//! - no response carries a secret (password hash, token hash, argon2 string); only login and
//!   refresh carry a refresh token; no response echoes an access or fixture refresh token;
//! - no response returns an object the caller may not see (its `id`, top level or in
//!   `items`, checked against [`VISIBLE`]), and an unfiltered list returns exactly what the
//!   caller may see;
//! - a write changes the database (units, users, pairings, refresh tokens) if and only if
//!   it answered 2xx, and a created resource can then be fetched by an admin at its
//!   `Location`; reads change nothing.
//!
//! [`every_spec_operation_has_a_row`] fails when the spec has an operation the table lacks
//! (or the table one the spec lacks), and when the table expects a status the spec does not
//! document. [`server_set_fields_are_rejected`] sends every JSON body of the spec with one
//! field its request schema lacks (`id`, `created_at`, `path`, `password_hash`, `role`…)
//! and expects 422 naming that field, with nothing written. [`authz_visibility_sweep`]
//! reads every fixture unit and pairing as every role, against [`VISIBLE`].
//!
//! Targets ([`Ctx`]): inside is the A side of the fixture (unit A, pairing PA, user
//! officer; for the inspector its grid GA and itself), outside the B side (unit B or grid
//! GB, pairing PB, user officer_b). Writes run on a fresh app per case; reads share one.
//!
//! # Adding an endpoint
//!
//! Add one `row(…)` to [`rows`]: the operation exactly as the spec spells it
//! (`"PATCH /api/v1/things/{id}"`), how to build the request from a [`Ctx`] (`c.at(c.unit())`
//! fills `{id}`, `.json(…)` adds a body, `c.n` makes codes unique), and the expected
//! statuses, literally, per caller in this order: `admin`, `leader`, `office`, `officer`,
//! `inspector` each with `in out` (plus `missing` when the path has `{id}`), then `anon`
//! with one status. A new kind of target (say a task) gets a helper on [`Ctx`] and, if its
//! lists are scoped, a column in [`VISIBLE`].

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use diesel::prelude::*;
use serde_json::{json, Value};

use campaign_tracker::auth::model::{self as sessions, RefreshTokenRow};
use campaign_tracker::db::schema::{pairings, refresh_tokens, units, users};
use campaign_tracker::pairings::model::PairingRow;
use campaign_tracker::units::model::{self as unit_model, NewUnit, UnitKind, UnitRow};
use campaign_tracker::users::model::UserRow;

use crate::common::*;

const SPEC: &str = include_str!("../../openapi/openapi.json");

/// Every case is run by each of these: the fixture users (keys of `World::tokens`), then a
/// request without a token, which is the admin's inside request with its token removed.
const CALLERS: [&str; 6] = ["admin", "leader", "office", "officer", "inspector", ANON];
const ANON: &str = "anon";

/// Operations whose responses carry tokens (the only ones that may).
const ISSUES_TOKENS: [&str; 2] = ["/api/v1/auth/login", "/api/v1/auth/refresh"];

/// One row per operation of the spec. Expected statuses: `in out [missing]` per role, then
/// one for `anon`; see the module docs.
fn rows() -> Vec<Row> {
    vec![
        // Public: the process itself.
        row(
            "GET /healthz",
            |c| c.plain(),
            "admin 200 200, leader 200 200, office 200 200, officer 200 200, inspector 200 200, anon 200",
        ),
        row(
            "GET /readyz",
            |c| c.plain(),
            "admin 200 200, leader 200 200, office 200 200, officer 200 200, inspector 200 200, anon 200",
        ),
        row(
            "GET /metrics",
            |c| c.plain(),
            "admin 200 200, leader 200 200, office 200 200, officer 200 200, inspector 200 200, anon 200",
        ),
        // Public: sessions. Outside = another user's name without their password, or
        // another user's refresh token (which is itself the credential).
        row(
            "POST /api/v1/auth/login",
            |c| c.plain().json(c.credentials()),
            "admin 200 401, leader 200 401, office 200 401, officer 200 401, inspector 200 401, anon 200",
        ),
        row(
            "POST /api/v1/auth/refresh",
            |c| c.plain().json(json!({"refresh_token": c.refresh_token()})),
            "admin 200 200, leader 200 200, office 200 200, officer 200 200, inspector 200 200, anon 200",
        ),
        // Any signed-in user, on their own session and account. Logging out with someone
        // else's refresh token answers 204 but must not end their session.
        row(
            "POST /api/v1/auth/logout",
            |c| {
                let body = json!({"refresh_token": c.refresh_token()});
                c.plain().json(body).unchanged_if(c.scope == Scope::Out)
            },
            "admin 204 204, leader 204 204, office 204 204, officer 204 204, inspector 204 204, anon 401",
        ),
        row(
            "GET /api/v1/me",
            |c| c.plain(),
            "admin 200 200, leader 200 200, office 200 200, officer 200 200, inspector 200 200, anon 401",
        ),
        row(
            "POST /api/v1/me/password",
            |c| {
                let body = json!({"current_password": PASSWORD, "new_password": "matrix-password-2"});
                c.plain().json(body)
            },
            "admin 204 204, leader 204 204, office 204 204, officer 204 204, inspector 204 204, anon 401",
        ),
        // Users: admin only, refused before any lookup.
        row(
            "GET /api/v1/users",
            |c| c.list("unit_id"),
            "admin 200 200, leader 403 403, office 403 403, officer 403 403, inspector 403 403, anon 401",
        ),
        row(
            "POST /api/v1/users",
            |c| {
                c.plain().json(json!({
                    "username": format!("matrix{}", c.n),
                    "display_name": "矩阵测试员",
                    "password": "matrix-password-1",
                    "role": "officer",
                    "unit_id": c.town(),
                }))
            },
            "admin 201 201, leader 403 403, office 403 403, officer 403 403, inspector 403 403, anon 401",
        ),
        row(
            "GET /api/v1/users/{id}",
            |c| c.at(c.user()),
            "admin 200 200 404, leader 403 403 403, office 403 403 403, officer 403 403 403, inspector 403 403 403, anon 401",
        ),
        row(
            "PATCH /api/v1/users/{id}",
            |c| c.at(c.user()).json(json!({"display_name": format!("改名{}", c.n)})),
            "admin 200 200 404, leader 403 403 403, office 403 403 403, officer 403 403 403, inspector 403 403 403, anon 401",
        ),
        row(
            "POST /api/v1/users/{id}/deactivate",
            |c| c.at(c.user()),
            "admin 200 200 404, leader 403 403 403, office 403 403 403, officer 403 403 403, inspector 403 403 403, anon 401",
        ),
        // Units: read by scope (outside answers 404), written by admins only.
        row(
            "GET /api/v1/units",
            |c| c.list("parent_id"),
            "admin 200 200, leader 200 200, office 200 200, officer 200 200, inspector 200 200, anon 401",
        ),
        row(
            "POST /api/v1/units",
            |c| {
                c.plain().json(json!({
                    "code": format!("MATRIX-{}", c.n),
                    "name": format!("矩阵村{}", c.n),
                    "kind": "village",
                    "parent_id": c.town(),
                }))
            },
            "admin 201 201, leader 403 403, office 403 403, officer 403 403, inspector 403 403, anon 401",
        ),
        row(
            "GET /api/v1/units/locate",
            |c| {
                let (lon, lat) = c.point();
                c.plain().query(&format!("lat={lat}&lon={lon}"))
            },
            "admin 200 200, leader 200 200, office 200 404, officer 200 404, inspector 200 404, anon 401",
        ),
        row(
            "GET /api/v1/units/{id}",
            |c| c.at(c.unit()),
            "admin 200 200 404, leader 200 200 404, office 200 404 404, officer 200 404 404, inspector 200 404 404, anon 401",
        ),
        row(
            "PATCH /api/v1/units/{id}",
            |c| c.at(c.unit()).json(json!({"name": format!("改名{}", c.n)})),
            "admin 200 200 404, leader 403 403 403, office 403 403 403, officer 403 403 403, inspector 403 403 403, anon 401",
        ),
        row(
            "DELETE /api/v1/units/{id}",
            |c| c.at(c.leaf_unit()),
            "admin 204 204 404, leader 403 403 403, office 403 403 403, officer 403 403 403, inspector 403 403 403, anon 401",
        ),
        row(
            "GET /api/v1/units/{id}/subtree",
            |c| c.at(c.unit()),
            "admin 200 200 404, leader 200 200 404, office 200 404 404, officer 200 404 404, inspector 200 404 404, anon 401",
        ),
        // Pairings: visible when either side is in scope (the inspector's grid is in
        // neither PA nor PB); written by admins only.
        row(
            "GET /api/v1/pairings",
            |c| c.list("partner_id"),
            "admin 200 200, leader 200 200, office 200 200, officer 200 200, inspector 200 200, anon 401",
        ),
        row(
            "POST /api/v1/pairings",
            |c| {
                c.plain().json(json!({
                    "department_id": c.w.unit("P"),
                    "partner_id": c.village(),
                    "note": "矩阵包联",
                }))
            },
            "admin 201 201, leader 403 403, office 403 403, officer 403 403, inspector 403 403, anon 401",
        ),
        row(
            "GET /api/v1/pairings/{id}",
            |c| c.at(c.pairing()),
            "admin 200 200 404, leader 200 200 404, office 200 404 404, officer 200 404 404, inspector 404 404 404, anon 401",
        ),
        row(
            "DELETE /api/v1/pairings/{id}",
            |c| c.at(c.pairing()),
            "admin 204 204 404, leader 403 403 403, office 403 403 403, officer 403 403 403, inspector 403 403 403, anon 401",
        ),
    ]
}

/// What each caller may see of the fixture (keys of `World`), written out rather than
/// derived so that the test can disagree with the scoping code. GA2 is the spare grid
/// [`fixture`] adds under VA.
const VISIBLE: [(&str, &str, &str, &str); 6] = [
    // caller, units, pairings, users
    (
        "admin",
        "D A VA GA GA2 B VB GB P",
        "PA PB",
        "admin leader office officer inspector officer_b",
    ),
    ("leader", "D A VA GA GA2 B VB GB P", "PA PB", "leader"),
    ("office", "A VA GA GA2", "PA", "office"),
    ("officer", "A VA GA GA2", "PA", "officer"),
    ("inspector", "GA", "", "inspector"),
    (ANON, "", "", ""),
];

/// One caller's line of [`VISIBLE`]: space-separated fixture keys.
struct Visible {
    units: &'static str,
    pairings: &'static str,
    users: &'static str,
}

fn visible(caller: &str) -> Visible {
    let (_, units, pairings, users) = *VISIBLE
        .iter()
        .find(|v| v.0 == caller)
        .expect("caller in VISIBLE");
    Visible {
        units,
        pairings,
        users,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// A target in the caller's unit scope.
    In,
    /// A target outside it (the B side of the fixture).
    Out,
    /// An id that exists nowhere (`{id}` paths only).
    Missing,
}

const SCOPES: [Scope; 3] = [Scope::In, Scope::Out, Scope::Missing];

struct Row {
    method: Method,
    /// The path template, exactly as in the spec.
    path: &'static str,
    build: fn(&Ctx<'_>) -> Req,
    expect: &'static str,
}

fn row(op: &'static str, build: fn(&Ctx<'_>) -> Req, expect: &'static str) -> Row {
    let (method, path) = op.split_once(' ').expect("an operation is `METHOD /path`");
    let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    Row {
        method,
        path,
        build,
        expect,
    }
}

impl Row {
    fn op(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn has_id(&self) -> bool {
        self.path.contains("{id}")
    }

    fn is_write(&self) -> bool {
        self.method != Method::GET
    }

    /// The expected statuses per caller, in [`CALLERS`] order, each in [`SCOPES`] order.
    fn expectations(&self) -> Result<Vec<(&'static str, Vec<u16>)>, String> {
        let parts: Vec<&str> = self.expect.split(',').map(str::trim).collect();
        if parts.len() != CALLERS.len() {
            return Err(format!(
                "expected {} comma-separated callers",
                CALLERS.len()
            ));
        }
        let per_role = if self.has_id() { 3 } else { 2 };
        parts
            .into_iter()
            .zip(CALLERS)
            .map(|(part, caller)| {
                let mut words = part.split_whitespace();
                if words.next() != Some(caller) {
                    return Err(format!("`{part}` should start with `{caller}`"));
                }
                let statuses = words
                    .map(|w| w.parse().ok().filter(|s| (100..600).contains(s)).ok_or(w))
                    .collect::<Result<Vec<u16>, _>>()
                    .map_err(|w| format!("`{w}` in `{part}` is not a status"))?;
                let wanted = if caller == ANON { 1 } else { per_role };
                if statuses.len() != wanted {
                    return Err(format!("`{part}` should have {wanted} statuses"));
                }
                Ok((caller, statuses))
            })
            .collect()
    }
}

/// A request to send: the concrete path, an optional JSON body, and whether a 2xx answer
/// must change the database (writes only).
struct Req {
    path: String,
    body: Option<Value>,
    changes: bool,
}

impl Req {
    fn json(mut self, body: Value) -> Req {
        self.body = Some(body);
        self
    }

    fn query(mut self, query: &str) -> Req {
        self.path = format!("{}?{query}", self.path);
        self
    }

    /// A 2xx answer must leave the database as it was.
    fn unchanged_if(mut self, unchanged: bool) -> Req {
        self.changes &= !unchanged;
        self
    }
}

/// What a row's request builder knows: the world, who calls, which side it targets.
struct Ctx<'a> {
    w: &'a World,
    /// A refresh token of every fixture user, issued by [`fixture`].
    refresh: &'a HashMap<&'static str, String>,
    caller: &'static str,
    scope: Scope,
    template: &'static str,
    /// Unique per case, for codes and usernames.
    n: usize,
}

impl Ctx<'_> {
    fn plain(&self) -> Req {
        Req {
            path: self.template.to_string(),
            body: None,
            changes: true,
        }
    }

    /// The template with `{id}` filled in.
    fn at(&self, id: String) -> Req {
        Req {
            path: self.template.replace("{id}", &id),
            ..self.plain()
        }
    }

    /// A list: unfiltered inside, filtered to the B side outside.
    fn list(&self, filter: &str) -> Req {
        match self.scope {
            Scope::In => self.plain(),
            _ => self
                .plain()
                .query(&format!("{filter}={}", self.w.unit("B"))),
        }
    }

    /// The fixture user the caller is (the admin for `anon`).
    fn me(&self) -> &'static str {
        if self.caller == ANON {
            "admin"
        } else {
            self.caller
        }
    }

    /// Inside target for most callers, inside target for the inspector, outside target;
    /// `None` for a missing id.
    fn side(
        &self,
        inside: &'static str,
        inspector: &'static str,
        outside: &'static str,
    ) -> Option<&'static str> {
        match self.scope {
            Scope::In if self.caller == "inspector" => Some(inspector),
            Scope::In => Some(inside),
            Scope::Out => Some(outside),
            Scope::Missing => None,
        }
    }

    fn id(map: &HashMap<&'static str, String>, key: Option<&str>) -> String {
        key.map_or_else(|| uuid::Uuid::now_v7().to_string(), |k| map[k].clone())
    }

    fn unit(&self) -> String {
        Self::id(&self.w.units, self.side("A", "GA", "B"))
    }

    /// A unit nothing refers to, so that an allowed delete succeeds. (The inspector's
    /// inside target is its own grid GA, which holds the inspector; only admins may delete
    /// and they never get GA.)
    fn leaf_unit(&self) -> String {
        Self::id(&self.w.units, self.side("GA2", "GA", "GB"))
    }

    fn pairing(&self) -> String {
        Self::id(&self.w.pairings, self.side("PA", "PA", "PB"))
    }

    fn user(&self) -> String {
        Self::id(
            &self.w.users,
            self.side("officer", "inspector", "officer_b"),
        )
    }

    /// The parent of a new unit or the unit of a new user.
    fn town(&self) -> &str {
        self.w.unit(
            self.side("A", "A", "B")
                .expect("no missing-id case without {id}"),
        )
    }

    /// A pairing partner not yet paired.
    fn village(&self) -> &str {
        self.w.unit(
            self.side("VA", "VA", "VB")
                .expect("no missing-id case without {id}"),
        )
    }

    fn point(&self) -> (f64, f64) {
        if self.scope == Scope::In {
            GA_POINT
        } else {
            GB_POINT
        }
    }

    fn credentials(&self) -> Value {
        let username = match self.me() {
            "office" => "office_a",
            "officer" => "officer_a",
            "inspector" => "inspector_a",
            other => other,
        };
        match self.scope {
            Scope::In => json!({"username": username, "password": PASSWORD}),
            _ => json!({"username": "officer_b", "password": "not-the-password"}),
        }
    }

    /// The caller's own refresh token inside, officer_b's outside.
    fn refresh_token(&self) -> &str {
        let owner = if self.scope == Scope::In {
            self.me()
        } else {
            "officer_b"
        };
        &self.refresh[owner]
    }
}

/// The fixture world, a spare leaf grid GA2 under VA, and a live refresh token per user.
struct Fixture {
    app: TestApp,
    w: World,
    refresh: HashMap<&'static str, String>,
}

async fn fixture() -> Fixture {
    let (app, mut w) = TestApp::with_world().await;
    let spare = NewUnit {
        code: "HZGX-LLZ-ZZ-G02".into(),
        name: "寨庄第二网格".into(),
        kind: UnitKind::Grid,
        parent_id: Some(w.unit("VA").to_string()),
        boundary: None,
        leader_id: None,
    };
    let spare = app.db(|conn| unit_model::create(conn, &spare, None).expect("spare grid"));
    w.units.insert("GA2", spare.id);
    let refresh = app.db(|conn| {
        w.users
            .iter()
            .map(|(key, id)| {
                let family = uuid::Uuid::now_v7().to_string();
                let token = sessions::issue(conn, id, &family, Duration::from_secs(3600));
                (*key, token.expect("refresh token"))
            })
            .collect()
    });
    Fixture { app, w, refresh }
}

/// Everything a write could change, as text: the rows of units, users (hashes included),
/// pairings and refresh tokens.
fn snapshot(app: &TestApp) -> String {
    app.db(|conn| {
        let units: Vec<UnitRow> = units::table.order(units::id).load(conn).expect("units");
        let users: Vec<UserRow> = users::table.order(users::id).load(conn).expect("users");
        let pairings: Vec<PairingRow> = pairings::table
            .order(pairings::id)
            .load(conn)
            .expect("pairings");
        let tokens: Vec<RefreshTokenRow> = refresh_tokens::table
            .order(refresh_tokens::id)
            .load(conn)
            .expect("refresh tokens");
        format!("{units:?}\n{users:?}\n{pairings:?}\n{tokens:?}")
    })
}

fn short(text: &str) -> String {
    text.chars().take(300).collect()
}

/// Fixture ids the caller must never get back as an object, with their keys.
fn hidden_ids(w: &World, caller: &str) -> HashMap<String, &'static str> {
    let visible = visible(caller);
    let mut hidden = HashMap::new();
    for (map, seen) in [
        (&w.units, visible.units),
        (&w.pairings, visible.pairings),
        (&w.users, visible.users),
    ] {
        let seen: Vec<&str> = seen.split_whitespace().collect();
        for (key, id) in map {
            if !seen.contains(key) {
                hidden.insert(id.clone(), *key);
            }
        }
    }
    hidden
}

/// The keys an unfiltered list at `path` must return to `caller`, when `path` is a list.
fn expected_list(caller: &str, path: &str) -> Option<BTreeSet<String>> {
    let visible = visible(caller);
    let keys = match path {
        "/api/v1/units" => visible.units,
        "/api/v1/pairings" => visible.pairings,
        "/api/v1/users" => visible.users,
        _ => return None,
    };
    Some(keys.split_whitespace().map(str::to_string).collect())
}

/// The fixture key of an id (the id itself when it is not a fixture object).
fn key_of(w: &World, id: &str) -> String {
    let mut all = w.units.iter().chain(&w.pairings).chain(&w.users);
    all.find(|(_, v)| *v == id)
        .map_or_else(|| id.to_string(), |(k, _)| k.to_string())
}

fn returned_ids(body: &Value) -> Vec<String> {
    let top = body.get("id").into_iter();
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("id"));
    top.chain(items)
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Runs one case; returns what went wrong, if anything.
async fn run_case(
    fx: &Fixture,
    row: &Row,
    caller: &'static str,
    scope: Scope,
    expected: u16,
    n: usize,
) -> Vec<String> {
    let ctx = Ctx {
        w: &fx.w,
        refresh: &fx.refresh,
        caller,
        scope,
        template: row.path,
        n,
    };
    let req = (row.build)(&ctx);
    let label = format!(
        "{} {} as {caller}, {scope:?} ({} {})",
        row.method, row.path, row.method, req.path
    );
    let token = (caller != ANON).then(|| fx.w.token(caller));
    let before = row.is_write().then(|| snapshot(&fx.app));
    let resp = fx
        .app
        .send(row.method.clone(), &req.path, token, req.body.as_ref())
        .await;
    let status = resp.status.as_u16();
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(format!("{label}: {what}"));

    if status != expected {
        fail(format!(
            "expected {expected}, got {status}: {}",
            short(&resp.text)
        ));
    }
    let success = (200..300).contains(&status);
    if !success && resp.header("content-type") != Some("application/problem+json") {
        fail(format!(
            "error {status} is not problem+json: {}",
            short(&resp.text)
        ));
    }

    let issues_tokens = ISSUES_TOKENS.contains(&row.path);
    let text = &resp.text;
    if std::panic::catch_unwind(|| assert_no_secrets(text)).is_err() {
        fail("leaks a secret".into());
    }
    if !issues_tokens && resp.text.contains("refresh_token") {
        fail(format!("carries a refresh token: {}", short(&resp.text)));
    }
    // Refresh tokens are random, so any match is an echo. Access tokens are deterministic
    // (same claims in the same second give the same JWT), so login and refresh may
    // legitimately issue one equal to the fixture's.
    let access_tokens = fx.w.tokens.values().filter(|_| !issues_tokens);
    if fx
        .refresh
        .values()
        .chain(access_tokens)
        .any(|t| resp.text.contains(t.as_str()))
    {
        fail("echoes a fixture token".into());
    }

    if success
        && resp
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    {
        let body = resp.json();
        let hidden = hidden_ids(&fx.w, caller);
        for id in returned_ids(&body) {
            if let Some(key) = hidden.get(&id) {
                fail(format!("returns {key}, outside the caller's scope"));
            }
        }
        let unfiltered = row.method == Method::GET && req.path == row.path;
        if let Some(expected) = expected_list(caller, row.path).filter(|_| unfiltered) {
            let got: BTreeSet<String> = returned_ids(&body)
                .iter()
                .map(|id| key_of(&fx.w, id))
                .collect();
            if got != expected {
                fail(format!("lists {got:?}, expected {expected:?}"));
            }
        }
    }

    if let Some(before) = before {
        let changed = snapshot(&fx.app) != before;
        let should_change = success && req.changes;
        if changed != should_change {
            let did = if changed { "changed" } else { "did not change" };
            fail(format!("answered {status} and the database {did}"));
        }
    }
    if status == 201 {
        match resp.header("location") {
            Some(location) => {
                let fetched = fx.app.get(location, fx.w.token("admin")).await;
                if fetched.status.as_u16() != 200 {
                    fail(format!(
                        "created, but admin gets {} at {location}",
                        fetched.status
                    ));
                }
            }
            None => fail("created without a Location".into()),
        }
    }
    failures
}

/// Which rows a test runs: the reads (on one shared app), or one half of the writes (a
/// fresh app per case; halved so that the two run in parallel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Reads,
    Writes(usize),
}

async fn run_matrix(part: Part) {
    let started = Instant::now();
    let rows: Vec<Row> = match part {
        Part::Reads => rows().into_iter().filter(|r| !r.is_write()).collect(),
        Part::Writes(half) => {
            let writes = rows().into_iter().filter(Row::is_write);
            writes
                .enumerate()
                .filter(|(i, _)| i % 2 == half)
                .map(|(_, r)| r)
                .collect()
        }
    };
    let shared = if part == Part::Reads {
        Some(fixture().await)
    } else {
        None
    };
    let before = shared.as_ref().map(|fx| snapshot(&fx.app));
    let (mut cases, mut failures) = (0, Vec::new());
    for row in &rows {
        let expectations = row
            .expectations()
            .unwrap_or_else(|e| panic!("{}: {e}", row.op()));
        for (caller, statuses) in expectations {
            for (scope, expected) in SCOPES.into_iter().zip(statuses) {
                cases += 1;
                let fresh;
                let fx = match &shared {
                    Some(fx) => fx,
                    None => {
                        fresh = fixture().await;
                        &fresh
                    }
                };
                failures.extend(run_case(fx, row, caller, scope, expected, cases).await);
            }
        }
    }
    if let (Some(fx), Some(before)) = (&shared, before) {
        assert_eq!(snapshot(&fx.app), before, "a read changed the database");
    }
    let ops = rows.len();
    println!(
        "authz matrix, {part:?}: {cases} cases over {ops} operations in {:.2?}",
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[actix_web::test]
async fn authz_matrix_reads() {
    run_matrix(Part::Reads).await;
}

#[actix_web::test]
async fn authz_matrix_writes_1() {
    run_matrix(Part::Writes(0)).await;
}

#[actix_web::test]
async fn authz_matrix_writes_2() {
    run_matrix(Part::Writes(1)).await;
}

/// Every fixture unit (its record and its subtree) and pairing, read by every role: 200
/// when [`VISIBLE`] lists it for that role, 404 otherwise — so ancestors, siblings,
/// cousins and departments are covered, not only the matrix's A and B targets.
#[actix_web::test]
async fn authz_visibility_sweep() {
    let fx = fixture().await;
    let mut failures = Vec::new();
    for caller in CALLERS.into_iter().filter(|c| *c != ANON) {
        let visible = visible(caller);
        let objects = [
            (&fx.w.units, visible.units, "/api/v1/units/{id}"),
            (&fx.w.units, visible.units, "/api/v1/units/{id}/subtree"),
            (&fx.w.pairings, visible.pairings, "/api/v1/pairings/{id}"),
        ];
        for (map, seen, template) in objects {
            for (key, id) in map {
                let expected = if seen.split_whitespace().any(|k| k == *key) {
                    200
                } else {
                    404
                };
                let resp = fx
                    .app
                    .get(&template.replace("{id}", id), fx.w.token(caller))
                    .await;
                if resp.status.as_u16() != expected {
                    failures.push(format!(
                        "{caller} GET {template} of {key}: expected {expected}, got {}",
                        resp.status
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn spec() -> Value {
    serde_json::from_str(SPEC).expect("openapi/openapi.json is JSON")
}

/// `(METHOD, path, operation)` for every operation of the spec.
fn spec_operations(spec: &Value) -> Vec<(String, String, Value)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let paths = spec["paths"].as_object().expect("paths");
    let mut ops = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

#[test]
fn every_spec_operation_has_a_row() {
    let spec = spec();
    let operations = spec_operations(&spec);
    let in_spec: BTreeSet<String> = operations
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    let rows = rows();
    let mut in_table = BTreeSet::new();
    for row in &rows {
        assert!(in_table.insert(row.op()), "two rows for {}", row.op());
    }
    let missing: Vec<&String> = in_spec.difference(&in_table).collect();
    let extra: Vec<&String> = in_table.difference(&in_spec).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the authorization matrix must cover exactly the spec's operations\n\
         in the spec, not in the table (add a row to `rows`): {missing:#?}\n\
         in the table, not in the spec: {extra:#?}"
    );

    // Every expectation parses, and every status it names is documented.
    let mut undocumented = Vec::new();
    for row in &rows {
        let expectations = row
            .expectations()
            .unwrap_or_else(|e| panic!("{}: {e}", row.op()));
        let responses = &spec["paths"][row.path][row.method.as_str().to_lowercase()]["responses"];
        let statuses: BTreeSet<u16> = expectations.into_iter().flat_map(|(_, s)| s).collect();
        for status in statuses {
            if responses.get(status.to_string()).is_none() {
                undocumented.push(format!("{} answers {status}", row.op()));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "statuses missing from the spec: {undocumented:#?}"
    );
}

/// Fields a client must not set, with a plausible value; each is tried on every request
/// schema that lacks it.
fn server_set_fields(w: &World) -> Vec<(&'static str, Value)> {
    vec![
        ("id", json!(uuid::Uuid::now_v7().to_string())),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2020-01-01T00:00:00Z")),
        ("path", json!("/")),
        ("password_hash", json!("x")),
        ("token_hash", json!("x")),
        ("active", json!(true)),
        ("role", json!("admin")),
        ("kind", json!("district")),
        ("username", json!("matrix-renamed")),
        ("user_id", json!(w.user("admin"))),
    ]
}

#[actix_web::test]
async fn server_set_fields_are_rejected() {
    let spec = spec();
    let rows = rows();
    let fx = fixture().await;
    let admin = fx.w.token("admin");
    let mut tried = 0;
    for (method, path, op) in spec_operations(&spec) {
        let Some(body) = op.get("requestBody") else {
            continue;
        };
        let schema_ref = body["content"]["application/json"]["schema"]["$ref"].as_str();
        let schema_ref = schema_ref
            .unwrap_or_else(|| panic!("{method} {path}: expected a JSON body schema by $ref"));
        let name = schema_ref.trim_start_matches("#/components/schemas/");
        let schema = &spec["components"]["schemas"][name];
        assert_eq!(
            schema["additionalProperties"], false,
            "{name} must reject unknown fields"
        );
        let properties = schema["properties"].as_object().expect("schema properties");
        let row = rows
            .iter()
            .find(|r| r.op() == format!("{method} {path}"))
            .expect("a row");
        let fields: Vec<_> = server_set_fields(&fx.w)
            .into_iter()
            .filter(|(f, _)| !properties.contains_key(*f))
            .collect();
        assert!(!fields.is_empty(), "{name}: no server-set field to try");
        for (field, value) in fields {
            tried += 1;
            let ctx = Ctx {
                w: &fx.w,
                refresh: &fx.refresh,
                caller: "admin",
                scope: Scope::In,
                template: row.path,
                n: tried,
            };
            let mut req = (row.build)(&ctx);
            let body = req
                .body
                .as_mut()
                .and_then(Value::as_object_mut)
                .expect("a JSON object body");
            body.insert(field.to_string(), value);
            let before = snapshot(&fx.app);
            let resp = fx
                .app
                .send(
                    row.method.clone(),
                    &req.path,
                    Some(admin),
                    req.body.as_ref(),
                )
                .await;
            let status = resp.status.as_u16();
            assert_eq!(status, 422, "{method} {path} with `{field}`: {}", resp.text);
            resp.names_field(422, field);
            assert!(
                !resp.text.contains("$argon2"),
                "{method} {path}: {}",
                resp.text
            );
            assert_eq!(
                snapshot(&fx.app),
                before,
                "{method} {path} with `{field}` changed the database"
            );
        }
    }
    assert!(tried > 0, "the spec has no JSON request bodies?");
}
