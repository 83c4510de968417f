//! The LaunchDarkly-compatible server.
//!
//! [`App`] answers the Experiments endpoints from a [`store::Store`] in a
//! [`world::World`]; it is the transport's [`Handler`](iteration_transport::Handler)
//! and can be called without a socket through [`App::handle`].

pub mod store;
pub mod world;

pub(crate) mod admin;
mod app;
mod clock;
mod cors;
pub(crate) mod faults;
mod fixed_body;
mod handlers;
mod ids;
mod journal;
mod openapi;
mod rate_limit;
mod record;
mod response;
mod route;
mod seed;
mod state;

pub use crate::admin::{FaultRule, RecordedRequest, RequestFilter};
pub use app::{App, AppConfig, SUPPORTED_API_VERSIONS};
pub use clock::{Clock, ManualClock, SystemClock};
pub use rate_limit::{RateLimits, WINDOW_MILLIS};
pub use seed::seed_store;

#[cfg(test)]
mod tests;
