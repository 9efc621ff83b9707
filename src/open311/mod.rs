//! Open311 GeoReport v2 (`/open311/v2`): outside apps — a citizen's phone app, a city
//! portal — read the categories of problem as *services* and the rectification items as
//! *service requests*, and post reports with an API key an admin issued
//! (`/api/v1/open311/keys`). A posted report is filed through the same
//! `rectifications::model::create` as any other (routed by grid and category), with
//! source `public`. See `docs/open311.md`.

pub mod error;
pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
pub mod xml;
