//! The server's request pipeline: routing, authentication, API version,
//! rate limits, permissions, then the endpoint's handler. Every response,
//! success or error, leaves through here, so the error format, the
//! rate-limit headers and the request log are the same for all of them.
//!
//! Checks run in this order, and the first that fails answers:
//! route (404) → method (405) → token (401) → rate limit (429) →
//! `LD-API-Version` (400) → role and project scope (403) → the handler.
//!
//! Every answer after the token check carries the rate-limit headers. A 401
//! carries none: the request belongs to no token, and unauthenticated
//! requests must not spend the route budget that every caller shares.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{ALLOW, AUTHORIZATION, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use iteration_model::codes;
use iteration_transport::{Handler, Rejection};

use crate::server::clock::{Clock, SystemClock};
use crate::server::fixed_body;
use crate::server::handlers::{self, Context};
use crate::server::ids::IdGenerator;
use crate::server::rate_limit::{RateLimiter, RateLimits};
use crate::server::response::ApiError;
use crate::server::route::{Route, RouteError};
use crate::server::store::Store;
use crate::server::world::{Token, World};

/// The `LD-API-Version` values the server accepts (besides none at all).
pub const SUPPORTED_API_VERSIONS: [&str; 2] = ["20240415", "beta"];

const METHOD_OVERRIDE: HeaderName = HeaderName::from_static("x-http-method-override");
const API_VERSION: HeaderName = HeaderName::from_static("ld-api-version");

/// How an [`App`] behaves besides its data.
#[derive(Clone)]
#[non_exhaustive]
pub struct AppConfig {
    /// Requests allowed per ten-second window.
    pub rate_limits: RateLimits,
    /// Where timestamps and rate-limit windows get the time.
    pub clock: Arc<dyn Clock>,
    /// Seeds the id generator, for reproducible ids in tests; random when `None`.
    pub id_seed: Option<u64>,
    /// Whether the benchmarks' baseline route `POST /__bench/fixed?size=N` exists.
    pub bench_baseline: bool,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            rate_limits: RateLimits::default(),
            clock: Arc::new(SystemClock),
            id_seed: None,
            bench_baseline: false,
        }
    }
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("rate_limits", &self.rate_limits)
            .field("id_seed", &self.id_seed)
            .field("bench_baseline", &self.bench_baseline)
            .finish()
    }
}

impl AppConfig {
    /// Sets the rate limits.
    pub fn with_rate_limits(mut self, rate_limits: RateLimits) -> AppConfig {
        self.rate_limits = rate_limits;
        self
    }

    /// Sets the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> AppConfig {
        self.clock = clock;
        self
    }

    /// Seeds the id generator.
    pub fn with_id_seed(mut self, seed: u64) -> AppConfig {
        self.id_seed = Some(seed);
        self
    }

    /// Enables the benchmarks' baseline route, `POST /__bench/fixed?size=N`:
    /// 200 with a JSON body of N bytes after reading the request, and no
    /// other work (no token, no store). Off by default, when the path is a 404.
    pub fn with_bench_baseline(mut self, enabled: bool) -> AppConfig {
        self.bench_baseline = enabled;
        self
    }
}

/// The Experiments API server: a [`Handler`] for the transport's server, and
/// callable directly with [`App::handle`] (no socket needed). Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) world: Arc<World>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: IdGenerator,
    limiter: RateLimiter,
    bench_baseline: bool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// An app answering from `store`, in `world`.
    pub fn new(store: Arc<dyn Store>, world: Arc<World>, config: AppConfig) -> App {
        App {
            inner: Arc::new(Inner {
                store,
                world,
                clock: config.clock,
                ids: IdGenerator::new(config.id_seed),
                limiter: RateLimiter::new(config.rate_limits),
                bench_baseline: config.bench_baseline,
            }),
        }
    }

    /// Answers one request.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let request_id = self.inner.ids.uuid();
        let (route_name, response) = match self.route_and_answer(request).await {
            (name, Ok(response)) => (name, response),
            (name, Err(error)) => (name, error.into_response(request_id.clone())),
        };
        // The path holds keys only; tokens travel in headers, which are never logged.
        tracing::info!(
            %method,
            %path,
            route = route_name,
            status = response.status().as_u16(),
            request_id,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request"
        );
        response
    }

    async fn route_and_answer(
        &self,
        request: Request<Bytes>,
    ) -> (&'static str, Result<Response<Bytes>, ApiError>) {
        let method = effective_method(&request);
        if self.inner.bench_baseline && request.uri().path() == fixed_body::PATH {
            return ("benchFixed", fixed_body::answer(&method, request.uri().query()));
        }
        let route = match Route::resolve(&method, request.uri().path()) {
            Ok(route) => route,
            Err(RouteError::NotFound) => {
                let message = format!("no resource at {}", request.uri().path());
                return ("unknown", Err(ApiError::not_found(message)));
            }
            Err(RouteError::MethodNotAllowed { allow }) => {
                let error = ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    codes::METHOD_NOT_ALLOWED,
                    format!("{method} is not allowed here; allowed: {allow}"),
                )
                .with_header(ALLOW, HeaderValue::from_static(allow));
                return ("unknown", Err(error));
            }
        };
        let name = route.name();
        (name, self.answer(route, request).await)
    }

    async fn answer(&self, route: Route, request: Request<Bytes>) -> Result<Response<Bytes>, ApiError> {
        let token = self.authenticate(&request)?;
        let decision = self.inner.limiter.check(route.name(), &token.token, self.inner.clock.now());
        let rate_headers = decision.headers();
        let result = if decision.exceeded() {
            let retry_after = decision.retry_after_seconds(self.inner.clock.now());
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                format!("too many requests; retry in {retry_after} s"),
            )
            .with_header(RETRY_AFTER, HeaderValue::from(retry_after)))
        } else {
            match check_api_version(&request).and_then(|()| authorize(token, &route)) {
                Ok(()) => handlers::dispatch(&Context { app: &self.inner, request: &request }, route).await,
                Err(error) => Err(error),
            }
        };
        match result {
            Ok(mut response) => {
                response.headers_mut().extend(rate_headers);
                Ok(response)
            }
            Err(mut error) => {
                error.headers.extend(rate_headers);
                Err(error)
            }
        }
    }

    fn authenticate(&self, request: &Request<Bytes>) -> Result<&Token, ApiError> {
        let unauthorized =
            |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, message);
        let header = request
            .headers()
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthorized("no access token; send it in the Authorization header"))?;
        let value = header.to_str().map_err(|_| unauthorized("the access token is not valid"))?.trim();
        let secret = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => value,
        };
        self.inner.world.token(secret).ok_or_else(|| unauthorized("the access token is not valid"))
    }
}

impl Handler for App {
    fn call(&self, request: Request<Bytes>) -> impl Future<Output = Response<Bytes>> + Send {
        self.handle(request)
    }

    fn reject(&self, rejection: Rejection) -> Response<Bytes> {
        let error = match rejection {
            Rejection::BodyTooLarge { limit } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::REQUEST_ENTITY_TOO_LARGE,
                format!("the request body is larger than {limit} bytes"),
            ),
            Rejection::BodyTimeout { timeout } => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                codes::INVALID_REQUEST,
                format!("the request body did not arrive within {} s", timeout.as_secs()),
            ),
            other => ApiError::invalid(format!("the request body could not be read ({})", other.status())),
        };
        error.into_response(self.inner.ids.uuid())
    }
}

/// POST with `X-HTTP-Method-Override: PATCH` is a PATCH, for clients that
/// cannot send PATCH.
fn effective_method(request: &Request<Bytes>) -> Method {
    let overridden = request.headers().get(METHOD_OVERRIDE).and_then(|v| v.to_str().ok());
    match overridden {
        Some(m) if request.method() == Method::POST && m.trim().eq_ignore_ascii_case("PATCH") => {
            Method::PATCH
        }
        _ => request.method().clone(),
    }
}

fn check_api_version(request: &Request<Bytes>) -> Result<(), ApiError> {
    let Some(value) = request.headers().get(API_VERSION) else { return Ok(()) };
    let version = value.to_str().unwrap_or("").trim();
    if SUPPORTED_API_VERSIONS.contains(&version) {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "LD-API-Version `{version}` is not supported; supported versions: {}, or none",
        SUPPORTED_API_VERSIONS.join(", ")
    )))
}

fn authorize(token: &Token, route: &Route) -> Result<(), ApiError> {
    let forbidden = |message: String| ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message);
    if route.writes() && !token.role.can_write() {
        return Err(forbidden("this access token may only read".to_owned()));
    }
    match route.project() {
        Some(project) if !token.allows_project(project) => {
            Err(forbidden(format!("this access token may not use project `{project}`")))
        }
        _ => Ok(()),
    }
}
