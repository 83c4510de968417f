//! Rules on `treatments`: how many, which is the baseline, names, allocations.

use std::collections::BTreeSet;

use crate::allocation::AllocationPercent;
use crate::input::IterationInput;
use crate::violation::{ViolationCode, Violations, pointer};

pub(super) fn at_least_two_treatments(input: &IterationInput, base: &str, out: &mut Violations) {
    let count = input.treatments.len();
    if count < 2 {
        let given = if count == 1 { "1 treatment".to_owned() } else { format!("{count} treatments") };
        out.push(
            pointer(base, "treatments"),
            ViolationCode::TooFew,
            format!("{given} given; an experiment needs at least 2 (a baseline and one to compare with it)"),
        );
    }
}

pub(super) fn one_baseline(input: &IterationInput, base: &str, out: &mut Violations) {
    let path = || pointer(base, "treatments");
    let baselines: Vec<usize> =
        input.treatments.iter().enumerate().filter(|(_, t)| t.baseline).map(|(i, _)| i).collect();
    match baselines.as_slice() {
        [] if !input.treatments.is_empty() => out.push(
            path(),
            ViolationCode::BaselineCount,
            "no treatment is the baseline; mark exactly one with baseline: true",
        ),
        [] | [_] => {}
        [first, rest @ ..] => {
            for i in rest {
                out.push(
                    pointer(&pointer(&path(), i), "baseline"),
                    ViolationCode::BaselineCount,
                    format!(
                        "treatment {i} is a baseline, as treatment {first} is; mark exactly one with baseline: true"
                    ),
                );
            }
        }
    }
}

pub(super) fn treatment_names_not_blank(input: &IterationInput, base: &str, out: &mut Violations) {
    for (i, treatment) in input.treatments.iter().enumerate() {
        if super::is_blank(&treatment.name) {
            out.push(
                pointer(&pointer(&pointer(base, "treatments"), i), "name"),
                ViolationCode::Blank,
                "treatment name is blank; name each treatment",
            );
        }
    }
}

pub(super) fn treatment_names_unique(input: &IterationInput, base: &str, out: &mut Violations) {
    let mut seen = BTreeSet::new();
    for (i, treatment) in input.treatments.iter().enumerate() {
        // A blank name is reported as blank, not again as a duplicate.
        if !super::is_blank(&treatment.name) && !seen.insert(super::visible(&treatment.name)) {
            out.push(
                pointer(&pointer(&pointer(base, "treatments"), i), "name"),
                ViolationCode::Duplicate,
                format!(
                    "treatment name `{}` is used twice; give each treatment its own name",
                    treatment.name
                ),
            );
        }
    }
}

pub(super) fn allocations_sum_to_hundred(input: &IterationInput, base: &str, out: &mut Violations) {
    if input.treatments.is_empty() {
        return;
    }
    let total = AllocationPercent::total(input.treatments.iter().map(|t| &t.allocation_percent));
    if !total.is_hundred() {
        out.push(
            pointer(base, "treatments"),
            ViolationCode::AllocationSum,
            format!("allocations sum to {total}; they must sum to 100"),
        );
    }
}
