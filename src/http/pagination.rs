//! The one list envelope: `{items, page, per_page, total}`, with `page`/`per_page`
//! parameters shared by every list. Loading the page is `db::page::paginate`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::page::{Listed, Paging, DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE};
use crate::error::{AppError, AppResult};

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
        Ok(Paging { page, per_page })
    }
}

/// The filter of a list that has none beyond paging.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct NoFilter {}

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
    pub fn new(listed: Listed<T>, paging: Paging) -> Self {
        Page {
            items: listed.items,
            page: paging.page,
            per_page: paging.per_page,
            total: listed.total,
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

    /// Maps every item with a conversion that may fail; the first failure is the answer.
    pub fn try_map<U>(self, f: impl FnMut(T) -> AppResult<U>) -> AppResult<Page<U>> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<AppResult<_>>()?,
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        })
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
