//! The `layer` and `holdout` commands as a user runs them: the real binary
//! against `iteration serve --demo --in-memory`, JSON through a pipe,
//! tables when asked, the server's 400 as JSON on standard error with
//! `-o json`.

use std::io::Write as _;
use std::process::{Output, Stdio};

use serde_json::{Value, json};

use crate::cli_ux::{iteration, text};
use crate::serve::Running;

const WRITER: &str = "api-demo-writer";
const LAYER: &str = "checkout-flow";
const HOLDOUT: &str = "checkout-holdout";
const EXPERIMENT: &str = "example-experiment";

/// `iteration ARGS` against `server` in project `my-project`, with `input`
/// on standard input when given (for `--file -`).
fn run(server: &Running, args: &[&str], input: Option<&Value>) -> Output {
    let mut command = iteration();
    command
        .args(args)
        .env("LD_BASE_URI", &server.base)
        .env("LD_API_KEY", WRITER)
        .env("LD_PROJECT", "my-project")
        .env_remove("LD_ENVIRONMENT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("the binary starts");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(input.to_string().as_bytes()).expect("the body is written");
    }
    child.wait_with_output().expect("the binary ends")
}

/// The JSON on standard output of a command that succeeded.
fn json_of(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// The text on standard output of a command that succeeded.
fn table_of(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    text(&output.stdout)
}

/// The cells of a table's line: columns are two spaces or more apart.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect()
}

/// `production`'s reservations of a layer: (experiment, percent).
fn reservations(layer: &Value) -> Vec<(String, i64)> {
    layer["environments"]["production"]["reservations"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|r| {
                    let key = r["experimentKey"].as_str().unwrap_or_default().to_owned();
                    (key, r["reservationPercent"].as_i64().unwrap_or(-1))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn layers_are_listed_created_and_reserved_and_never_over_100() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let listed = json_of(&run(&server, &["layer", "list"], None));
    let demo =
        listed["items"].as_array().unwrap().iter().find(|l| l["key"] == LAYER).expect("the demo layer");
    assert_eq!(reservations(demo), [(EXPERIMENT.to_owned(), 10)], "{listed}");
    let table = table_of(&run(&server, &["layer", "list", "-o", "table"], None));
    let mut lines = table.lines();
    assert_eq!(cells(lines.next().unwrap()), ["KEY", "NAME", "RESERVATIONS"], "{table}");
    let row = lines.find(|l| l.starts_with(LAYER)).expect(&table);
    assert_eq!(cells(row), [LAYER, "Checkout Flow", "production: example-experiment 10%, other 70%"]);
    let filtered = json_of(&run(&server, &["layer", "list", "--experiment", "example-bandit"], None));
    assert_eq!(filtered["items"], json!([]), "example-bandit is in no layer");

    // A new layer, from standard input; the experiment leaves the demo layer first.
    let post = json!({"key": "pricing", "name": "Pricing", "description": "Pricing tests"});
    let created = json_of(&run(&server, &["layer", "create", "--file", "-"], Some(&post)));
    assert_eq!((created["key"].clone(), created["name"].clone()), (json!("pricing"), json!("Pricing")));
    let removed =
        json_of(&run(&server, &["layer", "remove", LAYER, "-x", EXPERIMENT, "-e", "production"], None));
    assert_eq!(reservations(&removed), []);
    let reserved = json_of(&run(
        &server,
        &["layer", "reserve", "pricing", "--experiment", EXPERIMENT, "--percent", "30", "-e", "production"],
        None,
    ));
    assert_eq!(reservations(&reserved), [(EXPERIMENT.to_owned(), 30)], "{reserved}");

    // 30 + 71 is over 100: the server's 400, as JSON on stderr.
    let args = ["layer", "reserve", "pricing", "-x", "example-bandit", "--percent", "71", "-e", "production"];
    let output = run(&server, &[&args[..], &["-o", "json"]].concat(), None);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    let error: Value = serde_json::from_slice(&output.stderr).expect("JSON on stderr");
    assert_eq!(
        (error["error"]["kind"].clone(), error["error"]["status"].clone()),
        (json!("invalid"), json!(400))
    );
    let violation = &error["error"]["violations"][0];
    assert_eq!(violation["path"], "/instructions/0/reservationPercent", "{error}");
    assert_eq!(violation["code"], "reservation_sum", "{error}");

    // A semantic patch takes its environment from -e; reserve needs one.
    let rename = json!({"instructions": [{"kind": "updateName", "name": "Pricing pages"}]});
    let renamed = json_of(&run(&server, &["layer", "patch", "pricing", "--file", "-"], Some(&rename)));
    assert_eq!(renamed["name"], "Pricing pages");
    let output = run(&server, &["layer", "reserve", "pricing", "-x", EXPERIMENT, "--percent", "5"], None);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("`iteration layer reserve` needs --environment"));
}

#[test]
fn holdouts_are_listed_read_and_ended() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let listed = json_of(&run(&server, &["holdout", "list", "-e", "production"], None));
    let demo = listed["items"].as_array().unwrap().iter().find(|h| h["key"] == HOLDOUT).expect(HOLDOUT);
    let id = demo["_id"].as_str().expect("an ID").to_owned();
    let table = table_of(&run(&server, &["holdout", "list", "-e", "production", "-o", "table"], None));
    assert_eq!(cells(table.lines().next().unwrap()), ["KEY", "NAME", "STATUS", "AMOUNT", "EXPERIMENTS"]);
    assert!(table.lines().any(|l| l.starts_with(HOLDOUT)), "{table}");

    let read = json_of(&run(&server, &["holdout", "get", HOLDOUT, "-e", "production"], None));
    assert_eq!((read["status"].clone(), read["holdoutAmount"].clone()), (json!("created"), json!("5")));
    let table =
        table_of(&run(&server, &["holdout", "get", HOLDOUT, "-e", "production", "-o", "table"], None));
    let row = table.lines().nth(1).expect(&table);
    assert_eq!(cells(row), [HOLDOUT, "Checkout holdout", "created", "5%"], "{table}");
    let by_id = json_of(&run(&server, &["holdout", "get-by-id", &id, "-e", "production"], None));
    assert_eq!(by_id["key"], HOLDOUT);

    let post = json!({"key": "pricing-holdout", "name": "Pricing holdout", "holdoutamount": "10"});
    let created =
        json_of(&run(&server, &["holdout", "create", "-e", "production", "--file", "-"], Some(&post)));
    assert_eq!(created["status"], "created", "{created}");
    let rename = json!({"instructions": [{"kind": "updateName", "value": "Pricing"}]});
    let patched = json_of(&run(
        &server,
        &["holdout", "patch", "pricing-holdout", "-e", "production", "--file", "-"],
        Some(&rename),
    ));
    assert_eq!(patched["name"], "Pricing");
    let ended = json_of(&run(&server, &["holdout", "end", "pricing-holdout", "-e", "production"], None));
    assert_eq!(ended["status"], "ended", "{ended}");
}
