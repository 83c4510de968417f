//! A JSON-Schema checker for the subset the spec uses, so that the tests can
//! show that what the model writes is what strict generated clients accept.
//!
//! Supported: `type`, `required`, `properties`, `additionalProperties`
//! (a schema, `true` or `false`), `items`, `enum`, `$ref` to
//! `#/components/schemas/*` and `format: int64`. As in OpenAPI 3.0, keywords
//! beside a `$ref` are ignored. An unknown keyword that constrains values
//! (`oneOf`, `pattern`, ...) fails the check, so that the checker never
//! silently accepts what it does not understand.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// Keywords that describe a schema without constraining values.
const ANNOTATIONS: &[&str] = &["description", "example", "deprecated", "title"];

/// The spec, vendored beside the fixtures. Embedded by a path relative to
/// this file, not read through the fixture helpers, so that the server's
/// tests can include this checker with `#[path]` and check its answers too.
pub(crate) fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(include_str!("../../fixtures/spec/launchdarkly-openapi.json"))
            .unwrap_or_else(|e| panic!("the vendored spec is not JSON: {e}"))
    })
}

/// The spec's `#/components/schemas`.
pub(crate) fn schemas() -> &'static Map<String, Value> {
    spec()["components"]["schemas"]
        .as_object()
        .unwrap_or_else(|| panic!("the spec has no components.schemas"))
}

/// The schema named `name` in `#/components/schemas`.
pub(crate) fn schema(name: &str) -> &'static Value {
    schemas().get(name).unwrap_or_else(|| panic!("the spec has no schema {name}"))
}

/// Checks `value` against the spec's schema `name`: every problem, each as
/// `<JSON Pointer>: <what is wrong>`.
pub(crate) fn check(name: &str, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_value(schema(name), value, "", &mut problems);
    problems
}

/// Panics listing every problem unless `value` conforms to schema `name`.
pub(crate) fn assert_conforms(name: &str, value: &Value, what: &str) {
    let problems = check(name, value);
    assert!(problems.is_empty(), "{what} does not conform to {name}:\n  {}", problems.join("\n  "));
}

fn resolve(reference: &str) -> &'static Value {
    let name = reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or_else(|| panic!("unsupported $ref {reference}: only #/components/schemas/* is"));
    schema(name)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check_value(schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        problems.push(format!("{path}: the schema is not an object: {schema}"));
        return;
    };
    if let Some(reference) = schema.get("$ref") {
        let reference = reference.as_str().unwrap_or_else(|| panic!("$ref is not a string at {path}"));
        return check_value(resolve(reference), value, path, problems);
    }
    for keyword in schema.keys() {
        let known = matches!(
            keyword.as_str(),
            "type" | "required" | "properties" | "additionalProperties" | "items" | "enum" | "format"
        );
        if !known && !ANNOTATIONS.contains(&keyword.as_str()) {
            problems.push(format!("{path}: the checker does not support the keyword {keyword:?}"));
        }
    }
    if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        let found = json_type(value);
        let fits = found == expected || (expected == "number" && found == "integer");
        if !fits {
            problems.push(format!("{path}: expected {expected}, found {found} {value}"));
            return;
        }
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        if format == "int64" && value.is_number() && !value.is_i64() {
            problems.push(format!("{path}: {value} is not a 64-bit signed integer"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            problems.push(format!("{path}: {value} is not one of {}", Value::Array(allowed.clone())));
        }
    }
    if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
        for (i, item) in values.iter().enumerate() {
            check_value(items, item, &format!("{path}/{i}"), problems);
        }
    }
    if let Value::Object(object) = value {
        check_object(schema, object, path, problems);
    }
}

fn check_object(
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    path: &str,
    problems: &mut Vec<String>,
) {
    for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        let required = required.as_str().unwrap_or_default();
        if !object.contains_key(required) {
            problems.push(format!("{path}: required property {required:?} is missing"));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (key, value) in object {
        let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
        match (properties.and_then(|p| p.get(key)), schema.get("additionalProperties")) {
            (Some(property), _) => check_value(property, value, &child, problems),
            (None, Some(Value::Bool(false))) => {
                problems.push(format!("{child}: property {key:?} is not allowed"));
            }
            (None, Some(Value::Bool(true)) | None) => {}
            (None, Some(additional)) => check_value(additional, value, &child, problems),
        }
    }
}

#[test]
fn the_checker_rejects_what_the_schemas_forbid() {
    use serde_json::json;
    let covariate = json!({"id": "c", "fileName": "covariate.csv", "createdAt": 1654104600000_i64});
    assert_eq!(check("CovariateInfoRep", &covariate), Vec::<String>::new());

    let string_timestamp = json!({"id": "c", "fileName": "covariate.csv", "createdAt": "1654104600000"});
    assert_eq!(
        check("CovariateInfoRep", &string_timestamp),
        ["/createdAt: expected integer, found string \"1654104600000\""]
    );
    let missing = json!({"id": "c", "createdAt": 1.5});
    assert_eq!(
        check("CovariateInfoRep", &missing),
        [": required property \"fileName\" is missing", "/createdAt: expected integer, found number 1.5"]
    );
    let too_big = json!({"id": "c", "fileName": "f", "createdAt": u64::MAX});
    assert_eq!(
        check("CovariateInfoRep", &too_big),
        [format!("/createdAt: {} is not a 64-bit signed integer", u64::MAX)]
    );
    let status = json!({"hypothesis": "h", "status": "paused", "createdAt": 1});
    assert_eq!(
        check("IterationRep", &status),
        ["/status: \"paused\" is not one of [\"not_started\",\"running\",\"stopped\"]"]
    );
    let nested = json!({"hypothesis": "h", "status": "running", "createdAt": 1,
        "flags": {"f": {"_links": {"self": {"href": 5}}}}, "treatments": [{"name": "t"}]});
    assert_eq!(
        check("IterationRep", &nested),
        [
            "/flags/f/_links/self/href: expected string, found integer 5",
            "/treatments/0: required property \"allocationPercent\" is missing",
        ]
    );
}
