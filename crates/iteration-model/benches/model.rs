//! The model's hot paths, each beside a baseline measured in the same run.
//!
//! The machine is shared and noisy, so absolute times mean little; each
//! figure is read as a ratio to its group's `baseline: parse into
//! serde_json::Value`, which parses the same bytes into an untyped tree.
//! Parsing into `IterationRep` should beat it: the typed reader allocates
//! less.
//!
//! Run: `cargo bench -p iteration-model --bench model -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use iteration_model::{
    IterationInput, IterationRep, SequentialIds, UnixMillis, demo_catalog, demo_experiment, resolve_iteration,
};
use serde_json::Value;

const DOCS_RESPONSE: &str = include_str!("../fixtures/docs/create-iteration.response.json");
const DEMO_REQUEST: &str = include_str!("../fixtures/demo/valid-request.json");

/// The documentation page's response written compactly, without and with
/// five fields no version of the model knows (at the top level and inside
/// nested objects), so that the two differ only by those fields.
fn without_and_with_unknown_fields() -> (Vec<u8>, Vec<u8>) {
    let mut value: Value =
        serde_json::from_str(DOCS_RESPONSE).unwrap_or_else(|e| panic!("docs response: {e}"));
    let without = serde_json::to_vec(&value).unwrap_or_else(|e| panic!("{e}"));
    value["experimentalScore"] = serde_json::json!(0.93);
    value["labels"] = serde_json::json!(["beta", "checkout"]);
    value["reviewer"] = serde_json::json!({"id": "12ab3c45de678910fgh12345", "name": "Ada"});
    value["primarySingleMetric"]["owner"] = serde_json::json!("growth-team");
    value["treatments"][0]["colour"] = serde_json::json!("#00ff00");
    (without, serde_json::to_vec(&value).unwrap_or_else(|e| panic!("{e}")))
}

fn parse_and_write(c: &mut Criterion) {
    let bytes = DOCS_RESPONSE.as_bytes();
    let rep: IterationRep = serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("docs response: {e}"));

    let mut group = c.benchmark_group("iteration_rep");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("baseline: parse into serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(bytes)).unwrap_or_else(|e| panic!("{e}")))
    });
    group.bench_function("parse into IterationRep", |b| {
        b.iter(|| serde_json::from_slice::<IterationRep>(black_box(bytes)).unwrap_or_else(|e| panic!("{e}")))
    });
    group.bench_function("write IterationRep", |b| {
        b.iter(|| serde_json::to_vec(black_box(&rep)).unwrap_or_else(|e| panic!("{e}")))
    });
    group.bench_function("write IterationRep directly (WriteJson)", |b| {
        b.iter(|| iteration_model::to_json_vec(black_box(&rep)))
    });
    group.finish();

    // Keeping unknown fields costs a map entry each: the same compact
    // bytes without and with five unknown fields.
    let (without, with) = without_and_with_unknown_fields();
    let mut group = c.benchmark_group("unknown_fields");
    group.bench_function("baseline: parse into serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&without)).unwrap_or_else(|e| panic!("{e}")))
    });
    group.bench_function("parse compact, no unknown fields, into IterationRep", |b| {
        b.iter(|| {
            serde_json::from_slice::<IterationRep>(black_box(&without)).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.bench_function("parse compact, 5 unknown fields, into IterationRep", |b| {
        b.iter(|| serde_json::from_slice::<IterationRep>(black_box(&with)).unwrap_or_else(|e| panic!("{e}")))
    });
    group.finish();
}

fn validate_and_resolve(c: &mut Criterion) {
    let value: Value = serde_json::from_str(DEMO_REQUEST).unwrap_or_else(|e| panic!("demo request: {e}"));
    let input = IterationInput::from_json(&value).unwrap_or_else(|v| panic!("demo request: {v}"));
    let catalog = demo_catalog("production");
    let experiment = demo_experiment("example-experiment");
    let now = UnixMillis(1700000000000);

    let mut group = c.benchmark_group("demo_request");
    group.bench_function("baseline: parse into serde_json::Value", |b| {
        b.iter(|| {
            serde_json::from_slice::<Value>(black_box(DEMO_REQUEST.as_bytes()))
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    // What the server does with a body: read it directly when it is well formed.
    group.bench_function("read IterationInput from bytes", |b| {
        b.iter(|| {
            IterationInput::from_slice(black_box(DEMO_REQUEST.as_bytes())).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    // The path of a body with problems, which must find all of them.
    group.bench_function("read IterationInput through serde_json::Value", |b| {
        b.iter(|| {
            let value: Value =
                serde_json::from_slice(black_box(DEMO_REQUEST.as_bytes())).unwrap_or_else(|e| panic!("{e}"));
            IterationInput::from_json(&value).unwrap_or_else(|v| panic!("{v}"))
        })
    });
    group.bench_function("validate", |b| b.iter(|| black_box(&input).validate()));
    group.bench_function("resolve_iteration", |b| {
        b.iter(|| {
            resolve_iteration(&catalog, &experiment, black_box(&input), now, &mut SequentialIds::new(1))
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.finish();
}

// What `criterion_main!` expands to, written out because its
// `criterion_group!` defines an undocumented public function.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    parse_and_write(&mut criterion);
    validate_and_resolve(&mut criterion);
    criterion.final_summary();
}
