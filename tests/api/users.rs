//! users tests.
use crate::common::*;
