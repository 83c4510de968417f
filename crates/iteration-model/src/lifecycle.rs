//! The experiment lifecycle as pure functions: each takes the experiment as
//! stored and changes it, or says why it may not. The patch handler applies
//! them to a copy, so a failing instruction leaves nothing changed.
//!
//! Architecture invariant: an experiment never has two running iterations.
//! `currentIteration` is the only place a running iteration lives; starting
//! a draft first stops and moves away whatever runs.

use std::collections::BTreeSet;

use crate::experiment::{Experiment, ExperimentType};
use crate::iteration::{IterationRep, IterationStatus, LayerSnapshotRep};
use crate::layer::is_running;
use crate::millis::UnixMillis;
use crate::text::Text;
use crate::violation::{Violation, ViolationCode};

/// A flag's state in the experiment's environment, as starting needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagState {
    /// Whether targeting is on in the experiment's environment.
    pub on: bool,
    /// Whether the flag is archived.
    pub archived: bool,
}

/// Why a lifecycle step may not happen; the message says what would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

fn refuse<T>(message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(message.into()))
}

/// Whether the experiment is archived.
pub fn is_archived(experiment: &Experiment) -> bool {
    experiment.archived_date.is_some()
}

/// `startIteration`: the draft becomes the running `currentIteration`. An
/// iteration that was running stops first, with `layer` as its
/// `layerSnapshot` (the experiment's layer as it is now, if any).
pub fn start_iteration(
    experiment: &mut Experiment,
    change_justification: Option<&str>,
    flag_state: &dyn Fn(&str) -> Option<FlagState>,
    layer: Option<LayerSnapshotRep>,
    now: UnixMillis,
) -> Result<(), Refusal> {
    if is_archived(experiment) {
        return refuse("the experiment is archived; restore it before starting an iteration");
    }
    let Some(draft) = experiment.draft_iteration.as_ref() else {
        return refuse("the experiment has no draft iteration; create one first");
    };
    for flag in draft.flags.iter().flat_map(|flags| flags.keys()) {
        match flag_state(flag) {
            None => return refuse(format!("flag `{flag}` does not exist in this environment")),
            Some(state) if state.archived => return refuse(format!("flag `{flag}` is archived")),
            Some(state) if !state.on => {
                return refuse(format!("flag `{flag}` is off in this environment; turn it on first"));
            }
            Some(_) => {}
        }
    }
    if draft.randomization_unit.as_deref().is_none_or(str::is_empty) {
        return refuse("the draft iteration has no randomizationUnit");
    }
    let any_traffic = draft.treatments.iter().flatten().any(|t| t.allocation().is_ok_and(|a| !a.is_zero()));
    if !any_traffic {
        return refuse("no treatment has an allocationPercent above 0");
    }
    if experiment.current_iteration.is_some() {
        if change_justification.is_none_or(|why| why.trim().is_empty()) {
            return refuse(
                "an iteration is already running; give a changeJustification to stop it and start the draft",
            );
        }
        stop_current(experiment, None, None, layer, now);
    }
    // Checked above that the draft exists.
    if let Some(mut draft) = experiment.draft_iteration.take() {
        draft.status = IterationStatus::Running;
        draft.started_at = Some(now);
        experiment.current_iteration = Some(draft);
    }
    Ok(())
}

/// `stopIteration`: the running iteration stops with a winner and moves to
/// `previousIterations`.
pub fn stop_iteration(
    experiment: &mut Experiment,
    winning_treatment_id: &str,
    winning_reason: Option<&str>,
    layer: Option<LayerSnapshotRep>,
    now: UnixMillis,
) -> Result<(), Refusal> {
    let Some(current) = experiment.current_iteration.as_ref() else {
        return refuse("no iteration is running");
    };
    let is_treatment =
        current.treatments.iter().flatten().any(|t| t.id.as_deref() == Some(winning_treatment_id));
    if !is_treatment {
        return refuse(format!(
            "winningTreatmentId `{winning_treatment_id}` is not a treatment of the running iteration"
        ));
    }
    stop_current(experiment, Some(winning_treatment_id), winning_reason, layer, now);
    Ok(())
}

/// Stops whatever runs and files it first among `previousIterations`
/// (newest first, as LaunchDarkly lists them).
fn stop_current(
    experiment: &mut Experiment,
    winner: Option<&str>,
    reason: Option<&str>,
    layer: Option<LayerSnapshotRep>,
    now: UnixMillis,
) {
    if let Some(mut current) = experiment.current_iteration.take() {
        current.status = IterationStatus::Stopped;
        current.ended_at = Some(now);
        current.winning_treatment_id = winner.map(str::to_owned);
        current.winning_reason = reason.map(str::to_owned);
        if layer.is_some() {
            current.layer_snapshot = layer;
        }
        experiment.previous_iterations.get_or_insert_with(Vec::new).insert(0, current);
    }
}

/// `archiveExperiment`.
pub fn archive(experiment: &mut Experiment, now: UnixMillis) -> Result<(), Refusal> {
    if is_archived(experiment) {
        return refuse("the experiment is already archived");
    }
    experiment.archived_date = Some(now);
    Ok(())
}

/// `restoreExperiment`.
pub fn restore(experiment: &mut Experiment) -> Result<(), Refusal> {
    if !is_archived(experiment) {
        return refuse("the experiment is not archived");
    }
    experiment.archived_date = None;
    Ok(())
}

/// `updateName`.
pub fn update_name(experiment: &mut Experiment, name: &str) -> Result<(), Refusal> {
    if name.trim().is_empty() {
        return refuse("the name must not be blank");
    }
    experiment.name = name.to_owned();
    Ok(())
}

/// `updateDescription`.
pub fn update_description(experiment: &mut Experiment, description: &str) {
    experiment.description = Some(description.to_owned());
}

/// The flag keys of `iteration`.
fn flag_keys(iteration: &IterationRep) -> BTreeSet<&str> {
    iteration.flags.iter().flat_map(|flags| flags.keys().map(String::as_str)).collect()
}

/// The iteration that last ran: the running one, else the newest stopped one.
fn last_run(experiment: &Experiment) -> Option<&IterationRep> {
    experiment.current_iteration.iter().chain(experiment.previous_iterations.iter().flatten()).next()
}

/// Rule: once an iteration of an experiment has run, its flags are fixed:
/// a changed iteration (`updateExperimentFields` on a draft,
/// `saveAndStartNewIteration`) uses exactly the flags that ran. The
/// violation is at `/flags` of the instruction's `value`.
pub fn flags_unchanged_after_run(experiment: &Experiment, changed: &IterationRep) -> Result<(), Violation> {
    let Some(ran) = last_run(experiment) else { return Ok(()) };
    let (before, after) = (flag_keys(ran), flag_keys(changed));
    if before == after {
        return Ok(());
    }
    let list = |keys: &BTreeSet<&str>| keys.iter().copied().collect::<Vec<_>>().join(", ");
    Err(Violation::new(
        "/flags",
        ViolationCode::FrozenAfterRun,
        format!(
            "the flags of an experiment cannot change once an iteration has run: it ran with {}, this would use \
             {}; create a new experiment to test other flags",
            list(&before),
            list(&after)
        ),
    ))
}

/// Rule: at most one running bandit (`mab`) per flag targeting rule in an
/// environment. Starting `draft` of bandit `experiment` is refused while
/// another of `others` runs a bandit iteration on one of its flags' rules.
pub fn one_running_bandit_per_rule<'e>(
    experiment: &Experiment,
    draft: &IterationRep,
    others: impl IntoIterator<Item = &'e Experiment>,
) -> Result<(), Refusal> {
    if experiment.r#type != Some(ExperimentType::Mab) {
        return Ok(());
    }
    let rules = |iteration: &IterationRep| -> BTreeSet<(String, Text)> {
        iteration
            .flags
            .iter()
            .flatten()
            .map(|(key, flag)| (key.clone(), flag.targeting_rule.clone().unwrap_or_default()))
            .collect()
    };
    let wanted = rules(draft);
    for other in others {
        let running_bandit = other.key != experiment.key
            && other.environment_key == experiment.environment_key
            && other.r#type == Some(ExperimentType::Mab)
            && is_running(other);
        let Some(current) = other.current_iteration.as_ref().filter(|_| running_bandit) else { continue };
        if let Some((flag, rule)) = rules(current).intersection(&wanted).next() {
            return refuse(format!(
                "bandit `{}` already runs on flag `{flag}`, rule `{rule}`; one bandit per targeting rule may \
                 run at a time",
                other.key
            ));
        }
    }
    Ok(())
}
