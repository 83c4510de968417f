//! LaunchDarkly's Experiments API endpoints: a typed client, and a
//! compatible server that answers them the way LaunchDarkly does.
//!
//! - `client` (default feature): [`client`] calls LaunchDarkly or any
//!   compatible server.
//! - `server`: [`server`] routes, authenticates, rate-limits and answers the
//!   endpoints on an embedded durable store (SQLite).
#![forbid(unsafe_code)]

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "server")]
pub mod server;
