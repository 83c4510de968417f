//! Integration tests of the model, built as one binary: data-driven fixture
//! tests, property tests, and conformance to the spec's schemas.

mod expect;
mod fixtures;
mod proptests;
mod schema;
mod strategies;
