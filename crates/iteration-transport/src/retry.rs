//! When to send a request again, and after how long.
//!
//! [`RetryPolicy::decide`] is a pure function of the attempt, the wall clock
//! and a jitter source, so every rule is tested without sleeping; the client's
//! retry loop only feeds it real values and sleeps for what it answers.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};

use crate::error::{TlsFailure, TransportError, TransportErrorKind};

/// Rate-limit reset instants, in milliseconds since the Unix epoch.
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const RATELIMIT_AUTH_TOKEN_RESET: HeaderName = HeaderName::from_static("x-ratelimit-auth-token-reset");

/// What a [`RetryPolicy`] tells the caller to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Send the request again after waiting this long.
    Retry {
        /// How long to wait before the next attempt.
        after: Duration,
    },
    /// Stop here and hand the last outcome to the caller.
    GiveUp,
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// The server answered.
    Response {
        /// The response status.
        status: StatusCode,
        /// The response headers (for `Retry-After` and rate-limit headers).
        headers: &'a HeaderMap,
    },
    /// No response was received.
    Failed {
        /// What went wrong.
        kind: TransportErrorKind,
        /// Whether the request may have reached the server, see
        /// [`TransportError::request_may_have_been_sent`].
        may_have_been_sent: bool,
    },
}

impl<'a> Outcome<'a> {
    /// The outcome of a client call.
    pub fn of<B>(result: &'a Result<http::Response<B>, TransportError>) -> Self {
        match result {
            Ok(response) => Outcome::Response { status: response.status(), headers: response.headers() },
            Err(error) => {
                Outcome::Failed { kind: error.kind(), may_have_been_sent: error.request_may_have_been_sent() }
            }
        }
    }
}

/// One finished attempt, the input of [`RetryPolicy::decide`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Attempt<'a> {
    /// The request method (decides idempotency).
    pub method: &'a Method,
    /// How the attempt ended.
    pub outcome: Outcome<'a>,
    /// 1 for the first attempt.
    pub number: u32,
    /// Time since the first attempt started.
    pub elapsed: Duration,
}

impl<'a> Attempt<'a> {
    /// Describes attempt `number` (1-based), `elapsed` after the first began.
    pub fn new(method: &'a Method, outcome: Outcome<'a>, number: u32, elapsed: Duration) -> Self {
        Self { method, outcome, number, elapsed }
    }
}

/// A source of randomness for jitter: each call returns a value in `[0, 1)`.
///
/// Implemented for closures so tests can pass `&mut || 0.5`.
pub trait Jitter {
    /// A uniformly distributed value in `[0, 1)`.
    fn next_fraction(&mut self) -> f64;
}

impl<F: FnMut() -> f64> Jitter for F {
    fn next_fraction(&mut self) -> f64 {
        self()
    }
}

/// Jitter from a fast, non-cryptographic thread-local generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn next_fraction(&mut self) -> f64 {
        fastrand::f64()
    }
}

/// A caller-supplied rule consulted before the built-in ones; `None` defers
/// to them. The attempt and elapsed-time caps still apply to its answer.
pub type RetryClassifier = Arc<dyn Fn(&Attempt<'_>) -> Option<RetryDecision> + Send + Sync>;

/// Told right before the client sleeps ahead of another attempt, so that an
/// application can say why it is waiting (see [`RetryPolicy::with_observer`]).
pub type RetryObserver = Arc<dyn Fn(&RetryNotice) + Send + Sync>;

/// What the client is about to wait for: the attempt that just ended, how
/// long until the next, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryNotice {
    /// The attempt that just ended, 1 for the first; the next is one more.
    pub attempt: u32,
    /// The most attempts the policy allows, the first included.
    pub max_attempts: u32,
    /// How long the client sleeps before the next attempt.
    pub wait: Duration,
    /// Whether the server answered `429 Too Many Requests`.
    pub rate_limited: bool,
    /// The status the attempt got, when the server answered.
    pub status: Option<StatusCode>,
    /// What went wrong, when no response came.
    pub failure: Option<TransportErrorKind>,
}

impl RetryNotice {
    /// The notice for `attempt`, which `policy` decided to retry after `wait`.
    pub fn new(attempt: &Attempt<'_>, wait: Duration, policy: &RetryPolicy) -> RetryNotice {
        let (status, failure) = match attempt.outcome {
            Outcome::Response { status, .. } => (Some(status), None),
            Outcome::Failed { kind, .. } => (None, Some(kind)),
        };
        RetryNotice {
            attempt: attempt.number,
            max_attempts: policy.max_attempts,
            wait,
            rate_limited: status == Some(StatusCode::TOO_MANY_REQUESTS),
            status,
            failure,
        }
    }

    /// The number of the attempt that follows the wait.
    pub fn next_attempt(&self) -> u32 {
        self.attempt.saturating_add(1)
    }
}

/// When and how long to wait before sending a request again.
///
/// Rules, in order:
/// 1. never more than `max_attempts` attempts in total;
/// 2. the `classifier`, if any and if it has an opinion;
/// 3. `429 Too Many Requests` (any method: the server did not process it):
///    wait for `Retry-After` (seconds or HTTP date), else for the latest of
///    `X-Ratelimit-Reset` / `X-Ratelimit-Auth-Token-Reset` (epoch
///    milliseconds; a past instant means "now"), else exponential backoff;
///    server-given waits get an extra random `0..=base_delay` so that clients
///    do not all wake up at the same instant, and are not capped by
///    `max_delay` (retrying earlier than asked would only earn another 429);
/// 4. a status in `retry_statuses` (500, 502, 503, 504) only for
///    `idempotent_methods`, waiting for `Retry-After` when present, else
///    backing off;
/// 5. a failure before any response: for idempotent methods always, for the
///    others only when the request provably never left (connect, DNS, TLS
///    handshake); certificate errors, invalid requests and oversized bodies
///    are never retried because another attempt would fail the same way;
/// 6. anything else (2xx, 3xx, 400, 401, 403, 404, 409, 413, 415...) is final;
/// 7. a wait that would end more than `max_elapsed` after the first attempt
///    started gives up instead.
///
/// Backoff is "full jitter": uniform in `[0, min(max_delay, base_delay *
/// 2^(attempt-1))]`.
#[derive(Clone)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 disables retries. Default 4.
    pub max_attempts: u32,
    /// No retry may start later than this after the first attempt. Default 60 s.
    pub max_elapsed: Duration,
    /// First backoff step and server-wait jitter bound. Default 250 ms.
    pub base_delay: Duration,
    /// Upper bound of a backoff step. Default 30 s.
    pub max_delay: Duration,
    /// Methods that may be repeated after a 5xx or a failure after sending.
    /// Default GET, HEAD, OPTIONS, PUT, DELETE.
    pub idempotent_methods: Vec<Method>,
    /// Server-error statuses retried for idempotent methods. Default 500,
    /// 502, 503, 504.
    pub retry_statuses: Vec<StatusCode>,
    /// Whether 429 is retried (for every method). Default true.
    pub retry_on_429: bool,
    /// Optional custom rule consulted first.
    pub classifier: Option<RetryClassifier>,
    /// Optional observer told before each wait; it cannot change the decision.
    pub observer: Option<RetryObserver>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_elapsed: Duration::from_secs(60),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            idempotent_methods: vec![Method::GET, Method::HEAD, Method::OPTIONS, Method::PUT, Method::DELETE],
            retry_statuses: vec![
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::BAD_GATEWAY,
                StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::GATEWAY_TIMEOUT,
            ],
            retry_on_429: true,
            classifier: None,
            observer: None,
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("max_elapsed", &self.max_elapsed)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .field("idempotent_methods", &self.idempotent_methods)
            .field("retry_statuses", &self.retry_statuses)
            .field("retry_on_429", &self.retry_on_429)
            .field("classifier", &self.classifier.as_ref().map(|_| "<fn>"))
            .field("observer", &self.observer.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// Sets `max_attempts`.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets `max_elapsed`.
    pub fn with_max_elapsed(mut self, max_elapsed: Duration) -> Self {
        self.max_elapsed = max_elapsed;
        self
    }

    /// Sets `base_delay` and `max_delay`.
    pub fn with_delays(mut self, base_delay: Duration, max_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self.max_delay = max_delay;
        self
    }

    /// Sets the custom `classifier`.
    pub fn with_classifier(
        mut self,
        classifier: impl Fn(&Attempt<'_>) -> Option<RetryDecision> + Send + Sync + 'static,
    ) -> Self {
        self.classifier = Some(Arc::new(classifier));
        self
    }

    /// Sets the `observer`: called with a [`RetryNotice`] right before the
    /// client sleeps ahead of another attempt, never when it gives up. Keep
    /// it quick: the request waits for it.
    pub fn with_observer(mut self, observer: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Tells the observer, if any, that `attempt` is retried after `wait`.
    pub fn notify(&self, attempt: &Attempt<'_>, wait: Duration) {
        if let Some(observer) = &self.observer {
            observer(&RetryNotice::new(attempt, wait, self));
        }
    }

    /// Decides what to do after `attempt`; `now` is the wall clock (for HTTP
    /// dates and epoch-based reset headers), `jitter` the randomness source.
    pub fn decide(
        &self,
        attempt: &Attempt<'_>,
        now: SystemTime,
        jitter: &mut (impl Jitter + ?Sized),
    ) -> RetryDecision {
        if attempt.number >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        let decision = match self.classifier.as_ref().and_then(|rule| rule(attempt)) {
            Some(decision) => decision,
            None => self.builtin(attempt, now, jitter),
        };
        match decision {
            RetryDecision::Retry { after } if attempt.elapsed.saturating_add(after) > self.max_elapsed => {
                RetryDecision::GiveUp
            }
            decision => decision,
        }
    }

    fn builtin(
        &self,
        attempt: &Attempt<'_>,
        now: SystemTime,
        jitter: &mut (impl Jitter + ?Sized),
    ) -> RetryDecision {
        let idempotent = self.idempotent_methods.contains(attempt.method);
        let after = match attempt.outcome {
            Outcome::Response { status, headers }
                if status == StatusCode::TOO_MANY_REQUESTS && self.retry_on_429 =>
            {
                let told = headers
                    .get(RETRY_AFTER)
                    .and_then(|value| parse_retry_after(value, now))
                    .or_else(|| parse_ratelimit_reset(headers, now));
                match told {
                    Some(wait) => wait.saturating_add(self.spread(jitter)),
                    None => self.backoff(attempt.number, jitter),
                }
            }
            Outcome::Response { status, headers } if idempotent && self.retry_statuses.contains(&status) => {
                match headers.get(RETRY_AFTER).and_then(|value| parse_retry_after(value, now)) {
                    Some(wait) => wait.saturating_add(self.spread(jitter)),
                    None => self.backoff(attempt.number, jitter),
                }
            }
            Outcome::Response { .. } => return RetryDecision::GiveUp,
            Outcome::Failed { kind, may_have_been_sent } => {
                if !error_is_transient(kind) || (may_have_been_sent && !idempotent) {
                    return RetryDecision::GiveUp;
                }
                self.backoff(attempt.number, jitter)
            }
        };
        RetryDecision::Retry { after }
    }

    /// Full-jitter exponential backoff after attempt `number` (1-based).
    fn backoff(&self, number: u32, jitter: &mut (impl Jitter + ?Sized)) -> Duration {
        let doublings = number.saturating_sub(1).min(31);
        let ceiling =
            self.base_delay.checked_mul(1u32 << doublings).unwrap_or(Duration::MAX).min(self.max_delay);
        ceiling.mul_f64(fraction(jitter))
    }

    /// The small random extra added to a server-given wait.
    fn spread(&self, jitter: &mut (impl Jitter + ?Sized)) -> Duration {
        self.base_delay.mul_f64(fraction(jitter))
    }
}

/// A jitter value forced into `[0, 1]`, so that a faulty source can neither
/// panic `Duration::mul_f64` nor stretch a wait.
fn fraction(jitter: &mut (impl Jitter + ?Sized)) -> f64 {
    let f = jitter.next_fraction();
    if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) }
}

/// Whether another attempt could plausibly end differently.
fn error_is_transient(kind: TransportErrorKind) -> bool {
    match kind {
        TransportErrorKind::InvalidRequest | TransportErrorKind::BodyTooLarge { .. } => false,
        TransportErrorKind::Tls(failure) => failure == TlsFailure::Handshake,
        // A proxy that wants credentials or forbids the target will say so
        // again; one that could not reach the target may succeed next time.
        TransportErrorKind::ProxyRejected { status } => matches!(status, 502..=504),
        _ => true,
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP date in any of the
/// three formats RFC 9110 (section 5.6.7) asks recipients to accept: the
/// IMF-fixdate `Wed, 21 Oct 2015 07:28:00 GMT`, and the obsolete RFC 850
/// `Wednesday, 21-Oct-15 07:28:00 GMT` and asctime `Wed Oct 21 07:28:00 2015`.
/// A date in the past means "now" (`Duration::ZERO`). Returns `None` when the
/// value is malformed.
pub fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().map(Duration::from_secs);
    }
    let at = parse_http_date(text, now)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An HTTP date in any of its three formats; `now` places the two-digit
/// years of the RFC 850 format.
///
/// The IMF-fixdate and asctime formats go to the `httpdate` crate, which also
/// checks that the day name fits the date and refuses years before 1970. The
/// RFC 850 format stays here: `httpdate` reads its two-digit years with a
/// fixed 1970 pivot (`76` is 1976 forever) where RFC 9110 asks for the year
/// nearest before 50 years from now, and it would refuse a day name that does
/// not fit, which RFC 850 dates from old servers often get wrong.
fn parse_http_date(text: &str, now: SystemTime) -> Option<SystemTime> {
    if looks_like_rfc850(text) {
        return parse_rfc850_date(text, now);
    }
    httpdate::parse_http_date(text).ok()
}

/// `Sunday, 06-Nov-94 ...`: a full day name before the comma, which the
/// other two formats never have.
fn looks_like_rfc850(text: &str) -> bool {
    text.split_once(", ").is_some_and(|(day, _)| LONG_DAYS.contains(&day))
}

/// Reads `X-Ratelimit-Reset` and `X-Ratelimit-Auth-Token-Reset` (epoch
/// milliseconds), takes the latest present and returns the wait until then;
/// an instant in the past means "now" (`Duration::ZERO`). `None` when
/// neither header holds a number.
pub fn parse_ratelimit_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let latest = [RATELIMIT_RESET, RATELIMIT_AUTH_TOKEN_RESET]
        .iter()
        .filter_map(|name| headers.get(name))
        .filter_map(|value| value.to_str().ok()?.trim().parse::<u64>().ok())
        .max()?;
    let at = UNIX_EPOCH.checked_add(Duration::from_millis(latest))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

const LONG_DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The digits at `range` of `text` as a number; `None` unless all are ASCII
/// digits.
fn digits(text: &str, range: std::ops::Range<usize>) -> Option<u32> {
    let field = text.get(range)?;
    if !field.is_empty() && field.bytes().all(|d| d.is_ascii_digit()) { field.parse().ok() } else { None }
}

/// The month named by the three letters at `range`, 1 to 12.
fn month(text: &str, range: std::ops::Range<usize>) -> Option<u32> {
    let name = text.get(range)?;
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// `hh:mm:ss` starting at byte `at`.
fn time_of_day(text: &str, at: usize) -> Option<(u32, u32, u32)> {
    let b = text.as_bytes();
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    Some((digits(text, at..at + 2)?, digits(text, at + 3..at + 5)?, digits(text, at + 6..at + 8)?))
}

/// The instant of a UTC date and time, `None` when it does not exist.
fn instant(year: u32, month: u32, day: u32, (hour, minute, second): (u32, u32, u32)) -> Option<SystemTime> {
    // 60 allows a leap second; it is folded into the next minute.
    if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_since_epoch(i64::from(year), i64::from(month), i64::from(day));
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    match u64::try_from(secs) {
        Ok(secs) => UNIX_EPOCH.checked_add(Duration::from_secs(secs)),
        // Before 1970: certainly in the past.
        Err(_) => Some(UNIX_EPOCH),
    }
}

/// Parses the obsolete RFC 850 format, `Sunday, 06-Nov-94 08:49:37 GMT`. Its
/// two-digit year is the one nearest before `now`'s year + 50, as RFC 9110
/// asks: a year that would be more than 50 years ahead is taken as the most
/// recent past year with the same last two digits.
fn parse_rfc850_date(text: &str, now: SystemTime) -> Option<SystemTime> {
    let (day_name, rest) = text.split_once(", ")?;
    let b = rest.as_bytes();
    if !LONG_DAYS.contains(&day_name) || b.len() != 22 || b[2] != b'-' || b[6] != b'-' || b[9] != b' ' {
        return None;
    }
    if &b[18..] != b" GMT" {
        return None;
    }
    let current = current_year(now);
    let mut year = current - current.rem_euclid(100) + i64::from(digits(rest, 7..9)?);
    if year > current + 50 {
        year -= 100;
    }
    instant(u32::try_from(year).ok()?, month(rest, 3..6)?, digits(rest, 0..2)?, time_of_day(rest, 10)?)
}

/// The UTC year `now` falls in.
fn current_year(now: SystemTime) -> i64 {
    let secs = match now.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    year_of_day(secs.div_euclid(86_400))
}

/// The year of the day `days` after 1970-01-01: the inverse of
/// [`days_since_epoch`] for the year, in the same March-based eras.
fn year_of_day(days: i64) -> i64 {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    // January and February belong to the era year that began the March before.
    year_of_era + era * 400 + i64::from(month_from_march >= 10)
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date.
///
/// Counts in 400-year eras starting on March 1st, so that the leap day is the
/// last day of its year and every era has the same 146 097 days.
fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days separate 0000-03-01 from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// The IMF-fixdate format alone: any instant will do for `now`.
    fn parse_imf_fixdate(text: &str) -> Option<SystemTime> {
        parse_http_date(text, UNIX_EPOCH)
    }

    #[test]
    fn imf_fixdate_known_instants() {
        assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(UNIX_EPOCH));
        // 2015-10-21T07:28:00Z
        assert_eq!(parse_imf_fixdate("Wed, 21 Oct 2015 07:28:00 GMT"), Some(at(1_445_412_480)));
        // A leap day: 2024-02-29T12:00:00Z
        assert_eq!(parse_imf_fixdate("Thu, 29 Feb 2024 12:00:00 GMT"), Some(at(1_709_208_000)));
        assert_eq!(parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"), Some(at(784_111_777)));
    }

    #[test]
    fn obsolete_formats_give_the_same_instant() {
        let now = at(1_795_000_000); // 2026-11-18
        let sunday = at(784_111_777); // 1994-11-06T08:49:37Z, RFC 9110's example
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(sunday));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now), Some(sunday));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994", now), Some(sunday));
        assert_eq!(parse_http_date("Thu Feb 29 12:00:00 2024", now), Some(at(1_709_208_000)));
        assert_eq!(parse_http_date("Thursday, 29-Feb-24 12:00:00 GMT", now), Some(at(1_709_208_000)));
    }

    #[test]
    fn rfc850_two_digit_years_are_at_most_50_years_ahead() {
        let now = at(1_795_000_000); // 2026
        let year = |yy: &str| {
            let date = parse_rfc850_date(&format!("Monday, 01-Jan-{yy} 00:00:00 GMT"), now).unwrap();
            year_of_day((date.duration_since(UNIX_EPOCH).unwrap().as_secs() / 86_400) as i64)
        };
        assert_eq!(year("26"), 2026);
        assert_eq!(year("30"), 2030);
        assert_eq!(year("76"), 2076);
        assert_eq!(year("77"), 1977);
        assert_eq!(year("99"), 1999);
        assert_eq!(year("00"), 2000);
    }

    #[test]
    fn year_of_day_inverts_days_since_epoch() {
        for (year, month, day) in
            [(1970, 1, 1), (1969, 12, 31), (2000, 2, 29), (2024, 3, 1), (2026, 1, 1), (2399, 12, 31)]
        {
            assert_eq!(year_of_day(days_since_epoch(year, month, day)), year, "{year}-{month}-{day}");
        }
        assert_eq!(current_year(at(1_795_000_000)), 2026);
        assert_eq!(current_year(UNIX_EPOCH - Duration::from_secs(1)), 1969);
    }

    #[test]
    fn obsolete_formats_reject_malformed() {
        let now = at(1_795_000_000);
        for bad in [
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 UTC",
            "Funday, 06-Nov-94 08:49:37 GMT",
            "Sunday, 31-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-94 08-49-37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "Sunday Nov  6 08:49:37 1994",
            "Sun Nov 31 08:49:37 1994",
            "Sun Nov  x 08:49:37 1994",
            "Sun Nov  6 08:49:37 1994 GMT",
        ] {
            assert_eq!(parse_http_date(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_reads_every_date_format() {
        let now = at(784_111_777 - 30);
        for date in
            ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"]
        {
            let value = HeaderValue::from_str(date).unwrap();
            assert_eq!(parse_retry_after(&value, now), Some(Duration::from_secs(30)), "{date}");
        }
    }

    #[test]
    fn the_observer_hears_each_retry_with_its_wait_and_cause() {
        use std::sync::Mutex;

        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = heard.clone();
        let policy = RetryPolicy::default().with_observer(move |notice| sink.lock().unwrap().push(*notice));
        let headers = HeaderMap::new();
        let limited = Outcome::Response { status: StatusCode::TOO_MANY_REQUESTS, headers: &headers };
        policy.notify(&Attempt::new(&Method::GET, limited, 1, Duration::ZERO), Duration::from_secs(8));
        let refused = Outcome::Failed { kind: TransportErrorKind::Connect, may_have_been_sent: false };
        policy.notify(&Attempt::new(&Method::POST, refused, 2, Duration::ZERO), Duration::from_millis(300));

        let heard = heard.lock().unwrap();
        assert_eq!(heard.len(), 2);
        assert_eq!(
            (heard[0].attempt, heard[0].next_attempt(), heard[0].max_attempts, heard[0].wait),
            (1, 2, 4, Duration::from_secs(8))
        );
        assert!(heard[0].rate_limited);
        assert_eq!((heard[0].status, heard[0].failure), (Some(StatusCode::TOO_MANY_REQUESTS), None));
        assert!(!heard[1].rate_limited);
        assert_eq!((heard[1].status, heard[1].failure), (None, Some(TransportErrorKind::Connect)));

        // Without an observer there is nobody to tell, and nothing fails.
        RetryPolicy::default()
            .notify(&Attempt::new(&Method::GET, limited, 1, Duration::ZERO), Duration::ZERO);
        assert!(format!("{policy:?}").contains("observer: Some(\"<fn>\")"));
    }

    #[test]
    fn imf_fixdate_rejects_malformed() {
        for bad in [
            "",
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Wed, 21 Oct 2015 07:28:00",
            "Xyz, 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 Foo 2015 07:28:00 GMT",
            "Wed, 30 Feb 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 24:28:00 GMT",
            "Wed, 2x Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMTé",
            // The day name must fit the date.
            "Thu, 21 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_imf_fixdate(bad), None, "{bad:?}");
        }
    }
}
