//! `GET /api/v2/openapi.json`: the spec this server implements.
//!
//! The repository ships the contract unchanged: LaunchDarkly's REST API
//! document of July 2026, cut to the 33 operations an experiment workflow
//! touches (`openapi/launchdarkly.json`, so that a diff against a newer
//! upstream copy stays readable). [`augment`] adds, as a pure function
//! applied once, what this server answers beyond it: the answers every
//! operation can give (400, 401, 403, 404, 429, and 409 for writes), the
//! `errors` list and `id` of error bodies, the 413, 415 and 503 answers,
//! and this document's own path. A test checks that every upstream path and
//! operation is still there.

use std::sync::OnceLock;

use serde_json::{Value, json};

/// The upstream spec as shipped.
const UPSTREAM: &str = include_str!("../../openapi/launchdarkly.json");

/// The served document (parsed and augmented once).
pub(crate) fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // The shipped file is JSON; a test parses it, so this fallback is
        // never taken in a tested build. Serving `{}` beats refusing to start.
        let upstream = serde_json::from_str(UPSTREAM).unwrap_or_else(|_| json!({}));
        augment(upstream)
    })
}

fn error_response(description: &str) -> Value {
    error_with(description, "InvalidRequestErrorRep")
}

fn error_with(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

/// The upstream spec plus this server's additions.
pub(crate) fn augment(mut spec: Value) -> Value {
    let error_properties = json!({
        "id": {"type": "string", "description": "The request's ID (a UUID), to quote when asking for support"},
        "errors": {
            "type": "array",
            "description": "Every problem of a request that failed validation (this server's addition)",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {
                    "path": {"type": "string", "description": "A JSON Pointer into the request body"},
                    "message": {"type": "string", "description": "What was wrong and what would be right"},
                    "code": {"type": "string", "description": "A stable code for the kind of problem"}
                }
            }
        }
    });
    if let Some(schemas) = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            if !name.ends_with("ErrorRep") {
                continue;
            }
            if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                for (key, property) in error_properties.as_object().into_iter().flatten() {
                    if name == "InvalidRequestErrorRep" || key == "id" {
                        properties.entry(key.clone()).or_insert_with(|| property.clone());
                    }
                }
            }
        }
    }
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (_, operations) in paths.iter_mut() {
            let Some(operations) = operations.as_object_mut() else { continue };
            for (method, operation) in operations.iter_mut() {
                let id = operation.get("operationId").and_then(Value::as_str).unwrap_or("").to_owned();
                let has_body = operation.get("requestBody").is_some();
                let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else {
                    continue;
                };
                let write = method != "get";
                // Every operation can be refused for its token, its rate limit, a
                // malformed request or an unknown key; a write also for losing a
                // race it retried too often (409) and for a body it cannot read.
                let generic = [
                    (
                        "400",
                        "Invalid request: every problem, each with a JSON Pointer",
                        "InvalidRequestErrorRep",
                    ),
                    ("401", "Invalid or missing access token", "UnauthorizedErrorRep"),
                    ("403", "The access token may not do this", "ForbiddenErrorRep"),
                    ("404", "Not found", "NotFoundErrorRep"),
                    ("429", "Rate limited", "RateLimitedErrorRep"),
                ];
                for (status, description, schema) in generic {
                    responses.entry(status).or_insert_with(|| error_with(description, schema));
                }
                if write {
                    let description = match id.as_str() {
                        "createExperiment" | "postFeatureFlag" | "postMetric" | "createMetricGroup" => {
                            "Conflict: key_exists (the key is taken), or optimistic_locking_error"
                        }
                        "createIteration" => {
                            "Conflict: optimistic_locking_error (a flag's flagConfigVersion is stale)"
                        }
                        _ => "Conflict: optimistic_locking_error (the resource kept changing; retry)",
                    };
                    responses
                        .entry("409")
                        .or_insert_with(|| error_with(description, "StatusConflictErrorRep"));
                }
                if has_body {
                    // Rule 1.8: a body not declared JSON (or none at all) is
                    // refused before it is read; one over the limit too.
                    responses.entry("413").or_insert_with(|| {
                        error_response(
                            "Request body larger than the server accepts (request_entity_too_large)",
                        )
                    });
                    responses.entry("415").or_insert_with(|| {
                        error_response(
                            "Content-Type is not application/json, or absent (unsupported_media_type)",
                        )
                    });
                }
                responses.entry("503").or_insert_with(|| error_response("Storage unavailable; retry later"));
            }
        }
        paths.insert(
            "/api/v2/openapi.json".to_owned(),
            json!({"get": {
                "operationId": "getOpenapiSpec",
                "summary": "This document",
                "responses": {"200": {"description": "The OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }}),
        );
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_upstream_path_and_operation_is_served() {
        let upstream: Value = serde_json::from_str(UPSTREAM).expect("the shipped spec is JSON");
        let served = document();
        let upstream_paths = upstream["paths"].as_object().expect("paths");
        assert_eq!(upstream_paths.len(), 18);
        for (path, operations) in upstream_paths {
            for (method, operation) in operations.as_object().expect("operations") {
                let ours = &served["paths"][path][method];
                assert_eq!(ours["operationId"], operation["operationId"], "{method} {path}");
                for status in operation["responses"].as_object().expect("responses").keys() {
                    assert!(ours["responses"].get(status).is_some(), "{method} {path} lost {status}");
                }
            }
        }
        let create_iteration = "/api/v2/projects/{projectKey}/environments/{environmentKey}/experiments/{experimentKey}/iterations";
        assert_eq!(
            served["paths"][create_iteration]["post"]["responses"]["409"]["content"]["application/json"]["schema"]
                ["$ref"],
            "#/components/schemas/StatusConflictErrorRep"
        );
        for (path, method) in
            [(create_iteration, "post"), ("/api/v2/metrics/{projectKey}/{metricKey}", "patch")]
        {
            let responses = &served["paths"][path][method]["responses"];
            assert!(responses["415"].is_object() && responses["413"].is_object(), "{method} {path}");
        }
        assert!(served["paths"]["/api/v2/flags/{projectKey}"]["get"]["responses"]["415"].is_null());
        assert_eq!(
            served["components"]["schemas"]["InvalidRequestErrorRep"]["properties"]["errors"]["type"],
            "array"
        );
    }
}
