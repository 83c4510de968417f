use serde_json::{Value, json};

use super::{JsonPatch, PatchForm, PatchOperation, json_equal};
use crate::json_pointer::JsonPointer;
use crate::violation::{ViolationCode, Violations};

use ViolationCode::*;

fn ptr(text: &str) -> JsonPointer {
    JsonPointer::parse(text).unwrap()
}

fn patch(body: Value) -> JsonPatch {
    JsonPatch::from_json(&body).unwrap_or_else(|v| panic!("{body} is a valid patch: {v}"))
}

/// Applies the bare-array patch `ops` to `doc`.
fn apply(doc: Value, ops: Value) -> Result<Value, Violations> {
    patch(ops).apply(&doc)
}

fn one(result: Result<Value, Violations>) -> (String, ViolationCode, String) {
    let violations = result.expect_err("the patch fails");
    assert_eq!(violations.len(), 1, "{violations}");
    let v = violations.into_iter().next().unwrap();
    (v.path, v.code, v.message)
}

fn paths_and_codes(violations: &Violations) -> Vec<(&str, &ViolationCode)> {
    violations.iter().map(|v| (v.path.as_str(), &v.code)).collect()
}

// The worked examples of the JSON Patch standard, with values of our own.

#[test]
fn add_sets_a_new_object_member() {
    let out = apply(json!({"name": "Flag"}), json!([{"op": "add", "path": "/kind", "value": "boolean"}]));
    assert_eq!(out.unwrap(), json!({"name": "Flag", "kind": "boolean"}));
}

#[test]
fn add_inserts_into_an_array_before_the_index() {
    let out = apply(json!({"tags": ["a", "c"]}), json!([{"op": "add", "path": "/tags/1", "value": "b"}]));
    assert_eq!(out.unwrap(), json!({"tags": ["a", "b", "c"]}));
}

#[test]
fn remove_deletes_an_object_member() {
    let out =
        apply(json!({"name": "Flag", "temporary": true}), json!([{"op": "remove", "path": "/temporary"}]));
    assert_eq!(out.unwrap(), json!({"name": "Flag"}));
}

#[test]
fn remove_deletes_an_array_item_and_shifts_the_rest() {
    let out = apply(json!({"tags": ["a", "b", "c"]}), json!([{"op": "remove", "path": "/tags/1"}]));
    assert_eq!(out.unwrap(), json!({"tags": ["a", "c"]}));
}

#[test]
fn replace_changes_an_existing_value() {
    let out = apply(
        json!({"name": "Old", "on": true}),
        json!([{"op": "replace", "path": "/name", "value": "New"}]),
    );
    assert_eq!(out.unwrap(), json!({"name": "New", "on": true}));
}

#[test]
fn move_takes_a_member_to_another_object() {
    let doc = json!({"draft": {"title": "T", "owner": "ann"}, "live": {"title": "U"}});
    let out = apply(doc, json!([{"op": "move", "from": "/draft/owner", "path": "/live/owner"}]));
    assert_eq!(out.unwrap(), json!({"draft": {"title": "T"}, "live": {"title": "U", "owner": "ann"}}));
}

#[test]
fn move_reorders_an_array() {
    let out = apply(json!({"v": [0, 1, 2, 3]}), json!([{"op": "move", "from": "/v/1", "path": "/v/3"}]));
    assert_eq!(out.unwrap(), json!({"v": [0, 2, 3, 1]}));
}

#[test]
fn test_passes_on_equal_values() {
    let doc = json!({"key": "flag", "variations": [{"value": true}, {"value": false}]});
    let ops = json!([
        {"op": "test", "path": "/key", "value": "flag"},
        {"op": "test", "path": "/variations/1/value", "value": false},
    ]);
    assert_eq!(apply(doc.clone(), ops).unwrap(), doc);
}

#[test]
fn test_fails_on_another_value() {
    let (path, code, message) =
        one(apply(json!({"key": "flag"}), json!([{"op": "test", "path": "/key", "value": "other"}])));
    assert_eq!((path.as_str(), code), ("/0/value", TestFailed));
    assert_eq!(message, "test failed: `/key` is \"flag\", but the test expects \"other\"");
}

#[test]
fn add_sets_a_member_whose_value_is_an_object() {
    let out = apply(json!({"a": 1}), json!([{"op": "add", "path": "/b", "value": {"c": [1, 2]}}]));
    assert_eq!(out.unwrap(), json!({"a": 1, "b": {"c": [1, 2]}}));
}

#[test]
fn members_an_operation_does_not_use_are_ignored() {
    let out = apply(
        json!({"a": 1}),
        json!([{"op": "add", "path": "/b", "value": 2, "note": "ignored", "from": 5}]),
    );
    assert_eq!(out.unwrap(), json!({"a": 1, "b": 2}));
}

#[test]
fn add_to_a_missing_parent_fails() {
    let (path, code, message) =
        one(apply(json!({"a": {}}), json!([{"op": "add", "path": "/a/b/c", "value": 1}])));
    assert_eq!((path.as_str(), code), ("/0/path", PathNotFound));
    assert_eq!(
        message,
        "cannot add at `/a/b/c`: its parent does not exist: `/a` has no member `b`; \
         add creates only the last token of its path, so create the parent first"
    );
}

#[test]
fn escaped_tokens_name_members_with_tilde_and_slash() {
    let doc = json!({"/": 1, "~1": 2, "~": 3});
    let ops = json!([
        {"op": "test", "path": "/~01", "value": 2},
        {"op": "test", "path": "/~1", "value": 1},
        {"op": "test", "path": "/~0", "value": 3},
        {"op": "replace", "path": "/~01", "value": 20},
    ]);
    assert_eq!(apply(doc, ops).unwrap(), json!({"/": 1, "~1": 20, "~": 3}));
}

#[test]
fn a_string_never_equals_a_number() {
    let (path, code, _) = one(apply(json!({"n": 10}), json!([{"op": "test", "path": "/n", "value": "10"}])));
    assert_eq!((path.as_str(), code), ("/0/value", TestFailed));
}

#[test]
fn add_of_an_array_value_adds_one_item() {
    let out = apply(json!({"v": ["a"]}), json!([{"op": "add", "path": "/v/-", "value": ["b", "c"]}]));
    assert_eq!(out.unwrap(), json!({"v": ["a", ["b", "c"]]}));
}

// More of the semantics.

#[test]
fn add_with_dash_appends() {
    let out = apply(json!([1, 2]), json!([{"op": "add", "path": "/-", "value": 3}]));
    assert_eq!(out.unwrap(), json!([1, 2, 3]));
}

#[test]
fn add_at_the_length_appends() {
    let out = apply(json!([1, 2]), json!([{"op": "add", "path": "/2", "value": 3}]));
    assert_eq!(out.unwrap(), json!([1, 2, 3]));
}

#[test]
fn add_to_an_existing_member_replaces_it() {
    let out = apply(json!({"a": 1}), json!([{"op": "add", "path": "/a", "value": [2]}]));
    assert_eq!(out.unwrap(), json!({"a": [2]}));
}

#[test]
fn add_and_replace_of_the_root_swap_the_document() {
    assert_eq!(apply(json!({"a": 1}), json!([{"op": "add", "path": "", "value": [1]}])).unwrap(), json!([1]));
    assert_eq!(apply(json!({"a": 1}), json!([{"op": "replace", "path": "", "value": 7}])).unwrap(), json!(7));
}

#[test]
fn an_empty_member_name_is_a_member_like_any_other() {
    let out = apply(json!({"": {"": 1}}), json!([{"op": "replace", "path": "//", "value": 2}]));
    assert_eq!(out.unwrap(), json!({"": {"": 2}}));
}

#[test]
fn null_is_a_value() {
    let out = apply(json!({"a": 1}), json!([{"op": "replace", "path": "/a", "value": null}]));
    assert_eq!(out.unwrap(), json!({"a": null}));
    let out = apply(json!({"a": null}), json!([{"op": "test", "path": "/a", "value": null}]));
    assert_eq!(out.unwrap(), json!({"a": null}));
}

#[test]
fn copy_keeps_the_source() {
    let doc = json!({"a": {"x": [1]}, "b": []});
    let out = apply(doc, json!([{"op": "copy", "from": "/a/x", "path": "/b/0"}]));
    assert_eq!(out.unwrap(), json!({"a": {"x": [1]}, "b": [[1]]}));
}

#[test]
fn copy_into_its_own_child_nests_a_copy() {
    let out = apply(json!({"a": {"b": 1}}), json!([{"op": "copy", "from": "/a", "path": "/a/c"}]));
    assert_eq!(out.unwrap(), json!({"a": {"b": 1, "c": {"b": 1}}}));
}

#[test]
fn move_onto_itself_changes_nothing() {
    let doc = json!({"a": [1, 2]});
    let ops = json!([
        {"op": "move", "from": "/a/1", "path": "/a/1"},
        {"op": "move", "from": "", "path": ""},
    ]);
    assert_eq!(apply(doc.clone(), ops).unwrap(), doc);
}

#[test]
fn move_replaces_an_existing_target_member() {
    let out = apply(json!({"a": 1, "b": 2}), json!([{"op": "move", "from": "/a", "path": "/b"}]));
    assert_eq!(out.unwrap(), json!({"b": 1}));
}

#[test]
fn move_to_an_ancestor_replaces_it() {
    let out = apply(json!({"a": {"b": {"c": 1}}}), json!([{"op": "move", "from": "/a/b", "path": "/a"}]));
    assert_eq!(out.unwrap(), json!({"a": {"c": 1}}));
}

#[test]
fn test_compares_numbers_by_value() {
    let doc: Value =
        serde_json::from_str(r#"{"i": 1, "f": 1.0, "big": 18446744073709551615, "neg": -2}"#).unwrap();
    let ops: Value = serde_json::from_str(
        r#"[
            {"op": "test", "path": "/i", "value": 1.0},
            {"op": "test", "path": "/f", "value": 1},
            {"op": "test", "path": "/f", "value": 1e0},
            {"op": "test", "path": "/neg", "value": -2.0},
            {"op": "test", "path": "/big", "value": 18446744073709551615}
        ]"#,
    )
    .unwrap();
    assert_eq!(apply(doc.clone(), ops).unwrap(), doc);
}

#[test]
fn integers_compare_exactly_beyond_float_precision() {
    let a = json!(9_007_199_254_740_993_u64);
    let b: Value = serde_json::from_str("9007199254740992.0").unwrap();
    assert!(!json_equal(&a, &b));
    assert!(!json_equal(&json!(1), &json!(1.5)));
    assert!(!json_equal(&json!(u64::MAX), &json!(-1)));
}

#[test]
fn test_compares_objects_regardless_of_order_and_arrays_in_order() {
    let doc: Value = serde_json::from_str(r#"{"o": {"a": 1, "b": [1, 2]}}"#).unwrap();
    let same: Value = serde_json::from_str(r#"{"b": [1.0, 2], "a": 1}"#).unwrap();
    assert!(apply(doc.clone(), json!([{"op": "test", "path": "/o", "value": same}])).is_ok());
    let reordered = json!({"a": 1, "b": [2, 1]});
    assert!(apply(doc.clone(), json!([{"op": "test", "path": "/o", "value": reordered}])).is_err());
    let more = json!({"a": 1, "b": [1, 2], "c": null});
    assert!(apply(doc, json!([{"op": "test", "path": "/o", "value": more}])).is_err());
}

#[test]
fn each_operation_sees_the_one_before() {
    let ops = json!([
        {"op": "add", "path": "/a", "value": {}},
        {"op": "add", "path": "/a/b", "value": [1]},
        {"op": "copy", "from": "/a/b/0", "path": "/a/b/-"},
        {"op": "test", "path": "/a", "value": {"b": [1, 1]}},
    ]);
    assert_eq!(apply(json!({}), ops).unwrap(), json!({"a": {"b": [1, 1]}}));
}

// Every error of applying, with its path and code.

#[test]
fn a_failed_patch_changes_nothing_and_names_the_operation_in_the_body() {
    let doc = json!({"name": "Old", "tags": ["x"]});
    let body = json!({"patch": [
        {"op": "replace", "path": "/name", "value": "New"},
        {"op": "add", "path": "/tags/-", "value": "y"},
        {"op": "remove", "path": "/missing"},
    ]});
    let p = patch(body);
    let (path, code, message) = one(p.apply(&doc));
    assert_eq!((path.as_str(), code), ("/patch/2/path", PathNotFound));
    assert_eq!(message, "cannot remove `/missing`: the document has no member `missing`");
    assert_eq!(doc, json!({"name": "Old", "tags": ["x"]}));
}

#[test]
fn replace_of_a_missing_member_fails() {
    let (path, code, message) = one(apply(json!({}), json!([{"op": "replace", "path": "/a", "value": 1}])));
    assert_eq!((path.as_str(), code), ("/0/path", PathNotFound));
    assert_eq!(
        message,
        "cannot replace `/a`: the document has no member `a`; replace changes an existing value, add creates one"
    );
}

#[test]
fn an_index_past_the_end_fails() {
    let (path, code, message) = one(apply(json!({"v": [1, 2]}), json!([{"op": "remove", "path": "/v/2"}])));
    assert_eq!((path.as_str(), code), ("/0/path", OutOfRange));
    assert_eq!(message, "cannot remove `/v/2`: `/v` has 2 items, so index 2 does not exist (0 to 1)");

    let (path, code, message) =
        one(apply(json!({"v": [1]}), json!([{"op": "add", "path": "/v/3", "value": 0}])));
    assert_eq!((path.as_str(), code), ("/0/path", OutOfRange));
    assert_eq!(
        message,
        "cannot add at `/v/3`: `/v` has 1 item, so index 3 does not exist (0); add can insert at 0 to 1 or append with `-`"
    );

    let (_, code, message) = one(apply(json!([]), json!([{"op": "test", "path": "/0", "value": 0}])));
    assert_eq!(code, OutOfRange);
    assert_eq!(
        message,
        "cannot test `/0`: the document has 0 items, so index 0 does not exist (the array is empty)"
    );
}

#[test]
fn a_huge_index_is_out_of_range_not_a_panic() {
    let (_, code, message) =
        one(apply(json!([1]), json!([{"op": "replace", "path": "/99999999999999999999999", "value": 0}])));
    assert_eq!(code, OutOfRange);
    assert!(message.contains("index 99999999999999999999999 does not exist"), "{message}");
}

#[test]
fn an_array_index_has_no_leading_zeros_or_other_characters() {
    for token in ["01", "00", "1a", "+1", "-1", " 1", "", "1.0"] {
        let ops = json!([{"op": "replace", "path": format!("/v/{token}"), "value": 0}]);
        let (path, code, message) = one(apply(json!({"v": [1, 2]}), ops));
        assert_eq!((path.as_str(), code), ("/0/path", InvalidArrayIndex), "{token:?}");
        assert!(
            message.contains(&format!("`/v` is an array, and `{token}` is not an index into it")),
            "{message}"
        );
    }
}

#[test]
fn dash_is_only_for_add() {
    for op in [
        json!({"op": "remove", "path": "/v/-"}),
        json!({"op": "replace", "path": "/v/-", "value": 0}),
        json!({"op": "test", "path": "/v/-", "value": 0}),
        json!({"op": "add", "path": "/v/-/x", "value": 0}),
    ] {
        let (path, code, message) = one(apply(json!({"v": [{}]}), json!([op])));
        assert_eq!((path.as_str(), code), ("/0/path", InvalidArrayIndex), "{op}");
        assert!(
            message.contains("`-` names the position after the last item of `/v`, which only add can use")
        );
    }
    let (path, code, _) =
        one(apply(json!({"v": [1]}), json!([{"op": "copy", "from": "/v/-", "path": "/w"}])));
    assert_eq!((path.as_str(), code), ("/0/from", InvalidArrayIndex));
}

#[test]
fn stepping_into_a_scalar_fails() {
    let (path, code, message) =
        one(apply(json!({"n": 5}), json!([{"op": "add", "path": "/n/x", "value": 1}])));
    assert_eq!((path.as_str(), code), ("/0/path", PathNotFound));
    assert_eq!(
        message,
        "cannot add at `/n/x`: `/n` is a number, which has no members or items, so it has no `x`; \
         only objects and arrays do"
    );
    let (_, code, _) = one(apply(json!("text"), json!([{"op": "test", "path": "/0", "value": 1}])));
    assert_eq!(code, PathNotFound);
}

#[test]
fn removing_the_whole_document_is_refused() {
    let (path, code, message) = one(apply(json!({"a": 1}), json!([{"op": "remove", "path": ""}])));
    assert_eq!((path.as_str(), code), ("/0/path", NotAllowed));
    assert_eq!(
        message,
        "cannot remove the document: removing the whole document would leave nothing to store; \
         use replace with path \"\" to swap it, or remove its members"
    );
}

#[test]
fn move_into_its_own_child_fails() {
    let (path, code, message) =
        one(apply(json!({"a": {"b": {}}}), json!([{"op": "move", "from": "/a", "path": "/a/b/c"}])));
    assert_eq!((path.as_str(), code), ("/0/path", MoveIntoChild));
    assert_eq!(
        message,
        "cannot move to `/a/b/c`: it lies inside `/a`, the value being moved, which cannot hold itself; \
         choose a path outside it"
    );
    let (_, code, _) = one(apply(json!({"a": 1}), json!([{"op": "move", "from": "", "path": "/a"}])));
    assert_eq!(code, MoveIntoChild);
}

#[test]
fn move_to_a_sibling_with_a_longer_name_is_not_into_a_child() {
    let out = apply(json!({"a": 1}), json!([{"op": "move", "from": "/a", "path": "/ab"}]));
    assert_eq!(out.unwrap(), json!({"ab": 1}));
}

#[test]
fn move_and_copy_from_a_missing_source_fail_at_from() {
    for op in ["move", "copy"] {
        let (path, code, message) = one(apply(json!({}), json!([{"op": op, "from": "/x", "path": "/y"}])));
        assert_eq!((path.as_str(), code), ("/0/from", PathNotFound));
        assert_eq!(message, format!("cannot {op} from `/x`: the document has no member `x`"));
    }
}

#[test]
fn a_move_whose_add_fails_changes_nothing() {
    let doc = json!({"a": 1});
    let (path, code, _) = one(apply(doc.clone(), json!([{"op": "move", "from": "/a", "path": "/b/c"}])));
    assert_eq!((path.as_str(), code), ("/0/path", PathNotFound));
    assert_eq!(doc, json!({"a": 1}));
}

#[test]
fn test_of_a_missing_path_fails_at_path() {
    let (path, code, _) = one(apply(json!({}), json!([{"op": "test", "path": "/a", "value": null}])));
    assert_eq!((path.as_str(), code), ("/0/path", PathNotFound));
}

#[test]
fn a_long_value_is_cut_short_in_a_message() {
    let long = "x".repeat(500);
    let (_, _, message) = one(apply(json!({"a": long}), json!([{"op": "test", "path": "/a", "value": 1}])));
    assert!(message.len() < 300, "{message}");
    assert!(message.contains("xxx..., but the test expects 1"), "{message}");
}

// Reading.

#[test]
fn both_body_forms_read() {
    let ops = json!([{"op": "replace", "path": "/name", "value": "New"}]);
    let bare = patch(ops.clone());
    assert_eq!(bare.form, PatchForm::Array);
    assert_eq!(bare.comment(), None);
    let object = patch(json!({"patch": ops, "comment": "rename"}));
    assert_eq!(object.form, PatchForm::WithComment { comment: Some("rename".into()) });
    assert_eq!(object.operations, bare.operations);
    assert_eq!(object.operations, [PatchOperation::Replace { path: ptr("/name"), value: json!("New") }]);
    assert_eq!(object.operation_pointer(3), "/patch/3");
    assert_eq!(bare.operation_pointer(3), "/3");
}

#[test]
fn every_op_reads() {
    let body = json!([
        {"op": "add", "path": "/a", "value": 1},
        {"op": "remove", "path": "/a"},
        {"op": "replace", "path": "/a", "value": null},
        {"op": "move", "from": "/a", "path": "/b"},
        {"op": "copy", "from": "/b", "path": "/c"},
        {"op": "test", "path": "/c", "value": [1]},
    ]);
    assert_eq!(
        patch(body).operations,
        [
            PatchOperation::Add { path: ptr("/a"), value: json!(1) },
            PatchOperation::Remove { path: ptr("/a") },
            PatchOperation::Replace { path: ptr("/a"), value: Value::Null },
            PatchOperation::Move { from: ptr("/a"), path: ptr("/b") },
            PatchOperation::Copy { from: ptr("/b"), path: ptr("/c") },
            PatchOperation::Test { path: ptr("/c"), value: json!([1]) },
        ]
    );
}

#[test]
fn every_reading_problem_is_reported_at_once() {
    let body = json!({
        "comment": 5,
        "patch": [
            {"op": "replace", "path": "name", "value": 1},
            {"op": "add", "path": "/a~2"},
            {"op": "rename", "path": "/a"},
            {"op": "move", "path": "/b"},
            {"op": "copy", "from": "x", "path": 7},
            {"path": "/a"},
            "remove",
            {"op": 1, "path": "/a"},
            {"op": "test", "path": "/a", "value": null},
        ]
    });
    let violations = JsonPatch::from_json(&body).unwrap_err();
    assert_eq!(
        paths_and_codes(&violations),
        [
            ("/comment", &WrongType),
            ("/patch/0/path", &InvalidPointer),
            ("/patch/1/path", &InvalidPointer),
            ("/patch/1/value", &MissingField),
            ("/patch/2/op", &UnknownOperation),
            ("/patch/3/from", &MissingField),
            ("/patch/4/path", &WrongType),
            ("/patch/4/from", &InvalidPointer),
            ("/patch/5/op", &MissingField),
            ("/patch/6", &WrongType),
            ("/patch/7/op", &WrongType),
        ]
    );
    let messages: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(
        messages[1],
        "`name` is not a JSON Pointer: it must be empty (the whole document) or start with `/`, as in `/name`"
    );
    assert_eq!(
        messages[2],
        "`/a~2` is not a JSON Pointer: the `~` at byte 2 is not followed by 0 or 1; \
         write `~` in a name as `~0` and `/` in a name as `~1`"
    );
    assert_eq!(messages[3], "value is required for `add`: the JSON to add at path (null counts)");
    assert_eq!(messages[4], "unknown op `rename`; one of add, remove, replace, move, copy, test");
    assert_eq!(messages[5], "from is required for `move`: a JSON Pointer to the value to move");
}

#[test]
fn a_bare_array_reports_paths_from_the_root() {
    let violations = JsonPatch::from_json(&json!([{"op": "add", "path": "/a"}])).unwrap_err();
    assert_eq!(paths_and_codes(&violations), [("/0/value", &MissingField)]);
}

#[test]
fn an_empty_patch_is_a_violation() {
    let violations = JsonPatch::from_json(&json!({"patch": []})).unwrap_err();
    assert_eq!(paths_and_codes(&violations), [("/patch", &TooFew)]);
    assert!(violations.as_slice()[0].message.starts_with("the patch has no operations; send at least one"));
    let violations = JsonPatch::from_json(&json!([])).unwrap_err();
    assert_eq!(paths_and_codes(&violations), [("", &TooFew)]);
}

#[test]
fn a_body_of_another_shape_is_a_violation() {
    let violations = JsonPatch::from_json(&json!("add")).unwrap_err();
    assert_eq!(paths_and_codes(&violations), [("", &WrongType)]);
    let violations = JsonPatch::from_json(&json!({"comment": "why"})).unwrap_err();
    assert_eq!(paths_and_codes(&violations), [("/patch", &MissingField)]);
    let violations = JsonPatch::from_json(&json!({"patch": {}})).unwrap_err();
    assert_eq!(paths_and_codes(&violations), [("/patch", &WrongType)]);
}

// Which operations touch a field.

#[test]
fn touches_finds_paths_and_froms_at_or_under_the_prefix() {
    let p = patch(json!([
        {"op": "replace", "path": "/keys", "value": 1},
        {"op": "test", "path": "/name", "value": 1},
        {"op": "copy", "from": "/key/x", "path": "/other"},
        {"op": "remove", "path": "/key"},
    ]));
    assert_eq!(p.touches("/key"), Some(2));
    assert_eq!(p.touches("/keys"), Some(0));
    assert_eq!(p.touches("/name"), Some(1));
    assert_eq!(p.touches("/kind"), None);
    assert_eq!(p.touches(""), Some(0));
}

#[test]
fn changes_counts_ancestors_and_ignores_reads() {
    let p = patch(json!([
        {"op": "test", "path": "/key", "value": "k"},
        {"op": "copy", "from": "/key", "path": "/name"},
        {"op": "replace", "path": "", "value": {}},
    ]));
    assert_eq!(p.touches("/key"), Some(0));
    assert_eq!(p.changes("/key"), Some(2));
    assert_eq!(p.changes("/name"), Some(1));
    let moved = patch(json!([{"op": "move", "from": "/key", "path": "/old"}]));
    assert_eq!(moved.changes("/key"), Some(0));
    let nested = patch(json!([{"op": "add", "path": "/key/x", "value": 1}]));
    assert_eq!(nested.changes("/key"), Some(0));
    assert_eq!(nested.changes("/keys"), None);
}

// Writing.

#[test]
fn operations_write_their_wire_form() {
    let p = JsonPatch::new([
        PatchOperation::Add { path: ptr("/a~1b"), value: json!(null) },
        PatchOperation::Remove { path: ptr("/a") },
        PatchOperation::Move { from: ptr("/a"), path: ptr("/b") },
    ])
    .with_comment("why");
    let written = serde_json::to_value(&p).unwrap();
    assert_eq!(
        written,
        json!({"patch": [
            {"op": "add", "path": "/a~1b", "value": null},
            {"op": "remove", "path": "/a"},
            {"op": "move", "from": "/a", "path": "/b"},
        ], "comment": "why"})
    );
    assert_eq!(JsonPatch::from_json(&written).unwrap(), p);
    let bare = JsonPatch { form: PatchForm::Array, ..p };
    assert_eq!(serde_json::to_value(&bare).unwrap(), written["patch"]);
    let read: JsonPatch = serde_json::from_value(written["patch"].clone()).unwrap();
    assert_eq!(read, bare);
}

#[test]
fn a_patch_without_comment_writes_no_comment() {
    let p = JsonPatch::new([PatchOperation::Test { path: JsonPointer::root(), value: json!(1) }]);
    assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"patch":[{"op":"test","path":"","value":1}]}"#);
}

#[test]
fn deserializing_reports_the_violations() {
    let err = serde_json::from_str::<PatchOperation>(r#"{"op": "nope", "path": "/a"}"#).unwrap_err();
    assert!(err.to_string().contains("/op: unknown op `nope`"), "{err}");
}
