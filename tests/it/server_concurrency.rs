//! Racing lifecycle requests on one experiment, through the real binary on
//! SQLite: the store's compare-and-swap must hold across connections, not
//! only in memory.

use bytes::Bytes;
use http::{Request, StatusCode};
use iteration_transport::{ClientConfig, HttpClient};
use serde_json::{Value, json};

use crate::serve::{Running, demo_request, temp_dir};

const WRITER: &str = "api-demo-writer";
const EXPERIMENT: &str = "/api/v2/projects/my-project/environments/production/experiments/example-experiment";
const WRITERS: usize = 64;

/// One racing request: what it asked for and what it got.
enum Change {
    Draft,
    Start(Option<String>),
    Tag(String),
    Rename,
}

async fn send(client: &HttpClient, method: &str, url: String, body: Value) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", WRITER)
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .expect("request");
    let response = client.send(request).await.expect("the server answers");
    (response.status(), serde_json::from_slice(response.body()).expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_lifecycle_requests_on_sqlite_leave_one_consistent_history() {
    let dir = temp_dir("race");
    let server = Running::start(&["--demo", "--data-dir", dir.to_str().expect("UTF-8 temp dir")]);
    let client = HttpClient::new(ClientConfig::default()).expect("client");
    let base = server.base.clone();
    // A draft before the race, so that the first start to land succeeds.
    let (status, first) =
        send(&client, "POST", format!("{base}{EXPERIMENT}/iterations"), demo_request()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let patch = |instruction: Value| json!({"instructions": [instruction]});
            match i % 4 {
                0 => {
                    let mut body = demo_request();
                    body["hypothesis"] = json!(format!("draft {i}"));
                    let (status, answer) =
                        send(&client, "POST", format!("{base}{EXPERIMENT}/iterations"), body).await;
                    assert_eq!(status, StatusCode::OK, "{answer}");
                    Change::Draft
                }
                1 => {
                    let start =
                        patch(json!({"kind": "startIteration", "changeJustification": format!("start {i}")}));
                    let url = format!("{base}{EXPERIMENT}?expand=previousIterations");
                    let (status, answer) = send(&client, "PATCH", url, start).await;
                    if status == StatusCode::OK {
                        Change::Start(answer["currentIteration"]["_id"].as_str().map(str::to_owned))
                    } else {
                        // The only refusal possible here: the draft was already started.
                        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
                        assert_eq!(
                            answer["errors"][0]["message"],
                            "startIteration: the experiment has no draft iteration; create one first"
                        );
                        Change::Start(None)
                    }
                }
                2 => {
                    let tag = format!("tag-{i}");
                    let add = patch(json!({"kind": "updateExperimentFields",
                        "value": {"tags": {"operation": "add", "value": [tag]}}}));
                    let (status, answer) = send(&client, "PATCH", format!("{base}{EXPERIMENT}"), add).await;
                    assert_eq!(status, StatusCode::OK, "{answer}");
                    Change::Tag(tag)
                }
                _ => {
                    let rename = patch(json!({"kind": "updateName", "value": format!("name {i}")}));
                    let (status, answer) =
                        send(&client, "PATCH", format!("{base}{EXPERIMENT}"), rename).await;
                    assert_eq!(status, StatusCode::OK, "{answer}");
                    Change::Rename
                }
            }
        }));
    }
    let (mut started, mut tags) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.expect("no writer panics") {
            Change::Start(Some(id)) => started.push(id),
            Change::Tag(tag) => tags.push(tag),
            Change::Draft | Change::Start(None) | Change::Rename => {}
        }
    }
    assert!(!started.is_empty(), "a draft existed, so some start succeeded");

    let url = format!("{base}{EXPERIMENT}?expand=previousIterations,draftIteration");
    let request = Request::get(url).header("authorization", WRITER).body(Bytes::new()).expect("request");
    let response = client.send(request).await.expect("an answer");
    let experiment: Value = serde_json::from_slice(response.body()).expect("JSON");
    let previous = experiment["previousIterations"].as_array().cloned().unwrap_or_default();
    assert!(previous.iter().all(|i| i["status"] == "stopped"), "{experiment}");
    let mut history: Vec<String> =
        previous.iter().filter_map(|i| i["_id"].as_str()).map(str::to_owned).collect();
    assert_eq!(experiment["currentIteration"]["status"], "running", "the last start still runs");
    history.extend(experiment["currentIteration"]["_id"].as_str().map(str::to_owned));
    // Exactly the acknowledged starts ran, each once: none lost, none doubled.
    history.sort();
    started.sort();
    assert_eq!(history, started);
    let mut found: Vec<String> = experiment["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    found.sort();
    tags.sort();
    assert_eq!(found, tags, "every acknowledged tag is kept");
    assert!(experiment["name"].as_str().is_some_and(|n| n.starts_with("name ")), "{experiment}");
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
