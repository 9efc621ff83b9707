//! ops tests.
use crate::common::*;
