//! The types of the server's administration API (`/_iteration/...`,
//! `docs/behaviour.md` section 6), which both sides read and write: the
//! server answers with them, the typed client sends and reads them. Built
//! with either feature, so that a client-only build can drive a test
//! double too.

use std::time::Duration;

use http::Method;
use serde::{Deserialize, Serialize};

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

/// Which journaled requests `GET /_iteration/requests` lists; every field
/// left `None` lets every request through.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestFilter {
    /// Only requests of this operation id (`createIteration`, or `unknown`).
    pub operation: Option<String>,
    /// Only requests answered with this status.
    pub status: Option<u16>,
    /// At most this many, newest first (1 to 1000).
    pub limit: Option<usize>,
}

impl RequestFilter {
    /// Only requests of the operation `operation_id`.
    pub fn operation(mut self, operation_id: impl Into<String>) -> RequestFilter {
        self.operation = Some(operation_id.into());
        self
    }

    /// Only requests answered with `status`.
    pub fn status(mut self, status: u16) -> RequestFilter {
        self.status = Some(status);
        self
    }

    /// At most `limit` requests.
    pub fn limit(mut self, limit: usize) -> RequestFilter {
        self.limit = Some(limit);
        self
    }
}

/// One rule of `PUT /_iteration/faults`: requests of `operation` and
/// `method` answer `status` in the error format, after `latency_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultRule {
    /// The operation id (`createIteration`); every operation when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The method (`POST`); every method when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The status to answer, 400 to 599.
    pub status: u16,
    /// How long to wait before answering, at most 60 000 ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// The chance, 0 to 1, that a matching request fails; always when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// How many more requests the rule fails; it is removed when it reaches
    /// 0. Forever when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultRule {
    /// Every request answers `status`, until told otherwise.
    pub fn status(status: u16) -> FaultRule {
        FaultRule { operation: None, method: None, status, latency_ms: None, probability: None, times: None }
    }

    /// Only requests of the operation `operation_id` (`createIteration`).
    pub fn operation(mut self, operation_id: impl Into<String>) -> FaultRule {
        self.operation = Some(operation_id.into());
        self
    }

    /// Only requests of `method`.
    pub fn method(mut self, method: Method) -> FaultRule {
        self.method = Some(method.as_str().to_owned());
        self
    }

    /// Waits `latency` before answering.
    pub fn latency(mut self, latency: Duration) -> FaultRule {
        self.latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Fails a matching request with chance `probability` (0 to 1).
    pub fn probability(mut self, probability: f64) -> FaultRule {
        self.probability = Some(probability);
        self
    }

    /// Fails only the next `times` matching requests.
    pub fn times(mut self, times: u32) -> FaultRule {
        self.times = Some(times);
        self
    }
}
