//! What every request shares: the base URL, the headers, path keys checked
//! and percent-encoded, JSON bodies. No IO happens here.
//!
//! Each resource family's module (`experiments.rs`, `flags.rs`, ...) adds
//! its operations to [`RequestFactory`] with these helpers: one method per
//! operation that builds its `http::Request` and nothing more.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, Request};
use iteration_model::{Violation, ViolationCode, Violations, is_valid_key};
use serde::Serialize;

use super::error::Error;
use super::query::percent_encode;

/// `LD-API-Version`.
pub(crate) const LD_API_VERSION: HeaderName = HeaderName::from_static("ld-api-version");
/// The content type of a semantic patch.
pub(crate) const SEMANTIC_PATCH: &str = "application/json; domain-model=launchdarkly.semanticpatch";
/// The content type of every other body.
pub(crate) const JSON: &str = "application/json";

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

/// Every path key that the API would reject, each as a violation at
/// `/{name}` (the name of its path parameter in the spec).
fn check_keys(keys: &[(&'static str, &str)]) -> Result<(), Error> {
    let violations: Violations = keys
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

/// The helpers every operation module builds its requests with. Each
/// operation names its path as the spec writes it, so a reader can go from
/// the spec to the code: `self.url("/api/v2/flags/{projectKey}/{featureFlagKey}", &[...])`.
impl RequestFactory {
    /// The absolute URL of `template`, each `{name}` replaced by the
    /// percent-encoded key given for `name`, after checking every key
    /// (every invalid one is reported, together). A valid key needs no
    /// escaping; encoding anyway keeps the URL well formed whatever the
    /// key rules become.
    pub(crate) fn url(&self, template: &'static str, keys: &[(&'static str, &str)]) -> Result<String, Error> {
        check_keys(keys)?;
        let mut url = String::with_capacity(self.base.len() + template.len() + 32);
        url.push_str(&self.base);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            url.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| bad_template(template))?;
            let name = &after[..close];
            let (_, key) = keys.iter().find(|(n, _)| *n == name).ok_or_else(|| bad_template(template))?;
            url.push_str(&percent_encode(key));
            rest = &after[close + 1..];
        }
        url.push_str(rest);
        Ok(url)
    }

    /// A request without a body; `query` is already encoded (see
    /// `join_query`) and may be empty.
    pub(crate) fn without_body(
        &self,
        method: Method,
        url: &str,
        query: &str,
    ) -> Result<Request<Bytes>, Error> {
        let uri = if query.is_empty() { url.to_owned() } else { format!("{url}?{query}") };
        self.request(method, &uri, None, Bytes::new())
    }

    /// A request with `body` as JSON of `content_type` (`JSON` or `SEMANTIC_PATCH`).
    pub(crate) fn with_body(
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

    /// A request whose body is JSON text already (`body`), sent as it is.
    pub(crate) fn with_json_text(
        &self,
        method: Method,
        uri: &str,
        body: Bytes,
    ) -> Result<Request<Bytes>, Error> {
        self.request(method, uri, Some(JSON), body)
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

/// A path template that names a key it was not given: a mistake in this
/// crate, reported rather than panicked on.
fn bad_template(template: &str) -> Error {
    Error::Config(format!("the path template {template} names a key that was not given"))
}

#[cfg(test)]
pub(crate) mod tests {
    //! Helpers the operation modules' tests share, and the shared helpers' own tests.

    use super::*;

    /// A factory as a client for the commercial site would have.
    pub(crate) fn factory() -> RequestFactory {
        let mut token = HeaderValue::from_static("api-secret");
        token.set_sensitive(true);
        RequestFactory {
            base: "https://app.launchdarkly.com".into(),
            token,
            api_version: HeaderValue::from_static("20240415"),
            user_agent: HeaderValue::from_static("iteration-test"),
        }
    }

    /// A header's value as text.
    pub(crate) fn header<'a>(request: &'a Request<Bytes>, name: &str) -> Option<&'a str> {
        request.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON.
    pub(crate) fn body_json(request: &Request<Bytes>) -> serde_json::Value {
        serde_json::from_slice(request.body()).unwrap()
    }

    /// Asserts what every request carries: token, API version and agent.
    pub(crate) fn assert_common_headers(request: &Request<Bytes>) {
        assert_eq!(header(request, "authorization"), Some("api-secret"));
        assert_eq!(header(request, "ld-api-version"), Some("20240415"));
        assert_eq!(header(request, "user-agent"), Some("iteration-test"));
    }

    /// The paths of the violations of a validation error.
    pub(crate) fn violation_paths(error: Error) -> Vec<String> {
        let Error::Validation(violations) = error else {
            panic!("expected a validation error, got {error:?}")
        };
        assert!(violations.iter().all(|v| v.code == ViolationCode::InvalidKey));
        violations.iter().map(|v| v.path.clone()).collect()
    }

    #[test]
    fn templates_take_the_keys_in_place_of_their_names() {
        let url = factory()
            .url(
                "/api/v2/projects/{projectKey}/context-kinds/{key}",
                &[("projectKey", "p.1"), ("key", "org_x")],
            )
            .unwrap();
        assert_eq!(url, "https://app.launchdarkly.com/api/v2/projects/p.1/context-kinds/org_x");
    }

    #[test]
    fn every_invalid_key_is_reported_before_anything_is_built() {
        let error = factory()
            .url(
                "/api/v2/flags/{projectKey}/{featureFlagKey}",
                &[("projectKey", "my project"), ("featureFlagKey", "a/b")],
            )
            .unwrap_err();
        assert_eq!(violation_paths(error), ["/projectKey", "/featureFlagKey"]);
        let error = factory().url("/api/v2/metrics/{projectKey}", &[("projectKey", "")]).unwrap_err();
        let Error::Validation(violations) = error else { panic!() };
        assert_eq!(
            violations.as_slice()[0].message,
            "projectKey \"\" is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -"
        );
    }

    #[test]
    fn a_template_naming_a_missing_key_is_a_config_error() {
        let error = factory().url("/api/v2/flags/{projectKey}", &[]).unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{error:?}");
    }

    #[test]
    fn bodies_carry_their_content_type_and_reads_none() {
        let factory = factory();
        let url = factory.url("/api/v2/metrics/{projectKey}", &[("projectKey", "p")]).unwrap();
        let read = factory.without_body(Method::GET, &url, "limit=1").unwrap();
        assert_eq!(read.uri(), "https://app.launchdarkly.com/api/v2/metrics/p?limit=1");
        assert_eq!(header(&read, "content-type"), None);
        assert!(read.body().is_empty());
        assert_common_headers(&read);
        let write =
            factory.with_body(Method::PATCH, &url, SEMANTIC_PATCH, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(header(&write, "content-type"), Some(SEMANTIC_PATCH));
        assert_eq!(write.body().as_ref(), br#"{"a":1}"#);
    }

    #[test]
    fn debug_output_hides_the_token() {
        let factory = factory();
        assert!(!format!("{factory:?}").contains("api-secret"));
        let request = factory.without_body(Method::GET, "https://app.launchdarkly.com/api/v2/x", "").unwrap();
        assert!(!format!("{request:?}").contains("api-secret"));
    }
}
