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

/// Declares [`Code`]: every stable problem `code`, with the HTTP status and title it
/// answers with. `docs/api-conventions.md` lists them all; a test fails when the list and
/// this enum differ.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal, $status:ident, $title:literal;)+) => {
        /// A problem's stable, machine-readable `code` (clients branch on it).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant),+
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text),+ }
            }

            pub fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::$status),+ }
            }

            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),+ }
            }
        }
    };
}

codes! {
    /// The body is not JSON.
    MalformedJson = "malformed_json", BAD_REQUEST, "Bad request";
    /// The form body could not be read.
    MalformedForm = "malformed_form", BAD_REQUEST, "Bad request";
    /// The body broke off or could not be read.
    UnreadableBody = "unreadable_body", BAD_REQUEST, "Bad request";
    /// A path or query parameter (named in `errors`).
    InvalidParameter = "invalid_parameter", BAD_REQUEST, "Bad request";
    MissingToken = "missing_token", UNAUTHORIZED, "Authentication required";
    InvalidToken = "invalid_token", UNAUTHORIZED, "Authentication required";
    TokenExpired = "token_expired", UNAUTHORIZED, "Authentication required";
    /// Logged out, or ended by a password change or an admin.
    SessionEnded = "session_ended", UNAUTHORIZED, "Authentication required";
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED, "Authentication required";
    AccountInactive = "account_inactive", UNAUTHORIZED, "Authentication required";
    InvalidRefreshToken = "invalid_refresh_token", UNAUTHORIZED, "Authentication required";
    RefreshTokenExpired = "refresh_token_expired", UNAUTHORIZED, "Authentication required";
    /// A refresh token used twice: its whole session ends.
    RefreshTokenReused = "refresh_token_reused", UNAUTHORIZED, "Authentication required";
    /// The role may never do this.
    Forbidden = "forbidden", FORBIDDEN, "Forbidden";
    /// The record is one the caller may read but not act on.
    OutsideYourUnits = "outside_your_units", FORBIDDEN, "Forbidden";
    /// The caller submitted this work; someone else verifies it.
    OwnSubmission = "own_submission", FORBIDDEN, "Forbidden";
    /// The caller's part in the record excludes it from this action.
    OwnerExcluded = "owner_excluded", FORBIDDEN, "Forbidden";
    /// Only the record's owner may do this.
    NotOwner = "not_owner", FORBIDDEN, "Forbidden";
    /// An admin reset the password: change it first.
    PasswordChangeRequired = "password_change_required", FORBIDDEN, "Forbidden";
    NotFound = "not_found", NOT_FOUND, "Not found";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed";
    RequestTimeout = "request_timeout", REQUEST_TIMEOUT, "Request timeout";
    /// Another unit has this code.
    CodeTaken = "code_taken", CONFLICT, "Conflict";
    /// A sibling has this name.
    NameTaken = "name_taken", CONFLICT, "Conflict";
    UsernameTaken = "username_taken", CONFLICT, "Conflict";
    AlreadyPaired = "already_paired", CONFLICT, "Conflict";
    /// A unit with users, children or work is not deleted.
    UnitInUse = "unit_in_use", CONFLICT, "Conflict";
    /// A record with this id (or these values) exists.
    AlreadyExists = "already_exists", CONFLICT, "Conflict";
    /// The unit has an open task of this directive.
    AlreadyAssigned = "already_assigned", CONFLICT, "Conflict";
    /// Other records refer to this one.
    StillReferenced = "still_referenced", CONFLICT, "Conflict";
    /// The record's state does not allow the action (`allowed` lists what does).
    InvalidTransition = "invalid_transition", CONFLICT, "Conflict";
    /// Nothing is written under a closed campaign.
    CampaignClosed = "campaign_closed", CONFLICT, "Conflict";
    /// An extension is asked for before the deadline.
    DeadlinePassed = "deadline_passed", CONFLICT, "Conflict";
    NotInProgress = "not_in_progress", CONFLICT, "Conflict";
    /// Another request changed the record at the same moment: read it and retry.
    ConcurrentChange = "concurrent_change", CONFLICT, "Conflict";
    PatrolEnded = "patrol_ended", CONFLICT, "Conflict";
    /// The inspector has a patrol going on already.
    PatrolActive = "patrol_active", CONFLICT, "Conflict";
    /// `If-Match` names another version (`current` holds the record).
    PreconditionFailed = "precondition_failed", PRECONDITION_FAILED, "Precondition failed";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "Payload too large";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type";
    /// Invalid input (each field in `errors`).
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY, "Invalid input";
    /// A unit moved under itself.
    UnitCycle = "unit_cycle", UNPROCESSABLE_ENTITY, "Request refused by a rule";
    /// An admin would lock itself out.
    SelfLockout = "self_lockout", UNPROCESSABLE_ENTITY, "Request refused by a rule";
    GridOverlap = "grid_overlap", UNPROCESSABLE_ENTITY, "Request refused by a rule";
    /// An `Idempotency-Key` sent again with another request.
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, "Request refused by a rule";
    TooManyRequests = "too_many_requests", TOO_MANY_REQUESTS, "Too many requests";
    InternalError = "internal_error", INTERNAL_SERVER_ERROR, "Internal server error";
    /// The database did not answer in time.
    ServiceUnavailable = "service_unavailable", SERVICE_UNAVAILABLE, "Service unavailable";
    /// Too much work of one kind at once (password checks).
    Overloaded = "overloaded", SERVICE_UNAVAILABLE, "Service unavailable";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A server fault: what was being done, and the error that stopped it (kept for the log,
/// never sent).
#[derive(Debug)]
pub struct Internal {
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.context)?;
        let mut cause = self.source.as_deref().map(|e| e as &dyn std::error::Error);
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Refused with a code that says why; the code decides the status (400, 401, 403,
    /// 409, 422…). `errors` names the fields it is about, if any.
    #[error("{detail}")]
    Refused {
        code: Code,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The request is well-formed but its content is invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Also what an out-of-scope resource answers, so ids do not leak across units.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<&'static str> },
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
    /// A real server fault; the cause is logged, the client sees a generic detail.
    #[error("internal error: {0}")]
    Internal(Internal),
}

impl AppError {
    pub fn internal(context: impl Into<String>) -> Self {
        AppError::Internal(Internal {
            context: context.into(),
            source: None,
        })
    }

    /// A server fault caused by `source`, which the log keeps.
    pub fn internal_from(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AppError::Internal(Internal {
            context: context.into(),
            source: Some(Box::new(source)),
        })
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// Refused with `code` (its status and title come with it).
    pub fn refused(code: Code, detail: impl Into<String>) -> Self {
        AppError::Refused {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// [`AppError::refused`] about one field.
    pub fn refused_field(
        code: Code,
        detail: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AppError::Refused {
            code,
            detail: detail.into(),
            errors: vec![FieldError::new(field, message)],
        }
    }

    pub fn unauthenticated(code: Code, detail: impl Into<String>) -> Self {
        debug_assert_eq!(code.status(), StatusCode::UNAUTHORIZED, "{code}");
        AppError::refused(code, detail)
    }

    /// The role may never perform this operation.
    pub fn forbidden() -> Self {
        AppError::refused(Code::Forbidden, "your role may not perform this operation")
    }

    pub fn forbidden_because(code: Code, detail: impl Into<String>) -> Self {
        debug_assert_eq!(code.status(), StatusCode::FORBIDDEN, "{code}");
        AppError::refused(code, detail)
    }

    pub fn conflict(code: Code, detail: impl Into<String>) -> Self {
        debug_assert_eq!(code.status(), StatusCode::CONFLICT, "{code}");
        AppError::refused(code, detail)
    }

    pub fn unprocessable(code: Code, detail: impl Into<String>) -> Self {
        debug_assert_eq!(code.status(), StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        AppError::refused(code, detail)
    }

    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::refused_field(
            Code::InvalidParameter,
            format!("invalid parameter `{name}`: {message}"),
            name,
            message,
        )
    }

    pub fn code(&self) -> Code {
        match self {
            AppError::Refused { code, .. } => *code,
            AppError::Validation(_) => Code::ValidationFailed,
            AppError::PreconditionFailed { .. } => Code::PreconditionFailed,
            AppError::InvalidTransition { .. } => Code::InvalidTransition,
            AppError::NotFound(_) => Code::NotFound,
            AppError::MethodNotAllowed { .. } => Code::MethodNotAllowed,
            AppError::PayloadTooLarge { .. } => Code::PayloadTooLarge,
            AppError::UnsupportedMediaType(_) => Code::UnsupportedMediaType,
            AppError::TooManyRequests { .. } => Code::TooManyRequests,
            AppError::Unavailable => Code::ServiceUnavailable,
            AppError::Overloaded { .. } => Code::Overloaded,
            AppError::RequestTimeout { .. } => Code::RequestTimeout,
            AppError::Internal(_) => Code::InternalError,
        }
    }

    /// The fields a problem names.
    pub fn errors(&self) -> &[FieldError] {
        match self {
            AppError::Validation(errors) | AppError::Refused { errors, .. } => errors,
            _ => &[],
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
            title: code.title().into(),
            status: code.status().as_u16(),
            detail: self.detail(),
            code: code.as_str().into(),
            errors: self.errors().to_vec(),
            limited,
            until,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        if self.status_code() == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        match self {
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
                    Code::AlreadyExists,
                    "a record with these values already exists",
                )
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                tracing::debug!(message = info.message(), "foreign key violation");
                AppError::conflict(
                    Code::StillReferenced,
                    "the record is referenced by other records",
                )
            }
            other => AppError::internal_from("database", other),
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

    /// `docs/api-conventions.md`'s table of codes lists every code, and only those.
    #[test]
    fn the_documented_codes_are_the_codes() {
        let doc = include_str!("../docs/api-conventions.md");
        let table = doc
            .split("## Errors")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("an Errors section");
        let mut documented = std::collections::BTreeSet::new();
        for line in table.lines().filter(|l| l.starts_with("| ")) {
            let cells: Vec<&str> = line.split('|').collect();
            let (Some(status), Some(codes)) = (cells.get(1), cells.get(2)) else {
                continue;
            };
            let Ok(status) = status.trim().parse::<u16>() else {
                continue;
            };
            // Remarks in parentheses name fields (`with \`allowed\``), not codes.
            let mut plain = String::new();
            let mut depth = 0;
            for c in codes.chars() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ if depth == 0 => plain.push(c),
                    _ => {}
                }
            }
            for code in plain.split('`').skip(1).step_by(2) {
                let known = Code::ALL.iter().find(|c| c.as_str() == code);
                let known = known.unwrap_or_else(|| panic!("`{code}` is documented but no Code"));
                assert_eq!(
                    known.status().as_u16(),
                    status,
                    "`{code}` is listed under {status}"
                );
                documented.insert(code.to_string());
            }
        }
        let codes: std::collections::BTreeSet<String> =
            Code::ALL.iter().map(|c| c.as_str().to_string()).collect();
        let missing: Vec<&String> = codes.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "codes missing from docs/api-conventions.md: {missing:?}"
        );
    }

    #[test]
    fn internal_causes_are_kept_for_the_log() {
        let cause = std::io::Error::other("disk full");
        let error = AppError::internal_from("storing an upload", cause);
        assert_eq!(
            error.to_string(),
            "internal error: storing an upload: disk full"
        );
        assert!(!error.problem().detail.contains("disk"));
    }

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
