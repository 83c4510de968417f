//! The server's request pipeline: routing, authentication, API version,
//! rate limits, permissions, then the endpoint's handler. Every response,
//! success or error, leaves through here, so the error format, the
//! rate-limit headers and the request log are the same for all of them.
//!
//! A preflight `OPTIONS` is answered first, without a token; then the
//! server's own endpoints (`/healthz`, `/readyz`, `/_iteration/...`, see
//! `admin.rs`); then the API. For the API, checks run in this order, and
//! the first that fails answers: route (404) → method (405) → client
//! address blocked after refused tokens (429) → token (401) → injected
//! fault → rate limit (429) → `LD-API-Version` (400) → role and project
//! scope (403) → the handler.
//!
//! Every answer after the token check carries the rate-limit headers. A 401
//! carries none: the request belongs to no token, and unauthenticated
//! requests must not spend the route budget that every caller shares; it
//! counts against its client address instead. Every answer carries the
//! CORS headers, and every answer but those of the server's own endpoints
//! is journaled.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use bytes::Bytes;
use http::header::{ALLOW, AUTHORIZATION, HeaderName, HeaderValue, ORIGIN, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use iteration_model::codes;
use iteration_transport::{Handler, Rejection, RemoteAddr};

use crate::server::admin::{self, AdminRoute, AdminRouteError};
use crate::server::clock::{Clock, SystemClock};
use crate::server::cors;
use crate::server::faults::Faults;
use crate::server::fixed_body;
use crate::server::handlers::{self, Context};
use crate::server::ids::IdGenerator;
use crate::server::journal::{self, Journal};
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
    /// The world requests are answered in; `PUT /_iteration/state` replaces it.
    world: RwLock<Arc<World>>,
    /// The world the app started in, which `POST /_iteration/reset` restores.
    seed: Arc<World>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<IdGenerator>,
    pub(crate) journal: Journal,
    pub(crate) faults: Faults,
    limiter: RateLimiter,
    bench_baseline: bool,
}

impl Inner {
    /// The world as it is now.
    pub(crate) fn world(&self) -> Arc<World> {
        // Replacing an `Arc` cannot leave the lock's value half-written.
        Arc::clone(&self.world.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn set_world(&self, world: Arc<World>) {
        *self.world.write().unwrap_or_else(PoisonError::into_inner) = world;
    }

    /// The world the app started in.
    pub(crate) fn seed(&self) -> Arc<World> {
        Arc::clone(&self.seed)
    }
}

/// How a request was answered, for the journal and the log.
struct Outcome {
    operation: &'static str,
    /// The accepted token's name.
    token: Option<String>,
    result: Result<Response<Bytes>, ApiError>,
    /// Whether the journal records it (the server's own endpoints are not).
    journaled: bool,
}

impl Outcome {
    fn api(operation: &'static str, result: Result<Response<Bytes>, ApiError>) -> Outcome {
        Outcome { operation, token: None, result, journaled: true }
    }
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
                world: RwLock::new(Arc::clone(&world)),
                seed: world,
                clock: config.clock,
                ids: Arc::new(IdGenerator::new(config.id_seed)),
                journal: Journal::default(),
                faults: Faults::default(),
                limiter: RateLimiter::new(config.rate_limits),
                bench_baseline: config.bench_baseline,
            }),
        }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Answers one request.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let started = Instant::now();
        let time = self.inner.clock.now();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let request_id = self.inner.ids.uuid();
        let origin = request.headers().get(ORIGIN).cloned();
        let body = matches!(method, Method::POST | Method::PUT | Method::PATCH)
            .then(|| journal::body_text(request.body()));
        let outcome = self.route_and_answer(request).await;
        let mut response = match outcome.result {
            Ok(response) => response,
            Err(error) => error.into_response(request_id.clone()),
        };
        cors::allow_origin(&mut response, origin.as_ref());
        let duration_ms = started.elapsed().as_millis() as u64;
        // The path holds keys only; tokens travel in headers, which are never logged.
        tracing::info!(
            %method,
            %path,
            route = outcome.operation,
            status = response.status().as_u16(),
            request_id,
            elapsed_ms = duration_ms,
            "request"
        );
        if outcome.journaled {
            let (body, body_truncated) = body.map_or((None, false), |(text, cut)| (Some(text), cut));
            self.inner.journal.record(journal::Entry {
                time: time.get(),
                method: method.to_string(),
                path,
                operation_id: outcome.operation.to_owned(),
                status: response.status().as_u16(),
                token: outcome.token,
                duration_ms,
                request_id,
                body,
                body_truncated,
            });
        }
        response
    }

    async fn route_and_answer(&self, request: Request<Bytes>) -> Outcome {
        let method = effective_method(&request);
        if self.inner.bench_baseline && request.uri().path() == fixed_body::PATH {
            return Outcome::api("benchFixed", fixed_body::answer(&method, request.uri().query()));
        }
        if method == Method::OPTIONS {
            return Outcome::api("preflight", Ok(cors::preflight()));
        }
        if let Some(resolved) = AdminRoute::resolve(&method, request.uri().path()) {
            return self.answer_admin(resolved, &method, &request).await;
        }
        let route = match Route::resolve(&method, request.uri().path()) {
            Ok(route) => route,
            Err(RouteError::NotFound) => {
                let message = format!("no resource at {}", request.uri().path());
                return Outcome::api("unknown", Err(ApiError::not_found(message)));
            }
            Err(RouteError::MethodNotAllowed { allow }) => {
                return Outcome::api("unknown", Err(method_not_allowed(&method, allow)));
            }
        };
        let name = route.name();
        let world = self.inner.world();
        let token = match self.authenticate(&request, &world) {
            Ok(token) => token,
            Err(error) => return Outcome::api(name, Err(error)),
        };
        let token_name = token.name.clone();
        let result = self.answer(route, &method, &request, token, &world).await;
        Outcome { operation: name, token: token_name, result, journaled: true }
    }

    /// The server's own endpoints: health without a token, the rest for admins only.
    async fn answer_admin(
        &self,
        resolved: Result<AdminRoute, AdminRouteError>,
        method: &Method,
        request: &Request<Bytes>,
    ) -> Outcome {
        let admin = |operation, token, result| Outcome { operation, token, result, journaled: false };
        let route = match resolved {
            Ok(route) => route,
            Err(AdminRouteError::NotFound) => {
                let message = format!("no resource at {}", request.uri().path());
                return admin("unknown", None, Err(ApiError::not_found(message)));
            }
            Err(AdminRouteError::MethodNotAllowed { allow }) => {
                return admin("unknown", None, Err(method_not_allowed(method, allow)));
            }
        };
        if route.is_health() {
            return admin(route.name(), None, admin::dispatch(&self.inner, route, request).await);
        }
        let world = self.inner.world();
        let token = match self.authenticate(request, &world) {
            Ok(token) => token,
            Err(error) => return admin(route.name(), None, Err(error)),
        };
        let result = if token.role.is_admin() {
            admin::dispatch(&self.inner, route, request).await
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                codes::FORBIDDEN,
                "the administration API needs a token of role admin",
            ))
        };
        admin(route.name(), token.name.clone(), result)
    }

    async fn answer(
        &self,
        route: Route,
        method: &Method,
        request: &Request<Bytes>,
        token: &Token,
        world: &World,
    ) -> Result<Response<Bytes>, ApiError> {
        if let Some(fault) = self.inner.faults.check(route.name(), method) {
            tokio::time::sleep(fault.latency).await;
            return Err(admin::fault_error(fault.status));
        }
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
            match check_api_version(request).and_then(|()| authorize(token, &route)) {
                Ok(()) => handlers::dispatch(&Context { app: &self.inner, request, world }, route).await,
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

    /// The request's token in `world`. A client address that has had too
    /// many tokens refused in this window gets 429 before its token is
    /// looked at, and each refusal counts against its address.
    fn authenticate<'w>(&self, request: &Request<Bytes>, world: &'w World) -> Result<&'w Token, ApiError> {
        let now = self.inner.clock.now();
        let address = request.extensions().get::<RemoteAddr>().map(|RemoteAddr(peer)| peer.ip());
        if let Some(retry_after) =
            address.and_then(|address| self.inner.limiter.address_blocked(address, now))
        {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                format!("too many requests with a refused access token from this address; retry in {retry_after} s"),
            )
            .with_header(RETRY_AFTER, HeaderValue::from(retry_after)));
        }
        let found = token(request, world);
        if found.is_err()
            && let Some(address) = address
        {
            self.inner.limiter.count_refused(address, now);
        }
        found
    }
}

/// The token the request names in `world`, or 401.
fn token<'w>(request: &Request<Bytes>, world: &'w World) -> Result<&'w Token, ApiError> {
    let unauthorized = |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, message);
    let mut headers = request.headers().get_all(AUTHORIZATION).iter();
    let header =
        headers.next().ok_or_else(|| unauthorized("no access token; send it in the Authorization header"))?;
    if headers.next().is_some() {
        return Err(unauthorized("more than one Authorization header; send the access token once"));
    }
    let value = header.to_str().map_err(|_| unauthorized("the access token is not valid"))?.trim();
    let secret = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    world.token(secret).ok_or_else(|| unauthorized("the access token is not valid"))
}

fn method_not_allowed(method: &Method, allow: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed here; allowed: {allow}"),
    )
    .with_header(ALLOW, HeaderValue::from_static(allow))
}

impl Handler for App {
    fn call(&self, request: Request<Bytes>) -> impl Future<Output = Response<Bytes>> + Send {
        self.handle(request)
    }

    fn reject(&self, rejection: Rejection) -> Response<Bytes> {
        let status = rejection.status();
        let error = match rejection {
            Rejection::BodyTooLarge { limit } => ApiError::new(
                status,
                codes::REQUEST_ENTITY_TOO_LARGE,
                format!("the request body is larger than {limit} bytes"),
            ),
            Rejection::BodyTimeout { timeout } => ApiError::new(
                status,
                codes::INVALID_REQUEST,
                format!("the request body did not arrive within {} s", timeout.as_secs()),
            ),
            Rejection::Malformed => {
                ApiError::new(status, codes::INVALID_REQUEST, "the request could not be parsed as HTTP")
            }
            Rejection::UriTooLong => ApiError::new(
                status,
                codes::INVALID_REQUEST,
                "the request target (path and query) is too long",
            ),
            Rejection::HeadersTooLarge => {
                ApiError::new(status, codes::INVALID_REQUEST, "the request headers are too many or too large")
            }
            other => ApiError::new(
                status,
                codes::INVALID_REQUEST,
                format!("the request body could not be read ({})", other.status()),
            ),
        };
        let mut response = error.into_response(self.inner.ids.uuid());
        cors::allow_origin(&mut response, None);
        response
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
