//! The feed's query, and the only place it is checked.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{AppError, AppResult};
use crate::sync::rules::Cursor;

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// `next_cursor` of the previous page; leave out to start from the beginning.
    #[param(max_length = 120, example = "s1.0.3f9a0c1b2d4e5f60.0.1842")]
    pub cursor: Option<String>,
    /// Changes per page.
    #[param(minimum = 1, maximum = 500, default = 100)]
    pub limit: Option<i64>,
}

/// A checked feed query.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncFilter {
    pub cursor: Option<Cursor>,
    pub limit: i64,
}

impl SyncQuery {
    pub fn validate(self) -> AppResult<SyncFilter> {
        let cursor = match self.cursor.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                Some(Cursor::decode(text).map_err(|m| AppError::bad_parameter("cursor", m))?)
            }
        };
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return Err(AppError::bad_parameter(
                    "limit",
                    format!("must be 1 to {MAX_LIMIT}"),
                ))
            }
        };
        Ok(SyncFilter { cursor, limit })
    }
}
