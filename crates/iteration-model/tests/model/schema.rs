//! The model's tests check what it writes against the contract vendored
//! beside the fixtures, with the workspace's schema checker.

use std::sync::OnceLock;

use iteration_schema_check::Contract;
use serde_json::{Map, Value};

/// The contract, vendored beside the fixtures.
fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT
        .get_or_init(|| Contract::from_json(include_str!("../../fixtures/spec/launchdarkly-openapi.json")))
}

/// The whole document.
pub(crate) fn spec() -> &'static Value {
    contract().document()
}

/// The document's `#/components/schemas`.
pub(crate) fn schemas() -> &'static Map<String, Value> {
    contract().schemas()
}

/// The schema named `name`.
pub(crate) fn schema(name: &str) -> &'static Value {
    contract().schema(name)
}

/// Every problem of `value` against schema `name`.
pub(crate) fn check(name: &str, value: &Value) -> Vec<String> {
    contract().check(name, value)
}

/// Panics listing every problem unless `value` conforms to schema `name`.
pub(crate) fn assert_conforms(name: &str, value: &Value, what: &str) {
    contract().assert_conforms(name, value, what);
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
