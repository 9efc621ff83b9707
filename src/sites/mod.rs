//! Sites (点位): the places inspectors check and problems are found at — a poster board on
//! the national road, 七里河节制闸, a market — each in a grid, with a responsible unit.

pub mod forms;
pub mod model;
pub mod routes;
pub mod rules;
