//! `expand`: which optional parts of an experiment a response carries.
//!
//! The store keeps the full experiment; answers trim it here, so that every
//! endpoint trims the same way.

use iteration_model::{Experiment, IterationRep, MutableFieldsByStatusRep};

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
            experiment.mutable_fields_by_status = Some(MutableFieldsByStatusRep::enforced());
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
