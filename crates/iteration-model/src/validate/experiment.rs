//! Rules on `ExperimentPost`: name, key, tags, and its first iteration.

use std::collections::BTreeSet;

use crate::experiment::ExperimentPost;
use crate::key::is_valid_key;
use crate::violation::{ViolationCode, Violations, pointer};

impl ExperimentPost {
    /// Checks every rule that needs no catalog: the name is not blank, the
    /// key is valid, tags are unique and not blank, `type`, `methodology`,
    /// `dataSource` and the analysis correction settings are values the API
    /// knows, the analysis thresholds are in range, and the iteration follows
    /// [`IterationInput::validate`](crate::IterationInput::validate)'s rules,
    /// reported under `/iteration`.
    pub fn validate(&self) -> Result<(), Violations> {
        let mut violations = Violations::default();
        experiment_name_not_blank(self, &mut violations);
        experiment_key_valid(self, &mut violations);
        tags_valid(self, &mut violations);
        known_values(self, &mut violations);
        analysis_thresholds_in_range(self, &mut violations);
        super::check_iteration(&self.iteration, "/iteration", &mut violations);
        violations.into_result()
    }
}

fn experiment_name_not_blank(post: &ExperimentPost, out: &mut Violations) {
    if super::is_blank(&post.name) {
        out.push("/name", ViolationCode::Blank, "name is blank; give the experiment a name");
    }
}

fn experiment_key_valid(post: &ExperimentPost, out: &mut Violations) {
    if !is_valid_key(&post.key) {
        out.push(
            "/key",
            ViolationCode::InvalidKey,
            format!("{:?} is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -", post.key),
        );
    }
}

fn tags_valid(post: &ExperimentPost, out: &mut Violations) {
    let Some(tags) = &post.tags else { return };
    let mut seen = BTreeSet::new();
    for (i, tag) in tags.iter().enumerate() {
        if super::is_blank(tag) {
            out.push(pointer("/tags", i), ViolationCode::Blank, "tag is blank; remove it or give it text");
        } else if !seen.insert(super::visible(tag)) {
            out.push(
                pointer("/tags", i),
                ViolationCode::Duplicate,
                format!("tag `{tag}` is given twice; list each tag once"),
            );
        }
    }
}

/// Rule: `type`, `methodology`, `dataSource` and the correction method and
/// scope of `analysisConfig` are values the API documents.
fn known_values(post: &ExperimentPost, out: &mut Violations) {
    let mut check = |path: &str, value: Option<(&str, bool)>, allowed: &str| {
        if let Some((text, false)) = value {
            out.push(path, ViolationCode::NotAllowed, format!("`{text}` is not one of {allowed}"));
        }
    };
    check("/type", post.r#type.as_ref().map(|v| (v.as_str(), v.is_known())), "experiment, mab, holdout");
    check(
        "/methodology",
        post.methodology.as_ref().map(|v| (v.as_str(), v.is_known())),
        "bayesian, frequentist, export_only",
    );
    check(
        "/dataSource",
        post.data_source.as_ref().map(|v| (v.as_str(), v.is_known())),
        "launchdarkly, snowflake, databricks, redshift",
    );
    let Some(config) = &post.analysis_config else { return };
    check(
        "/analysisConfig/multipleComparisonCorrectionMethod",
        config.multiple_comparison_correction_method.as_ref().map(|v| (v.as_str(), v.is_known())),
        "bonferroni, benjamini-hochberg",
    );
    check(
        "/analysisConfig/multipleComparisonCorrectionScope",
        config.multiple_comparison_correction_scope.as_ref().map(|v| (v.as_str(), v.is_known())),
        "variations, variations-and-metrics, metrics",
    );
}

/// Rule: `bayesianThreshold` is a number from 0 to 100 and
/// `significanceThreshold` one from 0 to 1.
fn analysis_thresholds_in_range(post: &ExperimentPost, out: &mut Violations) {
    let Some(config) = &post.analysis_config else { return };
    let mut check = |path: &str, value: Option<&String>, max: f64| {
        let Some(text) = value else { return };
        match text.trim().parse::<f64>() {
            Ok(number) if number.is_finite() && (0.0..=max).contains(&number) => {}
            Ok(_) => out.push(path, ViolationCode::OutOfRange, format!("{text} is outside 0 to {max}")),
            Err(_) => out.push(
                path,
                ViolationCode::NotAllowed,
                format!("`{text}` is not a number; give a number from 0 to {max} as a string"),
            ),
        }
    };
    check("/analysisConfig/bayesianThreshold", config.bayesian_threshold.as_ref(), 100.0);
    check("/analysisConfig/significanceThreshold", config.significance_threshold.as_ref(), 1.0);
}
