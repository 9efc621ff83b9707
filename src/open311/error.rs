//! Open311's errors: a list of `{code, description}` (`<errors><error>…`), in the format
//! the request asked for, with the spec's statuses — 404 for a missing resource, 403 for a
//! bad or missing `api_key`, 400 for the rest. The service's own [`AppError`] is turned
//! into one here, so Open311 callers never see a problem+json.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::open311::forms::Format;

/// One error of an Open311 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorItem {
    /// The HTTP status (`400`, `403`, `404`).
    pub code: u16,
    /// What went wrong, naming the field (`lat: must be a number`).
    pub description: String,
}

/// An Open311 error answer.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub errors: Vec<ErrorItem>,
    /// The format to answer in (JSON when the request's own could not be read).
    pub format: Format,
}

impl Failure {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Failure {
        Failure {
            status,
            errors: vec![ErrorItem {
                code: status.as_u16(),
                description: description.into(),
            }],
            format: Format::Json,
        }
    }

    /// 400 naming `field`.
    pub fn bad(field: &str, message: impl std::fmt::Display) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, format!("{field}: {message}"))
    }

    pub fn not_found(description: impl Into<String>) -> Failure {
        Failure::new(StatusCode::NOT_FOUND, description)
    }

    pub fn forbidden(description: impl Into<String>) -> Failure {
        Failure::new(StatusCode::FORBIDDEN, description)
    }

    /// Several 400s at once (every invalid field).
    pub fn many(problems: Vec<(String, String)>) -> Failure {
        let status = StatusCode::BAD_REQUEST;
        Failure {
            status,
            errors: problems
                .into_iter()
                .map(|(field, message)| ErrorItem {
                    code: status.as_u16(),
                    description: format!("{field}: {message}"),
                })
                .collect(),
            format: Format::Json,
        }
    }

    pub fn in_format(mut self, format: Format) -> Failure {
        self.format = format;
        self
    }
}

/// The fields of the rectification domain as Open311 names them: a category's extra
/// field `attributes.<code>` is the form's `attribute[<code>]`.
fn open311_field(field: &str) -> String {
    match field.strip_prefix("attributes.") {
        Some(code) => format!("attribute[{code}]"),
        None => match field {
            "lon" => "long".to_string(),
            "category_id" => "service_code".to_string(),
            "grid_id" => "lat/long".to_string(),
            other => other.to_string(),
        },
    }
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Failure {
        match error {
            AppError::NotFound(what) => Failure::not_found(format!("{what} not found")),
            AppError::Validation(errors) | AppError::Refused { errors, .. }
                if !errors.is_empty() =>
            {
                Failure::many(
                    errors
                        .into_iter()
                        .map(|e| (open311_field(&e.field), e.message))
                        .collect(),
                )
            }
            AppError::Refused { code, detail, .. } if code.status() == StatusCode::FORBIDDEN => {
                Failure::forbidden(detail)
            }
            other => {
                // Everything else keeps its status; an internal cause is logged by the
                // service's own rendering and never sent.
                // The spec knows 400, 403 and 404: any other refusal of the input is a 400 (a
                // wrong method keeps its 405 and `Allow`).
                let status = match other.status_code() {
                    s if s.is_client_error()
                        && s != StatusCode::FORBIDDEN
                        && s != StatusCode::NOT_FOUND
                        && s != StatusCode::METHOD_NOT_ALLOWED =>
                    {
                        StatusCode::BAD_REQUEST
                    }
                    s => s,
                };
                let description = if status.is_server_error() {
                    tracing::error!(error = %other, "open311 request failed");
                    match status {
                        StatusCode::SERVICE_UNAVAILABLE => "service unavailable, retry".to_string(),
                        _ => "internal error".to_string(),
                    }
                } else {
                    other.to_string()
                };
                Failure::new(status, description)
            }
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let texts: Vec<&str> = self.errors.iter().map(|e| e.description.as_str()).collect();
        write!(f, "{}", texts.join("; "))
    }
}

impl ResponseError for Failure {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        crate::open311::routes::answer(self.status, self.format, &self.errors, |e| {
            crate::open311::xml::errors(e)
        })
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Failure {
        Failure::from(AppError::from(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_become_open311_errors_naming_open311_fields() {
        let f = Failure::from(AppError::Validation(vec![crate::error::FieldError::new(
            "attributes.level",
            "must be a number",
        )]));
        assert_eq!(f.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            f.errors[0].description,
            "attribute[level]: must be a number"
        );
        let f = Failure::from(AppError::NotFound("service"));
        assert_eq!(f.status, StatusCode::NOT_FOUND);
        assert_eq!(f.errors[0].code, 404);
    }
}
