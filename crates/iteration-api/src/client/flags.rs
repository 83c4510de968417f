//! Feature flags: list, create, read, patch (JSON Patch or semantic patch)
//! and delete (`/api/v2/flags/{projectKey}...`).

use bytes::Bytes;
use http::{Method, Request};
use iteration_model::{
    FeatureFlag, FeatureFlagBody, FeatureFlags, FlagInstruction, FlagPatch, JsonPatch, PatchOperation,
};
use serde::Serialize;

use super::Client;
use super::error::Error;
use super::pages::{Cursor, Page};
use super::query::join_query;
use super::request::{JSON, RequestFactory, SEMANTIC_PATCH};

const FLAGS: &str = "/api/v2/flags/{projectKey}";
const FLAG: &str = "/api/v2/flags/{projectKey}/{featureFlagKey}";

/// Paging and filtering of a list of flags (getFeatureFlags).
///
/// Build with `..FlagListParams::default()` so that new parameters do not
/// break callers that set only some.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagListParams {
    /// `env`: only these environments' configurations, as environment keys
    /// joined by commas (`production,staging`); all when `None`.
    pub env: Option<String>,
    /// `tag`: only flags with this tag.
    pub tag: Option<String>,
    /// Page size; the server's default is 20.
    pub limit: Option<u32>,
    /// How many flags to skip.
    pub offset: Option<u32>,
    /// `archived` (deprecated by LaunchDarkly in favour of
    /// `filter=state:archived`): archived flags only when true.
    pub archived: Option<bool>,
    /// `filter`: `field:value` terms joined by commas, such as
    /// `query:checkout,tags:web+mobile,state:live`; sent as given.
    pub filter: Option<String>,
}

impl FlagListParams {
    /// The query string (without `?`), every value percent-encoded.
    fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(env) = &self.env {
            pairs.push(("env", env.clone()));
        }
        if let Some(tag) = &self.tag {
            pairs.push(("tag", tag.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(offset) = self.offset {
            pairs.push(("offset", offset.to_string()));
        }
        if let Some(archived) = self.archived {
            pairs.push(("archived", archived.to_string()));
        }
        if let Some(filter) = &self.filter {
            pairs.push(("filter", filter.clone()));
        }
        join_query(&pairs)
    }
}

/// A JSON Patch of a flag as LaunchDarkly takes it (`PatchWithComment`):
/// the operations under `patch`, whichever form the caller's patch had.
#[derive(Serialize)]
struct PatchWithComment<'a> {
    patch: &'a [PatchOperation],
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
}

impl Page for FeatureFlags {
    fn item_count(&self) -> usize {
        self.items.len()
    }
    fn total_count(&self) -> Option<i64> {
        self.total_count
    }
}

impl RequestFactory {
    /// `GET /api/v2/flags/{projectKey}` (getFeatureFlags).
    pub(crate) fn list_flags(&self, project: &str, params: &FlagListParams) -> Result<Request<Bytes>, Error> {
        let url = self.url(FLAGS, &[("projectKey", project)])?;
        self.without_body(Method::GET, &url, &params.to_query())
    }

    /// `POST /api/v2/flags/{projectKey}` (postFeatureFlag).
    pub(crate) fn create_flag(&self, project: &str, body: &FeatureFlagBody) -> Result<Request<Bytes>, Error> {
        let url = self.url(FLAGS, &[("projectKey", project)])?;
        self.with_body(Method::POST, &url, JSON, body)
    }

    /// `GET /api/v2/flags/{projectKey}/{featureFlagKey}?env=...` (getFeatureFlag).
    pub(crate) fn get_flag(
        &self,
        project: &str,
        flag: &str,
        env: Option<&str>,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(FLAG, &[("projectKey", project), ("featureFlagKey", flag)])?;
        let query = env.map(|env| join_query(&[("env", env.to_owned())])).unwrap_or_default();
        self.without_body(Method::GET, &url, &query)
    }

    /// `PATCH /api/v2/flags/{projectKey}/{featureFlagKey}` with a JSON Patch
    /// (patchFeatureFlag): `{"patch": [...], "comment"?}`.
    pub(crate) fn patch_flag(
        &self,
        project: &str,
        flag: &str,
        patch: &JsonPatch,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(FLAG, &[("projectKey", project), ("featureFlagKey", flag)])?;
        let body = PatchWithComment { patch: &patch.operations, comment: patch.comment() };
        self.with_body(Method::PATCH, &url, JSON, &body)
    }

    /// `PATCH /api/v2/flags/{projectKey}/{featureFlagKey}` with a semantic
    /// patch (patchFeatureFlag): `{environmentKey?, comment?, instructions}`.
    pub(crate) fn patch_flag_semantic(
        &self,
        project: &str,
        flag: &str,
        patch: &FlagPatch,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(FLAG, &[("projectKey", project), ("featureFlagKey", flag)])?;
        self.with_body(Method::PATCH, &url, SEMANTIC_PATCH, patch)
    }

    /// `DELETE /api/v2/flags/{projectKey}/{featureFlagKey}` (deleteFeatureFlag).
    pub(crate) fn delete_flag(&self, project: &str, flag: &str) -> Result<Request<Bytes>, Error> {
        let url = self.url(FLAG, &[("projectKey", project), ("featureFlagKey", flag)])?;
        self.without_body(Method::DELETE, &url, "")
    }
}

impl Client {
    /// One page of the flags of a project.
    pub async fn list_flags(&self, project: &str, params: &FlagListParams) -> Result<FeatureFlags, Error> {
        self.send(self.requests.list_flags(project, params)?).await
    }

    /// The flags of a project, to walk page by page from `params.offset` on,
    /// `params.limit` flags each, with [`FlagPages::next`].
    pub fn flag_pages(&self, project: &str, params: FlagListParams) -> FlagPages<'_> {
        let cursor = Cursor::new(params.offset, params.limit);
        FlagPages { client: self, project: project.to_owned(), params, cursor }
    }

    /// Creates a flag: off in every environment, at version 1. A key in use
    /// answers [`Error::Conflict`] with [`ConflictKind::KeyExists`](super::ConflictKind::KeyExists).
    pub async fn create_flag(&self, project: &str, body: &FeatureFlagBody) -> Result<FeatureFlag, Error> {
        self.send(self.requests.create_flag(project, body)?).await
    }

    /// Reads a flag; with `env`, only those environments' configurations
    /// (environment keys joined by commas).
    pub async fn get_flag(&self, project: &str, flag: &str, env: Option<&str>) -> Result<FeatureFlag, Error> {
        self.send(self.requests.get_flag(project, flag, env)?).await
    }

    /// Changes a flag with a JSON Patch of its representation, sent as
    /// `{"patch": [...], "comment"?}` whichever form `patch` has. All
    /// operations apply or none does.
    pub async fn patch_flag(
        &self,
        project: &str,
        flag: &str,
        patch: &JsonPatch,
    ) -> Result<FeatureFlag, Error> {
        self.send(self.requests.patch_flag(project, flag, patch)?).await
    }

    /// Changes a flag with semantic patch instructions; every instruction
    /// applies or none does. Instructions on targeting need
    /// [`FlagPatch::in_environment`].
    pub async fn patch_flag_semantic(
        &self,
        project: &str,
        flag: &str,
        patch: &FlagPatch,
    ) -> Result<FeatureFlag, Error> {
        self.send(self.requests.patch_flag_semantic(project, flag, patch)?).await
    }

    /// Turns targeting on in one environment (`turnFlagOn`); the
    /// environment's `version` moves by one if it was off.
    pub async fn turn_flag_on(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> Result<FeatureFlag, Error> {
        let patch = FlagPatch::new([FlagInstruction::TurnFlagOn]).in_environment(environment);
        self.patch_flag_semantic(project, flag, &patch).await
    }

    /// Turns targeting off in one environment (`turnFlagOff`); the
    /// environment's `version` moves by one if it was on.
    pub async fn turn_flag_off(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> Result<FeatureFlag, Error> {
        let patch = FlagPatch::new([FlagInstruction::TurnFlagOff]).in_environment(environment);
        self.patch_flag_semantic(project, flag, &patch).await
    }

    /// Deletes a flag. A flag that a draft or running iteration uses is
    /// refused with [`Error::InvalidRequest`].
    pub async fn delete_flag(&self, project: &str, flag: &str) -> Result<(), Error> {
        self.send_no_content(self.requests.delete_flag(project, flag)?).await
    }
}

/// Pages of flags, fetched one request at a time; made by [`Client::flag_pages`].
#[derive(Debug)]
pub struct FlagPages<'a> {
    client: &'a Client,
    project: String,
    params: FlagListParams,
    cursor: Cursor,
}

impl FlagPages<'_> {
    /// The next page, or `None` after the last one.
    pub async fn next(&mut self) -> Result<Option<FeatureFlags>, Error> {
        let Some(offset) = self.cursor.next_offset() else { return Ok(None) };
        let params = FlagListParams { offset: Some(offset), ..self.params.clone() };
        let page = self.client.list_flags(&self.project, &params).await;
        self.cursor.record(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::request::tests::{assert_common_headers, body_json, factory, header, violation_paths};
    use iteration_model::JsonPointer;
    use serde_json::json;

    const BASE: &str = "https://app.launchdarkly.com";

    fn replace_name() -> PatchOperation {
        PatchOperation::Replace { path: JsonPointer::parse("/name").unwrap(), value: json!("New") }
    }

    #[test]
    fn list_sends_every_parameter_in_the_spec_order() {
        let params = FlagListParams {
            env: Some("production,staging".into()),
            tag: Some("web app".into()),
            limit: Some(5),
            offset: Some(10),
            archived: Some(false),
            filter: Some("query:check out,tags:a+b".into()),
        };
        let request = factory().list_flags("my-project", &params).unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri(),
            "https://app.launchdarkly.com/api/v2/flags/my-project?env=production,staging&tag=web%20app&limit=5\
             &offset=10&archived=false&filter=query:check%20out,tags:a%2Bb"
        );
        assert_common_headers(&request);
        assert!(request.body().is_empty());
        let plain = factory().list_flags("my-project", &FlagListParams::default()).unwrap();
        assert_eq!(plain.uri(), "https://app.launchdarkly.com/api/v2/flags/my-project");
    }

    #[test]
    fn create_posts_the_body_as_json() {
        let mut body = FeatureFlagBody::new("new-flag", "New flag");
        body.tags = vec!["web".into()];
        let request = factory().create_flag("my-project", &body).unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "https://app.launchdarkly.com/api/v2/flags/my-project");
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(
            request.body().as_ref(),
            br#"{"name":"New flag","key":"new-flag","temporary":false,"tags":["web"]}"#
        );
        assert_common_headers(&request);
    }

    #[test]
    fn get_and_delete_address_one_flag() {
        let get = factory().get_flag("my-project", "flag.v2_x", Some("production")).unwrap();
        assert_eq!(get.method(), Method::GET);
        assert_eq!(get.uri().to_string(), format!("{BASE}/api/v2/flags/my-project/flag.v2_x?env=production"));
        let get = factory().get_flag("my-project", "f", None).unwrap();
        assert_eq!(get.uri().to_string(), format!("{BASE}/api/v2/flags/my-project/f"));
        let delete = factory().delete_flag("my-project", "f").unwrap();
        assert_eq!(delete.method(), Method::DELETE);
        assert_eq!(delete.uri().to_string(), format!("{BASE}/api/v2/flags/my-project/f"));
        assert!(delete.body().is_empty());
        assert_eq!(header(&delete, "content-type"), None);
        assert_common_headers(&delete);
    }

    #[test]
    fn invalid_keys_are_reported_together() {
        let error = factory().patch_flag("my project", "a/b", &JsonPatch::new([replace_name()])).unwrap_err();
        assert_eq!(violation_paths(error), ["/projectKey", "/featureFlagKey"]);
        let error = factory().delete_flag("p", "").unwrap_err();
        assert_eq!(violation_paths(error), ["/featureFlagKey"]);
    }

    #[test]
    fn a_json_patch_is_sent_with_comment_whatever_its_form() {
        let with_comment = JsonPatch::new([replace_name()]).with_comment("rename");
        let request = factory().patch_flag("p", "f", &with_comment).unwrap();
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(request.uri().to_string(), format!("{BASE}/api/v2/flags/p/f"));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(
            request.body().as_ref(),
            br#"{"patch":[{"op":"replace","path":"/name","value":"New"}],"comment":"rename"}"#
        );
        let bare = JsonPatch::from_json(&json!([{"op": "remove", "path": "/description"}])).unwrap();
        let request = factory().patch_flag("p", "f", &bare).unwrap();
        assert_eq!(body_json(&request), json!({"patch": [{"op": "remove", "path": "/description"}]}));
    }

    #[test]
    fn a_semantic_patch_says_so_in_its_content_type() {
        let patch =
            FlagPatch::new([FlagInstruction::TurnFlagOff]).in_environment("production").with_comment("why");
        let request = factory().patch_flag_semantic("p", "f", &patch).unwrap();
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(request.uri().to_string(), format!("{BASE}/api/v2/flags/p/f"));
        assert_eq!(
            header(&request, "content-type"),
            Some("application/json; domain-model=launchdarkly.semanticpatch")
        );
        assert_eq!(
            request.body().as_ref(),
            br#"{"environmentKey":"production","comment":"why","instructions":[{"kind":"turnFlagOff"}]}"#
        );
        assert_eq!(FlagPatch::from_json(&body_json(&request)).unwrap(), patch);
    }
}
