//! Error types.
//!
//! Foreign errors (hyper, rustls, io) are kept as boxed `source()`s so that a
//! dependency upgrade never changes this crate's public API; callers branch on
//! [`TransportErrorKind`] or the predicates instead. `Display` describes only
//! this layer: the underlying cause is reachable through `source()`.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A boxed, thread-safe error used as a `source()`.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a TLS handshake failed, as far as the caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The server's certificate chain does not lead to a trusted root.
    UntrustedCertificate,
    /// The certificate is trusted but unusable: expired, wrong host name, bad
    /// signature...
    InvalidCertificate,
    /// Any other handshake failure (protocol version, alert from the peer...).
    Handshake,
}

/// What went wrong with a request; see [`TransportError::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The request cannot be sent as built (relative URI, unsupported scheme).
    InvalidRequest,
    /// The host name could not be resolved.
    Dns,
    /// The server actively refused the TCP connection.
    ConnectionRefused,
    /// Establishing the TCP connection failed for another reason.
    Connect,
    /// Establishing the connection (TCP and TLS) took longer than
    /// `connect_timeout`.
    ConnectTimeout,
    /// The TLS handshake failed.
    Tls(TlsFailure),
    /// The whole request, including reading the response body, took longer
    /// than `request_timeout`.
    RequestTimeout,
    /// The connection failed while the request was written or the response
    /// head was read.
    Request,
    /// Reading the response body failed.
    Body,
    /// The response body is larger than `max_response_body_bytes`.
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: u64,
    },
}

/// A failed HTTP exchange.
///
/// Use [`kind`](Self::kind) or the predicates to decide what to do; the
/// message is meant for humans and logs.
pub struct TransportError {
    kind: TransportErrorKind,
    /// The timeout that expired, for the two timeout kinds.
    timeout: Option<Duration>,
    source: Option<BoxError>,
}

impl TransportError {
    pub(crate) fn new(kind: TransportErrorKind) -> Self {
        Self { kind, timeout: None, source: None }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn timeout(kind: TransportErrorKind, after: Duration) -> Self {
        Self { kind, timeout: Some(after), source: None }
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The connection could not be established at the TCP level: refused,
    /// unresolvable host, connect timeout or another socket error.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Dns
                | TransportErrorKind::ConnectionRefused
                | TransportErrorKind::Connect
                | TransportErrorKind::ConnectTimeout
        )
    }

    /// The server refused the connection (nothing listens on the port).
    pub fn is_connection_refused(&self) -> bool {
        self.kind == TransportErrorKind::ConnectionRefused
    }

    /// A timeout expired, either while connecting or during the request.
    pub fn is_timeout(&self) -> bool {
        self.is_connect_timeout() || self.is_request_timeout()
    }

    /// The connect timeout (TCP connect plus TLS handshake) expired.
    pub fn is_connect_timeout(&self) -> bool {
        self.kind == TransportErrorKind::ConnectTimeout
    }

    /// The request timeout (whole exchange including the body) expired.
    pub fn is_request_timeout(&self) -> bool {
        self.kind == TransportErrorKind::RequestTimeout
    }

    /// The TLS handshake failed, see [`tls_failure`](Self::tls_failure).
    pub fn is_tls(&self) -> bool {
        matches!(self.kind, TransportErrorKind::Tls(_))
    }

    /// Why the TLS handshake failed, if it did.
    pub fn tls_failure(&self) -> Option<TlsFailure> {
        match self.kind {
            TransportErrorKind::Tls(failure) => Some(failure),
            _ => None,
        }
    }

    /// The response body exceeded `max_response_body_bytes`.
    pub fn is_body_too_large(&self) -> bool {
        matches!(self.kind, TransportErrorKind::BodyTooLarge { .. })
    }

    /// Whether any byte of the request may have reached the server.
    ///
    /// `false` only when the failure provably happened before the request was
    /// written (DNS, connect, TLS handshake, invalid request): such a request
    /// can be sent again even if it is not idempotent.
    pub fn request_may_have_been_sent(&self) -> bool {
        kind_may_have_been_sent(self.kind)
    }
}

/// See [`TransportError::request_may_have_been_sent`].
pub(crate) fn kind_may_have_been_sent(kind: TransportErrorKind) -> bool {
    !matches!(
        kind,
        TransportErrorKind::InvalidRequest
            | TransportErrorKind::Dns
            | TransportErrorKind::ConnectionRefused
            | TransportErrorKind::Connect
            | TransportErrorKind::ConnectTimeout
            | TransportErrorKind::Tls(_)
    )
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.timeout) {
            (TransportErrorKind::InvalidRequest, _) => {
                f.write_str("invalid request: the URI needs an http or https scheme and a host")
            }
            (TransportErrorKind::Dns, _) => f.write_str("could not resolve host name"),
            (TransportErrorKind::ConnectionRefused, _) => f.write_str("connection refused"),
            (TransportErrorKind::Connect, _) => f.write_str("could not connect to server"),
            (TransportErrorKind::ConnectTimeout, Some(t)) => {
                write!(f, "connect timed out after {t:?}")
            }
            (TransportErrorKind::ConnectTimeout, None) => f.write_str("connect timed out"),
            (TransportErrorKind::Tls(TlsFailure::UntrustedCertificate), _) => {
                f.write_str("TLS handshake failed: server certificate is not trusted")
            }
            (TransportErrorKind::Tls(TlsFailure::InvalidCertificate), _) => {
                f.write_str("TLS handshake failed: server certificate is invalid")
            }
            (TransportErrorKind::Tls(TlsFailure::Handshake), _) => f.write_str("TLS handshake failed"),
            (TransportErrorKind::RequestTimeout, Some(t)) => {
                write!(f, "request timed out after {t:?}")
            }
            (TransportErrorKind::RequestTimeout, None) => f.write_str("request timed out"),
            (TransportErrorKind::Request, _) => f.write_str("connection failed while sending the request"),
            (TransportErrorKind::Body, _) => f.write_str("reading the response body failed"),
            (TransportErrorKind::BodyTooLarge { limit }, _) => {
                write!(f, "response body exceeds the limit of {limit} bytes")
            }
        }
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TransportError");
        d.field("kind", &self.kind);
        if let Some(t) = self.timeout {
            d.field("timeout", &t);
        }
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// Building an [`HttpClient`](crate::HttpClient) or its configuration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// `user_agent` is not a valid header value.
    #[error("invalid user agent")]
    InvalidUserAgent,
    /// PEM input contained no certificate.
    #[error("no certificate found in PEM input")]
    NoCertificate,
    /// A root certificate could not be parsed or was rejected.
    #[error("invalid root certificate")]
    InvalidRootCertificate(#[source] Box<dyn StdError + Send + Sync + 'static>),
    /// The TLS configuration could not be built.
    #[error("invalid TLS configuration")]
    Tls(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

/// Loading a server certificate and key failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A PEM file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The certificate PEM contained no certificate.
    #[error("no certificate found in PEM input")]
    NoCertificate,
    /// The certificate PEM could not be parsed.
    #[error("invalid certificate PEM")]
    InvalidCertificate(#[source] Box<dyn StdError + Send + Sync + 'static>),
    /// The key PEM contained no usable private key.
    #[error("no valid private key found in PEM input")]
    InvalidKey(#[source] Box<dyn StdError + Send + Sync + 'static>),
    /// The certificate and key were rejected (e.g. they do not match).
    #[error("certificate and key rejected")]
    Rejected(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

/// Starting or running a [`Server`](crate::Server) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listening socket could not be bound.
    #[error("cannot bind {addr}")]
    Bind {
        /// The address that was requested.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bound socket's address could not be read.
    #[error("cannot read the listening address")]
    LocalAddr(#[source] std::io::Error),
    /// The server task panicked or was cancelled.
    #[error("server task ended abnormally")]
    Task(#[source] Box<dyn StdError + Send + Sync + 'static>),
}
