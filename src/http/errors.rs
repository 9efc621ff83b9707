//! Error handlers for actix's own extractors (`web::Json`, `web::Query`, `web::Path`,
//! `web::Form`), registered as app data by the app builder, so that a handler using one of
//! them answers bad input as problem+json like every other error — never plain text.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::{web, HttpRequest};

use crate::error::AppError;

fn json_error(err: JsonPayloadError) -> AppError {
    match err {
        JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
            "the request body must be JSON (Content-Type: application/json)".into(),
        ),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            AppError::PayloadTooLarge { limit }
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => AppError::invalid("body", e.to_string()),
        other => AppError::Refused {
            code: crate::error::Code::MalformedJson,
            detail: format!("the request body is not valid JSON: {other}"),
            errors: Vec::new(),
        },
    }
}

fn form_error(err: UrlencodedError) -> AppError {
    match err {
        UrlencodedError::ContentType => AppError::UnsupportedMediaType(
            "the request body must be application/x-www-form-urlencoded".into(),
        ),
        UrlencodedError::Overflow { limit, .. } => AppError::PayloadTooLarge { limit },
        other => AppError::Refused {
            code: crate::error::Code::MalformedForm,
            detail: format!("the form could not be read: {other}"),
            errors: Vec::new(),
        },
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _: &HttpRequest| json_error(err).into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _: &HttpRequest| {
        let QueryPayloadError::Deserialize(e) = err else {
            return AppError::bad_parameter("query", err.to_string()).into();
        };
        AppError::bad_parameter("query", e.to_string()).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _: &HttpRequest| {
        AppError::bad_parameter("path", err.to_string()).into()
    })
}

pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limit)
        .error_handler(|err, _: &HttpRequest| form_error(err).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test, App, HttpResponse};
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Body {
        n: u32,
    }

    async fn answer(uri: &str, content_type: &str, body: &'static str) -> (u16, String) {
        let app = test::init_service(
            App::new()
                .app_data(json_config(64))
                .app_data(query_config())
                .app_data(path_config())
                .app_data(form_config(64))
                .route(
                    "/json",
                    web::post().to(|_: web::Json<Body>| async { HttpResponse::Ok().finish() }),
                )
                .route(
                    "/form",
                    web::post().to(|_: web::Form<Body>| async { HttpResponse::Ok().finish() }),
                )
                .route(
                    "/query",
                    web::get().to(|_: web::Query<Body>| async { HttpResponse::Ok().finish() }),
                )
                .route(
                    "/path/{n}",
                    web::get().to(|_: web::Path<u32>| async { HttpResponse::Ok().finish() }),
                ),
        )
        .await;
        let method = if uri.starts_with("/json") || uri.starts_with("/form") {
            actix_web::http::Method::POST
        } else {
            actix_web::http::Method::GET
        };
        let req = test::TestRequest::default()
            .method(method)
            .uri(uri)
            .insert_header(("content-type", content_type))
            .set_payload(body)
            .to_request();
        let resp = test::call_service(&app, req).await;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, content_type)
    }

    #[actix_web::test]
    async fn actix_extractors_answer_problem_json() {
        let problem = "application/problem+json".to_string();
        for (uri, content_type, body, status) in [
            ("/json", "application/json", "{", 400),
            ("/json", "application/json", r#"{"n": "x"}"#, 422),
            ("/json", "text/plain", r#"{"n": 1}"#, 415),
            (
                "/json",
                "application/json",
                r#"{"n": 1, "padding": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
                413,
            ),
            ("/form", "application/x-www-form-urlencoded", "n=x", 400),
            ("/form", "application/json", "n=1", 415),
            ("/query?n=x", "", "", 400),
            ("/path/x", "", "", 400),
        ] {
            assert_eq!(
                answer(uri, content_type, body).await,
                (status, problem.clone()),
                "{uri} {content_type} {body}"
            );
        }
        assert_eq!(
            answer("/json", "application/json", r#"{"n": 1}"#).await.0,
            200
        );
    }
}
