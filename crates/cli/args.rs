//! Parsing the command line into a [`Command`] and its [`Globals`].
//!
//! Options may come before or after the command words, in any order; each
//! command then says which options it takes, so a misplaced `--winner` is a
//! usage error rather than silently ignored.

use std::ffi::OsString;
use std::path::PathBuf;

use iteration_api::client::{BaseUrl, Expand, ExperimentFilter, LifecycleState, ListParams};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    Json,
    Table,
}

/// Options every command that calls the API shares.
#[derive(Debug, Clone)]
pub(crate) struct Globals {
    pub(crate) base_url: BaseUrl,
    pub(crate) token_file: Option<PathBuf>,
    pub(crate) api_version: Option<String>,
    pub(crate) output: OutputFormat,
}

/// Where an experiment is: project, environment, key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) project: String,
    pub(crate) environment: String,
    pub(crate) experiment: String,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Version,
    Create { target: Target, file: PathBuf, dry_run: bool },
    Validate { file: PathBuf },
    Get { target: Target, expand: Expand },
    List { project: String, environment: Option<String>, params: ListParams, all: bool },
    Start { target: Target, justification: Option<String> },
    Stop { target: Target, winner: String, reason: Option<String> },
    Archive { target: Target },
    Restore { target: Target },
}

/// A command line that cannot be run; the message says what would be right.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Every option's value as given, before the command decides what it needs.
#[derive(Debug, Default)]
struct Raw {
    words: Vec<String>,
    /// Long names of the options given, to reject those a command ignores.
    given: Vec<&'static str>,
    project: Option<String>,
    environment: Option<String>,
    experiment: Option<String>,
    file: Option<PathBuf>,
    dry_run: bool,
    expand: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
    filter: Option<String>,
    lifecycle_state: Option<String>,
    all: bool,
    justification: Option<String>,
    winner: Option<String>,
    reason: Option<String>,
    base_url: Option<String>,
    federal: bool,
    eu: bool,
    token_file: Option<PathBuf>,
    api_version: Option<String>,
    output: Option<String>,
    help: bool,
    version: bool,
}

/// Options every command accepts.
const GLOBAL: &[&str] = &["base-url", "federal", "eu", "token-file", "api-version", "output"];

/// Parses the arguments after the program name.
pub(crate) fn parse(args: Vec<OsString>) -> Result<(Command, Globals), UsageError> {
    let raw = read(args)?;
    let globals = globals(&raw)?;
    let command = command(raw)?;
    Ok((command, globals))
}

fn read(args: Vec<OsString>) -> Result<Raw, UsageError> {
    use lexopt::prelude::*;
    let mut raw = Raw::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| usage(e.to_string()))? {
        let name: &'static str = match &arg {
            Long("project") | Short('p') => "project",
            Long("environment") | Short('e') => "environment",
            Long("experiment") | Short('x') => "experiment",
            Long("file") | Short('f') => "file",
            Long("dry-run") => "dry-run",
            Long("expand") => "expand",
            Long("limit") => "limit",
            Long("offset") => "offset",
            Long("filter") => "filter",
            Long("lifecycle-state") => "lifecycle-state",
            Long("all") => "all",
            Long("justification") => "justification",
            Long("winner") => "winner",
            Long("reason") => "reason",
            Long("base-url") => "base-url",
            Long("federal") => "federal",
            Long("eu") => "eu",
            Long("token-file") => "token-file",
            Long("api-version") => "api-version",
            Long("output") | Short('o') => "output",
            Long("help") | Short('h') => "help",
            Long("version") | Short('V') => "version",
            Long("token") => {
                return Err(usage(
                    "the token is never taken as an argument (it would show in the process list and the \
                     shell history): set LD_API_KEY or LD_ACCESS_TOKEN, or use --token-file PATH",
                ));
            }
            Value(word) => {
                let word = word.clone().into_string().map_err(|w| usage(format!("{w:?} is not UTF-8")))?;
                raw.words.push(word);
                continue;
            }
            other => return Err(usage(other.clone().unexpected().to_string())),
        };
        raw.given.push(name);
        let mut text = || -> Result<String, UsageError> {
            let value = parser.value().map_err(|e| usage(e.to_string()))?;
            value.into_string().map_err(|v| usage(format!("--{name}: {v:?} is not UTF-8")))
        };
        match name {
            "project" => raw.project = Some(text()?),
            "environment" => raw.environment = Some(text()?),
            "experiment" => raw.experiment = Some(text()?),
            "file" => raw.file = Some(PathBuf::from(text()?)),
            "dry-run" => raw.dry_run = true,
            "expand" => raw.expand = Some(text()?),
            "limit" => raw.limit = Some(number("limit", &text()?)?),
            "offset" => raw.offset = Some(number("offset", &text()?)?),
            "filter" => raw.filter = Some(text()?),
            "lifecycle-state" => raw.lifecycle_state = Some(text()?),
            "all" => raw.all = true,
            "justification" => raw.justification = Some(text()?),
            "winner" => raw.winner = Some(text()?),
            "reason" => raw.reason = Some(text()?),
            "base-url" => raw.base_url = Some(text()?),
            "federal" => raw.federal = true,
            "eu" => raw.eu = true,
            "token-file" => raw.token_file = Some(PathBuf::from(text()?)),
            "api-version" => raw.api_version = Some(text()?),
            "output" => raw.output = Some(text()?),
            "help" => raw.help = true,
            _ => raw.version = true,
        }
    }
    Ok(raw)
}

fn number(name: &str, text: &str) -> Result<u32, UsageError> {
    text.parse().map_err(|_| usage(format!("--{name} takes a whole number, not {text:?}")))
}

fn globals(raw: &Raw) -> Result<Globals, UsageError> {
    let presets = usize::from(raw.base_url.is_some()) + usize::from(raw.federal) + usize::from(raw.eu);
    if presets > 1 {
        return Err(usage("give at most one of --base-url, --federal and --eu"));
    }
    let base_url = match (&raw.base_url, raw.federal, raw.eu) {
        (Some(url), _, _) => BaseUrl::Custom(url.clone()),
        (None, true, _) => BaseUrl::Federal,
        (None, false, true) => BaseUrl::Eu,
        (None, false, false) => BaseUrl::Commercial,
    };
    let output = match raw.output.as_deref() {
        None | Some("json") => OutputFormat::Json,
        Some("table") => OutputFormat::Table,
        Some(other) => return Err(usage(format!("--output is json or table, not {other:?}"))),
    };
    Ok(Globals { base_url, token_file: raw.token_file.clone(), api_version: raw.api_version.clone(), output })
}

fn command(mut raw: Raw) -> Result<Command, UsageError> {
    if raw.help {
        return Ok(Command::Help);
    }
    if raw.version {
        return Ok(Command::Version);
    }
    let words: Vec<&str> = raw.words.iter().map(String::as_str).collect();
    let (command, allowed): (&str, &[&str]) = match words.as_slice() {
        [] => return Ok(Command::Help),
        ["help"] => return Ok(Command::Help),
        ["create"] => ("create", &["project", "environment", "experiment", "file", "dry-run"]),
        ["validate", _] | ["validate"] => ("validate", &["file"]),
        ["experiment", "get"] => ("experiment get", &["project", "environment", "experiment", "expand"]),
        ["experiment", "list"] => (
            "experiment list",
            &["project", "environment", "expand", "limit", "offset", "filter", "lifecycle-state", "all"],
        ),
        ["experiment", "start"] => {
            ("experiment start", &["project", "environment", "experiment", "justification"])
        }
        ["experiment", "stop"] => {
            ("experiment stop", &["project", "environment", "experiment", "winner", "reason"])
        }
        ["experiment", "archive"] => ("experiment archive", &["project", "environment", "experiment"]),
        ["experiment", "restore"] => ("experiment restore", &["project", "environment", "experiment"]),
        _ => {
            return Err(usage(format!(
                "unknown command `{}`; run `iteration --help` for the commands",
                words.join(" ")
            )));
        }
    };
    if let Some(extra) = raw.given.iter().find(|name| !allowed.contains(name) && !GLOBAL.contains(name)) {
        return Err(usage(format!("--{extra} does not apply to `{command}`")));
    }
    let target = |raw: &mut Raw| -> Result<Target, UsageError> {
        Ok(Target {
            project: required(raw.project.take(), "project", command)?,
            environment: required(raw.environment.take(), "environment", command)?,
            experiment: required(raw.experiment.take(), "experiment", command)?,
        })
    };
    Ok(match command {
        "create" => {
            let target = target(&mut raw)?;
            let file = required(raw.file, "file", command)?;
            Command::Create { target, file, dry_run: raw.dry_run }
        }
        "validate" => {
            let file = match (words.get(1), raw.file) {
                (Some(_), Some(_)) => return Err(usage("give the file once: `iteration validate FILE`")),
                (Some(word), None) => PathBuf::from(word),
                (None, Some(file)) => file,
                (None, None) => return Err(usage("`validate` needs a FILE (or - for standard input)")),
            };
            Command::Validate { file }
        }
        "experiment get" => {
            let target = target(&mut raw)?;
            Command::Get { target, expand: expand(raw.expand.as_deref())? }
        }
        "experiment list" => {
            let params = ListParams {
                limit: raw.limit,
                offset: raw.offset,
                filter: filter(raw.filter.as_deref())?,
                expand: expand(raw.expand.as_deref())?,
                lifecycle_state: lifecycle_state(raw.lifecycle_state.as_deref())?,
            };
            Command::List {
                project: required(raw.project, "project", command)?,
                environment: raw.environment,
                params,
                all: raw.all,
            }
        }
        "experiment start" => Command::Start { target: target(&mut raw)?, justification: raw.justification },
        "experiment stop" => {
            let target = target(&mut raw)?;
            Command::Stop { target, winner: required(raw.winner, "winner", command)?, reason: raw.reason }
        }
        "experiment archive" => Command::Archive { target: target(&mut raw)? },
        _ => Command::Restore { target: target(&mut raw)? },
    })
}

fn required<T>(value: Option<T>, name: &str, command: &str) -> Result<T, UsageError> {
    value.ok_or_else(|| usage(format!("`{command}` needs --{name}")))
}

/// `draftIteration,treatments` into an [`Expand`].
pub(crate) fn expand(text: Option<&str>) -> Result<Expand, UsageError> {
    let mut expand = Expand::NONE;
    for name in text.unwrap_or("").split(',').map(str::trim).filter(|n| !n.is_empty()) {
        expand |= Expand::from_name(name).ok_or_else(|| {
            usage(format!(
                "--expand: unknown part {name:?}; use draftIteration, previousIterations, treatments, \
                 secondaryMetrics, analysisConfig or mutableFieldsByStatus"
            ))
        })?;
    }
    Ok(expand)
}

/// `flagKey:k,metricKey:m,status:running` into an [`ExperimentFilter`].
fn filter(text: Option<&str>) -> Result<ExperimentFilter, UsageError> {
    let mut filter = ExperimentFilter::default();
    for term in text.unwrap_or("").split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (name, value) =
            term.split_once(':').ok_or_else(|| usage(format!("--filter: {term:?} is not NAME:VALUE")))?;
        let slot = match name {
            "flagKey" => &mut filter.flag_key,
            "metricKey" => &mut filter.metric_key,
            "status" => &mut filter.status,
            _ => {
                return Err(usage(format!(
                    "--filter: unknown field {name:?}; use flagKey, metricKey or status"
                )));
            }
        };
        *slot = Some(value.to_owned());
    }
    Ok(filter)
}

fn lifecycle_state(text: Option<&str>) -> Result<Option<LifecycleState>, UsageError> {
    match text {
        None => Ok(None),
        Some("active") => Ok(Some(LifecycleState::Active)),
        Some("archived") => Ok(Some(LifecycleState::Archived)),
        Some("all" | "active,archived" | "archived,active") => Ok(Some(LifecycleState::All)),
        Some(other) => Err(usage(format!("--lifecycle-state is active, archived or all, not {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<(Command, Globals), UsageError> {
        parse(words.iter().map(OsString::from).collect())
    }

    fn target() -> Target {
        Target { project: "p".into(), environment: "e".into(), experiment: "x".into() }
    }

    #[test]
    fn options_may_come_before_or_after_the_command() {
        let (command, globals) = parse_words(&[
            "--base-url",
            "http://127.0.0.1:1",
            "experiment",
            "stop",
            "-p",
            "p",
            "-e",
            "e",
            "-x",
            "x",
            "--winner",
            "t1",
            "--reason",
            "won",
        ])
        .unwrap();
        assert_eq!(
            command,
            Command::Stop { target: target(), winner: "t1".into(), reason: Some("won".into()) }
        );
        assert_eq!(globals.base_url, BaseUrl::Custom("http://127.0.0.1:1".into()));
        assert_eq!(globals.output, OutputFormat::Json);
    }

    #[test]
    fn list_reads_paging_filter_and_expand() {
        let (command, _) = parse_words(&[
            "experiment",
            "list",
            "--project",
            "p",
            "--limit",
            "5",
            "--filter",
            "flagKey:f,status:running",
            "--expand",
            "draftIteration,treatments",
            "--lifecycle-state",
            "all",
            "--output",
            "table",
        ])
        .unwrap();
        let Command::List { project, environment, params, all } = command else { panic!("{command:?}") };
        assert_eq!((project.as_str(), environment, all), ("p", None, false));
        assert_eq!(params.limit, Some(5));
        assert_eq!(params.filter.flag_key.as_deref(), Some("f"));
        assert_eq!(params.filter.status.as_deref(), Some("running"));
        assert_eq!(params.expand, Expand::DRAFT_ITERATION | Expand::TREATMENTS);
        assert_eq!(params.lifecycle_state, Some(LifecycleState::All));
    }

    #[test]
    fn usage_errors_say_what_would_be_right() {
        let cases: [(&[&str], &str); 6] = [
            (&["experiment", "stop", "-p", "p", "-e", "e", "-x", "x"], "`experiment stop` needs --winner"),
            (
                &["experiment", "get", "-p", "p", "-e", "e", "-x", "x", "--winner", "w"],
                "--winner does not apply to `experiment get`",
            ),
            (&["--federal", "--eu", "validate", "f"], "give at most one of --base-url, --federal and --eu"),
            (
                &["experiment", "get", "-p", "p", "-e", "e", "-x", "x", "--expand", "nope"],
                "--expand: unknown part \"nope\"; use draftIteration, previousIterations, treatments, secondaryMetrics, analysisConfig or mutableFieldsByStatus",
            ),
            (&["frobnicate"], "unknown command `frobnicate`; run `iteration --help` for the commands"),
            (
                &["experiment", "list", "-p", "p", "--limit", "many"],
                "--limit takes a whole number, not \"many\"",
            ),
        ];
        for (words, message) in cases {
            let error = parse_words(words).unwrap_err();
            assert_eq!(error.to_string(), message, "{words:?}");
        }
    }

    #[test]
    fn a_token_argument_is_refused() {
        let error = parse_words(&["--token", "api-secret", "experiment", "list", "-p", "p"]).unwrap_err();
        assert!(error.to_string().starts_with("the token is never taken as an argument"));
    }

    #[test]
    fn presets_pick_the_base_url() {
        let (_, globals) = parse_words(&["--eu", "validate", "f.json"]).unwrap();
        assert_eq!(globals.base_url, BaseUrl::Eu);
        let (command, globals) = parse_words(&["validate", "--federal", "f.json"]).unwrap();
        assert_eq!(globals.base_url, BaseUrl::Federal);
        assert_eq!(command, Command::Validate { file: "f.json".into() });
    }
}
