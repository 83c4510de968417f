//! Running a parsed [`Command`]: read input, call the API, print the answer.

use std::io::Read as _;
use std::path::Path;

use iteration_api::client::{Client, Error};
use iteration_model::{ExperimentPatchInput, ExperimentPost, IterationInput, Violations};

use crate::args::{Command, Globals, Target};
use crate::exit;
use crate::output;

/// Why a command failed, with what to print and the exit code to return.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad arguments, an unreadable file, a missing token.
    Usage(String),
    /// The input file is not valid JSON of the expected shape, or breaks a rule.
    Invalid(Violations),
    /// The API call failed.
    Api(Error),
}

impl Failure {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => exit::USAGE,
            Failure::Invalid(_) => exit::INVALID,
            Failure::Api(error) => exit::of(error),
        }
    }

    /// What to print on standard error.
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Usage(message) => format!("error: {message}"),
            Failure::Invalid(violations) => {
                format!("error: the input is invalid:\n{}", indent(&output::violation_lines(violations)))
            }
            Failure::Api(Error::Validation(violations)) => {
                format!("error: the request is invalid:\n{}", indent(&output::violation_lines(violations)))
            }
            Failure::Api(error @ Error::InvalidRequest { errors, .. }) if !errors.is_empty() => {
                let lines: Vec<String> =
                    errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect();
                format!("error: {error}\n{}", indent(&lines.join("\n")))
            }
            Failure::Api(error) => {
                // The transport's cause (refused, certificate...) is the useful part.
                let mut message = format!("error: {error}");
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    message.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                message
            }
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Api(error)
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}")).collect::<Vec<_>>().join("\n")
}

/// Runs `command`; returns what to print on standard output and the exit code.
pub(crate) async fn run(command: Command, globals: &Globals) -> Result<(String, u8), Failure> {
    let format = globals.output;
    match command {
        Command::Validate { file } => {
            let result = check_document(&read_json(&file)?);
            let code = if result.is_ok() { exit::OK } else { exit::INVALID };
            Ok((output::validation(format, &result), code))
        }
        Command::Create { target, file, dry_run } => {
            let input = IterationInput::from_json(&read_json(&file)?).map_err(Failure::Invalid)?;
            if dry_run {
                let result = input.validate();
                let code = if result.is_ok() { exit::OK } else { exit::INVALID };
                return Ok((output::validation(format, &result), code));
            }
            let Target { project, environment, experiment } = &target;
            let iteration =
                client(globals)?.create_iteration(project, environment, experiment, &input).await?;
            Ok((output::iteration(format, &iteration), exit::OK))
        }
        Command::Get { target, expand } => {
            let Target { project, environment, experiment } = &target;
            let found = client(globals)?.get_experiment(project, environment, experiment, expand).await?;
            Ok((output::experiment(format, &found), exit::OK))
        }
        Command::List { project, environment, params, all } => {
            let client = client(globals)?;
            if !all {
                let page = match &environment {
                    Some(environment) => client.list_experiments(&project, environment, &params).await?,
                    None => client.list_project_experiments(&project, &params).await?,
                };
                return Ok((output::collection(format, &page), exit::OK));
            }
            let mut pages = client.experiments(&project, environment.as_deref(), params).pages();
            let mut everything: Option<iteration_model::ExperimentCollectionRep> = None;
            while let Some(page) = pages.next().await? {
                match &mut everything {
                    Some(all) => all.items.extend(page.items),
                    None => everything = Some(page),
                }
            }
            Ok(match everything {
                Some(mut all) => {
                    // One document for all pages: the per-page links no longer apply.
                    all.links = None;
                    (output::collection(format, &all), exit::OK)
                }
                None => (output::collection(format, &empty_collection()), exit::OK),
            })
        }
        Command::Start { target, justification } => {
            let Target { project, environment, experiment } = &target;
            let client = client(globals)?;
            let started =
                client.start_iteration(project, environment, experiment, justification.as_deref()).await?;
            Ok((output::experiment(format, &started), exit::OK))
        }
        Command::Stop { target, winner, reason } => {
            let Target { project, environment, experiment } = &target;
            let client = client(globals)?;
            let stopped =
                client.stop_iteration(project, environment, experiment, &winner, reason.as_deref()).await?;
            Ok((output::experiment(format, &stopped), exit::OK))
        }
        Command::Archive { target } => {
            let Target { project, environment, experiment } = &target;
            let archived = client(globals)?.archive_experiment(project, environment, experiment).await?;
            Ok((output::experiment(format, &archived), exit::OK))
        }
        Command::Restore { target } => {
            let Target { project, environment, experiment } = &target;
            let restored = client(globals)?.restore_experiment(project, environment, experiment).await?;
            Ok((output::experiment(format, &restored), exit::OK))
        }
        Command::Help | Command::Version => Ok((String::new(), exit::OK)),
    }
}

fn empty_collection() -> iteration_model::ExperimentCollectionRep {
    iteration_model::ExperimentCollectionRep {
        items: Vec::new(),
        total_count: Some(0),
        links: None,
        extra: serde_json::Map::new(),
    }
}

/// Checks a document offline: an experiment (`{"iteration": ...}`), a
/// semantic patch (`{"instructions": ...}`) or, by default, an iteration.
fn check_document(value: &serde_json::Value) -> Result<(), Violations> {
    if value.get("iteration").is_some() {
        ExperimentPost::from_json(value)?.validate()
    } else if value.get("instructions").is_some() {
        ExperimentPatchInput::from_json(value)?.validate()
    } else {
        IterationInput::from_json(value)?.validate()
    }
}

/// Reads JSON from a file, or from standard input for `-`.
fn read_json(path: &Path) -> Result<serde_json::Value, Failure> {
    let (name, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Usage(format!("cannot read standard input: {e}")))?;
        ("standard input".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
        (path.display().to_string(), text)
    };
    serde_json::from_str(&text).map_err(|e| {
        Failure::Invalid(Violations(vec![iteration_model::Violation::new(
            "",
            iteration_model::ViolationCode::WrongType,
            format!("{name} is not JSON: {e}"),
        )]))
    })
}

/// The API client from the global options; the token comes from
/// `--token-file`, else `LD_API_KEY`, else `LD_ACCESS_TOKEN`.
fn client(globals: &Globals) -> Result<Client, Failure> {
    let mut builder = Client::builder().base_url(globals.base_url.clone());
    if let Some(path) = &globals.token_file {
        let token = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read the token file {}: {e}", path.display())))?;
        let token = token.trim();
        if token.is_empty() {
            return Err(Failure::Usage(format!("the token file {} is empty", path.display())));
        }
        builder = builder.token(token);
    }
    if let Some(version) = &globals.api_version {
        builder = builder.api_version(version.clone());
    }
    Ok(builder.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_checked_by_their_shape() {
        let iteration: serde_json::Value = serde_json::json!({"hypothesis": ""});
        let violations = check_document(&iteration).unwrap_err();
        assert!(violations.iter().any(|v| v.path == "/metrics"), "{violations}");
        let experiment = serde_json::json!({"name": "n", "key": "k", "iteration": {"hypothesis": ""}});
        let violations = check_document(&experiment).unwrap_err();
        assert!(violations.iter().any(|v| v.path == "/iteration/metrics"), "{violations}");
    }
}
