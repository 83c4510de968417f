//! The server's own endpoints, outside the LaunchDarkly API: health
//! (`/healthz`, `/readyz`, no token) and the administration API under
//! `/_iteration/` (tokens of role `admin`), which makes the server a test
//! double: reset its state, read or replace the whole state as a world
//! file, read the request journal, inject faults.
//!
//! The pipeline in `app.rs` sends these paths here before the API router,
//! and checks the token and role first.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use iteration_model::{FieldErrorRep, codes};
use serde_json::{Value, json};

use crate::admin::RequestFilter;
use crate::server::faults;
use crate::server::handlers::store_error;
use crate::server::journal;
use crate::server::response::{ApiError, json, json_bytes};
use crate::server::route::percent_decode;
use crate::server::state::Shared;
use crate::server::store::StoreError;
use crate::server::world::{World, WorldError};

/// Where the administration API lives.
pub(crate) const PREFIX: &str = "/_iteration/";

/// How long `/readyz` waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// An endpoint of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdminRoute {
    Healthz,
    Readyz,
    Reset,
    GetState,
    PutState,
    ListRequests,
    DeleteRequests,
    ListFaults,
    PutFaults,
    DeleteFaults,
}

/// Why a path of this module did not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdminRouteError {
    NotFound,
    MethodNotAllowed { allow: &'static str },
}

impl AdminRoute {
    /// The route for `method` and `path`; `None` when the path is not one of
    /// this module's (the API router takes it).
    pub(crate) fn resolve(method: &Method, path: &str) -> Option<Result<AdminRoute, AdminRouteError>> {
        use AdminRoute::*;
        let by_method = |choices: &[(Method, AdminRoute)], allow: &'static str| {
            let found =
                choices.iter().find(|(m, _)| m == method || (m == Method::GET && method == Method::HEAD));
            Some(found.map(|(_, route)| *route).ok_or(AdminRouteError::MethodNotAllowed { allow }))
        };
        match path {
            "/healthz" => by_method(&[(Method::GET, Healthz)], "GET"),
            "/readyz" => by_method(&[(Method::GET, Readyz)], "GET"),
            "/_iteration/reset" => by_method(&[(Method::POST, Reset)], "POST"),
            "/_iteration/state" => by_method(&[(Method::GET, GetState), (Method::PUT, PutState)], "GET, PUT"),
            "/_iteration/requests" => {
                by_method(&[(Method::GET, ListRequests), (Method::DELETE, DeleteRequests)], "GET, DELETE")
            }
            "/_iteration/faults" => by_method(
                &[(Method::GET, ListFaults), (Method::PUT, PutFaults), (Method::DELETE, DeleteFaults)],
                "GET, PUT, DELETE",
            ),
            _ if path.starts_with(PREFIX) || path == "/_iteration" => Some(Err(AdminRouteError::NotFound)),
            _ => None,
        }
    }

    /// The operation id the journal and logs name it by.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AdminRoute::Healthz => "healthz",
            AdminRoute::Readyz => "readyz",
            AdminRoute::Reset => "resetState",
            AdminRoute::GetState => "getState",
            AdminRoute::PutState => "putState",
            AdminRoute::ListRequests => "listRequests",
            AdminRoute::DeleteRequests => "deleteRequests",
            AdminRoute::ListFaults => "listFaults",
            AdminRoute::PutFaults => "putFaults",
            AdminRoute::DeleteFaults => "deleteFaults",
        }
    }

    /// Whether the route needs no token.
    pub(crate) fn is_health(self) -> bool {
        matches!(self, AdminRoute::Healthz | AdminRoute::Readyz)
    }
}

/// Answers `route`; the caller has checked the token and the role.
pub(crate) async fn dispatch(
    app: &Shared,
    route: AdminRoute,
    request: &Request<Bytes>,
) -> Result<Response<Bytes>, ApiError> {
    match route {
        AdminRoute::Healthz => Ok(json(StatusCode::OK, &json!({"status": "ok"}))),
        AdminRoute::Readyz => ready(app).await,
        AdminRoute::Reset => {
            let seed = app.seed();
            replace(app, seed).await?;
            Ok(json(StatusCode::OK, &json!({"status": "reset"})))
        }
        AdminRoute::GetState => {
            let world = export(app).await.map_err(store_error)?;
            world_response(&world)
        }
        AdminRoute::PutState => {
            require_json(request)?;
            let world = World::from_json(request.body()).map_err(world_error)?;
            replace(app, std::sync::Arc::new(world)).await?;
            let world = export(app).await.map_err(store_error)?;
            world_response(&world)
        }
        AdminRoute::ListRequests => {
            let filter = journal_filter(request)?;
            Ok(json(StatusCode::OK, &json!({"items": app.journal.read(&filter)})))
        }
        AdminRoute::DeleteRequests => {
            app.journal.clear();
            Ok(no_content())
        }
        AdminRoute::ListFaults => Ok(json(StatusCode::OK, &json!({"items": app.faults.list()}))),
        AdminRoute::PutFaults => {
            require_json(request)?;
            let value: Value = serde_json::from_slice(request.body()).map_err(|err| {
                ApiError::invalid(format!(
                    "the body is not valid JSON: line {}, column {}: {err}",
                    err.line(),
                    err.column()
                ))
            })?;
            let rules = faults::read_rules(&value).map_err(|problems| {
                let mut error = ApiError::invalid(format!("{} fault rules are invalid", problems.len()));
                error.errors = problems;
                error
            })?;
            app.faults.set(rules);
            Ok(json(StatusCode::OK, &json!({"items": app.faults.list()})))
        }
        AdminRoute::DeleteFaults => {
            app.faults.set(Vec::new());
            Ok(no_content())
        }
    }
}

/// 200 once the store answers, else 503 with `Retry-After`.
async fn ready(app: &Shared) -> Result<Response<Bytes>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, app.store.ping()).await {
        Ok(Ok(())) => Ok(json(StatusCode::OK, &json!({"status": "ready"}))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check: the store failed");
            Err(ApiError::unavailable("the storage is not answering; retry later"))
        }
        Err(_) => Err(ApiError::unavailable("the storage did not answer in time; retry later")),
    }
}

/// The whole state as a world: the live world's tokens and projects, each
/// with its live catalog and experiments. Each project is read as it is at
/// the moment it is read; a write racing the export may or may not be in it.
pub(crate) async fn export(app: &Shared) -> Result<World, StoreError> {
    let world = app.world();
    let mut catalogs = Vec::new();
    let mut experiments = Vec::new();
    for project in world.projects() {
        if let Some(catalog) = app.store.catalog(&project.key).await? {
            catalogs.push(catalog.value.catalog().clone());
        }
        for record in app.store.list(&project.key, None).await? {
            experiments.push((*record.value).clone());
        }
    }
    Ok(world.with_state(catalogs, experiments))
}

/// Makes `world` the whole state, durably, then the world requests are answered in.
pub(crate) async fn replace(app: &Shared, world: std::sync::Arc<World>) -> Result<(), ApiError> {
    app.store.replace_all(&world).await.map_err(store_error)?;
    app.set_world(world);
    Ok(())
}

fn world_response(world: &World) -> Result<Response<Bytes>, ApiError> {
    match world.to_json() {
        Ok(text) => Ok(json_bytes(StatusCode::OK, Bytes::from(text))),
        Err(err) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL_SERVER_ERROR,
            format!("the state could not be written: {err}"),
        )),
    }
}

fn world_error(err: WorldError) -> ApiError {
    match err {
        WorldError::Syntax { .. } => ApiError::invalid(err.to_string()),
        WorldError::Invalid { problems } => {
            let mut error = ApiError::invalid(format!("the world file has {} problems", problems.len()));
            error.errors = problems
                .into_iter()
                .map(|p| FieldErrorRep {
                    path: p.path,
                    message: p.message,
                    code: Some("invalid_world".to_owned()),
                })
                .collect();
            error
        }
    }
}

fn journal_filter(request: &Request<Bytes>) -> Result<RequestFilter, ApiError> {
    let mut filter = RequestFilter::default();
    for pair in request.uri().query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(&value.replace('+', " ")).unwrap_or_default();
        match name {
            "operation" => filter.operation = Some(value),
            "status" => {
                filter.status = Some(value.parse().map_err(|_| {
                    ApiError::invalid(format!("status `{value}` is not an HTTP status; use e.g. status=400"))
                })?)
            }
            "limit" => {
                let limit: usize =
                    value.parse().ok().filter(|l| (1..=journal::CAPACITY).contains(l)).ok_or_else(|| {
                        ApiError::invalid(format!("limit `{value}` must be 1 to {}", journal::CAPACITY))
                    })?;
                filter.limit = Some(limit);
            }
            _ => {}
        }
    }
    Ok(filter)
}

fn require_json(request: &Request<Bytes>) -> Result<(), ApiError> {
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        codes::UNSUPPORTED_MEDIA_TYPE,
        "the body must be JSON with Content-Type: application/json",
    ))
}

fn no_content() -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// The answer an injected fault gives: `status` in the error format, with
/// `Retry-After` where the status calls for one.
pub(crate) fn fault_error(status: StatusCode) -> ApiError {
    let code = match status.as_u16() {
        400 => codes::INVALID_REQUEST,
        401 => codes::UNAUTHORIZED,
        403 => codes::FORBIDDEN,
        404 => codes::NOT_FOUND,
        405 => codes::METHOD_NOT_ALLOWED,
        409 => codes::OPTIMISTIC_LOCKING_ERROR,
        413 => codes::REQUEST_ENTITY_TOO_LARGE,
        415 => codes::UNSUPPORTED_MEDIA_TYPE,
        429 => codes::RATE_LIMITED,
        503 => codes::SERVICE_UNAVAILABLE,
        500..=599 => codes::INTERNAL_SERVER_ERROR,
        _ => codes::INVALID_REQUEST,
    };
    let error = ApiError::new(status, code, format!("injected fault: this request answers {status}"));
    if matches!(status.as_u16(), 429 | 503) {
        error.with_header(RETRY_AFTER, HeaderValue::from_static("1"))
    } else {
        error
    }
}
