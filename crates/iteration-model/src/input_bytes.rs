//! Reading an [`IterationInput`] straight from bytes.
//!
//! A server reads many bodies, nearly all of them valid. Going through
//! `serde_json::Value` and the collecting reader costs about as much as the
//! rest of a request's model work, so valid bodies take a direct serde path
//! into shadow types, and only a body that fails it is read again the slow
//! way, which finds every problem with its JSON Pointer. The two paths agree
//! on every input: the fast one accepts a subset of what the collecting
//! reader accepts (no `flags` as a string, no duplicate fields), and on that
//! subset reads the same values; anything else falls back.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::allocation::AllocationPercent;
use crate::input::{FlagInput, IterationInput, MetricInput, TreatmentInput, TreatmentParameterInput};
use crate::violation::Violations;

/// Why bytes are not an [`IterationInput`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Not JSON at all; the error knows the line and column.
    #[error("the body is not valid JSON: line {line}, column {column}: {0}", line = .0.line(), column = .0.column())]
    Syntax(#[source] serde_json::Error),
    /// JSON, but with absent or mistyped fields: every one of them.
    #[error("{0}")]
    Invalid(Violations),
}

impl IterationInput {
    /// Reads an input from JSON bytes: directly when it is well formed, else
    /// through [`IterationInput::from_json`], which reports every absent or
    /// mistyped field. The result is the same either way.
    pub fn from_slice(bytes: &[u8]) -> Result<IterationInput, InputError> {
        if let Ok(fast) = serde_json::from_slice::<Fast>(bytes) {
            return Ok(fast.into());
        }
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(InputError::Syntax)?;
        IterationInput::from_json(&value).map_err(InputError::Invalid)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fast {
    hypothesis: String,
    can_reshuffle_traffic: Option<bool>,
    metrics: Vec<FastMetric>,
    primary_single_metric_key: Option<String>,
    primary_funnel_key: Option<String>,
    treatments: Vec<FastTreatment>,
    flags: BTreeMap<String, FastFlag>,
    randomization_unit: Option<String>,
    reallocation_frequency_millis: Option<i64>,
    covariate_id: Option<String>,
    attributes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FastMetric {
    key: String,
    is_group: Option<bool>,
    primary: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FastTreatment {
    name: String,
    baseline: bool,
    allocation_percent: AllocationPercent,
    parameters: Vec<FastParameter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FastParameter {
    flag_key: String,
    variation_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FastFlag {
    rule_id: String,
    flag_config_version: i64,
    not_in_experiment_variation_id: Option<String>,
}

impl From<Fast> for IterationInput {
    fn from(fast: Fast) -> IterationInput {
        IterationInput {
            hypothesis: fast.hypothesis,
            can_reshuffle_traffic: fast.can_reshuffle_traffic,
            metrics: fast
                .metrics
                .into_iter()
                .map(|m| MetricInput { key: m.key, is_group: m.is_group, primary: m.primary })
                .collect(),
            primary_single_metric_key: fast.primary_single_metric_key,
            primary_funnel_key: fast.primary_funnel_key,
            treatments: fast
                .treatments
                .into_iter()
                .map(|t| TreatmentInput {
                    name: t.name,
                    baseline: t.baseline,
                    allocation_percent: t.allocation_percent,
                    parameters: t
                        .parameters
                        .into_iter()
                        .map(|p| TreatmentParameterInput {
                            flag_key: p.flag_key,
                            variation_id: p.variation_id,
                        })
                        .collect(),
                })
                .collect(),
            flags: fast
                .flags
                .into_iter()
                .map(|(key, f)| {
                    let flag = FlagInput {
                        rule_id: f.rule_id,
                        flag_config_version: f.flag_config_version,
                        not_in_experiment_variation_id: f.not_in_experiment_variation_id,
                    };
                    (key, flag)
                })
                .collect(),
            randomization_unit: fast.randomization_unit,
            reallocation_frequency_millis: fast.reallocation_frequency_millis,
            covariate_id: fast.covariate_id,
            attributes: fast.attributes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both paths on one body: the same input, or the same violations.
    fn both(bytes: &[u8]) -> (Result<IterationInput, String>, Result<IterationInput, String>) {
        let direct = IterationInput::from_slice(bytes).map_err(|e| e.to_string());
        let slow = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) => IterationInput::from_json(&value).map_err(|v| v.to_string()),
            Err(err) => Err(InputError::Syntax(err).to_string()),
        };
        (direct, slow)
    }

    #[test]
    fn agrees_with_the_collecting_reader_on_edge_cases() {
        let valid = include_str!("../fixtures/demo/valid-request.json");
        let cases = [
            valid.to_owned(),
            valid.replacen("\"hypothesis\"", "\"unknownField\": [1, 2], \"hypothesis\"", 1),
            valid.replacen("\"50\"", "50", 1),
            valid.replacen("\"50\"", "33.33", 1),
            valid.replacen("\"50\"", "-50", 1),
            valid.replacen("\"randomizationUnit\": \"user\"", "\"randomizationUnit\": null", 1),
            valid.replacen("\"hypothesis\"", "\"hypothesis\": \"first\", \"hypothesis\"", 1),
            valid.replacen("\"flagConfigVersion\": 12", "\"flagConfigVersion\": 12.0", 1),
            valid.replacen("\"flagConfigVersion\": 12", "\"flagConfigVersion\": null", 1),
            "{\"flags\": \"{\\\"f\\\": {\\\"ruleId\\\": \\\"fallthrough\\\", \\\"flagConfigVersion\\\": 1}}\", \
             \"hypothesis\": \"h\", \"metrics\": [], \"treatments\": []}"
                .to_owned(),
            "[]".to_owned(),
            "{\"hypothesis\": 1".to_owned(),
        ];
        for case in cases {
            let (direct, slow) = both(case.as_bytes());
            assert_eq!(direct, slow, "{case}");
        }
    }

    #[test]
    fn agrees_with_the_collecting_reader_on_every_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut seen = 0;
        for dir in ["invalid", "resolve", "docs", "demo"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if !name.ends_with(".json") || name.contains(".violations.") || name.contains(".expected.") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                // Resolve cases may wrap the body with the experiment to use.
                let body = match value.get("body") {
                    Some(body) => serde_json::to_vec(body).unwrap(),
                    None => bytes,
                };
                let (direct, slow) = both(&body);
                assert_eq!(direct, slow, "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen > 60, "only {seen} fixtures read");
    }

    #[test]
    fn the_valid_demo_request_takes_the_direct_path() {
        let valid = include_bytes!("../fixtures/demo/valid-request.json");
        assert!(serde_json::from_slice::<Fast>(valid).is_ok());
    }
}
