//! An iteration's fields in the form a client sends them: a stored
//! [`IterationRep`] back to the [`IterationInput`] that creates it again,
//! and the field updates of `updateExperimentFields` and
//! `saveAndStartNewIteration` applied to such an input.
//!
//! A changed iteration is resolved from its changed input exactly as a
//! Create iteration body is, so every rule of Create iteration holds for
//! changed iterations too, with no second copy of the rules.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::input::{
    FlagInput, IterationInput, MetricInput, TreatmentInput, TreatmentParameterInput, read_allocation,
    read_flag, read_flags, read_metric, read_treatment,
};
use crate::iteration::{FlagRep, IterationRep, TreatmentRep};
use crate::lifecycle::Refusal;
use crate::patch::{FieldOperation, FieldUpdate};
use crate::reader::Reader;
use crate::violation::{ViolationCode, Violations, pointer};

/// The fields of [`IterationInput`] in the order its reader reads them, so
/// that the problems of several updated fields are listed as reading the
/// whole input would list them.
const READ_ORDER: [&str; 11] = [
    "hypothesis",
    "canReshuffleTraffic",
    "metrics",
    "primarySingleMetricKey",
    "primaryFunnelKey",
    "treatments",
    "flags",
    "randomizationUnit",
    "reallocationFrequencyMillis",
    "covariateId",
    "attributes",
];

/// Why field updates could not be applied to an input.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FieldUpdateError {
    /// An update cannot apply to its field at all (an `add` without a
    /// value, a `remove` from `flags` that names no key, ...): the first
    /// such update, in the order given.
    #[error("{0}")]
    Refused(Refusal),
    /// The updated fields are not what an `IterationInput` holds: every
    /// problem, each at its path in the input (`/metrics/2/key`).
    #[error("{0}")]
    Invalid(Violations),
}

impl IterationRep {
    /// The input that creates this iteration again: its hypothesis,
    /// metrics, primary metric, treatments, flags (with the rule, version
    /// and not-in-experiment variation they ran with), randomization unit,
    /// reallocation frequency, covariate and attributes. Resolving it
    /// against the catalog the iteration was built against gives the same
    /// iteration, with new IDs.
    ///
    /// Fails, listing each at its path in the input, for the parts an
    /// input cannot do without and this representation lacks: a flag
    /// without `targetingRule` or `flagConfigVersion`, a treatment parameter
    /// without `flagKey` or `variationId`, an allocation that is not a
    /// percentage. An iteration this model resolved has them all.
    ///
    /// ```
    /// use iteration_model::{
    ///     FlagInput, IterationInput, SequentialIds, Treatment, UnixMillis, demo_catalog, demo_experiment,
    ///     resolve_iteration,
    /// };
    ///
    /// const FLAG: &str = "example-flag-for-experiment";
    /// const CONTROL: &str = "e432f62b-55f6-49dd-a02f-eb24acf39d05";
    /// const TOP_BUTTON: &str = "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10";
    ///
    /// let input = IterationInput::builder("The new button placement will increase conversion")
    ///     .metric("metric-key-123abc")
    ///     .primary()
    ///     .flag(FLAG, FlagInput::rule(CONTROL, 12))
    ///     .treatment(Treatment::baseline("Control", "50").serve(FLAG, CONTROL))
    ///     .treatment(Treatment::new("Top button", "50").serve(FLAG, TOP_BUTTON))
    ///     .build()?;
    /// let (catalog, experiment) = (demo_catalog("production"), demo_experiment("example-experiment"));
    /// let now = UnixMillis(1_700_000_000_000);
    /// let iteration = resolve_iteration(&catalog, &experiment, &input, now, &mut SequentialIds::new(1))?;
    ///
    /// let again = iteration.to_input()?;
    /// assert_eq!(again.primary_single_metric_key.as_deref(), Some("metric-key-123abc"));
    /// assert_eq!(again.randomization_unit.as_deref(), Some("user"), "the default the iteration got");
    /// let same = resolve_iteration(&catalog, &experiment, &again, now, &mut SequentialIds::new(1))?;
    /// assert_eq!(same, iteration);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_input(&self) -> Result<IterationInput, Violations> {
        let mut r = Reader::new();
        let metrics = self
            .metrics
            .iter()
            .flatten()
            .map(|m| MetricInput {
                key: m.key.to_string(),
                is_group: m.is_group.then_some(true),
                primary: None,
            })
            .collect();
        let treatments: Vec<Option<TreatmentInput>> = (self.treatments.iter().flatten().enumerate())
            .map(|(i, t)| treatment_input(&mut r, t, &pointer("/treatments", i)))
            .collect();
        let mut flags = BTreeMap::new();
        for (key, flag) in self.flags.iter().flatten() {
            if let Some(input) = flag_input(&mut r, flag, &pointer("/flags", key)) {
                flags.insert(key.clone(), input);
            }
        }
        let input = IterationInput {
            hypothesis: self.hypothesis.clone(),
            can_reshuffle_traffic: self.can_reshuffle_traffic,
            metrics,
            primary_single_metric_key: self.primary_single_metric.as_ref().map(|m| m.key.to_string()),
            primary_funnel_key: self.primary_funnel.as_ref().map(|m| m.key.to_string()),
            treatments: treatments.into_iter().collect::<Option<_>>().unwrap_or_default(),
            flags,
            randomization_unit: self.randomization_unit.clone(),
            reallocation_frequency_millis: self.reallocation_frequency_millis,
            covariate_id: self.covariate_info.as_ref().map(|c| c.id.clone()),
            attributes: self.attributes.clone(),
        };
        r.finish(Some(input))
    }
}

/// A field an input cannot do without, reported as the input's reader
/// reports it absent.
fn required<T: Clone>(r: &mut Reader, value: &Option<T>, path: &str, field: &str) -> Option<T> {
    if value.is_none() {
        r.violations.push(pointer(path, field), ViolationCode::MissingField, format!("{field} is required"));
    }
    value.clone()
}

fn treatment_input(r: &mut Reader, treatment: &TreatmentRep, path: &str) -> Option<TreatmentInput> {
    let allocation = read_allocation(
        r,
        &Value::String(treatment.allocation_percent.clone()),
        &pointer(path, "allocationPercent"),
    );
    let parameters: Vec<Option<TreatmentParameterInput>> =
        (treatment.parameters.iter().flatten().enumerate())
            .map(|(j, p)| {
                let path = pointer(&pointer(path, "parameters"), j);
                let flag_key = required(r, &p.flag_key, &path, "flagKey");
                let variation_id = required(r, &p.variation_id, &path, "variationId");
                Some(TreatmentParameterInput { flag_key: flag_key?, variation_id: variation_id? })
            })
            .collect();
    Some(TreatmentInput {
        name: treatment.name.clone(),
        baseline: treatment.baseline.unwrap_or(false),
        allocation_percent: allocation?,
        parameters: parameters.into_iter().collect::<Option<_>>()?,
    })
}

fn flag_input(r: &mut Reader, flag: &FlagRep, path: &str) -> Option<FlagInput> {
    let rule_id = required(r, &flag.targeting_rule, path, "ruleId");
    let version = required(r, &flag.flag_config_version, path, "flagConfigVersion");
    Some(FlagInput {
        rule_id: rule_id?.to_string(),
        flag_config_version: version?,
        not_in_experiment_variation_id: flag.not_in_experiment_variation_id.as_deref().map(str::to_owned),
    })
}

/// What one field update does, once its operation and value agree.
#[derive(Clone, Copy)]
enum Change<'u> {
    /// `update`: the field becomes the value.
    Set(&'u Value),
    /// `add`: the value's items join a list or map field; a field that
    /// holds one value (or none yet) becomes the value.
    Add(&'u Value),
    /// `remove`: without a value, the field goes; with one, the items it
    /// names leave a list field, or the key it names a map field.
    Remove(Option<&'u Value>),
}

impl<'u> Change<'u> {
    fn of(field: &str, update: &'u FieldUpdate) -> Result<Change<'u>, Refusal> {
        match (&update.operation, &update.value) {
            (FieldOperation::Update, Some(value)) => Ok(Change::Set(value)),
            (FieldOperation::Add, Some(value)) => Ok(Change::Add(value)),
            (FieldOperation::Remove, value) => Ok(Change::Remove(value.as_ref())),
            (operation @ (FieldOperation::Add | FieldOperation::Update), None) => {
                Err(Refusal(format!("{operation} of `{field}` needs a value")))
            }
            (other, _) => Err(Refusal(format!("operation `{other}` is not one of add, update, remove"))),
        }
    }
}

impl IterationInput {
    /// Applies field updates, in order, as `updateExperimentFields` and
    /// `saveAndStartNewIteration` send them: `update` replaces a field;
    /// `add` appends to a list (one item, or each item of a list), adds
    /// the entries of an object to `flags`, and sets any other field;
    /// `remove` deletes a field, or given a value, the items of a list it
    /// names (a metric by its key, or whole) or the key of `flags` it names.
    ///
    /// Values are read as the fields' types are in a Create iteration body;
    /// every problem is reported, at its path in the input. Whether the
    /// result is a valid iteration is resolution's to say. On an error the
    /// input is left partly updated: apply to a copy.
    ///
    /// ```
    /// use iteration_model::{FieldOperation, FieldUpdate, FlagInput, IterationInput, Treatment};
    /// use serde_json::json;
    ///
    /// let mut input = IterationInput::builder("Bigger buttons sell more")
    ///     .metric("clicks")
    ///     .primary()
    ///     .flag("buttons", FlagInput::fallthrough(3))
    ///     .treatment(Treatment::baseline("Control", "50").serve("buttons", "small"))
    ///     .treatment(Treatment::new("Bigger", "50").serve("buttons", "big"))
    ///     .build()?;
    /// let add = FieldUpdate { operation: FieldOperation::Add, value: Some(json!({"key": "views"})) };
    /// input.apply_field_updates([("metrics", &add)])?;
    /// let keys: Vec<&str> = input.metrics.iter().map(|m| m.key.as_str()).collect();
    /// assert_eq!(keys, ["clicks", "views"]);
    ///
    /// let remove = FieldUpdate { operation: FieldOperation::Remove, value: None };
    /// let error = input.apply_field_updates([("hypothesis", &remove)]).unwrap_err();
    /// assert_eq!(error.to_string(), "/hypothesis: hypothesis is required");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_field_updates<'u>(
        &mut self,
        updates: impl IntoIterator<Item = (&'u str, &'u FieldUpdate)>,
    ) -> Result<(), FieldUpdateError> {
        let mut r = Reader::new();
        for (field, update) in updates {
            let change = Change::of(field, update).map_err(FieldUpdateError::Refused)?;
            self.apply_change(&mut r, field, change).map_err(FieldUpdateError::Refused)?;
        }
        let rank = |path: &str| {
            let field = path.split('/').nth(1).unwrap_or("");
            READ_ORDER.iter().position(|f| *f == field).unwrap_or(READ_ORDER.len())
        };
        let mut violations: Vec<_> = r.violations.into_iter().collect();
        violations.sort_by_key(|v| rank(&v.path));
        let violations: Violations = violations.into_iter().collect();
        violations.into_result().map_err(FieldUpdateError::Invalid)
    }

    fn apply_change(&mut self, r: &mut Reader, field: &str, change: Change<'_>) -> Result<(), Refusal> {
        let path = pointer("", field);
        match field {
            "hypothesis" => set_required(r, &path, change, Reader::string, &mut self.hypothesis),
            "canReshuffleTraffic" => {
                set_optional(r, &path, change, Reader::boolean, &mut self.can_reshuffle_traffic)
            }
            "metrics" => change_list(r, &path, change, read_metric, metric_named, &mut self.metrics),
            "primarySingleMetricKey" => {
                set_optional(r, &path, change, Reader::string, &mut self.primary_single_metric_key)
            }
            "primaryFunnelKey" => {
                set_optional(r, &path, change, Reader::string, &mut self.primary_funnel_key)
            }
            "treatments" => {
                change_list(r, &path, change, read_treatment, treatment_named, &mut self.treatments)
            }
            "flags" => change_flags(r, &path, change, &mut self.flags)?,
            "randomizationUnit" => {
                set_optional(r, &path, change, Reader::string, &mut self.randomization_unit)
            }
            "reallocationFrequencyMillis" => {
                set_optional(r, &path, change, Reader::integer, &mut self.reallocation_frequency_millis)
            }
            "covariateId" => set_optional(r, &path, change, Reader::string, &mut self.covariate_id),
            "attributes" => change_attributes(r, &path, change, &mut self.attributes),
            other => return Err(Refusal(format!("`{other}` is not a field that can be changed"))),
        }
        Ok(())
    }
}

type Read<T> = fn(&mut Reader, &Value, &str) -> Option<T>;

/// The field's new value, read as a Create iteration body's; `None` (and
/// a violation) when it is absent or unreadable.
fn read_required<T>(
    r: &mut Reader,
    path: &str,
    value: Option<&Value>,
    read: impl FnOnce(&mut Reader, &Value, &str) -> Option<T>,
) -> Option<T> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        let field = path.trim_start_matches('/');
        r.violations.push(path, ViolationCode::MissingField, format!("{field} is required"));
        return None;
    };
    read(r, value, path)
}

/// A field that holds one value and must be present.
fn set_required<T>(r: &mut Reader, path: &str, change: Change<'_>, read: Read<T>, field: &mut T) {
    let value = match change {
        Change::Set(value) | Change::Add(value) => Some(value),
        Change::Remove(_) => None,
    };
    if let Some(value) = read_required(r, path, value, read) {
        *field = value;
    }
}

/// A field that holds one value or none.
fn set_optional<T>(r: &mut Reader, path: &str, change: Change<'_>, read: Read<T>, field: &mut Option<T>) {
    match change {
        Change::Set(value) | Change::Add(value) if !value.is_null() => {
            if let Some(value) = read(r, value, path) {
                *field = Some(value);
            }
        }
        _ => *field = None,
    }
}

/// The items a list update names: each item of a list value, or the value.
fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        one => std::slice::from_ref(one),
    }
}

/// A list field that must be present (`metrics`, `treatments`).
fn change_list<T>(
    r: &mut Reader,
    path: &str,
    change: Change<'_>,
    read: Read<T>,
    named: fn(&T, &Value) -> bool,
    list: &mut Vec<T>,
) {
    match change {
        Change::Set(value) => {
            if let Some(read) = read_required(r, path, Some(value), |r, v, p| r.each(v, p, read)) {
                *list = read;
            }
        }
        Change::Add(value) => add_items(r, path, value, read, list),
        Change::Remove(None) => {
            read_required(r, path, None, read);
        }
        Change::Remove(Some(value)) => {
            let gone = items(value);
            list.retain(|item| !gone.iter().any(|g| named(item, g)));
        }
    }
}

/// Appends the items `value` names, each read at the index it gets.
fn add_items<T>(r: &mut Reader, path: &str, value: &Value, read: Read<T>, list: &mut Vec<T>) {
    let start = list.len();
    for (j, item) in items(value).iter().enumerate() {
        // An unreadable item leaves a gap: the later ones keep the paths
        // the whole list would give them, and the result is refused anyway.
        if let Some(item) = read(r, item, &pointer(path, start + j)) {
            list.push(item);
        }
    }
}

/// `attributes`: a list that may be absent.
fn change_attributes(r: &mut Reader, path: &str, change: Change<'_>, attributes: &mut Option<Vec<String>>) {
    match (change, attributes.as_mut()) {
        (Change::Add(value), Some(list)) => add_items(r, path, value, Reader::string, list),
        (Change::Set(value) | Change::Add(value), _) => {
            set_optional(r, path, Change::Set(value), Reader::strings, attributes)
        }
        (Change::Remove(None), _) => *attributes = None,
        (Change::Remove(Some(value)), list) => {
            let gone = items(value);
            if let Some(list) = list {
                list.retain(|item| !gone.iter().any(|g| g.as_str() == Some(item.as_str())));
            }
        }
    }
}

/// `flags`: a map by flag key that must be present.
fn change_flags(
    r: &mut Reader,
    path: &str,
    change: Change<'_>,
    flags: &mut BTreeMap<String, FlagInput>,
) -> Result<(), Refusal> {
    match change {
        Change::Set(value) => {
            if let Some(read) = read_required(r, path, Some(value), read_flags) {
                *flags = read;
            }
        }
        Change::Add(Value::Object(entries)) => {
            for (key, entry) in entries {
                if let Some(flag) = read_flag(r, entry, &pointer(path, key)) {
                    flags.insert(key.clone(), flag);
                }
            }
        }
        Change::Add(_) => return Err(Refusal("add to `flags` needs an object value".to_owned())),
        Change::Remove(None) => {
            read_required(r, path, None, read_flags);
        }
        Change::Remove(Some(Value::String(key))) => {
            flags.remove(key);
        }
        Change::Remove(Some(_)) => return Err(Refusal("remove from `flags` needs a key".to_owned())),
    }
    Ok(())
}

/// Whether a `remove` names this metric: by its key, or as an object with its key.
fn metric_named(metric: &MetricInput, named: &Value) -> bool {
    let key = match named {
        Value::Object(object) => object.get("key"),
        key => Some(key),
    };
    key.and_then(Value::as_str) == Some(metric.key.as_str())
}

/// Whether a `remove` names this treatment: the same treatment, whole.
fn treatment_named(treatment: &TreatmentInput, named: &Value) -> bool {
    read_treatment(&mut Reader::new(), named, "").as_ref() == Some(treatment)
}

#[cfg(test)]
mod tests;
