//! Data-driven fixture tests: every case is a file under
//! `crates/iteration-model/fixtures/`, and the expected outputs beside the
//! cases are generated (see `expect.rs`). `cargo xtask fixtures` runs the
//! tests of this module with `UPDATE_EXPECT=1`.

mod docs;
mod invalid;
pub(crate) mod resolve;
mod spec;
