//! One way to load a page of a list: the page in the requested order and, on each row, how
//! many rows the filters match — one query. Every list goes through [`paginate`]; the HTTP
//! envelope (`{items, page, per_page, total}`) is built from its result in `http::pagination`.

use diesel::dsl::{self, CountStar};
use diesel::query_dsl::methods::{LimitDsl, OffsetDsl, SelectDsl};
use diesel::query_dsl::LoadQuery;
use diesel::{QueryDsl, RunQueryDsl, WindowExpressionMethods};

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
    /// Nothing matches (a filter naming a record that does not exist).
    pub fn empty() -> Self {
        Listed {
            items: Vec::new(),
            total: 0,
        }
    }

    /// The page's rows turned into their views all at once (views look up names for a
    /// whole page in one query), the total kept.
    pub fn try_map_all<U, E>(
        self,
        f: impl FnOnce(Vec<T>) -> Result<Vec<U>, E>,
    ) -> Result<Listed<U>, E> {
        Ok(Listed {
            items: f(self.items)?,
            total: self.total,
        })
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        Listed {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
        }
    }
}

/// The type of [`total`].
pub type Total = dsl::Over<CountStar>;

/// The count of every row the filters match, on each row of a page: a window count, so one
/// query answers both the page and the total. Select it beside the row for [`paginate`].
pub fn total() -> Total {
    dsl::count_star().over()
}

/// Loads `paging`'s page of what `query` matches, sorted by `order`, with the number of
/// matches across all pages. `query` selects `(row, total())` with the filters applied;
/// it is called again only for a page past the end, to count. `order` adds the sort, which
/// must be total (end with a unique column) so that pages neither repeat nor skip rows.
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
        + LoadQuery<'a, DbConnection, (R, i64)>,
    <Q as SelectDsl<CountStar>>::Output:
        RunQueryDsl<DbConnection> + LoadQuery<'a, DbConnection, i64>,
{
    let page = OffsetDsl::offset(
        LimitDsl::limit(order(query()), paging.per_page),
        paging.offset(),
    );
    let rows: Vec<(R, i64)> = page.load(conn)?;
    let total = match rows.first() {
        Some((_, total)) => *total,
        // Nothing on the first page: nothing at all. Past the end: count what there is.
        None if paging.offset() == 0 => 0,
        None => query().count().get_result(conn)?,
    };
    Ok(Listed {
        items: rows.into_iter().map(|(row, _)| row).collect(),
        total,
    })
}
