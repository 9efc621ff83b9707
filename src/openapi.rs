//! The OpenAPI 3.1 document. Paths are collected from the route registrations in
//! [`crate::api::configure`], so a route cannot be served without being documented; this
//! module adds what every operation shares (the bearer scheme, the problem responses).
//! The document is built once at start ([`ApiDocument`]) and shared by every worker.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, Ref, RefOr, ResponseBuilder};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem, PROBLEM_CONTENT_TYPE};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Campaign tracker API",
        description = r#"Civic campaign task tracker: units and grids, users, pairings (包联); campaigns, tasks, patrols, rectification and scorecards build on these.

**Authentication.** `POST /api/v1/auth/login` returns a short-lived JWT access token and a single-use refresh token. Send `Authorization: Bearer <access_token>`.

**Scope.** Admins and leaders see every unit; office and officer users see their unit's subtree; inspectors their grid(s). A resource outside the caller's scope answers 404, exactly as a missing one.

**Lists.** Every list answers with one envelope: `{"items": [...], "page": 1, "per_page": 20, "total": 57}`; `page` counts from 1, `per_page` is 1–100 (default 20), `total` counts all matches across pages. Lists take `sort` where documented (`-` prefix for descending).

**Safe writes.** Single-record GETs send an `ETag`; updates and transitions honour `If-Match` (a stale one answers 412 with the record as it is now, in `current`). Creates and transitions take an `Idempotency-Key`: a retry with the same key and body replays the first answer (`Idempotent-Replayed: true`); the same key with another body answers 422 `idempotency_key_reused`.

**Errors.** Every error is `application/problem+json` (RFC 9457) with a stable snake_case `code`; validation errors list each invalid field in `errors` (`{field, message}`). Unknown JSON fields are rejected."#,
        version = "0.1.0",
        license(name = "MIT")
    ),
    // Schemas only path parameters name (utoipa collects those of bodies and responses).
    components(schemas(Problem, FieldError, crate::open311::forms::Format)),
    tags(
        (name = "auth", description = "Login, tokens and the caller's own account"),
        (name = "users", description = "User accounts (admin only)"),
        (name = "units", description = "The unit tree, grids and their boundaries"),
        (name = "pairings", description = "Department ↔ town/community pairings (包联)"),
        (name = "campaigns", description = "Campaigns: civilized city, flood prep, duty reviews, volunteer work"),
        (name = "meetings", description = "Meetings where directives are issued"),
        (name = "directives", description = "Directives and their split into tasks"),
        (name = "tasks", description = "Tasks of responsible units: workflow, progress, deadlines and warnings"),
        (name = "activities", description = "Volunteer activities"),
        (name = "notifications", description = "The caller's inbox"),
        (name = "categories", description = "Categories of problem (问题类别): severity, deadline, routing, report fields"),
        (name = "attachments", description = "Photos and documents sent as evidence"),
        (name = "sites", description = "Sites (点位) inspectors check: poster boards, sluice gates, markets"),
        (name = "patrols", description = "Patrols (巡查): an inspector's GPS track, the sites visited, the problems reported on the way"),
        (name = "checklists", description = "Checklists (检查表): items with points, pass rules and the category a failure raises; an edit adds a version"),
        (name = "inspections", description = "Inspections of sites against a checklist: scored, each failure raising a rectification item"),
        (name = "sync", description = "Offline sync for the mobile client: the change feed since a cursor, and batches of offline writes"),
        (name = "rectifications", description = "Rectification items (整改): reports routed by grid and category, fixed with evidence, checked; triage; the ledger (台账)"),
        (name = "open311", description = "Open311 GeoReport v2 (`/open311/v2`): categories as services, items as requests, public reports with an API key; and the keys (`/api/v1/open311/keys`, admins)"),
        (name = "ops", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The 403 of operations only admins may perform; list it in their `responses(...)`.
/// (Other operations never answer 403: out-of-scope resources answer 404.)
#[derive(utoipa::IntoResponses)]
pub enum AdminOnly {
    /// The caller is not an admin.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// The 409 of operations that can collide with existing data (a duplicate code, username
/// or pairing); list it in their `responses(...)`.
#[derive(utoipa::IntoResponses)]
pub enum Conflicts {
    /// Conflicts with existing data; `code` says which rule.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
}

/// The 409 of transitions: the action is not allowed from the record's state
/// (`invalid_transition`, with the allowed actions), or the campaign is closed.
#[derive(utoipa::IntoResponses)]
pub enum Transitions {
    /// Not allowed from the current state (`invalid_transition` lists `allowed`), the
    /// campaign is closed (`campaign_closed`), or another request changed it at the same
    /// moment (`concurrent_change`).
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
}

/// The header of a create: `Idempotency-Key`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct CreateHeaders {
    /// Makes a retry safe: a retry with the same key and body gets the first answer again
    /// (with `Idempotent-Replayed: true`) instead of creating twice; the same key with
    /// another body answers 422 `idempotency_key_reused`. 1–255 visible ASCII characters
    /// (a UUID is typical); kept 24 hours.
    #[serde(rename = "Idempotency-Key")]
    #[param(max_length = 255, pattern = r"^[\x21-\x7E]+$")]
    pub idempotency_key: Option<String>,
}

/// The header of an update: `If-Match`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct UpdateHeaders {
    /// The `ETag` the change is based on: when the record has changed since, the answer is
    /// 412 with the record as it is now. Without it the change proceeds.
    #[serde(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// The headers of a transition: `If-Match` and `Idempotency-Key`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct TransitionHeaders {
    /// The `ETag` the action is based on: when the record has changed since, the answer is
    /// 412 with the record as it is now. Without it the action proceeds.
    #[serde(rename = "If-Match")]
    pub if_match: Option<String>,
    /// Makes a retry safe: a retry with the same key and body gets the first answer again.
    #[serde(rename = "Idempotency-Key")]
    #[param(max_length = 255, pattern = r"^[\x21-\x7E]+$")]
    pub idempotency_key: Option<String>,
}

/// The complete document, as served at `/api-docs/openapi.json`.
pub fn document() -> OpenApiDoc {
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::api::configure)
        .split_for_parts();
    finish(doc)
}

/// The document in the forms the server needs, built once at start: the JSON it serves
/// and the route table the 404/405 fallback reads.
#[derive(Debug, Clone)]
pub struct ApiDocument {
    pub json: serde_json::Value,
    pub routes: crate::http::fallback::RouteTable,
}

impl ApiDocument {
    /// The document of this build, made once per process (the routes are compiled in, so
    /// every server of the process serves the same one).
    pub fn shared() -> std::sync::Arc<ApiDocument> {
        static DOCUMENT: std::sync::OnceLock<std::sync::Arc<ApiDocument>> =
            std::sync::OnceLock::new();
        DOCUMENT
            .get_or_init(|| std::sync::Arc::new(ApiDocument::build()))
            .clone()
    }

    pub fn build() -> Self {
        let doc = document();
        ApiDocument {
            routes: crate::http::fallback::RouteTable::from_openapi(&doc),
            json: to_json(&doc),
        }
    }
}

/// `doc` as the JSON that is served and committed.
///
/// utoipa 5 serialises a Link's fields in snake_case (`operation_id`); OpenAPI spells them
/// in camelCase (`operationId`), and tools ignore links otherwise. Renamed here until
/// utoipa does it itself.
pub fn to_json(doc: &OpenApiDoc) -> serde_json::Value {
    let mut value = serde_json::to_value(doc).unwrap_or_default();
    if let Some(paths) = value.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for operation in paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut())
        {
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(|r| r.as_object_mut())
            else {
                continue;
            };
            for response in responses.values_mut() {
                let Some(links) = response.get_mut("links").and_then(|l| l.as_object_mut()) else {
                    continue;
                };
                for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                    for (snake, camel) in [
                        ("operation_id", "operationId"),
                        ("operation_ref", "operationRef"),
                        ("request_body", "requestBody"),
                    ] {
                        if let Some(v) = link.remove(snake) {
                            link.insert(camel.to_string(), v);
                        }
                    }
                }
            }
        }
    }
    value
}

/// The document as pretty JSON, exactly as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut json = serde_json::to_string_pretty(&to_json(&document())).unwrap_or_default();
    json.push('\n');
    json
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Adds the bearer scheme and, to each operation, the error responses every operation of
/// its shape can give. Responses particular to an operation (403 for admin-only ones, 409,
/// 429) are listed at the operation.
pub fn finish(mut doc: OpenApiDoc) -> OpenApiDoc {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer_auth",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        // Open311's operations list their own errors (Open311 error lists, not problems).
        if path.starts_with("/open311/") {
            continue;
        }
        let touches_db = path != "/healthz" && path != "/metrics";
        let has_id = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_errors(op, has_id, touches_db);
        }
    }
    add_links(&mut doc);
    doc
}

/// Links each create (a `201` on `POST /things`) to the operations on the thing it made
/// (`/things/{id}` and below), with `id` taken from the response body. Clients and the
/// fuzzer's stateful phase follow them (create, then read, change, delete).
fn add_links(doc: &mut OpenApiDoc) {
    let mut targets: Vec<(String, String)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        let Some((collection, _)) = path.split_once("/{id}") else {
            continue;
        };
        for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
            .into_iter()
            .flatten()
        {
            if let Some(id) = &op.operation_id {
                targets.push((collection.to_string(), id.clone()));
            }
        }
    }
    // A batch create under another record (`POST /directives/{id}/tasks`) answers
    // `{items: [...]}`: link its first item to the operations on that collection's records.
    let batches: Vec<(String, String)> = doc
        .paths
        .paths
        .keys()
        .filter_map(|path| {
            let (_, collection) = path.rsplit_once("/{id}/")?;
            let prefix = path.split("/{id}").next()?.rsplit_once('/')?.0;
            Some((path.clone(), format!("{prefix}/{collection}")))
        })
        .collect();
    for (collection, operation_id) in &targets {
        for (batch, _) in batches.iter().filter(|(_, c)| c == collection) {
            add_link(doc, batch, operation_id, "$response.body#/items/0/id");
        }
    }
    for (collection, operation_id) in &targets {
        add_link(doc, collection, operation_id, "$response.body#/id");
    }
}

/// Links the `201` of `POST path` to `operation_id`, with its `id` taken from `id`.
fn add_link(doc: &mut OpenApiDoc, path: &str, operation_id: &str, id: &str) {
    let created = doc
        .paths
        .paths
        .get_mut(path)
        .and_then(|item| item.post.as_mut())
        .and_then(|op| op.responses.responses.get_mut("201"));
    if let Some(RefOr::T(response)) = created {
        let link = LinkBuilder::new()
            .operation_id(operation_id)
            .parameter("id", id)
            .build();
        response.links.insert(operation_id.to_string(), link.into());
    }
}

fn add_errors(op: &mut Operation, has_id: bool, touches_db: bool) {
    let has_body = op.request_body.is_some();
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let conditional = op
        .parameters
        .as_ref()
        .is_some_and(|p| p.iter().any(|p| p.name == "If-Match"));
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut add = |status: &str, description: &str, when: bool| {
        if when && !op.responses.responses.contains_key(status) {
            op.responses
                .responses
                .insert(status.to_string(), problem_response(description).into());
        }
    };
    add(
        "400",
        "Malformed request: bad JSON, or a bad path or query parameter (named in `errors`)",
        has_body || has_params,
    );
    add("401", "Missing, invalid or expired access token", secured);
    add("404", "Not found, or outside the caller's scope", has_id);
    add(
        "412",
        "`If-Match` names another version: the record has changed (it is in `current`, its ETag in `ETag`)",
        conditional,
    );
    add("413", "Request body too large", has_body);
    add("415", "Request body is not JSON", has_body);
    add(
        "422",
        "Invalid input (each field named in `errors`) or refused by a rule",
        has_body,
    );
    add("503", "The database is unavailable", touches_db);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_its_errors_and_security() {
        let json = to_json(&document());
        assert_eq!(json["openapi"], "3.1.0");
        let paths = json["paths"].as_object().unwrap();
        assert!(paths.contains_key("/api/v1/units/{id}/subtree"));
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                if path.starts_with("/api/v1/")
                    && !path.starts_with("/api/v1/auth/login")
                    && !path.starts_with("/api/v1/auth/refresh")
                {
                    assert!(
                        op.get("security").is_some(),
                        "{method} {path} has no security"
                    );
                    assert!(responses.contains_key("401"), "{method} {path} lacks 401");
                }
                if method == "post" && responses.contains_key("201") {
                    let links = responses["201"]["links"].as_object();
                    assert!(
                        links.is_some_and(|l| !l.is_empty()),
                        "{method} {path} creates but links nowhere"
                    );
                }
                if let Some(body) = op
                    .get("requestBody")
                    .filter(|_| !path.starts_with("/open311/"))
                {
                    assert!(
                        responses.contains_key("422") && responses.contains_key("415"),
                        "{method} {path}"
                    );
                    // A JSON body shows an example; a file upload (multipart) has none to
                    // give.
                    if body["content"].get("application/json").is_none() {
                        continue;
                    }
                    let name = body["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .and_then(|r| r.rsplit('/').next())
                        .unwrap_or_default();
                    let schema = &json["components"]["schemas"][name];
                    assert!(
                        schema.get("example").is_some(),
                        "{method} {path}: the request body {name} has no example"
                    );
                }
            }
        }
    }
}
