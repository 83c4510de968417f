//! README.md's quick start, tried as a new user would: its first command
//! starts the server with the demo world, and its curl example, run by a
//! shell exactly as written (only the port differs), creates an iteration.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

const README: &str = include_str!("../../README.md");

/// The shell blocks of the README, in order.
fn shell_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in README.lines() {
        match (&mut current, line) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_quick_start_serves_the_demo_world_and_its_curl_example_creates_an_iteration() {
    let blocks = shell_blocks();
    // The first block is the two commands a newcomer needs; the first of
    // them runs the binary with `serve --demo`.
    let first = blocks[0].lines().next().unwrap();
    let command = first.split('#').next().unwrap().trim();
    assert_eq!(command, "cargo run --release -- serve --demo");
    assert!(blocks[0].lines().nth(1).unwrap().starts_with("cargo test --workspace"));

    // Run it as that command would, from a fresh directory so that the
    // default data directory is used, on a free port instead of 8080.
    let dir = std::env::temp_dir().join(format!("iteration-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_iteration"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap().strip_prefix("listening on ").unwrap().to_owned();
    let banner: Vec<String> = lines.by_ref().take(2).map(Result::unwrap).collect();
    std::thread::spawn(move || lines.for_each(drop));
    assert!(
        banner.iter().any(|l| l.contains("api-demo-writer")),
        "the banner names the demo tokens: {banner:?}"
    );

    let curl = blocks.iter().find(|b| b.starts_with("curl ")).expect("a curl example in README.md");
    let output = Command::new("sh")
        .arg("-c")
        .arg(curl.replace("http://127.0.0.1:8080", &base))
        .output()
        .expect("sh and curl are installed");
    let _ = server.kill();
    let _ = server.wait();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let iteration: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(iteration["status"], "not_started", "{iteration}");
    assert_eq!(iteration["hypothesis"], "The new button placement will increase conversion");
    assert_eq!(iteration["treatments"][1]["allocationPercent"], "50");
    assert!(dir.join(".iteration-data").is_dir(), "the data lives in ./.iteration-data");
    let _ = std::fs::remove_dir_all(&dir);
}
