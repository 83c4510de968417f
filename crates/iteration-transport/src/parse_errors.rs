//! The handler's answer to HTTP/1 requests hyper cannot parse.
//!
//! When hyper cannot read a request head (a malformed line, a URI longer
//! than it accepts, too many or too large headers), it writes a response of
//! its own, `400`, `414` or `431` with an empty body, and closes the
//! connection; it offers no hook to change that answer. [`Rewriting`] sits
//! between hyper and the socket and, when such a response is written,
//! writes the handler's [`Handler::reject`] answer in its place, so that
//! clients get the same format as for every other error.
//!
//! hyper writes that response only when it owes no other: the
//! connection's requests handed to the handler all have their response
//! head written already. A response head is recognised by the write that
//! begins with `HTTP/1.1 `; HTTP/2 frames never do.
//!
//! # A request head that does not arrive in time
//!
//! hyper's own `header_read_timeout` closes the connection without a word.
//! HTTP/1 allows an answer there: `408 Request Timeout`, then closing. So the
//! server switches hyper's timer off and [`Rewriting`] keeps the same clock
//! itself, where it sees both directions of the stream:
//!
//! - The clock starts when the connection opens and whenever it falls idle,
//!   that is when the response head of the last request handed to the
//!   handler is written. It is what hyper measured: the time from starting
//!   to wait for a request head to having all of it.
//! - When it runs out it looks at what happened meanwhile. A request was
//!   handed to the handler, or one is still owed an answer: nothing to do.
//!   Bytes arrived, but no complete head: the handler's 408
//!   ([`Rejection::HeadersTimeout`]) is written on the raw stream in
//!   HTTP/1.1, the write side is shut down, and hyper's next read fails
//!   with `TimedOut`, which ends the connection without another answer.
//!   Nothing arrived (a silent new connection, or a kept-alive one that sent
//!   no further request): the read fails the same way, without an answer,
//!   as hyper did.
//! - The clock runs inside `poll_read`, which hyper calls for as long as it
//!   waits for a head, so the task wakes when it runs out; no other task or
//!   lock is involved.
//! - A connection that opens with the HTTP/2 preface never gets the 408
//!   (an HTTP/2 client cannot read it); its clock covers only the first
//!   request, as before. An HTTP/1 head that was already in hyper's buffer
//!   when the clock started (a pipelined request sent together with the
//!   previous one) is not seen as bytes arriving: if it never completes,
//!   the connection closes without an answer.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::Response;
use http::header::{CONNECTION, CONTENT_LENGTH};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::handler::Rejection;

/// The start of every HTTP/1.1 response head.
const HEAD_START: &[u8] = b"HTTP/1.1 ";

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Wraps a connection's stream; see the module documentation.
pub(crate) struct Rewriting<I> {
    io: I,
    /// Requests handed to the handler on this connection so far.
    dispatched: Arc<AtomicU64>,
    /// Response heads written so far.
    heads: u64,
    /// The answer that replaces hyper's, or the 408, while it is being written.
    pending: Option<Bytes>,
    reject: Arc<dyn Fn(Rejection) -> Response<Bytes> + Send + Sync>,
    head: HeadClock,
    /// What the stream has started as, from its first bytes.
    protocol: Protocol,
    /// Bytes read so far (counted while `protocol` is unknown).
    seen: usize,
    /// Set once the head clock ran out: the stream is finished.
    expired: Option<Expiry>,
}

/// The time a request head has to arrive; see the module documentation.
struct HeadClock {
    timeout: Duration,
    /// Runs while the connection waits for a request head.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Requests handed to the handler when the clock started.
    started_at: u64,
    /// Whether bytes arrived since the clock started.
    bytes_arrived: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// Fewer bytes than the HTTP/2 preface arrived, all of them its start.
    Unknown,
    Http1,
    Http2,
}

/// How a connection whose head clock ran out ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// The 408 is being written (in `pending`); then the write side is shut.
    Answering,
    /// Nothing more to write: every read fails.
    Closed,
}

impl<I> Rewriting<I> {
    /// Wraps `io`; a request head must arrive within `head_timeout` of the
    /// connection opening or falling idle.
    pub(crate) fn new(
        io: I,
        dispatched: Arc<AtomicU64>,
        reject: Arc<dyn Fn(Rejection) -> Response<Bytes> + Send + Sync>,
        head_timeout: Duration,
    ) -> Self {
        let head = HeadClock { timeout: head_timeout, deadline: None, started_at: 0, bytes_arrived: false };
        let mut rewriting = Rewriting {
            io,
            dispatched,
            heads: 0,
            pending: None,
            reject,
            head,
            protocol: Protocol::Unknown,
            seen: 0,
            expired: None,
        };
        rewriting.start_head_clock();
        rewriting
    }

    /// Starts waiting for the next request head.
    fn start_head_clock(&mut self) {
        let clock = &mut self.head;
        let deadline = tokio::time::Instant::now() + clock.timeout;
        match &mut clock.deadline {
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => clock.deadline = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
        clock.started_at = self.dispatched.load(Ordering::Acquire);
        clock.bytes_arrived = false;
    }

    /// Notes bytes read from the client.
    fn arrived(&mut self, bytes: &[u8], seen_before: usize) {
        if bytes.is_empty() {
            return;
        }
        self.head.bytes_arrived = true;
        if self.protocol == Protocol::Unknown {
            let offset = seen_before.min(H2_PREFACE.len());
            let expected = &H2_PREFACE[offset..];
            let compared = bytes.len().min(expected.len());
            self.protocol = if bytes[..compared] != expected[..compared] {
                Protocol::Http1
            } else if offset + compared == H2_PREFACE.len() {
                Protocol::Http2
            } else {
                Protocol::Unknown
            };
        }
    }

    /// What the head clock running out means now; see the module documentation.
    fn head_clock_ran_out(&mut self) -> Option<Expiry> {
        self.head.deadline = None;
        let dispatched = self.dispatched.load(Ordering::Acquire);
        let owed = self.heads < dispatched;
        if dispatched != self.head.started_at || owed {
            // A head arrived in time; the clock starts again when the connection is idle.
            return None;
        }
        if self.head.bytes_arrived && self.protocol != Protocol::Http2 {
            let timeout = self.head.timeout;
            self.pending = Some(serialise(&(self.reject)(Rejection::HeadersTimeout { timeout })));
            return Some(Expiry::Answering);
        }
        Some(Expiry::Closed)
    }
}

/// The rejection hyper's own response `head` stands for, if it is one:
/// a 400, 414 or 431 without a body, written while no response was owed.
fn automatic_rejection(head: &[u8]) -> Option<Rejection> {
    let status = head.get(HEAD_START.len()..HEAD_START.len() + 3)?;
    let rejection = match status {
        b"400" => Rejection::Malformed,
        b"414" => Rejection::UriTooLong,
        b"431" => Rejection::HeadersTooLarge,
        _ => return None,
    };
    let empty = head
        .windows(b"\r\ncontent-length: 0\r\n".len())
        .any(|w| w.eq_ignore_ascii_case(b"\r\ncontent-length: 0\r\n"));
    empty.then_some(rejection)
}

/// `response` as HTTP/1.1 bytes, closing the connection after it.
fn serialise(response: &Response<Bytes>) -> Bytes {
    let status = response.status();
    let body = response.body();
    let mut out = BytesMut::with_capacity(256 + body.len());
    out.put_slice(HEAD_START);
    out.put_slice(status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.put_slice(b"\r\n");
    for (name, value) in
        response.headers().iter().filter(|(name, _)| *name != CONTENT_LENGTH && *name != CONNECTION)
    {
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    out.put_slice(format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()).as_bytes());
    out.put_slice(body);
    out.freeze()
}

impl<I: AsyncWrite + Unpin> Rewriting<I> {
    /// Writes what is left of the replacement; `Ready(Ok(()))` once all is written.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(pending) = &mut self.pending {
            if pending.is_empty() {
                self.pending = None;
                break;
            }
            let written = ready!(Pin::new(&mut self.io).poll_write(cx, pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let _ = pending.split_to(written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncRead for Rewriting<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.expired.is_none()
            && let Some(deadline) = &mut this.head.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            this.expired = this.head_clock_ran_out();
        }
        match this.expired {
            None => {}
            Some(Expiry::Answering) => {
                // Errors while answering end the connection all the same.
                let mut sent = ready!(this.poll_pending(cx));
                if sent.is_ok() {
                    sent = ready!(Pin::new(&mut this.io).poll_flush(cx));
                }
                if sent.is_ok() {
                    // A FIN after the answer, so that the client reads it
                    // rather than a reset.
                    let _ = ready!(Pin::new(&mut this.io).poll_shutdown(cx));
                }
                this.pending = None;
                this.expired = Some(Expiry::Closed);
                return Poll::Ready(Err(head_timed_out()));
            }
            Some(Expiry::Closed) => return Poll::Ready(Err(head_timed_out())),
        }
        let before = buf.filled().len();
        let seen_before = this.seen;
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        let read = &buf.filled()[before..];
        if this.protocol == Protocol::Unknown {
            this.seen = seen_before.saturating_add(read.len());
        }
        this.arrived(read, seen_before);
        Poll::Ready(Ok(()))
    }
}

/// The error hyper's read gets once the head clock ran out.
fn head_timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no complete request head arrived in time")
}

impl<I> Rewriting<I> {
    /// Notes a response head about to be written (`first` is the start of the
    /// write) and, when it is hyper's own error answer, puts the handler's in
    /// its place.
    fn look_at(&mut self, first: &[u8]) {
        if self.pending.is_some() || !first.starts_with(HEAD_START) {
            return;
        }
        let owed = self.heads < self.dispatched.load(Ordering::Acquire);
        if !owed && let Some(rejection) = automatic_rejection(first) {
            self.heads += 1;
            self.pending = Some(serialise(&(self.reject)(rejection)));
        }
    }

    /// Counts a final response head once its first bytes are written (an
    /// interim `100 Continue` answers no request on its own).
    fn wrote(&mut self, first: &[u8], written: usize) {
        let interim = first.get(HEAD_START.len()) == Some(&b'1');
        if written > 0 && first.starts_with(HEAD_START) && !interim {
            self.heads += 1;
            if self.heads >= self.dispatched.load(Ordering::Acquire) {
                // Every request is answered: the wait for the next head begins.
                self.start_head_clock();
            }
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Rewriting<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.look_at(buf);
        if this.pending.is_some() {
            ready!(this.poll_pending(cx))?;
            // hyper's bytes count as written: ours went in their place.
            return Poll::Ready(Ok(buf.len()));
        }
        let written = ready!(Pin::new(&mut this.io).poll_write(cx, buf))?;
        this.wrote(buf, written);
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let first: &[u8] = bufs.iter().find(|b| !b.is_empty()).map_or(&[], |b| &**b);
        this.look_at(first);
        if this.pending.is_some() {
            ready!(this.poll_pending(cx))?;
            return Poll::Ready(Ok(first.len()));
        }
        let written = ready!(Pin::new(&mut this.io).poll_write_vectored(cx, bufs))?;
        this.wrote(first, written);
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn only_hypers_bodiless_400_414_and_431_are_replaced() {
        let head =
            |status: &str, length: &str| format!("HTTP/1.1 {status}\r\ncontent-length: {length}\r\n\r\n");
        assert_eq!(automatic_rejection(head("400 Bad Request", "0").as_bytes()), Some(Rejection::Malformed));
        assert_eq!(
            automatic_rejection(head("414 URI Too Long", "0").as_bytes()),
            Some(Rejection::UriTooLong)
        );
        assert_eq!(
            automatic_rejection(head("431 Request Header Fields Too Large", "0").as_bytes()),
            Some(Rejection::HeadersTooLarge)
        );
        assert_eq!(automatic_rejection(head("400 Bad Request", "12").as_bytes()), None);
        assert_eq!(automatic_rejection(head("404 Not Found", "0").as_bytes()), None);
    }

    #[tokio::test]
    async fn the_http2_preface_is_recognised_across_reads_and_anything_else_is_http1() {
        let wrap = || {
            let reject: Arc<dyn Fn(Rejection) -> Response<Bytes> + Send + Sync> =
                Arc::new(|r: Rejection| r.default_response());
            Rewriting::new((), Arc::new(AtomicU64::new(0)), reject, std::time::Duration::from_secs(1))
        };
        let mut h2 = wrap();
        let (start, rest) = H2_PREFACE.split_at(5);
        h2.arrived(start, 0);
        assert_eq!(h2.protocol, Protocol::Unknown);
        let mut more = rest.to_vec();
        more.extend_from_slice(b"\0\0\0\x04");
        h2.arrived(&more, start.len());
        assert_eq!(h2.protocol, Protocol::Http2);
        let mut h1 = wrap();
        h1.arrived(b"PRI /x HTTP/1.1\r\n", 0);
        assert_eq!(h1.protocol, Protocol::Http1);
        assert!(h1.head.bytes_arrived);
    }

    #[test]
    fn the_replacement_closes_the_connection_and_keeps_the_handlers_headers() {
        let mut response = Response::new(Bytes::from_static(b"{}"));
        *response.status_mut() = StatusCode::URI_TOO_LONG;
        response.headers_mut().insert("content-type", http::HeaderValue::from_static("application/json"));
        response.headers_mut().insert(CONTENT_LENGTH, http::HeaderValue::from_static("99"));
        let bytes = serialise(&response);
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            "HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
        );
    }
}
