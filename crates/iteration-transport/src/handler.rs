//! What the server calls: a [`Handler`] turns a request with a fully read
//! body into a response.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Request, Response, StatusCode};

/// The peer's socket address, found in every request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub SocketAddr);

/// Why the server answered without calling [`Handler::call`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The request body is larger than `max_request_body_bytes` (413).
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: u64,
    },
    /// The body did not arrive within `body_read_timeout` (408).
    BodyTimeout {
        /// The configured timeout.
        timeout: Duration,
    },
    /// The body could not be read, e.g. malformed chunked encoding (400).
    BodyUnreadable,
    /// HTTP/1: the request line or a header could not be parsed (400).
    Malformed,
    /// HTTP/1: the request target is longer than the server reads (414).
    UriTooLong,
    /// The headers are more or larger than the server reads (431): over
    /// HTTP/1 hyper's limits, over HTTP/2 `max_header_list_bytes`.
    HeadersTooLarge,
    /// HTTP/1: bytes of a request head arrived, but not all of it within
    /// `header_read_timeout` (408). The connection closes after the answer.
    HeadersTimeout {
        /// The configured timeout.
        timeout: Duration,
    },
}

impl Rejection {
    /// The status this rejection calls for.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::BodyTimeout { .. } | Rejection::HeadersTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Rejection::BodyUnreadable | Rejection::Malformed => StatusCode::BAD_REQUEST,
            Rejection::UriTooLong => StatusCode::URI_TOO_LONG,
            Rejection::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }

    /// A plain-text response with [`status`](Self::status).
    pub fn default_response(&self) -> Response<Bytes> {
        let text: &'static str = match self {
            Rejection::BodyTooLarge { .. } => "request body too large\n",
            Rejection::BodyTimeout { .. } => "request body not received in time\n",
            Rejection::BodyUnreadable => "request body could not be read\n",
            Rejection::Malformed => "request could not be parsed\n",
            Rejection::UriTooLong => "request target too long\n",
            Rejection::HeadersTooLarge => "request headers too large\n",
            Rejection::HeadersTimeout { .. } => "request headers not received in time\n",
        };
        let mut response = Response::new(Bytes::from_static(text.as_bytes()));
        *response.status_mut() = self.status();
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        response
    }
}

/// Application code behind a [`Server`](crate::Server).
///
/// The server reads the whole body (within the configured limits) before
/// calling [`call`](Self::call), and puts a [`RemoteAddr`] in the request's
/// extensions. Use [`handler_fn`] for a plain async function.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn call(&self, request: Request<Bytes>) -> impl Future<Output = Response<Bytes>> + Send;

    /// Answers a request refused before [`call`](Self::call); override to use
    /// your own error format. The server adds `Connection: close` when the
    /// rest of the body was not read. For [`Rejection::Malformed`],
    /// [`Rejection::UriTooLong`], [`Rejection::HeadersTimeout`] and, over
    /// HTTP/1, [`Rejection::HeadersTooLarge`] there is no request to look
    /// at, and the connection closes after the answer.
    fn reject(&self, rejection: Rejection) -> Response<Bytes> {
        rejection.default_response()
    }
}

/// A [`Handler`] made from a closure, see [`handler_fn`].
#[derive(Debug, Clone, Copy)]
pub struct HandlerFn<F>(F);

/// Makes a [`Handler`] from `async fn(Request<Bytes>) -> Response<Bytes>`.
pub fn handler_fn<F, Fut>(f: F) -> HandlerFn<F>
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Bytes>> + Send,
{
    HandlerFn(f)
}

impl<F, Fut> Handler for HandlerFn<F>
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Bytes>> + Send,
{
    fn call(&self, request: Request<Bytes>) -> impl Future<Output = Response<Bytes>> + Send {
        (self.0)(request)
    }
}
