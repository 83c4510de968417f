//! End-to-end tests.

mod catalog;
mod cli;
mod cli_admin;
mod cli_catalog;
mod cli_layers;
mod cli_ux;
mod client;
mod man;
mod proxy;
mod readme;
mod serve;
mod server_concurrency;
mod server_http;
