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
        }
    }

    /// Whether the endpoint changes data (a reader token may not use it).
    pub(crate) fn writes(&self) -> bool {
        matches!(
            self,
            Route::CreateExperiment { .. } | Route::PatchExperiment { .. } | Route::CreateIteration { .. }
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
            | Route::CreateIteration { project, .. } => Some(project),
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
            _ => Err(RouteError::NotFound),
        }
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
    fn unknown_paths_and_methods_are_told_apart() {
        assert_eq!(Route::resolve(&Method::GET, "/api/v2/flags"), Err(RouteError::NotFound));
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
