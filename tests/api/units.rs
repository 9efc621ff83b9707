//! units tests.
use crate::common::*;
