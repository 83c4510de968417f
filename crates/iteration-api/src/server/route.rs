//! Routing: which endpoint a method and path name.

use std::borrow::Cow;

use http::Method;

/// An endpoint with the keys from its path (percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /api/v2/openapi.json`.
    OpenApi,
    /// `GET /api/v2/projects/{p}/experiments`.
    ListProjectExperiments { project: String },
    /// `GET /api/v2/projects/{p}/environments/{e}/experiments`.
    ListExperiments { project: String, environment: String },
    /// `POST /api/v2/projects/{p}/environments/{e}/experiments`.
    CreateExperiment { project: String, environment: String },
    /// `GET /api/v2/projects/{p}/environments/{e}/experiments/{x}`.
    GetExperiment { project: String, environment: String, experiment: String },
    /// `PATCH /api/v2/projects/{p}/environments/{e}/experiments/{x}`.
    PatchExperiment { project: String, environment: String, experiment: String },
    /// `POST /api/v2/projects/{p}/environments/{e}/experiments/{x}/iterations`.
    CreateIteration { project: String, environment: String, experiment: String },
    /// `GET /api/v2/flags/{p}`.
    ListFlags { project: String },
    /// `POST /api/v2/flags/{p}`.
    CreateFlag { project: String },
    /// `GET /api/v2/flags/{p}/{f}`.
    GetFlag { project: String, key: String },
    /// `PATCH /api/v2/flags/{p}/{f}`.
    PatchFlag { project: String, key: String },
    /// `DELETE /api/v2/flags/{p}/{f}`.
    DeleteFlag { project: String, key: String },
    /// `GET /api/v2/metrics/{p}`.
    ListMetrics { project: String },
    /// `POST /api/v2/metrics/{p}`.
    CreateMetric { project: String },
    /// `GET /api/v2/metrics/{p}/{m}`.
    GetMetric { project: String, key: String },
    /// `PATCH /api/v2/metrics/{p}/{m}`.
    PatchMetric { project: String, key: String },
    /// `DELETE /api/v2/metrics/{p}/{m}`.
    DeleteMetric { project: String, key: String },
    /// `GET /api/v2/projects/{p}/metric-groups`.
    ListMetricGroups { project: String },
    /// `POST /api/v2/projects/{p}/metric-groups`.
    CreateMetricGroup { project: String },
    /// `GET /api/v2/projects/{p}/metric-groups/{g}`.
    GetMetricGroup { project: String, key: String },
    /// `PATCH /api/v2/projects/{p}/metric-groups/{g}`.
    PatchMetricGroup { project: String, key: String },
    /// `DELETE /api/v2/projects/{p}/metric-groups/{g}`.
    DeleteMetricGroup { project: String, key: String },
    /// `GET /api/v2/projects/{p}/context-kinds`.
    ListContextKinds { project: String },
    /// `PUT /api/v2/projects/{p}/context-kinds/{k}`.
    PutContextKind { project: String, key: String },
    /// `GET /api/v2/projects/{p}/experimentation-settings`.
    GetExperimentationSettings { project: String },
    /// `PUT /api/v2/projects/{p}/experimentation-settings`.
    PutExperimentationSettings { project: String },
    /// `GET /api/v2/projects/{p}/layers`.
    ListLayers { project: String },
    /// `POST /api/v2/projects/{p}/layers`.
    CreateLayer { project: String },
    /// `PATCH /api/v2/projects/{p}/layers/{l}`.
    UpdateLayer { project: String, key: String },
    /// `GET /api/v2/projects/{p}/environments/{e}/holdouts`.
    ListHoldouts { project: String, environment: String },
    /// `POST /api/v2/projects/{p}/environments/{e}/holdouts`.
    CreateHoldout { project: String, environment: String },
    /// `GET /api/v2/projects/{p}/environments/{e}/holdouts/{h}`.
    GetHoldout { project: String, environment: String, key: String },
    /// `GET /api/v2/projects/{p}/environments/{e}/holdouts/id/{id}`.
    GetHoldoutById { project: String, environment: String, id: String },
    /// `PATCH /api/v2/projects/{p}/environments/{e}/holdouts/{h}`.
    PatchHoldout { project: String, environment: String, key: String },
}

/// Why no endpoint matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouteError {
    /// No resource at this path.
    NotFound,
    /// The resource exists but does not take this method; the methods it takes.
    MethodNotAllowed { allow: &'static str },
}

impl Route {
    /// The endpoint's operation id in the spec, used as the rate-limit bucket
    /// and in logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Route::OpenApi => "getOpenapiSpec",
            Route::ListProjectExperiments { .. } => "getExperimentsAnyEnv",
            Route::ListExperiments { .. } => "getExperiments",
            Route::CreateExperiment { .. } => "createExperiment",
            Route::GetExperiment { .. } => "getExperiment",
            Route::PatchExperiment { .. } => "patchExperiment",
            Route::CreateIteration { .. } => "createIteration",
            Route::ListFlags { .. } => "getFeatureFlags",
            Route::CreateFlag { .. } => "postFeatureFlag",
            Route::GetFlag { .. } => "getFeatureFlag",
            Route::PatchFlag { .. } => "patchFeatureFlag",
            Route::DeleteFlag { .. } => "deleteFeatureFlag",
            Route::ListMetrics { .. } => "getMetrics",
            Route::CreateMetric { .. } => "postMetric",
            Route::GetMetric { .. } => "getMetric",
            Route::PatchMetric { .. } => "patchMetric",
            Route::DeleteMetric { .. } => "deleteMetric",
            Route::ListMetricGroups { .. } => "getMetricGroups",
            Route::CreateMetricGroup { .. } => "createMetricGroup",
            Route::GetMetricGroup { .. } => "getMetricGroup",
            Route::PatchMetricGroup { .. } => "patchMetricGroup",
            Route::DeleteMetricGroup { .. } => "deleteMetricGroup",
            Route::ListContextKinds { .. } => "getContextKindsByProjectKey",
            Route::PutContextKind { .. } => "putContextKind",
            Route::GetExperimentationSettings { .. } => "getExperimentationSettings",
            Route::PutExperimentationSettings { .. } => "putExperimentationSettings",
            Route::ListLayers { .. } => "getLayers",
            Route::CreateLayer { .. } => "createLayer",
            Route::UpdateLayer { .. } => "updateLayer",
            Route::ListHoldouts { .. } => "getAllHoldouts",
            Route::CreateHoldout { .. } => "postHoldout",
            Route::GetHoldout { .. } => "getHoldout",
            Route::GetHoldoutById { .. } => "getHoldoutById",
            Route::PatchHoldout { .. } => "patchHoldout",
        }
    }

    /// Whether the endpoint changes data (a reader token may not use it).
    pub(crate) fn writes(&self) -> bool {
        matches!(
            self,
            Route::CreateExperiment { .. }
                | Route::PatchExperiment { .. }
                | Route::CreateIteration { .. }
                | Route::CreateFlag { .. }
                | Route::PatchFlag { .. }
                | Route::DeleteFlag { .. }
                | Route::CreateMetric { .. }
                | Route::PatchMetric { .. }
                | Route::DeleteMetric { .. }
                | Route::CreateMetricGroup { .. }
                | Route::PatchMetricGroup { .. }
                | Route::DeleteMetricGroup { .. }
                | Route::PutContextKind { .. }
                | Route::PutExperimentationSettings { .. }
                | Route::CreateLayer { .. }
                | Route::UpdateLayer { .. }
                | Route::CreateHoldout { .. }
                | Route::PatchHoldout { .. }
        )
    }

    /// The project the endpoint works in, if any.
    pub(crate) fn project(&self) -> Option<&str> {
        match self {
            Route::OpenApi => None,
            Route::ListProjectExperiments { project }
            | Route::ListExperiments { project, .. }
            | Route::CreateExperiment { project, .. }
            | Route::GetExperiment { project, .. }
            | Route::PatchExperiment { project, .. }
            | Route::CreateIteration { project, .. }
            | Route::ListFlags { project }
            | Route::CreateFlag { project }
            | Route::GetFlag { project, .. }
            | Route::PatchFlag { project, .. }
            | Route::DeleteFlag { project, .. }
            | Route::ListMetrics { project }
            | Route::CreateMetric { project }
            | Route::GetMetric { project, .. }
            | Route::PatchMetric { project, .. }
            | Route::DeleteMetric { project, .. }
            | Route::ListMetricGroups { project }
            | Route::CreateMetricGroup { project }
            | Route::GetMetricGroup { project, .. }
            | Route::PatchMetricGroup { project, .. }
            | Route::DeleteMetricGroup { project, .. }
            | Route::ListContextKinds { project }
            | Route::PutContextKind { project, .. }
            | Route::GetExperimentationSettings { project }
            | Route::PutExperimentationSettings { project }
            | Route::ListLayers { project }
            | Route::CreateLayer { project }
            | Route::UpdateLayer { project, .. }
            | Route::ListHoldouts { project, .. }
            | Route::CreateHoldout { project, .. }
            | Route::GetHoldout { project, .. }
            | Route::GetHoldoutById { project, .. }
            | Route::PatchHoldout { project, .. } => Some(project),
        }
    }

    /// Matches `method` and `path` (without query).
    pub(crate) fn resolve(method: &Method, path: &str) -> Result<Route, RouteError> {
        let segments: Option<Vec<Cow<'_, str>>> = path
            .strip_prefix("/api/v2/")
            .and_then(|rest| rest.strip_suffix('/').unwrap_or(rest).split('/').map(decode_segment).collect());
        let Some(segments) = segments else { return Err(RouteError::NotFound) };
        let s: Vec<&str> = segments.iter().map(|segment| segment.as_ref()).collect();
        let key = |k: &str| k.to_owned();
        let is = |m: Method| *method == m;
        match s.as_slice() {
            ["openapi.json"] if is(Method::GET) => Ok(Route::OpenApi),
            ["openapi.json"] => Err(RouteError::MethodNotAllowed { allow: "GET" }),
            ["projects", p, "experiments"] if valid(&[p]) => match *method {
                Method::GET => Ok(Route::ListProjectExperiments { project: key(p) }),
                _ => Err(RouteError::MethodNotAllowed { allow: "GET" }),
            },
            ["projects", p, "environments", e, "experiments"] if valid(&[p, e]) => {
                let (project, environment) = (key(p), key(e));
                match *method {
                    Method::GET => Ok(Route::ListExperiments { project, environment }),
                    Method::POST => Ok(Route::CreateExperiment { project, environment }),
                    _ => Err(RouteError::MethodNotAllowed { allow: "GET, POST" }),
                }
            }
            ["projects", p, "environments", e, "experiments", x] if valid(&[p, e, x]) => {
                let (project, environment, experiment) = (key(p), key(e), key(x));
                match *method {
                    Method::GET => Ok(Route::GetExperiment { project, environment, experiment }),
                    Method::PATCH => Ok(Route::PatchExperiment { project, environment, experiment }),
                    _ => Err(RouteError::MethodNotAllowed { allow: "GET, PATCH" }),
                }
            }
            ["projects", p, "environments", e, "experiments", x, "iterations"] if valid(&[p, e, x]) => {
                match *method {
                    Method::POST => Ok(Route::CreateIteration {
                        project: key(p),
                        environment: key(e),
                        experiment: key(x),
                    }),
                    _ => Err(RouteError::MethodNotAllowed { allow: "POST" }),
                }
            }
            ["flags", p] if valid(&[p]) => collection(
                method,
                key(p),
                |project| Route::ListFlags { project },
                |project| Route::CreateFlag { project },
            ),
            ["flags", p, f] if valid(&[p, f]) => item(
                method,
                key(p),
                key(f),
                |project, key| Route::GetFlag { project, key },
                |project, key| Route::PatchFlag { project, key },
                |project, key| Route::DeleteFlag { project, key },
            ),
            ["metrics", p] if valid(&[p]) => collection(
                method,
                key(p),
                |project| Route::ListMetrics { project },
                |project| Route::CreateMetric { project },
            ),
            ["metrics", p, m] if valid(&[p, m]) => item(
                method,
                key(p),
                key(m),
                |project, key| Route::GetMetric { project, key },
                |project, key| Route::PatchMetric { project, key },
                |project, key| Route::DeleteMetric { project, key },
            ),
            ["projects", p, "metric-groups"] if valid(&[p]) => collection(
                method,
                key(p),
                |project| Route::ListMetricGroups { project },
                |project| Route::CreateMetricGroup { project },
            ),
            ["projects", p, "metric-groups", g] if valid(&[p, g]) => item(
                method,
                key(p),
                key(g),
                |project, key| Route::GetMetricGroup { project, key },
                |project, key| Route::PatchMetricGroup { project, key },
                |project, key| Route::DeleteMetricGroup { project, key },
            ),
            ["projects", p, "context-kinds"] if valid(&[p]) => match *method {
                Method::GET => Ok(Route::ListContextKinds { project: key(p) }),
                _ => Err(RouteError::MethodNotAllowed { allow: "GET" }),
            },
            ["projects", p, "context-kinds", k] if valid(&[p, k]) => match *method {
                Method::PUT => Ok(Route::PutContextKind { project: key(p), key: key(k) }),
                _ => Err(RouteError::MethodNotAllowed { allow: "PUT" }),
            },
            ["projects", p, "experimentation-settings"] if valid(&[p]) => match *method {
                Method::GET => Ok(Route::GetExperimentationSettings { project: key(p) }),
                Method::PUT => Ok(Route::PutExperimentationSettings { project: key(p) }),
                _ => Err(RouteError::MethodNotAllowed { allow: "GET, PUT" }),
            },
            ["projects", p, "layers"] if valid(&[p]) => collection(
                method,
                key(p),
                |project| Route::ListLayers { project },
                |project| Route::CreateLayer { project },
            ),
            ["projects", p, "layers", l] if valid(&[p, l]) => match *method {
                Method::PATCH => Ok(Route::UpdateLayer { project: key(p), key: key(l) }),
                _ => Err(RouteError::MethodNotAllowed { allow: "PATCH" }),
            },
            ["projects", p, "environments", e, "holdouts"] if valid(&[p, e]) => {
                let (project, environment) = (key(p), key(e));
                match *method {
                    Method::GET => Ok(Route::ListHoldouts { project, environment }),
                    Method::POST => Ok(Route::CreateHoldout { project, environment }),
                    _ => Err(RouteError::MethodNotAllowed { allow: "GET, POST" }),
                }
            }
            ["projects", p, "environments", e, "holdouts", "id", h] if valid(&[p, e, h]) => match *method {
                Method::GET => Ok(Route::GetHoldoutById { project: key(p), environment: key(e), id: key(h) }),
                _ => Err(RouteError::MethodNotAllowed { allow: "GET" }),
            },
            ["projects", p, "environments", e, "holdouts", h] if valid(&[p, e, h]) => {
                let (project, environment, key) = (key(p), key(e), key(h));
                match *method {
                    Method::GET => Ok(Route::GetHoldout { project, environment, key }),
                    Method::PATCH => Ok(Route::PatchHoldout { project, environment, key }),
                    _ => Err(RouteError::MethodNotAllowed { allow: "GET, PATCH" }),
                }
            }
            _ => Err(RouteError::NotFound),
        }
    }
}

/// A collection of a project: GET lists, POST creates.
fn collection(
    method: &Method,
    project: String,
    list: fn(String) -> Route,
    create: fn(String) -> Route,
) -> Result<Route, RouteError> {
    match *method {
        Method::GET => Ok(list(project)),
        Method::POST => Ok(create(project)),
        _ => Err(RouteError::MethodNotAllowed { allow: "GET, POST" }),
    }
}

/// One item of a project's collection: GET, PATCH and DELETE.
fn item(
    method: &Method,
    project: String,
    key: String,
    get: fn(String, String) -> Route,
    patch: fn(String, String) -> Route,
    delete: fn(String, String) -> Route,
) -> Result<Route, RouteError> {
    match *method {
        Method::GET => Ok(get(project, key)),
        Method::PATCH => Ok(patch(project, key)),
        Method::DELETE => Ok(delete(project, key)),
        _ => Err(RouteError::MethodNotAllowed { allow: "GET, PATCH, DELETE" }),
    }
}

/// Path keys are never empty; `//` in a path names no resource.
fn valid(keys: &[&&str]) -> bool {
    keys.iter().all(|k| !k.is_empty())
}

/// A path segment decoded, borrowed when it has nothing to decode (the
/// common case, on the path of every request).
fn decode_segment(segment: &str) -> Option<Cow<'_, str>> {
    if segment.contains('%') { percent_decode(segment).map(Cow::Owned) } else { Some(Cow::Borrowed(segment)) }
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result
/// is not UTF-8 (no resource has such a key).
pub(crate) fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_resolves_with_its_keys() {
        let base = "/api/v2/projects/my-project/environments/production/experiments";
        assert_eq!(
            Route::resolve(&Method::POST, &format!("{base}/example-experiment/iterations")),
            Ok(Route::CreateIteration {
                project: "my-project".into(),
                environment: "production".into(),
                experiment: "example-experiment".into(),
            })
        );
        assert_eq!(
            Route::resolve(&Method::GET, "/api/v2/projects/my-project/experiments"),
            Ok(Route::ListProjectExperiments { project: "my-project".into() })
        );
        assert_eq!(
            Route::resolve(&Method::PATCH, &format!("{base}/a%2Eb")).map(|r| r.name()),
            Ok("patchExperiment")
        );
        assert_eq!(Route::resolve(&Method::GET, base).map(|r| r.name()), Ok("getExperiments"));
        assert_eq!(Route::resolve(&Method::POST, base).map(|r| r.name()), Ok("createExperiment"));
    }

    #[test]
    fn every_catalog_endpoint_resolves_to_its_operation() {
        let cases = [
            (Method::GET, "/api/v2/flags/p", "getFeatureFlags"),
            (Method::POST, "/api/v2/flags/p", "postFeatureFlag"),
            (Method::GET, "/api/v2/flags/p/f", "getFeatureFlag"),
            (Method::PATCH, "/api/v2/flags/p/f", "patchFeatureFlag"),
            (Method::DELETE, "/api/v2/flags/p/f", "deleteFeatureFlag"),
            (Method::GET, "/api/v2/metrics/p", "getMetrics"),
            (Method::POST, "/api/v2/metrics/p", "postMetric"),
            (Method::GET, "/api/v2/metrics/p/m", "getMetric"),
            (Method::PATCH, "/api/v2/metrics/p/m", "patchMetric"),
            (Method::DELETE, "/api/v2/metrics/p/m", "deleteMetric"),
            (Method::GET, "/api/v2/projects/p/metric-groups", "getMetricGroups"),
            (Method::POST, "/api/v2/projects/p/metric-groups", "createMetricGroup"),
            (Method::GET, "/api/v2/projects/p/metric-groups/g", "getMetricGroup"),
            (Method::PATCH, "/api/v2/projects/p/metric-groups/g", "patchMetricGroup"),
            (Method::DELETE, "/api/v2/projects/p/metric-groups/g", "deleteMetricGroup"),
            (Method::GET, "/api/v2/projects/p/context-kinds", "getContextKindsByProjectKey"),
            (Method::PUT, "/api/v2/projects/p/context-kinds/k", "putContextKind"),
            (Method::GET, "/api/v2/projects/p/experimentation-settings", "getExperimentationSettings"),
            (Method::PUT, "/api/v2/projects/p/experimentation-settings", "putExperimentationSettings"),
        ];
        for (method, path, name) in cases {
            let route = Route::resolve(&method, path).unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
            assert_eq!((route.name(), route.project()), (name, Some("p")), "{method} {path}");
            assert_eq!(route.writes(), method != Method::GET, "{method} {path}");
        }
    }

    #[test]
    fn every_layer_and_holdout_endpoint_resolves_to_its_operation() {
        let holdouts = "/api/v2/projects/p/environments/e/holdouts";
        let cases = [
            (Method::GET, "/api/v2/projects/p/layers".to_owned(), "getLayers"),
            (Method::POST, "/api/v2/projects/p/layers".to_owned(), "createLayer"),
            (Method::PATCH, "/api/v2/projects/p/layers/l".to_owned(), "updateLayer"),
            (Method::GET, holdouts.to_owned(), "getAllHoldouts"),
            (Method::POST, holdouts.to_owned(), "postHoldout"),
            (Method::GET, format!("{holdouts}/h"), "getHoldout"),
            (Method::PATCH, format!("{holdouts}/h"), "patchHoldout"),
            (Method::GET, format!("{holdouts}/id/65f0c0ffee00000000000001"), "getHoldoutById"),
        ];
        for (method, path, name) in cases {
            let route = Route::resolve(&method, &path).unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
            assert_eq!((route.name(), route.project()), (name, Some("p")), "{method} {path}");
            assert_eq!(route.writes(), method != Method::GET, "{method} {path}");
        }
        assert_eq!(
            Route::resolve(&Method::GET, "/api/v2/projects/p/layers/l"),
            Err(RouteError::MethodNotAllowed { allow: "PATCH" })
        );
        assert_eq!(
            Route::resolve(&Method::DELETE, &format!("{holdouts}/h")),
            Err(RouteError::MethodNotAllowed { allow: "GET, PATCH" })
        );
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        assert_eq!(Route::resolve(&Method::GET, "/api/v2/flags"), Err(RouteError::NotFound));
        assert_eq!(
            Route::resolve(&Method::PUT, "/api/v2/flags/p/f"),
            Err(RouteError::MethodNotAllowed { allow: "GET, PATCH, DELETE" })
        );
        assert_eq!(
            Route::resolve(&Method::POST, "/api/v2/projects/p/context-kinds/user"),
            Err(RouteError::MethodNotAllowed { allow: "PUT" })
        );
        assert_eq!(Route::resolve(&Method::GET, "/api/v3/openapi.json"), Err(RouteError::NotFound));
        assert_eq!(
            Route::resolve(&Method::GET, "/api/v2/projects//environments/e/experiments"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            Route::resolve(&Method::DELETE, "/api/v2/projects/p/environments/e/experiments/x"),
            Err(RouteError::MethodNotAllowed { allow: "GET, PATCH" })
        );
        assert_eq!(
            Route::resolve(&Method::GET, "/api/v2/projects/p/environments/e/experiments/x/iterations"),
            Err(RouteError::MethodNotAllowed { allow: "POST" })
        );
        assert_eq!(
            Route::resolve(&Method::GET, "/api/v2/projects/%zz/experiments"),
            Err(RouteError::NotFound)
        );
    }
}
