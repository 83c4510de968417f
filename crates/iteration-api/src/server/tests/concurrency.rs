use http::{Method, StatusCode};
use serde_json::json;

use super::*;

/// 64 writers race on one experiment: new drafts, starts with a
/// justification, tags added and renames. Every acknowledged change must be
/// in the final state (each tag is added by one writer, so a lost update
/// shows as a missing tag), and no answer ever shows two running iterations.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_changes_leave_one_consistent_history() {
    let t = Arc::new(TestApp::new().await);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            match i % 4 {
                0 => {
                    let mut body = valid_request();
                    body["hypothesis"] = json!(format!("draft {i}"));
                    let a = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
                    (i, a.status, a.body["_id"].as_str().map(str::to_owned))
                }
                1 => {
                    let start = json!({"instructions": [
                        {"kind": "startIteration", "changeJustification": format!("start {i}")}]});
                    let path = format!("{EXPERIMENT}?expand=previousIterations");
                    let a = t.call(Method::PATCH, &path, Some(start)).await;
                    if a.status == StatusCode::OK {
                        assert_one_running(&a.body);
                    }
                    (i, a.status, a.body["currentIteration"]["_id"].as_str().map(str::to_owned))
                }
                2 => {
                    let a = t
                        .patch(json!([{"kind": "updateExperimentFields", "value": {
                            "tags": {"operation": "add", "value": [format!("tag-{i}")]}}}]))
                        .await;
                    (i, a.status, None)
                }
                _ => {
                    let a = t.patch(json!([{"kind": "updateName", "value": format!("name {i}")}])).await;
                    (i, a.status, None)
                }
            }
        }));
    }
    let mut started = Vec::new();
    for task in tasks {
        let (i, status, id) = task.await.expect("no task panics");
        match i % 4 {
            0 => assert_eq!(status, StatusCode::OK),
            1 if status == StatusCode::OK => started.extend(id),
            1 => assert_eq!(status, StatusCode::BAD_REQUEST, "a start without a draft is refused"),
            _ => assert_eq!(status, StatusCode::OK),
        }
    }
    let got =
        t.call(Method::GET, &format!("{EXPERIMENT}?expand=previousIterations,draftIteration"), None).await;
    let experiment = &got.body;
    let mut seen: Vec<String> = experiment["previousIterations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            assert_eq!(i["status"], "stopped");
            i["_id"].as_str().unwrap_or("").to_owned()
        })
        .collect();
    if let Some(current) = experiment["currentIteration"].as_object() {
        assert_eq!(current["status"], "running");
        seen.push(current["_id"].as_str().unwrap_or("").to_owned());
    }
    // Every acknowledged start is in the history exactly once.
    for id in &started {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1, "{id} lost or duplicated");
    }
    assert_eq!(seen.len(), started.len(), "only acknowledged starts ran");
    let name = experiment["name"].as_str().unwrap_or("");
    assert!(name.starts_with("name "), "{name}");
    // Every tag-add was acknowledged, so every tag is there.
    let mut tags: Vec<&str> =
        experiment["tags"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    tags.sort();
    let mut expected: Vec<String> = (0..64).filter(|i| i % 4 == 2).map(|i| format!("tag-{i}")).collect();
    expected.sort();
    assert_eq!(tags, expected);
    assert_one_running(experiment);
}

/// What an answer shows: at most one running iteration, the current one,
/// and every earlier one stopped, each id once.
fn assert_one_running(experiment: &Value) {
    let previous = experiment["previousIterations"].as_array().cloned().unwrap_or_default();
    assert!(previous.iter().all(|i| i["status"] == "stopped"), "{experiment}");
    let mut ids: Vec<&str> = previous.iter().filter_map(|i| i["_id"].as_str()).collect();
    if let Some(current) = experiment.get("currentIteration").filter(|c| !c.is_null()) {
        assert_eq!(current["status"], "running", "{experiment}");
        ids.extend(current["_id"].as_str());
    }
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "an iteration appears twice: {experiment}");
}
