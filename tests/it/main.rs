//! End-to-end tests.

mod catalog;
mod cli;
mod client;
mod readme;
mod serve;
mod server_concurrency;
mod server_http;
