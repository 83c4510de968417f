//! The transport's integration tests, built as one test binary: on two
//! cores, link time per test binary adds up.

mod client_server;
mod common;
mod head_limits;
mod proxy;
mod retry_policy;
