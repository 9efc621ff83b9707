//! Extractors used instead of actix's own, so that bad input names the offending field:
//! `Json` (content type, size limit, unknown fields, wrong types), `Query`, and `Id`.
//! (Actix's own extractors answer problem+json too, through `http::errors`.)

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use crate::error::{AppError, AppResult, FieldError};
use crate::http::fallback::RouteTable;
use crate::http::pagination::PageParams;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

/// Request body limits, registered as app data by the app builder: how large, and how long
/// it may take to arrive (a client that promises 1,000 bytes and sends one must not hold
/// its connection open forever).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub bytes: usize,
    pub timeout: std::time::Duration,
}

impl Default for BodyLimit {
    fn default() -> Self {
        BodyLimit {
            bytes: 1 << 20,
            timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// JSON bodies must be UTF-8 (RFC 8259): a `charset` other than UTF-8 is refused, not
/// misread.
fn is_json(value: Option<&header::HeaderValue>) -> bool {
    let Some(mime) = value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
    else {
        return false;
    };
    let json = mime.type_() == mime::APPLICATION
        && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON));
    let utf8 = mime.get_param(mime::CHARSET).is_none_or(|c| {
        c.as_str().eq_ignore_ascii_case("utf-8") || c.as_str().eq_ignore_ascii_case("utf8")
    });
    json && utf8
}

/// A JSON body. Content type must be `application/json` (or `+json`); the body must fit
/// [`BodyLimit`]; syntax errors are 400, content errors (wrong type, missing or unknown
/// field) are 422 with the field's path.
///
/// Extraction never fails: the outcome is held until the handler calls
/// [`Json::into_inner`], after it has authorised the caller. actix resolves extractors
/// concurrently and reports whichever fails first, so a failing body would otherwise race
/// the 401/403 of the [`Actor`](crate::auth::Actor) and a caller could learn about an
/// operation it may not perform.
#[derive(Debug)]
pub struct Json<T> {
    value: AppResult<T>,
    /// SHA-256 of the body's bytes, hex: what an `Idempotency-Key` is bound to.
    digest: String,
}

/// SHA-256 (hex) of a JSON body as data, not as bytes: object keys sorted and no
/// whitespace, so the same request sent alone or inside a batch — however its client
/// spaced or ordered it — binds its `Idempotency-Key` the same way. A body that is not
/// JSON is digested as it came.
pub fn body_digest(body: &[u8]) -> String {
    fn canonical(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k, canonical(v)))
                        .collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(canonical).collect())
            }
            other => other,
        }
    }
    let bytes = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_vec(&canonical(v)).ok());
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        bytes.as_deref().unwrap_or(body),
    ))
}

impl<T: DeserializeOwned> Json<T> {
    /// A body that arrived inside another (an operation of a batch): checked and digested
    /// as if it had come alone.
    pub fn from_value(value: &serde_json::Value) -> Json<T> {
        match serde_json::to_vec(value) {
            Ok(bytes) => Json {
                value: parse_json(&bytes),
                digest: body_digest(&bytes),
            },
            Err(e) => Json {
                value: Err(AppError::internal(format!("re-reading a body: {e}"))),
                digest: String::new(),
            },
        }
    }
}

impl<T> Json<T> {
    pub fn into_inner(self) -> AppResult<T> {
        self.value
    }

    /// SHA-256 of the body as received (hex).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The body and its digest.
    pub fn into_parts(self) -> (AppResult<T>, String) {
        (self.value, self.digest)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req.headers().get(header::CONTENT_TYPE));
        let limits = req
            .app_data::<web::Data<BodyLimit>>()
            .map_or_else(BodyLimit::default, |l| *l.get_ref());
        let limit = limits.bytes;
        let mut payload = payload.take();
        Box::pin(async move {
            let read = async move {
                if !content_type_ok {
                    return Err(AppError::UnsupportedMediaType(
                        "the request body must be JSON in UTF-8 (Content-Type: application/json)"
                            .into(),
                    ));
                }
                let mut body = web::BytesMut::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|e| AppError::Refused {
                        code: crate::error::Code::UnreadableBody,
                        detail: format!("the request body could not be read: {e}"),
                        errors: Vec::new(),
                    })?;
                    if body.len() + chunk.len() > limit {
                        return Err(AppError::PayloadTooLarge { limit });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok((parse_json(&body), body_digest(&body)))
            };
            let read = tokio::time::timeout(limits.timeout, read);
            let (value, digest) = match read.await {
                Ok(Ok((value, digest))) => (value, digest),
                Ok(Err(e)) => (Err(e), String::new()),
                Err(_) => (
                    Err(AppError::RequestTimeout {
                        secs: limits.timeout.as_secs(),
                    }),
                    String::new(),
                ),
            };
            Ok(Json { value, digest })
        })
    }
}

/// Deserialises JSON, telling syntax errors (400) from content errors (422 naming the field).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let malformed = |inner: &serde_json::Error| AppError::Refused {
        code: crate::error::Code::MalformedJson,
        detail: format!("the request body is not valid JSON: {inner}"),
        errors: Vec::new(),
    };
    // serde accepts a JSON array for a struct (fields by position); our bodies are objects.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(AppError::invalid("body", "must be a JSON object")),
            Err(e) => Err(malformed(&e)),
        };
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => value,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            // serde_json reports some type mismatches as syntax (`null` where an enum was
            // expected is "expected value"): only a body that does not parse as JSON at all
            // is malformed.
            let parses = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
            if (inner.is_syntax() || inner.is_eof()) && !parses {
                return Err(malformed(&inner));
            }
            return Err(AppError::Validation(vec![FieldError::new(
                field_name(&path, &inner),
                clean_message(&inner),
            )]));
        }
    };
    // Trailing characters after the document are a syntax error too.
    de.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

/// serde_path_to_error reports a missing field at its parent's path (an unknown field at
/// its own); name the field itself.
fn field_name(path: &str, err: &serde_json::Error) -> String {
    let message = err.to_string();
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (missing, path) {
        (Some(name), "." | "") => name.to_string(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "." | "") => "body".to_string(),
        (None, path) => path.to_string(),
    }
}

/// serde_json appends " at line 1 column 9"; the field path already locates the problem.
fn clean_message(err: &serde_json::Error) -> String {
    let message = err.to_string();
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    }
}

/// Query parameters as a struct. A parameter may repeat where the struct takes a list
/// (`status=assigned&status=in_progress`); elsewhere a repeat is an error naming it.
///
/// An empty value (`page=`) is refused, naming the parameter, except for the free-text `q`
/// (an empty search is no search): the deserialiser would read it as absent.
fn parse_query<T: DeserializeOwned>(req: &HttpRequest) -> AppResult<T> {
    let query = req.query_string().as_bytes();
    if let Some((name, _)) = form_urlencoded::parse(query).find(|(k, v)| v.is_empty() && k != "q") {
        return Err(AppError::bad_parameter(&name, "must not be empty"));
    }
    let de = serde_html_form::Deserializer::from_bytes(query);
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let name = match path.as_str() {
            "." | "" => message
                .split('`')
                .nth(1)
                .map(str::to_string)
                .unwrap_or_else(|| "query".into()),
            // A repeated parameter's path is `status[1]`: the parameter is `status`.
            other => other.split('[').next().unwrap_or(other).to_string(),
        };
        AppError::bad_parameter(&name, message)
    })
}

/// Query parameters; a bad one is a 400 naming the parameter. (An unknown one never gets
/// here: `fallback::refuse_unknown_parameters` refuses it for every operation.)
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req).map(Query))
    }
}

/// A list's query parameters: the paging every list takes, and the list's own filter `F`.
#[derive(Debug)]
pub struct ListQuery<F> {
    pub page: PageParams,
    pub filter: F,
}

impl<F: DeserializeOwned> FromRequest for ListQuery<F> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = parse_query(req).and_then(|page| {
            Ok(ListQuery {
                page,
                filter: parse_query(req)?,
            })
        });
        std::future::ready(parsed)
    }
}

/// For `Option` fields of a `PATCH` body that may be left out but not cleared: absent is
/// `None` (with `#[serde(default)]`); `null` is an error naming the field, not a silent
/// no-op.
pub fn not_null<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// For clearable fields of a `PATCH` body: absent is `None` (leave as is, with
/// `#[serde(default)]`), `null` is `Some(None)` (clear it).
pub fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// The `{id}` path segment, parsed as `T` (an id type: a bad one is a 400 naming `id`).
///
/// A literal route beside an `{id}` route (`/units/locate` beside `/units/{id}`) is matched
/// by actix per method: a `PATCH /units/locate` reaches the `{id}` route. When the segment
/// is not an id and the path is a literal route, the answer is that route's 405.
#[derive(Debug, Clone, Copy)]
pub struct Id<T>(pub T);

impl<T: FromStr> FromRequest for Id<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.match_info().get("id").unwrap_or_default();
        std::future::ready(raw.parse::<T>().map(Id).map_err(|_| {
            let literal = req
                .app_data::<web::Data<RouteTable>>()
                .and_then(|table| table.literal_allowed(req.path()));
            match literal {
                Some(allow) => AppError::MethodNotAllowed { allow },
                None => AppError::bad_parameter("id", "must be a UUID"),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        lat: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    fn field_of(body: &str) -> (u16, Vec<FieldError>) {
        let problem = parse_json::<Body>(body.as_bytes()).unwrap_err().problem();
        (problem.status, problem.errors)
    }

    #[test]
    fn bodies_must_be_objects() {
        assert_eq!(
            field_of("[null, null]"),
            (422, vec![FieldError::new("body", "must be a JSON object")])
        );
        assert_eq!(field_of("  [1").0, 400);
        assert_eq!(field_of("").0, 400);
    }

    #[test]
    fn syntax_errors_are_400() {
        assert_eq!(field_of("{\"name\": ").0, 400);
        assert_eq!(field_of("{\"name\": \"a\"} trailing").0, 400);
    }

    #[test]
    fn content_errors_name_the_field() {
        assert_eq!(
            field_of("{\"name\": 5}"),
            (
                422,
                vec![FieldError::new(
                    "name",
                    "invalid type: integer `5`, expected a string"
                )]
            )
        );
        assert_eq!(field_of("{}").1[0].field, "name");
        assert_eq!(field_of("{\"name\":\"a\",\"extra\":1}").1[0].field, "extra");
        assert_eq!(
            field_of("{\"name\":\"a\",\"inner\":{\"lat\":\"x\"}}").1[0].field,
            "inner.lat"
        );
        assert_eq!(
            field_of("{\"name\":\"a\",\"inner\":{}}").1[0].field,
            "inner.lat"
        );
    }
}
