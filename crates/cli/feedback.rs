//! What a person at a terminal sees besides the result: colour, a notice
//! while a retry waits, a progress line while pages are fetched, and the
//! client's logs with `-v`.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use iteration_transport::RetryNotice;

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

/// Writes a retry notice as one line on standard error; the client calls it
/// right before it waits (`ClientBuilder::on_retry`).
pub(crate) fn print_retry_notice(notice: &RetryNotice) {
    let line = notice_line(notice);
    // Nowhere to report a failed write to standard error.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `rate limited by the server; retrying in 8 s (attempt 2 of 4)`.
pub(crate) fn notice_line(notice: &RetryNotice) -> String {
    format!(
        "{}; retrying in {} (attempt {} of {})",
        why(notice),
        seconds(notice.wait),
        notice.next_attempt(),
        notice.max_attempts
    )
}

/// Whole seconds, rounded up, or milliseconds under one second.
fn seconds(wait: Duration) -> String {
    if wait < Duration::from_secs(1) {
        format!("{} ms", wait.as_millis())
    } else {
        format!("{} s", wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }
}

/// What the attempt that will be retried ran into, for a person.
fn why(notice: &RetryNotice) -> String {
    match (notice.rate_limited, notice.status, notice.failure) {
        (true, _, _) => "rate limited by the server".to_owned(),
        (false, Some(status), _) => format!("the server answered {}", status.as_u16()),
        (false, None, Some(kind)) => format!("the request failed ({kind:?})"),
        (false, None, None) => "the attempt failed".to_owned(),
    }
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
    use http::{HeaderMap, Method, StatusCode};
    use iteration_transport::{Attempt, Outcome, RetryPolicy, TransportErrorKind};

    use super::*;

    fn notice(outcome: Outcome<'_>, number: u32, wait: Duration) -> RetryNotice {
        RetryNotice::new(
            &Attempt::new(&Method::GET, outcome, number, Duration::ZERO),
            wait,
            &RetryPolicy::default(),
        )
    }

    #[test]
    fn a_notice_says_why_how_long_and_which_attempt_follows() {
        let headers = HeaderMap::new();
        let limited = Outcome::Response { status: StatusCode::TOO_MANY_REQUESTS, headers: &headers };
        assert_eq!(
            notice_line(&notice(limited, 1, Duration::from_secs(8))),
            "rate limited by the server; retrying in 8 s (attempt 2 of 4)"
        );
        let unavailable = Outcome::Response { status: StatusCode::SERVICE_UNAVAILABLE, headers: &headers };
        assert_eq!(
            notice_line(&notice(unavailable, 2, Duration::from_millis(300))),
            "the server answered 503; retrying in 300 ms (attempt 3 of 4)"
        );
        let refused = Outcome::Failed { kind: TransportErrorKind::Connect, may_have_been_sent: false };
        assert_eq!(
            notice_line(&notice(refused, 1, Duration::from_millis(7_100))),
            "the request failed (Connect); retrying in 8 s (attempt 2 of 4)"
        );
    }

    #[test]
    fn waits_read_as_seconds_rounded_up() {
        assert_eq!(seconds(Duration::from_millis(7_100)), "8 s");
        assert_eq!(seconds(Duration::from_secs(8)), "8 s");
        assert_eq!(seconds(Duration::from_millis(250)), "250 ms");
    }
}
