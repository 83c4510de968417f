//! End-to-end tests.

mod serve;
