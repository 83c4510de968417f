//! The server embedded in a test, in one call: [`TestServer::start`] serves
//! the demo world from memory on `127.0.0.1` (a free port), hands out a
//! ready client, and stops when dropped. Needs the `server` feature, which
//! does not compile SQLite; [`TestServer::client`] needs `client` too.
//!
//! [`TestServer::admin`] drives the server's administration API in
//! process: put the state back to the seed world between tests, read or
//! replace the whole state, read the requests the server answered, and
//! make requests fail on purpose.
//!
//! ```
//! # #[cfg(all(feature = "client", feature = "server"))]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use iteration_api::client::Expand;
//! use iteration_api::server::FaultRule;
//! use iteration_api::testing::TestServer;
//!
//! let server = TestServer::start().await?;
//! let client = server.client()?;
//! let experiment =
//!     client.get_experiment("my-project", "production", "example-experiment", Expand::NONE).await?;
//! assert_eq!(experiment.name, "Example experiment");
//!
//! // The next read answers 503 (with Retry-After: 1), as an outage would;
//! // the client waits and retries, and gets through.
//! server.admin().set_faults(vec![FaultRule::status(503).operation("getExperiment").times(1)])?;
//! client.get_experiment("my-project", "production", "example-experiment", Expand::NONE).await?;
//!
//! // What the server answered, newest first, with the token's name (never its secret).
//! let requests = server.admin().requests();
//! let statuses: Vec<u16> = requests.iter().take(2).map(|r| r.status).collect();
//! assert_eq!(statuses, [200, 503]);
//! assert_eq!(requests[0].token.as_deref(), Some("Demo writer"));
//!
//! // Back to the demo world, as a fresh server would start.
//! server.admin().reset().await?;
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "client", feature = "server")))]
//! # fn main() {}
//! ```

use std::sync::Arc;

use crate::server::store::{MemoryStore, StoreError};
use crate::server::world::{Role, World};
use crate::server::{App, AppConfig, FaultRule, RateLimits, RecordedRequest, seed_store};
use iteration_transport::{Server, ServerConfig, ServerHandle};

/// Why a [`TestServer`] could not start, or an admin call failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum TestServerError {
    /// The store refused the world or failed.
    #[error("the store failed")]
    Store(#[from] StoreError),
    /// The server could not listen.
    #[error("the server could not listen on 127.0.0.1")]
    Listen(#[source] iteration_transport::ServeError),
    /// The world has no token of the role a helper needs.
    #[error("the world has no token of role {0}")]
    NoToken(&'static str),
    /// Fault rules that break the rules of `PUT /_iteration/faults`; each
    /// problem with its JSON Pointer into the list.
    #[error("invalid fault rules: {}", .0.join("; "))]
    InvalidFaults(Vec<String>),
}

/// A server on `127.0.0.1` serving from memory, stopped when dropped.
///
/// Rate limits are off, so that a test's own pace never gets a 429.
#[derive(Debug)]
pub struct TestServer {
    app: App,
    base_url: String,
    // Dropping the handle stops the server.
    _handle: ServerHandle,
}

impl TestServer {
    /// Serves the demo world (`docs/demo-world.md`).
    pub async fn start() -> Result<TestServer, TestServerError> {
        TestServer::with_world(World::demo()).await
    }

    /// Serves `world`.
    pub async fn with_world(world: World) -> Result<TestServer, TestServerError> {
        let world = Arc::new(world);
        let store = Arc::new(MemoryStore::new());
        seed_store(store.as_ref(), &world).await?;
        let app = App::new(store, world, AppConfig::default().with_rate_limits(RateLimits::OFF));
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let server = Server::bind(address, ServerConfig::default()).await.map_err(TestServerError::Listen)?;
        let base_url = format!("http://{}", server.local_addr());
        let handle = server.spawn(app.clone());
        Ok(TestServer { app, base_url, _handle: handle })
    }

    /// `http://127.0.0.1:PORT`, the base URL to give a client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The app itself, to call without a socket ([`App::handle`]).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The secret of the world's first token of `role`.
    pub fn token(&self, role: Role) -> Option<String> {
        self.app.inner().world().tokens().iter().find(|t| t.role == role).map(|t| t.token.clone())
    }

    /// A client of this server with the world's first writer token (the
    /// demo world's `api-demo-writer`).
    #[cfg(feature = "client")]
    pub fn client(&self) -> Result<crate::client::Client, crate::client::Error> {
        let token = self.token(Role::Writer).or_else(|| self.token(Role::Admin)).unwrap_or_default();
        crate::client::Client::builder()
            .base_url(crate::client::BaseUrl::Custom(self.base_url.clone()))
            .token(token)
            .build()
    }

    /// The administration API, called in process (no token needed).
    pub fn admin(&self) -> Admin<'_> {
        Admin { app: &self.app }
    }
}

/// The administration API of a [`TestServer`]: what `/_iteration/...` does,
/// without going through HTTP.
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    app: &'a App,
}

impl Admin<'_> {
    /// Puts the state back to the world the server started with, as
    /// `POST /_iteration/reset` does.
    pub async fn reset(&self) -> Result<(), TestServerError> {
        let inner = self.app.inner();
        crate::server::admin::replace(inner, inner.seed()).await.map_err(|_| unavailable())
    }

    /// The whole state as a world, as `GET /_iteration/state` gives it.
    pub async fn state(&self) -> Result<World, TestServerError> {
        Ok(crate::server::admin::export(self.app.inner()).await?)
    }

    /// Replaces the whole state, as `PUT /_iteration/state` does.
    pub async fn set_state(&self, world: World) -> Result<(), TestServerError> {
        crate::server::admin::replace(self.app.inner(), Arc::new(world)).await.map_err(|_| unavailable())
    }

    /// The requests answered so far (up to the last 1000), newest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.inner().journal.read(&Default::default())
    }

    /// Forgets the requests answered so far.
    pub fn clear_requests(&self) {
        self.app.inner().journal.clear();
    }

    /// Makes matching requests fail, as `PUT /_iteration/faults` does; the
    /// rules replace any earlier ones.
    pub fn set_faults(&self, rules: Vec<FaultRule>) -> Result<(), TestServerError> {
        let value = serde_json::to_value(&rules)
            .map_err(|err| TestServerError::InvalidFaults(vec![err.to_string()]))?;
        let rules = crate::server::faults::read_rules(&value).map_err(|problems| {
            TestServerError::InvalidFaults(
                problems.into_iter().map(|p| format!("{}: {}", p.path, p.message)).collect(),
            )
        })?;
        self.app.inner().faults.set(rules);
        Ok(())
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.app.inner().faults.set(Vec::new());
    }
}

fn unavailable() -> TestServerError {
    TestServerError::Store(StoreError::Unavailable("the store refused the replacement".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_serves_resets_and_stops_on_drop() {
        let server = TestServer::start().await.expect("starts");
        let address = server.base_url().trim_start_matches("http://").to_owned();
        let fresh = server.admin().state().await.expect("state");
        let mut changed = fresh.clone();
        changed = changed.with_state(Vec::new(), Vec::new());
        server.admin().set_state(changed).await.expect("replaced");
        assert_ne!(server.admin().state().await.expect("state"), fresh);
        server.admin().reset().await.expect("reset");
        assert_eq!(server.admin().state().await.expect("state"), fresh);
        assert_eq!(server.token(Role::Admin).as_deref(), Some("api-demo-admin"));
        let invalid = server.admin().set_faults(vec![FaultRule::status(200)]);
        assert!(
            matches!(&invalid, Err(TestServerError::InvalidFaults(p)) if p == &["/0/status: 200 is not an error status; use 400 to 599"]),
            "{invalid:?}"
        );
        drop(server);
        // Stopping is asynchronous; the listener is closed soon after.
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(&address).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the server still accepts connections after being dropped");
    }
}
