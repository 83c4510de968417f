//! The LaunchDarkly-compatible server.

pub mod store;
pub mod world;
