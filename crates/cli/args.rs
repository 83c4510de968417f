//! The command line, declared with clap's derive: every command, its options,
//! its help text and examples. Parsing only: nothing here reads the
//! environment or the settings file (`settings.rs` does, with precedence
//! flag > environment > file).
//!
//! The client options are declared twice, on the top level and on each
//! command that calls the API, so that `iteration --base-url URL experiment
//! get ...` and `iteration experiment get ... --base-url URL` both work while
//! `iteration serve --help` lists only what `serve` reads.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use iteration_api::client::{Expand, ExperimentFilter, LifecycleState};

use crate::serve::ServeArgs;

/// What `iteration --help` shows after the commands.
const AFTER_HELP: &str = "\
Environment:
  LD_ACCESS_TOKEN, LD_API_KEY  the access token (never taken as an argument)
  LD_BASE_URI                  the API server, like --base-url
  LD_PROJECT, LD_ENVIRONMENT   like --project and --environment
  LD_OUTPUT                    json or table, like --output
  Flags win over the environment, which wins over the settings file
  (`iteration config path` names it). HTTPS_PROXY, HTTP_PROXY and NO_PROXY
  choose proxies; SSL_CERT_FILE names extra trusted CAs, like --ca-cert.

Exit codes:
  0  success
  1  invalid input: local validation failed, or the server answered 400
  2  usage: bad arguments, no token, unreadable file, bad base URL
  3  unauthorized (401) or forbidden (403)
  4  not found (404)
  5  conflict (409: stale flag version, or the key exists)
  6  rate limited (429) after the retries
  7  server error (5xx) or another unexpected status
  8  transport: could not connect, TLS failure, timeout
  9  the response could not be read

Examples:
  iteration serve --demo
  export LD_API_KEY=api-demo-writer LD_BASE_URI=http://127.0.0.1:8080 LD_PROJECT=my-project
  iteration experiment list --environment production --all
  iteration completions bash > ~/.local/share/bash-completion/completions/iteration";

/// LaunchDarkly's Experiments API from the shell: create and run experiment
/// iterations, or serve the API on this machine.
#[derive(Debug, Parser)]
#[command(name = "iteration", version, after_help = AFTER_HELP, arg_required_else_help = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) client: ClientOptions,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create an iteration (the experiment's new draft) from a JSON body
    #[command(after_help = "\
The body is an IterationInput; see crates/iteration-model/fixtures/demo/valid-request.json.
--dry-run checks it offline and needs no token, project or environment.

Examples:
  iteration create -p my-project -e production -x example-experiment --file body.json
  iteration create --file body.json --dry-run
  cat body.json | iteration create -p my-project -e production -x example-experiment --file -")]
    Create(CreateIteration),
    /// Check an iteration, experiment or semantic patch body offline
    #[command(after_help = "\
Prints every problem with its JSON Pointer and exits 1 if there is one.
The kind of body is read from its shape: {\"iteration\": ...} is an experiment,
{\"instructions\": ...} a semantic patch, anything else an iteration.

Examples:
  iteration validate body.json
  iteration validate - < body.json")]
    Validate(Validate),
    /// List, read, create, patch, start, stop, archive and restore experiments
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// Read and change the settings file (token, base URI, project...)
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a completion script for a shell
    #[command(after_help = "\
Examples:
  iteration completions bash > ~/.local/share/bash-completion/completions/iteration
  iteration completions zsh > \"${fpath[1]}/_iteration\"
  iteration completions fish > ~/.config/fish/completions/iteration.fish
  iteration completions powershell >> $PROFILE")]
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff)
    #[command(after_help = "\
Example:
  iteration man > ~/.local/share/man/man1/iteration.1 && man iteration")]
    Man,
    /// Serve the Experiments API on this machine
    Serve(ServeArgs),
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// What the API answered, pretty-printed (the default when piped)
    Json,
    /// Columns for people (the default on a terminal)
    #[value(alias = "plaintext")]
    Table,
}

/// `-o`: every command that prints a result takes it.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct OutputOption {
    /// Output format [env: LD_OUTPUT] [default: table on a terminal, else json]
    #[arg(short, long, value_enum, global = false, help_heading = "Client options")]
    pub(crate) output: Option<OutputFormat>,
}

/// How to reach the API. Each may also come from the environment or the
/// settings file; see `settings.rs`.
// The field docs are the help text, where a URL is plain text, not a link.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ClientOptions {
    /// API server [env: LD_BASE_URI] [default: https://app.launchdarkly.com]
    #[arg(long, alias = "base-uri", value_name = "URL", help_heading = "Client options")]
    pub(crate) base_url: Option<String>,
    /// Use LaunchDarkly's federal instance, https://app.launchdarkly.us
    #[arg(long, conflicts_with_all = ["base_url", "eu"], help_heading = "Client options")]
    pub(crate) federal: bool,
    /// Use LaunchDarkly's EU instance, https://app.eu.launchdarkly.com
    #[arg(long, conflicts_with = "base_url", help_heading = "Client options")]
    pub(crate) eu: bool,
    /// Read the access token from this file [default: LD_ACCESS_TOKEN, LD_API_KEY, settings file]
    #[arg(long, value_name = "PATH", help_heading = "Client options")]
    pub(crate) token_file: Option<PathBuf>,
    /// Also trust the CAs of this PEM file (a private CA, a self-signed local server)
    #[arg(long, value_name = "PEM", help_heading = "Client options")]
    pub(crate) ca_cert: Vec<PathBuf>,
    /// LD-API-Version header [default: 20240415]
    #[arg(long, value_name = "VERSION", help_heading = "Client options")]
    pub(crate) api_version: Option<String>,
    #[command(flatten)]
    pub(crate) output: OutputOption,
    /// Log the client's requests and retries on stderr (-vv: more)
    #[arg(short, long, action = clap::ArgAction::Count, help_heading = "Client options")]
    pub(crate) verbose: u8,
}

impl ClientOptions {
    /// These options with `inner`'s (given after the command) winning.
    pub(crate) fn merged(self, inner: ClientOptions) -> ClientOptions {
        ClientOptions {
            base_url: inner.base_url.or(self.base_url),
            federal: inner.federal || self.federal,
            eu: inner.eu || self.eu,
            token_file: inner.token_file.or(self.token_file),
            ca_cert: [self.ca_cert, inner.ca_cert].concat(),
            api_version: inner.api_version.or(self.api_version),
            output: OutputOption { output: inner.output.output.or(self.output.output) },
            verbose: self.verbose.saturating_add(inner.verbose),
        }
    }
}

/// Project and environment, which may also come from `LD_PROJECT`,
/// `LD_ENVIRONMENT` or the settings file.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct Scope {
    /// Project key [env: LD_PROJECT]
    #[arg(short, long, value_name = "KEY")]
    pub(crate) project: Option<String>,
    /// Environment key [env: LD_ENVIRONMENT]
    #[arg(short, long, value_name = "KEY")]
    pub(crate) environment: Option<String>,
}

/// One experiment.
#[derive(Debug, Clone, Args)]
pub(crate) struct Target {
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// Experiment key
    #[arg(short = 'x', long, value_name = "KEY")]
    pub(crate) experiment: String,
}

/// `iteration create`.
#[derive(Debug, Args)]
pub(crate) struct CreateIteration {
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// Experiment key
    #[arg(short = 'x', long, value_name = "KEY", required_unless_present = "dry_run")]
    pub(crate) experiment: Option<String>,
    /// The IterationInput body, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Only check the body, offline
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration validate`.
#[derive(Debug, Args)]
pub(crate) struct Validate {
    /// The body to check, or - for standard input
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) output: OutputOption,
}

/// `iteration experiment ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ExperimentCommand {
    /// List the experiments of a project or of one environment
    #[command(after_help = "\
Without --environment, lists the whole project. --all follows every page
(showing progress on a terminal) and prints them as one list.

Examples:
  iteration experiment list -p my-project -e production
  iteration experiment list -p my-project --all --filter status:running -o table
  iteration experiment list -p my-project --lifecycle-state archived --limit 5 --offset 10")]
    List(ListExperiments),
    /// Read one experiment
    #[command(after_help = "\
Examples:
  iteration experiment get -p my-project -e production -x example-experiment
  iteration experiment get -p my-project -e production -x example-experiment --expand draftIteration,treatments")]
    Get(GetExperiment),
    /// Create an experiment with its first iteration from a JSON body
    #[command(after_help = "\
The body is an ExperimentPost: {\"name\", \"key\", \"iteration\": IterationInput, ...}.
--dry-run checks it offline and needs no token, project or environment.

Examples:
  iteration experiment create -p my-project -e production --file experiment.json
  iteration experiment create --file experiment.json --dry-run")]
    Create(CreateExperiment),
    /// Apply a semantic patch ({\"instructions\": [...]}) from a JSON body
    #[command(after_help = "\
Every instruction applies or none does. --dry-run checks the body offline.

Examples:
  iteration experiment patch -p my-project -e production -x example-experiment --file patch.json
  echo '{\"instructions\":[{\"kind\":\"archiveExperiment\"}]}' | iteration experiment patch -p my-project -e production -x example-experiment --file -")]
    Patch(PatchExperiment),
    /// Start the draft iteration
    #[command(after_help = "\
Example:
  iteration experiment start -p my-project -e production -x example-experiment")]
    Start(StartExperiment),
    /// Stop the running iteration, naming the winning treatment
    #[command(after_help = "\
Example:
  iteration experiment stop -p my-project -e production -x example-experiment --winner TREATMENT_ID --reason 'Top button converts better'")]
    Stop(StopExperiment),
    /// Archive an experiment
    #[command(after_help = "\
Example:
  iteration experiment archive -p my-project -e production -x example-experiment")]
    Archive(TargetOnly),
    /// Restore an archived experiment
    #[command(after_help = "\
Example:
  iteration experiment restore -p my-project -e production -x example-experiment")]
    Restore(TargetOnly),
}

/// `experiment list`.
#[derive(Debug, Args)]
pub(crate) struct ListExperiments {
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// Page size (the server's default is 20, its maximum 50)
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<u32>,
    /// Experiments to skip
    #[arg(long, value_name = "N")]
    pub(crate) offset: Option<u32>,
    /// Only experiments matching: flagKey:KEY,metricKey:KEY,status:STATUS
    #[arg(long, value_name = "TERMS", value_parser = parse_filter)]
    pub(crate) filter: Option<ExperimentFilter>,
    /// Optional parts to include
    #[arg(long, value_name = "PARTS", value_parser = parse_expand, help = EXPAND_HELP)]
    pub(crate) expand: Option<Expand>,
    /// Active (the default), archived or all experiments
    #[arg(long, value_enum, value_name = "STATE")]
    pub(crate) lifecycle_state: Option<Lifecycle>,
    /// Follow every page and print them as one list
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `experiment get`.
#[derive(Debug, Args)]
pub(crate) struct GetExperiment {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Optional parts to include
    #[arg(long, value_name = "PARTS", value_parser = parse_expand, help = EXPAND_HELP)]
    pub(crate) expand: Option<Expand>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `experiment create`.
#[derive(Debug, Args)]
pub(crate) struct CreateExperiment {
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// The ExperimentPost body, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Only check the body, offline
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `experiment patch`.
#[derive(Debug, Args)]
pub(crate) struct PatchExperiment {
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// Experiment key
    #[arg(short = 'x', long, value_name = "KEY", required_unless_present = "dry_run")]
    pub(crate) experiment: Option<String>,
    /// The semantic patch body, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Only check the body, offline
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `experiment start`.
#[derive(Debug, Args)]
pub(crate) struct StartExperiment {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Why, when an iteration is already running (it is stopped first)
    #[arg(long, value_name = "TEXT")]
    pub(crate) justification: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `experiment stop`.
#[derive(Debug, Args)]
pub(crate) struct StopExperiment {
    #[command(flatten)]
    pub(crate) target: Target,
    /// The winning treatment's _id
    #[arg(long, value_name = "TREATMENT_ID")]
    pub(crate) winner: String,
    /// Why it won
    #[arg(long, value_name = "TEXT")]
    pub(crate) reason: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `experiment archive` and `experiment restore`.
#[derive(Debug, Args)]
pub(crate) struct TargetOnly {
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration config ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Keys: access-token, base-uri, project, environment, output, ca-cert.
The file is $XDG_CONFIG_HOME/iteration/config.json (else ~/.config/iteration/config.json),
readable by its owner only. Flags and environment variables win over it.")]
pub(crate) enum ConfigCommand {
    /// Set a key; the access token is read from standard input, never from the arguments
    #[command(after_help = "\
Examples:
  iteration config set project my-project
  iteration config set base-uri http://127.0.0.1:8080
  printf '%s' \"$TOKEN\" | iteration config set access-token")]
    Set {
        /// The key
        #[arg(value_enum)]
        key: SettingKey,
        /// The value (for access-token: none; it is read from standard input)
        value: Option<String>,
    },
    /// Print a key's value
    Get {
        /// The key
        #[arg(value_enum)]
        key: SettingKey,
    },
    /// Print every key that is set (the token masked)
    List {
        #[command(flatten)]
        output: OutputOption,
    },
    /// Remove a key
    Unset {
        /// The key
        #[arg(value_enum)]
        key: SettingKey,
    },
    /// Print the settings file's path
    Path,
}

/// The keys of the settings file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SettingKey {
    /// The API access token
    AccessToken,
    /// The API server
    BaseUri,
    /// The default project
    Project,
    /// The default environment
    Environment,
    /// json or table
    Output,
    /// A PEM file of CAs to trust
    CaCert,
}

impl SettingKey {
    /// The key as written in the file and on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SettingKey::AccessToken => "access-token",
            SettingKey::BaseUri => "base-uri",
            SettingKey::Project => "project",
            SettingKey::Environment => "environment",
            SettingKey::Output => "output",
            SettingKey::CaCert => "ca-cert",
        }
    }

    /// Every key, in the order `config list` prints them.
    pub(crate) const ALL: [SettingKey; 6] = [
        SettingKey::AccessToken,
        SettingKey::BaseUri,
        SettingKey::Project,
        SettingKey::Environment,
        SettingKey::Output,
        SettingKey::CaCert,
    ];
}

/// `--lifecycle-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Lifecycle {
    /// Not archived
    Active,
    /// Archived only
    Archived,
    /// Both
    All,
}

impl From<Lifecycle> for LifecycleState {
    fn from(state: Lifecycle) -> Self {
        match state {
            Lifecycle::Active => LifecycleState::Active,
            Lifecycle::Archived => LifecycleState::Archived,
            Lifecycle::All => LifecycleState::All,
        }
    }
}

const EXPAND_HELP: &str = "Optional parts, comma-separated: draftIteration, previousIterations, treatments, \
                           secondaryMetrics, analysisConfig, mutableFieldsByStatus";

/// `draftIteration,treatments` into an [`Expand`].
pub(crate) fn parse_expand(text: &str) -> Result<Expand, String> {
    let mut expand = Expand::NONE;
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        expand |= Expand::from_name(name).ok_or_else(|| {
            format!(
                "unknown part {name:?}; use draftIteration, previousIterations, treatments, \
                 secondaryMetrics, analysisConfig or mutableFieldsByStatus"
            )
        })?;
    }
    Ok(expand)
}

/// `flagKey:k,metricKey:m,status:running` into an [`ExperimentFilter`].
pub(crate) fn parse_filter(text: &str) -> Result<ExperimentFilter, String> {
    let mut filter = ExperimentFilter::default();
    for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (name, value) = term.split_once(':').ok_or_else(|| format!("{term:?} is not NAME:VALUE"))?;
        let slot = match name {
            "flagKey" => &mut filter.flag_key,
            "metricKey" => &mut filter.metric_key,
            "status" => &mut filter.status,
            _ => return Err(format!("unknown field {name:?}; use flagKey, metricKey or status")),
        };
        *slot = Some(value.to_owned());
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;
    use clap::error::ErrorKind;

    use super::*;

    fn parse(words: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("iteration").chain(words.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn client_options_may_come_before_or_after_the_command() {
        let cli = parse(&[
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
            "-o",
            "table",
        ])
        .unwrap();
        let Command::Experiment(ExperimentCommand::Stop(stop)) = cli.command else { panic!() };
        assert_eq!(stop.target.experiment, "x");
        assert_eq!(stop.winner, "t1");
        let options = cli.client.merged(stop.client);
        assert_eq!(options.base_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(options.output.output, Some(OutputFormat::Table));
    }

    #[test]
    fn list_reads_paging_filter_and_expand() {
        let cli = parse(&[
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
        ])
        .unwrap();
        let Command::Experiment(ExperimentCommand::List(list)) = cli.command else { panic!() };
        assert_eq!(list.scope.project.as_deref(), Some("p"));
        assert_eq!(list.limit, Some(5));
        let filter = list.filter.unwrap();
        assert_eq!((filter.flag_key.as_deref(), filter.status.as_deref()), (Some("f"), Some("running")));
        assert_eq!(list.expand, Some(Expand::DRAFT_ITERATION | Expand::TREATMENTS));
        assert_eq!(list.lifecycle_state, Some(Lifecycle::All));
    }

    #[test]
    fn usage_errors_name_the_problem() {
        let cases: [(&[&str], ErrorKind, &str); 5] = [
            (
                &["experiment", "stop", "-p", "p", "-e", "e", "-x", "x"],
                ErrorKind::MissingRequiredArgument,
                "--winner",
            ),
            (
                &["experiment", "get", "-x", "x", "--winner", "w"],
                ErrorKind::UnknownArgument,
                "unexpected argument '--winner'",
            ),
            (&["--federal", "--eu", "validate", "f"], ErrorKind::ArgumentConflict, "cannot be used with"),
            (
                &["experiment", "get", "-x", "x", "--expand", "nope"],
                ErrorKind::ValueValidation,
                "unknown part \"nope\"",
            ),
            (&["experiment", "list", "--limit", "many"], ErrorKind::ValueValidation, "invalid digit"),
        ];
        for (words, kind, text) in cases {
            let error = parse(words).unwrap_err();
            assert_eq!(error.kind(), kind, "{words:?}: {error}");
            assert!(error.to_string().contains(text), "{words:?}: {error}");
            assert_eq!(error.exit_code(), 2);
        }
    }

    #[test]
    fn a_typo_gets_a_suggestion() {
        let error = parse(&["experiment", "archve"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidSubcommand);
        assert!(
            error.to_string().contains("tip: some similar subcommands exist: 'patch', 'archive'"),
            "{error}"
        );
    }

    #[test]
    fn presets_pick_the_base_url() {
        use iteration_api::client::BaseUrl;

        use crate::settings::{Settings, SettingsFile};
        let base_url = |words: &[&str]| {
            let cli = parse(words).unwrap();
            let no_env = |_: &str| None;
            Settings::resolve(&cli.client, &Scope::default(), &no_env, &SettingsFile::default())
                .unwrap()
                .base_url
        };
        assert_eq!(base_url(&["--eu", "validate", "f.json"]), BaseUrl::Eu);
        assert_eq!(base_url(&["--federal", "validate", "f.json"]), BaseUrl::Federal);
        assert_eq!(base_url(&["validate", "f.json"]), BaseUrl::Commercial);
        assert_eq!(
            base_url(&["--base-uri", "http://127.0.0.1:1", "validate", "f.json"]),
            BaseUrl::Custom("http://127.0.0.1:1".into())
        );
    }

    #[test]
    fn dry_runs_need_no_experiment() {
        let cli = parse(&["create", "--file", "body.json", "--dry-run"]).unwrap();
        let Command::Create(create) = cli.command else { panic!() };
        assert!(create.dry_run && create.experiment.is_none());
        let error = parse(&["create", "--file", "body.json"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument);
    }
}
