//! The live catalog of one project: flags, metrics, metric groups, context
//! kinds, experimentation settings, layers and holdouts, as the API changes
//! them.
//!
//! A server stores one [`ProjectCatalog`] per project beside its
//! experiments and derives from it, per environment, the [`Catalog`] that
//! [`crate::resolve_iteration`] checks an iteration against
//! ([`ProjectCatalog::view`]). The rules of each change are pure functions
//! here; where a rule needs the experiments (a flag or metric still in
//! use), the caller passes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::{Catalog, CatalogMetric, CatalogMetricGroup, ContextKind, GroupMember};
use crate::experiment::Experiment;
use crate::flag::{EnvironmentName, FeatureFlag};
use crate::holdout::Holdout;
use crate::iteration::{CovariateInfoRep, IterationRep};
use crate::layer::Layer;
use crate::link::{Links, links};
use crate::metric_catalog::{MetricContext, MetricGroupRep, MetricRep};
use crate::millis::UnixMillis;
use crate::reader::Reader;
use crate::text::Text;
use crate::violation::{ViolationCode, Violations, pointer};
use crate::wire::representation;

representation! {
    /// A context kind of a project (`ContextKindRep`).
    pub struct ContextKindRep {
        /// The context kind key.
        req key: String = "key",
        /// Its name.
        req name: String = "name",
        /// Its description.
        req description: String = "description",
        /// Its version: one more on every change.
        req version: i64 = "version",
        /// When it was created.
        req creation_date: UnixMillis = "creationDate",
        /// When it last changed.
        req last_modified: UnixMillis = "lastModified",
        /// How it was created: `default`, `auto-add` or `manual`.
        req created_from: String = "createdFrom",
        /// Alias of `archived`.
        opt hide_in_targeting: bool = "hideInTargeting",
        /// Whether it is archived.
        opt archived: bool = "archived",
        /// Related resources.
        opt links: Links = "_links",
    }
}

representation! {
    /// A project's context kinds (`ContextKindsCollectionRep`).
    pub struct ContextKindsCollectionRep {
        /// The context kinds.
        req items: Vec<ContextKindRep> = "items",
        /// Related resources.
        req links: Links = "_links",
    }
}

representation! {
    /// A randomization unit of a project's experimentation settings (`RandomizationUnitRep`).
    pub struct RandomizationUnitRep {
        /// The context kind key.
        opt randomization_unit: String = "randomizationUnit",
        /// Whether new iterations default to it.
        opt default: bool = "default",
        /// Whether it is hidden in the user interface.
        opt hidden: bool = "_hidden",
        /// Its display name.
        opt display_name: String = "_displayName",
    }
}

representation! {
    /// A project's experimentation settings (`RandomizationSettingsRep`).
    pub struct RandomizationSettingsRep {
        /// The project ID.
        opt project_id: String = "_projectId",
        /// The project key.
        opt project_key: String = "_projectKey",
        /// The context kinds enabled for experiments.
        opt randomization_units: Vec<RandomizationUnitRep> = "randomizationUnits",
        /// When the settings were created.
        opt creation_date: UnixMillis = "_creationDate",
        /// Related resources.
        opt links: Links = "_links",
    }
}

/// A context kind enabled for experiments, in the experimentation settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RandomizationUnit {
    /// The context kind key.
    pub key: String,
    /// Whether new iterations default to it.
    pub default: bool,
}

/// The live catalog of one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectCatalog {
    /// The project key.
    pub key: String,
    /// The project ID.
    pub id: String,
    /// When the settings were created.
    pub creation_date: UnixMillis,
    /// The environments, in order.
    pub environments: Vec<EnvironmentName>,
    /// The context kinds, in order.
    pub context_kinds: Vec<ContextKindRep>,
    /// The context kinds enabled for experiments (the experimentation settings).
    pub randomization_units: Vec<RandomizationUnit>,
    /// The flags by key.
    pub flags: BTreeMap<String, FeatureFlag>,
    /// The single metrics by key.
    pub metrics: BTreeMap<String, MetricRep>,
    /// The metric groups by key.
    pub metric_groups: BTreeMap<String, MetricGroupRep>,
    /// Each environment's covariate files by ID, by environment key.
    #[serde(default)]
    pub covariates: BTreeMap<String, BTreeMap<String, CovariateInfoRep>>,
    /// The layers by key. Absent from catalogs stored before layers were live.
    #[serde(default)]
    pub layers: BTreeMap<String, Layer>,
    /// The holdouts of every environment, in the order they were created.
    /// Absent from catalogs stored before holdouts were live.
    #[serde(default)]
    pub holdouts: Vec<Holdout>,
}

impl ProjectCatalog {
    /// The randomization unit iterations and metrics get when they name none:
    /// the default of the experimentation settings, else `user`.
    pub fn default_randomization_unit(&self) -> &str {
        self.randomization_units.iter().find(|u| u.default).map_or("user", |u| u.key.as_str())
    }

    /// Whether `kind` is a context kind enabled for experiments.
    pub fn enabled_for_experiments(&self, kind: &str) -> bool {
        self.randomization_units.iter().any(|u| u.key == kind)
    }

    /// The context for the metric rules.
    pub fn metric_context<'a>(&'a self, unit_allowed: &'a dyn Fn(&str) -> bool) -> MetricContext<'a> {
        MetricContext { project: &self.key, default_unit: self.default_randomization_unit(), unit_allowed }
    }

    /// Whether the project has the environment.
    pub fn has_environment(&self, environment: &str) -> bool {
        self.environments.iter().any(|e| e.key == environment)
    }

    /// What [`crate::resolve_iteration`] checks against in `environment`;
    /// `None` when the project has no such environment.
    pub fn view(&self, environment: &str) -> Option<Catalog> {
        if !self.has_environment(environment) {
            return None;
        }
        Some(Catalog {
            project_key: self.key.clone(),
            environment_key: environment.to_owned(),
            default_randomization_unit: Some(self.default_randomization_unit().to_owned()),
            context_kinds: self
                .context_kinds
                .iter()
                .map(|kind| ContextKind {
                    key: kind.key.clone(),
                    name: Some(kind.name.clone()),
                    enabled_for_experiments: self.enabled_for_experiments(&kind.key),
                })
                .collect(),
            flags: self
                .flags
                .iter()
                .filter_map(|(key, flag)| Some((key.clone(), flag.catalog_flag(environment)?)))
                .collect(),
            metrics: self.metrics.iter().map(|(key, m)| (key.clone(), catalog_metric(m))).collect(),
            metric_groups: self
                .metric_groups
                .iter()
                .map(|(key, g)| (key.clone(), catalog_group(g)))
                .collect(),
            covariates: self.covariates.get(environment).cloned().unwrap_or_default(),
        })
    }

    /// The experimentation settings as the API shows them.
    pub fn settings(&self) -> RandomizationSettingsRep {
        RandomizationSettingsRep {
            project_id: Some(self.id.clone()),
            project_key: Some(self.key.clone()),
            randomization_units: Some(
                self.randomization_units
                    .iter()
                    .map(|unit| RandomizationUnitRep {
                        randomization_unit: Some(unit.key.clone()),
                        default: Some(unit.default),
                        hidden: Some(false),
                        display_name: self
                            .context_kinds
                            .iter()
                            .find(|k| k.key == unit.key)
                            .map(|k| k.name.clone()),
                        extra: Map::new(),
                    })
                    .collect(),
            ),
            creation_date: Some(self.creation_date),
            links: Some(links([("self", format!("/api/v2/projects/{}/experimentation-settings", self.key))])),
            extra: Map::new(),
        }
    }

    /// Replaces the experimentation settings with a `RandomizationSettingsPut`
    /// body: each unit an existing context kind, no repeats, exactly one
    /// default. Every problem at once.
    pub fn put_settings(&mut self, body: &Value) -> Result<(), Violations> {
        let mut r = Reader::new();
        let units = (|| {
            let object = r.object(body, "")?;
            r.req(object, "", "randomizationUnits", |r, v, p| {
                r.each(v, p, |r, item, path| {
                    let object = r.object(item, path)?;
                    let key = r.req(object, path, "randomizationUnit", Reader::string);
                    let default = r.opt(object, path, "default", Reader::boolean);
                    // Deprecated and not used, but the document says it is a
                    // string, so anything else is refused like any mistyped field.
                    let standard = r.opt(object, path, "standardRandomizationUnit", Reader::string);
                    standard?;
                    Some(RandomizationUnit { key: key?, default: default?.unwrap_or(false) })
                })
            })
        })();
        let units = r.finish(units)?;
        let mut v = Violations::default();
        for (i, unit) in units.iter().enumerate() {
            let path = pointer(&pointer("/randomizationUnits", i), "randomizationUnit");
            if !self.context_kinds.iter().any(|k| k.key == unit.key) {
                v.push(
                    path,
                    ViolationCode::UnknownContextKind,
                    format!("`{}` is not a context kind of this project", unit.key),
                );
            } else if units[..i].iter().any(|earlier| earlier.key == unit.key) {
                v.push(path, ViolationCode::Duplicate, format!("`{}` is listed twice", unit.key));
            }
        }
        let defaults = units.iter().filter(|u| u.default).count();
        if defaults != 1 {
            v.push(
                "/randomizationUnits",
                ViolationCode::NotAllowed,
                format!("{defaults} randomization units are marked default; exactly one must be"),
            );
        }
        v.into_result()?;
        self.randomization_units = units;
        Ok(())
    }

    /// Creates or updates context kind `key` from an `UpsertContextKindPayload`
    /// body. Answers whether it was created.
    pub fn put_context_kind(&mut self, key: &str, body: &Value, now: UnixMillis) -> Result<bool, Violations> {
        let mut r = Reader::new();
        let read = (|| {
            let object = r.object(body, "")?;
            let name = r.req(object, "", "name", Reader::string);
            let description = r.opt(object, "", "description", Reader::string);
            let hide = r.opt(object, "", "hideInTargeting", Reader::boolean);
            let archived = r.opt(object, "", "archived", Reader::boolean);
            let version = r.opt(object, "", "version", Reader::integer);
            Some((name?, description?, hide?, archived?, version?))
        })();
        let (name, description, hide, archived, version) = r.finish(read)?;
        let mut v = Violations::default();
        if !crate::key::is_valid_key(key) {
            v.push("", ViolationCode::InvalidKey, format!("`{key}` is not a valid context kind key"));
        }
        if name.trim().is_empty() {
            v.push("/name", ViolationCode::Blank, "name must not be blank");
        }
        let archived = archived.or(hide);
        if archived == Some(true) && self.enabled_for_experiments(key) {
            v.push(
                "/archived",
                ViolationCode::NotAllowed,
                format!(
                    "`{key}` is enabled for experiments; remove it from the experimentation settings first"
                ),
            );
        }
        v.into_result()?;
        let links = links([("self", format!("/api/v2/projects/{}/context-kinds/{key}", self.key))]);
        match self.context_kinds.iter_mut().find(|k| k.key == key) {
            Some(kind) => {
                kind.name = name;
                if let Some(description) = description {
                    kind.description = description;
                }
                if let Some(archived) = archived {
                    kind.archived = Some(archived);
                    kind.hide_in_targeting = Some(archived);
                }
                kind.version = version.unwrap_or(kind.version + 1).max(kind.version + 1);
                kind.last_modified = now;
                Ok(false)
            }
            None => {
                self.context_kinds.push(ContextKindRep {
                    key: key.to_owned(),
                    name,
                    description: description.unwrap_or_default(),
                    version: version.unwrap_or(1),
                    creation_date: now,
                    last_modified: now,
                    created_from: "manual".to_owned(),
                    hide_in_targeting: Some(archived.unwrap_or(false)),
                    archived: Some(archived.unwrap_or(false)),
                    links: Some(links),
                    extra: Map::new(),
                });
                Ok(true)
            }
        }
    }

    /// The metric groups that contain metric `key`.
    pub fn groups_with_metric<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a MetricGroupRep> + 'a {
        self.metric_groups.values().filter(move |g| g.metrics.iter().any(|m| m.key == key))
    }
}

fn catalog_metric(metric: &MetricRep) -> CatalogMetric {
    CatalogMetric {
        key: Text::from(&metric.key),
        name: Text::from(&metric.name),
        kind: metric.kind.clone(),
        version_id: Text::from(&metric.version_id),
        is_numeric: metric.is_numeric,
        unit_aggregation_type: metric.unit_aggregation_type.clone(),
        event_key: metric.event_key.as_deref().map(Text::from),
        randomization_units: metric.randomization_units.iter().flatten().map(Text::from).collect(),
        analysis_type: metric.analysis_type.clone(),
    }
}

fn catalog_group(group: &MetricGroupRep) -> CatalogMetricGroup {
    CatalogMetricGroup {
        key: Text::from(&group.key),
        name: Text::from(&group.name),
        kind: group.kind.clone(),
        version_id: match &group.version_id {
            Some(id) => Text::from(id),
            None => Text::from(group.version.to_string()),
        },
        members: group
            .metrics
            .iter()
            .map(|m| GroupMember { key: m.key.to_string(), name_in_group: m.name_in_group.clone() })
            .collect(),
    }
}

/// The iterations of `experiment` that hold catalog entities in use: its
/// draft and its running iteration.
pub fn live_iterations(experiment: &Experiment) -> impl Iterator<Item = &IterationRep> {
    experiment.draft_iteration.iter().chain(
        experiment
            .current_iteration
            .iter()
            .filter(|i| i.status == crate::iteration::IterationStatus::Running),
    )
}

/// Whether a draft or running iteration of `experiment` uses flag `key`.
pub fn uses_flag(experiment: &Experiment, key: &str) -> bool {
    live_iterations(experiment).any(|i| i.flags.as_ref().is_some_and(|flags| flags.contains_key(key)))
}

/// Whether a draft or running iteration of `experiment` uses metric or
/// group `key` (directly, or a metric inside a group it uses).
pub fn uses_metric(experiment: &Experiment, key: &str) -> bool {
    live_iterations(experiment).any(|i| {
        i.metrics
            .iter()
            .flatten()
            .any(|m| m.key == key || m.metrics.iter().flatten().any(|member| member.key == key))
    })
}
