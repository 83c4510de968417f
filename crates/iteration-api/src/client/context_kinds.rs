//! Context kinds: list and create-or-update
//! (`/api/v2/projects/{projectKey}/context-kinds...`).
//!
//! The body of a `PUT` is an `UpsertContextKindPayload` JSON value, sent
//! as given (`{"name", "description"?, "archived"?, "version"?}`).

use bytes::Bytes;
use http::{Method, Request};
use iteration_model::{ContextKindsCollectionRep, UpsertResponseRep};
use serde_json::Value;

use super::Client;
use super::error::Error;
use super::request::{JSON, RequestFactory};

const CONTEXT_KINDS: &str = "/api/v2/projects/{projectKey}/context-kinds";
const CONTEXT_KIND: &str = "/api/v2/projects/{projectKey}/context-kinds/{key}";

impl RequestFactory {
    /// `GET /api/v2/projects/{projectKey}/context-kinds` (getContextKindsByProjectKey).
    pub(crate) fn list_context_kinds(&self, project: &str) -> Result<Request<Bytes>, Error> {
        let url = self.url(CONTEXT_KINDS, &[("projectKey", project)])?;
        self.without_body(Method::GET, &url, "")
    }

    /// `PUT /api/v2/projects/{projectKey}/context-kinds/{key}` (putContextKind).
    pub(crate) fn put_context_kind(
        &self,
        project: &str,
        key: &str,
        body: &Value,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(CONTEXT_KIND, &[("projectKey", project), ("key", key)])?;
        self.with_body(Method::PUT, &url, JSON, body)
    }
}

impl Client {
    /// The context kinds of a project.
    pub async fn list_context_kinds(&self, project: &str) -> Result<ContextKindsCollectionRep, Error> {
        self.send(self.requests.list_context_kinds(project)?).await
    }

    /// Creates context kind `key`, or updates it, from an
    /// `UpsertContextKindPayload` JSON body sent as given (for instance
    /// `{"name": "Organization"}`).
    pub async fn put_context_kind(
        &self,
        project: &str,
        key: &str,
        body: &Value,
    ) -> Result<UpsertResponseRep, Error> {
        self.send(self.requests.put_context_kind(project, key, body)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::request::tests::{assert_common_headers, factory, header, violation_paths};
    use serde_json::json;

    #[test]
    fn list_and_put_address_the_project_s_context_kinds() {
        let list = factory().list_context_kinds("my-project").unwrap();
        assert_eq!(list.method(), Method::GET);
        assert_eq!(list.uri(), "https://app.launchdarkly.com/api/v2/projects/my-project/context-kinds");
        assert!(list.body().is_empty());
        assert_common_headers(&list);

        let body = json!({"name": "Organization"});
        let put = factory().put_context_kind("my-project", "org.v2", &body).unwrap();
        assert_eq!(put.method(), Method::PUT);
        assert_eq!(put.uri(), "https://app.launchdarkly.com/api/v2/projects/my-project/context-kinds/org.v2");
        assert_eq!(header(&put, "content-type"), Some("application/json"));
        assert_eq!(put.body().as_ref(), br#"{"name":"Organization"}"#);
        assert_common_headers(&put);

        let error = factory().put_context_kind("my-project", "a b", &body).unwrap_err();
        assert_eq!(violation_paths(error), ["/key"]);
    }
}
