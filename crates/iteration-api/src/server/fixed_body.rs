//! The benchmarks' baseline route, `POST /__bench/fixed?size=N`: it answers
//! 200 with a JSON body of exactly N bytes and does nothing else (no token,
//! no store, no model), so that create iteration's requests per second can
//! be put against the cost of the server stack alone: the same transport,
//! the same [`App::handle`](crate::server::App::handle) entry and request log,
//! a body already read, a response of the same size.
//!
//! It exists only when [`AppConfig::with_bench_baseline`](crate::server::AppConfig::with_bench_baseline)
//! enables it (`iteration serve --bench-baseline-route`); otherwise the path
//! is a 404 like any other unknown path.

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Response, StatusCode};
use iteration_model::codes;

use crate::server::response::ApiError;

/// The route's path.
pub(crate) const PATH: &str = "/__bench/fixed";

/// The largest body the route answers; create iteration's answers are a few KiB.
pub(crate) const MAX_SIZE: usize = 64 * 1024;

/// The smallest: the body is the JSON object `{}`, padded with spaces.
pub(crate) const MIN_SIZE: usize = 2;

/// `{}` followed by spaces: every prefix of at least two bytes is a valid
/// JSON document, so a body of any size is a slice of this one buffer and
/// costs no allocation or copy per request.
static PADDED_OBJECT: [u8; MAX_SIZE] = {
    let mut bytes = [b' '; MAX_SIZE];
    bytes[0] = b'{';
    bytes[1] = b'}';
    bytes
};

/// Answers the baseline route; `query` is the request URI's query.
pub(crate) fn answer(method: &Method, query: Option<&str>) -> Result<Response<Bytes>, ApiError> {
    if method != Method::POST {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed here; allowed: POST"),
        )
        .with_header(ALLOW, HeaderValue::from_static("POST")));
    }
    let size = size(query)?;
    let mut response = Response::new(Bytes::from_static(&PADDED_OBJECT[..size]));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// The `size` query parameter, within [`MIN_SIZE`]..=[`MAX_SIZE`].
fn size(query: Option<&str>) -> Result<usize, ApiError> {
    let raw =
        query.unwrap_or("").split('&').filter_map(|pair| pair.strip_prefix("size=")).next_back().ok_or_else(
            || ApiError::invalid("the query parameter `size` is required: the body's length in bytes"),
        )?;
    match raw.parse::<usize>() {
        Ok(size) if (MIN_SIZE..=MAX_SIZE).contains(&size) => Ok(size),
        _ => {
            Err(ApiError::invalid(format!("size `{raw}` is not a byte count from {MIN_SIZE} to {MAX_SIZE}")))
        }
    }
}
