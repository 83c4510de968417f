//! The error body every failed request answers with.

use serde::{Deserialize, Serialize};

use crate::violation::Violation;

/// An error response body: `{"code", "message", "id", "errors"?}`.
///
/// `errors` lists every problem of a request that failed validation; it is
/// this project's addition, and clients that do not know it ignore it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRep {
    /// A stable error code such as `invalid_request` or `rate_limited`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The request's ID, to quote when asking for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Every validation problem, with its path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldErrorRep>>,
    /// Fields this version of the model does not know.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One problem in an error body's `errors` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldErrorRep {
    /// A JSON Pointer into the request body.
    pub path: String,
    /// What was wrong and what would be right.
    pub message: String,
    /// A stable code for the kind of problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl From<&Violation> for FieldErrorRep {
    fn from(v: &Violation) -> Self {
        FieldErrorRep {
            path: v.path.clone(),
            message: v.message.clone(),
            code: Some(v.code.as_str().to_owned()),
        }
    }
}

/// The error codes the API uses.
pub mod codes {
    /// 400: the request is malformed or breaks a rule.
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// 401: missing or unknown token.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// 403: the token may not do this.
    pub const FORBIDDEN: &str = "forbidden";
    /// 404: no such resource or route.
    pub const NOT_FOUND: &str = "not_found";
    /// 405: the route does not take this method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// 409: the resource changed since it was read.
    pub const OPTIMISTIC_LOCKING_ERROR: &str = "optimistic_locking_error";
    /// 409: the key is taken.
    pub const KEY_EXISTS: &str = "key_exists";
    /// 413: the body is too large.
    pub const REQUEST_ENTITY_TOO_LARGE: &str = "request_entity_too_large";
    /// 415: the body is not JSON.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// 429: too many requests.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// 500: the server failed.
    pub const INTERNAL_SERVER_ERROR: &str = "internal_server_error";
    /// 503: the server cannot answer now.
    pub const SERVICE_UNAVAILABLE: &str = "service_unavailable";
}
