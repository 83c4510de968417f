//! Exit codes: one per class of failure, so that scripts can branch on them.
//! `iteration --help` lists them (`args.rs`).

use iteration_api::client::Error;

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

/// The class of failure an exit code stands for, as JSON errors name it.
pub(crate) fn kind(code: u8) -> &'static str {
    match code {
        OK => "ok",
        INVALID => "invalid",
        USAGE => "usage",
        DENIED => "denied",
        NOT_FOUND => "not_found",
        CONFLICT => "conflict",
        RATE_LIMITED => "rate_limited",
        SERVER => "server",
        TRANSPORT => "transport",
        _ => "decode",
    }
}
