//! Printing results: JSON by default (what the API answered, pretty), or a
//! table for people.

use std::fmt::Write as _;

use crate::args::OutputFormat;
use iteration_model::{Experiment, ExperimentCollectionRep, IterationRep, Violations};

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
