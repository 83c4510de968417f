//! Metrics: list, create, read, patch and delete (`/api/v2/metrics/{projectKey}...`).
//!
//! A new metric is sent as a `MetricPost` JSON value, as given: its rules
//! (required `key` and `kind`, what each kind needs, randomization units
//! enabled for experiments) are the server's to check, and it answers every
//! problem at once in [`Error::InvalidRequest`].

use bytes::Bytes;
use http::{Method, Request};
use iteration_model::{MetricCollectionRep, MetricRep, PatchOperation};
use serde_json::Value;

use super::Client;
use super::error::Error;
use super::pages::{Cursor, Page};
use super::query::join_query;
use super::request::{JSON, RequestFactory};

const METRICS: &str = "/api/v2/metrics/{projectKey}";
const METRIC: &str = "/api/v2/metrics/{projectKey}/{metricKey}";

/// Paging, filtering and expansion of a list of metrics (getMetrics).
///
/// Build with `..MetricListParams::default()` so that new parameters do not
/// break callers that set only some.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricListParams {
    /// `expand`: properties to add to each metric, such as `experimentCount`
    /// or `metricGroups`.
    pub expand: Vec<String>,
    /// Page size; the server's default is 20.
    pub limit: Option<u32>,
    /// How many metrics to skip.
    pub offset: Option<u32>,
    /// `filter`: clauses joined by commas, such as `tags contains ["web"]`
    /// or `isNumeric equals true`; sent as given.
    pub filter: Option<String>,
}

impl MetricListParams {
    /// The query string (without `?`), every value percent-encoded.
    fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.expand.is_empty() {
            pairs.push(("expand", self.expand.join(",")));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(offset) = self.offset {
            pairs.push(("offset", offset.to_string()));
        }
        if let Some(filter) = &self.filter {
            pairs.push(("filter", filter.clone()));
        }
        join_query(&pairs)
    }
}

/// `expand=a,b`, or nothing for no names.
pub(crate) fn expand_query(expand: &[&str]) -> String {
    if expand.is_empty() { String::new() } else { join_query(&[("expand", expand.join(","))]) }
}

impl Page for MetricCollectionRep {
    fn item_count(&self) -> usize {
        self.items.len()
    }
    fn total_count(&self) -> Option<i64> {
        self.total_count
    }
}

impl RequestFactory {
    /// `GET /api/v2/metrics/{projectKey}` (getMetrics).
    pub(crate) fn list_metrics(
        &self,
        project: &str,
        params: &MetricListParams,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(METRICS, &[("projectKey", project)])?;
        self.without_body(Method::GET, &url, &params.to_query())
    }

    /// `POST /api/v2/metrics/{projectKey}` (postMetric).
    pub(crate) fn create_metric(&self, project: &str, post: &Value) -> Result<Request<Bytes>, Error> {
        let url = self.url(METRICS, &[("projectKey", project)])?;
        self.with_body(Method::POST, &url, JSON, post)
    }

    /// `GET /api/v2/metrics/{projectKey}/{metricKey}?expand=...` (getMetric).
    pub(crate) fn get_metric(
        &self,
        project: &str,
        metric: &str,
        expand: &[&str],
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(METRIC, &[("projectKey", project), ("metricKey", metric)])?;
        self.without_body(Method::GET, &url, &expand_query(expand))
    }

    /// `PATCH /api/v2/metrics/{projectKey}/{metricKey}` (patchMetric): the
    /// operations as a bare array, as LaunchDarkly's own clients send them.
    pub(crate) fn patch_metric(
        &self,
        project: &str,
        metric: &str,
        operations: &[PatchOperation],
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(METRIC, &[("projectKey", project), ("metricKey", metric)])?;
        self.with_body(Method::PATCH, &url, JSON, &operations)
    }

    /// `DELETE /api/v2/metrics/{projectKey}/{metricKey}` (deleteMetric).
    pub(crate) fn delete_metric(&self, project: &str, metric: &str) -> Result<Request<Bytes>, Error> {
        let url = self.url(METRIC, &[("projectKey", project), ("metricKey", metric)])?;
        self.without_body(Method::DELETE, &url, "")
    }
}

impl Client {
    /// One page of the metrics of a project.
    pub async fn list_metrics(
        &self,
        project: &str,
        params: &MetricListParams,
    ) -> Result<MetricCollectionRep, Error> {
        self.send(self.requests.list_metrics(project, params)?).await
    }

    /// The metrics of a project, to walk page by page from `params.offset`
    /// on, `params.limit` metrics each, with [`MetricPages::next`].
    pub fn metric_pages(&self, project: &str, params: MetricListParams) -> MetricPages<'_> {
        let cursor = Cursor::new(params.offset, params.limit);
        MetricPages { client: self, project: project.to_owned(), params, cursor }
    }

    /// Creates a metric from a `MetricPost` JSON body, sent as given (for
    /// instance `{"key": "checkout", "kind": "custom", "eventKey": "checkout"}`).
    /// A key in use answers [`Error::Conflict`] with
    /// [`ConflictKind::KeyExists`](super::ConflictKind::KeyExists); every
    /// broken rule comes back at once in [`Error::InvalidRequest`].
    pub async fn create_metric(&self, project: &str, post: &Value) -> Result<MetricRep, Error> {
        self.send(self.requests.create_metric(project, post)?).await
    }

    /// Reads a metric, with the properties named in `expand` (such as
    /// `experimentCount`, `metricGroups`).
    pub async fn get_metric(&self, project: &str, metric: &str, expand: &[&str]) -> Result<MetricRep, Error> {
        self.send(self.requests.get_metric(project, metric, expand)?).await
    }

    /// Changes a metric with JSON Patch operations (sent as a bare array);
    /// every accepted change gives it a fresh `_versionId`. `key` and `kind`
    /// cannot change.
    pub async fn patch_metric(
        &self,
        project: &str,
        metric: &str,
        operations: &[PatchOperation],
    ) -> Result<MetricRep, Error> {
        self.send(self.requests.patch_metric(project, metric, operations)?).await
    }

    /// Deletes a metric. While a metric group, a draft or a running
    /// iteration uses it, the server refuses with [`Error::InvalidRequest`].
    pub async fn delete_metric(&self, project: &str, metric: &str) -> Result<(), Error> {
        self.send_no_content(self.requests.delete_metric(project, metric)?).await
    }
}

/// Pages of metrics, fetched one request at a time; made by [`Client::metric_pages`].
#[derive(Debug)]
pub struct MetricPages<'a> {
    client: &'a Client,
    project: String,
    params: MetricListParams,
    cursor: Cursor,
}

impl MetricPages<'_> {
    /// The next page, or `None` after the last one.
    pub async fn next(&mut self) -> Result<Option<MetricCollectionRep>, Error> {
        let Some(offset) = self.cursor.next_offset() else { return Ok(None) };
        let params = MetricListParams { offset: Some(offset), ..self.params.clone() };
        let page = self.client.list_metrics(&self.project, &params).await;
        self.cursor.record(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::request::tests::{assert_common_headers, factory, header, violation_paths};
    use iteration_model::JsonPointer;
    use serde_json::json;

    const BASE: &str = "https://app.launchdarkly.com";

    #[test]
    fn list_sends_expand_paging_and_the_filter_encoded() {
        let params = MetricListParams {
            expand: vec!["experimentCount".into(), "metricGroups".into()],
            limit: Some(2),
            offset: Some(4),
            filter: Some(r#"tags contains ["web"]"#.into()),
        };
        let request = factory().list_metrics("my-project", &params).unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri(),
            "https://app.launchdarkly.com/api/v2/metrics/my-project?expand=experimentCount,metricGroups&limit=2\
             &offset=4&filter=tags%20contains%20%5B%22web%22%5D"
        );
        assert_common_headers(&request);
        let plain = factory().list_metrics("my-project", &MetricListParams::default()).unwrap();
        assert_eq!(plain.uri().to_string(), format!("{BASE}/api/v2/metrics/my-project"));
    }

    #[test]
    fn create_posts_the_value_as_given() {
        let post = json!({"key": "checkout", "kind": "custom", "eventKey": "checkout"});
        let request = factory().create_metric("my-project", &post).unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri().to_string(), format!("{BASE}/api/v2/metrics/my-project"));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(serde_json::from_slice::<Value>(request.body()).unwrap(), post);
    }

    #[test]
    fn get_sends_expand_and_checks_the_key() {
        let request = factory().get_metric("my-project", "a.b_c", &["experiments"]).unwrap();
        assert_eq!(
            request.uri().to_string(),
            format!("{BASE}/api/v2/metrics/my-project/a.b_c?expand=experiments")
        );
        let request = factory().get_metric("my-project", "m", &[]).unwrap();
        assert_eq!(request.uri().to_string(), format!("{BASE}/api/v2/metrics/my-project/m"));
        let error = factory().get_metric("my-project", "m m", &[]).unwrap_err();
        assert_eq!(violation_paths(error), ["/metricKey"]);
    }

    #[test]
    fn patch_sends_a_bare_array() {
        let operations = [PatchOperation::Replace {
            path: JsonPointer::parse("/description").unwrap(),
            value: json!("d"),
        }];
        let request = factory().patch_metric("p", "m", &operations).unwrap();
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(request.uri().to_string(), format!("{BASE}/api/v2/metrics/p/m"));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(request.body().as_ref(), br#"[{"op":"replace","path":"/description","value":"d"}]"#);
    }

    #[test]
    fn delete_has_no_body() {
        let request = factory().delete_metric("p", "m").unwrap();
        assert_eq!(request.method(), Method::DELETE);
        assert_eq!(request.uri().to_string(), format!("{BASE}/api/v2/metrics/p/m"));
        assert!(request.body().is_empty());
        assert_common_headers(&request);
    }
}
