//! One way to load a page of a list: count what the filters match, then load the page in
//! the requested order. Every list query goes through [`paginate`]; the HTTP envelope
//! (`{items, page, per_page, total}`) is built from its result in `http::pagination`.

use diesel::dsl::CountStar;
use diesel::query_dsl::methods::{LimitDsl, OffsetDsl, SelectDsl};
use diesel::query_dsl::LoadQuery;
use diesel::{QueryDsl, RunQueryDsl};

use crate::db::DbConnection;
use crate::error::AppResult;

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
pub const MAX_PAGE: i64 = 1_000_000;

/// A validated page request: 1 ≤ page ≤ 1,000,000, 1 ≤ per_page ≤ 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// One page of rows and the number of rows across all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: i64,
}

impl<T> Listed<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        Listed {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
        }
    }
}

/// Counts the rows `query` matches, then loads `paging`'s page of them sorted by `order`.
/// `query` builds the filtered query (called twice: boxed queries cannot be cloned);
/// `order` adds the sort, which must be total (end with a unique column) so that pages
/// neither repeat nor skip rows.
pub fn paginate<'a, Q, R>(
    conn: &mut DbConnection,
    query: impl Fn() -> Q,
    order: impl FnOnce(Q) -> Q,
    paging: Paging,
) -> AppResult<Listed<R>>
where
    Q: QueryDsl
        + SelectDsl<CountStar>
        + LimitDsl<Output = Q>
        + OffsetDsl<Output = Q>
        + LoadQuery<'a, DbConnection, R>,
    <Q as SelectDsl<CountStar>>::Output:
        RunQueryDsl<DbConnection> + LoadQuery<'a, DbConnection, i64>,
{
    let total: i64 = query().count().get_result(conn)?;
    // A page past the end needs no second query.
    let items = if paging.offset() >= total {
        Vec::new()
    } else {
        let page = OffsetDsl::offset(
            LimitDsl::limit(order(query()), paging.per_page),
            paging.offset(),
        );
        page.load(conn)?
    };
    Ok(Listed { items, total })
}
