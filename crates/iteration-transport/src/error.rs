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
    /// The proxy refused to open a tunnel: it answered `CONNECT` with this
    /// non-2xx status (407: it wants credentials, or other ones).
    ProxyRejected {
        /// The proxy's status code.
        status: u16,
    },
    /// The proxy's answer to `CONNECT` was not a usable HTTP response.
    ProxyProtocol,
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
    /// Where the connection was being opened, for connect-time failures.
    peer: Option<Peer>,
    source: Option<BoxError>,
}

/// The host and port a connection was opened to, and whether that was a
/// proxy or the server itself; named in connect-time error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Set when the peer is a proxy: the `host:port` it was to tunnel to.
    pub(crate) proxy_for: Option<String>,
}

impl Peer {
    pub(crate) fn server(host: &str, port: u16) -> Self {
        Self { host: host.to_owned(), port, proxy_for: None }
    }

    pub(crate) fn proxy(host: &str, port: u16, target: String) -> Self {
        Self { host: host.to_owned(), port, proxy_for: Some(target) }
    }

    /// `127.0.0.1:9`, `[::1]:443`, or `proxy 127.0.0.1:3128`.
    fn named(&self) -> String {
        let authority = crate::proxy::authority(&self.host, self.port);
        if self.proxy_for.is_some() { format!("proxy {authority}") } else { authority }
    }

    /// `` `example.com` `` or `` proxy host `proxy.corp` ``.
    fn named_host(&self) -> String {
        if self.proxy_for.is_some() {
            format!("proxy host `{}`", self.host)
        } else {
            format!("host `{}`", self.host)
        }
    }
}

impl TransportError {
    pub(crate) fn new(kind: TransportErrorKind) -> Self {
        Self { kind, timeout: None, peer: None, source: None }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn with_peer(mut self, peer: Option<Peer>) -> Self {
        self.peer = peer;
        self
    }

    pub(crate) fn timeout(kind: TransportErrorKind, after: Duration) -> Self {
        Self { kind, timeout: Some(after), peer: None, source: None }
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The host a failed connection was opened to (the proxy's when the
    /// proxy could not be reached), for connect-time failures.
    pub fn host(&self) -> Option<&str> {
        self.peer.as_ref().map(|peer| peer.host.as_str())
    }

    /// The port a failed connection was opened to, with [`host`](Self::host).
    pub fn port(&self) -> Option<u16> {
        self.peer.as_ref().map(|peer| peer.port)
    }

    /// The failure concerns the proxy: it could not be reached, or it refused
    /// or botched the tunnel.
    pub fn is_proxy(&self) -> bool {
        matches!(self.kind, TransportErrorKind::ProxyRejected { .. } | TransportErrorKind::ProxyProtocol)
            || self.peer.as_ref().is_some_and(|peer| peer.proxy_for.is_some())
    }

    /// The status the proxy answered `CONNECT` with, when it refused.
    pub fn proxy_status(&self) -> Option<u16> {
        match self.kind {
            TransportErrorKind::ProxyRejected { status } => Some(status),
            _ => None,
        }
    }

    /// The connection could not be established at the TCP level: refused,
    /// unresolvable host, connect timeout, another socket error, or a proxy
    /// that would not open the tunnel.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Dns
                | TransportErrorKind::ConnectionRefused
                | TransportErrorKind::Connect
                | TransportErrorKind::ConnectTimeout
                | TransportErrorKind::ProxyRejected { .. }
                | TransportErrorKind::ProxyProtocol
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
            | TransportErrorKind::ProxyRejected { .. }
            | TransportErrorKind::ProxyProtocol
    )
}

/// What to do about a certificate that no trusted root vouches for.
const UNTRUSTED_HINT: &str =
    "if it comes from a private CA, trust that CA with --ca-cert PATH or SSL_CERT_FILE";

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TransportErrorKind as K;
        let peer = self.peer.as_ref();
        // "could not connect to 127.0.0.1:9", or without a peer (which only
        // errors built outside the connector lack) "could not connect".
        let to = |f: &mut fmt::Formatter<'_>| match peer {
            Some(peer) => write!(f, " to {}", peer.named()),
            None => Ok(()),
        };
        let with = |f: &mut fmt::Formatter<'_>| match peer {
            Some(peer) => write!(f, " with {}", peer.named()),
            None => Ok(()),
        };
        match (self.kind, self.timeout) {
            (K::InvalidRequest, _) => {
                f.write_str("invalid request: the URI needs an http or https scheme and a host")
            }
            (K::Dns, _) => match peer {
                Some(peer) => write!(f, "could not resolve {}", peer.named_host()),
                None => f.write_str("could not resolve host name"),
            },
            (K::ConnectionRefused, _) => {
                f.write_str("could not connect")?;
                to(f)?;
                f.write_str(": connection refused")
            }
            (K::Connect, _) => {
                f.write_str("could not connect")?;
                to(f)
            }
            (K::ConnectTimeout, timeout) => {
                f.write_str("connecting")?;
                to(f)?;
                match timeout {
                    Some(t) => write!(f, " timed out after {t:?}"),
                    None => f.write_str(" timed out"),
                }
            }
            (K::Tls(failure), _) => {
                f.write_str("TLS handshake")?;
                with(f)?;
                match failure {
                    TlsFailure::UntrustedCertificate => {
                        write!(f, " failed: the server's certificate is not trusted ({UNTRUSTED_HINT})")
                    }
                    TlsFailure::InvalidCertificate => {
                        f.write_str(" failed: the server's certificate is invalid")
                    }
                    TlsFailure::Handshake => f.write_str(" failed"),
                }
            }
            (K::ProxyRejected { status }, _) => {
                let (proxy, target) = match peer {
                    Some(peer @ Peer { proxy_for: Some(target), .. }) => (peer.named(), target.as_str()),
                    _ => ("the proxy".to_owned(), "the server"),
                };
                write!(f, "{proxy} refused to open a tunnel to {target} with status {status}")?;
                if status == 407 {
                    f.write_str(": proxy authentication required (give the credentials in the proxy URL, http://user:password@host:port)")?;
                }
                Ok(())
            }
            (K::ProxyProtocol, _) => match peer {
                Some(peer) => write!(f, "{} sent an invalid answer to CONNECT", peer.named()),
                None => f.write_str("the proxy sent an invalid answer to CONNECT"),
            },
            (K::RequestTimeout, Some(t)) => write!(f, "request timed out after {t:?}"),
            (K::RequestTimeout, None) => f.write_str("request timed out"),
            (K::Request, _) => f.write_str("connection failed while sending the request"),
            (K::Body, _) => f.write_str("reading the response body failed"),
            (K::BodyTooLarge { limit }, _) => write!(f, "response body exceeds the limit of {limit} bytes"),
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
        if let Some(peer) = &self.peer {
            d.field("peer", peer);
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
    /// A CA certificate file could not be read.
    #[error("cannot read the CA certificate file {}", path.display())]
    ReadCertificateFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A CA certificate file holds no usable certificate.
    #[error("the CA certificate file {} holds no PEM certificate", path.display())]
    CertificateFile {
        /// The file.
        path: PathBuf,
        /// What was wrong with its content.
        #[source]
        source: Box<BuildError>,
    },
    /// A proxy URL (or the environment variable holding it) is unusable. The
    /// URL itself is not repeated: it may hold a password.
    #[error("invalid proxy {}: {reason}", match variable { Some(name) => format!("in {name}"), None => "URL".to_owned() })]
    InvalidProxy {
        /// The environment variable the URL came from, if any.
        variable: Option<String>,
        /// What is wrong.
        reason: &'static str,
    },
}

impl BuildError {
    /// Names the environment variable a proxy URL came from.
    pub(crate) fn for_setting(self, name: &str) -> Self {
        match self {
            BuildError::InvalidProxy { reason, .. } => {
                BuildError::InvalidProxy { variable: Some(name.to_owned()), reason }
            }
            other => other,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(kind: TransportErrorKind, peer: Peer) -> String {
        TransportError::new(kind).with_peer(Some(peer)).to_string()
    }

    #[test]
    fn connect_failures_name_the_host_they_tried() {
        let server = Peer::server("nonexistent.invalid", 443);
        assert_eq!(
            at(TransportErrorKind::Dns, server.clone()),
            "could not resolve host `nonexistent.invalid`"
        );
        assert_eq!(at(TransportErrorKind::Connect, server), "could not connect to nonexistent.invalid:443");
        assert_eq!(
            at(TransportErrorKind::ConnectionRefused, Peer::server("::1", 9)),
            "could not connect to [::1]:9: connection refused"
        );
        let proxy = Peer::proxy("proxy.corp", 3128, "example.com:443".to_owned());
        assert_eq!(at(TransportErrorKind::Dns, proxy.clone()), "could not resolve proxy host `proxy.corp`");
        assert_eq!(
            at(TransportErrorKind::ProxyProtocol, proxy),
            "proxy proxy.corp:3128 sent an invalid answer to CONNECT"
        );
        let timeout = TransportError::timeout(TransportErrorKind::ConnectTimeout, Duration::from_secs(10))
            .with_peer(Some(Peer::server("example.com", 443)));
        assert_eq!(timeout.to_string(), "connecting to example.com:443 timed out after 10s");
    }

    #[test]
    fn without_a_peer_the_messages_still_read() {
        assert_eq!(TransportError::new(TransportErrorKind::Dns).to_string(), "could not resolve host name");
        assert_eq!(
            TransportError::new(TransportErrorKind::ConnectionRefused).to_string(),
            "could not connect: connection refused"
        );
        assert_eq!(
            TransportError::new(TransportErrorKind::ProxyRejected { status: 407 }).to_string(),
            "the proxy refused to open a tunnel to the server with status 407: proxy authentication required (give \
             the credentials in the proxy URL, http://user:password@host:port)"
        );
    }
}
