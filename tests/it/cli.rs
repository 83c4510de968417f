//! The `iteration` command line against the real server binary: the README's
//! commands exactly as written (only the port differs), and one exit code per
//! failure class.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The README's commands against `iteration serve --demo`, read from
/// README.md itself so that the two cannot drift apart. The test swaps the
/// port of `http://127.0.0.1:8080` for the one the server bound, and
/// `$WINNER` for a treatment id read from the output of `create`.
fn readme_commands() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let commands: Vec<String> = readme
        .lines()
        .filter(|line| line.starts_with("iteration --base-url http://127.0.0.1:8080 "))
        .map(str::to_owned)
        .collect();
    let verbs: Vec<String> = commands.iter().map(|c| words(c)[3].clone()).collect();
    assert_eq!(verbs, ["create", "experiment", "experiment", "experiment"], "README commands: {commands:#?}");
    commands
}

const README_TOKEN: &str = "api-demo-writer";

/// `iteration serve --demo --in-memory` on a free port, killed when dropped.
struct DemoServer {
    child: Child,
    base: String,
}

impl DemoServer {
    fn start() -> DemoServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_iteration"))
            .args(["serve", "--demo", "--in-memory", "--no-rate-limit", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let base = first.strip_prefix("listening on ").unwrap().to_owned();
        // Drain the rest so that the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        DemoServer { child, base }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Splits a command line on spaces, keeping single-quoted words whole (all
/// the shell syntax the README uses).
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Runs `iteration ARGS` with only `LD_API_KEY` (if any) for a token.
fn iteration(args: &[String], token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_iteration"));
    command.args(args).env_remove("LD_API_KEY").env_remove("LD_ACCESS_TOKEN");
    for name in ["LD_BASE_URI", "LD_PROJECT", "LD_ENVIRONMENT", "LD_OUTPUT", "HTTPS_PROXY", "HTTP_PROXY"] {
        command.env_remove(name);
    }
    // No settings file of the developer's: an empty settings directory.
    command.env("XDG_CONFIG_HOME", crate::serve::temp_dir("cli-settings"));
    if let Some(token) = token {
        command.env("LD_API_KEY", token);
    }
    command.output().unwrap()
}

fn run_line(line: &str, base: &str, winner: &str) -> Output {
    let line = line.replace("http://127.0.0.1:8080", base).replace("$WINNER", winner);
    let words = words(&line);
    assert_eq!(words[0], "iteration");
    iteration(&words[1..], Some(README_TOKEN))
}

fn stdout_json(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_readme_commands_work_as_written() {
    let server = DemoServer::start();
    let readme = readme_commands();

    let created = stdout_json(&run_line(&readme[0], &server.base, ""));
    assert_eq!(created["status"], "not_started");
    let winner = created["treatments"][1]["_id"].as_str().unwrap().to_owned();

    let read = stdout_json(&run_line(&readme[1], &server.base, ""));
    assert_eq!(read["draftIteration"]["_id"], created["_id"]);
    assert_eq!(read["draftIteration"]["treatments"][1]["_id"].as_str(), Some(winner.as_str()));

    let started = stdout_json(&run_line(&readme[2], &server.base, ""));
    assert_eq!(started["currentIteration"]["status"], "running");

    let stopped = stdout_json(&run_line(&readme[3], &server.base, &winner));
    assert!(stopped.get("currentIteration").is_none(), "{stopped}");
}

#[test]
fn each_failure_class_has_its_exit_code() {
    let server = DemoServer::start();
    let base = server.base.clone();
    let at = |rest: &str| -> Vec<String> {
        let mut args = vec!["--base-url".to_owned(), base.clone()];
        args.extend(words(rest));
        args
    };
    let get = "experiment get --project my-project --environment production --experiment";
    let cases: [(Vec<String>, Option<&str>, i32, &str); 7] = [
        (at(&format!("{get} example-experiment")), Some(README_TOKEN), 0, ""),
        (
            at(&format!("{get} example-experiment --winner w")),
            Some(README_TOKEN),
            2,
            "unexpected argument '--winner'",
        ),
        (at(&format!("{get} example-experiment")), None, 2, "no API token"),
        (
            at(&format!("{get} example-experiment")),
            Some("api-nobody"),
            3,
            "the server answered 401 unauthorized",
        ),
        (at(&format!("{get} nothing-here")), Some(README_TOKEN), 4, "the server answered 404 not_found"),
        (
            at(
                "experiment archive --project my-project --environment production --experiment example-experiment",
            ),
            Some("api-demo-reader"),
            3,
            "the server answered 403 forbidden",
        ),
        (at("validate crates/iteration-model/fixtures/docs/create-iteration.request.json"), None, 1, ""),
    ];
    for (args, token, code, stderr) in cases {
        let output = iteration(&args, token);
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(stderr), "{args:?}: {err}");
    }

    // A stale flag version is a conflict (5); a body that breaks a rule is
    // refused before sending (1).
    let dir = std::env::temp_dir().join(format!("iteration-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut body: Value =
        serde_json::from_str(include_str!("../../crates/iteration-model/fixtures/demo/valid-request.json"))
            .unwrap();
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = 11.into();
    let stale = dir.join("stale.json");
    std::fs::write(&stale, body.to_string()).unwrap();
    body["treatments"][0]["allocationPercent"] = "40".into();
    let invalid = dir.join("invalid.json");
    std::fs::write(&invalid, body.to_string()).unwrap();
    let create =
        "create --project my-project --environment production --experiment example-experiment --file";
    let output = iteration(&at(&format!("{create} {}", stale.display())), Some(README_TOKEN));
    assert_eq!(output.status.code(), Some(5), "{}", String::from_utf8_lossy(&output.stderr));
    let output = iteration(&at(&format!("{create} {}", invalid.display())), Some(README_TOKEN));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: the request is invalid:\n  /treatments: allocations sum to 90; they must sum to 100 [allocation_sum]\n"
    );
    let output = iteration(&at(&format!("{create} {} --dry-run", invalid.display())), None);
    assert_eq!(output.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(dir);

    drop(server);
    // Nothing listens any more: a transport failure (8).
    let output = iteration(&at(&format!("{get} example-experiment")), Some(README_TOKEN));
    assert_eq!(output.status.code(), Some(8), "{}", String::from_utf8_lossy(&output.stderr));
}
