//! The benchmarks' baseline route: present only when enabled, a body of
//! exactly the asked size, no token needed, and absent (404) by default.

use std::sync::Arc;

use http::{Method, StatusCode};

use super::{TestApp, WRITER, assert_error, request, valid_request};
use crate::server::store::MemoryStore;
use crate::server::world::World;
use crate::server::{App, AppConfig};

fn baseline_app() -> App {
    let config = AppConfig::default().with_bench_baseline(true).with_id_seed(1);
    App::new(Arc::new(MemoryStore::new()), Arc::new(World::demo()), config)
}

#[tokio::test]
async fn answers_a_json_body_of_the_asked_size_after_reading_the_request() {
    let app = baseline_app();
    let body = valid_request().to_string().into_bytes();
    for size in [2, 1234, 65536] {
        let path = format!("/__bench/fixed?size={size}");
        let response = app.handle(request(Method::POST, &path, WRITER, Some(body.clone()))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.body().len(), size);
        let parsed: serde_json::Value = serde_json::from_slice(response.body()).expect("the body is JSON");
        assert_eq!(parsed, serde_json::json!({}));
    }
    // No token and no body: the route does no work besides answering.
    let response = app.handle(request(Method::POST, "/__bench/fixed?size=10", "", None)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body().as_ref(), b"{}        ");
}

#[tokio::test]
async fn a_missing_or_out_of_range_size_is_400_and_other_methods_405() {
    let app = baseline_app();
    for (query, message) in [
        ("", "the query parameter `size` is required: the body's length in bytes"),
        ("?size=1", "size `1` is not a byte count from 2 to 65536"),
        ("?size=65537", "size `65537` is not a byte count from 2 to 65536"),
        ("?size=ten", "size `ten` is not a byte count from 2 to 65536"),
    ] {
        let response =
            app.handle(request(Method::POST, &format!("/__bench/fixed{query}"), WRITER, None)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: serde_json::Value = serde_json::from_slice(response.body()).expect("errors are JSON");
        assert_eq!(body["code"], "invalid_request");
        assert_eq!(body["message"], message);
    }
    let response = app.handle(request(Method::GET, "/__bench/fixed?size=10", WRITER, None)).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn absent_unless_enabled() {
    let t = TestApp::new().await;
    let answer = t.call(Method::POST, "/__bench/fixed?size=10", Some(valid_request())).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(answer.body["message"], "no resource at /__bench/fixed");
}
