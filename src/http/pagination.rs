//! The one list envelope: `{items, page, per_page, total}`, with `page`/`per_page`
//! parameters shared by every list. Loading the page is `db::page::paginate`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::page::{Count, Cursor, Listed, Paging, DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE};
use crate::error::{AppError, AppResult};

/// Paging parameters of every list: a page number, or the `next_cursor` of the page
/// before (keyset paging: stable while rows are added, and as cheap on the thousandth
/// page as on the first).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1. Not with `cursor`.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it, in the same `sort`.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
    /// `exact` counts every match for `total`; by default matches are counted up to
    /// 1,000 (`total_is_estimate` says when there are more).
    #[param(inline)]
    pub count: Option<CountParam>,
}

/// How `total` is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountParam {
    /// Every match, however many.
    Exact,
    /// Up to 1,000 (the default).
    Capped,
}

impl PageParams {
    pub fn validate(self) -> Result<Paging, AppError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PAGE).contains(&page) {
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
        let cursor = match self.cursor.as_deref() {
            Some(_) if self.page.is_some() => {
                return Err(AppError::bad_parameter(
                    "cursor",
                    "send `cursor` or `page`, not both: a cursor says where its page starts",
                ))
            }
            Some(text) if text.len() > 2000 => {
                return Err(AppError::bad_parameter("cursor", "is too long"))
            }
            Some(text) => Some(Cursor::decode(text)?),
            None => None,
        };
        let count = match self.count {
            Some(CountParam::Exact) => Count::Exact,
            Some(CountParam::Capped) | None => Count::Capped,
        };
        Ok(Paging {
            page,
            per_page,
            cursor,
            count,
        })
    }
}

/// The filter of a list that has none beyond paging.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct NoFilter {}

/// A page of a list. Every list endpoint answers with this envelope.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "items": [],
    "page": 1,
    "per_page": 20,
    "total": 1000,
    "total_is_estimate": true,
    "has_more": true,
    "next_cursor": "eyJvIjoiQ3JlYXRlZEF0RGVzYyIsImsiOlsiMjAyMC0wNy0yNFQwODowMDowMCIsIjAxOTBlZjAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMSJdfQ"
}))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The page returned, from 1 (1 when paging by cursor).
    pub page: i64,
    pub per_page: i64,
    /// Number of items across all pages, with the same filters: exact with
    /// `count=exact`; otherwise counted up to 1,000.
    pub total: i64,
    /// `total` is the cap of the count: there are at least that many.
    pub total_is_estimate: bool,
    /// More items follow this page.
    pub has_more: bool,
    /// Send as `cursor` for the next page (with the same filters and `sort`); absent on
    /// the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn new(listed: Listed<T>, paging: &Paging) -> Self {
        Page {
            items: listed.items,
            page: paging.page,
            per_page: paging.per_page,
            total: listed.total,
            total_is_estimate: listed.total_is_estimate,
            has_more: listed.has_more,
            next_cursor: listed.next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
            total_is_estimate: self.total_is_estimate,
            has_more: self.has_more,
            next_cursor: self.next_cursor,
        }
    }

    /// Maps every item with a conversion that may fail; the first failure is the answer.
    pub fn try_map<U>(self, f: impl FnMut(T) -> AppResult<U>) -> AppResult<Page<U>> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<AppResult<_>>()?,
            page: self.page,
            per_page: self.per_page,
            total: self.total,
            total_is_estimate: self.total_is_estimate,
            has_more: self.has_more,
            next_cursor: self.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_bounds() {
        assert_eq!(PageParams::default().validate().unwrap(), Paging::default());
        let params = |page, per_page| PageParams {
            page,
            per_page,
            ..PageParams::default()
        };
        assert_eq!(params(Some(3), Some(100)).validate().unwrap().offset(), 200);
        assert!(params(Some(0), None).validate().is_err());
        assert!(params(None, Some(101)).validate().is_err());
        assert!(params(None, Some(0)).validate().is_err());
        let cursor = |page, cursor: &str| PageParams {
            page,
            cursor: Some(cursor.to_string()),
            ..PageParams::default()
        };
        assert!(cursor(None, "not a cursor").validate().is_err());
        assert!(cursor(Some(2), "eyJvIjoieCIsImsiOltdfQ")
            .validate()
            .is_err());
        assert!(cursor(None, "eyJvIjoieCIsImsiOltdfQ").validate().is_ok());
    }
}
