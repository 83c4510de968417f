//! `expand`: the optional parts of an experiment a response carries. One
//! type for both sides: a client names the parts it wants, and a server
//! trims what it stores to what was asked for ([`Expand::apply`]).

use std::ops::{BitOr, BitOrAssign};

use crate::experiment::{Experiment, MutableFieldsByStatusRep};
use crate::iteration::IterationRep;
use crate::json::WriteJson;

/// The optional parts of an experiment a response should carry
/// (`expand=...`). Combine with `|`: `Expand::DRAFT_ITERATION | Expand::TREATMENTS`.
///
/// ```
/// use iteration_model::Expand;
///
/// let expand = Expand::parse("draftIteration, treatments,nonsense");
/// assert_eq!(expand, Expand::DRAFT_ITERATION | Expand::TREATMENTS);
/// assert_eq!(expand.to_query_value(), "draftIteration,treatments");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Expand(u8);

impl Expand {
    /// Nothing expanded: the default representation.
    pub const NONE: Expand = Expand(0);
    /// `draftIteration`.
    pub const DRAFT_ITERATION: Expand = Expand(1);
    /// `previousIterations`.
    pub const PREVIOUS_ITERATIONS: Expand = Expand(1 << 1);
    /// `treatments`: iterations carry their treatments.
    pub const TREATMENTS: Expand = Expand(1 << 2);
    /// `secondaryMetrics`.
    pub const SECONDARY_METRICS: Expand = Expand(1 << 3);
    /// `analysisConfig`.
    pub const ANALYSIS_CONFIG: Expand = Expand(1 << 4);
    /// `mutableFieldsByStatus`: which fields `updateExperimentFields` may
    /// change in each iteration status.
    pub const MUTABLE_FIELDS_BY_STATUS: Expand = Expand(1 << 5);
    /// Every part above.
    pub const ALL: Expand = Expand(0b11_1111);

    /// Wire names, in the order the API documents them.
    const NAMES: [(Expand, &'static str); 6] = [
        (Expand::DRAFT_ITERATION, "draftIteration"),
        (Expand::PREVIOUS_ITERATIONS, "previousIterations"),
        (Expand::TREATMENTS, "treatments"),
        (Expand::SECONDARY_METRICS, "secondaryMetrics"),
        (Expand::ANALYSIS_CONFIG, "analysisConfig"),
        (Expand::MUTABLE_FIELDS_BY_STATUS, "mutableFieldsByStatus"),
    ];

    /// Whether every part of `other` is in `self`.
    pub fn contains(self, other: Expand) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether nothing is expanded.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `self` without the parts of `other`.
    pub const fn without(self, other: Expand) -> Expand {
        Expand(self.0 & !other.0)
    }

    /// Reads one wire name (`draftIteration`...); `None` for an unknown one.
    pub fn from_name(name: &str) -> Option<Expand> {
        Self::NAMES.iter().find(|(_, n)| *n == name).map(|(e, _)| *e)
    }

    /// Reads an `expand` parameter's value: names separated by commas,
    /// spaces around them ignored. Unknown names are ignored, as unknown
    /// fields are.
    pub fn parse(list: &str) -> Expand {
        list.split(',').filter_map(|name| Expand::from_name(name.trim())).fold(Expand::NONE, BitOr::bitor)
    }

    /// The `expand` parameter's value: names joined by commas.
    pub fn to_query_value(self) -> String {
        let names: Vec<&str> =
            Self::NAMES.iter().filter(|(e, _)| self.contains(*e)).map(|(_, name)| *name).collect();
        names.join(",")
    }

    /// `experiment`, as stored with every part, as a response shows it: the
    /// current iteration always; the draft, previous iterations (when there
    /// are any) and analysis configuration only when expanded; iterations'
    /// treatments and secondary metrics only when expanded; and
    /// `mutableFieldsByStatus` when expanded.
    pub fn apply(self, mut experiment: Experiment) -> Experiment {
        if !self.contains(Expand::DRAFT_ITERATION) {
            experiment.draft_iteration = None;
        }
        if !self.contains(Expand::PREVIOUS_ITERATIONS)
            || experiment.previous_iterations.as_ref().is_some_and(Vec::is_empty)
        {
            experiment.previous_iterations = None;
        }
        if !self.contains(Expand::ANALYSIS_CONFIG) {
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
        experiment.mutable_fields_by_status =
            self.contains(Expand::MUTABLE_FIELDS_BY_STATUS).then(MutableFieldsByStatusRep::enforced);
        experiment
    }

    /// Writes `experiment` as [`Expand::apply`] would leave it (the same
    /// bytes as serde_json writes for `self.apply(experiment.clone())`),
    /// without copying it: the parts left out are taken out for the writing
    /// and put back after, so `experiment` is as it was when this returns.
    pub fn write_applied(self, experiment: &mut Experiment, out: &mut Vec<u8>) {
        let draft =
            if self.contains(Expand::DRAFT_ITERATION) { None } else { experiment.draft_iteration.take() };
        let previous = if !self.contains(Expand::PREVIOUS_ITERATIONS)
            || experiment.previous_iterations.as_ref().is_some_and(Vec::is_empty)
        {
            experiment.previous_iterations.take()
        } else {
            None
        };
        let analysis =
            if self.contains(Expand::ANALYSIS_CONFIG) { None } else { experiment.analysis_config.take() };
        let mutable = std::mem::replace(
            &mut experiment.mutable_fields_by_status,
            self.contains(Expand::MUTABLE_FIELDS_BY_STATUS).then(MutableFieldsByStatusRep::enforced),
        );
        let trimmed: Vec<_> = iterations_mut(experiment)
            .map(|iteration| {
                let treatments =
                    if self.contains(Expand::TREATMENTS) { None } else { iteration.treatments.take() };
                let secondary = if self.contains(Expand::SECONDARY_METRICS) {
                    None
                } else {
                    iteration.secondary_metrics.take()
                };
                (treatments, secondary)
            })
            .collect();

        experiment.write_json(out);

        // Put back exactly what was taken, into the same iterations.
        for (iteration, (treatments, secondary)) in iterations_mut(experiment).zip(trimmed) {
            if treatments.is_some() {
                iteration.treatments = treatments;
            }
            if secondary.is_some() {
                iteration.secondary_metrics = secondary;
            }
        }
        experiment.mutable_fields_by_status = mutable;
        if analysis.is_some() {
            experiment.analysis_config = analysis;
        }
        if previous.is_some() {
            experiment.previous_iterations = previous;
        }
        if draft.is_some() {
            experiment.draft_iteration = draft;
        }
    }

    fn trim_iteration(self, iteration: &mut IterationRep) {
        if !self.contains(Expand::TREATMENTS) {
            iteration.treatments = None;
        }
        if !self.contains(Expand::SECONDARY_METRICS) {
            iteration.secondary_metrics = None;
        }
    }
}

/// Every iteration an experiment holds: current, draft, previous.
fn iterations_mut(experiment: &mut Experiment) -> impl Iterator<Item = &mut IterationRep> {
    experiment
        .current_iteration
        .iter_mut()
        .chain(experiment.draft_iteration.iter_mut())
        .chain(experiment.previous_iterations.iter_mut().flatten())
}

impl BitOr for Expand {
    type Output = Expand;
    fn bitor(self, rhs: Expand) -> Expand {
        Expand(self.0 | rhs.0)
    }
}

impl BitOrAssign for Expand {
    fn bitor_assign(&mut self, rhs: Expand) {
        self.0 |= rhs.0;
    }
}
