//! Responsible units in a tree (district → town/street → village/community → grid;
//! departments under the district), grid boundaries, and point-to-grid lookup.
//! `forms` checks input, `rules` holds the tree's pure rules, `model` the rows and
//! queries, `routes` the handlers, `geometry` the GeoJSON boundaries.

pub mod forms;
pub mod geometry;
pub mod model;
pub mod routes;
pub mod rules;

pub use rules::UnitKind;
