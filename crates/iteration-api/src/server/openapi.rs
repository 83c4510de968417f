//! `GET /api/v2/openapi.json`: the spec this server implements.
//!
//! The repository ships the contract unchanged: LaunchDarkly's REST API
//! document of July 2026, cut to the 33 operations an experiment workflow
//! touches (`openapi/launchdarkly.json`, so that a diff against a newer
//! upstream copy stays readable). [`augment`] adds, as a pure function
//! applied once, what this server answers beyond it: the answers every
//! operation can give (400, 401, 403, 404, 429, and 409 for writes), the
//! `errors` list and `id` of error bodies, the 413, 415 and 503 answers,
//! and this document's own path. It also says what the server accepts
//! where the upstream text says less, so that a client (or the API fuzzer)
//! generated from it sends what is accepted and nothing else: the bounds of
//! `limit` and `offset`, the fields the server requires that upstream
//! leaves optional, the patches' instructions that may not be empty, and
//! `nullable` on every optional property of a request
//! body, since `null` there reads as absent (`docs/behaviour.md` rule
//! 1.16). A test checks that every upstream path and operation is still
//! there.

use std::collections::BTreeSet;
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

/// The largest `limit` of each list (the handlers' `page_window`); every
/// `limit` is at least 1 and every `offset` at least 0.
const PAGE_LIMITS: &[(&str, u64)] = &[
    ("getFeatureFlags", 100),
    ("getMetrics", 50),
    ("getMetricGroups", 50),
    ("getExperiments", 50),
    ("getExperimentsAnyEnv", 50),
    ("getAllHoldouts", 100),
];

/// Request fields the server requires (rules 5.9 and 4.12) that the
/// upstream schemas leave optional.
const REQUIRED: &[(&str, &[&str])] =
    &[("HoldoutPostRequest", &["name", "key", "holdoutamount"]), ("MetricGroupPost", &["key"])];

/// Request arrays the server refuses empty (rules 3.4, 5.8 and 5.12: a
/// patch needs at least one instruction).
const NOT_EMPTY: &[(&str, &str)] = &[
    ("ExperimentPatchInput", "instructions"),
    ("HoldoutPatchInput", "instructions"),
    ("LayerPatchInput", "instructions"),
];

/// Writes `minItems: 1` on the arrays of [`NOT_EMPTY`].
fn refuse_empty(spec: &mut Value) {
    for (schema, property) in NOT_EMPTY {
        let pointer = format!("/components/schemas/{schema}/properties/{property}");
        if let Some(array) = spec.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            array.insert("minItems".to_owned(), json!(1));
        }
    }
}

/// Writes the bounds of `limit` and `offset` into each list's parameters.
fn bound_pages(spec: &mut Value) {
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|o| o.values_mut()) {
        let id = operation.get("operationId").and_then(Value::as_str).unwrap_or("");
        let Some(&(_, max)) = PAGE_LIMITS.iter().find(|(list, _)| *list == id) else { continue };
        let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
        for parameter in parameters.into_iter().flatten() {
            let bounds = match parameter.get("name").and_then(Value::as_str) {
                Some("limit") => json!({"minimum": 1, "maximum": max}),
                Some("offset") => json!({"minimum": 0}),
                _ => continue,
            };
            if let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut) {
                schema.extend(bounds.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
}

/// Adds the fields of [`REQUIRED`] to their schemas' `required`.
fn require_fields(spec: &mut Value) {
    for (schema, fields) in REQUIRED {
        let Some(schema) = spec.pointer_mut(&format!("/components/schemas/{schema}")) else { continue };
        let required = schema.as_object_mut().map(|s| s.entry("required").or_insert_with(|| json!([])));
        let Some(required) = required.and_then(Value::as_array_mut) else { continue };
        for field in *fields {
            if !required.iter().any(|r| r == field) {
                required.push(json!(field));
            }
        }
    }
}

const SCHEMAS: &str = "#/components/schemas/";

/// Every component schema `value` refers to, directly or through others.
fn referenced(spec: &Value, value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix(SCHEMAS))
            {
                if found.insert(name.to_owned()) {
                    if let Some(schema) = spec.pointer(&format!("/components/schemas/{name}")) {
                        referenced(spec, schema, found);
                    }
                }
            }
            map.values().for_each(|v| referenced(spec, v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| referenced(spec, v, found)),
        _ => {}
    }
}

/// Points every `$ref` to a schema of `renamed` at its request copy.
fn point_at_copies(value: &mut Value, renamed: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                if let Some(name) = reference.strip_prefix(SCHEMAS).filter(|n| renamed.contains(*n)) {
                    *reference = format!("{SCHEMAS}{name}Request");
                }
            }
            map.values_mut().for_each(|v| point_at_copies(v, renamed));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| point_at_copies(v, renamed)),
        _ => {}
    }
}

/// Marks each property of `schema` (and of the objects written inside it)
/// that is not required as `nullable`. A `$ref` cannot take a sibling in
/// OpenAPI 3.0, so it is wrapped in `allOf`; an `enum` gets `null` too, as
/// OpenAPI 3.0.3 asks. A property without a type already allows `null`.
fn nullable_when_optional(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    let required: Vec<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            nullable_when_optional(property);
            if required.contains(name) {
                continue;
            }
            let Some(property) = property.as_object_mut() else { continue };
            if let Some(reference) = property.remove("$ref") {
                property.insert("allOf".to_owned(), json!([{"$ref": reference}]));
            } else if !property.contains_key("type") {
                continue;
            }
            property.insert("nullable".to_owned(), Value::Bool(true));
            if let Some(values) = property.get_mut("enum").and_then(Value::as_array_mut) {
                if !values.contains(&Value::Null) {
                    values.push(Value::Null);
                }
            }
        }
    }
    for inner in ["items", "additionalProperties"] {
        if let Some(inner) = object.get_mut(inner) {
            nullable_when_optional(inner);
        }
    }
}

/// Rule 1.16: in a request body, `null` for an optional property reads as
/// absent. Every schema that request bodies use gets `nullable` on its
/// optional properties; one that responses use too is copied for the
/// requests first (`Variation` becomes `VariationRequest` there), so that
/// what the server answers is still held to the upstream schema.
fn nullable_request_properties(spec: &mut Value) {
    let mut requests = BTreeSet::new();
    let mut responses = BTreeSet::new();
    for operation in
        spec["paths"].as_object().into_iter().flat_map(|p| p.values()).filter_map(Value::as_object)
    {
        for operation in operation.values().filter_map(Value::as_object) {
            for (key, value) in operation {
                let found = if key == "requestBody" { &mut requests } else { &mut responses };
                referenced(spec, value, found);
            }
        }
    }
    let shared: BTreeSet<String> = requests.intersection(&responses).cloned().collect();
    let Some(schemas) = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else {
        return;
    };
    for name in &shared {
        if let Some(schema) = schemas.get(name).cloned() {
            schemas.insert(format!("{name}Request"), schema);
        }
    }
    for (name, schema) in schemas.iter_mut() {
        let copy = name.strip_suffix("Request").is_some_and(|n| shared.contains(n));
        if copy || (requests.contains(name) && !shared.contains(name)) {
            point_at_copies(schema, &shared);
            nullable_when_optional(schema);
        }
    }
    let operations = spec.get_mut("paths").and_then(Value::as_object_mut);
    for operation in operations.into_iter().flat_map(|p| p.values_mut()).filter_map(Value::as_object_mut) {
        for body in operation.values_mut().filter_map(|o| o.get_mut("requestBody")) {
            point_at_copies(body, &shared);
        }
    }
}

/// The upstream spec plus this server's additions.
pub(crate) fn augment(mut spec: Value) -> Value {
    bound_pages(&mut spec);
    require_fields(&mut spec);
    refuse_empty(&mut spec);
    nullable_request_properties(&mut spec);
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

    fn parameter<'d>(document: &'d Value, path: &str, name: &str) -> &'d Value {
        let parameters = document["paths"][path]["get"]["parameters"].as_array().expect("parameters");
        &parameters.iter().find(|p| p["name"] == name).expect("the parameter")["schema"]
    }

    #[test]
    fn lists_say_how_large_a_page_may_be() {
        let served = document();
        let experiments = "/api/v2/projects/{projectKey}/environments/{environmentKey}/experiments";
        assert_eq!(parameter(served, experiments, "limit")["minimum"], 1);
        assert_eq!(parameter(served, experiments, "limit")["maximum"], 50);
        assert_eq!(parameter(served, experiments, "offset")["minimum"], 0);
        assert_eq!(parameter(served, "/api/v2/flags/{projectKey}", "limit")["maximum"], 100);
        let holdouts = "/api/v2/projects/{projectKey}/environments/{environmentKey}/holdouts";
        assert_eq!(parameter(served, holdouts, "limit")["maximum"], 100);
    }

    #[test]
    fn fields_the_server_requires_are_required() {
        let schemas = &document()["components"]["schemas"];
        assert_eq!(schemas["HoldoutPostRequest"]["required"], json!(["name", "key", "holdoutamount"]));
        assert!(schemas["MetricGroupPost"]["required"].as_array().expect("required").contains(&json!("key")));
        for patch in ["ExperimentPatchInput", "HoldoutPatchInput", "LayerPatchInput"] {
            assert_eq!(schemas[patch]["properties"]["instructions"]["minItems"], 1, "{patch}");
        }
    }

    #[test]
    fn optional_request_properties_are_nullable_and_responses_keep_their_schemas() {
        let schemas = &document()["components"]["schemas"];
        let input = &schemas["IterationInput"]["properties"];
        assert_eq!(input["randomizationUnit"]["nullable"], true);
        assert_eq!(input["attributes"]["nullable"], true);
        assert!(input["hypothesis"].get("nullable").is_none(), "required: null is a missing field");
        assert_eq!(schemas["FlagInput"]["properties"]["notInExperimentVariationId"]["nullable"], true);
        let post = &schemas["ExperimentPost"]["properties"];
        // A `$ref` takes no sibling in OpenAPI 3.0, so it is wrapped.
        assert_eq!(
            post["analysisConfig"],
            json!({"allOf": [{"$ref": "#/components/schemas/AnalysisConfigInput"}], "nullable": true})
        );
        assert!(post["methodology"]["enum"].as_array().expect("enum").contains(&Value::Null));
        assert_eq!(schemas["ExperimentPatchInput"]["properties"]["comment"]["nullable"], true);
        assert_eq!(schemas["HoldoutPostRequest"]["properties"]["metrics"]["nullable"], true);
        assert!(schemas["HoldoutPostRequest"]["properties"]["name"].get("nullable").is_none());
        // `Variation` is also answered: requests get a copy of their own.
        let flag_body = &schemas["FeatureFlagBody"]["properties"];
        assert_eq!(flag_body["variations"]["items"]["$ref"], "#/components/schemas/VariationRequest");
        assert_eq!(schemas["VariationRequest"]["properties"]["_id"]["nullable"], true);
        assert!(schemas["Variation"]["properties"]["_id"].get("nullable").is_none());
        let upstream: Value = serde_json::from_str(UPSTREAM).expect("the shipped spec is JSON");
        let upstream_schemas = upstream["components"]["schemas"].as_object().expect("schemas");
        for name in ["VariationRequest", "MetricDataSourceRefRepRequest", "MetricEventDefaultRepRequest"] {
            assert!(!upstream_schemas.contains_key(name), "{name} is upstream's; pick another name");
            assert!(schemas[name].is_object(), "{name}");
        }
        assert!(schemas.get("DefaultsRequest").is_some() && schemas.get("ExperimentRequest").is_none());
    }
}
