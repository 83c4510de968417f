//! Rules on the iteration's own fields: hypothesis, reallocation, attributes.

use std::collections::BTreeSet;

use crate::input::IterationInput;
use crate::violation::{ViolationCode, Violations, pointer};

/// The shortest reallocation period a bandit accepts: one minute.
pub(crate) const MIN_REALLOCATION_MILLIS: i64 = 60_000;
/// The most attributes results can be sliced by.
pub(crate) const MAX_ATTRIBUTES: usize = 5;

pub(super) fn hypothesis_not_blank(input: &IterationInput, base: &str, out: &mut Violations) {
    if super::is_blank(&input.hypothesis) {
        out.push(
            pointer(base, "hypothesis"),
            ViolationCode::Blank,
            "hypothesis is blank; state the outcome the experiment expects",
        );
    }
}

pub(super) fn reallocation_frequency_at_least_a_minute(
    input: &IterationInput,
    base: &str,
    out: &mut Violations,
) {
    let Some(millis) = input.reallocation_frequency_millis else { return };
    if millis < MIN_REALLOCATION_MILLIS {
        out.push(
            pointer(base, "reallocationFrequencyMillis"),
            ViolationCode::OutOfRange,
            format!("reallocationFrequencyMillis is {millis}; it must be at least {MIN_REALLOCATION_MILLIS} (one minute)"),
        );
    }
}

pub(super) fn attributes_valid(input: &IterationInput, base: &str, out: &mut Violations) {
    let Some(attributes) = &input.attributes else { return };
    let path = || pointer(base, "attributes");
    if attributes.len() > MAX_ATTRIBUTES {
        out.push(
            path(),
            ViolationCode::TooMany,
            format!("{} attributes given; at most {MAX_ATTRIBUTES} are allowed", attributes.len()),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, attribute) in attributes.iter().enumerate() {
        if super::is_blank(attribute) {
            out.push(
                pointer(&path(), i),
                ViolationCode::Blank,
                "attribute is blank; name a context attribute",
            );
        } else if !seen.insert(super::visible(attribute)) {
            out.push(
                pointer(&path(), i),
                ViolationCode::Duplicate,
                format!("attribute `{attribute}` is given twice; list each attribute once"),
            );
        }
    }
}
