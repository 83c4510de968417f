//! What creates an iteration (`IterationInput` and its parts).
//!
//! These are the types a client sends. They are exact: no unknown fields,
//! optional fields omitted when `None`. Reading one from JSON goes through
//! [`IterationInput::from_json`], which reports every field that is absent
//! or of the wrong type with its JSON Pointer; the rules that need more than
//! one field (allocations sum to 100, one baseline, ...) are checked by
//! [`IterationInput::validate`](crate::IterationInput::validate).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::allocation::AllocationPercent;
use crate::reader::Reader;
use crate::violation::{ViolationCode, Violations, pointer};

/// Details of a new iteration (`IterationInput`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IterationInput {
    /// The expected outcome of this experiment.
    pub hypothesis: String,
    /// Whether traffic may be reassigned when the audience changes (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_reshuffle_traffic: Option<bool>,
    /// The metrics and metric groups to measure.
    pub metrics: Vec<MetricInput>,
    /// The primary metric, when it is a single metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_single_metric_key: Option<String>,
    /// The primary funnel group, when it is a metric group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_funnel_key: Option<String>,
    /// The treatments: one arm of the experiment each.
    pub treatments: Vec<TreatmentInput>,
    /// The flags the experiment runs on, by key.
    pub flags: BTreeMap<String, FlagInput>,
    /// The unit of randomization (default: the project's, else `user`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub randomization_unit: Option<String>,
    /// How often a bandit updates its allocation, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reallocation_frequency_millis: Option<i64>,
    /// The covariate file for stratified sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covariate_id: Option<String>,
    /// The attributes results can be sliced by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
}

/// A metric or metric group an iteration measures (`MetricInput`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricInput {
    /// The metric or group key.
    pub key: String,
    /// Whether `key` names a metric group (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_group: Option<bool>,
    /// Deprecated: whether this is the primary metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// One arm of the experiment (`TreatmentInput`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TreatmentInput {
    /// The treatment name.
    pub name: String,
    /// Whether this is the baseline the others are compared against.
    pub baseline: bool,
    /// Its share of traffic.
    pub allocation_percent: AllocationPercent,
    /// The flag variation it serves, one per flag.
    pub parameters: Vec<TreatmentParameterInput>,
}

/// A flag variation a treatment serves (`TreatmentParameterInput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TreatmentParameterInput {
    /// The flag key.
    pub flag_key: String,
    /// The variation's ID.
    pub variation_id: String,
}

/// How a flag takes part in the iteration (`FlagInput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagInput {
    /// The targeting rule's ID, or `fallthrough` for the default rule.
    pub rule_id: String,
    /// The flag's version this iteration was built against.
    pub flag_config_version: i64,
    /// Where traffic outside the experiment goes (default: the baseline's variation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_in_experiment_variation_id: Option<String>,
}

impl IterationInput {
    /// Reads an input from JSON, reporting every absent or mistyped field.
    ///
    /// `flags` may also be a string that holds a JSON object, as the API's
    /// documentation sends it. Unknown fields are ignored.
    pub fn from_json(value: &Value) -> Result<IterationInput, Violations> {
        let mut reader = Reader::new();
        let input = read_iteration_input(&mut reader, value, "");
        reader.finish(input)
    }
}

pub(crate) fn read_iteration_input(r: &mut Reader, value: &Value, path: &str) -> Option<IterationInput> {
    let obj = r.object(value, path)?;
    let hypothesis = r.req(obj, path, "hypothesis", Reader::string);
    let can_reshuffle_traffic = r.opt(obj, path, "canReshuffleTraffic", Reader::boolean);
    let metrics = r.req(obj, path, "metrics", |r, v, p| r.each(v, p, read_metric));
    let primary_single_metric_key = r.opt(obj, path, "primarySingleMetricKey", Reader::string);
    let primary_funnel_key = r.opt(obj, path, "primaryFunnelKey", Reader::string);
    let treatments = r.req(obj, path, "treatments", |r, v, p| r.each(v, p, read_treatment));
    let flags = r.req(obj, path, "flags", read_flags);
    let randomization_unit = r.opt(obj, path, "randomizationUnit", Reader::string);
    let reallocation_frequency_millis = r.opt(obj, path, "reallocationFrequencyMillis", Reader::integer);
    let covariate_id = r.opt(obj, path, "covariateId", Reader::string);
    let attributes = r.opt(obj, path, "attributes", Reader::strings);
    Some(IterationInput {
        hypothesis: hypothesis?,
        can_reshuffle_traffic: can_reshuffle_traffic?,
        metrics: metrics?,
        primary_single_metric_key: primary_single_metric_key?,
        primary_funnel_key: primary_funnel_key?,
        treatments: treatments?,
        flags: flags?,
        randomization_unit: randomization_unit?,
        reallocation_frequency_millis: reallocation_frequency_millis?,
        covariate_id: covariate_id?,
        attributes: attributes?,
    })
}

pub(crate) fn read_metric(r: &mut Reader, value: &Value, path: &str) -> Option<MetricInput> {
    let obj = r.object(value, path)?;
    let key = r.req(obj, path, "key", Reader::string);
    let is_group = r.opt(obj, path, "isGroup", Reader::boolean);
    let primary = r.opt(obj, path, "primary", Reader::boolean);
    Some(MetricInput { key: key?, is_group: is_group?, primary: primary? })
}

pub(crate) fn read_treatment(r: &mut Reader, value: &Value, path: &str) -> Option<TreatmentInput> {
    let obj = r.object(value, path)?;
    let name = r.req(obj, path, "name", Reader::string);
    let baseline = r.req(obj, path, "baseline", Reader::boolean);
    let allocation_percent = r.req(obj, path, "allocationPercent", read_allocation);
    let parameters = r.req(obj, path, "parameters", |r, v, p| r.each(v, p, read_parameter));
    Some(TreatmentInput {
        name: name?,
        baseline: baseline?,
        allocation_percent: allocation_percent?,
        parameters: parameters?,
    })
}

pub(crate) fn read_allocation(r: &mut Reader, value: &Value, path: &str) -> Option<AllocationPercent> {
    match AllocationPercent::from_json_value(value) {
        Ok(percent) => Some(percent),
        Err(err) => {
            r.violations.push(
                path,
                ViolationCode::InvalidAllocation,
                format!("{err}; use a decimal from 0 to 100 with at most 4 decimal places, such as \"50\" or \"33.33\""),
            );
            None
        }
    }
}

fn read_parameter(r: &mut Reader, value: &Value, path: &str) -> Option<TreatmentParameterInput> {
    let obj = r.object(value, path)?;
    let flag_key = r.req(obj, path, "flagKey", Reader::string);
    let variation_id = r.req(obj, path, "variationId", Reader::string);
    Some(TreatmentParameterInput { flag_key: flag_key?, variation_id: variation_id? })
}

pub(crate) fn read_flags(r: &mut Reader, value: &Value, path: &str) -> Option<BTreeMap<String, FlagInput>> {
    // The API's documentation sends `flags` as a string holding the JSON
    // object; accept that form and read it as the object.
    let parsed;
    let value = match value {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(inner @ Value::Object(_)) => {
                parsed = inner;
                &parsed
            }
            Ok(other) => {
                r.wrong_type(path, "an object, or a string holding a JSON object", &other);
                return None;
            }
            Err(err) => {
                r.violations.push(
                    path,
                    ViolationCode::WrongType,
                    format!("flags is a string but not a JSON object: {err}"),
                );
                return None;
            }
        },
        other => other,
    };
    let obj = r.object(value, path)?;
    let mut flags = BTreeMap::new();
    let mut ok = true;
    for (key, flag) in obj {
        match read_flag(r, flag, &pointer(path, key)) {
            Some(flag) => {
                flags.insert(key.clone(), flag);
            }
            None => ok = false,
        }
    }
    ok.then_some(flags)
}

pub(crate) fn read_flag(r: &mut Reader, value: &Value, path: &str) -> Option<FlagInput> {
    let obj = r.object(value, path)?;
    let rule_id = r.req(obj, path, "ruleId", Reader::string);
    let flag_config_version = r.req(obj, path, "flagConfigVersion", Reader::integer);
    let not_in_experiment_variation_id = r.opt(obj, path, "notInExperimentVariationId", Reader::string);
    Some(FlagInput {
        rule_id: rule_id?,
        flag_config_version: flag_config_version?,
        not_in_experiment_variation_id: not_in_experiment_variation_id?,
    })
}

/// Implements `Deserialize` through a reader function, so that serde users
/// and [`IterationInput::from_json`] apply the same rules.
macro_rules! deserialize_via_reader {
    ($ty:ty, $read:path) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(deserializer)?;
                let mut reader = Reader::new();
                let read = $read(&mut reader, &value, "");
                reader.finish(read).map_err(serde::de::Error::custom)
            }
        }
    };
}

deserialize_via_reader!(IterationInput, read_iteration_input);
deserialize_via_reader!(MetricInput, read_metric);
deserialize_via_reader!(TreatmentInput, read_treatment);
deserialize_via_reader!(TreatmentParameterInput, read_parameter);
deserialize_via_reader!(FlagInput, read_flag);
