//! Reading inputs from JSON while collecting every problem.
//!
//! serde stops at the first error and does not say where it was. Inputs are
//! small, so they are read from a `serde_json::Value` by these helpers,
//! which record a [`Violation`] with its JSON Pointer for each field that is
//! absent or of the wrong type and carry on, so that a caller learns every
//! problem at once.

use serde_json::{Map, Value};

use crate::violation::{ViolationCode, Violations, pointer};

pub(crate) struct Reader {
    pub(crate) violations: Violations,
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Reader {
    pub(crate) fn new() -> Reader {
        Reader { violations: Violations::default() }
    }

    pub(crate) fn wrong_type(&mut self, path: &str, expected: &str, value: &Value) {
        self.violations.push(
            path,
            ViolationCode::WrongType,
            format!("expected {expected}, found {}", json_type(value)),
        );
    }

    pub(crate) fn object<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            other => {
                self.wrong_type(path, "an object", other);
                None
            }
        }
    }

    /// A field that must be present; `null` counts as absent.
    pub(crate) fn required<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        field: &str,
    ) -> Option<&'v Value> {
        match object.get(field) {
            None | Some(Value::Null) => {
                self.violations.push(
                    pointer(path, field),
                    ViolationCode::MissingField,
                    format!("{field} is required"),
                );
                None
            }
            Some(value) => Some(value),
        }
    }

    /// A field that may be absent; `null` counts as absent.
    pub(crate) fn optional<'v>(object: &'v Map<String, Value>, field: &str) -> Option<&'v Value> {
        object.get(field).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&mut self, value: &Value, path: &str) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    pub(crate) fn number(&mut self, value: &Value, path: &str) -> Option<f64> {
        match value.as_f64() {
            Some(n) => Some(n),
            None => {
                self.wrong_type(path, "a number", value);
                None
            }
        }
    }

    /// A reader of a string that must be one of `allowed` (a documented
    /// `enum`).
    pub(crate) fn one_of(allowed: &[&str]) -> impl FnOnce(&mut Reader, &Value, &str) -> Option<String> {
        move |r, value, path| {
            let text = r.string(value, path)?;
            if allowed.contains(&text.as_str()) {
                return Some(text);
            }
            r.violations.push(
                path,
                ViolationCode::NotAllowed,
                format!("`{text}` is not allowed; use one of {}", allowed.join(", ")),
            );
            None
        }
    }

    pub(crate) fn boolean(&mut self, value: &Value, path: &str) -> Option<bool> {
        match value {
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong_type(path, "a boolean", other);
                None
            }
        }
    }

    pub(crate) fn integer(&mut self, value: &Value, path: &str) -> Option<i64> {
        match value.as_i64() {
            Some(n) => Some(n),
            None => {
                self.wrong_type(path, "an integer", value);
                None
            }
        }
    }

    pub(crate) fn array<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Vec<Value>> {
        match value {
            Value::Array(items) => Some(items),
            other => {
                self.wrong_type(path, "an array", other);
                None
            }
        }
    }

    pub(crate) fn strings(&mut self, value: &Value, path: &str) -> Option<Vec<String>> {
        let items = self.array(value, path)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.string(item, &pointer(path, i)) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// Reads each item with `read`; `None` when any item failed.
    pub(crate) fn each<T>(
        &mut self,
        value: &Value,
        path: &str,
        mut read: impl FnMut(&mut Reader, &Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = self.array(value, path)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match read(self, item, &pointer(path, i)) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// Reads a required field with `read`.
    pub(crate) fn req<T>(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        field: &str,
        read: impl FnOnce(&mut Reader, &Value, &str) -> Option<T>,
    ) -> Option<T> {
        let value = self.required(object, path, field)?;
        read(self, value, &pointer(path, field))
    }

    /// Reads an optional field with `read`: `Some(None)` when absent, `None`
    /// when present but unreadable.
    pub(crate) fn opt<T>(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        field: &str,
        read: impl FnOnce(&mut Reader, &Value, &str) -> Option<T>,
    ) -> Option<Option<T>> {
        match Reader::optional(object, field) {
            None => Some(None),
            Some(value) => read(self, value, &pointer(path, field)).map(Some),
        }
    }

    /// Reads an optional field that the document describes and the caller
    /// does not use, only so that a value the document does not allow is
    /// refused like any other (an ignored field of the wrong type would
    /// otherwise pass unnoticed).
    pub(crate) fn unused<T>(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        field: &str,
        read: impl FnOnce(&mut Reader, &Value, &str) -> Option<T>,
    ) {
        let _ = self.opt(object, path, field, read);
    }

    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, Violations> {
        match value {
            Some(value) if self.violations.is_empty() => Ok(value),
            _ => Err(self.violations),
        }
    }
}
