//! Cross-origin requests, as LaunchDarkly documents them: any origin may
//! call the API; a request's `Origin` is echoed as the allowed origin, and
//! without one the answer allows `*`. A preflight `OPTIONS` on any path is
//! answered with the methods and headers a request may use, without a token
//! (browsers send none with a preflight).

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, HeaderValue, VARY,
};
use http::{Response, StatusCode};

/// What a cross-origin request may send.
pub(crate) const ALLOWED_METHODS: &str = "OPTIONS, GET, HEAD, POST, PUT, PATCH, DELETE";
pub(crate) const ALLOWED_HEADERS: &str = "Accept, Content-Type, Content-Length, Accept-Encoding, Authorization, \
     LD-API-Version, X-HTTP-Method-Override";
/// What a browser script may read of an answer besides the always-safe headers.
const EXPOSED_HEADERS: &str = "Retry-After, X-Ratelimit-Reset, X-Ratelimit-Route-Limit, \
     X-Ratelimit-Route-Remaining, X-Ratelimit-Auth-Token-Limit, X-Ratelimit-Auth-Token-Remaining, \
     X-Ratelimit-Auth-Token-Reset, X-Ratelimit-Global-Limit, X-Ratelimit-Global-Remaining";
/// How long a browser may keep a preflight's answer, in seconds.
const MAX_AGE: &str = "300";

/// The answer to a preflight: 204 with the methods and headers allowed.
pub(crate) fn preflight() -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    response
}

/// Adds the allowed origin to any answer: `origin` when the request named
/// one, else `*`.
pub(crate) fn allow_origin(response: &mut Response<Bytes>, origin: Option<&HeaderValue>) {
    let headers = response.headers_mut();
    match origin {
        Some(origin) => {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            // The answer depends on the request's Origin: caches must keep them apart.
            headers.append(VARY, HeaderValue::from_static("Origin"));
        }
        None => {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
    }
    headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
}
