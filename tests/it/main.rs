//! End-to-end tests.

mod serve;
mod client;
mod cli;
