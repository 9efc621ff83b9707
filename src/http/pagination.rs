//! The one list envelope: `{items, page, per_page, total}`, with `page`/`per_page`
//! parameters shared by every list.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;

/// Paging parameters of every list.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
}

/// Validated paging: page ≥ 1, 1 ≤ per_page ≤ 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

impl PageParams {
    pub fn validate(self) -> Result<Paging, AppError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=1_000_000).contains(&page) {
            return Err(AppError::bad_parameter(
                "page",
                "must be between 1 and 1000000",
            ));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(AppError::bad_parameter(
                "per_page",
                format!("must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Paging { page, per_page })
    }
}

/// Maximum length of a list's free-text `q` parameter.
pub const MAX_SEARCH_CHARS: usize = 100;

/// The `q` parameter of a list: `None` when absent or empty, 400 when too long.
pub fn search_text(q: Option<&str>) -> Result<Option<&str>, AppError> {
    match q {
        Some(text) if text.chars().count() > MAX_SEARCH_CHARS => Err(AppError::bad_parameter(
            "q",
            format!("must be at most {MAX_SEARCH_CHARS} characters"),
        )),
        Some(text) if !text.is_empty() => Ok(Some(text)),
        _ => Ok(None),
    }
}

/// A page of a list. Every list endpoint answers with this envelope.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The page returned, from 1.
    pub page: i64,
    pub per_page: i64,
    /// Number of items across all pages, with the same filters.
    pub total: i64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, paging: Paging, total: i64) -> Self {
        Page {
            items,
            page: paging.page,
            per_page: paging.per_page,
            total,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_bounds() {
        assert_eq!(
            PageParams::default().validate().unwrap(),
            Paging {
                page: 1,
                per_page: 20
            }
        );
        assert_eq!(
            PageParams {
                page: Some(3),
                per_page: Some(100)
            }
            .validate()
            .unwrap()
            .offset(),
            200
        );
        assert!(PageParams {
            page: Some(0),
            per_page: None
        }
        .validate()
        .is_err());
        assert!(PageParams {
            page: None,
            per_page: Some(101)
        }
        .validate()
        .is_err());
        assert!(PageParams {
            page: None,
            per_page: Some(0)
        }
        .validate()
        .is_err());
    }
}
