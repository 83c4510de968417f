//! The retry rules, case by case, on the pure decision function with a fixed
//! clock and a deterministic jitter source.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};
use iteration_transport::{
    Attempt, Outcome, RetryDecision, RetryPolicy, TlsFailure, TransportErrorKind, parse_ratelimit_reset,
    parse_retry_after,
};

/// 2015-10-21T07:28:00Z, the instant of the RFC example date.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_445_412_480)
}

fn epoch_ms(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH).unwrap().as_millis().to_string()
}

fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn policy() -> RetryPolicy {
    RetryPolicy::default()
}

/// Decides with jitter fixed at `fraction`.
fn decide_status(
    policy: &RetryPolicy,
    method: Method,
    status: u16,
    headers: &HeaderMap,
    number: u32,
    fraction: f64,
) -> RetryDecision {
    let status = StatusCode::from_u16(status).unwrap();
    let attempt = Attempt::new(&method, Outcome::Response { status, headers }, number, Duration::ZERO);
    policy.decide(&attempt, now(), &mut || fraction)
}

fn decide_error(method: Method, kind: TransportErrorKind, may_have_been_sent: bool) -> RetryDecision {
    let attempt = Attempt::new(&method, Outcome::Failed { kind, may_have_been_sent }, 1, Duration::ZERO);
    policy().decide(&attempt, now(), &mut || 0.5)
}

fn retry(after: Duration) -> RetryDecision {
    RetryDecision::Retry { after }
}

const BASE: Duration = Duration::from_millis(250);

#[test]
fn ratelimit_reset_in_the_future_is_waited_for_plus_jitter() {
    let reset = now() + Duration::from_secs(5);
    let h = headers(&[("x-ratelimit-reset", epoch_ms(reset))]);
    assert_eq!(
        decide_status(&policy(), Method::POST, 429, &h, 1, 0.5),
        retry(Duration::from_secs(5) + BASE / 2)
    );
}

#[test]
fn the_latest_of_both_reset_headers_wins() {
    let h = headers(&[
        ("x-ratelimit-reset", epoch_ms(now() + Duration::from_secs(2))),
        ("x-ratelimit-auth-token-reset", epoch_ms(now() + Duration::from_secs(9))),
    ]);
    assert_eq!(decide_status(&policy(), Method::GET, 429, &h, 1, 0.0), retry(Duration::from_secs(9)));
    assert_eq!(parse_ratelimit_reset(&h, now()), Some(Duration::from_secs(9)));
}

#[test]
fn ratelimit_reset_in_the_past_means_now_plus_jitter() {
    let h = headers(&[("x-ratelimit-reset", epoch_ms(now() - Duration::from_secs(30)))]);
    assert_eq!(parse_ratelimit_reset(&h, now()), Some(Duration::ZERO));
    assert_eq!(decide_status(&policy(), Method::GET, 429, &h, 1, 0.4), retry(BASE.mul_f64(0.4)));
}

#[test]
fn a_429_without_hints_backs_off_exponentially() {
    let h = HeaderMap::new();
    assert_eq!(parse_ratelimit_reset(&h, now()), None);
    assert_eq!(decide_status(&policy(), Method::POST, 429, &h, 1, 1.0), retry(BASE));
    assert_eq!(decide_status(&policy(), Method::POST, 429, &h, 3, 1.0), retry(BASE * 4));
    assert_eq!(decide_status(&policy(), Method::POST, 429, &h, 3, 0.5), retry(BASE * 2));
}

#[test]
fn retry_after_in_seconds() {
    let h = headers(&[("retry-after", "7".to_owned())]);
    assert_eq!(decide_status(&policy(), Method::POST, 429, &h, 1, 0.0), retry(Duration::from_secs(7)));
    assert_eq!(decide_status(&policy(), Method::POST, 429, &h, 1, 1.0), retry(Duration::from_secs(7) + BASE));
}

#[test]
fn retry_after_as_a_date() {
    let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:10 GMT".to_owned())]);
    assert_eq!(decide_status(&policy(), Method::GET, 429, &h, 1, 0.0), retry(Duration::from_secs(10)));
    let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:00:00 GMT");
    assert_eq!(parse_retry_after(&past, now()), Some(Duration::ZERO));
}

#[test]
fn retry_after_takes_precedence_over_reset_headers() {
    let h = headers(&[
        ("retry-after", "3".to_owned()),
        ("x-ratelimit-reset", epoch_ms(now() + Duration::from_secs(40))),
    ]);
    assert_eq!(decide_status(&policy(), Method::GET, 429, &h, 1, 0.0), retry(Duration::from_secs(3)));
}

#[test]
fn malformed_retry_after_falls_back() {
    for bad in ["soon", "-1", "1.5", "", "Wed, 21 Oct 2015 07:28:10 CET"] {
        let value = HeaderValue::from_str(bad).unwrap();
        assert_eq!(parse_retry_after(&value, now()), None, "{bad:?}");
    }
    assert_eq!(parse_retry_after(&HeaderValue::from_static(" 120 "), now()), Some(Duration::from_secs(120)));
    let mut h = HeaderMap::new();
    h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
    h.insert("x-ratelimit-reset", HeaderValue::from_static("not-a-number"));
    // Falls back to backoff.
    assert_eq!(decide_status(&policy(), Method::GET, 429, &h, 2, 1.0), retry(BASE * 2));
}

#[test]
fn client_errors_and_conflicts_are_final() {
    let h = HeaderMap::new();
    for status in [400, 401, 403, 404, 409, 413, 415, 200, 201, 204, 301] {
        for method in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
            assert_eq!(
                decide_status(&policy(), method.clone(), status, &h, 1, 0.5),
                RetryDecision::GiveUp,
                "{method} {status}"
            );
        }
    }
}

#[test]
fn server_errors_are_retried_only_for_idempotent_methods() {
    let h = HeaderMap::new();
    for status in [500, 502, 503, 504] {
        for method in [Method::GET, Method::HEAD, Method::OPTIONS, Method::PUT, Method::DELETE] {
            assert_eq!(
                decide_status(&policy(), method.clone(), status, &h, 1, 1.0),
                retry(BASE),
                "{method} {status}"
            );
        }
        for method in [Method::POST, Method::PATCH] {
            assert_eq!(
                decide_status(&policy(), method.clone(), status, &h, 1, 1.0),
                RetryDecision::GiveUp,
                "{method} {status}"
            );
        }
    }
    // 501 is not transient.
    assert_eq!(decide_status(&policy(), Method::GET, 501, &h, 1, 1.0), RetryDecision::GiveUp);
}

#[test]
fn a_503_with_retry_after_is_honoured() {
    let h = headers(&[("retry-after", "4".to_owned())]);
    assert_eq!(decide_status(&policy(), Method::GET, 503, &h, 1, 0.0), retry(Duration::from_secs(4)));
}

#[test]
fn post_after_a_connection_error_only_when_never_sent() {
    for kind in [
        TransportErrorKind::ConnectionRefused,
        TransportErrorKind::ConnectTimeout,
        TransportErrorKind::Dns,
        TransportErrorKind::Connect,
        TransportErrorKind::Tls(TlsFailure::Handshake),
    ] {
        assert_eq!(decide_error(Method::POST, kind, false), retry(BASE / 2), "{kind:?}");
    }
    for kind in [TransportErrorKind::Request, TransportErrorKind::RequestTimeout] {
        assert_eq!(decide_error(Method::POST, kind, true), RetryDecision::GiveUp, "{kind:?}");
        assert_eq!(decide_error(Method::PATCH, kind, true), RetryDecision::GiveUp, "{kind:?}");
        assert_eq!(decide_error(Method::GET, kind, true), retry(BASE / 2));
    }
}

#[test]
fn deterministic_failures_are_never_retried() {
    for kind in [
        TransportErrorKind::Tls(TlsFailure::UntrustedCertificate),
        TransportErrorKind::Tls(TlsFailure::InvalidCertificate),
        TransportErrorKind::InvalidRequest,
        TransportErrorKind::BodyTooLarge { limit: 10 },
    ] {
        assert_eq!(decide_error(Method::GET, kind, false), RetryDecision::GiveUp, "{kind:?}");
    }
}

#[test]
fn attempts_are_capped() {
    let h = HeaderMap::new();
    let p = policy();
    assert!(matches!(decide_status(&p, Method::GET, 503, &h, 3, 0.5), RetryDecision::Retry { .. }));
    assert_eq!(decide_status(&p, Method::GET, 503, &h, 4, 0.5), RetryDecision::GiveUp);
    let never = RetryPolicy::never();
    assert_eq!(decide_status(&never, Method::GET, 503, &h, 1, 0.5), RetryDecision::GiveUp);
}

#[test]
fn total_time_is_capped() {
    let h = headers(&[("retry-after", "2".to_owned())]);
    let method = Method::GET;
    let status = StatusCode::TOO_MANY_REQUESTS;
    let at = |elapsed| Attempt::new(&method, Outcome::Response { status, headers: &h }, 1, elapsed);
    let p = policy();
    assert_eq!(p.decide(&at(Duration::from_secs(58)), now(), &mut || 0.0), retry(Duration::from_secs(2)));
    assert_eq!(p.decide(&at(Duration::from_millis(58_001)), now(), &mut || 0.0), RetryDecision::GiveUp);
    // A server asking for more than the whole budget is not waited for.
    let long = headers(&[("retry-after", "3600".to_owned())]);
    assert_eq!(decide_status(&p, Method::GET, 429, &long, 1, 0.0), RetryDecision::GiveUp);
}

#[test]
fn backoff_jitter_stays_within_bounds() {
    let h = HeaderMap::new();
    let p = policy();
    for number in 1..=3 {
        let ceiling = (BASE * 2u32.pow(number - 1)).min(p.max_delay);
        for fraction in [0.0, 0.1, 0.5, 0.999_999, 1.0, 1.5, -3.0, f64::NAN] {
            match decide_status(&p, Method::GET, 500, &h, number, fraction) {
                RetryDecision::Retry { after } => {
                    assert!(after <= ceiling, "{number} {fraction} {after:?}")
                }
                RetryDecision::GiveUp => panic!("attempt {number} should retry"),
            }
        }
    }
    // Deep attempts are capped by max_delay, and doubling never overflows.
    let many = RetryPolicy::default().with_max_attempts(100).with_max_elapsed(Duration::from_secs(3600));
    assert_eq!(decide_status(&many, Method::GET, 500, &h, 60, 1.0), retry(Duration::from_secs(30)));
    // Server-given waits get at most base_delay extra.
    let told = headers(&[("retry-after", "1".to_owned())]);
    for fraction in [0.0, 0.3, 0.999, 1.0, 7.0] {
        match decide_status(&p, Method::GET, 429, &told, 1, fraction) {
            RetryDecision::Retry { after } => {
                assert!(after >= Duration::from_secs(1) && after <= Duration::from_secs(1) + BASE)
            }
            RetryDecision::GiveUp => panic!("should retry"),
        }
    }
}

#[test]
fn a_classifier_overrides_the_rules_but_not_the_caps() {
    let p = policy().with_classifier(|attempt| match attempt.outcome {
        Outcome::Response { status, .. } if status == StatusCode::CONFLICT => {
            Some(RetryDecision::Retry { after: Duration::from_millis(5) })
        }
        _ => None,
    });
    let h = HeaderMap::new();
    assert_eq!(decide_status(&p, Method::POST, 409, &h, 1, 0.5), retry(Duration::from_millis(5)));
    assert_eq!(decide_status(&p, Method::POST, 409, &h, 4, 0.5), RetryDecision::GiveUp);
    // Other outcomes fall through to the built-in rules.
    assert_eq!(decide_status(&p, Method::POST, 400, &h, 1, 0.5), RetryDecision::GiveUp);
}

#[test]
fn configurable_statuses_and_429() {
    let mut p = policy();
    p.retry_statuses.push(StatusCode::from_u16(522).unwrap());
    p.retry_on_429 = false;
    let h = HeaderMap::new();
    assert_eq!(decide_status(&p, Method::GET, 522, &h, 1, 1.0), retry(BASE));
    assert_eq!(decide_status(&p, Method::GET, 429, &h, 1, 1.0), RetryDecision::GiveUp);
}
