//! Building the `http::Request` of each operation: the one place that knows
//! paths, query strings, headers and bodies. No IO happens here.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, Request};
use iteration_model::{
    ExperimentPatchInput, ExperimentPost, IterationInput, Violation, ViolationCode, Violations, is_valid_key,
};
use serde::Serialize;

use super::error::Error;
use super::query::{Expand, ListParams, join_query, percent_encode};

/// `LD-API-Version`.
pub(crate) const LD_API_VERSION: HeaderName = HeaderName::from_static("ld-api-version");
/// The content type of a semantic patch.
pub(crate) const SEMANTIC_PATCH: &str = "application/json; domain-model=launchdarkly.semanticpatch";
const JSON: &str = "application/json";

/// What every request of one client shares: where it goes and who sends it.
#[derive(Clone)]
pub(crate) struct RequestFactory {
    /// `scheme://authority[/prefix]`, without a trailing slash.
    pub(crate) base: String,
    /// Marked sensitive, so that `http`'s own Debug output hides it too.
    pub(crate) token: HeaderValue,
    pub(crate) api_version: HeaderValue,
    pub(crate) user_agent: HeaderValue,
}

impl std::fmt::Debug for RequestFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestFactory")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .field("api_version", &self.api_version)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// The path parameters of one request, checked before they are used.
struct PathKeys<'a>(&'a [(&'static str, &'a str)]);

impl PathKeys<'_> {
    /// Every key that the API would reject, as a violation at `/{name}`.
    fn check(&self) -> Result<(), Error> {
        let violations: Violations = self
            .0
            .iter()
            .filter(|(_, key)| !is_valid_key(key))
            .map(|(name, key)| {
                Violation::new(
                    format!("/{name}"),
                    ViolationCode::InvalidKey,
                    format!("{name} {key:?} is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -"),
                )
            })
            .collect();
        if violations.is_empty() { Ok(()) } else { Err(Error::Validation(violations)) }
    }
}

impl RequestFactory {
    /// `POST .../experiments/{x}/iterations`.
    pub(crate) fn create_iteration(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        input: &IterationInput,
    ) -> Result<Request<Bytes>, Error> {
        let path = self.experiment_path(project, environment, experiment)?;
        let uri = format!("{path}/iterations");
        self.with_body(Method::POST, &uri, JSON, input)
    }

    /// `POST .../experiments`.
    pub(crate) fn create_experiment(
        &self,
        project: &str,
        environment: &str,
        post: &ExperimentPost,
    ) -> Result<Request<Bytes>, Error> {
        let path = self.path(&[("projectKey", project), ("environmentKey", environment)])?;
        self.with_body(Method::POST, &format!("{path}/experiments"), JSON, post)
    }

    /// `GET .../experiments/{x}?expand=...`.
    pub(crate) fn get_experiment(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        expand: Expand,
    ) -> Result<Request<Bytes>, Error> {
        let path = self.experiment_path(project, environment, experiment)?;
        let query = if expand.is_empty() {
            String::new()
        } else {
            join_query(&[("expand", expand.to_query_value())])
        };
        self.without_body(Method::GET, &path, &query)
    }

    /// `GET .../environments/{e}/experiments` or, without an environment,
    /// `GET /api/v2/projects/{p}/experiments`.
    pub(crate) fn list_experiments(
        &self,
        project: &str,
        environment: Option<&str>,
        params: &ListParams,
    ) -> Result<Request<Bytes>, Error> {
        let path = match environment {
            Some(environment) => self.path(&[("projectKey", project), ("environmentKey", environment)])?,
            None => self.path(&[("projectKey", project)])?,
        };
        self.without_body(Method::GET, &format!("{path}/experiments"), &params.to_query())
    }

    /// `PATCH .../experiments/{x}` with a semantic patch.
    pub(crate) fn patch_experiment(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        patch: &ExperimentPatchInput,
    ) -> Result<Request<Bytes>, Error> {
        let path = self.experiment_path(project, environment, experiment)?;
        self.with_body(Method::PATCH, &path, SEMANTIC_PATCH, patch)
    }

    /// `.../projects/{p}/environments/{e}/experiments/{x}`, keys checked.
    fn experiment_path(&self, project: &str, environment: &str, experiment: &str) -> Result<String, Error> {
        self.path(&[("projectKey", project), ("environmentKey", environment), ("experimentKey", experiment)])
    }

    /// The absolute URL of `/api/v2/projects/{p}[/environments/{e}[/experiments/{x}]]`,
    /// after checking every key.
    pub(super) fn path(&self, keys: &[(&'static str, &str)]) -> Result<String, Error> {
        PathKeys(keys).check()?;
        let mut path = format!("{}/api/v2", self.base);
        for (name, key) in keys {
            let segment = match *name {
                "projectKey" => "projects",
                "environmentKey" => "environments",
                _ => "experiments",
            };
            path.push('/');
            path.push_str(segment);
            path.push('/');
            path.push_str(&percent_encode(key));
        }
        Ok(path)
    }

    pub(super) fn without_body(
        &self,
        method: Method,
        path: &str,
        query: &str,
    ) -> Result<Request<Bytes>, Error> {
        let uri = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
        self.request(method, &uri, None, Bytes::new())
    }

    pub(super) fn with_body(
        &self,
        method: Method,
        uri: &str,
        content_type: &'static str,
        body: &impl Serialize,
    ) -> Result<Request<Bytes>, Error> {
        // Serialising our own types into a Vec fails only for maps with
        // non-string keys, which none of them has; still, say so rather than panic.
        let bytes =
            serde_json::to_vec(body).map_err(|e| Error::Config(format!("cannot encode the body: {e}")))?;
        self.request(method, uri, Some(content_type), Bytes::from(bytes))
    }

    fn request(
        &self,
        method: Method,
        uri: &str,
        content_type: Option<&'static str>,
        body: Bytes,
    ) -> Result<Request<Bytes>, Error> {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(AUTHORIZATION, self.token.clone())
            .header(LD_API_VERSION, self.api_version.clone())
            .header(USER_AGENT, self.user_agent.clone());
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        builder.body(body).map_err(|e| Error::Config(format!("cannot build a request for {uri}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iteration_model::Instruction;

    fn factory() -> RequestFactory {
        let mut token = HeaderValue::from_static("api-secret");
        token.set_sensitive(true);
        RequestFactory {
            base: "https://app.launchdarkly.com".into(),
            token,
            api_version: HeaderValue::from_static("20240415"),
            user_agent: HeaderValue::from_static("iteration-test"),
        }
    }

    fn header<'a>(request: &'a Request<Bytes>, name: &str) -> Option<&'a str> {
        request.headers().get(name).and_then(|v| v.to_str().ok())
    }

    fn iteration_input() -> IterationInput {
        let json = include_str!("../../../iteration-model/fixtures/docs/create-iteration.request.json");
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        IterationInput::from_json(&value).unwrap()
    }

    #[test]
    fn create_iteration_posts_json_to_the_iterations_path() {
        let request = factory()
            .create_iteration("default", "production", "example-experiment", &iteration_input())
            .unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(
            request.uri(),
            "https://app.launchdarkly.com/api/v2/projects/default/environments/production/experiments/example-experiment/iterations"
        );
        assert_eq!(header(&request, "authorization"), Some("api-secret"));
        assert_eq!(header(&request, "ld-api-version"), Some("20240415"));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(header(&request, "user-agent"), Some("iteration-test"));
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(IterationInput::from_json(&body).unwrap(), iteration_input());
    }

    #[test]
    fn invalid_keys_are_reported_together_before_anything_is_built() {
        let error = factory().get_experiment("my project", "production", "a/b", Expand::NONE).unwrap_err();
        let Error::Validation(violations) = error else {
            panic!("expected a validation error, got {error:?}")
        };
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/projectKey", "/experimentKey"]);
        assert!(violations.iter().all(|v| v.code == ViolationCode::InvalidKey));
        assert_eq!(
            violations.as_slice()[0].message,
            "projectKey \"my project\" is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -"
        );
    }

    #[test]
    fn get_experiment_sends_expand_and_no_body() {
        let request = factory()
            .get_experiment(
                "default",
                "production",
                "example-experiment",
                Expand::DRAFT_ITERATION | Expand::TREATMENTS,
            )
            .unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri(),
            "https://app.launchdarkly.com/api/v2/projects/default/environments/production/experiments/\
             example-experiment?expand=draftIteration,treatments"
        );
        assert_eq!(header(&request, "content-type"), None);
        assert!(request.body().is_empty());
    }

    #[test]
    fn lists_go_to_the_environment_or_the_project() {
        let params = ListParams { limit: Some(2), ..ListParams::default() };
        let in_env = factory().list_experiments("default", Some("production"), &params).unwrap();
        assert_eq!(
            in_env.uri(),
            "https://app.launchdarkly.com/api/v2/projects/default/environments/production/experiments?limit=2"
        );
        let in_project = factory().list_experiments("default", None, &ListParams::default()).unwrap();
        assert_eq!(in_project.uri(), "https://app.launchdarkly.com/api/v2/projects/default/experiments");
    }

    #[test]
    fn patch_is_a_semantic_patch() {
        let patch = ExperimentPatchInput::new([Instruction::StartIteration { change_justification: None }]);
        let request =
            factory().patch_experiment("default", "production", "example-experiment", &patch).unwrap();
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(header(&request, "content-type"), Some(SEMANTIC_PATCH));
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(body, serde_json::json!({"instructions": [{"kind": "startIteration"}]}));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let factory = factory();
        assert!(!format!("{factory:?}").contains("api-secret"));
        let request = factory.list_experiments("default", None, &ListParams::default()).unwrap();
        assert!(!format!("{request:?}").contains("api-secret"));
    }
}
