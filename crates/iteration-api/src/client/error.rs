//! The client's one error type.
//!
//! A caller decides what to do from the variant (fix the input, re-read and
//! retry, wait, give up) and from two predicates: [`Error::is_retryable`] and
//! [`Error::request_may_have_been_sent`]. Foreign errors stay behind
//! `source()`: the transport's error is reached through [`TransportFailure`].

use std::fmt;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use iteration_model::{FieldErrorRep, Violations};

/// What the server said about a failed request, as far as it said it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiErrorDetails {
    /// The response status.
    pub status: StatusCode,
    /// The error body's `code`, such as `invalid_request`.
    pub code: Option<String>,
    /// The error body's `message`, for a person.
    pub message: Option<String>,
    /// The request's ID, to quote when asking for support.
    pub id: Option<String>,
}

impl ApiErrorDetails {
    /// Details with only a status, for a response without an error body.
    pub fn new(status: StatusCode) -> Self {
        Self { status, code: None, message: None, id: None }
    }
}

impl fmt::Display for ApiErrorDetails {
    /// `the server answered 404 not_found: <message> (request id <id>)`:
    /// the status and code already name the class of failure, so the
    /// variants of [`Error`] add no prefix of their own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server answered {}", self.status.as_u16())?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// Which write lost: the two reasons a server answers 409.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConflictKind {
    /// `optimistic_locking_error`: something changed since the caller read
    /// it (a flag's version, the experiment); re-read and try again.
    OptimisticLock,
    /// `key_exists`: an experiment, flag, metric or metric group with this
    /// key already exists.
    KeyExists,
    /// A 409 with another or no code.
    Other,
}

/// The rate-limit figures a response carried (`X-Ratelimit-*`, `Retry-After`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-Ratelimit-Route-Limit`: requests allowed per window on this route.
    pub route_limit: Option<u64>,
    /// `X-Ratelimit-Route-Remaining`.
    pub route_remaining: Option<u64>,
    /// `X-Ratelimit-Reset`: when the route's window ends.
    pub route_reset: Option<SystemTime>,
    /// `X-Ratelimit-Auth-Token-Limit`: requests allowed per window for the token.
    pub token_limit: Option<u64>,
    /// `X-Ratelimit-Auth-Token-Remaining`.
    pub token_remaining: Option<u64>,
    /// `X-Ratelimit-Auth-Token-Reset`: when the token's window ends.
    pub token_reset: Option<SystemTime>,
    /// `Retry-After`: how long the server asked to wait.
    pub retry_after: Option<Duration>,
}

impl RateLimit {
    /// How long to wait from `now` before trying again: `Retry-After` when
    /// given, else until the later of the two reset instants.
    pub fn wait_from(&self, now: SystemTime) -> Option<Duration> {
        if let Some(wait) = self.retry_after {
            return Some(wait);
        }
        let reset = match (self.route_reset, self.token_reset) {
            (Some(a), Some(b)) => a.max(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return None,
        };
        Some(reset.duration_since(now).unwrap_or(Duration::ZERO))
    }
}

/// The transport failed: no response was received.
///
/// The underlying error is this type's `source()`; the predicates answer what
/// a caller needs without naming the transport's types.
pub struct TransportFailure(iteration_transport::TransportError);

impl TransportFailure {
    pub(crate) fn new(error: iteration_transport::TransportError) -> Self {
        Self(error)
    }

    /// The connection could not be established (refused, DNS, connect timeout).
    pub fn is_connect(&self) -> bool {
        self.0.is_connect()
    }

    /// A connect or request timeout expired.
    pub fn is_timeout(&self) -> bool {
        self.0.is_timeout()
    }

    /// The TLS handshake failed (for instance an untrusted certificate).
    pub fn is_tls(&self) -> bool {
        self.0.is_tls()
    }

    /// Whether any byte of the request may have reached the server.
    pub fn request_may_have_been_sent(&self) -> bool {
        self.0.request_may_have_been_sent()
    }
}

impl fmt::Debug for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for TransportFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Anything that can go wrong calling the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input broke a rule checked before sending; nothing was sent.
    #[error("the request is invalid: {0}")]
    Validation(Violations),
    /// 400 (or 413, 415): the server rejected the request (a broken rule,
    /// or a delete of something still in use); `errors` lists every problem
    /// when the server named them.
    #[error("{details}")]
    InvalidRequest {
        /// What the server said.
        details: ApiErrorDetails,
        /// Every problem with its JSON Pointer, when given.
        errors: Vec<FieldErrorRep>,
    },
    /// 401: the token is missing or unknown.
    #[error("{0}")]
    Unauthorized(ApiErrorDetails),
    /// 403: the token may not do this (a reader writing, another project).
    #[error("{0}")]
    Forbidden(ApiErrorDetails),
    /// 404: the project, environment, experiment, flag, metric or metric
    /// group does not exist.
    #[error("{0}")]
    NotFound(ApiErrorDetails),
    /// 409: a conflicting write, see [`ConflictKind`].
    #[error("{details}")]
    Conflict {
        /// Why the write conflicted.
        kind: ConflictKind,
        /// What the server said.
        details: ApiErrorDetails,
    },
    /// 429: too many requests, even after the retries the policy allowed.
    #[error("{details}")]
    RateLimited {
        /// What the server said.
        details: ApiErrorDetails,
        /// The limit figures and when to retry (boxed: it is large and rare).
        rate_limit: Box<RateLimit>,
    },
    /// 5xx: the server failed.
    #[error("{0}")]
    Server(ApiErrorDetails),
    /// Another non-success status (405...).
    #[error("{0}")]
    UnexpectedStatus(ApiErrorDetails),
    /// No response: connect, TLS or timeout failure.
    #[error("the request failed")]
    Transport(#[source] TransportFailure),
    /// The response body is not what the API documents.
    #[error("cannot read the {status} response: {excerpt:?}")]
    Decode {
        /// The response status.
        status: StatusCode,
        /// The start of the body, at most 200 characters.
        excerpt: String,
        /// Why it could not be read.
        #[source]
        source: serde_json::Error,
    },
    /// The client configuration is unusable (bad base URL, token, CA).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.details().map(|d| d.status).or(match self {
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        })
    }

    /// What the server said, when it answered with an error status.
    pub fn details(&self) -> Option<&ApiErrorDetails> {
        match self {
            Error::InvalidRequest { details, .. }
            | Error::Conflict { details, .. }
            | Error::RateLimited { details, .. } => Some(details),
            Error::Unauthorized(details)
            | Error::Forbidden(details)
            | Error::NotFound(details)
            | Error::Server(details)
            | Error::UnexpectedStatus(details) => Some(details),
            Error::Validation(_) | Error::Transport(_) | Error::Decode { .. } | Error::Config(_) => None,
        }
    }

    /// Whether sending the same request later may succeed: rate limits,
    /// server errors and transport failures other than TLS ones.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Server(_) => true,
            Error::Transport(failure) => !failure.is_tls(),
            _ => false,
        }
    }

    /// Whether the server may have received (and acted on) the request.
    /// `false` means a create can safely be sent again.
    pub fn request_may_have_been_sent(&self) -> bool {
        match self {
            Error::Validation(_) | Error::Config(_) => false,
            Error::Transport(failure) => failure.request_may_have_been_sent(),
            _ => true,
        }
    }
}
