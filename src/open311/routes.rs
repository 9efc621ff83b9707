//! `/open311/v2`: Open311 GeoReport v2, every method in XML and JSON by the path's
//! extension (`services.xml`, `requests.json`), and `/open311/discovery.{format}`. Reads
//! need no login; `POST requests` needs an `api_key`. Errors are Open311's error lists
//! ([`Failure`]). Also `/api/v1/open311/keys`, where admins issue and revoke the keys.

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::http::pagination::NoFilter;
use crate::http::{Id, Json, ListQuery, Page, PageParams, Reply};
use crate::ids::Open311KeyId;
use crate::open311::error::{ErrorItem, Failure};
use crate::open311::forms::{
    Format, JurisdictionQuery, NewKey, NewRequest, RawRequest, RequestQuery,
};
use crate::open311::model::{
    self, Created, Discovery, IssuedKey, Key, Service, ServiceDefinition, ServiceRequest,
    TokenAnswer,
};
use crate::open311::xml;
use crate::openapi::AdminOnly;
use crate::rectifications::model::Reporting;
use crate::state::AppState;

/// The public endpoints, outside `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    // Unknown paths, methods and parameters under /open311 answer as Open311 does.
    cfg.app_data(web::Data::new(crate::http::fallback::ErrorDialect {
        prefix: "/open311/",
        render: error_answer,
    }));
    cfg.service(
        scope::scope("/open311").service(discovery).service(
            scope::scope("/v2")
                .service(discovery_v2)
                .service(list_services)
                .service(service_definition)
                .service(create_request)
                .service(get_token)
                .service(list_requests)
                .service(get_request),
        ),
    );
}

/// The admins' key endpoints, inside `/api/v1`.
pub fn configure_keys(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/open311/keys")
            .service(issue_key)
            .service(list_keys)
            .service(get_key)
            .service(revoke_key),
    );
}

/// An answer in `format`: JSON through serde, XML through the element tree of `xml`.
pub fn answer<T: Serialize + ?Sized>(
    status: StatusCode,
    format: Format,
    value: &T,
    to_xml: impl FnOnce(&T) -> String,
) -> HttpResponse {
    let body = match format {
        Format::Json => match serde_json::to_string(value) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "serialising an open311 answer");
                return HttpResponse::InternalServerError()
                    .content_type(Format::Json.content_type())
                    .body(r#"[{"code":500,"description":"internal error"}]"#);
            }
        },
        Format::Xml => to_xml(value),
    };
    HttpResponse::build(status)
        .content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// The format a failing request asked for, read from its path (for errors raised before
/// a handler runs, such as an unknown query parameter).
pub fn format_of_path(path: &str) -> Format {
    if path.ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    }
}

/// An error as Open311 writes it (a list of `{code, description}`, in the format of the
/// path's extension), for errors raised before a handler runs; a wrong method keeps its
/// `Allow`.
fn error_answer(path: &str, error: AppError) -> HttpResponse {
    use actix_web::ResponseError;
    let allow = match &error {
        AppError::MethodNotAllowed { allow } => Some(allow.join(", ")),
        _ => None,
    };
    let mut response = Failure::from(error)
        .in_format(format_of_path(path))
        .error_response();
    if let Some(allow) = allow.and_then(|a| actix_web::http::header::HeaderValue::from_str(&a).ok())
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, allow);
    }
    response
}

/// Read-only work on one pooled connection, in the blocking pool.
async fn read<T, F>(state: &AppState, f: F) -> Result<T, Failure>
where
    F: FnOnce(&mut DbConnection) -> Result<T, Failure> + Send + 'static,
    T: Send + 'static,
{
    state.db.read(move |conn| Ok(f(conn))).await?
}

/// The base URL the client reached, for discovery's endpoint URL.
fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// Service discovery: where the GeoReport v2 endpoint is, and its formats.
#[utoipa::path(
    tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`"), JurisdictionQuery),
    responses(
        (status = 200, description = "Where the endpoint is", content(
            (Discovery = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A bad parameter", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such format", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/discovery.{format}")]
pub async fn discovery(
    req: HttpRequest,
    format: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    discover(&req, &format)
}

/// Service discovery, also under the versioned endpoint (`/open311/v2/discovery.{format}`),
/// where clients that were given only the endpoint's URL look for it.
#[utoipa::path(
    tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`"), JurisdictionQuery),
    responses(
        (status = 200, description = "Where the endpoint is", content(
            (Discovery = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A bad parameter", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such format", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/discovery.{format}")]
pub async fn discovery_v2(
    req: HttpRequest,
    format: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    discover(&req, &format)
}

fn discover(req: &HttpRequest, format: &str) -> Result<HttpResponse, Failure> {
    let format = Format::from_extension(format)?;
    JurisdictionQuery::parse(req.query_string()).map_err(|f| f.in_format(format))?;
    let found = model::discovery(&base_url(req));
    Ok(answer(StatusCode::OK, format, &found, xml::discovery))
}

/// The services: every active category of problem.
#[utoipa::path(
    tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`"), JurisdictionQuery),
    responses(
        (status = 200, description = "The services", content(
            (Vec<Service> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A bad parameter", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such format", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/services.{format}")]
pub async fn list_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    format: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let format = Format::from_extension(&format)?;
    async {
        JurisdictionQuery::parse(req.query_string())?;
        let found = read(&state, |conn| Ok(model::services(conn)?)).await?;
        Ok(answer(
            StatusCode::OK,
            format,
            found.as_slice(),
            xml::services,
        ))
    }
    .await
    .map_err(|f: Failure| f.in_format(format))
}

/// A service's definition: the extra fields its reports carry, as `attribute[<code>]`.
#[utoipa::path(
    tag = "open311",
    params(
        ("service_code" = String, Path, description = "The service's code"),
        ("format" = Format, Path, description = "`json` or `xml`"),
        JurisdictionQuery,
    ),
    responses(
        (status = 200, description = "The definition", content(
            (ServiceDefinition = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A bad parameter", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such service or format", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/services/{service_code}.{format}")]
pub async fn service_definition(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Failure> {
    let (code, format) = path.into_inner();
    let format = Format::from_extension(&format)?;
    async {
        JurisdictionQuery::parse(req.query_string())?;
        let found = read(&state, move |conn| model::service_definition(conn, &code)).await?;
        Ok(answer(
            StatusCode::OK,
            format,
            &found,
            xml::service_definition,
        ))
    }
    .await
    .map_err(|f: Failure| f.in_format(format))
}

/// Report a problem (`application/x-www-form-urlencoded`, with an `api_key`). It is filed
/// like any report — its grid found from the point, routed by grid and category — with
/// source `public`. The contact details are kept for the units and shown nowhere.
#[utoipa::path(
    tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`")),
    request_body(content = NewRequest, content_type = "application/x-www-form-urlencoded",
        description = "The report. A service's extra fields are sent as `attribute[<code>]=<value>`."),
    responses(
        (status = 200, description = "Filed: the new request's id", content(
            (Vec<Created> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "Invalid input, each field named", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 403, description = "Missing, unknown or revoked `api_key`", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such service or format", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
    )
)]
#[post("/requests.{format}")]
pub async fn create_request(
    req: HttpRequest,
    state: web::Data<AppState>,
    format: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Failure> {
    let format = Format::from_extension(&format)?;
    let work = state.work();
    async move {
        JurisdictionQuery::parse(req.query_string())?;
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form {
            return Err(Failure::bad(
                "Content-Type",
                "must be application/x-www-form-urlencoded",
            ));
        }
        let raw = RawRequest::parse(&body);
        let created = state
            .db
            .writing(move |conn| {
                Ok(crate::db::write_tx(conn, |conn| {
                    // The key first: a caller without one learns nothing about its form.
                    let reporter = model::authenticate(conn, raw.api_key())?;
                    let draft = raw.validate()?;
                    let at = Reporting {
                        now: work.clock.now(),
                        duplicate_radius_m: work.duplicate_radius_m,
                    };
                    model::create_request(conn, &reporter, &draft, at)
                }))
            })
            .await??;
        Ok(answer(StatusCode::OK, format, &[created][..], xml::created))
    }
    .await
    .map_err(|f: Failure| f.in_format(format))
}

/// The request a token stands for (the `token` a report was answered with).
#[utoipa::path(
    tag = "open311",
    params(
        ("token" = String, Path, description = "The token of a report"),
        ("format" = Format, Path, description = "`json` or `xml`"),
        JurisdictionQuery,
    ),
    responses(
        (status = 200, description = "The request's id", content(
            (Vec<TokenAnswer> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A bad parameter", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such token or format", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/tokens/{token}.{format}")]
pub async fn get_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Failure> {
    let (token, format) = path.into_inner();
    let format = Format::from_extension(&format)?;
    async {
        JurisdictionQuery::parse(req.query_string())?;
        let found = read(&state, move |conn| model::token(conn, &token)).await?;
        Ok(answer(StatusCode::OK, format, &[found][..], xml::tokens))
    }
    .await
    .map_err(|f: Failure| f.in_format(format))
}

/// Search the requests, newest first (at most 1000): by ids, or by service, status and
/// requested time (the last 90 days by default). No contact details are ever shown.
#[utoipa::path(
    tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`"), RequestQuery),
    responses(
        (status = 200, description = "The requests", content(
            (Vec<ServiceRequest> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A bad parameter (a date without a zone, a window over 90 days)", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such service or format", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/requests.{format}")]
pub async fn list_requests(
    req: HttpRequest,
    state: web::Data<AppState>,
    format: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let format = Format::from_extension(&format)?;
    let now = state.clock.now().and_utc();
    async {
        let filter = RequestQuery::parse(req.query_string())?.validate(now)?;
        let found = read(&state, move |conn| model::requests(conn, &filter)).await?;
        Ok(answer(
            StatusCode::OK,
            format,
            found.as_slice(),
            xml::requests,
        ))
    }
    .await
    .map_err(|f: Failure| f.in_format(format))
}

/// One request, by its id (the item's number), as a list of one.
#[utoipa::path(
    tag = "open311",
    params(
        ("service_request_id" = String, Path, description = "The request's id (`ZG-2020-000123`)"),
        ("format" = Format, Path, description = "`json` or `xml`"),
        JurisdictionQuery,
    ),
    responses(
        (status = 200, description = "The request", content(
            (Vec<ServiceRequest> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A bad parameter", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such request or format", content(
            (Vec<ErrorItem> = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/requests/{service_request_id}.{format}")]
pub async fn get_request(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Failure> {
    let (id, format) = path.into_inner();
    let format = Format::from_extension(&format)?;
    async {
        JurisdictionQuery::parse(req.query_string())?;
        let found = read(&state, move |conn| model::request(conn, &id)).await?;
        Ok(answer(StatusCode::OK, format, &[found][..], xml::requests))
    }
    .await
    .map_err(|f: Failure| f.in_format(format))
}

// ---- /api/v1/open311/keys -----------------------------------------------------------

/// Issue an API key for an outside app (admins). The answer holds the key itself, once:
/// only its hash is kept. (No `Idempotency-Key`: a replayed answer would have to keep
/// the key.)
#[utoipa::path(
    tag = "open311",
    request_body = NewKey,
    responses(
        (status = 201, description = "Issued: `api_key` is shown this once", body = IssuedKey, headers(("Location" = String))),
        AdminOnly,
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn issue_key(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewKey>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOpen311Keys)?;
            let name = body.into_inner()?.validate()?;
            crate::db::write_tx(conn, |conn| {
                let (row, api_key) =
                    model::issue_key(conn, (actor.id, actor.unit_id), &name, work.clock.now())?;
                let key = model::key_view(conn, row)?;
                let id = key.id;
                Reply::created("open311/keys", id, &IssuedKey { key, api_key }, None)
            })
        })
        .await
}

/// List the API keys, newest first (admins); the keys themselves are never shown again.
#[utoipa::path(
    tag = "open311",
    params(PageParams),
    responses((status = 200, description = "A page of keys", body = Page<Key>), AdminOnly),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_keys(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<NoFilter>,
) -> AppResult<web::Json<Page<Key>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ManageOpen311Keys)?;
            let paging = query.page.validate()?;
            let listed = model::list_keys(conn, &paging)?;
            let listed = listed.try_map_all(|rows| model::key_views(conn, rows))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get an API key (admins), without the key itself.
#[utoipa::path(
    tag = "open311",
    params(("id" = uuid::Uuid, Path, description = "Key id")),
    responses((status = 200, description = "The key", body = Key), AdminOnly),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<Open311KeyId>,
) -> AppResult<web::Json<Key>> {
    caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ManageOpen311Keys)?;
            let row = model::find_key(conn, id.0)?;
            Ok(web::Json(model::key_view(conn, row)?))
        })
        .await
}

/// Revoke an API key (admins): it stops working at once; its reports stay. Revoking a
/// revoked key changes nothing.
#[utoipa::path(
    tag = "open311",
    params(("id" = uuid::Uuid, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"), AdminOnly),
    security(("bearer_auth" = []))
)]
#[delete("/{id}")]
pub async fn revoke_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<Open311KeyId>,
) -> AppResult<HttpResponse> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ManageOpen311Keys)?;
            crate::db::write_tx(conn, |conn| {
                model::revoke_key(conn, actor, id.0, work.clock.now())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
