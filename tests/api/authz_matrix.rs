//! authz matrix
