//! Rules on `flags` and on the treatment parameters that serve them.

use std::collections::{BTreeMap, BTreeSet};

use crate::input::IterationInput;
use crate::violation::{ViolationCode, Violations, pointer};

pub(super) fn flags_not_empty(input: &IterationInput, base: &str, out: &mut Violations) {
    if input.flags.is_empty() {
        out.push(
            pointer(base, "flags"),
            ViolationCode::TooFew,
            "no flags given; an experiment runs on at least one flag",
        );
    }
}

pub(super) fn rule_ids_not_blank(input: &IterationInput, base: &str, out: &mut Violations) {
    for (key, flag) in &input.flags {
        if super::is_blank(&flag.rule_id) {
            out.push(
                pointer(&pointer(&pointer(base, "flags"), key), "ruleId"),
                ViolationCode::Blank,
                format!("ruleId of flag `{key}` is blank; give a targeting rule's ID or \"fallthrough\""),
            );
        }
    }
}

pub(super) fn flag_config_versions_positive(input: &IterationInput, base: &str, out: &mut Violations) {
    for (key, flag) in &input.flags {
        if flag.flag_config_version < 1 {
            out.push(
                pointer(&pointer(&pointer(base, "flags"), key), "flagConfigVersion"),
                ViolationCode::OutOfRange,
                format!(
                    "flagConfigVersion of flag `{key}` is {}; it must be at least 1 (the flag's current version)",
                    flag.flag_config_version
                ),
            );
        }
    }
}

/// Every treatment serves each flag of `flags` exactly once, and no other flag.
pub(super) fn one_parameter_per_flag(input: &IterationInput, base: &str, out: &mut Violations) {
    for (i, treatment) in input.treatments.iter().enumerate() {
        // Paths are built only for a violation: this runs on every valid request.
        let parameters_path = || pointer(&pointer(&pointer(base, "treatments"), i), "parameters");
        let mut served = BTreeSet::new();
        for (j, parameter) in treatment.parameters.iter().enumerate() {
            let path = || pointer(&pointer(&parameters_path(), j), "flagKey");
            let flag = &parameter.flag_key;
            if !input.flags.contains_key(flag) {
                out.push(
                    path(),
                    ViolationCode::ParameterUnknownFlag,
                    format!("flag `{flag}` is not in flags; add it to flags or remove this parameter"),
                );
            } else if !served.insert(flag.as_str()) {
                out.push(
                    path(),
                    ViolationCode::ParameterDuplicateFlag,
                    format!(
                        "treatment `{}` has two parameters for flag `{flag}`; give one variation per flag",
                        treatment.name
                    ),
                );
            }
        }
        for flag in input.flags.keys().filter(|flag| !served.contains(flag.as_str())) {
            out.push(
                parameters_path(),
                ViolationCode::ParameterMissing,
                format!(
                    "treatment `{}` has no parameter for flag `{flag}`; give one variation of every flag in flags",
                    treatment.name
                ),
            );
        }
    }
}

/// Within one flag, each treatment serves its own variation, or the
/// treatments could not be told apart.
pub(super) fn variations_not_reused(input: &IterationInput, base: &str, out: &mut Violations) {
    // (flag, variation) -> the index and name of the first treatment that serves it
    let mut first_server: BTreeMap<(&str, &str), (usize, &str)> = BTreeMap::new();
    for (i, treatment) in input.treatments.iter().enumerate() {
        for (j, parameter) in treatment.parameters.iter().enumerate() {
            let served = (parameter.flag_key.as_str(), parameter.variation_id.as_str());
            match first_server.get(&served) {
                None => {
                    first_server.insert(served, (i, &treatment.name));
                }
                // Two parameters of one treatment for one flag are reported
                // by `one_parameter_per_flag`.
                Some((first, _)) if *first == i => {}
                Some((_, other)) => {
                    let parameters = pointer(&pointer(&pointer(base, "treatments"), i), "parameters");
                    out.push(
                        pointer(&pointer(&parameters, j), "variationId"),
                        ViolationCode::VariationReused,
                        format!(
                            "treatment `{}` serves variation `{}` of flag `{}`, as treatment `{other}` does; \
                             each treatment must serve a different variation",
                            treatment.name, served.1, served.0
                        ),
                    );
                }
            }
        }
    }
}
