//! Conditional writes (RFC 9110 §13.1.1): every record that can change has a `version`;
//! its single-resource GET sends it as a strong `ETag`, and every update and transition
//! honours `If-Match`. A stale `If-Match` answers 412 with the record as it is now (in the
//! problem's `current`, and its `ETag`), never a silent lost update. Without `If-Match` the
//! write proceeds (last writer wins).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use serde::Serialize;

use crate::error::{AppError, AppResult};

/// The ETag of a record at `version`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// A write's `If-Match` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: the write proceeds whatever the version.
    #[default]
    Absent,
    /// `*`: the record must exist (it always does once found).
    Any,
    /// A list of entity tags, as sent (quotes included); a weak one (`W/"…"`) never
    /// matches, as the strong comparison RFC 9110 requires for `If-Match`.
    Tags(Vec<String>),
}

impl IfMatch {
    pub fn parse(values: &[&str]) -> IfMatch {
        if values.is_empty() {
            return IfMatch::Absent;
        }
        let tags: Vec<String> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if tags.iter().any(|t| t == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(tags)
        }
    }

    /// Does a record at `version` satisfy the condition?
    pub fn matches(&self, version: i32) -> bool {
        match self {
            IfMatch::Absent | IfMatch::Any => true,
            IfMatch::Tags(tags) => {
                let current = etag(version);
                tags.contains(&current)
            }
        }
    }

    /// `Ok` when a record at `version` satisfies the condition; otherwise the 412, with the
    /// record as it is now (built only then).
    pub fn check<T: Serialize>(
        &self,
        version: i32,
        current: impl FnOnce() -> AppResult<T>,
    ) -> AppResult<()> {
        if self.matches(version) {
            return Ok(());
        }
        let current = serde_json::to_value(current()?)
            .map_err(|e| AppError::internal(format!("serialising the current record: {e}")))?;
        Err(AppError::PreconditionFailed {
            etag: etag(version),
            current: Box::new(current),
        })
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<IfMatch>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A value that is not text cannot match any ETag we send: it fails the condition.
        let values: Vec<&str> = req
            .headers()
            .get_all(header::IF_MATCH)
            .map(|v| v.to_str().unwrap_or("\u{fffd}"))
            .collect();
        std::future::ready(Ok(IfMatch::parse(&values)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_comparison_of_listed_tags() {
        assert!(IfMatch::parse(&[]).matches(3));
        assert!(IfMatch::parse(&["*"]).matches(3));
        assert!(IfMatch::parse(&["\"3\""]).matches(3));
        assert!(IfMatch::parse(&["\"2\", \"3\""]).matches(3));
        assert!(IfMatch::parse(&["\"2\"", "\"3\""]).matches(3));
        assert!(!IfMatch::parse(&["\"2\""]).matches(3));
        assert!(!IfMatch::parse(&["W/\"3\""]).matches(3));
        assert!(!IfMatch::parse(&["3"]).matches(3));
        assert!(!IfMatch::parse(&["garbage"]).matches(3));
    }

    #[test]
    fn a_stale_tag_answers_412_with_the_current_record() {
        let stale = IfMatch::parse(&["\"1\""]);
        let err = stale
            .check(2, || Ok(serde_json::json!({"id": "x", "version": 2})))
            .unwrap_err();
        match err {
            AppError::PreconditionFailed { etag, current } => {
                assert_eq!(etag, "\"2\"");
                assert_eq!(current["version"], 2);
            }
            other => panic!("{other:?}"),
        }
        assert!(IfMatch::parse(&["\"2\""])
            .check(2, || -> AppResult<()> {
                panic!("not built when it matches")
            })
            .is_ok());
    }
}
