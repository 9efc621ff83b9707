//! Who is calling and what they may do: passwords, tokens, sessions, the login throttle,
//! the request's [`Caller`] and [`Actor`], scope, and the one [`policy`] every handler asks.

pub mod actor;
pub mod flows;
pub mod forms;
pub mod password;
pub mod policy;
pub mod routes;
pub mod scope;
pub mod sessions;
pub mod throttle;
pub mod token;

pub use actor::{Actor, Caller};
pub use policy::{Action, OwnerRole, Resource, Role};
