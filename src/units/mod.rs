//! Responsible units in a tree (district → town/street → village/community → grid;
//! departments under the district), grid boundaries, and point-to-grid lookup.

pub mod geometry;
pub mod model;
pub mod routes;
