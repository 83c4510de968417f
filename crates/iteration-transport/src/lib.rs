//! A small HTTP client and server on hyper 1, hyper-util, tokio and rustls.
//!
//! The crate knows nothing about the application on top: it moves
//! `http::Request<Bytes>` and `http::Response<Bytes>` with explicit timeouts,
//! size limits, retries and graceful shutdown.
//!
//! # Client
//!
//! - [`ClientConfig`]: timeouts, response size limit, `User-Agent`, trusted
//!   roots (bundled, system, extra CAs), [`ProxyConfig`], pool settings,
//!   HTTP/2 prior knowledge, [`RetryPolicy`]. [`ClientConfig::from_env`]
//!   reads proxies and `SSL_CERT_FILE`; nothing else looks at the
//!   environment.
//! - [`HttpClient::new`] builds a pooled client (cheap to clone);
//!   [`HttpClient::send`] makes one attempt and reads the whole body;
//!   [`HttpClient::send_with_retry`] / [`HttpClient::send_with_policy`]
//!   retry by a [`RetryPolicy`].
//! - Failures are [`TransportError`]s: match on [`TransportErrorKind`] or use
//!   the predicates (`is_connect`, `is_timeout`, `is_tls`, `is_proxy`,
//!   `request_may_have_been_sent`...).
//!
//! # Proxies and trust
//!
//! - [`ProxyConfig`]: an `http://` proxy for `https` targets (a `CONNECT`
//!   tunnel, TLS to the target inside) and one for `http` targets (absolute
//!   form), credentials from the proxy URL, and a [`NoProxy`] list.
//!   [`ProxyConfig::from_env`] reads `HTTPS_PROXY`, `HTTP_PROXY` and
//!   `NO_PROXY` when the application asks; a default config uses no proxy.
//! - Servers are trusted through the bundled public web roots, the system's
//!   roots (`system_roots`) and extra CAs from PEM bytes or files;
//!   [`ClientConfig::from_env`] adds the file named by `SSL_CERT_FILE`.
//! - Connect-time errors name the host and port (or the proxy) they tried;
//!   [`TransportError::is_proxy`] and [`TransportError::proxy_status`] tell
//!   proxy trouble apart.
//!
//! # Retries
//!
//! [`RetryPolicy::decide`] is a pure function of an [`Attempt`], the wall
//! clock and a [`Jitter`] source; [`parse_retry_after`] and
//! [`parse_ratelimit_reset`] read the server's hints. An observer
//! ([`RetryPolicy::with_observer`]) hears a [`RetryNotice`] before each
//! wait, to tell a person why nothing seems to happen.
//!
//! # Server
//!
//! - [`Server::bind`] then [`Server::serve`] (until a shutdown future
//!   resolves) or [`Server::spawn`] (returns a [`ServerHandle`]).
//! - HTTP/1.1 and HTTP/2 on one port, plain or TLS ([`TlsConfig`]).
//! - A [`Handler`] receives requests with their body already read; build one
//!   from a closure with [`handler_fn`]. [`Rejection`]s (body too large...)
//!   go to [`Handler::reject`]. Each request carries its [`RemoteAddr`].
//!
//! # Example
//!
//! ```no_run
//! use bytes::Bytes;
//! use iteration_transport::{
//!     handler_fn, ClientConfig, HttpClient, Server, ServerConfig,
//! };
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::bind("127.0.0.1:0".parse()?, ServerConfig::default()).await?;
//! let handle = server.spawn(handler_fn(|request: http::Request<Bytes>| async move {
//!     http::Response::new(request.into_body())
//! }));
//!
//! let client = HttpClient::new(ClientConfig::default())?;
//! let request = http::Request::post(format!("http://{}/echo", handle.local_addr()))
//!     .body(Bytes::from_static(b"hello"))?;
//! let response = client.send_with_retry(request).await?;
//! assert_eq!(response.body().as_ref(), b"hello");
//!
//! handle.shutdown().await?;
//! # Ok(())
//! # }
//! ```

mod client;
mod connector;
mod error;
mod handler;
mod parse_errors;
mod proxy;
mod retry;
mod server;
mod tls;

pub use client::{ClientConfig, HttpClient, SSL_CERT_FILE_ENV_VAR};
pub use error::{BuildError, ServeError, TlsConfigError, TlsFailure, TransportError, TransportErrorKind};
pub use handler::{Handler, HandlerFn, Rejection, RemoteAddr, handler_fn};
pub use proxy::{NoProxy, PROXY_ENV_VARS, Proxy, ProxyConfig};
pub use retry::{
    Attempt, Jitter, Outcome, RandomJitter, RetryClassifier, RetryDecision, RetryNotice, RetryObserver,
    RetryPolicy, parse_ratelimit_reset, parse_retry_after,
};
pub use server::{Server, ServerConfig, ServerHandle};
pub use tls::TlsConfig;
