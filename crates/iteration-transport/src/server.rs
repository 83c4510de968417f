//! The HTTP server: an accept loop bounded by a semaphore, one task per
//! connection driving hyper-util's auto (HTTP/1.1 + HTTP/2) connection, and
//! a watch channel that tells connections to drain, then to close.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HeaderValue};
use http::{Request, Response, Version};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::ServeError;
use crate::handler::{Handler, Rejection, RemoteAddr};
use crate::parse_errors::Rewriting;
use crate::tls::TlsConfig;

/// Pause after an accept error that is not about one connection (EMFILE...),
/// so that a resource shortage does not turn into a busy loop.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// How long connections get to notice the final "close" order.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// How much later than the head clock of `parse_errors.rs` the connection
/// task gives up on a connection that never sent a request. The head clock
/// answers (408) or closes first; this only backs it up.
const FIRST_REQUEST_BACKSTOP: Duration = Duration::from_secs(1);

/// How many times `max_header_list_bytes` an HTTP/2 header list may be
/// before the h2 library refuses it by itself (a 431 without a body, and a
/// reset stream), without the server seeing it. Between the two, the
/// server answers the handler's 431. The multiple bounds what one stream's
/// headers may cost in memory.
const H2_HEADER_LIST_HEADROOM: usize = 4;

/// Server settings. Start from [`ServerConfig::default`] and change fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Time allowed for the TLS handshake, and for a whole request head to
    /// arrive once the connection opens or, for HTTP/1, once it is idle
    /// after answering. An HTTP/1 client that sent part of a head by then
    /// gets [`Rejection::HeadersTimeout`] (408); a silent connection is
    /// closed. Default 10 s.
    pub header_read_timeout: Duration,
    /// Largest HTTP/2 header list, counted as RFC 9113 does (each field's
    /// name and value plus 32 bytes, pseudo-headers included); a larger one
    /// gets [`Rejection::HeadersTooLarge`] (431). HTTP/1 heads are bounded
    /// by hyper instead (100 fields, and its read buffer). Default 16 KiB.
    pub max_header_list_bytes: usize,
    /// Time allowed to receive a request body once headers are in.
    /// Default 30 s.
    pub body_read_timeout: Duration,
    /// Largest accepted request body. Default 1 MiB.
    pub max_request_body_bytes: usize,
    /// Connections served at once; when reached, the server stops accepting
    /// until one closes. Default 1024.
    pub max_connections: usize,
    /// A connection without any request in flight for this long is closed.
    /// Default 60 s.
    pub keep_alive_idle_timeout: Duration,
    /// How long in-flight requests may run on after shutdown begins.
    /// Default 10 s.
    pub shutdown_grace: Duration,
    /// Serve HTTPS with this certificate instead of plain HTTP.
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_list_bytes: 16 * 1024,
            body_read_timeout: Duration::from_secs(30),
            max_request_body_bytes: 1024 * 1024,
            max_connections: 1024,
            keep_alive_idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
            tls: None,
        }
    }
}

/// A bound, not yet serving, listener.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: ServerConfig,
    accepted: Arc<AtomicU64>,
}

/// A server running in the background, see [`Server::spawn`].
///
/// Dropping the handle shuts the server down as well, without waiting.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    accepted: Arc<AtomicU64>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections accepted so far (for tests and metrics).
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets in-flight requests finish within
    /// `shutdown_grace`, closes what remains and waits for all of it.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        // An error only means the server already stopped on its own.
        let _ = self.stop.send(());
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(ServeError::Task(Box::new(e))),
        }
    }
}

/// Where connections are in the server's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish in-flight requests, accept no new ones on this connection.
    Draining,
    /// Grace is over: drop the connection now.
    Closing,
}

/// What every connection task needs, shared once per server.
struct Shared<H> {
    handler: H,
    builder: auto::Builder<TokioExecutor>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    header_read_timeout: Duration,
    max_header_list_bytes: usize,
    body_read_timeout: Duration,
    max_request_body_bytes: usize,
    keep_alive_idle_timeout: Duration,
}

impl Server {
    /// Binds `addr` (use port 0 for any free port).
    pub async fn bind(addr: SocketAddr, config: ServerConfig) -> Result<Self, ServeError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        let local_addr = listener.local_addr().map_err(ServeError::LocalAddr)?;
        Ok(Self { listener, local_addr, config, accepted: Arc::new(AtomicU64::new(0)) })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections accepted so far (for tests and metrics).
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Serves in a background task until [`ServerHandle::shutdown`].
    pub fn spawn<H: Handler>(self, handler: H) -> ServerHandle {
        let (stop, stopped) = oneshot::channel::<()>();
        let local_addr = self.local_addr;
        let accepted = self.accepted.clone();
        let task = tokio::spawn(self.serve(handler, async {
            // Resolves on `shutdown()` and when the handle is dropped.
            let _ = stopped.await;
        }));
        ServerHandle { local_addr, accepted, stop, task }
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully: the
    /// listener is closed at once, in-flight requests get `shutdown_grace`
    /// to finish, and remaining connections are then dropped.
    pub async fn serve<H: Handler>(
        self,
        handler: H,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        let Server { listener, local_addr, config, accepted } = self;
        let shared = Arc::new(Shared {
            handler,
            builder: connection_builder(&config),
            tls: config.tls.as_ref().map(|tls| tokio_rustls::TlsAcceptor::from(tls.server.clone())),
            header_read_timeout: config.header_read_timeout,
            max_header_list_bytes: config.max_header_list_bytes,
            body_read_timeout: config.body_read_timeout,
            max_request_body_bytes: config.max_request_body_bytes,
            keep_alive_idle_timeout: config.keep_alive_idle_timeout,
        });
        // Semaphore permits are `usize` but `acquire_many` takes `u32`.
        let max_connections = config.max_connections.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let slots = Arc::new(Semaphore::new(max_connections));
        let (phase, phase_rx) = watch::channel(Phase::Serving);
        tracing::info!(%local_addr, tls = shared.tls.is_some(), "server listening");

        tokio::pin!(shutdown);
        loop {
            // Take a slot before accepting: when all are in use, new clients
            // wait in the kernel's backlog instead of being accepted and
            // starved.
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = slots.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    // Never happens: the semaphore is never closed.
                    Err(_closed) => break,
                },
            };
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) if is_per_connection_error(&e) => {
                        tracing::debug!(error = %e, "accept failed for one connection");
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed; pausing");
                        tokio::select! {
                            () = &mut shutdown => break,
                            () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                        }
                    }
                },
            };
            accepted.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(run_connection(stream, peer, shared.clone(), phase_rx.clone(), permit));
        }

        // Refuse new connections from now on.
        drop(listener);
        tracing::info!(%local_addr, "server shutting down");
        let _ = phase.send(Phase::Draining);
        // Each live connection holds one slot: all slots free = all done.
        let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
        if tokio::time::timeout(config.shutdown_grace, slots.acquire_many(all)).await.is_err() {
            tracing::warn!(
                open = max_connections - slots.available_permits(),
                "shutdown grace expired; closing remaining connections"
            );
            let _ = phase.send(Phase::Closing);
            let _ = tokio::time::timeout(CLOSE_WAIT, slots.acquire_many(all)).await;
        }
        tracing::info!(%local_addr, "server stopped");
        Ok(())
    }
}

fn connection_builder(config: &ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // hyper's header timeout closes the connection without an answer;
        // `Rewriting` keeps the same clock and answers 408 where HTTP/1 allows.
        .header_read_timeout(None)
        .keep_alive(true);
    // The h2 library answers an oversized header list itself, with an empty
    // 431 and a reset stream; a higher protocol limit lets `respond` see
    // those requests and answer the handler's 431 (see H2_HEADER_LIST_HEADROOM).
    let h2_limit = config.max_header_list_bytes.saturating_mul(H2_HEADER_LIST_HEADROOM);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(h2_limit).unwrap_or(u32::MAX));
    builder
}

/// Errors that concern only the connection being accepted; anything else
/// (EMFILE, ENOBUFS...) is about the process and deserves a pause.
fn is_per_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset)
}

async fn run_connection<H: Handler>(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared<H>>,
    phase: watch::Receiver<Phase>,
    // Held until the connection ends, freeing the slot.
    _permit: OwnedSemaphorePermit,
) {
    // Responses are written whole; do not let Nagle delay them.
    let _ = tcp.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let handler = shared.clone();
    let reject: Arc<dyn Fn(Rejection) -> Response<Bytes> + Send + Sync> =
        Arc::new(move |rejection| handler.handler.reject(rejection));
    let dispatched = activity.started.clone();
    match &shared.tls {
        None => {
            let io = TokioIo::new(Rewriting::new(tcp, dispatched, reject, shared.header_read_timeout));
            drive(io, peer, &shared, activity, phase).await
        }
        Some(acceptor) => {
            match tokio::time::timeout(shared.header_read_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let io =
                        TokioIo::new(Rewriting::new(tls, dispatched, reject, shared.header_read_timeout));
                    drive(io, peer, &shared, activity, phase).await
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
    }
}

/// Serves one connection until it ends, goes idle, or the server says so.
async fn drive<I, H>(
    io: TokioIo<I>,
    peer: SocketAddr,
    shared: &Arc<Shared<H>>,
    activity: Arc<Activity>,
    mut phase: watch::Receiver<Phase>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: Handler,
{
    let service = {
        let shared = shared.clone();
        let activity = activity.clone();
        service_fn(move |request: Request<Incoming>| {
            let shared = shared.clone();
            let busy = activity.begin();
            async move {
                let response = respond(&shared, request, peer).await;
                drop(busy);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let conn = shared.builder.serve_connection(io, service);
    tokio::pin!(conn);

    let idle_limit = shared.keep_alive_idle_timeout;
    let first_request_limit = shared.header_read_timeout + FIRST_REQUEST_BACKSTOP;
    let idle_timer = tokio::time::sleep(first_request_limit.min(idle_limit));
    tokio::pin!(idle_timer);
    let mut draining = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            changed = phase.changed() => {
                let now = match changed {
                    Ok(()) => *phase.borrow_and_update(),
                    // The server is gone: nothing left to wait for.
                    Err(_) => Phase::Closing,
                };
                match now {
                    Phase::Serving => {}
                    Phase::Draining if !draining => {
                        draining = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    Phase::Draining => {}
                    Phase::Closing => return,
                }
            }
            () = &mut idle_timer, if !draining => {
                let next = if !activity.started_any() {
                    // Nothing complete arrived yet (no request head, not even
                    // an HTTP/2 preface): a stalled or silent client.
                    let limit = first_request_limit.min(idle_limit);
                    if activity.age() >= limit {
                        tracing::debug!(%peer, "no request received in time; closing");
                        return;
                    }
                    limit - activity.age()
                } else {
                    match activity.idle_for() {
                        // A request is running: look again a full period later.
                        None => idle_limit,
                        Some(idle) if idle >= idle_limit => {
                            tracing::debug!(%peer, "connection idle; closing");
                            draining = true;
                            conn.as_mut().graceful_shutdown();
                            continue;
                        }
                        Some(idle) => idle_limit - idle,
                    }
                };
                idle_timer.as_mut().reset(tokio::time::Instant::now() + next);
            }
        }
    }
}

/// Reads the body within the limits, then calls the handler.
async fn respond<H: Handler>(
    shared: &Shared<H>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let (mut parts, mut body) = request.into_parts();
    let limit = shared.max_request_body_bytes;
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let announced =
        parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());

    let rejection =
        if parts.version == Version::HTTP_2 && header_list_size(&parts) > shared.max_header_list_bytes {
            Rejection::HeadersTooLarge
        } else if announced.is_some_and(|len| len > limit_u64) {
            // Refuse before reading a byte of it.
            Rejection::BodyTooLarge { limit: limit_u64 }
        } else {
            // By reference: a refused HTTP/2 body is drained after answering.
            let collect = Limited::new(&mut body, limit).collect();
            match tokio::time::timeout(shared.body_read_timeout, collect).await {
                Ok(Ok(collected)) => {
                    parts.extensions.insert(RemoteAddr(peer));
                    let request = Request::from_parts(parts, collected.to_bytes());
                    return shared.handler.call(request).await.map(Full::new);
                }
                Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                    Rejection::BodyTooLarge { limit: limit_u64 }
                }
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "reading request body failed");
                    Rejection::BodyUnreadable
                }
                Err(_) => Rejection::BodyTimeout { timeout: shared.body_read_timeout },
            }
        };
    let mut response = shared.handler.reject(rejection);
    // The rest of the body is still on the wire: an HTTP/1 connection cannot
    // carry another request, so say it will close. (HTTP/2 resets the stream
    // instead and forbids this header.)
    if parts.version <= Version::HTTP_11 {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if parts.version == Version::HTTP_2 {
        drain_later(body, shared.body_read_timeout);
    }
    response.map(Full::new)
}

/// The size of a request's header list as HTTP/2 counts it (RFC 9113,
/// section 6.5.2): each field's name and value and 32 bytes, with the
/// pseudo-header fields that hyper turned into the method and URI.
fn header_list_size(parts: &http::request::Parts) -> usize {
    const OVERHEAD: usize = 32;
    let field = |name: &str, value: usize| name.len() + value + OVERHEAD;
    let uri = &parts.uri;
    let pseudo = field(":method", parts.method.as_str().len())
        + uri.scheme_str().map_or(0, |scheme| field(":scheme", scheme.len()))
        + uri.authority().map_or(0, |authority| field(":authority", authority.as_str().len()))
        + field(":path", uri.path_and_query().map_or(1, |p| p.as_str().len()));
    pseudo + parts.headers.iter().map(|(name, value)| field(name.as_str(), value.len())).sum::<usize>()
}

/// The most of a refused HTTP/2 body read and thrown away after answering.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads and discards the rest of a refused HTTP/2 request body, within
/// `timeout` and [`DRAIN_LIMIT`], so that the stream ends as the client
/// closes it. Dropping the body instead would reset the stream, and some
/// clients (curl among them) then drop the answer they were sent with it.
fn drain_later(mut body: Incoming, timeout: Duration) {
    tokio::spawn(async move {
        let drain = async {
            let mut read = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                read += frame.data_ref().map_or(0, |data| data.len() as u64);
                if read > DRAIN_LIMIT {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, drain).await;
    });
}

/// Per-connection bookkeeping for the idle timeout: how many requests are
/// running and when the last one finished.
struct Activity {
    born: Instant,
    in_flight: AtomicUsize,
    /// Requests handed to the handler; shared with [`Rewriting`].
    started: Arc<AtomicU64>,
    /// Milliseconds after `born` when the last request finished.
    last_done_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            born: Instant::now(),
            in_flight: AtomicUsize::new(0),
            started: Arc::new(AtomicU64::new(0)),
            last_done_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        // Release: the response head that `Rewriting` sees later is this request's.
        self.started.fetch_add(1, Ordering::Release);
        Busy(self.clone())
    }

    fn age(&self) -> Duration {
        self.born.elapsed()
    }

    fn started_any(&self) -> bool {
        self.started.load(Ordering::Relaxed) > 0
    }

    /// `None` while a request runs, else the time since the last one ended.
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_done_ms.load(Ordering::Relaxed));
        Some(self.age().saturating_sub(last))
    }
}

/// Marks a request as running until dropped (also when the client goes away
/// and hyper drops the handler's future).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let ms = u64::try_from(self.0.age().as_millis()).unwrap_or(u64::MAX);
        self.0.last_done_ms.store(ms, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
