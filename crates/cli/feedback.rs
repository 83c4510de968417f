//! What a person at a terminal sees besides the result: colour, a notice
//! while a retry waits, a progress line while pages are fetched, and the
//! client's logs with `-v`.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use iteration_transport::{Attempt, Outcome, RandomJitter, RetryDecision, RetryPolicy};

/// Whether to colour what goes to a stream: only a terminal, and never when
/// `NO_COLOR` is set to anything (<https://no-color.org>).
pub(crate) fn colour(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Whether standard error gets colour.
pub(crate) fn stderr_colour() -> bool {
    colour(std::io::stderr().is_terminal())
}

/// `text` in bold red when `on`.
pub(crate) fn red(text: &str, on: bool) -> String {
    if on { format!("\x1b[1;31m{text}\x1b[0m") } else { text.to_owned() }
}

/// Told when the client is about to wait before sending a request again.
pub(crate) trait RetryNotice: Send + Sync {
    /// Attempt `next` of `max` starts after `wait`; `why` says what failed.
    fn waiting(&self, why: &str, wait: Duration, next: u32, max: u32);
}

/// Writes the notice as one line on standard error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StderrNotice;

impl RetryNotice for StderrNotice {
    fn waiting(&self, why: &str, wait: Duration, next: u32, max: u32) {
        let line = notice_line(why, wait, next, max);
        // Nowhere to report a failed write to standard error.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// `rate limited by the server; retrying in 8 s (attempt 2 of 4)`.
pub(crate) fn notice_line(why: &str, wait: Duration, next: u32, max: u32) -> String {
    format!("{why}; retrying in {} (attempt {next} of {max})", seconds(wait))
}

/// Whole seconds, rounded up, or milliseconds under one second.
fn seconds(wait: Duration) -> String {
    if wait < Duration::from_secs(1) {
        format!("{} ms", wait.as_millis())
    } else {
        format!("{} s", wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }
}

/// What an attempt that will be retried ran into, for a person.
fn why(outcome: &Outcome<'_>) -> String {
    match outcome {
        Outcome::Response { status, .. } if status.as_u16() == 429 => "rate limited by the server".to_owned(),
        Outcome::Response { status, .. } => format!("the server answered {}", status.as_u16()),
        Outcome::Failed { kind, .. } => format!("the request failed ({kind:?})"),
        _ => "the attempt failed".to_owned(),
    }
}

/// `policy`, telling `notice` before each wait.
///
/// The transport has no retry callback; its policy's classifier, consulted
/// before the built-in rules, stands in for one: it asks a copy of the
/// policy without the classifier for the decision (the same rules, caps
/// and clock), tells `notice` when that is a retry, and answers with it.
pub(crate) fn with_notice(policy: RetryPolicy, notice: Arc<dyn RetryNotice>) -> RetryPolicy {
    let mut rules = policy.clone();
    rules.classifier = None;
    let max = rules.max_attempts;
    policy.with_classifier(move |attempt: &Attempt<'_>| {
        let decision = rules.decide(attempt, SystemTime::now(), &mut RandomJitter);
        if let RetryDecision::Retry { after } = decision {
            notice.waiting(&why(&attempt.outcome), after, attempt.number + 1, max);
        }
        Some(decision)
    })
}

/// A progress line on standard error, rewritten in place; only on a terminal.
pub(crate) struct Progress {
    on: bool,
    shown: bool,
}

impl Progress {
    pub(crate) fn new() -> Progress {
        Progress { on: std::io::stderr().is_terminal(), shown: false }
    }

    /// Replaces the line with `text`.
    pub(crate) fn show(&mut self, text: &str) {
        if self.on {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{text}");
            self.shown = true;
        }
    }

    /// Clears the line.
    pub(crate) fn finish(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
            self.shown = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Turns on the client's logs on standard error: `-v` one line per HTTP
/// request (when its span closes, with status, attempts and time) and each
/// retry; `-vv` also when each request starts, and everything at trace level.
pub(crate) fn init_logs(verbose: u8) {
    use tracing_subscriber::fmt::format::FmtSpan;
    let (level, spans) = match verbose {
        0 => return,
        1 => ("debug", FmtSpan::CLOSE),
        _ => ("trace", FmtSpan::NEW | FmtSpan::CLOSE),
    };
    let filter = format!("iteration_api={level},iteration_transport={level},iteration={level}");
    // Only fails when a subscriber is already set, which then logs anyway.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_span_events(spans)
        .with_ansi(stderr_colour())
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use http::{HeaderMap, HeaderValue, Method, StatusCode};

    use super::*;

    #[derive(Default)]
    struct Recorded(Mutex<Vec<String>>);

    impl RetryNotice for Recorded {
        fn waiting(&self, why: &str, wait: Duration, next: u32, max: u32) {
            let wait = Duration::from_secs(wait.as_secs());
            self.0.lock().unwrap().push(notice_line(why, wait, next, max));
        }
    }

    #[test]
    fn a_rate_limited_attempt_is_announced_with_its_wait() {
        let recorded = Arc::new(Recorded::default());
        let policy = with_notice(RetryPolicy::default(), recorded.clone());
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("8"));
        let outcome = Outcome::Response { status: StatusCode::TOO_MANY_REQUESTS, headers: &headers };
        let attempt = Attempt::new(&Method::GET, outcome, 1, Duration::ZERO);
        let decision = policy.decide(&attempt, SystemTime::now(), &mut || 0.0);
        assert!(matches!(decision, RetryDecision::Retry { after } if after >= Duration::from_secs(8)));
        assert_eq!(
            *recorded.0.lock().unwrap(),
            ["rate limited by the server; retrying in 8 s (attempt 2 of 4)"]
        );

        // The last attempt gives up, silently.
        let attempt = Attempt::new(&Method::GET, outcome, 4, Duration::ZERO);
        assert_eq!(policy.decide(&attempt, SystemTime::now(), &mut || 0.0), RetryDecision::GiveUp);
        assert_eq!(recorded.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn waits_read_as_seconds_rounded_up() {
        assert_eq!(seconds(Duration::from_millis(7_100)), "8 s");
        assert_eq!(seconds(Duration::from_secs(8)), "8 s");
        assert_eq!(seconds(Duration::from_millis(250)), "250 ms");
    }
}
