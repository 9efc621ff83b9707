//! Who is calling and what they may do: passwords, tokens, the login throttle, the
//! request's [`Actor`], and the one [`policy`] every handler asks.

pub mod actor;
pub mod model;
pub mod password;
pub mod policy;
pub mod routes;
pub mod throttle;
pub mod token;

pub use actor::Actor;
pub use policy::{Action, Role};
