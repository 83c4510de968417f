//! The catalog's commands (`flag`, `metric`, `metric-group`,
//! `context-kind`, `settings`) as a user runs them: the real binary against
//! `iteration serve --demo --in-memory`, JSON through a pipe, tables when
//! asked, errors as JSON on standard error with `-o json`.

use std::io::Write as _;
use std::process::{Output, Stdio};

use serde_json::{Value, json};

use crate::cli_ux::{iteration, text};
use crate::serve::Running;

const WRITER: &str = "api-demo-writer";
const FLAG: &str = "example-flag-for-experiment";

/// `iteration ARGS` against `server` in project `my-project`, with `input`
/// on standard input when given (for `--file -`).
fn run(server: &Running, args: &[&str], input: Option<&Value>) -> Output {
    let mut command = iteration();
    command
        .args(args)
        .env("LD_BASE_URI", &server.base)
        .env("LD_API_KEY", WRITER)
        .env("LD_PROJECT", "my-project")
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

/// The cells of a table's line: columns are two spaces or more apart.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect()
}

/// The text on standard output of a command that succeeded.
fn table_of(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    text(&output.stdout)
}

#[test]
fn flags_are_listed_read_and_turned_off_and_on() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let listed = json_of(&run(&server, &["flag", "list", "-e", "production"], None));
    let flag = listed["items"].as_array().unwrap().iter().find(|f| f["key"] == FLAG).expect("the demo flag");
    let environments: Vec<&String> = flag["environments"].as_object().unwrap().keys().collect();
    assert_eq!(environments, ["production"], "only the chosen environment");

    let read = json_of(&run(&server, &["flag", "get", FLAG, "--env", "production"], None));
    let version = read["environments"]["production"]["version"].as_i64().expect("a version");
    assert_eq!(read["environments"]["production"]["on"], true, "{read}");

    let off = json_of(&run(&server, &["flag", "off", FLAG, "-e", "production"], None));
    assert_eq!(off["environments"]["production"]["on"], false);
    assert_eq!(off["environments"]["production"]["version"], version + 1);
    let on = json_of(&run(&server, &["flag", "on", FLAG, "-e", "production"], None));
    assert_eq!(on["environments"]["production"]["on"], true);
    assert_eq!(on["environments"]["production"]["version"], version + 2);

    // The environment may come from LD_ENVIRONMENT; without one, on and off refuse.
    let output = run(&server, &["flag", "on", FLAG], None);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("`iteration flag on` needs --environment"),
        "{}",
        text(&output.stderr)
    );

    let table = table_of(&run(&server, &["flag", "list", "-e", "production", "-o", "table"], None));
    let mut lines = table.lines();
    let header = cells(lines.next().unwrap());
    assert_eq!(header, ["KEY", "NAME", "KIND", "ON (production)", "VERSION"], "{table}");
    let row = lines.find(|l| l.starts_with(FLAG)).expect(&table);
    assert_eq!(cells(row)[2..], ["multivariate", "yes", &(version + 2).to_string()], "{table}");
    assert!(table.trim_end().ends_with(" flags"), "a total at the end: {table}");

    // A boolean flag from --key and --name, then gone.
    let created =
        json_of(&run(&server, &["flag", "create", "--key", "new-checkout", "--name", "New checkout"], None));
    assert_eq!((created["key"].clone(), created["kind"].clone()), (json!("new-checkout"), json!("boolean")));
    let deleted = run(&server, &["flag", "delete", "new-checkout"], None);
    assert_eq!(deleted.status.code(), Some(0), "{}", text(&deleted.stderr));
    assert!(deleted.stdout.is_empty(), "nothing to print through a pipe");
    assert_eq!(run(&server, &["flag", "get", "new-checkout"], None).status.code(), Some(4));
}

#[test]
fn metrics_and_groups_are_created_read_and_deleted() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let metric = json!({"key": "signup", "name": "Signed up", "kind": "custom", "eventKey": "signed-up"});
    let created = json_of(&run(&server, &["metric", "create", "--file", "-"], Some(&metric)));
    assert_eq!(created["key"], "signup");
    let read = json_of(&run(&server, &["metric", "get", "signup"], None));
    assert_eq!(read["_versionId"], created["_versionId"]);
    let table = table_of(&run(&server, &["metric", "get", "signup", "-o", "table"], None));
    let version_id = created["_versionId"].as_str().unwrap();
    assert_eq!(
        table,
        format!(
            "KEY     NAME       KIND    NUMERIC  VERSION ID\nsignup  Signed up  custom  no       {version_id}\n"
        )
    );

    let group = json!({"key": "signup-funnel", "name": "Signup funnel", "kind": "funnel", "maintainerId": "m",
        "tags": [], "metrics": [{"key": "checkout-pageview", "nameInGroup": "Visit"}, {"key": "signup", "nameInGroup": "Sign up"}]});
    let created = json_of(&run(&server, &["metric-group", "create", "--file", "-"], Some(&group)));
    assert_eq!(created["metrics"][1]["key"], "signup");
    let table = table_of(&run(&server, &["metric-group", "list", "-o", "table", "--all"], None));
    let row = table.lines().find(|l| l.starts_with("signup-funnel")).expect(&table);
    assert_eq!(
        cells(row),
        ["signup-funnel", "Signup funnel", "funnel", "checkout-pageview, signup"],
        "{table}"
    );

    // In use by the group: refused with the server's reason (exit 1).
    let refused = run(&server, &["metric", "delete", "signup"], None);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let deleted = run(&server, &["metric-group", "delete", "signup-funnel"], None);
    assert_eq!(deleted.status.code(), Some(0), "{}", text(&deleted.stderr));
    let deleted = run(&server, &["metric", "delete", "signup", "-o", "table"], None);
    assert_eq!(table_of(&deleted), "deleted metric signup\n");
    assert_eq!(run(&server, &["metric", "get", "signup"], None).status.code(), Some(4));
}

#[test]
fn context_kinds_and_experimentation_settings_are_put_and_read() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let put = json_of(&run(
        &server,
        &["context-kind", "put", "team", "--name", "Team", "--description", "A team"],
        None,
    ));
    assert_eq!(put["status"], "success");
    let listed = json_of(&run(&server, &["context-kind", "list"], None));
    let team = listed["items"].as_array().unwrap().iter().find(|k| k["key"] == "team").expect("the new kind");
    assert_eq!((team["name"].clone(), team["version"].clone()), (json!("Team"), json!(1)));
    let table = table_of(&run(&server, &["context-kind", "list", "-o", "table"], None));
    assert!(table.starts_with("KEY "), "{table}");
    assert!(table.lines().any(|l| l.split_whitespace().eq(["team", "Team", "1"])), "{table}");

    let settings = json_of(&run(&server, &["settings", "get"], None));
    let units = settings["randomizationUnits"].as_array().expect("units");
    assert!(units.iter().any(|u| u["randomizationUnit"] == "user" && u["default"] == true), "{settings}");

    let put = json_of(&run(&server, &["settings", "put", "--unit", "user,team", "--default", "team"], None));
    let units: Vec<(Value, Value)> = put["randomizationUnits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["randomizationUnit"].clone(), u["default"].clone()))
        .collect();
    assert_eq!(units, [(json!("user"), json!(false)), (json!("team"), json!(true))]);
    let table = table_of(&run(&server, &["settings", "get", "-o", "table"], None));
    assert_eq!(table, "UNIT  DEFAULT\nuser\nteam  yes\n");

    // The same from a file; an unknown kind is the server's 400, at its path.
    let body = json!({"randomizationUnits": [{"randomizationUnit": "user", "default": true}]});
    let put = json_of(&run(&server, &["settings", "put", "--file", "-"], Some(&body)));
    assert_eq!(put["randomizationUnits"][0]["default"], true);
}

#[test]
fn a_400_prints_every_path_as_json_on_stderr() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let metric = json!({"key": "revenue", "kind": "custom", "unit": "usd"});
    let output = run(&server, &["metric", "create", "--file", "-", "-o", "json"], Some(&metric));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    let error: Value = serde_json::from_slice(&output.stderr).expect("JSON on stderr");
    assert_eq!(error["error"]["kind"], "invalid");
    assert_eq!(error["error"]["status"], 400);
    let paths: Vec<&str> = error["error"]["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["path"].as_str())
        .collect();
    assert!(paths.contains(&"/eventKey") && paths.contains(&"/unit"), "{error}");

    let patch = json!([{"op": "replace", "path": "/key", "value": "other"}]);
    let output = run(&server, &["flag", "patch", FLAG, "--file", "-", "-o", "json"], Some(&patch));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let error: Value = serde_json::from_slice(&output.stderr).expect("JSON on stderr");
    // The client sends a JSON Patch as {"patch": [...]}, so the server names /patch/N.
    assert_eq!(error["error"]["violations"][0]["path"], "/patch/0", "{error}");
    assert_eq!(error["error"]["violations"][0]["code"], "not_allowed", "{error}");

    // A semantic patch: its instructions, its environment from -e.
    let rename = json!({"instructions": [{"kind": "updateName", "value": "Checkout button"}]});
    let renamed =
        json_of(&run(&server, &["flag", "patch", FLAG, "-e", "production", "--file", "-"], Some(&rename)));
    assert_eq!(renamed["name"], "Checkout button");
}

#[test]
fn the_readme_catalog_example_runs_as_written() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let readme = include_str!("../../README.md");
    let block = readme
        .split("```sh\n")
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with("export LD_BASE_URI="))
        .expect("a catalog example in README.md");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_iteration")).parent().expect("a directory");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut shell = std::process::Command::new("sh");
    shell.arg("-c").arg(format!("set -e\n{}", block.replace("http://127.0.0.1:8080", &server.base)));
    for name in [
        "LD_ACCESS_TOKEN",
        "LD_ENVIRONMENT",
        "LD_OUTPUT",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "http_proxy",
    ] {
        shell.env_remove(name);
    }
    let home = crate::serve::temp_dir("readme-catalog");
    let output =
        shell.env("PATH", path).env("LD_API_KEY", WRITER).env("XDG_CONFIG_HOME", &home).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(out.starts_with("KEY ") && out.contains("ON (production)"), "{out}");
    let _ = std::fs::remove_dir_all(home);
}
