//! LaunchDarkly's Experiments API endpoints: a typed client, and a
//! compatible server that answers them the way LaunchDarkly does.
//!
//! - `client` (default feature): [`client`] calls LaunchDarkly or any
//!   compatible server.
//! - `server`: [`server`] routes, authenticates, rate-limits and answers the
//!   endpoints from a store in memory; [`testing`] embeds it in a test in
//!   one call.
//! - `sqlite` (adds `server`): the durable store on SQLite,
//!   `server::store::SqliteStore`.
//!
//! [`admin`] holds the types of the server's administration API, which
//! both sides use.
//!
//! # Calling the API
//!
//! ```no_run
//! # #[cfg(feature = "client")]
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use iteration_api::client::{Client, ConflictKind, Error, Expand};
//! use iteration_model::IterationInput;
//!
//! // The token comes from LD_API_KEY (or LD_ACCESS_TOKEN) unless given.
//! let client = Client::builder().build()?;
//! let body = serde_json::from_str(&std::fs::read_to_string("iteration.json")?)?;
//! let input = IterationInput::from_json(&body)?;
//! match client.create_iteration("my-project", "production", "example-experiment", &input).await {
//!     Ok(iteration) => println!("draft {:?} created", iteration.id),
//!     // Checked before sending: every problem, with its JSON Pointer.
//!     Err(Error::Validation(violations)) => eprintln!("{violations}"),
//!     // The flag changed since flagConfigVersion was read: re-read it and retry.
//!     Err(Error::Conflict { kind: ConflictKind::OptimisticLock, details }) => eprintln!("{details}"),
//!     Err(other) => return Err(other.into()),
//! }
//! let experiment =
//!     client.get_experiment("my-project", "production", "example-experiment", Expand::DRAFT_ITERATION).await?;
//! println!("{}", experiment.name);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

#[cfg(any(feature = "client", feature = "server"))]
pub mod admin;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod testing;

/// The Rust examples of this crate's README.md (the project's README.md
/// shows the same ones), run as doc tests so that they stay true. They use
/// the client and the server together.
#[cfg(all(doctest, feature = "client", feature = "server"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
