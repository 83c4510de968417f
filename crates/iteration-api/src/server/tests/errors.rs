use http::{Method, Request, StatusCode};
use iteration_transport::{Handler, Rejection};
use serde_json::json;

use super::*;

#[tokio::test]
async fn tokens_are_checked_before_anything_else_and_bearer_is_accepted() {
    let t = TestApp::new().await;
    let path = format!("{EXPERIMENT}/iterations");
    let body = Some(valid_request().to_string().into_bytes());
    let missing = Request::post(&path).body(Bytes::new()).expect("request");
    assert_error(&t.send(missing).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(
        &t.send(request(Method::POST, &path, "nope", body.clone())).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let bearer = t.send(request(Method::POST, &path, &format!("Bearer {WRITER}"), body.clone())).await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.body);
    let reader = t.send(request(Method::POST, &path, READER, body)).await;
    assert_error(&reader, StatusCode::FORBIDDEN, "forbidden");
    let read = t.send(request(Method::GET, EXPERIMENT, READER, None)).await;
    assert_eq!(read.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_project_environment_experiment_and_route_are_json_404s() {
    let t = TestApp::new().await;
    for path in [
        "/api/v2/projects/nope/environments/production/experiments/example-experiment",
        "/api/v2/projects/my-project/environments/nope/experiments/example-experiment",
        "/api/v2/projects/my-project/environments/production/experiments/nope",
        "/api/v2/segments/my-project",
        "/",
    ] {
        let answer = t.call(Method::GET, path, None).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
    }
    let answer =
        t.call(Method::GET, "/api/v2/projects/my-project/environments/nope/experiments/x", None).await;
    assert_eq!(answer.body["message"], "environment `nope` not found in project `my-project`");
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let t = TestApp::new().await;
    let answer = t.call(Method::DELETE, EXPERIMENT, None).await;
    assert_error(&answer, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(answer.headers["allow"], "GET, PATCH");
}

#[tokio::test]
async fn api_versions_other_than_the_supported_are_refused() {
    let t = TestApp::new().await;
    for (version, status) in
        [("20240415", StatusCode::OK), ("beta", StatusCode::OK), ("20191212", StatusCode::BAD_REQUEST)]
    {
        let mut req = request(Method::GET, EXPERIMENT, WRITER, None);
        req.headers_mut().insert("ld-api-version", version.parse().expect("header"));
        let answer = t.send(req).await;
        assert_eq!(answer.status, status, "{version}");
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(
                answer.body["message"],
                "LD-API-Version `20191212` is not supported; supported versions: 20240415, beta, or none"
            );
        }
    }
}

#[tokio::test]
async fn bodies_must_be_json_and_malformed_json_names_line_and_column() {
    let t = TestApp::new().await;
    let path = format!("{EXPERIMENT}/iterations");
    let mut req = request(Method::POST, &path, WRITER, Some(b"hypothesis=x".to_vec()));
    req.headers_mut().insert("content-type", "text/plain".parse().expect("header"));
    assert_error(&t.send(req).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let answer =
        t.send(request(Method::POST, &path, WRITER, Some(b"{\n  \"hypothesis\": ,\n}".to_vec()))).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let message = answer.body["message"].as_str().unwrap_or("");
    assert!(message.starts_with("the body is not valid JSON: line 2, column 17"), "{message}");

    let mut req = request(Method::POST, &path, WRITER, Some(valid_request().to_string().into_bytes()));
    req.headers_mut().insert("content-type", "application/json; charset=utf-8".parse().expect("header"));
    assert_eq!(t.send(req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn too_large_bodies_are_413_in_our_format() {
    let t = TestApp::new().await;
    let response = t.app.reject(Rejection::BodyTooLarge { limit: 1024 });
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_slice(response.body()).expect("JSON");
    assert_eq!(body["code"], "request_entity_too_large");
    assert_eq!(body["message"], "the request body is larger than 1024 bytes");
}

#[tokio::test]
async fn a_taken_key_is_409_key_exists() {
    let t = TestApp::new().await;
    let post = json!({"name": "Again", "key": "example-experiment", "iteration": valid_request()});
    let answer = t
        .call(Method::POST, "/api/v2/projects/my-project/environments/production/experiments", Some(post))
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "key_exists");

    let post =
        json!({"name": "New", "key": "new-experiment", "iteration": valid_request(), "unknownField": 1});
    let answer = t
        .call(Method::POST, "/api/v2/projects/my-project/environments/production/experiments", Some(post))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["key"], "new-experiment");
    assert_eq!(answer.body["draftIteration"]["status"], "not_started");

    let mut iteration = valid_request();
    iteration["hypothesis"] = json!("");
    let post = json!({"name": "Bad", "key": "bad-experiment", "iteration": iteration});
    let answer = t
        .call(Method::POST, "/api/v2/projects/my-project/environments/production/experiments", Some(post))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error_paths(&answer.body), [("/iteration/hypothesis".to_owned(), "blank".to_owned())]);
}

#[tokio::test]
async fn rate_limits_send_headers_and_429_with_retry_after() {
    let t = TestApp::with_limits(RateLimits { route: Some(2), token: Some(10), ..RateLimits::OFF }).await;
    t.clock.set(UnixMillis(1_700_000_002_500));
    let first = t.call(Method::GET, EXPERIMENT, None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.headers["x-ratelimit-route-limit"], "2");
    assert_eq!(first.headers["x-ratelimit-route-remaining"], "1");
    assert_eq!(first.headers["x-ratelimit-reset"], "1700000010000");
    assert_eq!(first.headers["x-ratelimit-auth-token-limit"], "10");
    assert_eq!(first.headers["x-ratelimit-auth-token-remaining"], "9");
    assert_eq!(first.headers["x-ratelimit-auth-token-reset"], "1700000010000");
    t.call(Method::GET, EXPERIMENT, None).await;
    let third = t.call(Method::GET, EXPERIMENT, None).await;
    assert_error(&third, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(third.headers["retry-after"], "8");
    assert_eq!(third.headers["x-ratelimit-route-remaining"], "0");
    t.clock.advance(7_500);
    assert_eq!(t.call(Method::GET, EXPERIMENT, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let t = TestApp::new().await;
    let answer = t.call(Method::GET, "/api/v2/openapi.json", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["openapi"], "3.0.3");
}

#[tokio::test]
async fn answers_the_http_layer_gives_are_json_in_the_error_format() {
    let t = TestApp::new().await;
    for (rejection, status, code) in [
        (Rejection::BodyTooLarge { limit: 10 }, StatusCode::PAYLOAD_TOO_LARGE, "request_entity_too_large"),
        (
            Rejection::BodyTimeout { timeout: std::time::Duration::from_secs(30) },
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request",
        ),
        (Rejection::BodyUnreadable, StatusCode::BAD_REQUEST, "invalid_request"),
        (Rejection::Malformed, StatusCode::BAD_REQUEST, "invalid_request"),
        (Rejection::UriTooLong, StatusCode::URI_TOO_LONG, "invalid_request"),
        (Rejection::HeadersTooLarge, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "invalid_request"),
        (
            Rejection::HeadersTimeout { timeout: std::time::Duration::from_secs(10) },
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request",
        ),
    ] {
        let response = t.app.reject(rejection);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let body = serde_json::from_slice(response.body()).expect("JSON");
        assert_error(
            &Answer { status: response.status(), headers: response.headers().clone(), body },
            status,
            code,
        );
    }
}
