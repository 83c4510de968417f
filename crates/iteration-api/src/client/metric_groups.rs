//! Metric groups: list, create, read, patch and delete
//! (`/api/v2/projects/{projectKey}/metric-groups...`).
//!
//! A new group is sent as a `MetricGroupPost` JSON value, as given
//! (`{"key", "name", "kind": "funnel"|"standard", "metrics": [{"key", "nameInGroup"}]}`);
//! the server checks that its members exist, are not repeated and are
//! enough for its kind, and answers every problem at once.

use bytes::Bytes;
use http::{Method, Request};
use iteration_model::{MetricGroupCollectionRep, MetricGroupRep, PatchOperation};
use serde_json::Value;

use super::Client;
use super::error::Error;
use super::metrics::expand_query;
use super::pages::{Cursor, Page};
use super::query::join_query;
use super::request::{JSON, RequestFactory};

const GROUPS: &str = "/api/v2/projects/{projectKey}/metric-groups";
const GROUP: &str = "/api/v2/projects/{projectKey}/metric-groups/{metricGroupKey}";

/// Paging and filtering of a list of metric groups (getMetricGroups).
///
/// Build with `..MetricGroupListParams::default()` so that new parameters
/// do not break callers that set only some.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricGroupListParams {
    /// `filter`: clauses such as `kind equals funnel` or `query equals checkout`; sent as given.
    pub filter: Option<String>,
    /// Page size; the server's default is 20.
    pub limit: Option<u32>,
    /// How many groups to skip.
    pub offset: Option<u32>,
}

impl MetricGroupListParams {
    /// The query string (without `?`), every value percent-encoded.
    fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(filter) = &self.filter {
            pairs.push(("filter", filter.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(offset) = self.offset {
            pairs.push(("offset", offset.to_string()));
        }
        join_query(&pairs)
    }
}

impl Page for MetricGroupCollectionRep {
    fn item_count(&self) -> usize {
        self.items.len()
    }
    fn total_count(&self) -> Option<i64> {
        self.total_count
    }
}

impl RequestFactory {
    /// `GET /api/v2/projects/{projectKey}/metric-groups` (getMetricGroups).
    pub(crate) fn list_metric_groups(
        &self,
        project: &str,
        params: &MetricGroupListParams,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(GROUPS, &[("projectKey", project)])?;
        self.without_body(Method::GET, &url, &params.to_query())
    }

    /// `POST /api/v2/projects/{projectKey}/metric-groups` (createMetricGroup).
    pub(crate) fn create_metric_group(&self, project: &str, post: &Value) -> Result<Request<Bytes>, Error> {
        let url = self.url(GROUPS, &[("projectKey", project)])?;
        self.with_body(Method::POST, &url, JSON, post)
    }

    /// `GET .../metric-groups/{metricGroupKey}?expand=...` (getMetricGroup).
    pub(crate) fn get_metric_group(
        &self,
        project: &str,
        group: &str,
        expand: &[&str],
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(GROUP, &[("projectKey", project), ("metricGroupKey", group)])?;
        self.without_body(Method::GET, &url, &expand_query(expand))
    }

    /// `PATCH .../metric-groups/{metricGroupKey}` (patchMetricGroup): the
    /// operations as a bare array, as LaunchDarkly's own clients send them.
    pub(crate) fn patch_metric_group(
        &self,
        project: &str,
        group: &str,
        operations: &[PatchOperation],
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(GROUP, &[("projectKey", project), ("metricGroupKey", group)])?;
        self.with_body(Method::PATCH, &url, JSON, &operations)
    }

    /// `DELETE .../metric-groups/{metricGroupKey}` (deleteMetricGroup).
    pub(crate) fn delete_metric_group(&self, project: &str, group: &str) -> Result<Request<Bytes>, Error> {
        let url = self.url(GROUP, &[("projectKey", project), ("metricGroupKey", group)])?;
        self.without_body(Method::DELETE, &url, "")
    }
}

impl Client {
    /// One page of the metric groups of a project.
    pub async fn list_metric_groups(
        &self,
        project: &str,
        params: &MetricGroupListParams,
    ) -> Result<MetricGroupCollectionRep, Error> {
        self.send(self.requests.list_metric_groups(project, params)?).await
    }

    /// The metric groups of a project, to walk page by page from
    /// `params.offset` on, `params.limit` groups each, with [`MetricGroupPages::next`].
    pub fn metric_group_pages(&self, project: &str, params: MetricGroupListParams) -> MetricGroupPages<'_> {
        let cursor = Cursor::new(params.offset, params.limit);
        MetricGroupPages { client: self, project: project.to_owned(), params, cursor }
    }

    /// Creates a metric group from a `MetricGroupPost` JSON body, sent as given.
    pub async fn create_metric_group(&self, project: &str, post: &Value) -> Result<MetricGroupRep, Error> {
        self.send(self.requests.create_metric_group(project, post)?).await
    }

    /// Reads a metric group, with the properties named in `expand`
    /// (`experiments`, `experimentCount`).
    pub async fn get_metric_group(
        &self,
        project: &str,
        group: &str,
        expand: &[&str],
    ) -> Result<MetricGroupRep, Error> {
        self.send(self.requests.get_metric_group(project, group, expand)?).await
    }

    /// Changes a metric group with JSON Patch operations (sent as a bare array).
    pub async fn patch_metric_group(
        &self,
        project: &str,
        group: &str,
        operations: &[PatchOperation],
    ) -> Result<MetricGroupRep, Error> {
        self.send(self.requests.patch_metric_group(project, group, operations)?).await
    }

    /// Deletes a metric group. While a draft or running iteration uses it,
    /// the server refuses with [`Error::InvalidRequest`].
    pub async fn delete_metric_group(&self, project: &str, group: &str) -> Result<(), Error> {
        self.send_no_content(self.requests.delete_metric_group(project, group)?).await
    }
}

/// Pages of metric groups, fetched one request at a time; made by
/// [`Client::metric_group_pages`].
#[derive(Debug)]
pub struct MetricGroupPages<'a> {
    client: &'a Client,
    project: String,
    params: MetricGroupListParams,
    cursor: Cursor,
}

impl MetricGroupPages<'_> {
    /// The next page, or `None` after the last one.
    pub async fn next(&mut self) -> Result<Option<MetricGroupCollectionRep>, Error> {
        let Some(offset) = self.cursor.next_offset() else { return Ok(None) };
        let params = MetricGroupListParams { offset: Some(offset), ..self.params.clone() };
        let page = self.client.list_metric_groups(&self.project, &params).await;
        self.cursor.record(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::request::tests::{assert_common_headers, factory, header, violation_paths};
    use iteration_model::JsonPointer;
    use serde_json::json;

    const BASE: &str = "https://app.launchdarkly.com/api/v2/projects";

    #[test]
    fn list_sends_filter_and_paging() {
        let params = MetricGroupListParams {
            filter: Some("kind equals funnel".into()),
            limit: Some(1),
            offset: Some(3),
        };
        let request = factory().list_metric_groups("my-project", &params).unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri().to_string(),
            format!("{BASE}/my-project/metric-groups?filter=kind%20equals%20funnel&limit=1&offset=3")
        );
        assert_common_headers(&request);
    }

    #[test]
    fn create_posts_the_value_as_given() {
        let post = json!({"key": "g", "name": "G", "kind": "standard", "metrics": [{"key": "m"}]});
        let request = factory().create_metric_group("my-project", &post).unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri().to_string(), format!("{BASE}/my-project/metric-groups"));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(serde_json::from_slice::<Value>(request.body()).unwrap(), post);
    }

    #[test]
    fn get_patch_and_delete_address_one_group() {
        let get = factory().get_metric_group("p", "g_1", &["experiments", "experimentCount"]).unwrap();
        assert_eq!(
            get.uri().to_string(),
            format!("{BASE}/p/metric-groups/g_1?expand=experiments,experimentCount")
        );
        let operations =
            [PatchOperation::Add { path: JsonPointer::parse("/tags/-").unwrap(), value: json!("t") }];
        let patch = factory().patch_metric_group("p", "g", &operations).unwrap();
        assert_eq!(patch.method(), Method::PATCH);
        assert_eq!(patch.uri().to_string(), format!("{BASE}/p/metric-groups/g"));
        assert_eq!(patch.body().as_ref(), br#"[{"op":"add","path":"/tags/-","value":"t"}]"#);
        let delete = factory().delete_metric_group("p", "g").unwrap();
        assert_eq!(delete.method(), Method::DELETE);
        assert!(delete.body().is_empty());
        let error = factory().delete_metric_group("p", "g/h").unwrap_err();
        assert_eq!(violation_paths(error), ["/metricGroupKey"]);
    }
}
