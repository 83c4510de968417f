//! The `admin` commands as a test suite uses them: the real binary against
//! `iteration serve --demo --in-memory`, with the demo world's admin token,
//! each command checked by its effect on the server.

use std::io::Write as _;
use std::process::{Output, Stdio};

use serde_json::{Value, json};

use crate::cli_ux::{iteration, text};
use crate::serve::Running;

const ADMIN: &str = "api-demo-admin";
const FLAG: &str = "example-flag-for-experiment";
const EXPERIMENT: &str = "example-experiment";
const VALID_REQUEST: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/crates/iteration-model/fixtures/demo/valid-request.json");

/// `iteration ARGS` against `server` with `token`, in `my-project` and
/// `production`, with `input` on standard input when given.
fn run_as(server: &Running, token: &str, args: &[&str], input: Option<&[u8]>) -> Output {
    let mut command = iteration();
    command
        .args(args)
        .env("LD_BASE_URI", &server.base)
        .env("LD_API_KEY", token)
        .env("LD_PROJECT", "my-project")
        .env("LD_ENVIRONMENT", "production")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("the binary starts");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(input).expect("the input is written");
    }
    child.wait_with_output().expect("the binary ends")
}

fn run(server: &Running, args: &[&str], input: Option<&[u8]>) -> Output {
    run_as(server, ADMIN, args, input)
}

/// Standard output of a command that succeeded.
fn stdout_of(output: &Output) -> Vec<u8> {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    output.stdout.clone()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&stdout_of(output)).expect("JSON on stdout")
}

/// The JSON error on standard error of a command that failed with `code`.
fn error_of(output: &Output, code: i32) -> Value {
    assert_eq!(output.status.code(), Some(code), "stderr: {}", text(&output.stderr));
    serde_json::from_slice(&output.stderr).expect("JSON on stderr")
}

fn production_on(server: &Running) -> Value {
    json_of(&run(server, &["flag", "get", FLAG, "-o", "json"], None))["environments"]["production"]["on"]
        .clone()
}

#[test]
fn state_is_read_replaced_and_reset() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let fresh = stdout_of(&run(&server, &["admin", "state", "get"], None));
    let world: Value = serde_json::from_slice(&fresh).expect("the state is JSON");
    assert_eq!(world["projects"][0]["key"], "my-project", "{world}");

    // A change shows in the state; reset undoes it.
    json_of(&run(&server, &["flag", "off", FLAG, "-o", "json"], None));
    let changed = stdout_of(&run(&server, &["admin", "state", "get"], None));
    assert_ne!(changed, fresh);
    let reset = run(&server, &["admin", "reset", "-o", "json"], None);
    assert_eq!(json_of(&reset), json!({"status": "reset"}));
    assert_eq!(production_on(&server), true);
    assert_eq!(stdout_of(&run(&server, &["admin", "state", "get"], None)), fresh, "the demo world again");

    // Putting the changed state back (from standard input) gives it byte for byte,
    // and --out-file writes the same bytes.
    let put = stdout_of(&run(&server, &["admin", "state", "put", "-", "-o", "json"], Some(&changed)));
    assert_eq!(put, changed);
    assert_eq!(production_on(&server), false);
    let dir = std::env::temp_dir().join(format!("iteration-admin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let written = run(&server, &["admin", "state", "get", "--out-file", file.to_str().unwrap()], None);
    assert!(stdout_of(&written).is_empty(), "nothing on stdout through a pipe");
    assert_eq!(std::fs::read(&file).unwrap(), changed);
    let table = run(&server, &["admin", "state", "put", file.to_str().unwrap(), "-o", "table"], None);
    assert_eq!(text(&stdout_of(&table)).trim(), "state replaced: 3 tokens, 1 projects, 4 experiments");
    let _ = std::fs::remove_dir_all(&dir);

    // A world that breaks the rules changes nothing and says where.
    let broken = json!({"formatVersion": 2, "tokens": [], "projects": [{"key": "bad key!"}]}).to_string();
    let error =
        error_of(&run(&server, &["admin", "state", "put", "-", "-o", "json"], Some(broken.as_bytes())), 1);
    let violations = error["error"]["violations"].as_array().expect("violations");
    assert!(violations.iter().all(|v| v["code"] == "invalid_world"), "{error}");
    assert_eq!(stdout_of(&run(&server, &["admin", "state", "get"], None)), changed);

    // The administration API needs an admin token: the writer's is refused (exit 3).
    let refused = error_of(&run_as(&server, "api-demo-writer", &["admin", "reset", "-o", "json"], None), 3);
    assert_eq!(refused["error"]["status"], 403, "{refused}");
}

#[test]
fn the_journal_lists_what_was_sent_and_faults_fail_matching_requests() {
    let server = Running::start(&["--demo", "--in-memory"]);
    json_of(&run(&server, &["flag", "off", FLAG, "-o", "json"], None));
    let journal = json_of(&run(&server, &["admin", "requests", "--limit", "1", "-o", "json"], None));
    let last = &journal["items"][0];
    assert_eq!(
        (&last["method"], &last["operationId"], &last["status"], &last["token"]),
        (&json!("PATCH"), &json!("patchFeatureFlag"), &json!(200), &json!("Demo admin")),
        "{journal}"
    );
    assert_eq!(last["path"], format!("/api/v2/flags/my-project/{FLAG}"));
    assert!(last["body"].as_str().is_some_and(|b| b.contains("turnFlagOff")), "{last}");
    let table = text(&stdout_of(&run(&server, &["admin", "requests", "--limit", "1", "-o", "table"], None)));
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["TIME", "METHOD", "PATH", "OPERATION", "STATUS", "TOKEN", "MS"]);
    let row: Vec<&str> =
        lines.next().expect(&table).split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    let path = format!("/api/v2/flags/my-project/{FLAG}");
    assert_eq!(row[1..6], ["PATCH", &path, "patchFeatureFlag", "200", "Demo admin"], "{table}");
    assert_eq!(lines.next(), None, "--limit 1: {table}");

    // Two rules: every create answers 503 (a POST is not retried), the next read answers 503 once.
    let rules = json!([
        {"operation": "createIteration", "status": 503},
        {"operation": "getExperiment", "status": 503, "times": 1}
    ])
    .to_string();
    let set = json_of(&run(&server, &["admin", "faults", "set", "-", "-o", "json"], Some(rules.as_bytes())));
    assert_eq!(set["items"].as_array().map(Vec::len), Some(2), "{set}");
    let create = ["create", "-x", EXPERIMENT, "--file", VALID_REQUEST, "-o", "json"];
    let failed = error_of(&run(&server, &create, None), 7);
    assert_eq!(
        (&failed["error"]["status"], &failed["error"]["code"]),
        (&json!(503), &json!("service_unavailable"))
    );
    // The client waits out Retry-After and gets through on its second attempt.
    json_of(&run(&server, &["experiment", "get", "-x", EXPERIMENT, "-o", "json"], None));
    let reads =
        json_of(&run(&server, &["admin", "requests", "--operation", "getExperiment", "-o", "json"], None));
    let statuses: Vec<&Value> = reads["items"].as_array().unwrap().iter().map(|r| &r["status"]).collect();
    assert_eq!(statuses, [&json!(200), &json!(503)], "{reads}");
    let only_503 = json_of(&run(&server, &["admin", "requests", "--status", "503", "-o", "json"], None));
    assert_eq!(
        only_503["items"].as_array().map(Vec::len),
        Some(2),
        "the create and the first read: {only_503}"
    );
    let left = json_of(&run(&server, &["admin", "faults", "list", "-o", "json"], None));
    assert_eq!(left, json!({"items": [{"operation": "createIteration", "status": 503}]}), "times ran out");

    // Cleared, the create goes through; a rule out of range is refused with its pointer.
    let cleared = run(&server, &["admin", "faults", "clear", "-o", "table"], None);
    assert_eq!(text(&stdout_of(&cleared)), "no fault rules are in force\n");
    // (The flag turned off above moved its version on: back to the demo world first.)
    stdout_of(&run(&server, &["admin", "reset"], None));
    let created = json_of(&run(&server, &create, None));
    assert_eq!(created["status"], "not_started", "{created}");
    let invalid = json!([{"status": 200}]).to_string();
    let error =
        error_of(&run(&server, &["admin", "faults", "set", "-", "-o", "json"], Some(invalid.as_bytes())), 1);
    assert_eq!(error["error"]["violations"][0]["path"], "/0/status", "{error}");

    // --clear empties the journal.
    run(&server, &["admin", "requests", "--clear"], None);
    assert_eq!(json_of(&run(&server, &["admin", "requests", "-o", "json"], None)), json!({"items": []}));
}

#[test]
fn a_server_without_a_journal_lists_nothing() {
    let server = Running::start(&["--demo", "--in-memory", "--journal-size", "0"]);
    json_of(&run(&server, &["flag", "get", FLAG, "-o", "json"], None));
    assert_eq!(json_of(&run(&server, &["admin", "requests", "-o", "json"], None)), json!({"items": []}));
}
