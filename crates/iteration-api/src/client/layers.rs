//! Layers: list, create and the semantic patch that reserves traffic.
//!
//! Requests are built by pure functions (unit-tested below without a
//! network); the `Client` methods only send them.

use bytes::Bytes;
use http::{Method, Request};
use iteration_model::{Layer, LayerCollectionRep, LayerInstruction, LayerPatch, LayerPost};

use super::Client;
use super::error::Error;
use super::query::join_query;
use super::request::{RequestFactory, SEMANTIC_PATCH};

const LAYERS: &str = "/api/v2/projects/{projectKey}/layers";
const LAYER: &str = "/api/v2/projects/{projectKey}/layers/{layerKey}";

/// `GET /api/v2/projects/{p}/layers[?filter=experimentKey:k]`.
pub(super) fn list_layers(
    factory: &RequestFactory,
    project: &str,
    experiment: Option<&str>,
) -> Result<Request<Bytes>, Error> {
    let path = factory.url(LAYERS, &[("projectKey", project)])?;
    let query =
        experiment.map(|key| join_query(&[("filter", format!("experimentKey:{key}"))])).unwrap_or_default();
    factory.without_body(Method::GET, &path, &query)
}

/// `POST /api/v2/projects/{p}/layers`.
pub(super) fn create_layer(
    factory: &RequestFactory,
    project: &str,
    post: &LayerPost,
) -> Result<Request<Bytes>, Error> {
    let path = factory.url(LAYERS, &[("projectKey", project)])?;
    factory.with_body(Method::POST, &path, "application/json", post)
}

/// `PATCH /api/v2/projects/{p}/layers/{l}` with a semantic patch.
pub(super) fn update_layer(
    factory: &RequestFactory,
    project: &str,
    layer: &str,
    patch: &LayerPatch,
) -> Result<Request<Bytes>, Error> {
    let path = factory.url(LAYER, &[("projectKey", project), ("layerKey", layer)])?;
    factory.with_body(Method::PATCH, &path, SEMANTIC_PATCH, &patch.to_json())
}

impl Client {
    /// The project's layers; with `experiment`, only those in which it
    /// reserves traffic.
    pub async fn list_layers(
        &self,
        project: &str,
        experiment: Option<&str>,
    ) -> Result<LayerCollectionRep, Error> {
        self.send(list_layers(&self.requests, project, experiment)?).await
    }

    /// Creates a layer.
    pub async fn create_layer(&self, project: &str, post: &LayerPost) -> Result<Layer, Error> {
        self.send(create_layer(&self.requests, project, post)?).await
    }

    /// Applies a semantic patch to a layer: every instruction or none.
    pub async fn update_layer(&self, project: &str, layer: &str, patch: &LayerPatch) -> Result<Layer, Error> {
        self.send(update_layer(&self.requests, project, layer, patch)?).await
    }

    /// Reserves `percent` of the layer's traffic in `environment` for an
    /// experiment (or changes its reservation).
    pub async fn reserve_layer_traffic(
        &self,
        project: &str,
        layer: &str,
        environment: &str,
        experiment: &str,
        percent: i64,
    ) -> Result<Layer, Error> {
        let instruction = LayerInstruction::UpdateExperimentReservation {
            experiment_key: experiment.to_owned(),
            reservation_percent: percent,
        };
        self.update_layer(project, layer, &LayerPatch::new(Some(environment), [instruction])).await
    }

    /// Takes an experiment's reservation out of a layer.
    pub async fn remove_experiment_from_layer(
        &self,
        project: &str,
        layer: &str,
        environment: &str,
        experiment: &str,
    ) -> Result<Layer, Error> {
        let instruction = LayerInstruction::RemoveExperiment { experiment_key: experiment.to_owned() };
        self.update_layer(project, layer, &LayerPatch::new(Some(environment), [instruction])).await
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

    fn body(request: &Request<Bytes>) -> serde_json::Value {
        serde_json::from_slice(request.body()).expect("a JSON body")
    }

    #[test]
    fn listing_filters_by_experiment_key() {
        let all = list_layers(&factory(), "default", None).unwrap();
        assert_eq!(all.uri(), "https://app.launchdarkly.com/api/v2/projects/default/layers");
        let one = list_layers(&factory(), "default", Some("checkout-button")).unwrap();
        assert_eq!(
            one.uri(),
            "https://app.launchdarkly.com/api/v2/projects/default/layers?filter=experimentKey:checkout-button"
        );
        assert_eq!(one.method(), Method::GET);
    }

    #[test]
    fn create_posts_the_layer_post() {
        let post =
            LayerPost { key: "checkout-flow".into(), name: "Checkout Flow".into(), description: "".into() };
        let request = create_layer(&factory(), "default", &post).unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(
            body(&request),
            json!({"key": "checkout-flow", "name": "Checkout Flow", "description": ""})
        );
        assert_eq!(request.headers()["content-type"], "application/json");
    }

    #[test]
    fn update_is_a_semantic_patch_with_the_environment_at_the_top() {
        let patch = LayerPatch::new(
            Some("production"),
            [LayerInstruction::UpdateExperimentReservation {
                experiment_key: "exp".into(),
                reservation_percent: 25,
            }],
        );
        let request = update_layer(&factory(), "default", "checkout-flow", &patch).unwrap();
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(
            request.uri(),
            "https://app.launchdarkly.com/api/v2/projects/default/layers/checkout-flow"
        );
        assert_eq!(request.headers()["content-type"], SEMANTIC_PATCH);
        assert_eq!(
            body(&request),
            json!({"environmentKey": "production", "instructions": [
                {"kind": "updateExperimentReservation", "experimentKey": "exp", "reservationPercent": 25}]})
        );
        assert_eq!(LayerPatch::from_json(&body(&request)), Ok(patch), "the server reads back what is sent");
    }

    #[test]
    fn invalid_keys_are_reported_together() {
        let patch = LayerPatch::new(None, [LayerInstruction::UpdateName { name: "n".into() }]);
        let Err(Error::Validation(violations)) = update_layer(&factory(), "my project", "a/b", &patch) else {
            panic!("expected a validation error")
        };
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/projectKey", "/layerKey"]);
    }

    #[test]
    fn a_layer_answer_reads_as_the_model_layer() {
        let answer = json!({"key": "checkout-flow", "name": "Checkout Flow", "description": "", "createdAt": 1,
            "environments": {"production": {"reservations": [
                {"experimentKey": "e", "flagKey": "f", "reservationPercent": 10}], "otherReservationPercent": 70}},
            "_links": {"self": {"href": "/api/v2/projects/default/layers/checkout-flow", "type": "application/json"}}});
        let response = Response::builder().status(200).body(Bytes::from(answer.to_string())).unwrap();
        let now = UNIX_EPOCH + Duration::from_millis(1);
        let layer: Layer = super::super::response::read(&response, now).unwrap();
        let production = &layer.environments["production"];
        assert_eq!((production.total(), production.reserved_by_others("e")), (80, 70));
    }
}
