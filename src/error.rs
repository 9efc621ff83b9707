//! The one error type of the service and its one rendering: RFC 9457 problem details
//! (`application/problem+json`) with a stable snake_case `code`. Extractor failures,
//! unknown routes and wrong methods are turned into [`AppError`] too, so every error a
//! client sees has this shape. Internal causes are logged here and never sent.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One invalid input: the field (a dotted path into the body, or a parameter name) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `boundary.coordinates[0]`, or a parameter name.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, as every error response carries it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// URI reference naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, human summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Human explanation of this occurrence.
    pub detail: String,
    /// Stable machine-readable code (snake_case); clients branch on this.
    pub code: String,
    /// For validation problems: one entry per invalid field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `too_many_requests`: what is limited, `account` or `address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limited: Option<String>,
    /// For `too_many_requests`: when the limit lifts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// For `precondition_failed`: the record as it is now (its ETag is in the `ETag`
    /// header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
    /// For `invalid_transition`: the actions the record's state allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Syntactically unusable request: malformed JSON, bad query or path parameter.
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The request is well-formed but its content is invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Well-formed and valid, but refused by a domain rule (e.g. a unit moved under itself).
    #[error("{detail}")]
    Unprocessable {
        code: &'static str,
        detail: String,
        /// The fields the rule is about, if any.
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: String },
    /// The caller may not do this: its role never may (`forbidden`), or a rule about this
    /// resource refuses it (its unit, its owner).
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// Also what an out-of-scope resource answers, so ids do not leak across units.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<&'static str> },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// `If-Match` named another version: the record as it is now, and its ETag.
    #[error("the record has changed since you read it (If-Match does not match)")]
    PreconditionFailed {
        etag: String,
        current: Box<serde_json::Value>,
    },
    /// The action is not allowed from the record's current state.
    #[error("`{action}` is not allowed while the {what} is {status}; allowed: {}", allowed_text(.allowed))]
    InvalidTransition {
        what: &'static str,
        action: String,
        status: String,
        allowed: Vec<String>,
    },
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests {
        retry_after_secs: u64,
        /// What is limited (`account`, `address`), when the caller may be told.
        limited: Option<&'static str>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The database could not be reached in time (pool exhausted or down).
    #[error("service unavailable")]
    Unavailable,
    /// Too much work of one kind at once (password hashing): retry shortly.
    #[error("the server is busy")]
    Overloaded { retry_after_secs: u64 },
    /// The request body did not arrive in time.
    #[error("the request body did not arrive within {secs} seconds")]
    RequestTimeout { secs: u64 },
    /// A real server fault; the message is logged, the client sees a generic detail.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn unauthenticated(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Unauthenticated {
            code,
            detail: detail.into(),
        }
    }

    /// The role may never perform this operation.
    pub fn forbidden() -> Self {
        AppError::Forbidden {
            code: "forbidden",
            detail: "your role may not perform this operation".into(),
        }
    }

    pub fn forbidden_because(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Forbidden {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Unprocessable {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::BadRequest {
            code: "invalid_parameter",
            detail: format!("invalid parameter `{name}`: {message}"),
            errors: vec![FieldError::new(name, message)],
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Unprocessable { code, .. }
            | AppError::Unauthenticated { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Forbidden { code, .. } => code,
            AppError::Validation(_) => "validation_failed",
            AppError::PreconditionFailed { .. } => "precondition_failed",
            AppError::InvalidTransition { .. } => "invalid_transition",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable => "service_unavailable",
            AppError::Overloaded { .. } => "overloaded",
            AppError::RequestTimeout { .. } => "request_timeout",
            AppError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::BadRequest { .. } => "Bad request",
            AppError::Validation(_) => "Invalid input",
            AppError::Unprocessable { .. } => "Request refused by a rule",
            AppError::Unauthenticated { .. } => "Authentication required",
            AppError::Forbidden { .. } => "Forbidden",
            AppError::NotFound(_) => "Not found",
            AppError::MethodNotAllowed { .. } => "Method not allowed",
            AppError::Conflict { .. } | AppError::InvalidTransition { .. } => "Conflict",
            AppError::PreconditionFailed { .. } => "Precondition failed",
            AppError::PayloadTooLarge { .. } => "Payload too large",
            AppError::UnsupportedMediaType(_) => "Unsupported media type",
            AppError::TooManyRequests { .. } => "Too many requests",
            AppError::Unavailable | AppError::Overloaded { .. } => "Service unavailable",
            AppError::RequestTimeout { .. } => "Request timeout",
            AppError::Internal(_) => "Internal server error",
        }
    }

    fn detail(&self) -> String {
        match self {
            AppError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("invalid value for: {}", fields.join(", "))
            }
            AppError::MethodNotAllowed { allow } => {
                format!("allowed methods: {}", allow.join(", "))
            }
            AppError::TooManyRequests {
                retry_after_secs,
                limited,
                until,
            } => match (limited, until) {
                (Some(what), Some(until)) => format!(
                    "too many failed attempts for this {what}; retry after {} ({retry_after_secs} seconds)",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                _ => format!("too many attempts; retry after {retry_after_secs} seconds"),
            },
            AppError::Overloaded { retry_after_secs } => {
                format!("the server is busy; retry after {retry_after_secs} seconds")
            }
            AppError::Unavailable => "the database is not answering; retry shortly".into(),
            // Never send internal causes.
            AppError::Internal(_) => "an unexpected error occurred; it has been logged".into(),
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        let errors = match self {
            AppError::Validation(errors)
            | AppError::BadRequest { errors, .. }
            | AppError::Unprocessable { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        let (limited, until) = match self {
            AppError::TooManyRequests { limited, until, .. } => {
                (limited.map(str::to_string), *until)
            }
            _ => (None, None),
        };
        let current = match self {
            AppError::PreconditionFailed { current, .. } => Some((**current).clone()),
            _ => None,
        };
        let allowed = match self {
            AppError::InvalidTransition { allowed, .. } => Some(allowed.clone()),
            _ => None,
        };
        Problem {
            current,
            allowed,
            kind: format!("/problems/{code}"),
            title: self.title().into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            code: code.into(),
            errors,
            limited,
            until,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Validation(_) | AppError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } | AppError::InvalidTransition { .. } => StatusCode::CONFLICT,
            AppError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        match self {
            AppError::Unauthenticated { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::TooManyRequests {
                retry_after_secs, ..
            }
            | AppError::Overloaded { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::RequestTimeout { .. } => {
                response.insert_header((header::CONNECTION, "close"));
            }
            AppError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            AppError::PreconditionFailed { etag, .. } => {
                response.insert_header((header::ETAG, etag.as_str()));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::NotFound("resource"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::debug!(message = info.message(), "unique violation");
                AppError::conflict(
                    "already_exists",
                    "a record with these values already exists",
                )
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                tracing::debug!(message = info.message(), "foreign key violation");
                AppError::conflict(
                    "still_referenced",
                    "the record is referenced by other records",
                )
            }
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

fn allowed_text(allowed: &[String]) -> String {
    if allowed.is_empty() {
        "none (the record is closed)".into()
    } else {
        allowed.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_are_not_sent() {
        let problem = AppError::internal("password=hunter2 at db").problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("hunter2"));
    }

    #[test]
    fn validation_names_fields() {
        let problem =
            AppError::Validation(vec![FieldError::new("name", "must not be empty")]).problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.code, "validation_failed");
        assert_eq!(problem.errors[0].field, "name");
        assert!(problem.detail.contains("name"));
        assert_eq!(problem.kind, "/problems/validation_failed");
    }

    /// What a driver reports with a constraint violation.
    struct Info;
    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            "violates a constraint"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(kind: diesel::result::DatabaseErrorKind) -> AppError {
        diesel::result::Error::DatabaseError(kind, Box::new(Info)).into()
    }

    #[test]
    fn database_errors_map_to_statuses() {
        use diesel::result::DatabaseErrorKind;
        let unique = database_error(DatabaseErrorKind::UniqueViolation);
        assert_eq!(unique.status_code(), StatusCode::CONFLICT);
        assert_eq!(unique.code(), "already_exists");
        let foreign = database_error(DatabaseErrorKind::ForeignKeyViolation);
        assert_eq!(foreign.status_code(), StatusCode::CONFLICT);
        assert_eq!(foreign.code(), "still_referenced");
        let missing: AppError = diesel::result::Error::NotFound.into();
        assert_eq!(missing.status_code(), StatusCode::NOT_FOUND);
        let other = database_error(DatabaseErrorKind::SerializationFailure);
        assert_eq!(other.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!other.problem().detail.contains("violates"));
    }
}
