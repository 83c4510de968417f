//! Every change the API makes to a project's live catalog, as a pure
//! function of the catalog (and, for deletes, of the project's
//! experiments): create, patch and delete of flags, metrics and metric
//! groups. A change either applies whole or leaves the catalog as it was
//! and says why.

use serde_json::Value;

use crate::experiment::Experiment;
use crate::flag::{FeatureFlag, FeatureFlagBody};
use crate::flag_patch::FlagPatch;
use crate::ids::IdSource;
use crate::json_patch::JsonPatch;
use crate::metric_catalog::{MetricGroupRep, MetricRep};
use crate::millis::UnixMillis;
use crate::project::{ProjectCatalog, uses_flag, uses_metric};
use crate::violation::{ViolationCode, Violations};

/// Why a catalog change was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogError {
    /// There is no such flag, metric or group (a 404).
    #[error("{0}")]
    NotFound(String),
    /// The key is taken (a 409).
    #[error("{0}")]
    KeyExists(String),
    /// The request or its result breaks a rule; every problem, with paths
    /// into the request body (a 400).
    #[error("{0}")]
    Invalid(Violations),
}

impl From<Violations> for CatalogError {
    fn from(violations: Violations) -> Self {
        CatalogError::Invalid(violations)
    }
}

/// A patch of a flag: a semantic patch or a JSON Patch.
#[derive(Debug, Clone, PartialEq)]
pub enum FlagChange {
    /// Instructions (`domain-model=launchdarkly.semanticpatch`).
    Semantic(FlagPatch),
    /// RFC 6902 operations on the flag's representation.
    Json(JsonPatch),
}

/// Fields of a flag that a JSON Patch may not change: the server keeps them.
const FLAG_FIXED: &[&str] = &["/key", "/_version", "/creationDate", "/kind", "/_links"];
/// Fields of a metric that a JSON Patch may not change.
const METRIC_FIXED: &[&str] =
    &["/key", "/kind", "/_id", "/_versionId", "/_version", "/_creationDate", "/_links"];
/// Fields of a metric group that a JSON Patch may not change.
const GROUP_FIXED: &[&str] = &["/key", "/_id", "/_version", "/_versionId", "/_creationDate", "/_links"];

fn refuse_fixed(patch: &JsonPatch, fixed: &[&str]) -> Result<(), Violations> {
    let mut violations = Violations::default();
    for field in fixed {
        if let Some(index) = patch.changes(field) {
            violations.push(
                patch.operation_pointer(index),
                ViolationCode::NotAllowed,
                format!("`{}` cannot be changed", field.trim_start_matches('/')),
            );
        }
    }
    violations.into_result()
}

/// `value` read back as a `T` after a JSON Patch; a problem at the root when
/// the patch made it unreadable.
fn reread<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, Violations> {
    serde_json::from_value(value).map_err(|err| {
        let mut violations = Violations::default();
        violations.push("", ViolationCode::WrongType, format!("the patched {what} is not valid: {err}"));
        violations
    })
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    // The model's representations serialize to JSON by construction: their
    // maps have string keys and no Serialize impl of theirs fails.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl ProjectCatalog {
    /// Creates a flag from a `FeatureFlagBody`: configured in every
    /// environment of the project, version 1 in each.
    pub fn create_flag(
        &mut self,
        body: &Value,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<&FeatureFlag, CatalogError> {
        let body = FeatureFlagBody::from_json(body)?;
        if self.flags.contains_key(&body.key) {
            return Err(CatalogError::KeyExists(format!("a flag with key `{}` already exists", body.key)));
        }
        let flag = FeatureFlag::create(&self.key, &self.environments, body, now, ids)?;
        let key = flag.key.clone();
        Ok(self.flags.entry(key).or_insert(flag))
    }

    /// Applies `change` to flag `key`, checks the result as a whole and moves
    /// its versions ([`FeatureFlag::settle`]).
    pub fn patch_flag(
        &mut self,
        key: &str,
        change: &FlagChange,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<&FeatureFlag, CatalogError> {
        let before = self.flags.get(key).ok_or_else(|| flag_not_found(key))?;
        let mut after = match change {
            FlagChange::Semantic(patch) => patch.apply(before, now, ids)?,
            FlagChange::Json(patch) => {
                let mut fixed: Vec<String> = FLAG_FIXED.iter().map(|f| (*f).to_owned()).collect();
                fixed.extend(
                    before.environments.iter().flatten().map(|(e, _)| format!("/environments/{e}/version")),
                );
                refuse_fixed(patch, &fixed.iter().map(String::as_str).collect::<Vec<_>>())?;
                let patched: FeatureFlag = reread(patch.apply(&to_value(before))?, "flag")?;
                if patched.environments.iter().flatten().any(|(e, _)| before.environment(e).is_none()) {
                    let mut violations = Violations::default();
                    violations.push(
                        "",
                        ViolationCode::NotAllowed,
                        "a patch cannot add environments; they are the project's",
                    );
                    return Err(violations.into());
                }
                patched
            }
        };
        after.problems().into_result()?;
        after.settle(before, now);
        let slot = self.flags.get_mut(key).ok_or_else(|| flag_not_found(key))?;
        *slot = after;
        Ok(slot)
    }

    /// Deletes flag `key`, refused while a draft or running iteration of one
    /// of `experiments` uses it.
    pub fn delete_flag<'e>(
        &mut self,
        key: &str,
        experiments: impl IntoIterator<Item = &'e Experiment>,
    ) -> Result<FeatureFlag, CatalogError> {
        if !self.flags.contains_key(key) {
            return Err(flag_not_found(key));
        }
        in_use(experiments, |e| uses_flag(e, key), &format!("flag `{key}`"))?;
        self.flags.remove(key).ok_or_else(|| flag_not_found(key))
    }

    /// Creates a metric from a `MetricPost`.
    pub fn create_metric(
        &mut self,
        body: &Value,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<&MetricRep, CatalogError> {
        let allowed = |unit: &str| self.enabled_for_experiments(unit);
        let metric = MetricRep::create(body, self.metric_context(&allowed), now, ids)?;
        if self.metrics.contains_key(&metric.key) {
            return Err(CatalogError::KeyExists(format!(
                "a metric with key `{}` already exists",
                metric.key
            )));
        }
        let key = metric.key.clone();
        Ok(self.metrics.entry(key).or_insert(metric))
    }

    /// Applies a JSON Patch to metric `key`: `key` and `kind` cannot change;
    /// the result gets a fresh `_versionId`, and the groups that hold the
    /// metric show it as it now is.
    pub fn patch_metric(
        &mut self,
        key: &str,
        patch: &JsonPatch,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<&MetricRep, CatalogError> {
        let before = self.metrics.get(key).ok_or_else(|| metric_not_found(key))?;
        refuse_fixed(patch, METRIC_FIXED)?;
        let mut after: MetricRep = reread(patch.apply(&to_value(before))?, "metric")?;
        let allowed = |unit: &str| self.enabled_for_experiments(unit);
        after.problems(self.metric_context(&allowed)).into_result()?;
        if after != *before {
            after.version_id = ids.uuid();
            after.version = Some(before.version.unwrap_or(1) + 1);
            after.last_modified = Some(now);
        }
        for group in self.metric_groups.values_mut() {
            for member in group.metrics.iter_mut().filter(|m| m.key == key) {
                *member = after.in_group(member.name_in_group.clone());
            }
        }
        let slot = self.metrics.get_mut(key).ok_or_else(|| metric_not_found(key))?;
        *slot = after;
        Ok(slot)
    }

    /// Deletes metric `key`, refused while a metric group holds it or a
    /// draft or running iteration of one of `experiments` uses it.
    pub fn delete_metric<'e>(
        &mut self,
        key: &str,
        experiments: impl IntoIterator<Item = &'e Experiment>,
    ) -> Result<MetricRep, CatalogError> {
        if !self.metrics.contains_key(key) {
            return Err(metric_not_found(key));
        }
        if let Some(group) = self.groups_with_metric(key).next() {
            let mut violations = Violations::default();
            violations.push(
                "",
                ViolationCode::InUse,
                format!("metric `{key}` is in metric group `{}`; remove it from the group first", group.key),
            );
            return Err(violations.into());
        }
        in_use(experiments, |e| uses_metric(e, key), &format!("metric `{key}`"))?;
        self.metrics.remove(key).ok_or_else(|| metric_not_found(key))
    }

    /// Creates a metric group from a `MetricGroupPost`.
    pub fn create_metric_group(
        &mut self,
        body: &Value,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<&MetricGroupRep, CatalogError> {
        let metrics = &self.metrics;
        let lookup = |key: &str| metrics.get(key).cloned();
        let group = MetricGroupRep::create(body, &self.key, &lookup, now, ids)?;
        if self.metric_groups.contains_key(&group.key) {
            return Err(CatalogError::KeyExists(format!(
                "a metric group with key `{}` already exists",
                group.key
            )));
        }
        let key = group.key.clone();
        Ok(self.metric_groups.entry(key).or_insert(group))
    }

    /// Applies a JSON Patch to metric group `key`; its members are looked up
    /// again, so a patch of `/metrics` names metrics by `key` and `nameInGroup`.
    pub fn patch_metric_group(
        &mut self,
        key: &str,
        patch: &JsonPatch,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<&MetricGroupRep, CatalogError> {
        let before = self.metric_groups.get(key).ok_or_else(|| group_not_found(key))?;
        refuse_fixed(patch, GROUP_FIXED)?;
        let patched: MetricGroupRep = reread(patch.apply(&to_value(before))?, "metric group")?;
        let members = patched.member_inputs();
        let metrics = &self.metrics;
        let lookup = |key: &str| metrics.get(key).cloned();
        let mut after = patched.with_members(&members, &lookup)?;
        if after != *before {
            after.version = before.version + 1;
            after.version_id = Some(ids.uuid());
            after.last_modified = now;
        }
        let slot = self.metric_groups.get_mut(key).ok_or_else(|| group_not_found(key))?;
        *slot = after;
        Ok(slot)
    }

    /// Deletes metric group `key`, refused while a draft or running
    /// iteration of one of `experiments` uses it.
    pub fn delete_metric_group<'e>(
        &mut self,
        key: &str,
        experiments: impl IntoIterator<Item = &'e Experiment>,
    ) -> Result<MetricGroupRep, CatalogError> {
        if !self.metric_groups.contains_key(key) {
            return Err(group_not_found(key));
        }
        in_use(experiments, |e| uses_metric(e, key), &format!("metric group `{key}`"))?;
        self.metric_groups.remove(key).ok_or_else(|| group_not_found(key))
    }
}

/// A 400 naming the first experiment of `experiments` for which `uses` holds.
fn in_use<'e>(
    experiments: impl IntoIterator<Item = &'e Experiment>,
    uses: impl Fn(&Experiment) -> bool,
    what: &str,
) -> Result<(), CatalogError> {
    match experiments.into_iter().find(|e| uses(e)) {
        None => Ok(()),
        Some(experiment) => {
            let mut violations = Violations::default();
            violations.push(
                "",
                ViolationCode::InUse,
                format!(
                    "{what} is used by a draft or running iteration of experiment `{}` in environment `{}`",
                    experiment.key, experiment.environment_key
                ),
            );
            Err(violations.into())
        }
    }
}

fn flag_not_found(key: &str) -> CatalogError {
    CatalogError::NotFound(format!("flag `{key}` not found"))
}

fn metric_not_found(key: &str) -> CatalogError {
    CatalogError::NotFound(format!("metric `{key}` not found"))
}

fn group_not_found(key: &str) -> CatalogError {
    CatalogError::NotFound(format!("metric group `{key}` not found"))
}
