//! Holdouts: list, create, read (by key with `expand`, or by ID) and the
//! semantic patch that renames, describes, removes experiments and ends.
//!
//! Requests are built by pure functions (unit-tested below without a
//! network); the `Client` methods only send them.

use bytes::Bytes;
use http::{Method, Request};
use iteration_model::{HoldoutInstruction, HoldoutPatch, HoldoutPost, HoldoutRep, HoldoutsCollectionRep};

use super::Client;
use super::error::Error;
use super::query::{Expand, join_query};
use super::request::{RequestFactory, SEMANTIC_PATCH};

const HOLDOUTS: &str = "/api/v2/projects/{projectKey}/environments/{environmentKey}/holdouts";
const HOLDOUT: &str = "/api/v2/projects/{projectKey}/environments/{environmentKey}/holdouts/{holdoutKey}";
const HOLDOUT_BY_ID: &str =
    "/api/v2/projects/{projectKey}/environments/{environmentKey}/holdouts/id/{holdoutId}";

fn holdouts_path(factory: &RequestFactory, project: &str, environment: &str) -> Result<String, Error> {
    factory.url(HOLDOUTS, &[("projectKey", project), ("environmentKey", environment)])
}

fn holdout_path(
    factory: &RequestFactory,
    project: &str,
    environment: &str,
    key: &str,
) -> Result<String, Error> {
    factory.url(HOLDOUT, &[("projectKey", project), ("environmentKey", environment), ("holdoutKey", key)])
}

/// `GET .../holdouts?limit&offset`.
pub(super) fn list_holdouts(
    factory: &RequestFactory,
    project: &str,
    environment: &str,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<Request<Bytes>, Error> {
    let mut pairs = Vec::new();
    pairs.extend(limit.map(|l| ("limit", l.to_string())));
    pairs.extend(offset.map(|o| ("offset", o.to_string())));
    factory.without_body(Method::GET, &holdouts_path(factory, project, environment)?, &join_query(&pairs))
}

/// `POST .../holdouts`.
pub(super) fn create_holdout(
    factory: &RequestFactory,
    project: &str,
    environment: &str,
    post: &HoldoutPost,
) -> Result<Request<Bytes>, Error> {
    factory.with_body(Method::POST, &holdouts_path(factory, project, environment)?, "application/json", post)
}

/// `GET .../holdouts/{h}?expand=...`: `expand` for the base experiment,
/// `related` (sent with the `rel-` prefix) for the related experiments.
pub(super) fn get_holdout(
    factory: &RequestFactory,
    project: &str,
    environment: &str,
    key: &str,
    expand: Expand,
    related: Expand,
) -> Result<Request<Bytes>, Error> {
    let path = holdout_path(factory, project, environment, key)?;
    let mut names: Vec<String> = Vec::new();
    if !expand.is_empty() {
        names.push(expand.to_query_value());
    }
    if !related.is_empty() {
        names.extend(related.to_query_value().split(',').map(|name| format!("rel-{name}")));
    }
    let query = if names.is_empty() { String::new() } else { join_query(&[("expand", names.join(","))]) };
    factory.without_body(Method::GET, &path, &query)
}

/// `GET .../holdouts/id/{id}`.
pub(super) fn get_holdout_by_id(
    factory: &RequestFactory,
    project: &str,
    environment: &str,
    id: &str,
) -> Result<Request<Bytes>, Error> {
    let path = factory
        .url(HOLDOUT_BY_ID, &[("projectKey", project), ("environmentKey", environment), ("holdoutId", id)])?;
    factory.without_body(Method::GET, &path, "")
}

/// `PATCH .../holdouts/{h}` with a semantic patch.
pub(super) fn patch_holdout(
    factory: &RequestFactory,
    project: &str,
    environment: &str,
    key: &str,
    patch: &HoldoutPatch,
) -> Result<Request<Bytes>, Error> {
    let path = holdout_path(factory, project, environment, key)?;
    factory.with_body(Method::PATCH, &path, SEMANTIC_PATCH, &patch.to_json())
}

impl Client {
    /// A page of the environment's holdouts.
    pub async fn list_holdouts(
        &self,
        project: &str,
        environment: &str,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> Result<HoldoutsCollectionRep, Error> {
        self.send(list_holdouts(&self.requests, project, environment, limit, offset)?).await
    }

    /// Creates a holdout and its base experiment.
    pub async fn create_holdout(
        &self,
        project: &str,
        environment: &str,
        post: &HoldoutPost,
    ) -> Result<HoldoutRep, Error> {
        self.send(create_holdout(&self.requests, project, environment, post)?).await
    }

    /// A holdout by key, with its related experiments in full; `expand` and
    /// `related` name the optional parts of the base and related experiments.
    pub async fn get_holdout(
        &self,
        project: &str,
        environment: &str,
        key: &str,
        expand: Expand,
        related: Expand,
    ) -> Result<HoldoutRep, Error> {
        self.send(get_holdout(&self.requests, project, environment, key, expand, related)?).await
    }

    /// A holdout by its ID.
    pub async fn get_holdout_by_id(
        &self,
        project: &str,
        environment: &str,
        id: &str,
    ) -> Result<HoldoutRep, Error> {
        self.send(get_holdout_by_id(&self.requests, project, environment, id)?).await
    }

    /// Applies a semantic patch to a holdout.
    pub async fn patch_holdout(
        &self,
        project: &str,
        environment: &str,
        key: &str,
        patch: &HoldoutPatch,
    ) -> Result<HoldoutRep, Error> {
        self.send(patch_holdout(&self.requests, project, environment, key, patch)?).await
    }

    /// Ends a holdout; refused while an experiment in it runs.
    pub async fn end_holdout(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> Result<HoldoutRep, Error> {
        self.patch_holdout(project, environment, key, &HoldoutPatch::new([HoldoutInstruction::EndHoldout]))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use http::{HeaderValue, Response};
    use serde_json::json;

    use super::*;

    fn factory() -> RequestFactory {
        RequestFactory {
            base: "https://app.launchdarkly.com".into(),
            token: HeaderValue::from_static("api-secret"),
            api_version: HeaderValue::from_static("20240415"),
            user_agent: HeaderValue::from_static("iteration-test"),
        }
    }

    const BASE: &str =
        "https://app.launchdarkly.com/api/v2/projects/default/environments/production/holdouts";

    #[test]
    fn list_and_create_go_to_the_environments_holdouts() {
        let list = list_holdouts(&factory(), "default", "production", Some(5), None).unwrap();
        assert_eq!(list.uri().to_string(), format!("{BASE}?limit=5"));
        let mut post = HoldoutPost::new("h", "H", "10");
        post.randomization_unit = Some("user".into());
        let create = create_holdout(&factory(), "default", "production", &post).unwrap();
        assert_eq!(create.method(), Method::POST);
        let body: serde_json::Value = serde_json::from_slice(create.body()).unwrap();
        assert_eq!(
            body,
            json!({"name": "H", "key": "h", "holdoutamount": "10", "randomizationunit": "user"})
        );
        assert_eq!(HoldoutPost::from_json(&body), Ok(post), "the server reads back what is sent");
    }

    #[test]
    fn get_sends_own_and_related_expands() {
        let request = get_holdout(
            &factory(),
            "default",
            "production",
            "h",
            Expand::DRAFT_ITERATION,
            Expand::TREATMENTS | Expand::PREVIOUS_ITERATIONS,
        )
        .unwrap();
        assert_eq!(
            request.uri().to_string(),
            format!("{BASE}/h?expand=draftIteration,rel-previousIterations,rel-treatments")
        );
        let by_id =
            get_holdout_by_id(&factory(), "default", "production", "65f0c0ffee00000000000001").unwrap();
        assert_eq!(by_id.uri().to_string(), format!("{BASE}/id/65f0c0ffee00000000000001"));
    }

    #[test]
    fn patch_is_a_semantic_patch() {
        let patch = HoldoutPatch::new([
            HoldoutInstruction::RemoveExperiment { value: "e".into() },
            HoldoutInstruction::EndHoldout,
        ]);
        let request = patch_holdout(&factory(), "default", "production", "h", &patch).unwrap();
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(request.headers()["content-type"], SEMANTIC_PATCH);
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(
            body,
            json!({"instructions": [{"kind": "removeExperiment", "value": "e"}, {"kind": "endHoldout"}]})
        );
        assert_eq!(HoldoutPatch::from_json(&body), Ok(patch));
    }

    #[test]
    fn a_holdout_answer_reads_with_a_status_this_model_does_not_know() {
        let answer = json!({"_id": "1", "key": "h", "status": "paused", "holdoutAmount": "5",
            "createdAt": 1, "updatedAt": "2", "experiments": [{"key": "e", "name": "E", "environment": "production"}]});
        let response = Response::builder().status(200).body(Bytes::from(answer.to_string())).unwrap();
        let holdout: HoldoutRep =
            super::super::response::read(&response, UNIX_EPOCH + Duration::from_millis(1)).unwrap();
        assert_eq!(holdout.status, "paused");
        assert_eq!(holdout.updated_at.get(), 2, "timestamps read as digit strings too");
        assert_eq!(holdout.experiments.map(|e| e.len()), Some(1));
    }
}
