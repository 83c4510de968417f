//! The HTTP client: hyper-util's pooled client over our [`Connector`], with a
//! whole-request timeout, a response size limit and an optional retry loop.

use std::error::Error as StdError;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use http::{Request, Response};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls_pki_types::CertificateDer;
use tracing::Instrument;
use tracing::field::Empty;

use crate::connector::{ConnectFailure, Connector};
use crate::error::{BuildError, TransportError, TransportErrorKind};
use crate::proxy::ProxyConfig;
use crate::retry::{Attempt, Outcome, RandomJitter, RetryDecision, RetryPolicy};

/// Client settings. Start from [`ClientConfig::default`] and change fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Limit for opening a connection: DNS, TCP connect and TLS handshake.
    /// Default 10 s.
    pub connect_timeout: Duration,
    /// Limit for a whole attempt, from sending to the last body byte
    /// (connecting included). Default 30 s.
    pub request_timeout: Duration,
    /// Largest accepted response body. Default 16 MiB.
    pub max_response_body_bytes: usize,
    /// `User-Agent` sent when a request has none.
    /// Default `iteration-transport/<version>`.
    pub user_agent: String,
    /// Certificate authorities trusted in addition to the bundled public web
    /// roots and the system's roots.
    pub extra_root_certificates: Vec<CertificateDer<'static>>,
    /// Also trust the operating system's roots (as found by the
    /// `rustls-native-certs` crate, which on its own honours `SSL_CERT_FILE`
    /// and `SSL_CERT_DIR` in place of the platform store). A store that
    /// cannot be read is logged and skipped. Default true.
    pub system_roots: bool,
    /// Proxies to go through. Default: none; see [`ClientConfig::from_env`].
    pub proxy: ProxyConfig,
    /// How long an unused pooled connection is kept. Default 30 s.
    pub pool_idle_timeout: Duration,
    /// Most idle connections kept per host. Default 32.
    pub pool_max_idle_per_host: usize,
    /// Speak only HTTP/2: prior knowledge (h2c) over plain TCP, ALPN `h2`
    /// only over TLS. Default false (HTTP/1.1, or HTTP/2 when ALPN picks it).
    pub http2_only: bool,
    /// Policy of [`HttpClient::send_with_retry`].
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_response_body_bytes: 16 * 1024 * 1024,
            user_agent: concat!("iteration-transport/", env!("CARGO_PKG_VERSION")).to_owned(),
            extra_root_certificates: Vec::new(),
            system_roots: true,
            proxy: ProxyConfig::default(),
            pool_idle_timeout: Duration::from_secs(30),
            pool_max_idle_per_host: 32,
            http2_only: false,
            retry: RetryPolicy::default(),
        }
    }
}

/// The environment variable naming a PEM file of extra trusted CAs, read by
/// [`ClientConfig::from_env`].
pub const SSL_CERT_FILE_ENV_VAR: &str = "SSL_CERT_FILE";

impl ClientConfig {
    /// The defaults plus what the process environment asks for: proxies
    /// ([`ProxyConfig::from_env`]) and the CAs of the PEM file named by
    /// `SSL_CERT_FILE`, if set. Nothing else reads the environment.
    pub fn from_env() -> Result<Self, BuildError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `var`.
    pub fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Result<Self, BuildError> {
        let mut config = Self { proxy: ProxyConfig::from_env_with(&var)?, ..Self::default() };
        if let Some(path) = var(SSL_CERT_FILE_ENV_VAR).filter(|p| !p.trim().is_empty()) {
            config.add_root_certificate_file(path)?;
        }
        Ok(config)
    }

    /// Trusts every certificate of a PEM document as an extra root CA.
    pub fn add_root_certificate_pem(&mut self, pem: &[u8]) -> Result<&mut Self, BuildError> {
        let certs = crate::tls::parse_pem_certificates(pem)?;
        self.extra_root_certificates.extend(certs);
        Ok(self)
    }

    /// Trusts every certificate of a PEM file as an extra root CA.
    pub fn add_root_certificate_file(&mut self, path: impl AsRef<Path>) -> Result<&mut Self, BuildError> {
        let certs = crate::tls::read_pem_file(path.as_ref())?;
        self.extra_root_certificates.extend(certs);
        Ok(self)
    }
}

/// A pooled HTTP/1.1 + HTTP/2 client, plain or over TLS.
///
/// Cloning is cheap and clones share the connection pool.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Client<Connector, Full<Bytes>>,
    /// Shared with the connector, which picks the route; the client only
    /// adds credentials for plain-HTTP proxies.
    proxy: Arc<ProxyConfig>,
    user_agent: HeaderValue,
    request_timeout: Duration,
    max_response_body_bytes: usize,
    retry: RetryPolicy,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("request_timeout", &self.inner.request_timeout)
            .field("max_response_body_bytes", &self.inner.max_response_body_bytes)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client. Needs no runtime; sending does (Tokio).
    pub fn new(config: ClientConfig) -> Result<Self, BuildError> {
        let user_agent =
            HeaderValue::try_from(config.user_agent).map_err(|_| BuildError::InvalidUserAgent)?;
        let tls = crate::tls::client_config(
            &config.extra_root_certificates,
            config.system_roots,
            config.http2_only,
        )?;
        let proxy = Arc::new(config.proxy);
        let connector = Connector {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
            connect_timeout: config.connect_timeout,
            proxy: proxy.clone(),
        };
        let pool = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .http2_only(config.http2_only)
            .build(connector);
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                proxy,
                user_agent,
                request_timeout: config.request_timeout,
                max_response_body_bytes: config.max_response_body_bytes,
                retry: config.retry,
            }),
        })
    }

    /// Sends `request` once and reads the whole response body.
    ///
    /// The URI must be absolute (`http` or `https`). Sets `User-Agent` when
    /// absent. Any status is a successful exchange; only transport failures,
    /// timeouts and oversized bodies are errors.
    pub async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let span = request_span(&request);
        let started = Instant::now();
        let result = self.attempt(request).instrument(span.clone()).await;
        finish_span(&span, &result, 1, started);
        result
    }

    /// Sends `request`, retrying by the configured [`RetryPolicy`].
    ///
    /// Returns the last response (possibly a 429 or 5xx when retries ran out)
    /// or the last error.
    pub async fn send_with_retry(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        self.send_with_policy(request, &self.inner.retry).await
    }

    /// Like [`send_with_retry`](Self::send_with_retry) with another policy.
    pub async fn send_with_policy(
        &self,
        request: Request<Bytes>,
        policy: &RetryPolicy,
    ) -> Result<Response<Bytes>, TransportError> {
        let span = request_span(&request);
        let started = Instant::now();
        // The body is `Bytes`, so each attempt gets a cheap copy of the
        // request; headers are cloned, the body only reference-counted.
        let (parts, body) = request.into_parts();
        let mut number = 1;
        loop {
            let result = self.attempt(rebuild(&parts, &body)).instrument(span.clone()).await;
            let attempt = Attempt::new(&parts.method, Outcome::of(&result), number, started.elapsed());
            match policy.decide(&attempt, SystemTime::now(), &mut RandomJitter) {
                RetryDecision::GiveUp => {
                    finish_span(&span, &result, number, started);
                    return result;
                }
                RetryDecision::Retry { after } => {
                    let status = result.as_ref().ok().map(|r| r.status().as_u16());
                    let error = result.as_ref().err().map(tracing::field::display);
                    tracing::debug!(
                        parent: &span,
                        attempt = number,
                        status,
                        error,
                        wait_ms = millis(after),
                        "retrying request"
                    );
                    // Told last thing before the sleep, so that what it
                    // prints is followed by the wait it announces.
                    policy.notify(&attempt, after);
                    drop(result);
                    tokio::time::sleep(after).await;
                    number += 1;
                }
            }
        }
    }

    /// One attempt under the request timeout.
    async fn attempt(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let uri = request.uri();
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(TransportError::new(TransportErrorKind::InvalidRequest));
        }
        if !request.headers().contains_key(USER_AGENT) {
            request.headers_mut().insert(USER_AGENT, self.inner.user_agent.clone());
        }
        // An `http` request through a proxy is read by the proxy itself,
        // which wants its credentials on the request; an `https` one carries
        // them on the `CONNECT` instead, never to the server.
        if let Some(value) = self.plain_proxy_authorization(request.uri()) {
            request.headers_mut().insert(PROXY_AUTHORIZATION, value.clone());
        }
        let limit = self.inner.request_timeout;
        match tokio::time::timeout(limit, self.exchange(request)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(TransportError::timeout(TransportErrorKind::RequestTimeout, limit)),
        }
    }

    /// The `Proxy-Authorization` an `http` request to `uri` needs, if it
    /// goes through a proxy with credentials.
    fn plain_proxy_authorization(&self, uri: &http::Uri) -> Option<&HeaderValue> {
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(80);
        self.inner.proxy.proxy_for(false, host, port)?.authorization()
    }

    async fn exchange(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let response = self.inner.pool.request(request.map(Full::new)).await.map_err(classify_pool_error)?;
        let (parts, body) = response.into_parts();
        let max = self.inner.max_response_body_bytes;
        let too_large = || {
            TransportError::new(TransportErrorKind::BodyTooLarge {
                limit: u64::try_from(max).unwrap_or(u64::MAX),
            })
        };
        // Refuse early when the server announces too much: no point reading
        // megabytes only to throw them away. Dropping the body closes the
        // connection instead of draining it.
        let announced = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|len| len > u64::try_from(max).unwrap_or(u64::MAX)) {
            return Err(too_large());
        }
        let body = match Limited::new(body, max).collect().await {
            // A single-frame body is handed over without copying.
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
            Err(e) => return Err(TransportError::new(TransportErrorKind::Body).with_source(e)),
        };
        Ok(Response::from_parts(parts, body))
    }
}

/// Maps hyper-util's error to ours. Connect failures carry our own
/// [`ConnectFailure`] somewhere in the source chain; everything else happened
/// on an established connection, so the request may have been sent.
fn classify_pool_error(err: hyper_util::client::legacy::Error) -> TransportError {
    if err.is_connect() {
        let mut cause: Option<&(dyn StdError + 'static)> = err.source();
        while let Some(e) = cause {
            if let Some(failure) = e.downcast_ref::<ConnectFailure>() {
                return failure.clone().into_transport_error();
            }
            cause = e.source();
        }
        return TransportError::new(TransportErrorKind::Connect).with_source(err);
    }
    TransportError::new(TransportErrorKind::Request).with_source(err)
}

/// A copy of the request for one more attempt.
fn rebuild(parts: &http::request::Parts, body: &Bytes) -> Request<Bytes> {
    let mut request = Request::new(body.clone());
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    *request.extensions_mut() = parts.extensions.clone();
    request
}

/// One span per logical request. Only method, host and path are recorded:
/// never headers (credentials) nor the query string.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "http_request",
        method = %request.method(),
        host = request.uri().host().unwrap_or(""),
        path = request.uri().path(),
        status = Empty,
        attempt = Empty,
        elapsed_ms = Empty,
    )
}

fn finish_span(
    span: &tracing::Span,
    result: &Result<Response<Bytes>, TransportError>,
    attempt: u32,
    started: Instant,
) {
    if span.is_disabled() {
        return;
    }
    span.record("attempt", attempt);
    span.record("elapsed_ms", millis(started.elapsed()));
    match result {
        Ok(response) => {
            span.record("status", response.status().as_u16());
        }
        Err(error) => tracing::debug!(parent: span, %error, "request failed"),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
