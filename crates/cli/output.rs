//! Printing results: JSON by default (what the API answered, pretty), or a
//! table for people.

use std::fmt::Write as _;

use crate::args::OutputFormat;
use iteration_api::client::{FaultRule, RecordedRequest};
use iteration_model::{
    ContextKindsCollectionRep, Experiment, ExperimentCollectionRep, FeatureFlag, FeatureFlags, HoldoutRep,
    HoldoutsCollectionRep, IterationRep, Layer, LayerCollectionRep, LayerEnvironment, MetricCollectionRep,
    MetricGroupCollectionRep, MetricGroupRep, MetricRep, RandomizationSettingsRep, UnixMillis,
    UpsertResponseRep, Violations,
};

/// JSON text of a value, pretty-printed. A macro rather than a generic
/// function so that this binary needs no direct serde dependency.
macro_rules! json {
    ($value:expr) => {
        // Our representations serialise without fail (string map keys only);
        // should one ever fail, say so in the output instead of panicking.
        serde_json::to_string_pretty($value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    };
}

/// An experiment.
pub(crate) fn experiment(format: OutputFormat, experiment: &Experiment) -> String {
    match format {
        OutputFormat::Json => json!(experiment),
        OutputFormat::Table => experiments_table(std::slice::from_ref(experiment)),
    }
}

/// A page of experiments.
pub(crate) fn collection(format: OutputFormat, page: &ExperimentCollectionRep) -> String {
    match format {
        OutputFormat::Json => json!(page),
        OutputFormat::Table => {
            let mut out = experiments_table(&page.items);
            if let Some(total) = page.total_count {
                let _ = write!(out, "\n{} of {total} experiments", page.items.len());
            }
            out
        }
    }
}

/// An iteration.
pub(crate) fn iteration(format: OutputFormat, iteration: &IterationRep) -> String {
    match format {
        OutputFormat::Json => json!(iteration),
        OutputFormat::Table => {
            let mut out = format!(
                "iteration {} ({})\nhypothesis: {}\n\n",
                iteration.id.as_deref().unwrap_or("-"),
                iteration.status,
                iteration.hypothesis
            );
            let rows: Vec<[String; 4]> = iteration
                .treatments
                .iter()
                .flatten()
                .map(|t| {
                    [
                        t.id.clone().unwrap_or_default(),
                        t.name.clone(),
                        t.allocation_percent.clone(),
                        if t.baseline == Some(true) { "yes".to_owned() } else { String::new() },
                    ]
                })
                .collect();
            out.push_str(&table(["TREATMENT ID", "NAME", "ALLOCATION %", "BASELINE"], &rows));
            out
        }
    }
}

/// A flag; the table shows `environment`'s targeting (the first, for a
/// list of keys joined by commas).
pub(crate) fn flag(format: OutputFormat, flag: &FeatureFlag, environment: Option<&str>) -> String {
    match format {
        OutputFormat::Json => json!(flag),
        OutputFormat::Table => flags_table(std::slice::from_ref(flag), environment),
    }
}

/// A page of flags.
pub(crate) fn flags(format: OutputFormat, page: &FeatureFlags, environment: Option<&str>) -> String {
    match format {
        OutputFormat::Json => json!(page),
        OutputFormat::Table => {
            with_total(flags_table(&page.items, environment), page.items.len(), page.total_count, "flags")
        }
    }
}

/// With an environment: its ON and VERSION; without: the flag-wide version.
fn flags_table(flags: &[FeatureFlag], environment: Option<&str>) -> String {
    let yes = |on: bool| if on { "yes" } else { "no" }.to_owned();
    match environment.and_then(|keys| keys.split(',').map(str::trim).find(|k| !k.is_empty())) {
        Some(environment) => {
            let rows: Vec<[String; 5]> = flags
                .iter()
                .map(|f| {
                    let config = f.environment(environment);
                    [
                        f.key.clone(),
                        f.name.clone(),
                        f.kind.to_string(),
                        config.map_or_else(|| "-".to_owned(), |c| yes(c.on)),
                        config.map_or_else(|| "-".to_owned(), |c| c.version.to_string()),
                    ]
                })
                .collect();
            let on = format!("ON ({environment})");
            table(["KEY", "NAME", "KIND", &on, "VERSION"], &rows)
        }
        None => {
            let rows: Vec<[String; 5]> = flags
                .iter()
                .map(|f| {
                    let archived = if f.archived { "yes" } else { "" };
                    [
                        f.key.clone(),
                        f.name.clone(),
                        f.kind.to_string(),
                        f.version.to_string(),
                        archived.to_owned(),
                    ]
                })
                .collect();
            table(["KEY", "NAME", "KIND", "FLAG VERSION", "ARCHIVED"], &rows)
        }
    }
}

/// A metric.
pub(crate) fn metric(format: OutputFormat, metric: &MetricRep) -> String {
    match format {
        OutputFormat::Json => json!(metric),
        OutputFormat::Table => metrics_table(std::slice::from_ref(metric)),
    }
}

/// A page of metrics.
pub(crate) fn metrics(format: OutputFormat, page: &MetricCollectionRep) -> String {
    match format {
        OutputFormat::Json => json!(page),
        OutputFormat::Table => {
            with_total(metrics_table(&page.items), page.items.len(), page.total_count, "metrics")
        }
    }
}

fn metrics_table(metrics: &[MetricRep]) -> String {
    let rows: Vec<[String; 5]> = metrics
        .iter()
        .map(|m| {
            let numeric = if m.is_numeric == Some(true) { "yes" } else { "no" };
            [m.key.clone(), m.name.clone(), m.kind.to_string(), numeric.to_owned(), m.version_id.clone()]
        })
        .collect();
    table(["KEY", "NAME", "KIND", "NUMERIC", "VERSION ID"], &rows)
}

/// A metric group.
pub(crate) fn metric_group(format: OutputFormat, group: &MetricGroupRep) -> String {
    match format {
        OutputFormat::Json => json!(group),
        OutputFormat::Table => metric_groups_table(std::slice::from_ref(group)),
    }
}

/// A page of metric groups.
pub(crate) fn metric_groups(format: OutputFormat, page: &MetricGroupCollectionRep) -> String {
    match format {
        OutputFormat::Json => json!(page),
        OutputFormat::Table => {
            with_total(metric_groups_table(&page.items), page.items.len(), page.total_count, "metric groups")
        }
    }
}

/// The members in order: a funnel's steps.
fn metric_groups_table(groups: &[MetricGroupRep]) -> String {
    let rows: Vec<[String; 4]> = groups
        .iter()
        .map(|g| {
            let members: Vec<&str> = g.metrics.iter().map(|m| m.key.as_str()).collect();
            [g.key.clone(), g.name.clone(), g.kind.to_string(), members.join(", ")]
        })
        .collect();
    table(["KEY", "NAME", "KIND", "MEMBERS"], &rows)
}

/// A project's context kinds.
pub(crate) fn context_kinds(format: OutputFormat, kinds: &ContextKindsCollectionRep) -> String {
    match format {
        OutputFormat::Json => json!(kinds),
        OutputFormat::Table => {
            let rows: Vec<[String; 3]> =
                kinds.items.iter().map(|k| [k.key.clone(), k.name.clone(), k.version.to_string()]).collect();
            table(["KEY", "NAME", "VERSION"], &rows)
        }
    }
}

/// The answer to a create-or-update: `context kind team: success`.
pub(crate) fn upserted(format: OutputFormat, answer: &UpsertResponseRep, noun: &str, key: &str) -> String {
    match format {
        OutputFormat::Json => json!(answer),
        OutputFormat::Table => format!("{noun} {key}: {}", answer.status.as_deref().unwrap_or("done")),
    }
}

/// The experimentation settings: each unit, and which is the default.
pub(crate) fn randomization_settings(format: OutputFormat, settings: &RandomizationSettingsRep) -> String {
    match format {
        OutputFormat::Json => json!(settings),
        OutputFormat::Table => {
            let rows: Vec<[String; 2]> = settings
                .randomization_units
                .iter()
                .flatten()
                .map(|u| {
                    let default = if u.default == Some(true) { "yes" } else { "" };
                    [u.randomization_unit.clone().unwrap_or_default(), default.to_owned()]
                })
                .collect();
            table(["UNIT", "DEFAULT"], &rows)
        }
    }
}

/// A layer.
pub(crate) fn layer(format: OutputFormat, layer: &Layer) -> String {
    match format {
        OutputFormat::Json => json!(layer),
        OutputFormat::Table => layers_table(std::slice::from_ref(layer)),
    }
}

/// A project's layers.
pub(crate) fn layers(format: OutputFormat, layers: &LayerCollectionRep) -> String {
    match format {
        OutputFormat::Json => json!(layers),
        OutputFormat::Table => {
            with_total(layers_table(&layers.items), layers.items.len(), Some(layers.total_count), "layers")
        }
    }
}

/// Each environment's reservations on one line:
/// `production: example-experiment 10%, other 70%; staging: ...`.
fn layers_table(layers: &[Layer]) -> String {
    let rows: Vec<[String; 3]> = layers
        .iter()
        .map(|l| {
            let environments: Vec<String> = l
                .environments
                .iter()
                .map(|(key, config)| format!("{key}: {}", reservations(config)))
                .collect();
            [l.key.clone(), l.name.clone(), environments.join("; ")]
        })
        .collect();
    table(["KEY", "NAME", "RESERVATIONS"], &rows)
}

/// `a 10%, b 20%, other 70%`, or `none`.
fn reservations(config: &LayerEnvironment) -> String {
    let mut shares: Vec<String> = config
        .reservations
        .iter()
        .map(|r| format!("{} {}%", r.experiment_key, r.reservation_percent))
        .collect();
    if config.other_reservation_percent != 0 {
        shares.push(format!("other {}%", config.other_reservation_percent));
    }
    if shares.is_empty() { "none".to_owned() } else { shares.join(", ") }
}

/// A holdout; the experiments in it are the short list, or the full one
/// that `holdout get` answers with.
pub(crate) fn holdout(format: OutputFormat, holdout: &HoldoutRep) -> String {
    match format {
        OutputFormat::Json => json!(holdout),
        OutputFormat::Table => {
            let experiments: Vec<&str> = match (&holdout.experiments, &holdout.related_experiments) {
                (Some(short), _) => short.iter().map(|e| e.key.as_str()).collect(),
                (None, Some(full)) => full.iter().map(|e| e.key.as_str()).collect(),
                (None, None) => Vec::new(),
            };
            let row = [
                holdout.key.clone().unwrap_or_else(|| holdout.id.clone()),
                holdout.name.clone().unwrap_or_default(),
                holdout.status.clone(),
                format!("{}%", holdout.holdout_amount),
                experiments.join(", "),
            ];
            table(["KEY", "NAME", "STATUS", "AMOUNT", "EXPERIMENTS"], &[row])
        }
    }
}

/// A page of holdouts; a list does not say how much each holds out.
pub(crate) fn holdouts(format: OutputFormat, page: &HoldoutsCollectionRep) -> String {
    match format {
        OutputFormat::Json => json!(page),
        OutputFormat::Table => {
            let rows: Vec<[String; 5]> = page
                .items
                .iter()
                .map(|h| {
                    let experiments: Vec<&str> = h.experiments.iter().map(|e| e.key.as_str()).collect();
                    [h.key.clone(), h.name.clone(), h.status.clone(), "-".to_owned(), experiments.join(", ")]
                })
                .collect();
            let out = table(["KEY", "NAME", "STATUS", "AMOUNT", "EXPERIMENTS"], &rows);
            with_total(out, page.items.len(), Some(page.total_count), "holdouts")
        }
    }
}

/// After a delete: nothing for a program (the exit code says it), a line
/// for a person.
pub(crate) fn deleted(format: OutputFormat, noun: &str, key: &str) -> String {
    match format {
        OutputFormat::Json => String::new(),
        OutputFormat::Table => format!("deleted {noun} {key}"),
    }
}

/// After an administration command that answers nothing to show: for a
/// program `{"status": STATUS}`, for a person `sentence`.
pub(crate) fn admin_done(format: OutputFormat, status: &str, sentence: &str) -> String {
    match format {
        OutputFormat::Json => json!(&serde_json::json!({ "status": status })),
        OutputFormat::Table => sentence.to_owned(),
    }
}

/// After `admin state put`: the state as the server now exports it, or
/// for a person what it holds.
pub(crate) fn state_replaced(format: OutputFormat, state: &[u8]) -> String {
    match format {
        OutputFormat::Json => String::from_utf8_lossy(state).trim_end().to_owned(),
        OutputFormat::Table => {
            let world: serde_json::Value = serde_json::from_slice(state).unwrap_or_default();
            let count = |key: &str| world[key].as_array().map_or(0, Vec::len);
            let experiments: usize = world["projects"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["experiments"].as_array().map_or(0, Vec::len))
                .sum();
            format!(
                "state replaced: {} tokens, {} projects, {experiments} experiments",
                count("tokens"),
                count("projects")
            )
        }
    }
}

/// The request journal, newest first.
pub(crate) fn recorded_requests(format: OutputFormat, requests: &[RecordedRequest]) -> String {
    match format {
        OutputFormat::Json => json!(&serde_json::json!({ "items": requests })),
        OutputFormat::Table => {
            let rows: Vec<[String; 7]> = requests
                .iter()
                .map(|r| {
                    [
                        UnixMillis(r.time).to_rfc3339(),
                        r.method.clone(),
                        r.path.clone(),
                        r.operation_id.clone(),
                        r.status.to_string(),
                        r.token.clone().unwrap_or_else(|| "-".to_owned()),
                        r.duration_ms.to_string(),
                    ]
                })
                .collect();
            table(["TIME", "METHOD", "PATH", "OPERATION", "STATUS", "TOKEN", "MS"], &rows)
        }
    }
}

/// The fault rules in force.
pub(crate) fn fault_rules(format: OutputFormat, rules: &[FaultRule]) -> String {
    match format {
        OutputFormat::Json => json!(&serde_json::json!({ "items": rules })),
        OutputFormat::Table if rules.is_empty() => "no fault rules are in force".to_owned(),
        OutputFormat::Table => {
            let any = || "any".to_owned();
            let rows: Vec<[String; 6]> = rules
                .iter()
                .map(|r| {
                    [
                        r.operation.clone().unwrap_or_else(any),
                        r.method.clone().unwrap_or_else(any),
                        r.status.to_string(),
                        r.latency_ms.map_or_else(|| "0".to_owned(), |ms| ms.to_string()),
                        r.probability.map_or_else(|| "1".to_owned(), |p| p.to_string()),
                        r.times.map_or_else(|| "always".to_owned(), |t| t.to_string()),
                    ]
                })
                .collect();
            table(["OPERATION", "METHOD", "STATUS", "LATENCY MS", "PROBABILITY", "TIMES"], &rows)
        }
    }
}

/// A table, then `3 of 12 flags` when the server gave a total.
fn with_total(mut out: String, shown: usize, total: Option<i64>, noun: &str) -> String {
    if let Some(total) = total {
        let _ = write!(out, "\n{shown} of {total} {noun}");
    }
    out
}

/// The outcome of a local check: valid, or every violation.
pub(crate) fn validation(format: OutputFormat, result: &Result<(), Violations>) -> String {
    match (format, result) {
        (OutputFormat::Json, Ok(())) => json!(&serde_json::json!({"valid": true, "violations": []})),
        (OutputFormat::Json, Err(violations)) => {
            json!(&serde_json::json!({"valid": false, "violations": violations.as_slice()}))
        }
        (OutputFormat::Table, Ok(())) => "valid".to_owned(),
        (OutputFormat::Table, Err(violations)) => violation_lines(violations),
    }
}

/// One line per violation: `path: message [code]`.
pub(crate) fn violation_lines(violations: &Violations) -> String {
    let lines: Vec<String> = violations.iter().map(|v| format!("{v} [{}]", v.code)).collect();
    lines.join("\n")
}

fn experiments_table(experiments: &[Experiment]) -> String {
    let rows: Vec<[String; 5]> = experiments
        .iter()
        .map(|e| {
            let status = match (&e.current_iteration, &e.draft_iteration) {
                (Some(current), _) => current.status.to_string(),
                (None, Some(_)) => "draft".to_owned(),
                (None, None) => "-".to_owned(),
            };
            let archived = if e.archived_date.is_some() { "yes" } else { "" };
            [e.key.clone(), e.name.clone(), e.environment_key.clone(), status, archived.to_owned()]
        })
        .collect();
    table(["KEY", "NAME", "ENVIRONMENT", "STATUS", "ARCHIVED"], &rows)
}

/// Left-aligned columns, two spaces apart.
fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        let text: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(header);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let rows = [["a".to_owned(), "long name".to_owned()], ["bbb".to_owned(), "x".to_owned()]];
        assert_eq!(table(["KEY", "NAME"], &rows), "KEY  NAME\na    long name\nbbb  x");
    }
}
