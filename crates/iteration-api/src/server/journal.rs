//! The request journal: the last requests the server answered, for tests
//! that want to see what a client sent (`GET /_iteration/requests`).
//!
//! Tokens are journaled by name, never by secret.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// How many requests the journal keeps; older ones are forgotten.
pub(crate) const CAPACITY: usize = 1000;

/// How much of a write's body is kept.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// One answered request, as `GET /_iteration/requests` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RecordedRequest {
    /// When the request arrived, epoch milliseconds.
    pub time: i64,
    /// The method (after `X-HTTP-Method-Override`, the one sent).
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The operation id of the route (`createIteration`); `unknown` when no route matched.
    pub operation_id: String,
    /// The status answered.
    pub status: u16,
    /// The name of the token that was accepted; `None` when none was, or it
    /// has no name. Never the secret.
    #[serde(default)]
    pub token: Option<String>,
    /// How long the answer took, in milliseconds.
    pub duration_ms: u64,
    /// The request id, which an error body carries as `id`.
    pub request_id: String,
    /// The body of a write (POST, PUT, PATCH), up to 64 KiB, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Whether `body` was cut at 64 KiB.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_truncated: bool,
}

pub(crate) type Entry = RecordedRequest;

/// Which entries a reader wants.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Filter {
    pub(crate) operation: Option<String>,
    pub(crate) status: Option<u16>,
    pub(crate) limit: Option<usize>,
}

/// The last [`CAPACITY`] requests, newest first.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: Mutex<VecDeque<Entry>>,
}

impl Journal {
    fn entries(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        // Pushing and popping leave the queue valid whatever panics.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn record(&self, entry: Entry) {
        let mut entries = self.entries();
        entries.push_front(entry);
        entries.truncate(CAPACITY);
    }

    /// The entries that pass `filter`, newest first.
    pub(crate) fn read(&self, filter: &Filter) -> Vec<Entry> {
        self.entries()
            .iter()
            .filter(|e| filter.operation.as_deref().is_none_or(|op| e.operation_id == op))
            .filter(|e| filter.status.is_none_or(|status| e.status == status))
            .take(filter.limit.unwrap_or(CAPACITY))
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        self.entries().clear();
    }
}

/// A write's body as the journal keeps it: text, cut at [`BODY_LIMIT`] on
/// a character boundary, and whether it was cut.
pub(crate) fn body_text(body: &[u8]) -> (String, bool) {
    let truncated = body.len() > BODY_LIMIT;
    let mut kept = &body[..body.len().min(BODY_LIMIT)];
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
    (String::from_utf8_lossy(kept).into_owned(), truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize, operation: &str, status: u16) -> Entry {
        Entry {
            time: i as i64,
            method: "GET".to_owned(),
            path: format!("/{i}"),
            operation_id: operation.to_owned(),
            status,
            token: None,
            duration_ms: 0,
            request_id: i.to_string(),
            body: None,
            body_truncated: false,
        }
    }

    #[test]
    fn keeps_the_last_thousand_newest_first() {
        let journal = Journal::default();
        for i in 0..CAPACITY + 5 {
            journal.record(entry(i, "getExperiment", 200));
        }
        let all = journal.read(&Filter::default());
        assert_eq!(all.len(), CAPACITY);
        assert_eq!((all[0].time, all[CAPACITY - 1].time), ((CAPACITY + 4) as i64, 5));
    }

    #[test]
    fn filters_by_operation_status_and_limit() {
        let journal = Journal::default();
        journal.record(entry(0, "getExperiment", 200));
        journal.record(entry(1, "createIteration", 400));
        journal.record(entry(2, "createIteration", 200));
        journal.record(entry(3, "createIteration", 200));
        let filter = |operation: Option<&str>, status, limit| Filter {
            operation: operation.map(str::to_owned),
            status,
            limit,
        };
        let times = |f: Filter| journal.read(&f).iter().map(|e| e.time).collect::<Vec<_>>();
        assert_eq!(times(filter(Some("createIteration"), None, None)), [3, 2, 1]);
        assert_eq!(times(filter(Some("createIteration"), Some(200), Some(1))), [3]);
        assert_eq!(times(filter(None, Some(400), None)), [1]);
        journal.clear();
        assert!(journal.read(&Filter::default()).is_empty());
    }

    #[test]
    fn a_long_body_is_cut_on_a_character_boundary() {
        let mut body = "a".repeat(BODY_LIMIT - 1).into_bytes();
        body.extend_from_slice("é and more".as_bytes());
        let (text, truncated) = body_text(&body);
        assert!(truncated);
        assert_eq!(text.len(), BODY_LIMIT - 1);
        assert_eq!(body_text(b"{}"), ("{}".to_owned(), false));
    }
}
