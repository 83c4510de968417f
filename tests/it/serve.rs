//! `iteration serve` as a user runs it: the real binary on a real socket.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use iteration_transport::{ClientConfig, HttpClient};
use serde_json::{Value, json};

const WRITER: &str = "api-demo-writer";
const ENVIRONMENT: &str = "/api/v2/projects/my-project/environments/production";

/// A running server, killed (SIGKILL on unix) when dropped.
pub(crate) struct Running {
    child: Child,
    /// `http://127.0.0.1:PORT` or `https://...`, as the server printed it.
    pub(crate) base: String,
}

impl Running {
    /// Starts `iteration serve` on a free loopback port, without rate limits
    /// unless `args` sets one.
    pub(crate) fn start(args: &[&str]) -> Running {
        let limited = args.iter().any(|a| a.ends_with("rate-limit"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_iteration"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(if limited { None } else { Some("--no-rate-limit") })
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("a first line").expect("readable stdout");
        let base =
            first.strip_prefix("listening on ").expect("the first line says where it listens").to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Running { child, base }
    }

    pub(crate) fn kill(&mut self) {
        // Already exited is fine: the point is that it is not running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn send(client: &HttpClient, method: Method, url: String, body: Option<Value>) -> (StatusCode, Value) {
    let mut builder = Request::builder().method(method).uri(url).header("authorization", WRITER);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let request =
        builder.body(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default())).expect("request");
    let response = client.send(request).await.expect("the server answers");
    let body = serde_json::from_slice(response.body()).expect("JSON");
    (response.status(), body)
}

/// The valid request of `docs/demo-world.md`.
pub(crate) fn demo_request() -> Value {
    json!({
      "hypothesis": "The new button placement will increase conversion",
      "metrics": [{"key": "metric-key-123abc"}, {"key": "metric-group-key-123abc", "isGroup": true}],
      "primarySingleMetricKey": "metric-key-123abc",
      "treatments": [
        {"name": "Control", "baseline": true, "allocationPercent": "50",
         "parameters": [{"flagKey": "example-flag-for-experiment", "variationId": "e432f62b-55f6-49dd-a02f-eb24acf39d05"}]},
        {"name": "Top button", "baseline": false, "allocationPercent": "50",
         "parameters": [{"flagKey": "example-flag-for-experiment", "variationId": "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10"}]}
      ],
      "flags": {"example-flag-for-experiment": {
        "ruleId": "e432f62b-55f6-49dd-a02f-eb24acf39d05", "flagConfigVersion": 12,
        "notInExperimentVariationId": "e432f62b-55f6-49dd-a02f-eb24acf39d05"}},
      "randomizationUnit": "user",
      "covariateId": "74a49a2b-4834-4246-917e-5d85231d8c2a",
      "attributes": ["country", "device", "os"]
    })
}

/// A fresh directory under the system's temporary directory.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("iteration-it-{name}-{}-{}", std::process::id(), fastrand_u64()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Unique enough for a directory name without another dependency.
fn fastrand_u64() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

#[tokio::test]
async fn quick_start_creates_the_demo_iteration() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let client = HttpClient::new(ClientConfig::default()).expect("client");
    let url = format!("{}{ENVIRONMENT}/experiments/example-experiment/iterations", server.base);
    let (status, body) = send(&client, Method::POST, url, Some(demo_request())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "not_started");
    assert_eq!(body["flags"]["example-flag-for-experiment"]["flagConfigVersion"], 12);
}

/// The iteration without the values the server makes afresh (ids, times).
fn without_fresh_values(mut iteration: Value) -> Value {
    iteration["_id"] = Value::Null;
    iteration["createdAt"] = Value::Null;
    for treatment in iteration["treatments"].as_array_mut().into_iter().flatten() {
        treatment["_id"] = Value::Null;
    }
    iteration
}

/// What a create answers with, as far as a draft goes.
const EXPAND_DRAFT: &str = "draftIteration,treatments,secondaryMetrics";

/// Every experiment of the environment, following `_links.next`.
async fn list_all(client: &HttpClient, base: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(format!("{ENVIRONMENT}/experiments?limit=50&lifecycleState=active,archived"));
    while let Some(path) = next {
        let (status, page) =
            send(client, Method::GET, format!("{base}{path}&expand={EXPAND_DRAFT}"), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        next = page["_links"]["next"]["href"].as_str().map(str::to_owned);
    }
    items
}

/// Writers create experiments back to back, so creates are always in
/// flight, when the server gets SIGKILL. After a restart on the same data
/// directory, every create answered 201 is there exactly as answered, and
/// every experiment found is whole: nothing half-written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_creates_survive_a_kill() {
    const WRITERS: usize = 8;
    const KILL_AFTER: usize = 30;
    let dir = temp_dir("durability");
    let data_dir = dir.to_str().expect("UTF-8 temp dir").to_owned();
    let mut server = Running::start(&["--demo", "--data-dir", &data_dir]);
    let client = HttpClient::new(ClientConfig::default()).expect("client");
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    let base = Arc::new(server.base.clone());
    for writer in 0..WRITERS {
        let (client, base, acked_tx) = (client.clone(), base.clone(), acked_tx.clone());
        tokio::spawn(async move {
            for n in 0.. {
                let key = format!("durable-{writer}-{n}");
                let post = json!({"name": key, "key": key, "iteration": demo_request()});
                let request = Request::post(format!("{base}{ENVIRONMENT}/experiments"))
                    .header("authorization", WRITER)
                    .header("content-type", "application/json")
                    .body(Bytes::from(post.to_string()))
                    .expect("request");
                // A request cut off by the kill has no answer; it proves nothing
                // either way, and this writer is done.
                let Ok(response) = client.send(request).await else { return };
                let body: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
                if acked_tx.send((key, response.status(), body)).is_err() {
                    return;
                }
            }
        });
    }
    drop(acked_tx);
    let mut acknowledged = Vec::new();
    while let Some((key, status, body)) = acked_rx.recv().await {
        assert_eq!(status, StatusCode::CREATED, "{key}: {body}");
        acknowledged.push((key, body));
        if acknowledged.len() == KILL_AFTER {
            // Child::kill is SIGKILL on unix: no shutdown, no flush.
            server.kill();
        }
    }
    assert!(acknowledged.len() >= KILL_AFTER, "{}", acknowledged.len());
    drop(server);

    // No --demo: the world comes from the data directory.
    let server = Running::start(&["--data-dir", &data_dir]);
    for (key, created) in &acknowledged {
        let url = format!("{}{ENVIRONMENT}/experiments/{key}?expand={EXPAND_DRAFT}", server.base);
        let (status, body) = send(&client, Method::GET, url, None).await;
        assert_eq!(status, StatusCode::OK, "{key} was acknowledged but is gone: {body}");
        assert_eq!(body["draftIteration"], created["draftIteration"], "{key} differs from its 201");
        assert_eq!(body["_id"], created["_id"], "{key}");
    }
    let expected_draft = without_fresh_values(acknowledged[0].1["draftIteration"].clone());
    let found = list_all(&client, &server.base).await;
    let mut durable = 0;
    for item in &found {
        let key = item["key"].as_str().unwrap_or("");
        if !key.starts_with("durable-") {
            continue;
        }
        durable += 1;
        assert_eq!(item["name"], key, "{item}");
        assert_eq!(
            without_fresh_values(item["draftIteration"].clone()),
            expected_draft,
            "{key} is half-written"
        );
    }
    // Every acknowledged one, and at most one more per writer (in flight at the kill).
    assert!(
        (acknowledged.len()..=acknowledged.len() + WRITERS).contains(&durable),
        "{durable} found, {} acknowledged",
        acknowledged.len()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
