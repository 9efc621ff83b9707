//! pairings tests.
use crate::common::*;
