//! The typed client against this project's server, in process, over TLS on
//! loopback with a certificate made for the test and trusted as an extra CA.

use std::sync::Arc;

use iteration_api::client::{
    BaseUrl, Client, ClientBuilder, ConflictKind, Error, Expand, ExperimentFilter, LifecycleState,
    ListParams, RetryPolicy,
};
use iteration_api::server::store::MemoryStore;
use iteration_api::server::world::World;
use iteration_api::server::{App, AppConfig, RateLimits, seed_store};
use iteration_model::{ExperimentPost, IterationInput, IterationStatus, ViolationCode};
use iteration_transport::{Server, ServerConfig, ServerHandle, TlsConfig};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::{Value, json};

const PROJECT: &str = "my-project";
const ENV: &str = "production";
const WRITER: &str = "api-demo-writer";
const READER: &str = "api-demo-reader";

/// A CA (PEM) and a server certificate it signed for 127.0.0.1.
struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "iteration end-to-end CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf =
        CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&leaf_key, &issuer).unwrap();
    Pki { ca_pem: ca_cert.pem(), cert_pem: leaf.pem(), key_pem: leaf_key.serialize_pem() }
}

/// The demo world served over TLS, in memory.
struct Demo {
    handle: ServerHandle,
    pki: Pki,
}

impl Demo {
    async fn start(limits: RateLimits) -> Demo {
        let store = Arc::new(MemoryStore::new());
        let world = World::demo();
        seed_store(store.as_ref(), &world).await.unwrap();
        let app = App::new(store, Arc::new(world), AppConfig::default().with_rate_limits(limits));
        let pki = pki();
        let mut config = ServerConfig::default();
        config.tls = Some(TlsConfig::from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes()).unwrap());
        let handle = Server::bind("127.0.0.1:0".parse().unwrap(), config).await.unwrap().spawn(app);
        Demo { handle, pki }
    }

    fn builder(&self, token: &str) -> ClientBuilder {
        Client::builder()
            .base_url(BaseUrl::Custom(format!("https://127.0.0.1:{}", self.handle.local_addr().port())))
            .token(token)
            .add_root_certificate_pem(self.pki.ca_pem.as_bytes())
    }

    fn client(&self) -> Client {
        self.builder(WRITER).build().unwrap()
    }
}

fn demo_body() -> Value {
    serde_json::from_str(include_str!("../../crates/iteration-model/fixtures/demo/valid-request.json"))
        .unwrap()
}

fn demo_input() -> IterationInput {
    IterationInput::from_json(&demo_body()).unwrap()
}

#[tokio::test]
async fn an_iteration_goes_through_its_whole_lifecycle() {
    let demo = Demo::start(RateLimits::OFF).await;
    let client = demo.client();

    let draft = client.create_iteration(PROJECT, ENV, "example-experiment", &demo_input()).await.unwrap();
    assert_eq!(draft.status, IterationStatus::NotStarted);
    assert_eq!(draft.randomization_unit.as_deref(), Some("user"));
    let treatments = draft.treatments.clone().unwrap();
    let names: Vec<&str> = treatments.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Control", "Top button"]);
    assert_eq!(draft.flags.as_ref().unwrap()["example-flag-for-experiment"].flag_config_version, Some(12));

    let read = client
        .get_experiment(PROJECT, ENV, "example-experiment", Expand::DRAFT_ITERATION | Expand::TREATMENTS)
        .await
        .unwrap();
    assert_eq!(read.draft_iteration.as_ref().and_then(|d| d.id.clone()), draft.id);
    assert_eq!(read.draft_iteration.unwrap().treatments.map(|t| t.len()), Some(2));

    let started = client.start_iteration(PROJECT, ENV, "example-experiment", None).await.unwrap();
    let current = started.current_iteration.unwrap();
    assert_eq!(current.status, IterationStatus::Running);
    assert_eq!(current.id, draft.id);
    assert!(current.started_at.is_some());

    let winner = treatments[1].id.clone().unwrap();
    let stopped = client
        .stop_iteration(PROJECT, ENV, "example-experiment", &winner, Some("more conversions"))
        .await
        .unwrap();
    assert_eq!(stopped.current_iteration, None);
    let after =
        client.get_experiment(PROJECT, ENV, "example-experiment", Expand::PREVIOUS_ITERATIONS).await.unwrap();
    let previous = after.previous_iterations.unwrap();
    assert_eq!(previous.len(), 1);
    assert_eq!(previous[0].status, IterationStatus::Stopped);
    assert_eq!(previous[0].winning_treatment_id.as_deref(), Some(winner.as_str()));
    assert_eq!(previous[0].winning_reason.as_deref(), Some("more conversions"));

    let archived = client.archive_experiment(PROJECT, ENV, "example-experiment").await.unwrap();
    assert!(archived.archived_date.is_some());
    let error = client.create_iteration(PROJECT, ENV, "example-experiment", &demo_input()).await.unwrap_err();
    let Error::InvalidRequest { errors, .. } = &error else { panic!("got {error:?}") };
    assert_eq!(errors.iter().map(|e| e.code.as_deref()).collect::<Vec<_>>(), [Some("experiment_archived")]);
    let restored = client.restore_experiment(PROJECT, ENV, "example-experiment").await.unwrap();
    assert_eq!(restored.archived_date, None);
}

#[tokio::test]
async fn experiments_are_created_listed_and_paged() {
    let demo = Demo::start(RateLimits::OFF).await;
    let client = demo.client();
    let post = ExperimentPost::from_json(
        &json!({"name": "Checkout test", "key": "checkout-test", "iteration": demo_body()}),
    )
    .unwrap();
    let created = client.create_experiment(PROJECT, ENV, &post).await.unwrap();
    assert_eq!(created.key, "checkout-test");
    assert_eq!(created.environment_key, ENV);

    let again = client.create_experiment(PROJECT, ENV, &post).await.unwrap_err();
    assert!(matches!(again, Error::Conflict { kind: ConflictKind::KeyExists, .. }), "got {again:?}");
    assert_eq!(again.details().and_then(|d| d.code.as_deref()), Some("key_exists"));

    let active = client.list_experiments(PROJECT, ENV, &ListParams::default()).await.unwrap();
    let keys: Vec<&str> = active.items.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["example-experiment", "example-bandit", "checkout-test"]);
    assert_eq!(active.total_count, Some(3));

    let params = ListParams { lifecycle_state: Some(LifecycleState::Archived), ..ListParams::default() };
    let archived = client.list_project_experiments(PROJECT, &params).await.unwrap();
    assert_eq!(archived.items.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["retired-experiment"]);

    let filtered = ListParams {
        filter: ExperimentFilter {
            flag_key: Some("example-flag-for-experiment".into()),
            ..ExperimentFilter::default()
        },
        ..ListParams::default()
    };
    let using_flag = client.list_experiments(PROJECT, ENV, &filtered).await.unwrap();
    assert_eq!(using_flag.items.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["checkout-test"]);

    let one_by_one =
        ListParams { limit: Some(1), lifecycle_state: Some(LifecycleState::All), ..ListParams::default() };
    let mut pages = client.experiments(PROJECT, Some(ENV), one_by_one).pages();
    let mut walked = Vec::new();
    while let Some(page) = pages.next().await.unwrap() {
        assert_eq!(page.items.len(), 1);
        walked.push(page.items[0].key.clone());
    }
    assert_eq!(walked, ["example-experiment", "example-bandit", "retired-experiment", "checkout-test"]);
}

#[tokio::test]
async fn each_error_class_comes_back_as_its_variant() {
    let demo = Demo::start(RateLimits::OFF).await;
    let client = demo.client();

    // Local validation: every problem, nothing sent.
    let mut body = demo_body();
    body["treatments"][0]["allocationPercent"] = json!("40");
    let input = IterationInput::from_json(&body).unwrap();
    let error = client.create_iteration(PROJECT, ENV, "example-experiment", &input).await.unwrap_err();
    let Error::Validation(violations) = &error else { panic!("got {error:?}") };
    assert_eq!(violations.iter().map(|v| v.code.clone()).collect::<Vec<_>>(), [ViolationCode::AllocationSum]);

    // The server's own checks: every reason, each with its path.
    let unchecked = demo.builder(WRITER).validate_before_send(false).build().unwrap();
    let error = unchecked.create_iteration(PROJECT, ENV, "example-experiment", &input).await.unwrap_err();
    let Error::InvalidRequest { details, errors } = &error else { panic!("got {error:?}") };
    assert_eq!(details.status.as_u16(), 400);
    assert_eq!(details.code.as_deref(), Some("invalid_request"));
    assert!(details.id.is_some());
    assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["/treatments"]);

    let mut unknown_flag = demo_body();
    unknown_flag["metrics"][0]["key"] = json!("no-such-metric");
    unknown_flag["primarySingleMetricKey"] = json!("no-such-metric");
    let input = IterationInput::from_json(&unknown_flag).unwrap();
    let error = client.create_iteration(PROJECT, ENV, "example-experiment", &input).await.unwrap_err();
    let Error::InvalidRequest { errors, .. } = &error else { panic!("got {error:?}") };
    assert!(errors.iter().any(|e| e.path == "/metrics/0/key"), "{errors:?}");

    let stale = {
        let mut body = demo_body();
        body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(11);
        IterationInput::from_json(&body).unwrap()
    };
    let error = client.create_iteration(PROJECT, ENV, "example-experiment", &stale).await.unwrap_err();
    let Error::Conflict { kind, details } = &error else { panic!("got {error:?}") };
    assert_eq!(*kind, ConflictKind::OptimisticLock);
    assert_eq!(details.code.as_deref(), Some("optimistic_locking_error"));

    let error = client.get_experiment(PROJECT, ENV, "no-such-experiment", Expand::NONE).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "got {error:?}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));

    let stranger = demo.builder("api-nobody").build().unwrap();
    let error = stranger.get_experiment(PROJECT, ENV, "example-experiment", Expand::NONE).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized(_)), "got {error:?}");
    assert_eq!(error.details().and_then(|d| d.code.as_deref()), Some("unauthorized"));

    let reader = demo.builder(READER).build().unwrap();
    reader.get_experiment(PROJECT, ENV, "example-experiment", Expand::NONE).await.unwrap();
    let error = reader.archive_experiment(PROJECT, ENV, "example-experiment").await.unwrap_err();
    assert!(matches!(error, Error::Forbidden(_)), "got {error:?}");
    assert_eq!(error.details().and_then(|d| d.code.as_deref()), Some("forbidden"));
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_its_figures() {
    let demo = Demo::start(RateLimits { route: Some(1), ..RateLimits::OFF }).await;
    let client = demo.builder(WRITER).retry_policy(RetryPolicy::never()).build().unwrap();
    client.get_experiment(PROJECT, ENV, "example-experiment", Expand::NONE).await.unwrap();
    let error = client.get_experiment(PROJECT, ENV, "example-experiment", Expand::NONE).await.unwrap_err();
    let Error::RateLimited { details, rate_limit } = &error else { panic!("got {error:?}") };
    assert_eq!(details.code.as_deref(), Some("rate_limited"));
    assert_eq!(rate_limit.route_limit, Some(1));
    assert_eq!(rate_limit.route_remaining, Some(0));
    assert!(rate_limit.route_reset.is_some());
    assert!(rate_limit.retry_after.is_some());
    assert!(error.is_retryable());
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_failure() {
    let demo = Demo::start(RateLimits::OFF).await;
    let client = Client::builder()
        .base_url(BaseUrl::Custom(format!("https://127.0.0.1:{}", demo.handle.local_addr().port())))
        .token(WRITER)
        .build()
        .unwrap();
    let error = client.get_experiment(PROJECT, ENV, "example-experiment", Expand::NONE).await.unwrap_err();
    let Error::Transport(failure) = &error else { panic!("got {error:?}") };
    assert!(failure.is_tls());
    assert!(!error.request_may_have_been_sent());
    assert!(!error.is_retryable());
}
