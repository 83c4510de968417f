//! Responses: the one place that writes JSON bodies and the error format
//! `{"code", "message", "id", "errors"?}`.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use iteration_model::{ErrorRep, FieldErrorRep, Violations, codes};
use serde::Serialize;

/// A failed request, before it gets its request id and becomes a body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Every validation problem, for `invalid_request`.
    pub(crate) errors: Vec<FieldErrorRep>,
    /// Headers the error calls for (`Allow`, `Retry-After`).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), errors: Vec::new(), headers: Vec::new() }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_REQUEST, message)
    }

    /// A 400 listing every violation; the message summarises them all.
    pub(crate) fn violations(violations: &Violations) -> ApiError {
        let mut error = ApiError::invalid(format!("the request is invalid: {violations}"));
        error.errors = violations.iter().map(FieldErrorRep::from).collect();
        error
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, codes::OPTIMISTIC_LOCKING_ERROR, message)
    }

    /// A 503, with `Retry-After`: the storage may answer again soon (a disk
    /// that was full, a database that was locked).
    pub(crate) fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::SERVICE_UNAVAILABLE, message)
            .with_header(http::header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECONDS))
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    /// The response, carrying `request_id` in its body.
    pub(crate) fn into_response(self, request_id: String) -> Response<Bytes> {
        let body = ErrorRep {
            code: self.code.to_owned(),
            message: self.message,
            id: Some(request_id),
            errors: (!self.errors.is_empty()).then_some(self.errors),
            extra: serde_json::Map::new(),
        };
        let mut response = json(self.status, &body);
        response.headers_mut().extend(self.headers);
        response
    }
}

/// How long a 503 asks the caller to wait before retrying.
pub(crate) const UNAVAILABLE_RETRY_AFTER_SECONDS: u32 = 1;

/// Where [`json`] starts its buffer.
const INITIAL_BODY_CAPACITY: usize = 4096;

/// A JSON response of `value`.
pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response<Bytes> {
    // Most bodies (an iteration, an experiment, an error) are a few KiB;
    // starting there saves the reallocations and copies of growing from empty.
    let mut body = Vec::with_capacity(INITIAL_BODY_CAPACITY);
    let (status, body) = match serde_json::to_writer(&mut body, value) {
        Ok(()) => (status, body),
        // Our representations serialise to JSON by construction (string keys,
        // no failing Serialize impls); should that ever break, answer 500
        // in the same format rather than panic.
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({
                "code": codes::INTERNAL_SERVER_ERROR,
                "message": format!("the response could not be written: {err}"),
            })
            .to_string()
            .into_bytes(),
        ),
    };
    json_bytes(status, Bytes::from(body))
}

/// A JSON response of `body`, which is JSON already.
pub(crate) fn json_bytes(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
