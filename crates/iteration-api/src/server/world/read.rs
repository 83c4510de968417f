//! Reading a world file: its shape first, then that everything it refers to
//! exists. Every problem is collected, so that one run shows them all.

use std::collections::HashSet;

use iteration_model::{MetricKind, is_valid_key, pointer};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use iteration_model::{Experiment, ProjectCatalog};

use super::{FORMAT_VERSION, Project, SeedExperiment, World, WorldError, WorldProblem, seed_experiment};

/// The fields a project may have; others are reported, so that a typo does
/// not silently drop data.
const PROJECT_FIELDS: &[&str] = &[
    "key",
    "name",
    "defaultRandomizationUnit",
    "contextKinds",
    "environments",
    "flags",
    "metrics",
    "metricGroups",
    "layers",
    "holdouts",
    "covariates",
    "experiments",
    "catalog",
];

/// The fields of a project that describe its catalog in short; a project
/// with a whole `catalog` has none of them.
const SHORT_CATALOG_FIELDS: &[&str] = &[
    "defaultRandomizationUnit",
    "contextKinds",
    "flags",
    "metrics",
    "metricGroups",
    "layers",
    "holdouts",
    "covariates",
];

const WORLD_FIELDS: &[&str] = &["formatVersion", "tokens", "projects"];

#[derive(Default)]
struct Problems(Vec<WorldProblem>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(WorldProblem { path: path.into(), message: message.into() });
    }
}

pub(super) fn world(bytes: &[u8]) -> Result<World, WorldError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|err| WorldError::Syntax {
        message: err.to_string(),
        line: err.line(),
        column: err.column(),
    })?;
    let mut problems = Problems::default();
    let world = read_world(&value, &mut problems);
    // Cross-references are checked only on a well-formed world: an item that
    // could not be read would otherwise also show up as "unknown" elsewhere.
    if let (Some(world), true) = (&world, problems.0.is_empty()) {
        check_world(world, &mut problems);
    }
    match world {
        Some(world) if problems.0.is_empty() => Ok(world),
        _ => Err(WorldError::Invalid { problems: problems.0 }),
    }
}

fn object<'v>(
    value: &'v Value,
    path: &str,
    fields: &[&str],
    problems: &mut Problems,
) -> Option<&'v Map<String, Value>> {
    let Some(object) = value.as_object() else {
        problems.push(path, "must be a JSON object");
        return None;
    };
    for name in object.keys().filter(|name| !fields.contains(&name.as_str())) {
        problems.push(
            pointer(path, name),
            format!("unknown field `{name}`; expected one of {}", fields.join(", ")),
        );
    }
    Some(object)
}

/// Reads one value with serde, reporting a failure at `path`.
fn item<T: DeserializeOwned>(value: &Value, path: &str, problems: &mut Problems) -> Option<T> {
    match T::deserialize(value) {
        Ok(item) => Some(item),
        Err(err) => {
            problems.push(path, err.to_string());
            None
        }
    }
}

/// Reads an optional array field item by item, so that each bad item is
/// reported at its own path.
fn items<T: DeserializeOwned>(
    object: &Map<String, Value>,
    path: &str,
    name: &str,
    required: bool,
    problems: &mut Problems,
) -> Option<Vec<T>> {
    let path = pointer(path, name);
    match object.get(name) {
        None | Some(Value::Null) if !required => Some(Vec::new()),
        None | Some(Value::Null) => {
            problems.push(path, format!("`{name}` is required"));
            None
        }
        Some(Value::Array(values)) => {
            let read: Vec<Option<T>> =
                values.iter().enumerate().map(|(i, v)| item(v, &pointer(&path, i), problems)).collect();
            read.into_iter().collect()
        }
        Some(_) => {
            problems.push(path, "must be an array");
            None
        }
    }
}

fn required<T: DeserializeOwned>(
    object: &Map<String, Value>,
    path: &str,
    name: &str,
    problems: &mut Problems,
) -> Option<T> {
    let path = pointer(path, name);
    match object.get(name) {
        None | Some(Value::Null) => {
            problems.push(path, format!("`{name}` is required"));
            None
        }
        Some(value) => item(value, &path, problems),
    }
}

/// `Some(None)` when absent or null, `None` when present but wrong.
fn optional<T: DeserializeOwned>(
    object: &Map<String, Value>,
    path: &str,
    name: &str,
    problems: &mut Problems,
) -> Option<Option<T>> {
    match object.get(name) {
        None | Some(Value::Null) => Some(None),
        Some(value) => item(value, &pointer(path, name), problems).map(Some),
    }
}

fn read_world(value: &Value, problems: &mut Problems) -> Option<World> {
    let object = object(value, "", WORLD_FIELDS, problems)?;
    let format_version: Option<u32> = required(object, "", "formatVersion", problems);
    if let Some(version) = format_version
        && !(1..=FORMAT_VERSION).contains(&version)
    {
        problems.push(
            "/formatVersion",
            format!(
                "format version {version} is not supported; this program reads versions 1 to {FORMAT_VERSION}"
            ),
        );
    }
    let version = format_version.unwrap_or(FORMAT_VERSION);
    let tokens = items(object, "", "tokens", false, problems);
    let projects = match object.get("projects") {
        Some(Value::Array(values)) => values
            .iter()
            .enumerate()
            .map(|(i, v)| read_project(v, &pointer("/projects", i), version, problems))
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Option<Vec<_>>>(),
        None => {
            problems.push("/projects", "`projects` is required");
            None
        }
        Some(_) => {
            problems.push("/projects", "must be an array");
            None
        }
    };
    format_version?;
    Some(World::assemble(tokens?, projects?))
}

fn read_project(value: &Value, path: &str, version: u32, problems: &mut Problems) -> Option<Project> {
    let fields = if version >= 2 { PROJECT_FIELDS } else { &PROJECT_FIELDS[..PROJECT_FIELDS.len() - 1] };
    let object = object(value, path, fields, problems)?;
    let key: Option<String> = required(object, path, "key", problems);
    let name = required(object, path, "name", problems);
    let default_randomization_unit = optional(object, path, "defaultRandomizationUnit", problems);
    let context_kinds = items(object, path, "contextKinds", false, problems);
    let environments = items(object, path, "environments", true, problems);
    let flags = items(object, path, "flags", false, problems);
    let metrics = items(object, path, "metrics", false, problems);
    let metric_groups = items(object, path, "metricGroups", false, problems);
    let layers = items(object, path, "layers", false, problems);
    let holdouts = items(object, path, "holdouts", false, problems);
    let covariates = items(object, path, "covariates", false, problems);
    let catalog: Option<Option<ProjectCatalog>> = optional(object, path, "catalog", problems);
    if matches!(catalog, Some(Some(_))) {
        for name in SHORT_CATALOG_FIELDS.iter().filter(|name| object.contains_key(**name)) {
            problems.push(
                pointer(path, name),
                format!("`{name}` cannot be given with `catalog`, which holds the whole catalog"),
            );
        }
    }
    let experiments: Option<Vec<Experiment>> = if version >= 2 {
        items(object, path, "experiments", false, problems)
    } else {
        let seeds: Option<Vec<SeedExperiment>> = items(object, path, "experiments", false, problems);
        let project = key.as_deref().unwrap_or_default();
        seeds.map(|seeds| seeds.iter().map(|seed| seed_experiment(project, seed)).collect())
    };
    Some(Project {
        key: key?,
        name: name?,
        default_randomization_unit: default_randomization_unit?,
        context_kinds: context_kinds?,
        environments: environments?,
        flags: flags?,
        metrics: metrics?,
        metric_groups: metric_groups?,
        layers: layers?,
        holdouts: holdouts?,
        covariates: covariates?,
        catalog: catalog?,
        experiments: experiments?,
    })
}

/// Reports keys that are not valid API keys, and keys used twice.
fn unique_keys<'a>(
    keys: impl IntoIterator<Item = (String, &'a str)>,
    what: &str,
    problems: &mut Problems,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for (path, key) in keys {
        if !is_valid_key(key) {
            problems.push(
                &path,
                format!("{what} key {key:?} is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -"),
            );
        }
        if !seen.insert(key) {
            problems.push(&path, format!("{what} `{key}` is defined twice"));
        }
    }
    seen
}

fn check_world(world: &World, problems: &mut Problems) {
    let projects = unique_keys(
        world.projects.iter().enumerate().map(|(i, p)| (format!("/projects/{i}/key"), p.key.as_str())),
        "project",
        problems,
    );
    let mut secrets = HashSet::new();
    for (i, token) in world.tokens.iter().enumerate() {
        let path = format!("/tokens/{i}");
        if token.token.trim().is_empty() {
            problems.push(format!("{path}/token"), "a token must not be blank");
        } else if !secrets.insert(token.token.as_str()) {
            // The secret itself is never echoed, not even in an error.
            problems.push(format!("{path}/token"), "this token is defined twice");
        }
        for (j, project) in token.projects.iter().flatten().enumerate() {
            if !projects.contains(project.as_str()) {
                problems.push(format!("{path}/projects/{j}"), format!("unknown project `{project}`"));
            }
        }
    }
    for (i, project) in world.projects.iter().enumerate() {
        check_project(project, &format!("/projects/{i}"), problems);
    }
}

fn check_project(project: &Project, path: &str, problems: &mut Problems) {
    let environments = unique_keys(
        project
            .environments
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("{path}/environments/{i}/key"), e.key.as_str())),
        "environment",
        problems,
    );
    let kinds = unique_keys(
        project
            .context_kinds
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("{path}/contextKinds/{i}/key"), k.key.as_str())),
        "context kind",
        problems,
    );
    if let Some(unit) = &project.default_randomization_unit {
        let enabled = project.context_kinds.iter().any(|k| &k.key == unit && k.enabled_for_experiments);
        if !enabled {
            problems.push(
                format!("{path}/defaultRandomizationUnit"),
                format!("`{unit}` is not a context kind of this project enabled for experiments"),
            );
        }
    }
    if let Some(catalog) = &project.catalog {
        check_catalog(project, catalog, &format!("{path}/catalog"), problems);
    }
    let environment_list = environments.iter().copied().collect::<Vec<_>>().join(", ");
    let known_environment = |environment: &str, at: String, problems: &mut Problems| {
        if !environments.contains(environment) {
            problems.push(
                at,
                format!("unknown environment `{environment}`; this project has {environment_list}"),
            );
        }
    };

    unique_keys(
        project.flags.iter().enumerate().map(|(i, f)| (format!("{path}/flags/{i}/key"), f.key.as_str())),
        "flag",
        problems,
    );
    for (i, flag) in project.flags.iter().enumerate() {
        let path = format!("{path}/flags/{i}");
        if flag.variations.len() < 2 {
            problems.push(format!("{path}/variations"), "a flag needs at least two variations");
        }
        let mut ids = HashSet::new();
        for (j, variation) in flag.variations.iter().enumerate() {
            if !ids.insert(variation.id.as_str()) {
                problems.push(
                    format!("{path}/variations/{j}/_id"),
                    format!("variation `{}` is defined twice", variation.id),
                );
            }
        }
        for (environment, config) in &flag.environments {
            let at = pointer(&format!("{path}/environments"), environment);
            known_environment(environment, at.clone(), problems);
            if config.version < 1 {
                problems
                    .push(format!("{at}/version"), format!("version {} must be at least 1", config.version));
            }
            let mut rules = HashSet::new();
            for (k, rule) in config.rules.iter().enumerate() {
                if rule.id == "fallthrough" {
                    problems.push(
                        format!("{at}/rules/{k}/_id"),
                        "`fallthrough` names the default rule; pick another id",
                    );
                } else if !rules.insert(rule.id.as_str()) {
                    problems
                        .push(format!("{at}/rules/{k}/_id"), format!("rule `{}` is defined twice", rule.id));
                }
            }
        }
        for environment in &project.environments {
            if !flag.environments.contains_key(&environment.key) {
                problems.push(
                    format!("{path}/environments"),
                    format!("no configuration for environment `{}`", environment.key),
                );
            }
        }
    }

    let metric_keys =
        project.metrics.iter().enumerate().map(|(i, m)| (format!("{path}/metrics/{i}/key"), m.key.as_str()));
    let group_keys = project
        .metric_groups
        .iter()
        .enumerate()
        .map(|(i, g)| (format!("{path}/metricGroups/{i}/key"), g.key.as_str()));
    // Metrics and groups share one key space: an iteration names either by key.
    unique_keys(metric_keys.chain(group_keys), "metric or metric group", problems);
    for (i, metric) in project.metrics.iter().enumerate() {
        let path = format!("{path}/metrics/{i}");
        if !matches!(metric.kind, MetricKind::Pageview | MetricKind::Click | MetricKind::Custom) {
            problems.push(
                format!("{path}/kind"),
                format!("kind `{}` is not one of pageview, click, custom", metric.kind),
            );
        }
        for (j, unit) in metric.randomization_units.iter().enumerate() {
            if !kinds.contains(unit.as_str()) {
                problems
                    .push(format!("{path}/randomizationUnits/{j}"), format!("unknown context kind `{unit}`"));
            }
        }
    }
    for (i, group) in project.metric_groups.iter().enumerate() {
        let path = format!("{path}/metricGroups/{i}");
        if !matches!(group.kind, MetricKind::Funnel | MetricKind::Standard) {
            problems.push(
                format!("{path}/kind"),
                format!("kind `{}` is not one of funnel, standard", group.kind),
            );
        }
        if group.metrics.is_empty() {
            problems.push(format!("{path}/metrics"), "a metric group needs at least one metric");
        }
        for (j, member) in group.metrics.iter().enumerate() {
            if !project.metrics.iter().any(|m| m.key == member.key) {
                let what = if project.metric_groups.iter().any(|g| g.key == member.key) {
                    "is a metric group; a group's members must be single metrics"
                } else {
                    "is not a metric of this project"
                };
                problems.push(format!("{path}/metrics/{j}/key"), format!("`{}` {what}", member.key));
            }
        }
    }

    let experiments = unique_keys(
        project
            .experiments
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("{path}/experiments/{i}/key"), e.key.as_str())),
        "experiment",
        problems,
    );
    for (i, experiment) in project.experiments.iter().enumerate() {
        known_environment(
            &experiment.environment_key,
            format!("{path}/experiments/{i}/environmentKey"),
            problems,
        );
    }
    for (i, layer) in project.layers.iter().enumerate() {
        let path = format!("{path}/layers/{i}");
        known_environment(&layer.environment_key, format!("{path}/environmentKey"), problems);
        for (experiment, percent) in &layer.reservations {
            let at = pointer(&format!("{path}/reservations"), experiment);
            let in_environment = project
                .experiments
                .iter()
                .any(|e| &e.key == experiment && e.environment_key == layer.environment_key);
            if !experiments.contains(experiment.as_str()) || !in_environment {
                problems.push(
                    &at,
                    format!("`{experiment}` is not an experiment of environment `{}`", layer.environment_key),
                );
            }
            if !(0..=100).contains(percent) {
                problems.push(&at, format!("{percent} is not a percentage from 0 to 100"));
            }
        }
        if !(0..=100).contains(&layer.other_reservation_percent) {
            problems.push(
                format!("{path}/otherReservationPercent"),
                format!("{} is not a percentage from 0 to 100", layer.other_reservation_percent),
            );
        }
        let total: i64 = project
            .layers
            .iter()
            .filter(|l| l.key == layer.key && l.environment_key == layer.environment_key)
            .map(|l| l.other_reservation_percent + l.reservations.values().sum::<i64>())
            .sum();
        if total > iteration_model::LAYER_CAPACITY {
            problems.push(
                format!("{path}/reservations"),
                format!(
                    "layer `{}` is reserved {total} percent in {}; at most 100",
                    layer.key, layer.environment_key
                ),
            );
        }
    }
    for (i, holdout) in project.holdouts.iter().enumerate() {
        let path = format!("{path}/holdouts/{i}");
        known_environment(&holdout.environment_key, format!("{path}/environmentKey"), problems);
        let amount = iteration_model::AllocationPercent::parse(&holdout.holdout_amount);
        if !amount
            .is_ok_and(|a| !a.is_zero() && a.units() < iteration_model::AllocationPercent::HUNDRED.units())
        {
            problems.push(
                format!("{path}/holdoutAmount"),
                format!("`{}` is not a percentage above 0 and below 100", holdout.holdout_amount),
            );
        }
        if let Some(unit) = &holdout.randomization_unit {
            if !project.context_kinds.iter().any(|k| &k.key == unit && k.enabled_for_experiments) {
                problems.push(
                    format!("{path}/randomizationUnit"),
                    format!("`{unit}` is not a context kind enabled for experiments"),
                );
            }
        }
        if let Some(metric) = &holdout.primary_metric_key {
            if !project.metrics.iter().any(|m| &m.key == metric) {
                problems.push(
                    format!("{path}/primaryMetricKey"),
                    format!("`{metric}` is not a metric of the project"),
                );
            }
        }
        let clash = project
            .experiments
            .iter()
            .any(|e| e.key == holdout.key && e.environment_key == holdout.environment_key)
            || project.holdouts[..i]
                .iter()
                .any(|h| h.key == holdout.key && h.environment_key == holdout.environment_key);
        if clash {
            problems.push(
                format!("{path}/key"),
                format!("`{}` is already an experiment or holdout key of its environment", holdout.key),
            );
        }
    }
    let mut covariates = HashSet::new();
    for (i, covariate) in project.covariates.iter().enumerate() {
        let path = format!("{path}/covariates/{i}");
        known_environment(&covariate.environment_key, format!("{path}/environmentKey"), problems);
        if !covariates.insert(covariate.id.as_str()) {
            problems.push(format!("{path}/id"), format!("covariate `{}` is defined twice", covariate.id));
        }
    }
}

/// A whole catalog belongs to its project: same key, same environments.
fn check_catalog(project: &Project, catalog: &ProjectCatalog, path: &str, problems: &mut Problems) {
    if catalog.key != project.key {
        problems.push(
            format!("{path}/key"),
            format!("the catalog is of project `{}`; it must be of `{}`", catalog.key, project.key),
        );
    }
    let ours: Vec<(&str, &str)> =
        project.environments.iter().map(|e| (e.key.as_str(), e.name.as_str())).collect();
    let its: Vec<(&str, &str)> =
        catalog.environments.iter().map(|e| (e.key.as_str(), e.name.as_str())).collect();
    if ours != its {
        problems.push(
            format!("{path}/environments"),
            "the catalog's environments must be the project's `environments`, in the same order",
        );
    }
}
