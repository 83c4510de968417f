//! A JSON-Schema checker for the subset of OpenAPI 3.0 that LaunchDarkly's
//! contract uses, so that the workspace's tests can show that what the
//! model writes and the server answers is what strict generated clients
//! accept. Each crate's tests give it their own copy of the document.
//!
//! Supported: `type`, `required`, `properties`, `additionalProperties`
//! (a schema, `true` or `false`), `items`, `enum`, `$ref` to
//! `#/components/schemas/*` and `format: int64`. As in OpenAPI 3.0, keywords
//! beside a `$ref` are ignored. An unknown keyword that constrains values
//! (`oneOf`, `pattern`, ...) fails the check, so that the checker never
//! silently accepts what it does not understand.

use serde_json::{Map, Value};

/// Keywords that describe a schema without constraining values.
const ANNOTATIONS: &[&str] = &["description", "example", "deprecated", "title"];

/// An OpenAPI document whose `#/components/schemas` values are checked against.
#[derive(Debug, Clone)]
pub struct Contract {
    document: Value,
}

impl Contract {
    /// The contract of `document`, an OpenAPI 3.0 document as JSON.
    ///
    /// # Panics
    ///
    /// When `document` is not JSON or has no `components.schemas`: a test's
    /// fixture is broken, and the test should say so.
    pub fn from_json(document: &str) -> Contract {
        Contract::new(
            serde_json::from_str(document).unwrap_or_else(|e| panic!("the contract is not JSON: {e}")),
        )
    }

    /// The contract of `document`, an OpenAPI 3.0 document.
    ///
    /// # Panics
    ///
    /// When `document` has no `components.schemas`.
    pub fn new(document: Value) -> Contract {
        assert!(document["components"]["schemas"].is_object(), "the contract has no components.schemas");
        Contract { document }
    }

    /// The whole document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The document's `#/components/schemas`.
    pub fn schemas(&self) -> &Map<String, Value> {
        // `from_json` checked that this is an object.
        self.document["components"]["schemas"].as_object().unwrap_or_else(|| unreachable!())
    }

    /// The schema named `name`.
    ///
    /// # Panics
    ///
    /// When the document has no such schema.
    pub fn schema(&self, name: &str) -> &Value {
        self.schemas().get(name).unwrap_or_else(|| panic!("the contract has no schema {name}"))
    }

    /// Checks `value` against schema `name`: every problem, each as
    /// `<JSON Pointer>: <what is wrong>`.
    pub fn check(&self, name: &str, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        self.check_value(self.schema(name), value, "", &mut problems);
        problems
    }

    /// Panics listing every problem unless `value` conforms to schema `name`.
    pub fn assert_conforms(&self, name: &str, value: &Value, what: &str) {
        let problems = self.check(name, value);
        assert!(problems.is_empty(), "{what} does not conform to {name}:\n  {}", problems.join("\n  "));
    }

    fn resolve(&self, reference: &str) -> &Value {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unsupported $ref {reference}: only #/components/schemas/* is"));
        self.schema(name)
    }

    fn check_value(&self, schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
        let Some(schema) = schema.as_object() else {
            problems.push(format!("{path}: the schema is not an object: {schema}"));
            return;
        };
        if let Some(reference) = schema.get("$ref") {
            let reference = reference.as_str().unwrap_or_else(|| panic!("$ref is not a string at {path}"));
            return self.check_value(self.resolve(reference), value, path, problems);
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
        if let Some(format) = schema.get("format").and_then(Value::as_str)
            && format == "int64"
            && value.is_number()
            && !value.is_i64()
        {
            problems.push(format!("{path}: {value} is not a 64-bit signed integer"));
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            problems.push(format!("{path}: {value} is not one of {}", Value::Array(allowed.clone())));
        }
        if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
            for (i, item) in values.iter().enumerate() {
                self.check_value(items, item, &format!("{path}/{i}"), problems);
            }
        }
        if let Value::Object(object) = value {
            self.check_object(schema, object, path, problems);
        }
    }

    fn check_object(
        &self,
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
                (Some(property), _) => self.check_value(property, value, &child, problems),
                (None, Some(Value::Bool(false))) => {
                    problems.push(format!("{child}: property {key:?} is not allowed"));
                }
                (None, Some(Value::Bool(true)) | None) => {}
                (None, Some(additional)) => self.check_value(additional, value, &child, problems),
            }
        }
    }
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
