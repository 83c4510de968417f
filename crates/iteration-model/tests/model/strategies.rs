//! proptest strategies for every wire type, shared by every property test
//! (and so by `cargo xtask proptest`, which runs them with more cases).
//!
//! Representations come with unknown fields (`extra`) and unknown enum
//! values, because keeping those is what their round trip must prove.
//! JSON numbers inside free-form values are integers: a float's text round
//! trip is exact in serde_json only with a feature this workspace does not
//! enable, and free-form values are carried, never computed on.

use std::collections::BTreeMap;

use iteration_model::{
    AllocationPercent, AnalysisConfigInput, AnalysisConfigRep, AnalysisType, CatalogFlag, Clause,
    ClientSideAvailability, CovariateInfoRep, CustomProperty, DataSource, DependentMetricGroupRepWithMetrics,
    DependentMetricOrMetricGroupRep, EnvironmentName, ErrorRep, Experiment, ExperimentCollectionRep,
    ExperimentContext, ExperimentPatchInput, ExperimentPost, ExperimentType, FeatureFlagBody, FieldErrorRep,
    FieldOperation, FieldUpdate, FlagDefaults, FlagInput, FlagInstruction, FlagPatch, FlagRep, FlagVariation,
    Instruction, IterationInput, IterationRep, IterationStatus, JsonPatch, JsonPointer, Layer,
    LayerEnvironment, LayerInstruction, LayerPatch, LayerSnapshotRep, Link, Links, Methodology,
    MetricInGroupRep, MetricInput, MetricKind, MetricV2Rep, MultipleComparisonCorrectionMethod,
    MultipleComparisonCorrectionScope, ParameterRep, PatchForm, PatchOperation, ProjectCatalog, Rollout,
    SharedList, Text, TreatmentInput, TreatmentParameterInput, TreatmentRep, UnitAggregationType, UnixMillis,
    WeightedVariation, demo_catalog, demo_experiment,
};
use proptest::collection::{btree_map, vec};
use proptest::option::of as maybe;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// How many cases each property runs: `PROPTEST_CASES`, else 64, so that
/// plain `cargo test` stays quick and `cargo xtask proptest` goes deep.
pub(crate) fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64);
    ProptestConfig {
        cases,
        // Relative to the crate directory, where cargo runs the tests.
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(
            "proptest-regressions/model.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Short free text, any Unicode.
pub(crate) fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

/// A key as the API accepts it.
pub(crate) fn key() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._-]{1,16}"
}

/// [`text`] as a [`Text`].
pub(crate) fn shared_text() -> impl Strategy<Value = Text> {
    text().prop_map(Text::from)
}

/// [`key`] as a [`Text`].
pub(crate) fn shared_key() -> impl Strategy<Value = Text> {
    key().prop_map(Text::from)
}

/// Any timestamp, including negative ones.
pub(crate) fn millis() -> impl Strategy<Value = UnixMillis> {
    any::<i64>().prop_map(UnixMillis)
}

/// An allocation's canonical text: `0` to `100` with 0 to 4 decimals.
pub(crate) fn allocation_text() -> impl Strategy<Value = String> {
    (0u32..=100, 0usize..=4, 0u32..10_000).prop_map(|(whole, decimals, fraction)| {
        let fraction = if whole == 100 { 0 } else { fraction };
        if decimals == 0 {
            whole.to_string()
        } else {
            let digits = format!("{fraction:04}");
            format!("{whole}.{}", &digits[..decimals])
        }
    })
}

/// Any valid allocation.
pub(crate) fn allocation() -> impl Strategy<Value = AllocationPercent> {
    allocation_text()
        .prop_map(|text| AllocationPercent::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

/// A JSON value without floats (see the module comment), nested a little.
pub(crate) fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Any JSON at all, floats included: for "never panics" properties.
pub(crate) fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        json_value(),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(prop_oneof![text(), key()], inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Fields no version of the model knows: names start with `zz`, which no
/// field of the spec does.
pub(crate) fn extra() -> impl Strategy<Value = Map<String, Value>> {
    btree_map("zz[A-Za-z0-9_]{0,8}", json_value(), 0..3).prop_map(|m| m.into_iter().collect())
}

/// Any value of a string enum: a known one, or an unknown one kept as `Other`.
macro_rules! wire_enum_strategy {
    ($name:ident, $ty:ty) => {
        pub(crate) fn $name() -> impl Strategy<Value = $ty> {
            prop_oneof![
                3 => proptest::sample::select(<$ty>::KNOWN.to_vec()),
                1 => "[a-z_-]{0,10}".prop_filter_map("a known value", |s| {
                    let value = <$ty>::from(s.as_str());
                    (!value.is_known()).then_some(value)
                }),
            ]
        }
    };
}

wire_enum_strategy!(iteration_status, IterationStatus);
wire_enum_strategy!(metric_kind, MetricKind);
wire_enum_strategy!(unit_aggregation_type, UnitAggregationType);
wire_enum_strategy!(experiment_type, ExperimentType);
wire_enum_strategy!(methodology, Methodology);
wire_enum_strategy!(data_source, DataSource);
wire_enum_strategy!(correction_method, MultipleComparisonCorrectionMethod);
wire_enum_strategy!(correction_scope, MultipleComparisonCorrectionScope);
wire_enum_strategy!(field_operation, FieldOperation);

pub(crate) fn link() -> impl Strategy<Value = Link> {
    (maybe(shared_text()), maybe(shared_text()), extra()).prop_map(|(href, r#type, extra)| Link {
        href,
        r#type,
        extra,
    })
}

pub(crate) fn links() -> impl Strategy<Value = Links> {
    btree_map(prop_oneof![Just("self".to_owned()), Just("parent".to_owned()), key()], link(), 0..3)
        .prop_map(Links::from)
}

pub(crate) fn metric_v2_rep() -> BoxedStrategy<MetricV2Rep> {
    (
        (shared_key(), maybe(shared_text()), shared_text(), metric_kind(), maybe(any::<bool>())),
        (maybe(unit_aggregation_type()), maybe(shared_key()), links(), extra()),
        (maybe(analysis_type()), maybe(shared_key())),
    )
        .prop_map(
            |(
                (key, version_id, name, kind, is_numeric),
                (unit_aggregation_type, event_key, links, extra),
                (analysis_type, analysis_unit),
            )| {
                MetricV2Rep {
                    key,
                    version_id,
                    name,
                    kind,
                    is_numeric,
                    unit_aggregation_type,
                    event_key,
                    analysis_type,
                    analysis_unit,
                    links,
                    extra,
                }
            },
        )
        .boxed()
}

/// How a metric is analysed: a known value or one this model does not know.
fn analysis_type() -> impl Strategy<Value = AnalysisType> {
    prop_oneof![
        Just(AnalysisType::Mean),
        Just(AnalysisType::Percentile),
        "[a-z]{1,8}".prop_map(|s| AnalysisType::from(s.as_str()))
    ]
}

pub(crate) fn metric_in_group_rep() -> BoxedStrategy<MetricInGroupRep> {
    (metric_v2_rep(), maybe(shared_text()), maybe(vec(shared_key(), 0..3)), maybe(vec(shared_key(), 0..3)))
        .prop_map(|(m, name_in_group, randomization_units, analysis_units)| MetricInGroupRep {
            key: m.key,
            version_id: m.version_id,
            name: m.name,
            kind: m.kind,
            is_numeric: m.is_numeric,
            unit_aggregation_type: m.unit_aggregation_type,
            event_key: m.event_key,
            links: m.links,
            name_in_group,
            randomization_units,
            analysis_type: m.analysis_type,
            analysis_units,
            analysis_unit: m.analysis_unit,
            extra: m.extra,
        })
        .boxed()
}

pub(crate) fn dependent_metric_rep() -> BoxedStrategy<DependentMetricOrMetricGroupRep> {
    (
        (shared_key(), shared_text(), shared_text(), metric_kind(), maybe(any::<bool>())),
        (maybe(shared_key()), links(), any::<bool>(), maybe(vec(metric_in_group_rep(), 0..3)), extra()),
        (maybe(analysis_type()), maybe(shared_key())),
    )
        .prop_map(
            |(
                (key, version_id, name, kind, is_numeric),
                (event_key, links, is_group, metrics, extra),
                (analysis_type, analysis_unit),
            )| {
                DependentMetricOrMetricGroupRep {
                    key,
                    version_id,
                    name,
                    kind,
                    is_numeric,
                    event_key,
                    links,
                    is_group,
                    metrics,
                    analysis_type,
                    analysis_unit,
                    extra,
                }
            },
        )
        .boxed()
}

pub(crate) fn group_with_metrics() -> BoxedStrategy<DependentMetricGroupRepWithMetrics> {
    (shared_key(), shared_text(), metric_kind(), links(), maybe(vec(metric_in_group_rep(), 0..3)), extra())
        .prop_map(|(key, name, kind, links, metrics, extra)| DependentMetricGroupRepWithMetrics {
            key,
            name,
            kind,
            links,
            metrics,
            extra,
        })
        .boxed()
}

pub(crate) fn parameter_rep() -> impl Strategy<Value = ParameterRep> {
    (maybe(text()), maybe(key()), extra()).prop_map(|(variation_id, flag_key, extra)| ParameterRep {
        variation_id,
        flag_key,
        extra,
    })
}

pub(crate) fn treatment_rep() -> BoxedStrategy<TreatmentRep> {
    (
        maybe(text()),
        text(),
        prop_oneof![allocation_text(), text()],
        maybe(any::<bool>()),
        maybe(vec(parameter_rep(), 0..3)),
        extra(),
    )
        .prop_map(|(id, name, allocation_percent, baseline, parameters, extra)| TreatmentRep {
            id,
            name,
            allocation_percent,
            baseline,
            parameters,
            extra,
        })
        .boxed()
}

pub(crate) fn flag_rep() -> BoxedStrategy<FlagRep> {
    (
        maybe(shared_text()),
        maybe(shared_text()),
        maybe(vec(json_value(), 0..3).prop_map(SharedList::from)),
        maybe(any::<i64>()),
        maybe(shared_text()),
        links(),
        extra(),
    )
        .prop_map(
            |(
                targeting_rule,
                targeting_rule_description,
                targeting_rule_clauses,
                flag_config_version,
                not_in_experiment_variation_id,
                links,
                extra,
            )| FlagRep {
                targeting_rule,
                targeting_rule_description,
                targeting_rule_clauses,
                flag_config_version,
                not_in_experiment_variation_id,
                links,
                extra,
            },
        )
        .boxed()
}

pub(crate) fn layer_snapshot() -> impl Strategy<Value = LayerSnapshotRep> {
    (key(), text(), any::<i64>(), any::<i64>(), extra()).prop_map(
        |(key, name, reservation_percent, other_reservation_percent, extra)| LayerSnapshotRep {
            key,
            name,
            reservation_percent,
            other_reservation_percent,
            extra,
        },
    )
}

pub(crate) fn covariate_info() -> impl Strategy<Value = CovariateInfoRep> {
    (text(), text(), millis(), extra()).prop_map(|(id, file_name, created_at, extra)| CovariateInfoRep {
        id,
        file_name,
        created_at,
        extra,
    })
}

pub(crate) fn iteration_rep() -> BoxedStrategy<IterationRep> {
    let head = (
        (maybe(text()), text(), iteration_status(), millis(), maybe(millis()), maybe(millis())),
        (maybe(text()), maybe(text()), maybe(any::<bool>()), maybe(btree_map(key(), flag_rep(), 0..3))),
        (maybe(any::<i64>()), maybe(any::<i64>()), maybe(key()), maybe(vec(text(), 0..4))),
    );
    let metrics = (
        maybe(dependent_metric_rep()),
        maybe(metric_v2_rep()),
        maybe(group_with_metrics()),
        maybe(vec(treatment_rep(), 0..4)),
        maybe(vec(metric_v2_rep(), 0..3)),
        maybe(vec(dependent_metric_rep(), 0..3)),
        maybe(layer_snapshot()),
        maybe(covariate_info()),
        extra(),
    );
    (head, metrics)
        .prop_map(
            |(
                (
                    (id, hypothesis, status, created_at, started_at, ended_at),
                    (winning_treatment_id, winning_reason, can_reshuffle_traffic, flags),
                    (reallocation_frequency_millis, version, randomization_unit, attributes),
                ),
                (
                    primary_metric,
                    primary_single_metric,
                    primary_funnel,
                    treatments,
                    secondary_metrics,
                    metrics,
                    layer_snapshot,
                    covariate_info,
                    extra,
                ),
            )| IterationRep {
                id,
                hypothesis,
                status,
                created_at,
                started_at,
                ended_at,
                winning_treatment_id,
                winning_reason,
                can_reshuffle_traffic,
                flags,
                reallocation_frequency_millis,
                version,
                primary_metric,
                primary_single_metric,
                primary_funnel,
                randomization_unit,
                attributes,
                treatments,
                secondary_metrics,
                metrics,
                layer_snapshot,
                covariate_info,
                extra,
            },
        )
        .boxed()
}

pub(crate) fn analysis_config_rep() -> BoxedStrategy<AnalysisConfigRep> {
    (
        maybe(text()),
        maybe(text()),
        maybe(text()),
        maybe(correction_method()),
        maybe(correction_scope()),
        maybe(any::<bool>()),
        extra(),
    )
        .prop_map(|(bayesian, significance, direction, method, scope, sequential, extra)| AnalysisConfigRep {
            bayesian_threshold: bayesian,
            significance_threshold: significance,
            test_direction: direction,
            multiple_comparison_correction_method: method,
            multiple_comparison_correction_scope: scope,
            sequential_testing_enabled: sequential,
            extra,
        })
        .boxed()
}

pub(crate) fn experiment() -> BoxedStrategy<Experiment> {
    let head = (
        (maybe(text()), key(), text(), maybe(text()), text(), millis(), key()),
        (maybe(methodology()), maybe(data_source()), maybe(millis()), maybe(vec(text(), 0..3)), links()),
    );
    let tail = (
        maybe(text()),
        maybe(iteration_rep()),
        maybe(experiment_type()),
        maybe(iteration_rep()),
        maybe(vec(iteration_rep(), 0..2)),
        maybe(analysis_config_rep()),
        extra(),
    );
    (head, tail)
        .prop_map(
            |(
                (
                    (id, key, name, description, maintainer_id, creation_date, environment_key),
                    (methodology, data_source, archived_date, tags, links),
                ),
                (
                    holdout_id,
                    current_iteration,
                    r#type,
                    draft_iteration,
                    previous_iterations,
                    analysis_config,
                    extra,
                ),
            )| Experiment {
                id,
                key,
                name,
                description,
                maintainer_id,
                creation_date,
                environment_key,
                methodology,
                data_source,
                archived_date,
                tags,
                links,
                holdout_id,
                current_iteration,
                r#type,
                draft_iteration,
                previous_iterations,
                analysis_config,
                mutable_fields_by_status: None,
                access: None,
                extra,
            },
        )
        .boxed()
}

pub(crate) fn experiment_collection() -> BoxedStrategy<ExperimentCollectionRep> {
    (vec(experiment(), 0..2), maybe(any::<i64>()), maybe(links()), extra())
        .prop_map(|(items, total_count, links, extra)| ExperimentCollectionRep {
            items,
            total_count,
            links,
            extra,
        })
        .boxed()
}

pub(crate) fn error_rep() -> impl Strategy<Value = ErrorRep> {
    let field_error = (text(), text(), maybe(key())).prop_map(|(path, message, code)| FieldErrorRep {
        path,
        message,
        code,
    });
    (key(), text(), maybe(text()), maybe(vec(field_error, 0..3)), extra())
        .prop_map(|(code, message, id, errors, extra)| ErrorRep { code, message, id, errors, extra })
}

pub(crate) fn metric_input() -> impl Strategy<Value = MetricInput> {
    (text(), maybe(any::<bool>()), maybe(any::<bool>())).prop_map(|(key, is_group, primary)| MetricInput {
        key,
        is_group,
        primary,
    })
}

pub(crate) fn treatment_input() -> impl Strategy<Value = TreatmentInput> {
    let parameter = (text(), text())
        .prop_map(|(flag_key, variation_id)| TreatmentParameterInput { flag_key, variation_id });
    (text(), any::<bool>(), allocation(), vec(parameter, 0..3)).prop_map(
        |(name, baseline, allocation_percent, parameters)| TreatmentInput {
            name,
            baseline,
            allocation_percent,
            parameters,
        },
    )
}

pub(crate) fn flag_input() -> impl Strategy<Value = FlagInput> {
    (text(), any::<i64>(), maybe(text())).prop_map(
        |(rule_id, flag_config_version, not_in_experiment_variation_id)| FlagInput {
            rule_id,
            flag_config_version,
            not_in_experiment_variation_id,
        },
    )
}

/// Any input, valid or not: every field of every type, free text included.
pub(crate) fn iteration_input() -> BoxedStrategy<IterationInput> {
    (
        (text(), maybe(any::<bool>()), vec(metric_input(), 0..3), maybe(text()), maybe(text())),
        (vec(treatment_input(), 0..4), btree_map(text(), flag_input(), 0..3), maybe(text())),
        (maybe(any::<i64>()), maybe(text()), maybe(vec(text(), 0..6))),
    )
        .prop_map(
            |(
                (hypothesis, can_reshuffle_traffic, metrics, primary_single_metric_key, primary_funnel_key),
                (treatments, flags, randomization_unit),
                (reallocation_frequency_millis, covariate_id, attributes),
            )| IterationInput {
                hypothesis,
                can_reshuffle_traffic,
                metrics,
                primary_single_metric_key,
                primary_funnel_key,
                treatments,
                flags,
                randomization_unit,
                reallocation_frequency_millis,
                covariate_id,
                attributes,
            },
        )
        .boxed()
}

/// The bytes of a create-iteration body, valid or not, shaped to reach
/// every way the direct reader of `IterationInput::from_slice` can differ
/// from the collecting one: valid inputs, compact and pretty; one node
/// replaced by any JSON (a field mistyped, `null`, removed from a list's
/// shape); a field removed; unknown fields; a field repeated; `flags` as a
/// string holding the object, as the API's documentation sends it; and
/// bytes cut short.
pub(crate) fn iteration_input_body() -> BoxedStrategy<Vec<u8>> {
    let value = iteration_input().prop_map(|input| serde_json::to_value(&input).unwrap_or(Value::Null));
    let field = prop_oneof![
        Just("hypothesis"),
        Just("metrics"),
        Just("treatments"),
        Just("flags"),
        Just("canReshuffleTraffic"),
        Just("reallocationFrequencyMillis"),
        Just("attributes"),
    ];
    let compact = |value: &Value| serde_json::to_vec(value).unwrap_or_default();
    prop_oneof![
        value.clone().prop_map(move |v| compact(&v)),
        value.clone().prop_map(|v| serde_json::to_vec_pretty(&v).unwrap_or_default()),
        (value.clone(), any::<prop::sample::Index>(), any_json()).prop_map(
            move |(mut v, at, replacement)| {
                crate::proptests::replace_node(&mut v, at, replacement);
                compact(&v)
            }
        ),
        (value.clone(), field.clone()).prop_map(move |(mut v, field)| {
            if let Some(object) = v.as_object_mut() {
                object.remove(field);
            }
            compact(&v)
        }),
        (value.clone(), extra()).prop_map(move |(mut v, extra)| {
            if let Some(object) = v.as_object_mut() {
                object.extend(extra);
            }
            compact(&v)
        }),
        (value.clone(), field, json_value()).prop_map(move |(v, field, first)| {
            // serde_json::Value cannot hold a repeated key: write it in front.
            let text = String::from_utf8(compact(&v)).unwrap_or_default();
            let repeated = format!("{{\"{field}\":{first},");
            match text.strip_prefix('{') {
                Some(rest) if rest != "}" => format!("{repeated}{rest}").into_bytes(),
                _ => text.into_bytes(),
            }
        }),
        value.clone().prop_map(move |mut v| {
            let flags = v.get("flags").map(|f| f.to_string()).unwrap_or_default();
            v["flags"] = Value::String(flags);
            compact(&v)
        }),
        (value, any::<prop::sample::Index>()).prop_map(move |(v, at)| {
            let mut bytes = compact(&v);
            bytes.truncate(at.index(bytes.len().max(1)));
            bytes
        }),
    ]
    .boxed()
}

pub(crate) fn experiment_post() -> BoxedStrategy<ExperimentPost> {
    let analysis = (
        maybe(text()),
        maybe(text()),
        maybe(text()),
        maybe(correction_method()),
        maybe(correction_scope()),
        maybe(any::<bool>()),
    )
        .prop_map(|(bayesian, significance, direction, method, scope, sequential)| AnalysisConfigInput {
            bayesian_threshold: bayesian,
            significance_threshold: significance,
            test_direction: direction,
            multiple_comparison_correction_method: method,
            multiple_comparison_correction_scope: scope,
            sequential_testing_enabled: sequential,
        });
    (
        (text(), maybe(text()), maybe(text()), key(), iteration_input()),
        (maybe(text()), maybe(vec(text(), 0..3)), maybe(methodology()), maybe(analysis)),
        (maybe(data_source()), maybe(experiment_type())),
    )
        .prop_map(
            |(
                (name, description, maintainer_id, key, iteration),
                (holdout_id, tags, methodology, analysis_config),
                (data_source, r#type),
            )| ExperimentPost {
                name,
                description,
                maintainer_id,
                key,
                iteration,
                holdout_id,
                tags,
                methodology,
                analysis_config,
                data_source,
                r#type,
            },
        )
        .boxed()
}

/// A JSON value that is not `null`: an optional field set to `null` reads
/// as absent, so `Some(null)` has no round trip by design.
fn present_json() -> impl Strategy<Value = Value> {
    json_value().prop_filter("not null", |v| !v.is_null())
}

pub(crate) fn field_updates() -> impl Strategy<Value = BTreeMap<String, FieldUpdate>> {
    let update = (field_operation(), maybe(present_json()))
        .prop_map(|(operation, value)| FieldUpdate { operation, value });
    btree_map(key(), update, 0..3)
}

pub(crate) fn instruction() -> impl Strategy<Value = Instruction> {
    prop_oneof![
        text().prop_map(|value| Instruction::UpdateName { value }),
        text().prop_map(|value| Instruction::UpdateDescription { value }),
        maybe(text()).prop_map(|change_justification| Instruction::StartIteration { change_justification }),
        (text(), maybe(text())).prop_map(|(winning_treatment_id, winning_reason)| {
            Instruction::StopIteration { winning_treatment_id, winning_reason }
        }),
        Just(Instruction::ArchiveExperiment),
        Just(Instruction::RestoreExperiment),
        field_updates().prop_map(|value| Instruction::UpdateExperimentFields { value }),
        (maybe(text()), maybe(field_updates())).prop_map(|(change_justification, value)| {
            Instruction::SaveAndStartNewIteration { change_justification, value }
        }),
        ("zz[a-zA-Z]{0,8}", btree_map("[a-z]{1,6}", json_value(), 0..3)).prop_map(|(kind, fields)| {
            let mut map: Map<String, Value> = fields.into_iter().collect();
            map.insert("kind".to_owned(), Value::String(kind));
            Instruction::Other(map)
        }),
    ]
}

pub(crate) fn patch() -> impl Strategy<Value = ExperimentPatchInput> {
    (maybe(text()), vec(instruction(), 0..4))
        .prop_map(|(comment, instructions)| ExperimentPatchInput { comment, instructions })
}

/// A member name or array index for JSON Patch properties: mostly from a
/// few names that [`patch_document`] uses, so that paths often exist, with
/// the tokens that need escaping, `-`, a leading zero and any text.
pub(crate) fn pointer_token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(vec!["a", "b", "0", "1", "2", "-", "", "~", "/", "01", "~1"])
            .prop_map(str::to_owned),
        1 => text(),
    ]
}

/// A JSON Pointer of up to four tokens.
pub(crate) fn json_pointer() -> impl Strategy<Value = JsonPointer> {
    vec(pointer_token(), 0..4).prop_map(|tokens| tokens.iter().fold(JsonPointer::root(), |p, t| p.join(t)))
}

/// A document whose member names are the ones [`pointer_token`] favours,
/// with small arrays, so that patches find their paths; floats included.
pub(crate) fn patch_document() -> BoxedStrategy<Value> {
    let name = proptest::sample::select(vec!["a", "b", "", "~", "/", "~1"]).prop_map(str::to_owned);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::from),
        (-3i64..3).prop_map(|n| Value::from(n as f64)),
        "[ab]{0,2}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(name.clone(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Any JSON Patch operation, values without floats (see the module comment)
/// so that operations round trip.
pub(crate) fn patch_operation() -> impl Strategy<Value = PatchOperation> {
    prop_oneof![
        (json_pointer(), json_value()).prop_map(|(path, value)| PatchOperation::Add { path, value }),
        json_pointer().prop_map(|path| PatchOperation::Remove { path }),
        (json_pointer(), json_value()).prop_map(|(path, value)| PatchOperation::Replace { path, value }),
        (json_pointer(), json_pointer()).prop_map(|(from, path)| PatchOperation::Move { from, path }),
        (json_pointer(), json_pointer()).prop_map(|(from, path)| PatchOperation::Copy { from, path }),
        (json_pointer(), json_value()).prop_map(|(path, value)| PatchOperation::Test { path, value }),
    ]
}

/// A JSON Patch body of one to five operations in either form.
pub(crate) fn json_patch() -> impl Strategy<Value = JsonPatch> {
    let form = prop_oneof![
        Just(PatchForm::Array),
        maybe(text()).prop_map(|comment| PatchForm::WithComment { comment }),
    ];
    (vec(patch_operation(), 1..6), form).prop_map(|(operations, form)| JsonPatch { operations, form })
}

/// Every location in `doc` with its value, the whole document last.
fn locations(doc: &Value, at: JsonPointer, out: &mut Vec<(JsonPointer, Value)>) {
    match doc {
        Value::Object(members) => {
            for (name, value) in members {
                locations(value, at.join(name), out);
            }
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                locations(value, at.join(index), out);
            }
        }
        _ => {}
    }
    out.push((at, doc.clone()));
}

/// A document with a patch aimed at it: most paths name a location the
/// document has (or, for add, a new child of one), and most tests expect
/// the value found there, so that many patches apply in full rather than
/// failing at their first operation.
pub(crate) fn document_and_patch() -> impl Strategy<Value = (Value, JsonPatch)> {
    patch_document().prop_flat_map(|doc| {
        let mut found = Vec::new();
        locations(&doc, JsonPointer::root(), &mut found);
        let existing = proptest::sample::select(found);
        let place = prop_oneof![4 => existing.clone().prop_map(|(at, _)| at), 1 => json_pointer()].boxed();
        let child = (existing.clone(), pointer_token()).prop_map(|((at, _), token)| at.join(token));
        let new_place = prop_oneof![place.clone(), child].boxed();
        let test = prop_oneof![
            3 => existing.prop_map(|(path, value)| PatchOperation::Test { path, value }),
            1 => (place.clone(), patch_document()).prop_map(|(path, value)| PatchOperation::Test { path, value }),
        ];
        let operation = prop_oneof![
            (new_place.clone(), json_value()).prop_map(|(path, value)| PatchOperation::Add { path, value }),
            place.clone().prop_map(|path| PatchOperation::Remove { path }),
            (place.clone(), json_value()).prop_map(|(path, value)| PatchOperation::Replace { path, value }),
            (place.clone(), new_place.clone()).prop_map(|(from, path)| PatchOperation::Move { from, path }),
            (place, new_place).prop_map(|(from, path)| PatchOperation::Copy { from, path }),
            test,
        ];
        (Just(doc), vec(operation, 1..5).prop_map(JsonPatch::new))
    })
}

/// A request that is valid against the demo world by construction, with
/// the experiment it is for: metrics that support the randomization unit,
/// a primary of the right kind, flags that are not archived with their
/// current version and real rules and variations, distinct variations per
/// treatment, one baseline, and allocations that sum to exactly 100.
pub(crate) fn valid_request() -> BoxedStrategy<(ExperimentContext, IterationInput)> {
    let catalog = demo_catalog("production");
    let units: Vec<Option<String>> = std::iter::once(None)
        .chain(
            catalog.context_kinds.iter().filter(|k| k.enabled_for_experiments).map(|k| Some(k.key.clone())),
        )
        .collect();
    (proptest::sample::select(units), any::<bool>(), any::<prop::sample::Index>())
        .prop_flat_map(move |(unit, bandit, seed)| {
            let catalog = catalog.clone();
            let resolved_unit =
                unit.clone().unwrap_or_else(|| catalog.default_randomization_unit().to_owned());
            let supports = |key: &str| {
                catalog
                    .metrics
                    .get(key)
                    .is_some_and(|m| m.randomization_units.iter().any(|u| *u == resolved_unit))
            };
            let singles: Vec<String> = catalog.metrics.keys().filter(|k| supports(k)).cloned().collect();
            let groups: Vec<(String, bool)> = catalog
                .metric_groups
                .values()
                .filter(|g| g.members.iter().all(|m| supports(&m.key)))
                .map(|g| (g.key.to_string(), g.kind == MetricKind::Funnel))
                .collect();
            let mut metrics: Vec<MetricInput> = singles
                .iter()
                .map(|key| MetricInput { key: key.clone(), is_group: None, primary: None })
                .chain(groups.iter().map(|(key, _)| MetricInput {
                    key: key.clone(),
                    is_group: Some(true),
                    primary: None,
                }))
                .collect();
            // Rotate so that any metric may come first; the first eligible one is the primary.
            let shift = seed.index(metrics.len());
            metrics.rotate_left(shift);
            let flags: Vec<CatalogFlag> = catalog.flags.values().filter(|f| !f.archived).cloned().collect();
            let experiment = demo_experiment(if bandit { "example-bandit" } else { "example-experiment" });
            (
                Just((unit, experiment, catalog.covariates.keys().next().cloned(), groups)),
                proptest::sample::subsequence(metrics.clone(), 1..=metrics.len()),
                proptest::sample::subsequence(flags.clone(), 1..=flags.len()),
                0usize..=4,
                any::<bool>(),
                maybe(proptest::sample::subsequence(
                    vec!["country", "device", "os", "plan", "region", "tier"],
                    0..=5,
                )),
                any::<u64>(),
            )
        })
        .prop_map(
            |((unit, experiment, covariate, groups), metrics, flags, decimals, legacy, attributes, noise)| {
                build_valid(ValidParts {
                    unit,
                    experiment,
                    covariate,
                    groups,
                    metrics,
                    flags,
                    decimals,
                    legacy,
                    attributes,
                    noise,
                })
            },
        )
        .prop_filter("a primary metric exists among the chosen metrics", Option::is_some)
        .prop_map(|request| request.unwrap_or_else(|| unreachable!("filtered above")))
        .boxed()
}

struct ValidParts {
    unit: Option<String>,
    experiment: ExperimentContext,
    covariate: Option<String>,
    groups: Vec<(String, bool)>,
    metrics: Vec<MetricInput>,
    flags: Vec<CatalogFlag>,
    decimals: usize,
    legacy: bool,
    attributes: Option<Vec<&'static str>>,
    /// Randomness for the choices that depend on earlier ones.
    noise: u64,
}

fn build_valid(parts: ValidParts) -> Option<(ExperimentContext, IterationInput)> {
    let ValidParts {
        unit,
        experiment,
        covariate,
        groups,
        mut metrics,
        flags,
        decimals,
        legacy,
        attributes,
        noise,
    } = parts;
    let mut noise = noise;
    let mut roll = |n: usize| {
        let pick = (noise % n.max(1) as u64) as usize;
        noise = noise.rotate_right(7) ^ 0x9e37_79b9_7f4a_7c15;
        pick
    };
    let is_funnel = |key: &str| groups.iter().any(|(g, funnel)| g == key && *funnel);
    let is_group = |key: &str| groups.iter().any(|(g, _)| g == key);
    let primary = metrics.iter().position(|m| !is_group(&m.key) || is_funnel(&m.key))?;
    let primary_key = metrics[primary].key.clone();
    let (mut single_key, mut funnel_key) = (None, None);
    if is_group(&primary_key) {
        funnel_key = Some(primary_key);
    } else if legacy {
        metrics[primary].primary = Some(true);
    } else {
        single_key = Some(primary_key);
    }

    let count = flags.iter().map(|f| f.variations.len()).min().unwrap_or(0).clamp(2, 3);
    let count = 2 + roll(count - 1);
    let mut treatments: Vec<TreatmentInput> = (0..count)
        .map(|i| TreatmentInput {
            name: format!("Treatment {i}"),
            baseline: false,
            allocation_percent: AllocationPercent::ZERO,
            parameters: Vec::new(),
        })
        .collect();
    let mut flag_inputs = BTreeMap::new();
    for flag in &flags {
        let mut variations: Vec<&str> = flag.variations.iter().map(|v| v.id.as_str()).collect();
        let rotate = roll(variations.len());
        variations.rotate_left(rotate);
        for (treatment, variation) in treatments.iter_mut().zip(&variations) {
            treatment.parameters.push(TreatmentParameterInput {
                flag_key: flag.key.clone(),
                variation_id: (*variation).to_owned(),
            });
        }
        let rule = roll(flag.rules.len() + 1);
        let rule_id = flag.rules.get(rule).map_or_else(|| "fallthrough".to_owned(), |r| r.id.to_string());
        let outside = roll(flag.variations.len() + 1);
        flag_inputs.insert(
            flag.key.clone(),
            FlagInput {
                rule_id,
                flag_config_version: flag.version,
                not_in_experiment_variation_id: flag.variations.get(outside).map(|v| v.id.to_string()),
            },
        );
    }
    // Cut 100 into `count` parts on a grid of `decimals` decimal places.
    let step = 10u32.pow(4 - decimals as u32);
    let grid = 1_000_000 / step;
    let mut cuts: Vec<u32> = (1..count).map(|_| roll(grid as usize + 1) as u32 * step).collect();
    cuts.push(0);
    cuts.push(1_000_000);
    cuts.sort_unstable();
    for (treatment, bounds) in treatments.iter_mut().zip(cuts.windows(2)) {
        let units = bounds[1] - bounds[0];
        let text = if decimals == 0 {
            (units / 10_000).to_string()
        } else {
            format!("{}.{}", units / 10_000, &format!("{:04}", units % 10_000)[..decimals])
        };
        treatment.allocation_percent =
            AllocationPercent::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    let baseline = roll(count);
    treatments[baseline].baseline = true;
    let bandit = experiment.experiment_type == ExperimentType::Mab;
    let input = IterationInput {
        hypothesis: format!("Hypothesis {}", roll(1000)),
        can_reshuffle_traffic: [None, Some(true), Some(false)][roll(3)],
        metrics,
        primary_single_metric_key: single_key,
        primary_funnel_key: funnel_key,
        treatments,
        flags: flag_inputs,
        randomization_unit: unit,
        reallocation_frequency_millis: (bandit && roll(2) == 0).then(|| 60_000 + roll(1_000_000) as i64),
        covariate_id: covariate.filter(|_| roll(2) == 0),
        attributes: attributes.map(|a| a.into_iter().map(str::to_owned).collect()),
    };
    Some((experiment, input))
}

/// A JSON value other than `null`, which readers take as absent.
fn present_value() -> impl Strategy<Value = Value> {
    json_value().prop_filter("null reads as absent", |value| !value.is_null())
}

/// A targeting clause.
fn clause() -> impl Strategy<Value = Clause> {
    (maybe(key()), text(), "[a-zA-Z]{1,10}", vec(json_value(), 0..3), maybe(key()), any::<bool>()).prop_map(
        |(id, attribute, op, values, context_kind, negate)| Clause {
            id,
            attribute,
            op,
            values,
            context_kind,
            negate,
            extra: Map::new(),
        },
    )
}

/// A percentage rollout.
fn rollout() -> impl Strategy<Value = Rollout> {
    let weighted =
        (any::<i64>(), any::<i64>(), maybe(any::<bool>())).prop_map(|(variation, weight, untracked)| {
            WeightedVariation { variation, weight, untracked, extra: Map::new() }
        });
    (vec(weighted, 0..3), maybe(any::<i64>()), maybe(text()), maybe(key())).prop_map(
        |(variations, seed, bucket_by, context_kind)| Rollout {
            variations,
            experiment_allocation: None,
            seed,
            bucket_by,
            context_kind,
            extra: Map::new(),
        },
    )
}

/// A flag creation body as [`FeatureFlagBody::from_json`] can read it back:
/// variations and defaults without unknown members, which it does not keep.
pub(crate) fn feature_flag_body() -> impl Strategy<Value = FeatureFlagBody> {
    let variation = (maybe(key()), present_value(), maybe(text()), maybe(text())).prop_map(
        |(id, value, description, name)| FlagVariation { id, value, description, name, extra: Map::new() },
    );
    let defaults = (any::<i64>(), any::<i64>()).prop_map(|(on_variation, off_variation)| FlagDefaults {
        on_variation,
        off_variation,
        extra: Map::new(),
    });
    let availability =
        (maybe(any::<bool>()), maybe(any::<bool>())).prop_map(|(using_mobile_key, using_environment_id)| {
            ClientSideAvailability { using_mobile_key, using_environment_id, extra: Map::new() }
        });
    let property = (text(), vec(text(), 0..3)).prop_map(|(name, value)| CustomProperty {
        name,
        value,
        extra: Map::new(),
    });
    (
        (text(), key(), maybe(text()), maybe(vec(variation, 0..4)), any::<bool>(), vec(text(), 0..3)),
        (
            maybe(defaults),
            maybe(availability),
            maybe(btree_map(key(), property, 0..3)),
            maybe(text()),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (name, key, description, variations, temporary, tags),
                (defaults, client_side_availability, custom_properties, maintainer_id, is_flag_on),
            )| FeatureFlagBody {
                name,
                key,
                description,
                variations,
                temporary,
                tags,
                defaults,
                client_side_availability,
                custom_properties,
                maintainer_id,
                is_flag_on,
            },
        )
}

/// Any instruction of a flag's semantic patch, unknown kinds included.
pub(crate) fn flag_instruction() -> impl Strategy<Value = FlagInstruction> {
    let add_rule = (vec(clause(), 0..3), maybe(text()), maybe(rollout()), maybe(text()), maybe(text()))
        .prop_map(|(clauses, variation_id, rollout, description, before_rule_id)| FlagInstruction::AddRule {
            clauses,
            variation_id,
            rollout,
            description,
            before_rule_id,
        });
    let fallthrough = (maybe(text()), maybe(rollout())).prop_map(|(variation_id, rollout)| {
        FlagInstruction::UpdateFallthroughVariationOrRollout { variation_id, rollout }
    });
    let other =
        ("[a-z]{1,8}Other", btree_map("[a-z]{1,8}", json_value(), 0..3)).prop_map(|(kind, members)| {
            let mut object: Map<String, Value> = members.into_iter().collect();
            object.insert("kind".to_owned(), Value::String(kind));
            FlagInstruction::Other(object)
        });
    prop_oneof![
        Just(FlagInstruction::TurnFlagOn),
        Just(FlagInstruction::TurnFlagOff),
        Just(FlagInstruction::ArchiveFlag),
        Just(FlagInstruction::RestoreFlag),
        text().prop_map(|value| FlagInstruction::UpdateName { value }),
        text().prop_map(|value| FlagInstruction::UpdateDescription { value }),
        vec(text(), 0..3).prop_map(|values| FlagInstruction::AddTags { values }),
        vec(text(), 0..3).prop_map(|values| FlagInstruction::RemoveTags { values }),
        add_rule,
        text().prop_map(|rule_id| FlagInstruction::RemoveRule { rule_id }),
        (text(), text()).prop_map(|(rule_id, description)| FlagInstruction::UpdateRuleDescription {
            rule_id,
            description
        }),
        fallthrough,
        text().prop_map(|variation_id| FlagInstruction::UpdateOffVariation { variation_id }),
        other,
    ]
}

/// A flag's semantic patch as [`FlagPatch::from_json`] can read it back: at
/// least one instruction, and no empty comment (which reading drops).
pub(crate) fn flag_patch() -> impl Strategy<Value = FlagPatch> {
    (maybe(key()), maybe("\\PC{1,12}"), vec(flag_instruction(), 1..5)).prop_map(
        |(environment_key, comment, instructions)| FlagPatch { environment_key, comment, instructions },
    )
}

/// The experiment keys a layer world holds; instructions also name one that
/// does not exist.
pub(crate) const LAYER_EXPERIMENTS: [&str; 5] = ["e0", "e1", "e2", "e3", "e4"];

/// A project with the environments `production` and `test`, two layers
/// (`a` with an outside share in production, `b` empty), and experiments
/// `e0`..`e4` in production, each running or not and in a holdout or not.
pub(crate) fn layer_world() -> BoxedStrategy<(ProjectCatalog, Vec<Experiment>)> {
    // Small experiments: only whether they run and whether they are in a
    // holdout matters to a reservation, and big ones make every case slow.
    let experiments = vec((any::<bool>(), proptest::bool::weighted(0.2)), LAYER_EXPERIMENTS.len());
    (0..=100i64, experiments)
        .prop_map(|(outside, drawn)| {
            let experiments = drawn
                .into_iter()
                .zip(LAYER_EXPERIMENTS)
                .map(|((runs, held_out), key)| {
                    let mut experiment: Experiment = serde_json::from_value(serde_json::json!({
                        "key": key, "name": key, "_maintainerId": "m", "_creationDate": 0,
                        "environmentKey": "production", "_links": {}
                    }))
                    .expect("a minimal experiment reads");
                    experiment.holdout_id = held_out.then(|| "holdout-id".to_owned());
                    experiment.current_iteration = runs.then(|| {
                        serde_json::from_value(serde_json::json!({
                            "hypothesis": "h", "status": "running", "createdAt": 0,
                            "flags": {"f": {"_links": {}}}
                        }))
                        .expect("a minimal running iteration reads")
                    });
                    experiment
                })
                .collect();
            let mut a = Layer {
                key: "a".to_owned(),
                name: "A".to_owned(),
                description: String::new(),
                created_at: UnixMillis(0),
                randomization_unit: None,
                environments: BTreeMap::new(),
            };
            a.environments.insert(
                "production".to_owned(),
                LayerEnvironment { reservations: Vec::new(), other_reservation_percent: outside },
            );
            let b = Layer {
                key: "b".to_owned(),
                name: "B".to_owned(),
                environments: BTreeMap::new(),
                ..a.clone()
            };
            let environment = |key: &str| EnvironmentName { key: key.to_owned(), name: key.to_owned() };
            let catalog = ProjectCatalog {
                key: "p".to_owned(),
                id: "p".to_owned(),
                creation_date: UnixMillis(0),
                environments: vec![environment("production"), environment("test")],
                context_kinds: Vec::new(),
                randomization_units: Vec::new(),
                flags: BTreeMap::new(),
                metrics: BTreeMap::new(),
                metric_groups: BTreeMap::new(),
                covariates: BTreeMap::new(),
                layers: [("a".to_owned(), a), ("b".to_owned(), b)].into_iter().collect(),
                holdouts: Vec::new(),
            };
            (catalog, experiments)
        })
        .boxed()
}

/// One layer instruction: mostly reservations, with percentages around and
/// beyond the valid range, of known experiments and an unknown one.
pub(crate) fn layer_instruction() -> impl Strategy<Value = LayerInstruction> {
    let experiment =
        prop_oneof![8 => proptest::sample::select(LAYER_EXPERIMENTS.to_vec()), 1 => Just("ghost")]
            .prop_map(str::to_owned);
    prop_oneof![
        6 => (experiment.clone(), -5i64..=110).prop_map(|(experiment_key, reservation_percent)| {
            LayerInstruction::UpdateExperimentReservation { experiment_key, reservation_percent }
        }),
        2 => experiment.prop_map(|experiment_key| LayerInstruction::RemoveExperiment { experiment_key }),
        1 => text().prop_map(|name| LayerInstruction::UpdateName { name }),
    ]
}

/// A sequence of layer patches: `(layer key, patch)`, each patch one to
/// three instructions in `production` (sometimes `test`).
pub(crate) fn layer_patches() -> impl Strategy<Value = Vec<(String, LayerPatch)>> {
    let patch = (
        prop_oneof![Just("a"), Just("b")],
        prop_oneof![9 => Just("production"), 1 => Just("test")],
        vec(layer_instruction(), 1..4),
    )
        .prop_map(|(layer, environment, instructions)| {
            (layer.to_owned(), LayerPatch::new(Some(environment), instructions))
        });
    vec(patch, 1..24)
}
