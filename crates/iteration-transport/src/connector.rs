//! How the client opens connections: DNS, TCP, then TLS for `https`, all
//! under one connect timeout; through a proxy when the [`ProxyConfig`] says
//! so (a `CONNECT` tunnel for `https`, a plain connection to the proxy for
//! `http`).
//!
//! hyper-util's pool keys connections by scheme and authority of the target.
//! That key also fixes the route: a client has one `ProxyConfig`, so a given
//! target always goes through the same proxy (or none), and a pooled
//! connection is never reused for a target it was not opened for.
//!
//! We do this ourselves rather than wrapping hyper-util's `HttpConnector`
//! because we need to know precisely *which* step failed: that decides the
//! error kind and whether a non-idempotent request may be retried (none of
//! these steps writes a byte of the request).

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::{Peer, TransportError, TransportErrorKind};
use crate::proxy::{ProxyConfig, TunnelError};

/// Why a connection could not be opened.
///
/// hyper-util's pool wraps connector errors in its own error type and only
/// lends them out by reference, so the cause is shared through an `Arc` that
/// the client can clone into the [`TransportError`] it returns.
#[derive(Debug, Clone)]
pub(crate) struct ConnectFailure {
    pub(crate) kind: TransportErrorKind,
    pub(crate) timeout: Option<Duration>,
    /// Where the failing connection went, for the message.
    pub(crate) peer: Option<Peer>,
    pub(crate) cause: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl ConnectFailure {
    fn new(kind: TransportErrorKind, cause: Option<io::Error>) -> Self {
        Self {
            kind,
            timeout: None,
            peer: None,
            cause: cause.map(|e| Arc::new(e) as Arc<dyn StdError + Send + Sync>),
        }
    }

    fn at(mut self, peer: &Peer) -> Self {
        self.peer = Some(peer.clone());
        self
    }

    pub(crate) fn into_transport_error(self) -> TransportError {
        let err = match self.timeout {
            Some(t) => TransportError::timeout(self.kind, t),
            None => TransportError::new(self.kind),
        }
        .with_peer(self.peer);
        match self.cause {
            Some(cause) => err.with_source(Box::new(cause)),
            None => err,
        }
    }
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only seen if someone walks hyper-util's error chain directly.
        write!(f, "connect failed: {:?}", self.kind)
    }
}

impl StdError for ConnectFailure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// Opens plain or TLS connections for hyper-util's pooled client.
#[derive(Clone)]
pub(crate) struct Connector {
    pub(crate) tls: TlsConnector,
    pub(crate) connect_timeout: Duration,
    pub(crate) proxy: Arc<ProxyConfig>,
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = ConnectFailure;
    // Boxed: a connection is opened rarely (the pool reuses it), so one
    // allocation per connect is irrelevant next to a TCP + TLS handshake.
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Stateless: every call opens its own socket.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect(uri).await.map(TokioIo::new) })
    }
}

impl Connector {
    async fn connect(self, uri: Uri) -> Result<Stream, ConnectFailure> {
        let invalid = || ConnectFailure::new(TransportErrorKind::InvalidRequest, None);
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(invalid()),
        };
        // `Uri::host` keeps the brackets of IPv6 literals.
        let host = uri.host().ok_or_else(invalid)?.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });

        let proxy = self.proxy.proxy_for(https, host, port);
        let server = Peer::server(host, port);
        // Timeouts name the first hop: that is where the caller can look.
        let first_hop = match proxy {
            Some(proxy) => Peer::proxy(proxy.host(), proxy.port(), crate::proxy::authority(host, port)),
            None => server.clone(),
        };

        let establish = async {
            let mut tcp = connect_tcp(&first_hop).await?;
            match (proxy, https) {
                (None, false) => return Ok(Stream::Plain(tcp)),
                // The proxy forwards the request; hyper-util writes it in
                // absolute form when the connection says it is proxied.
                (Some(_), false) => return Ok(Stream::Proxied(tcp)),
                (None, true) => {}
                (Some(proxy), true) => {
                    crate::proxy::connect_tunnel(&mut tcp, host, port, proxy.authorization())
                        .await
                        .map_err(|e| tunnel_failure(e).at(&first_hop))?;
                }
            }
            // The server name (SNI, certificate check) is the target's, also
            // inside a tunnel.
            let name = ServerName::try_from(host.to_owned()).map_err(|_| invalid())?;
            match self.tls.connect(name, tcp).await {
                Ok(tls) => Ok(Stream::Tls(Box::new(tls))),
                Err(e) => Err(ConnectFailure::new(
                    TransportErrorKind::Tls(crate::tls::classify_handshake_error(&e)),
                    Some(e),
                )
                .at(&server)),
            }
        };
        match tokio::time::timeout(self.connect_timeout, establish).await {
            Ok(result) => result,
            Err(_elapsed) => Err(ConnectFailure {
                kind: TransportErrorKind::ConnectTimeout,
                timeout: Some(self.connect_timeout),
                peer: Some(first_hop),
                cause: None,
            }),
        }
    }
}

/// The error kind of a failed `CONNECT`: all of them happen before a byte
/// of the request is written.
fn tunnel_failure(error: TunnelError) -> ConnectFailure {
    match error {
        TunnelError::Io(e) => ConnectFailure::new(TransportErrorKind::Connect, Some(e)),
        TunnelError::Status(status) => {
            ConnectFailure::new(TransportErrorKind::ProxyRejected { status }, None)
        }
        TunnelError::Invalid => ConnectFailure::new(TransportErrorKind::ProxyProtocol, None),
    }
}

/// Resolves the peer's host and tries its addresses in order until one
/// accepts.
async fn connect_tcp(peer: &Peer) -> Result<TcpStream, ConnectFailure> {
    let (host, port) = (peer.host.as_str(), peer.port);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| ConnectFailure::new(TransportErrorKind::Dns, Some(e)).at(peer))?
            .collect(),
    };
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Requests are small and latency matters more than packet
                // count; failing to set it only costs latency.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last_error = Some(e),
        }
    }
    let failure = match last_error {
        Some(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            ConnectFailure::new(TransportErrorKind::ConnectionRefused, Some(e))
        }
        Some(e) => ConnectFailure::new(TransportErrorKind::Connect, Some(e)),
        // The resolver answered with no address at all.
        None => ConnectFailure::new(TransportErrorKind::Dns, None),
    };
    Err(failure.at(peer))
}

/// A client connection, plain or TLS.
pub(crate) enum Stream {
    Plain(TcpStream),
    /// A plain connection to an HTTP proxy, which gets absolute-form
    /// requests.
    Proxied(TcpStream),
    // Boxed: the TLS state is large and the plain variant should not pay for it.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        match self {
            Stream::Plain(_) => Connected::new(),
            Stream::Proxied(_) => Connected::new().proxy(true),
            // Tell the pool to speak HTTP/2 when ALPN chose it.
            Stream::Tls(tls) if tls.get_ref().1.alpn_protocol() == Some(b"h2") => {
                Connected::new().negotiated_h2()
            }
            Stream::Tls(_) => Connected::new(),
        }
    }
}

// Both variants are `Unpin`, so projecting the pin is a plain `Pin::new`.
impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) | Stream::Proxied(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) | Stream::Proxied(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) | Stream::Proxied(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) | Stream::Proxied(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) | Stream::Proxied(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) | Stream::Proxied(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
