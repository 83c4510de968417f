//! The model's hot paths, each beside a baseline measured in the same run.
//!
//! The machine is shared and noisy, so absolute times mean little; each
//! figure is read as a ratio to `baseline: parse into serde_json::Value`,
//! which parses the same bytes into an untyped tree. Parsing into
//! `IterationRep` should beat it: the typed reader allocates less.
//!
//! Run: `cargo bench -p iteration-model --bench model -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use iteration_model::IterationRep;
use serde_json::Value;

const DOCS_RESPONSE: &str = include_str!("../fixtures/docs/create-iteration.response.json");

/// The documentation page's response with five fields no version of the
/// model knows, at the top level and inside nested objects.
fn with_unknown_fields() -> Vec<u8> {
    let mut value: Value =
        serde_json::from_str(DOCS_RESPONSE).unwrap_or_else(|e| panic!("docs response: {e}"));
    value["experimentalScore"] = serde_json::json!(0.93);
    value["labels"] = serde_json::json!(["beta", "checkout"]);
    value["reviewer"] = serde_json::json!({"id": "12ab3c45de678910fgh12345", "name": "Ada"});
    value["primarySingleMetric"]["owner"] = serde_json::json!("growth-team");
    value["treatments"][0]["colour"] = serde_json::json!("#00ff00");
    serde_json::to_vec(&value).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_and_write(c: &mut Criterion) {
    let bytes = DOCS_RESPONSE.as_bytes();
    let unknown = with_unknown_fields();
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
    group.finish();

    // Keeping unknown fields costs a map entry each; the same bytes plus
    // five unknown fields, against the same baseline on those bytes.
    let mut group = c.benchmark_group("unknown_fields");
    group.throughput(Throughput::Bytes(unknown.len() as u64));
    group.bench_function("baseline: parse with 5 unknown fields into serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&unknown)).unwrap_or_else(|e| panic!("{e}")))
    });
    group.bench_function("parse with 5 unknown fields into IterationRep", |b| {
        b.iter(|| {
            serde_json::from_slice::<IterationRep>(black_box(&unknown)).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.finish();
}

// What `criterion_main!` expands to, written out because its
// `criterion_group!` defines an undocumented public function.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    parse_and_write(&mut criterion);
    criterion.final_summary();
}
