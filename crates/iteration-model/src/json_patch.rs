//! JSON Patch: a list of `add`, `remove`, `replace`, `move`, `copy` and
//! `test` operations on a JSON document, as the API takes it for feature
//! flags, metrics and metric groups.
//!
//! A body is either `{"patch": [...], "comment": "..."}` or a bare array of
//! operations. [`JsonPatch`] remembers which, so that every violation, from
//! reading the body or from applying it, has a JSON Pointer into the body the
//! client sent: `/patch/2/op` for the first form, `/2/op` for the second.
//!
//! [`JsonPatch::apply`] is atomic: it returns the patched document, or the
//! first failure and no document. Operations after a failed one are not
//! tried, because each one acts on the document the earlier ones made, and
//! that document never came to exist.

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};
use serde_json::{Map, Number, Value};

use crate::json_pointer::{JsonPointer, at_or_under, split_last, steps};
use crate::reader::{Reader, json_type};
use crate::violation::{Violation, ViolationCode, Violations, pointer};

/// A JSON Patch request body: operations applied in order, together or not
/// at all, in one of the two forms the API accepts.
///
/// # Example
///
/// ```
/// use iteration_model::JsonPatch;
/// use serde_json::json;
///
/// let body = json!({
///     "patch": [{"op": "replace", "path": "/name", "value": "New name"}],
///     "comment": "rename",
/// });
/// let patch = JsonPatch::from_json(&body)?;
/// assert_eq!(patch.changes("/key"), None);
///
/// let flag = json!({"key": "my-flag", "name": "Old name"});
/// assert_eq!(patch.apply(&flag)?, json!({"key": "my-flag", "name": "New name"}));
///
/// let missing = JsonPatch::from_json(&json!([{"op": "remove", "path": "/tags/0"}]))?;
/// let violations = missing.apply(&flag).unwrap_err();
/// assert_eq!(violations.as_slice()[0].path, "/0/path");
/// # Ok::<(), iteration_model::Violations>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPatch {
    /// What to do, in order.
    pub operations: Vec<PatchOperation>,
    /// How the body is written, with the comment when there is one.
    pub form: PatchForm,
}

/// The two forms of a JSON Patch body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchForm {
    /// `{"patch": [...], "comment"?: "..."}` (`PatchWithComment`); operation
    /// `i` is at `/patch/i`.
    WithComment {
        /// Why the change was made.
        comment: Option<String>,
    },
    /// A bare array of operations; operation `i` is at `/i`.
    Array,
}

/// One JSON Patch operation, by its `op`.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchOperation {
    /// `add`: set an object member (replacing any), insert into an array
    /// before `path`'s index, or append with the index `-`.
    Add {
        /// Where; its parent must exist.
        path: JsonPointer,
        /// What.
        value: Value,
    },
    /// `remove`: delete an existing member or item.
    Remove {
        /// What; must exist, and not be the whole document.
        path: JsonPointer,
    },
    /// `replace`: change an existing value.
    Replace {
        /// Where; must exist.
        path: JsonPointer,
        /// The new value.
        value: Value,
    },
    /// `move`: remove the value at `from`, then add it at `path`.
    Move {
        /// Where it comes from; must exist.
        from: JsonPointer,
        /// Where it goes; not inside `from`.
        path: JsonPointer,
    },
    /// `copy`: add a copy of the value at `from` at `path`.
    Copy {
        /// Where it comes from; must exist.
        from: JsonPointer,
        /// Where it goes.
        path: JsonPointer,
    },
    /// `test`: check that the value at `path` equals `value`, comparing
    /// numbers by value (`1` equals `1.0`) and objects regardless of order.
    Test {
        /// Where; must exist.
        path: JsonPointer,
        /// The expected value.
        value: Value,
    },
}

/// Every `op` a JSON Patch operation may have.
pub const PATCH_OPS: &[&str] = &["add", "remove", "replace", "move", "copy", "test"];

impl PatchOperation {
    /// The operation's `op` as written on the wire.
    pub fn op(&self) -> &'static str {
        match self {
            PatchOperation::Add { .. } => "add",
            PatchOperation::Remove { .. } => "remove",
            PatchOperation::Replace { .. } => "replace",
            PatchOperation::Move { .. } => "move",
            PatchOperation::Copy { .. } => "copy",
            PatchOperation::Test { .. } => "test",
        }
    }

    /// The location the operation acts on.
    pub fn path(&self) -> &JsonPointer {
        match self {
            PatchOperation::Add { path, .. }
            | PatchOperation::Remove { path }
            | PatchOperation::Replace { path, .. }
            | PatchOperation::Move { path, .. }
            | PatchOperation::Copy { path, .. }
            | PatchOperation::Test { path, .. } => path,
        }
    }

    /// The location a `move` or `copy` takes its value from.
    pub fn from(&self) -> Option<&JsonPointer> {
        match self {
            PatchOperation::Move { from, .. } | PatchOperation::Copy { from, .. } => Some(from),
            _ => None,
        }
    }

    /// The value of an `add`, `replace` or `test`.
    pub fn value(&self) -> Option<&Value> {
        match self {
            PatchOperation::Add { value, .. }
            | PatchOperation::Replace { value, .. }
            | PatchOperation::Test { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Applies this operation to `doc`. On failure `doc` may be half
    /// changed (a `move` whose `add` fails has already removed), which is
    /// why only [`JsonPatch::apply`], working on a copy, calls it.
    fn apply_to(&self, doc: &mut Value) -> Result<(), Fault> {
        match self {
            PatchOperation::Add { path, value } => {
                add(doc, path.as_str(), value.clone()).map_err(fault("path", "cannot add at", path))
            }
            PatchOperation::Remove { path } => {
                remove(doc, path.as_str()).map(drop).map_err(fault("path", "cannot remove", path))
            }
            PatchOperation::Replace { path, value } => {
                replace(doc, path.as_str(), value.clone()).map_err(fault("path", "cannot replace", path))
            }
            PatchOperation::Move { from, path } => move_to(doc, from, path),
            PatchOperation::Copy { from, path } => {
                let value = get(doc, from.as_str()).map_err(fault("from", "cannot copy from", from))?.clone();
                add(doc, path.as_str(), value).map_err(fault("path", "cannot copy to", path))
            }
            PatchOperation::Test { path, value } => {
                let actual = get(doc, path.as_str()).map_err(fault("path", "cannot test", path))?;
                test(path.as_str(), actual, value)
            }
        }
    }
}

impl JsonPatch {
    /// A patch of these operations in the `{"patch": [...]}` form, without
    /// a comment.
    pub fn new(operations: impl IntoIterator<Item = PatchOperation>) -> JsonPatch {
        JsonPatch {
            operations: operations.into_iter().collect(),
            form: PatchForm::WithComment { comment: None },
        }
    }

    /// The same patch in the `{"patch": [...], "comment": ...}` form with
    /// this comment.
    pub fn with_comment(self, comment: impl Into<String>) -> JsonPatch {
        JsonPatch { form: PatchForm::WithComment { comment: Some(comment.into()) }, ..self }
    }

    /// The comment, if the body has one.
    pub fn comment(&self) -> Option<&str> {
        match &self.form {
            PatchForm::WithComment { comment } => comment.as_deref(),
            PatchForm::Array => None,
        }
    }

    /// The JSON Pointer of operation `index` in the body: `/patch/{index}`,
    /// or `/{index}` for a bare array.
    pub fn operation_pointer(&self, index: usize) -> String {
        pointer(self.form.operations_pointer(), index)
    }

    /// Reads a body in either form, reporting every problem at once, each
    /// with its JSON Pointer into the body: a wrong type, an unknown `op`, a
    /// `path` or `from` that is not a JSON Pointer, a missing `value` (for
    /// add, replace and test; `null` is a value) or `from` (for move and
    /// copy), or no operations at all.
    pub fn from_json(body: &Value) -> Result<JsonPatch, Violations> {
        let mut reader = Reader::new();
        let patch = read_body(&mut reader, body);
        reader.finish(patch)
    }

    /// Applies the operations in order to a copy of `doc` and returns it, or
    /// returns the first failure, leaving nothing changed.
    ///
    /// The failure's path points into the body at the member of the
    /// operation that is at fault: `/patch/3/path` when the `path` does not
    /// exist or cannot take the value, `/patch/3/from` when the `from` does
    /// not exist, `/patch/3/value` when a `test` finds another value (`/3/...`
    /// for a bare array). Removing the whole document (`remove` with path
    /// `""`) is refused, because a patched resource must still be a
    /// document; `replace` with path `""` swaps it instead.
    pub fn apply(&self, doc: &Value) -> Result<Value, Violations> {
        let mut patched = doc.clone();
        for (index, operation) in self.operations.iter().enumerate() {
            if let Err(fault) = operation.apply_to(&mut patched) {
                let path = pointer(&self.operation_pointer(index), fault.field);
                return Err(Violations(vec![Violation::new(path, fault.code, fault.message)]));
            }
        }
        Ok(patched)
    }

    /// The index of the first operation whose `path` or `from` is
    /// `pointer_prefix` or lies under it, token by token (`/key` covers
    /// `/key/x` but not `/keys`), whatever its `op`. `pointer_prefix` is
    /// written as a JSON Pointer, with `~0` and `~1` escapes.
    ///
    /// To refuse changes to a field, [`JsonPatch::changes`] is stricter: it
    /// also catches operations on the field's ancestors.
    pub fn touches(&self, pointer_prefix: &str) -> Option<usize> {
        self.operations.iter().position(|operation| {
            operation.path().is_at_or_under(pointer_prefix)
                || operation.from().is_some_and(|from| from.is_at_or_under(pointer_prefix))
        })
    }

    /// The index of the first operation that may change the value at
    /// `location`: one that writes or removes at `location`, under it, or at
    /// one of its ancestors (a `replace` of `""` changes `/key` too). `test`
    /// and the `from` of `copy` only read, so they do not count.
    pub fn changes(&self, location: &str) -> Option<usize> {
        let related = |other: &JsonPointer| {
            at_or_under(other.as_str(), location) || at_or_under(location, other.as_str())
        };
        self.operations.iter().position(|operation| match operation {
            PatchOperation::Test { .. } => false,
            PatchOperation::Move { from, path } => related(from) || related(path),
            other => related(other.path()),
        })
    }
}

impl PatchForm {
    /// The JSON Pointer of the operations array in the body.
    fn operations_pointer(&self) -> &'static str {
        match self {
            PatchForm::WithComment { .. } => "/patch",
            PatchForm::Array => "",
        }
    }
}

// Reading.

fn read_body(r: &mut Reader, body: &Value) -> Option<JsonPatch> {
    match body {
        Value::Array(_) => {
            Some(JsonPatch { operations: read_operations(r, body, "")?, form: PatchForm::Array })
        }
        Value::Object(obj) => {
            let comment = r.opt(obj, "", "comment", Reader::string);
            let operations = r.req(obj, "", "patch", read_operations);
            Some(JsonPatch { operations: operations?, form: PatchForm::WithComment { comment: comment? } })
        }
        other => {
            r.wrong_type("", "an object with `patch` or an array of operations", other);
            None
        }
    }
}

fn read_operations(r: &mut Reader, value: &Value, path: &str) -> Option<Vec<PatchOperation>> {
    let operations = r.each(value, path, read_operation)?;
    patch_is_not_empty(r, &operations, path).then_some(operations)
}

/// The rule that a patch has at least one operation.
fn patch_is_not_empty(r: &mut Reader, operations: &[PatchOperation], path: &str) -> bool {
    if operations.is_empty() {
        r.violations.push(
            path,
            ViolationCode::TooFew,
            "the patch has no operations; send at least one, such as {\"op\": \"replace\", \"path\": \"/name\", \"value\": \"New name\"}",
        );
    }
    !operations.is_empty()
}

fn read_operation(r: &mut Reader, value: &Value, path: &str) -> Option<PatchOperation> {
    let obj = r.object(value, path)?;
    let op = r.req(obj, path, "op", read_op);
    let target = r.req(obj, path, "path", read_pointer);
    let op = op?;
    let operation = match op {
        "add" | "replace" | "test" => {
            let value = read_value(r, obj, path, op);
            let (path, value) = (target?, value?);
            match op {
                "add" => PatchOperation::Add { path, value },
                "replace" => PatchOperation::Replace { path, value },
                _ => PatchOperation::Test { path, value },
            }
        }
        "move" | "copy" => {
            let from = read_from(r, obj, path, op);
            let (path, from) = (target?, from?);
            if op == "move" {
                PatchOperation::Move { from, path }
            } else {
                PatchOperation::Copy { from, path }
            }
        }
        // `read_op` returns only the six ops, so this is `remove`.
        _ => PatchOperation::Remove { path: target? },
    };
    Some(operation)
}

/// The rule that `op` is one of [`PATCH_OPS`].
fn read_op(r: &mut Reader, value: &Value, path: &str) -> Option<&'static str> {
    let op = r.string(value, path)?;
    let known = PATCH_OPS.iter().copied().find(|known| *known == op);
    if known.is_none() {
        r.violations.push(
            path,
            ViolationCode::UnknownOperation,
            format!("unknown op `{op}`; one of {}", PATCH_OPS.join(", ")),
        );
    }
    known
}

/// The rule that `path` and `from` are JSON Pointers.
fn read_pointer(r: &mut Reader, value: &Value, path: &str) -> Option<JsonPointer> {
    let text = r.string(value, path)?;
    match JsonPointer::parse(&text) {
        Ok(parsed) => Some(parsed),
        Err(err) => {
            r.violations.push(path, ViolationCode::InvalidPointer, err.to_string());
            None
        }
    }
}

/// The rule that add, replace and test have a `value`. Unlike other fields,
/// `null` counts as present: it is a value like any other.
fn read_value(r: &mut Reader, obj: &Map<String, Value>, path: &str, op: &str) -> Option<Value> {
    let value = obj.get("value").cloned();
    if value.is_none() {
        r.violations.push(
            pointer(path, "value"),
            ViolationCode::MissingField,
            format!("value is required for `{op}`: the JSON to {op} at path (null counts)"),
        );
    }
    value
}

/// The rule that move and copy have a `from`.
fn read_from(r: &mut Reader, obj: &Map<String, Value>, path: &str, op: &str) -> Option<JsonPointer> {
    match Reader::optional(obj, "from") {
        Some(from) => read_pointer(r, from, &pointer(path, "from")),
        None => {
            r.violations.push(
                pointer(path, "from"),
                ViolationCode::MissingField,
                format!("from is required for `{op}`: a JSON Pointer to the value to {op}"),
            );
            None
        }
    }
}

// Applying.

/// What went wrong with one operation: in which of its members, and why.
struct Fault {
    field: &'static str,
    code: ViolationCode,
    message: String,
}

/// What went wrong at a location, before it is known which member of the
/// operation named it.
struct Problem {
    code: ViolationCode,
    message: String,
}

impl Problem {
    fn new(code: ViolationCode, message: String) -> Problem {
        Problem { code, message }
    }
}

/// Turns a [`Problem`] into a [`Fault`] of the member `field`, saying what
/// could not be done where: "cannot replace `/name`: ...".
fn fault<'a>(
    field: &'static str,
    what: &'static str,
    location: &'a JsonPointer,
) -> impl Fn(Problem) -> Fault + 'a {
    move |problem| Fault {
        field,
        code: problem.code,
        message: format!("{what} {}: {}", place(location.as_str()), problem.message),
    }
}

/// How a message names a location.
fn place(pointer: &str) -> String {
    if pointer.is_empty() { "the document".to_owned() } else { format!("`{pointer}`") }
}

/// A reference token that steps into an array.
enum Index {
    /// An index written as digits; `usize::MAX` when too large, which no
    /// array reaches.
    At(usize),
    /// `-`, the position after the last item.
    End,
}

/// The rule that a token into an array is `-` or digits without leading zeros.
fn array_index(array: &str, token: &str) -> Result<Index, Problem> {
    if token == "-" {
        return Ok(Index::End);
    }
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return Err(Problem::new(
            ViolationCode::InvalidArrayIndex,
            format!(
                "{} is an array, and `{token}` is not an index into it; \
                 use digits without leading zeros (0, 1, 2, ...), or `-` with add to append",
                place(array)
            ),
        ));
    }
    Ok(Index::At(token.parse().unwrap_or(usize::MAX)))
}

/// The rule that a token names an existing item of an array of `len` items.
fn existing_index(array: &str, len: usize, token: &str) -> Result<usize, Problem> {
    match array_index(array, token)? {
        Index::At(i) if i < len => Ok(i),
        Index::At(_) => Err(index_out_of_range(array, len, token, "")),
        Index::End => Err(Problem::new(
            ViolationCode::InvalidArrayIndex,
            format!(
                "`-` names the position after the last item of {}, which only add can use, to append; \
                 name an existing item by its index{}",
                place(array),
                index_range(len)
            ),
        )),
    }
}

fn index_range(len: usize) -> String {
    match len {
        0 => " (the array is empty)".to_owned(),
        1 => " (0)".to_owned(),
        n => format!(" (0 to {})", n - 1),
    }
}

fn index_out_of_range(array: &str, len: usize, token: &str, add_hint: &str) -> Problem {
    let items = if len == 1 { "item" } else { "items" };
    Problem::new(
        ViolationCode::OutOfRange,
        format!(
            "{} has {len} {items}, so index {token} does not exist{}{add_hint}",
            place(array),
            index_range(len)
        ),
    )
}

fn no_member(object: &str, token: &str) -> Problem {
    Problem::new(ViolationCode::PathNotFound, format!("{} has no member `{token}`", place(object)))
}

fn not_a_container(at: &str, token: &str, value: &Value) -> Problem {
    Problem::new(
        ViolationCode::PathNotFound,
        format!(
            "{} is {}, which has no members or items, so it has no `{token}`; only objects and arrays do",
            place(at),
            json_type(value)
        ),
    )
}

/// The value at the valid pointer `path`.
fn get<'v>(doc: &'v Value, path: &str) -> Result<&'v Value, Problem> {
    let mut here = doc;
    for (at, token) in steps(path) {
        here = match here {
            Value::Object(map) => map.get(token.as_ref()).ok_or_else(|| no_member(at, &token))?,
            Value::Array(items) => &items[existing_index(at, items.len(), &token)?],
            other => return Err(not_a_container(at, &token, other)),
        };
    }
    Ok(here)
}

/// The value at the valid pointer `path`, to change.
fn get_mut<'v>(doc: &'v mut Value, path: &str) -> Result<&'v mut Value, Problem> {
    let mut here = doc;
    for (at, token) in steps(path) {
        here = match here {
            Value::Object(map) => map.get_mut(token.as_ref()).ok_or_else(|| no_member(at, &token))?,
            Value::Array(items) => {
                let i = existing_index(at, items.len(), &token)?;
                &mut items[i]
            }
            other => return Err(not_a_container(at, &token, other)),
        };
    }
    Ok(here)
}

/// `add`: the parent must exist; an object member is set, an array item
/// inserted (or appended for `-`), the whole document replaced for `""`.
fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), Problem> {
    let Some((parent, token)) = split_last(path) else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent).map_err(parent_missing)? {
        Value::Object(map) => {
            map.insert(token.into_owned(), value);
        }
        Value::Array(items) => match array_index(parent, &token)? {
            Index::End => items.push(value),
            Index::At(i) if i <= items.len() => items.insert(i, value),
            Index::At(_) => {
                let hint = format!("; add can insert at 0 to {} or append with `-`", items.len());
                return Err(index_out_of_range(parent, items.len(), &token, &hint));
            }
        },
        other => return Err(not_a_container(parent, &token, other)),
    }
    Ok(())
}

fn parent_missing(problem: Problem) -> Problem {
    Problem::new(
        problem.code,
        format!(
            "its parent does not exist: {}; add creates only the last token of its path, so create the parent first",
            problem.message
        ),
    )
}

/// `remove`: the target must exist and must not be the whole document.
fn remove(doc: &mut Value, path: &str) -> Result<Value, Problem> {
    let Some((parent, token)) = split_last(path) else {
        return Err(Problem::new(
            ViolationCode::NotAllowed,
            "removing the whole document would leave nothing to store; \
             use replace with path \"\" to swap it, or remove its members"
                .to_owned(),
        ));
    };
    match get_mut(doc, parent)? {
        Value::Object(map) => map.remove(token.as_ref()).ok_or_else(|| no_member(parent, &token)),
        Value::Array(items) => {
            let i = existing_index(parent, items.len(), &token)?;
            Ok(items.remove(i))
        }
        other => Err(not_a_container(parent, &token, other)),
    }
}

/// `replace`: the target must exist.
fn replace(doc: &mut Value, path: &str, value: Value) -> Result<(), Problem> {
    let target = get_mut(doc, path).map_err(|p| {
        Problem::new(p.code, format!("{}; replace changes an existing value, add creates one", p.message))
    })?;
    *target = value;
    Ok(())
}

/// `move`: a remove at `from`, then an add at `path`, which must not lie
/// inside `from`.
fn move_to(doc: &mut Value, from: &JsonPointer, path: &JsonPointer) -> Result<(), Fault> {
    move_stays_outside(from.as_str(), path.as_str()).map_err(fault("path", "cannot move to", path))?;
    if from == path {
        // Removing and adding at one place changes nothing; only the source
        // must exist. This also lets `""` move onto itself.
        return get(doc, from.as_str()).map(drop).map_err(fault("from", "cannot move from", from));
    }
    let value = remove(doc, from.as_str()).map_err(fault("from", "cannot move from", from))?;
    add(doc, path.as_str(), value).map_err(fault("path", "cannot move to", path))
}

/// The rule that a value cannot be moved into one of its own children.
fn move_stays_outside(from: &str, path: &str) -> Result<(), Problem> {
    if path != from && at_or_under(path, from) {
        return Err(Problem::new(
            ViolationCode::MoveIntoChild,
            format!(
                "it lies inside {}, the value being moved, which cannot hold itself; choose a path outside it",
                place(from)
            ),
        ));
    }
    Ok(())
}

/// `test`: the value found must equal the expected value.
fn test(path: &str, actual: &Value, expected: &Value) -> Result<(), Fault> {
    if json_equal(actual, expected) {
        return Ok(());
    }
    Err(Fault {
        field: "value",
        code: ViolationCode::TestFailed,
        message: format!(
            "test failed: {} is {}, but the test expects {}",
            place(path),
            short_json(actual),
            short_json(expected)
        ),
    })
}

/// JSON equality: numbers by value, objects regardless of member order,
/// arrays item by item, strings by their characters.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(key, x)| y.get(key).is_some_and(|y| json_equal(x, y)))
        }
        _ => a == b,
    }
}

/// Numbers are equal when their values are: `1`, `1.0` and `1e0` all are.
/// Integers compare exactly, even beyond what a float holds.
fn numbers_equal(a: &Number, b: &Number) -> bool {
    match (integer(a), integer(b)) {
        (Some(x), Some(y)) => x == y,
        (Some(n), None) => float_is(b, n),
        (None, Some(n)) => float_is(a, n),
        (None, None) => a.as_f64() == b.as_f64(),
    }
}

fn integer(n: &Number) -> Option<i128> {
    n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
}

fn float_is(float: &Number, n: i128) -> bool {
    // Every integer stored as an i64 or u64 is below 2^64; a float beyond
    // that cannot equal it, and below it the cast to i128 is exact.
    float.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 1.9e19 && f as i128 == n)
}

/// A value as compact JSON, cut short for a message.
fn short_json(value: &Value) -> String {
    const LIMIT: usize = 120;
    let text = value.to_string();
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

// Writing.

impl Serialize for PatchOperation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("op", self.op())?;
        if let Some(from) = self.from() {
            out.serialize_entry("from", from)?;
        }
        out.serialize_entry("path", self.path())?;
        if let Some(value) = self.value() {
            out.serialize_entry("value", value)?;
        }
        out.end()
    }
}

impl Serialize for JsonPatch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.form {
            PatchForm::Array => self.operations.serialize(serializer),
            PatchForm::WithComment { comment } => {
                let mut out = serializer.serialize_map(None)?;
                out.serialize_entry("patch", &self.operations)?;
                if let Some(comment) = comment {
                    out.serialize_entry("comment", comment)?;
                }
                out.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for JsonPatch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        JsonPatch::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for PatchOperation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let mut reader = Reader::new();
        let operation = read_operation(&mut reader, &value, "");
        reader.finish(operation).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
