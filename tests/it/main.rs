//! End-to-end tests.

mod cli;
mod client;
mod serve;
