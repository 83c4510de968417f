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

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{BufMut, Bytes, BytesMut};
use http::Response;
use http::header::{CONNECTION, CONTENT_LENGTH};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::handler::Rejection;

/// The start of every HTTP/1.1 response head.
const HEAD_START: &[u8] = b"HTTP/1.1 ";

/// Wraps a connection's stream; see the module documentation.
pub(crate) struct Rewriting<I> {
    io: I,
    /// Requests handed to the handler on this connection so far.
    dispatched: Arc<AtomicU64>,
    /// Response heads written so far.
    heads: u64,
    /// The answer that replaces hyper's, while it is being written.
    pending: Option<Bytes>,
    reject: Arc<dyn Fn(Rejection) -> Response<Bytes> + Send + Sync>,
}

impl<I> Rewriting<I> {
    pub(crate) fn new(
        io: I,
        dispatched: Arc<AtomicU64>,
        reject: Arc<dyn Fn(Rejection) -> Response<Bytes> + Send + Sync>,
    ) -> Self {
        Rewriting { io, dispatched, heads: 0, pending: None, reject }
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

impl<I: AsyncRead + Unpin> AsyncRead for Rewriting<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
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
