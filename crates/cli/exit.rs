//! Exit codes: one per class of failure, so that scripts can branch on them.

use iteration_api::client::Error;

/// The documented exit codes, as listed in `iteration --help`.
pub(crate) const TABLE: &str = "\
EXIT CODES:
    0  success
    1  invalid input: local validation failed, or the server answered 400
    2  usage: bad arguments, no token, unreadable file, bad base URL
    3  unauthorized (401) or forbidden (403)
    4  not found (404)
    5  conflict (409: stale flag version, or the key exists)
    6  rate limited (429) after the retries
    7  server error (5xx) or another unexpected status
    8  transport: could not connect, TLS failure, timeout
    9  the response could not be read";

pub(crate) const OK: u8 = 0;
pub(crate) const INVALID: u8 = 1;
pub(crate) const USAGE: u8 = 2;
pub(crate) const DENIED: u8 = 3;
pub(crate) const NOT_FOUND: u8 = 4;
pub(crate) const CONFLICT: u8 = 5;
pub(crate) const RATE_LIMITED: u8 = 6;
pub(crate) const SERVER: u8 = 7;
pub(crate) const TRANSPORT: u8 = 8;
pub(crate) const DECODE: u8 = 9;

/// The exit code of a client error.
pub(crate) fn of(error: &Error) -> u8 {
    match error {
        Error::Validation(_) | Error::InvalidRequest { .. } => INVALID,
        Error::Unauthorized(_) | Error::Forbidden(_) => DENIED,
        Error::NotFound(_) => NOT_FOUND,
        Error::Conflict { .. } => CONFLICT,
        Error::RateLimited { .. } => RATE_LIMITED,
        Error::Transport(_) => TRANSPORT,
        Error::Decode { .. } => DECODE,
        Error::Config(_) => USAGE,
        // Server errors, unexpected statuses and variants added later.
        _ => SERVER,
    }
}
