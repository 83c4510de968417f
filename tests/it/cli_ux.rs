//! The command line as a new user meets it: help per command, suggestions,
//! exit codes, completions, settings from the environment and the settings
//! file, pipes that close early, JSON errors, retry notices, TLS trust and
//! proxies. Each test runs the real binary; those that need a server start
//! `iteration serve --demo --in-memory` on port 0.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::serve::{Running, temp_dir};

const WRITER: &str = "api-demo-writer";
const GET: [&str; 8] =
    ["experiment", "get", "-p", "my-project", "-e", "production", "-x", "example-experiment"];

/// `iteration` with none of the settings a developer's shell may carry:
/// no token, no LD_* variables, no proxies, no settings file, no colour.
pub(crate) fn iteration() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_iteration"));
    for name in [
        "LD_API_KEY",
        "LD_ACCESS_TOKEN",
        "LD_BASE_URI",
        "LD_PROJECT",
        "LD_ENVIRONMENT",
        "LD_OUTPUT",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
    ] {
        command.env_remove(name);
    }
    // An empty settings directory unless a test points elsewhere.
    command.env("XDG_CONFIG_HOME", temp_dir("no-settings"));
    command.stdin(Stdio::null());
    command
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn each_command_has_its_own_help_with_examples() {
    let get = iteration().args(["experiment", "get", "--help"]).output().unwrap();
    let serve = iteration().args(["serve", "--help"]).output().unwrap();
    assert_eq!((get.status.code(), serve.status.code()), (Some(0), Some(0)));
    let (get, serve) = (text(&get.stdout), text(&serve.stdout));
    assert_ne!(get, serve);
    assert!(get.starts_with("Read one experiment"), "{get}");
    assert!(get.contains("--experiment <KEY>") && get.contains("--expand <PARTS>"), "{get}");
    assert!(get.contains("Example"), "{get}");
    assert!(serve.starts_with("Serve the Experiments API on this machine"), "{serve}");
    assert!(serve.contains("--listen <HOST:PORT>") && serve.contains("--log-format <FORMAT>"), "{serve}");
    assert!(!serve.contains("--base-url"), "serve takes no client options:\n{serve}");

    let top = text(&iteration().arg("--help").output().unwrap().stdout);
    for command in [
        "create",
        "validate",
        "experiment",
        "flag",
        "metric",
        "metric-group",
        "context-kind",
        "settings",
        "config",
        "completions",
        "man",
        "serve",
    ] {
        assert!(top.lines().any(|l| l.trim_start().starts_with(&format!("{command} "))), "{command}:\n{top}");
    }
    for code in 0..=9 {
        assert!(top.lines().any(|l| l.trim_start().starts_with(&format!("{code}  "))), "exit code {code}");
    }
}

#[test]
fn a_typo_gets_a_suggestion_and_exit_code_2() {
    let output = iteration().args(["experimnt", "list"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = text(&output.stderr);
    assert!(err.contains("unrecognized subcommand 'experimnt'"), "{err}");
    assert!(err.contains("a similar subcommand exists: 'experiment'"), "{err}");
    assert_eq!(err.matches("experimnt").count(), 1, "said once:\n{err}");

    let output = iteration().args(["experiment", "get", "-p", "p", "--experimnt", "x"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("tip: a similar argument exists: '--experiment'"));
}

#[test]
fn usage_errors_exit_2_everywhere() {
    let cases: [&[&str]; 7] = [
        &["experiment", "get", "-p", "p", "-e", "e"],
        &["experiment", "stop", "-p", "p", "-e", "e", "-x", "x"],
        &["--federal", "--eu", "validate", "f.json"],
        &["completions", "tcsh"],
        &["serve", "--demo", "--world", "w.json"],
        &["serve", "--listen", "no-port-here"],
        &["serve", "--tls-cert", "c.pem"],
    ];
    for args in cases {
        let output = iteration().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).starts_with("error: "), "{args:?}: {}", text(&output.stderr));
    }
    // Settings that are missing after flags, environment and file: also 2.
    let output =
        iteration().args(["experiment", "get", "-x", "x"]).env("LD_API_KEY", WRITER).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`iteration experiment get` needs --project (or LD_PROJECT"));
}

#[test]
fn dry_runs_and_validate_need_no_project_environment_or_token() {
    let body =
        concat!(env!("CARGO_MANIFEST_DIR"), "/crates/iteration-model/fixtures/demo/valid-request.json");
    let output = iteration().args(["create", "--file", body, "--dry-run", "-o", "json"]).output().unwrap();
    assert_eq!(succeeded(&output), serde_json::json!({"valid": true, "violations": []}));
    let output = iteration().args(["validate", body]).output().unwrap();
    assert_eq!(succeeded(&output)["valid"], true);
}

#[test]
fn the_bash_completion_script_completes_subcommands() {
    let dir = temp_dir("completions");
    let script = dir.join("iteration.bash");
    let output = iteration().args(["completions", "bash"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    std::fs::write(&script, &output.stdout).unwrap();
    let complete = |words: &str, cword: usize| -> Vec<String> {
        let program = format!(
            "source '{}' && COMP_WORDS=({words}) && COMP_CWORD={cword} && \
             _iteration iteration \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let output = Command::new("bash").args(["--norc", "--noprofile", "-c", &program]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        text(&output.stdout).lines().map(str::to_owned).collect()
    };
    assert_eq!(complete("iteration exp", 1), ["experiment"]);
    let experiment = complete("iteration experiment ''", 2);
    for word in ["list", "get", "create", "patch", "start", "stop", "archive", "restore"] {
        assert!(experiment.iter().any(|w| w == word), "{word} in {experiment:?}");
    }
    assert_eq!(complete("iteration serve --lis", 2), ["--listen"]);
    for shell in ["zsh", "fish", "powershell"] {
        let output = iteration().args(["completions", shell]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{shell}");
        assert!(text(&output.stdout).contains("experiment"), "{shell}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ld_base_uri_and_the_other_variables_reach_the_server() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let output = iteration()
        .args(["experiment", "get", "-x", "example-experiment"])
        .env("LD_BASE_URI", &server.base)
        .env("LD_ACCESS_TOKEN", WRITER)
        .env("LD_PROJECT", "my-project")
        .env("LD_ENVIRONMENT", "production")
        .output()
        .unwrap();
    assert_eq!(succeeded(&output)["key"], "example-experiment");

    // A flag wins over the environment.
    let output = iteration()
        .args(GET)
        .args(["--base-url", "http://127.0.0.1:1"])
        .env("LD_BASE_URI", &server.base)
        .env("LD_API_KEY", WRITER)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(8), "{}", text(&output.stderr));

    // LD_OUTPUT picks the table even through a pipe.
    let output = iteration()
        .args(GET)
        .env("LD_BASE_URI", &server.base)
        .env("LD_API_KEY", WRITER)
        .env("LD_OUTPUT", "table")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).starts_with("KEY "), "{}", text(&output.stdout));
}

#[cfg(unix)]
#[test]
fn the_settings_file_reaches_the_server_and_keeps_the_token_private() {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;

    let server = Running::start(&["--demo", "--in-memory"]);
    let home = temp_dir("settings");
    let with_home = |args: &[&str]| {
        let mut command = iteration();
        command.args(args).env("XDG_CONFIG_HOME", &home);
        command
    };
    for (key, value) in
        [("base-uri", server.base.as_str()), ("project", "my-project"), ("environment", "production")]
    {
        let output = with_home(&["config", "set", key, value]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    // The token comes on standard input, never as an argument.
    let refused = with_home(&["config", "set", "access-token", WRITER]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let mut child = with_home(&["config", "set", "access-token"]).stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{WRITER}\n").as_bytes()).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));

    let file = home.join("iteration").join("config.json");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    let path = with_home(&["config", "path"]).output().unwrap();
    assert_eq!(text(&path.stdout).trim(), file.display().to_string());
    let listed: Value = succeeded(&with_home(&["config", "list", "-o", "json"]).output().unwrap());
    assert_eq!(listed["project"], "my-project");
    assert_eq!(listed["access-token"], "****iter");

    let output = with_home(&["experiment", "get", "-x", "example-experiment"]).output().unwrap();
    assert_eq!(succeeded(&output)["key"], "example-experiment");

    // The environment wins over the file.
    let output = with_home(&["experiment", "get", "-x", "example-experiment"])
        .env("LD_API_KEY", "api-nobody")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));

    // A token others may read is refused, saying how to fix it.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = with_home(&["experiment", "get", "-x", "example-experiment"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(&format!("run `chmod 600 {}`", file.display())),
        "{}",
        text(&output.stderr)
    );

    let output = with_home(&["config", "unset", "access-token"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let _ = std::fs::remove_dir_all(home);
}

/// Runs `iteration ARGS` with its standard output closed before it writes,
/// as `| head -1` does once it has its line.
fn with_closed_stdout(args: &[&str], read_first_line: bool) -> Output {
    let mut child = iteration().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    if read_first_line {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(!line.is_empty());
    } else {
        drop(stdout);
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    let cases: [(&[&str], bool); 3] =
        [(&["--help"], false), (&["experiment", "list", "--help"], false), (&["completions", "bash"], true)];
    for (args, read_first_line) in cases {
        let output = with_closed_stdout(args, read_first_line);
        let err = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let server = Running::start(&["--demo", "--in-memory"]);
    let base = server.base.clone();
    let mut child = iteration()
        .args(["experiment", "list", "-p", "my-project", "--all", "-o", "json", "--base-url", &base])
        .env("LD_API_KEY", WRITER)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
}

#[test]
fn errors_are_json_on_stderr_with_output_json() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let output = iteration()
        .args(["experiment", "get", "-p", "my-project", "-e", "production", "-x", "nothing-here"])
        .args(["--base-url", &server.base, "-o", "json"])
        .env("LD_API_KEY", WRITER)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert!(output.stdout.is_empty());
    let error: Value = serde_json::from_slice(&output.stderr).expect("JSON on stderr");
    assert_eq!(error["error"]["kind"], "not_found");
    assert_eq!(error["error"]["exitCode"], 4);
    assert_eq!(error["error"]["status"], 404);
    assert_eq!(error["error"]["code"], "not_found");
    assert!(error["error"]["message"].as_str().unwrap().starts_with("the server answered 404 not_found"));

    // Usage errors too, and invalid bodies with every violation.
    let output = iteration().args(["-o", "json", "experimnt"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let error: Value = serde_json::from_slice(&output.stderr).expect("JSON on stderr");
    assert_eq!(error["error"]["kind"], "usage");
    assert!(error["error"]["detail"].as_str().unwrap().contains("'experiment'"), "{error}");

    let dir = temp_dir("json-errors");
    let invalid = dir.join("invalid.json");
    let mut body = crate::serve::demo_request();
    body["treatments"][0]["allocationPercent"] = "40".into();
    std::fs::write(&invalid, body.to_string()).unwrap();
    let output = iteration()
        .args(["create", "--dry-run", "--file", invalid.to_str().unwrap()])
        .env("LD_OUTPUT", "json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["violations"][0]["path"], "/treatments");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_rate_limited_call_says_that_it_waits() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iteration"))
        .args(["serve", "--demo", "--in-memory", "--listen", "127.0.0.1:0", "--token-rate-limit", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap().strip_prefix("listening on ").unwrap().to_owned();
    std::thread::spawn(move || lines.for_each(drop));

    // One request per ten-second window: of three calls in a row, two share
    // a window, and the second of those waits.
    let mut notice = None;
    for _ in 0..3 {
        let mut call = iteration()
            .args(GET)
            .args(["--base-url", &base])
            .env("LD_API_KEY", WRITER)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(call.stderr.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = stderr.read_line(&mut line);
            let _ = tx.send(line);
            let _ = stderr.read_to_end(&mut Vec::new());
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        let _ = call.kill();
        let _ = call.wait();
        if !line.is_empty() {
            notice = Some(line);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let notice = notice.expect("a notice while waiting");
    let (before, after) = notice.trim_end().split_once(" s (").expect(&notice);
    let seconds = before.strip_prefix("rate limited by the server; retrying in ").expect(&notice);
    assert!((1..=11).contains(&seconds.parse::<u32>().expect(&notice)), "{notice}");
    assert_eq!(after, "attempt 2 of 4)", "{notice}");
}

#[test]
fn a_self_signed_server_is_trusted_with_ca_cert_or_ssl_cert_file() {
    let (ca_pem, cert_pem, key_pem) = crate::server_http::certificates();
    let dir = temp_dir("cli-tls");
    let (ca, cert, key) = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&ca, ca_pem).unwrap();
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let server =
        Running::start(&["--demo", "--in-memory", "--tls-cert", &path(&cert), "--tls-key", &path(&key)]);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let get = || {
        let mut command = iteration();
        command.args(GET).args(["--base-url", &server.base]).env("LD_API_KEY", WRITER);
        command
    };
    let untrusted = get().output().unwrap();
    assert_eq!(untrusted.status.code(), Some(8), "{}", text(&untrusted.stderr));
    let output = get().args(["--ca-cert", &path(&ca)]).output().unwrap();
    assert_eq!(succeeded(&output)["key"], "example-experiment");
    let output = get().env("SSL_CERT_FILE", &ca).output().unwrap();
    assert_eq!(succeeded(&output)["key"], "example-experiment");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn http_proxy_from_the_environment_is_used() {
    // The server reads absolute-form requests as a proxy would receive
    // them, so it can stand in for the proxy: a host that does not resolve
    // is reached only through it.
    let server = Running::start(&["--demo", "--in-memory"]);
    let mut get = iteration();
    get.args(GET).args(["--base-url", "http://iteration.invalid"]).env("LD_API_KEY", WRITER);
    let direct = get.output().unwrap();
    assert_eq!(direct.status.code(), Some(8), "{}", text(&direct.stderr));
    let proxied = get.env("HTTP_PROXY", &server.base).output().unwrap();
    assert_eq!(succeeded(&proxied)["key"], "example-experiment");
    let bypassed = get.env("NO_PROXY", "iteration.invalid").output().unwrap();
    assert_eq!(bypassed.status.code(), Some(8), "{}", text(&bypassed.stderr));
}

#[test]
fn serve_takes_a_host_name_and_logs_json_lines() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iteration"))
        .args(["serve", "--demo", "--in-memory", "--no-rate-limit", "--listen", "localhost:0"])
        .args(["--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap().strip_prefix("listening on ").unwrap().to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    assert!(base.starts_with("http://127.0.0.1:"), "localhost resolves to IPv4 first: {base}");

    // -v logs each request of the client on its standard error.
    let output =
        iteration().args(GET).args(["--base-url", &base, "-v"]).env("LD_API_KEY", WRITER).output().unwrap();
    assert_eq!(succeeded(&output)["key"], "example-experiment");
    let err = text(&output.stderr);
    assert!(err.contains("http_request{method=GET") && err.contains("status=200"), "{err}");

    let _ = child.kill();
    let mut logs = String::new();
    child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    let _ = child.wait();
    let first: Value =
        serde_json::from_str(logs.lines().next().expect("a log line")).expect("a JSON log line");
    assert_eq!(first["fields"]["message"], "server listening", "{logs}");
    assert!(!logs.contains("\u{1b}["), "no colour through a pipe: {logs}");
}
