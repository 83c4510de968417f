//! Turning an `http::Response` into the typed result or the typed error: the
//! one place that knows statuses, error bodies and rate-limit headers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{HeaderMap, RETRY_AFTER};
use http::{Response, StatusCode};
use iteration_model::{ErrorRep, codes};
use serde::de::DeserializeOwned;

use super::error::{ApiErrorDetails, ConflictKind, Error, RateLimit};

/// Most characters of a body quoted in a [`Error::Decode`].
const EXCERPT_CHARS: usize = 200;

/// The typed body of a 2xx response, or the error the response stands for.
/// `now` reads HTTP-date `Retry-After` values.
pub(crate) fn read<T: DeserializeOwned>(response: &Response<Bytes>, now: SystemTime) -> Result<T, Error> {
    let status = response.status();
    if !status.is_success() {
        return Err(error_from(response, now));
    }
    serde_json::from_slice(response.body()).map_err(|source| Error::Decode {
        status,
        excerpt: excerpt(response.body()),
        source,
    })
}

/// Nothing for a 2xx response (a delete's 204 has no body, and any body
/// is ignored), or the error the response stands for.
pub(crate) fn read_no_content(response: &Response<Bytes>, now: SystemTime) -> Result<(), Error> {
    if response.status().is_success() { Ok(()) } else { Err(error_from(response, now)) }
}

/// The body of a 2xx response as it came, or the error the response stands for.
pub(crate) fn read_bytes(response: &Response<Bytes>, now: SystemTime) -> Result<Bytes, Error> {
    if response.status().is_success() { Ok(response.body().clone()) } else { Err(error_from(response, now)) }
}

/// The error a non-success response stands for.
pub(crate) fn error_from(response: &Response<Bytes>, now: SystemTime) -> Error {
    let status = response.status();
    // An error body that is not the documented shape (a proxy's HTML page,
    // say) still yields an error of the right class, without details.
    let body: Option<ErrorRep> = serde_json::from_slice(response.body()).ok();
    let (details, errors) = match body {
        Some(rep) => (
            ApiErrorDetails { status, code: Some(rep.code), message: Some(rep.message), id: rep.id },
            rep.errors.unwrap_or_default(),
        ),
        None => (ApiErrorDetails::new(status), Vec::new()),
    };
    match status {
        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            Error::InvalidRequest { details, errors }
        }
        StatusCode::UNAUTHORIZED => Error::Unauthorized(details),
        StatusCode::FORBIDDEN => Error::Forbidden(details),
        StatusCode::NOT_FOUND => Error::NotFound(details),
        StatusCode::CONFLICT => {
            let kind = match details.code.as_deref() {
                Some(codes::OPTIMISTIC_LOCKING_ERROR) => ConflictKind::OptimisticLock,
                Some(codes::KEY_EXISTS) => ConflictKind::KeyExists,
                _ => ConflictKind::Other,
            };
            Error::Conflict { kind, details }
        }
        StatusCode::TOO_MANY_REQUESTS => {
            Error::RateLimited { details, rate_limit: Box::new(rate_limit(response.headers(), now)) }
        }
        status if status.is_server_error() => Error::Server(details),
        _ => Error::UnexpectedStatus(details),
    }
}

/// The `X-Ratelimit-*` and `Retry-After` figures of a response.
pub(crate) fn rate_limit(headers: &HeaderMap, now: SystemTime) -> RateLimit {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    let instant = |name: &str| UNIX_EPOCH.checked_add(Duration::from_millis(number(name)?));
    RateLimit {
        route_limit: number("x-ratelimit-route-limit"),
        route_remaining: number("x-ratelimit-route-remaining"),
        route_reset: instant("x-ratelimit-reset"),
        token_limit: number("x-ratelimit-auth-token-limit"),
        token_remaining: number("x-ratelimit-auth-token-remaining"),
        token_reset: instant("x-ratelimit-auth-token-reset"),
        retry_after: headers
            .get(RETRY_AFTER)
            .and_then(|value| iteration_transport::parse_retry_after(value, now)),
    }
}

/// The start of `body` as text, at most [`EXCERPT_CHARS`] characters.
fn excerpt(body: &Bytes) -> String {
    String::from_utf8_lossy(body).chars().take(EXCERPT_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use iteration_model::IterationRep;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Bytes> {
        let mut builder = Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Bytes::from(body.to_owned())).unwrap()
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_700_000_000_000)
    }

    fn read_iteration(response: &Response<Bytes>) -> Result<IterationRep, Error> {
        read(response, now())
    }

    #[test]
    fn success_reads_the_documented_body() {
        let body = include_str!("../../fixtures/docs-create-iteration.response.json");
        let rep = read_iteration(&response(200, &[], body)).unwrap();
        let expected: IterationRep = serde_json::from_str(body).unwrap();
        assert_eq!(rep, expected);
    }

    #[test]
    fn validation_failure_keeps_every_field_error() {
        let body = r#"{"code":"invalid_request","message":"2 problems","id":"req-1",
            "errors":[{"path":"/hypothesis","message":"hypothesis is blank"},
                      {"path":"/treatments/1/allocationPercent","message":"allocations sum to 90; they must sum to 100"}]}"#;
        let error = read_iteration(&response(400, &[], body)).unwrap_err();
        let Error::InvalidRequest { details, errors } = &error else { panic!("got {error:?}") };
        assert_eq!(details.status, StatusCode::BAD_REQUEST);
        assert_eq!(details.code.as_deref(), Some("invalid_request"));
        assert_eq!(details.message.as_deref(), Some("2 problems"));
        assert_eq!(details.id.as_deref(), Some("req-1"));
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/hypothesis", "/treatments/1/allocationPercent"]);
        assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
        assert!(!error.is_retryable());
        assert!(error.request_may_have_been_sent());
    }

    #[test]
    fn each_status_maps_to_its_class() {
        type IsClass = fn(&Error) -> bool;
        let cases: [(u16, &str, IsClass); 7] = [
            (401, "unauthorized", |e| matches!(e, Error::Unauthorized(_))),
            (403, "forbidden", |e| matches!(e, Error::Forbidden(_))),
            (404, "not_found", |e| matches!(e, Error::NotFound(_))),
            (415, "unsupported_media_type", |e| matches!(e, Error::InvalidRequest { .. })),
            (500, "internal_server_error", |e| matches!(e, Error::Server(_))),
            (503, "service_unavailable", |e| matches!(e, Error::Server(_))),
            (405, "method_not_allowed", |e| matches!(e, Error::UnexpectedStatus(_))),
        ];
        for (status, code, is_class) in cases {
            let body = format!(r#"{{"code":"{code}","message":"m","id":"i"}}"#);
            let error = read_iteration(&response(status, &[], &body)).unwrap_err();
            assert!(is_class(&error), "{status} gave {error:?}");
            assert_eq!(error.details().and_then(|d| d.code.as_deref()), Some(code));
            assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        }
    }

    #[test]
    fn conflicts_tell_optimistic_lock_from_key_exists() {
        let lock =
            read_iteration(&response(409, &[], r#"{"code":"optimistic_locking_error","message":"m"}"#));
        assert!(matches!(lock, Err(Error::Conflict { kind: ConflictKind::OptimisticLock, .. })));
        let exists = read_iteration(&response(409, &[], r#"{"code":"key_exists","message":"m"}"#));
        assert!(matches!(exists, Err(Error::Conflict { kind: ConflictKind::KeyExists, .. })));
        let other = read_iteration(&response(409, &[], "conflict"));
        assert!(matches!(other, Err(Error::Conflict { kind: ConflictKind::Other, .. })));
    }

    #[test]
    fn rate_limit_reads_every_header() {
        let headers = [
            ("x-ratelimit-route-limit", "10"),
            ("x-ratelimit-route-remaining", "0"),
            ("x-ratelimit-reset", "1700000002000"),
            ("x-ratelimit-auth-token-limit", "100"),
            ("x-ratelimit-auth-token-remaining", "42"),
            ("x-ratelimit-auth-token-reset", "1700000005000"),
            ("retry-after", "2"),
        ];
        let error =
            read_iteration(&response(429, &headers, r#"{"code":"rate_limited","message":"slow down"}"#))
                .unwrap_err();
        let Error::RateLimited { rate_limit, .. } = &error else { panic!("got {error:?}") };
        assert_eq!(rate_limit.route_limit, Some(10));
        assert_eq!(rate_limit.route_remaining, Some(0));
        assert_eq!(rate_limit.route_reset, Some(UNIX_EPOCH + Duration::from_millis(1_700_000_002_000)));
        assert_eq!(rate_limit.token_limit, Some(100));
        assert_eq!(rate_limit.token_remaining, Some(42));
        assert_eq!(rate_limit.token_reset, Some(UNIX_EPOCH + Duration::from_millis(1_700_000_005_000)));
        assert_eq!(rate_limit.retry_after, Some(Duration::from_secs(2)));
        assert_eq!(rate_limit.wait_from(now()), Some(Duration::from_secs(2)));
        assert!(error.is_retryable());

        let without_retry_after = RateLimit { retry_after: None, ..(**rate_limit).clone() };
        assert_eq!(without_retry_after.wait_from(now()), Some(Duration::from_secs(5)));
    }

    #[test]
    fn an_unreadable_body_is_a_decode_error_with_a_short_excerpt() {
        let body = "x".repeat(500);
        let error = read_iteration(&response(200, &[], &body)).unwrap_err();
        let Error::Decode { status, excerpt, .. } = &error else { panic!("got {error:?}") };
        assert_eq!(*status, StatusCode::OK);
        assert_eq!(excerpt.chars().count(), 200);
        assert_eq!(error.status(), Some(StatusCode::OK));
    }

    #[test]
    fn a_delete_reads_no_body_and_maps_refusals() {
        assert!(read_no_content(&response(204, &[], ""), now()).is_ok());
        let not_found = read_no_content(
            &response(404, &[], r#"{"code":"not_found","message":"flag `x` not found"}"#),
            now(),
        );
        let Err(Error::NotFound(details)) = &not_found else { panic!("got {not_found:?}") };
        assert_eq!(details.message.as_deref(), Some("flag `x` not found"));
        let in_use = read_no_content(
            &response(400, &[], r#"{"code":"invalid_request","message":"metric `m` is used by group `g`"}"#),
            now(),
        );
        let Err(Error::InvalidRequest { details, errors }) = &in_use else { panic!("got {in_use:?}") };
        assert_eq!(details.code.as_deref(), Some("invalid_request"));
        assert!(errors.is_empty());
    }

    #[test]
    fn catalog_answers_read_into_the_model_s_types() {
        use iteration_model::{FeatureFlag, FeatureFlags, MetricGroupRep, MetricRep, UpsertResponseRep};
        let flag = r#"{"name":"F","kind":"boolean","key":"f","_version":3,"creationDate":1,
            "variations":[{"_id":"a","value":true},{"_id":"b","value":false}],"temporary":false,"tags":[],
            "_links":{},"experiments":{"baselineIdx":0,"items":[]},"customProperties":{},"archived":false}"#;
        let flag_read: FeatureFlag = read(&response(200, &[], flag), now()).unwrap();
        assert_eq!((flag_read.key.as_str(), flag_read.version), ("f", 3));
        let page = format!(r#"{{"items":[{flag}],"_links":{{}},"totalCount":7}}"#);
        let flags: FeatureFlags = read(&response(200, &[], &page), now()).unwrap();
        assert_eq!((flags.items.len(), flags.total_count), (1, Some(7)));
        let metric = r#"{"_id":"i","_versionId":"v","key":"m","name":"M","kind":"custom","_links":{},"tags":[],
            "_creationDate":1,"dataSource":{"key":"launchdarkly-hosted"}}"#;
        let metric: MetricRep = read(&response(201, &[], metric), now()).unwrap();
        assert_eq!(metric.version_id, "v");
        let group = r#"{"_id":"i","key":"g","name":"G","kind":"funnel","_links":{},"tags":[],"_creationDate":1,
            "_lastModified":1,"maintainer":{"key":"k","kind":"member"},"metrics":[],"_version":1}"#;
        let group: MetricGroupRep = read(&response(201, &[], group), now()).unwrap();
        assert_eq!(group.key, "g");
        let upsert = r#"{"status":"success","_links":{"self":{"href":"/x","type":"application/json"}}}"#;
        let upsert: UpsertResponseRep = read(&response(200, &[], upsert), now()).unwrap();
        assert_eq!(upsert.status.as_deref(), Some("success"));
    }

    #[test]
    fn a_taken_key_and_every_violation_keep_their_details() {
        let taken = read::<serde_json::Value>(
            &response(409, &[], r#"{"code":"key_exists","message":"metric `m` already exists","id":"r"}"#),
            now(),
        );
        let Err(Error::Conflict { kind: ConflictKind::KeyExists, details }) = &taken else {
            panic!("got {taken:?}")
        };
        assert_eq!(details.message.as_deref(), Some("metric `m` already exists"));
        let body = r#"{"code":"invalid_request","message":"m","errors":[
            {"path":"/kind","message":"kind is required","code":"missing_field"},
            {"path":"/randomizationUnits/0","message":"`x` is not enabled","code":"not_allowed"}]}"#;
        let invalid = read::<serde_json::Value>(&response(400, &[], body), now());
        let Err(Error::InvalidRequest { errors, .. }) = &invalid else { panic!("got {invalid:?}") };
        let found: Vec<(&str, Option<&str>)> =
            errors.iter().map(|e| (e.path.as_str(), e.code.as_deref())).collect();
        assert_eq!(found, [("/kind", Some("missing_field")), ("/randomizationUnits/0", Some("not_allowed"))]);
    }

    #[test]
    fn an_error_status_without_an_error_body_keeps_its_class() {
        let error = read_iteration(&response(502, &[], "<html>bad gateway</html>")).unwrap_err();
        let Error::Server(details) = &error else { panic!("got {error:?}") };
        assert_eq!(details, &ApiErrorDetails::new(StatusCode::BAD_GATEWAY));
        assert!(error.is_retryable());
    }
}
