//! `expand`: which optional parts of an experiment a response carries.
//!
//! The store keeps the full experiment; answers trim it here, so that every
//! endpoint trims the same way.

use iteration_model::{EXPERIMENT_FIELDS, Experiment, ITERATION_FIELDS, IterationRep};
use serde_json::{Value, json};

/// The parts named by an `expand` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Expand {
    pub(crate) draft_iteration: bool,
    pub(crate) previous_iterations: bool,
    pub(crate) treatments: bool,
    pub(crate) secondary_metrics: bool,
    pub(crate) analysis_config: bool,
    pub(crate) mutable_fields_by_status: bool,
}

impl Expand {
    /// Everything: what a write answers with, since the caller just made it.
    pub(crate) const ALL: Expand = Expand {
        draft_iteration: true,
        previous_iterations: true,
        treatments: true,
        secondary_metrics: true,
        analysis_config: true,
        mutable_fields_by_status: false,
    };

    /// Reads a comma-separated list; unknown names are ignored, as unknown
    /// fields are.
    pub(crate) fn parse(list: &str) -> Expand {
        let mut expand = Expand::default();
        for name in list.split(',').map(str::trim) {
            match name {
                "draftIteration" => expand.draft_iteration = true,
                "previousIterations" => expand.previous_iterations = true,
                "treatments" => expand.treatments = true,
                "secondaryMetrics" => expand.secondary_metrics = true,
                "analysisConfig" => expand.analysis_config = true,
                "mutableFieldsByStatus" => expand.mutable_fields_by_status = true,
                _ => {}
            }
        }
        expand
    }

    /// The experiment as a response shows it.
    pub(crate) fn apply(&self, mut experiment: Experiment) -> Experiment {
        if !self.draft_iteration {
            experiment.draft_iteration = None;
        }
        if !self.previous_iterations || experiment.previous_iterations.as_ref().is_some_and(Vec::is_empty) {
            experiment.previous_iterations = None;
        }
        if !self.analysis_config {
            experiment.analysis_config = None;
        }
        let iterations = experiment
            .current_iteration
            .iter_mut()
            .chain(experiment.draft_iteration.iter_mut())
            .chain(experiment.previous_iterations.iter_mut().flatten());
        for iteration in iterations {
            self.trim_iteration(iteration);
        }
        if self.mutable_fields_by_status {
            experiment.extra.insert("mutableFieldsByStatus".to_owned(), mutable_fields_by_status());
        }
        experiment
    }

    fn trim_iteration(&self, iteration: &mut IterationRep) {
        if !self.treatments {
            iteration.treatments = None;
        }
        if !self.secondary_metrics {
            iteration.secondary_metrics = None;
        }
    }
}

/// `mutableFieldsByStatus`: which fields `updateExperimentFields` may change
/// with which operations, per iteration status. The patch handler enforces
/// exactly this table.
pub(crate) fn mutable_fields_by_status() -> Value {
    let experiment_level = || {
        EXPERIMENT_FIELDS
            .iter()
            .map(|f| {
                // An experiment always has a name: `remove` is refused for it.
                let operations =
                    if *f == "name" { json!(["add", "update"]) } else { json!(["add", "update", "remove"]) };
                (f.to_string(), operations)
            })
            .collect::<serde_json::Map<_, _>>()
    };
    let mut not_started = experiment_level();
    for field in ITERATION_FIELDS {
        not_started.insert((*field).to_owned(), json!(["add", "update", "remove"]));
    }
    let mut running = experiment_level();
    running.insert("metrics".to_owned(), json!(["add"]));
    json!({ "not_started": not_started, "running": running, "stopped": experiment_level() })
}
