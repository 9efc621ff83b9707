//! auth tests.
use crate::common::*;
