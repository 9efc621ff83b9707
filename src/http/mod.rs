//! HTTP plumbing shared by every domain module: extractors that report errors as problem
//! details, the list envelope, the request middleware, and the fallback for unknown routes.

pub mod extract;
pub mod fallback;
pub mod middleware;
pub mod pagination;

pub use extract::{Json, PathId, Query};
pub use pagination::{Page, PageParams};
