//! The request journal: the last requests the server answered, for tests
//! that want to see what a client sent (`GET /_iteration/requests`).
//!
//! Tokens are journaled by name, never by secret.
//!
//! Cost on the request path: recording takes one lock and moves an
//! [`Entry`] into a ring buffer of fixed size; the entry holds the method,
//! the URI and the body by reference count (`Bytes`, `Uri`), not by copy,
//! and turns them into text only when the journal is read. A body over
//! [`BODY_LIMIT`] is the one exception: its first 64 KiB are copied, so
//! that the journal never keeps a large body alive. A journal of capacity 0
//! (`serve --journal-size 0`) records nothing and takes no lock.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use http::{Method, Uri};

use crate::admin::{RecordedRequest, RequestFilter};

/// How many requests the journal keeps by default, and at most; older
/// ones are forgotten.
pub(crate) const CAPACITY: usize = 1000;

/// How much of a write's body is kept.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// One answered request, as the journal holds it until it is read.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) time: i64,
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) operation: &'static str,
    pub(crate) status: u16,
    pub(crate) token: Option<String>,
    pub(crate) duration_ms: u64,
    pub(crate) request_id: String,
    /// The body of a write, as [`kept_body`] keeps it.
    pub(crate) body: Option<KeptBody>,
}

/// A write's body as the journal keeps it: at most [`BODY_LIMIT`] bytes,
/// and whether it was longer.
#[derive(Debug, Clone)]
pub(crate) struct KeptBody {
    bytes: Bytes,
    truncated: bool,
}

/// The body of `method`'s request as the journal keeps it: `None` but for
/// POST, PUT and PATCH; a reference to `body` when it is at most
/// [`BODY_LIMIT`] long, else a copy of its start.
pub(crate) fn kept_body(method: &Method, body: &Bytes) -> Option<KeptBody> {
    if !matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        return None;
    }
    if body.len() <= BODY_LIMIT {
        return Some(KeptBody { bytes: body.clone(), truncated: false });
    }
    // A copy, so that the large body's buffer is freed with the request.
    Some(KeptBody { bytes: Bytes::copy_from_slice(&body[..BODY_LIMIT]), truncated: true })
}

impl Entry {
    fn recorded(&self) -> RecordedRequest {
        let (body, body_truncated) = match &self.body {
            Some(kept) => (Some(body_text(&kept.bytes, kept.truncated)), kept.truncated),
            None => (None, false),
        };
        RecordedRequest {
            time: self.time,
            method: self.method.to_string(),
            path: self.uri.path().to_owned(),
            operation_id: self.operation.to_owned(),
            status: self.status,
            token: self.token.clone(),
            duration_ms: self.duration_ms,
            request_id: self.request_id.clone(),
            body,
            body_truncated,
        }
    }
}

/// The last `capacity` requests, newest first.
#[derive(Debug)]
pub(crate) struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<Entry>>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal::new(CAPACITY)
    }
}

impl Journal {
    /// A journal of the last `capacity` requests (at most [`CAPACITY`]);
    /// 0 records nothing.
    pub(crate) fn new(capacity: usize) -> Journal {
        let capacity = capacity.min(CAPACITY);
        Journal { capacity, entries: Mutex::new(VecDeque::with_capacity(capacity)) }
    }

    /// Whether requests are recorded at all.
    pub(crate) fn is_on(&self) -> bool {
        self.capacity > 0
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        // Pushing and popping leave the queue valid whatever panics.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn record(&self, entry: Entry) {
        if !self.is_on() {
            return;
        }
        let mut entries = self.entries();
        let forgotten = if entries.len() == self.capacity { entries.pop_back() } else { None };
        entries.push_front(entry);
        drop(entries);
        // Dropped after the lock is let go: the oldest entry is cold in the
        // cache, and freeing its parts under the lock made the two worker
        // threads wait on each other (futex calls per request doubled).
        drop(forgotten);
    }

    /// The entries that pass `filter`, newest first.
    pub(crate) fn read(&self, filter: &RequestFilter) -> Vec<RecordedRequest> {
        self.entries()
            .iter()
            .filter(|e| filter.operation.as_deref().is_none_or(|op| e.operation == op))
            .filter(|e| filter.status.is_none_or(|status| e.status == status))
            .take(filter.limit.unwrap_or(CAPACITY))
            .map(Entry::recorded)
            .collect()
    }

    pub(crate) fn clear(&self) {
        self.entries().clear();
    }
}

/// A kept body as text; when it was cut at [`BODY_LIMIT`], without the
/// partial UTF-8 sequence the cut may have left at its end.
fn body_text(kept: &[u8], truncated: bool) -> String {
    let mut kept = kept;
    if truncated {
        // Do not split a UTF-8 sequence: back up to the start of the last character.
        while let Some((&last, rest)) = kept.split_last() {
            if last & 0b1100_0000 != 0b1000_0000 {
                kept = rest;
                break;
            }
            kept = rest;
        }
    }
    String::from_utf8_lossy(kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize, operation: &'static str, status: u16) -> Entry {
        Entry {
            time: i as i64,
            method: Method::GET,
            uri: Uri::try_from(format!("/{i}?q=1")).expect("a URI"),
            operation,
            status,
            token: None,
            duration_ms: 0,
            request_id: i.to_string(),
            body: None,
        }
    }

    #[test]
    fn keeps_the_last_thousand_newest_first() {
        let journal = Journal::default();
        for i in 0..CAPACITY + 5 {
            journal.record(entry(i, "getExperiment", 200));
        }
        let all = journal.read(&RequestFilter::default());
        assert_eq!(all.len(), CAPACITY);
        assert_eq!((all[0].time, all[CAPACITY - 1].time), ((CAPACITY + 4) as i64, 5));
        assert_eq!(all[0].path, format!("/{}", CAPACITY + 4));
    }

    #[test]
    fn a_journal_of_size_zero_records_nothing_and_a_small_one_keeps_its_size() {
        let off = Journal::new(0);
        off.record(entry(0, "getExperiment", 200));
        assert!(!off.is_on());
        assert!(off.read(&RequestFilter::default()).is_empty());
        let small = Journal::new(2);
        for i in 0..3 {
            small.record(entry(i, "getExperiment", 200));
        }
        let times: Vec<i64> = small.read(&RequestFilter::default()).iter().map(|e| e.time).collect();
        assert_eq!(times, [2, 1]);
    }

    #[test]
    fn filters_by_operation_status_and_limit() {
        let journal = Journal::default();
        journal.record(entry(0, "getExperiment", 200));
        journal.record(entry(1, "createIteration", 400));
        journal.record(entry(2, "createIteration", 200));
        journal.record(entry(3, "createIteration", 200));
        let filter = |operation: Option<&str>, status, limit| RequestFilter {
            operation: operation.map(str::to_owned),
            status,
            limit,
        };
        let times = |f: RequestFilter| journal.read(&f).iter().map(|e| e.time).collect::<Vec<_>>();
        assert_eq!(times(filter(Some("createIteration"), None, None)), [3, 2, 1]);
        assert_eq!(times(filter(Some("createIteration"), Some(200), Some(1))), [3]);
        assert_eq!(times(filter(None, Some(400), None)), [1]);
        journal.clear();
        assert!(journal.read(&RequestFilter::default()).is_empty());
    }

    #[test]
    fn a_small_body_is_shared_not_copied() {
        let body = Bytes::from(r#"{"hypothesis":"h"}"#.as_bytes().to_vec());
        let kept = kept_body(&Method::POST, &body).expect("a write's body is kept");
        assert_eq!(kept.bytes.as_ptr(), body.as_ptr(), "the same buffer");
        assert!(kept_body(&Method::GET, &body).is_none());
    }

    #[test]
    fn a_long_body_is_cut_on_a_character_boundary() {
        let mut body = "a".repeat(BODY_LIMIT - 1).into_bytes();
        body.extend_from_slice("é and more".as_bytes());
        let kept = kept_body(&Method::PUT, &Bytes::from(body)).expect("kept");
        assert!(kept.truncated);
        let text = body_text(&kept.bytes, kept.truncated);
        assert_eq!(text.len(), BODY_LIMIT - 1);
        assert_eq!(body_text(b"{}", false), "{}");
    }
}
