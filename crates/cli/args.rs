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
  iteration flag off example-flag-for-experiment --environment production
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
    /// List, read, create, patch, turn on or off, and delete feature flags
    #[command(subcommand)]
    Flag(FlagCommand),
    /// List, read, create, patch and delete metrics
    #[command(subcommand)]
    Metric(MetricCommand),
    /// List, read, create, patch and delete metric groups
    #[command(subcommand)]
    MetricGroup(MetricGroupCommand),
    /// List context kinds, or create or update one
    #[command(subcommand)]
    ContextKind(ContextKindCommand),
    /// Read or replace the project's experimentation settings (randomization units)
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// List and create layers, and reserve or release their traffic
    #[command(subcommand)]
    Layer(LayerCommand),
    /// List, read, create, patch and end holdouts
    #[command(subcommand)]
    Holdout(HoldoutCommand),
    /// Drive a server started with `iteration serve`: reset it, read or replace its state, read its request journal, inject faults
    #[command(subcommand)]
    Admin(AdminCommand),
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

/// The project alone, for commands on the project's catalog. It may also
/// come from `LD_PROJECT` or the settings file.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ProjectScope {
    /// Project key [env: LD_PROJECT]
    #[arg(short, long, value_name = "KEY")]
    pub(crate) project: Option<String>,
}

impl ProjectScope {
    /// As a [`Scope`], whose environment then comes from the defaults only.
    pub(crate) fn scope(&self) -> Scope {
        Scope { project: self.project.clone(), environment: None }
    }
}

/// `iteration flag ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
A flag has one configuration per environment, each with its own version, which an
iteration's flagConfigVersion must match: `flag on` and `flag off` move it by one.")]
pub(crate) enum FlagCommand {
    /// List the flags of a project
    #[command(after_help = "\
With an environment (-e, LD_ENVIRONMENT or the settings file), only that environment's
configuration is shown, and the table has its ON and VERSION. --all follows every page.

Examples:
  iteration flag list -p my-project -e production
  iteration flag list -p my-project --filter query:checkout,state:live --all -o table
  iteration flag list -p my-project --tag web --limit 5 --offset 10")]
    List(ListFlags),
    /// Read one flag
    #[command(after_help = "\
Examples:
  iteration flag get example-flag-for-experiment -p my-project
  iteration flag get example-flag-for-experiment -p my-project -e production -o table")]
    Get(GetFlag),
    /// Create a flag from a FeatureFlagBody, or a boolean flag from --key and --name
    #[command(after_help = "\
A new flag is off in every environment, at version 1. The body is a FeatureFlagBody:
{\"key\", \"name\", \"variations\"?, \"temporary\"?, \"tags\"?, \"defaults\"?, \"isFlagOn\"?...}.

Examples:
  iteration flag create -p my-project --key new-checkout --name 'New checkout'
  iteration flag create -p my-project --file flag.json
  echo '{\"key\":\"k\",\"name\":\"K\"}' | iteration flag create -p my-project --file -")]
    Create(CreateFlag),
    /// Change a flag with a JSON Patch, or with a semantic patch ({"instructions": [...]})
    #[command(after_help = "\
The file is a JSON Patch (a bare array of operations, or {\"patch\": [...], \"comment\"?}),
or a semantic patch when it has \"instructions\"; -e names the environment of a semantic
patch that has no \"environmentKey\". Every change applies or none does.

Examples:
  echo '[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"Checkout\"}]' | iteration flag patch example-flag-for-experiment -p my-project --file -
  echo '{\"instructions\":[{\"kind\":\"turnFlagOff\"}]}' | iteration flag patch example-flag-for-experiment -p my-project -e production --file -")]
    Patch(PatchFlag),
    /// Turn a flag's targeting on in one environment
    #[command(after_help = "\
The environment's version moves by one if the flag was off.

Example:
  iteration flag on example-flag-for-experiment -p my-project -e production")]
    On(ToggleFlag),
    /// Turn a flag's targeting off in one environment
    #[command(after_help = "\
The environment's version moves by one if the flag was on.

Example:
  iteration flag off example-flag-for-experiment -p my-project -e production")]
    Off(ToggleFlag),
    /// Delete a flag (refused while a draft or running iteration uses it)
    #[command(after_help = "\
Example:
  iteration flag delete new-checkout -p my-project")]
    Delete(KeyInProject),
}

/// `flag list`.
#[derive(Debug, Args)]
pub(crate) struct ListFlags {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Only these environments' configurations, keys joined by commas [env: LD_ENVIRONMENT]
    #[arg(short, long, visible_alias = "env", value_name = "KEYS")]
    pub(crate) environment: Option<String>,
    /// Only flags matching: query:TEXT,tags:A+B,state:live|archived
    #[arg(long, value_name = "TERMS")]
    pub(crate) filter: Option<String>,
    /// Only flags with this tag
    #[arg(long, value_name = "TAG")]
    pub(crate) tag: Option<String>,
    /// Only archived flags
    #[arg(long)]
    pub(crate) archived: bool,
    /// Page size (the server's default is 20)
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<u32>,
    /// Flags to skip
    #[arg(long, value_name = "N")]
    pub(crate) offset: Option<u32>,
    /// Follow every page and print them as one list
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `flag get`.
#[derive(Debug, Args)]
pub(crate) struct GetFlag {
    /// Flag key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Only these environments' configurations, keys joined by commas [env: LD_ENVIRONMENT]
    #[arg(short, long, visible_alias = "env", value_name = "KEYS")]
    pub(crate) environment: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `flag create`.
#[derive(Debug, Args)]
pub(crate) struct CreateFlag {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// The FeatureFlagBody, or - for standard input
    #[arg(short, long, value_name = "FILE", required_unless_present = "key", conflicts_with_all = ["key", "name", "description"])]
    pub(crate) file: Option<PathBuf>,
    /// The new boolean flag's key
    #[arg(long, value_name = "KEY", requires = "name")]
    pub(crate) key: Option<String>,
    /// The new boolean flag's name
    #[arg(long, value_name = "NAME", requires = "key")]
    pub(crate) name: Option<String>,
    /// The new boolean flag's description
    #[arg(long, value_name = "TEXT", requires = "key")]
    pub(crate) description: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `flag patch`.
#[derive(Debug, Args)]
pub(crate) struct PatchFlag {
    /// Flag key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// The environment of a semantic patch without environmentKey [env: LD_ENVIRONMENT]
    #[arg(short, long, visible_alias = "env", value_name = "KEY")]
    pub(crate) environment: Option<String>,
    /// The JSON Patch or semantic patch, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `flag on` and `flag off`.
#[derive(Debug, Args)]
pub(crate) struct ToggleFlag {
    /// Flag key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Environment key [env: LD_ENVIRONMENT]
    #[arg(short, long, visible_alias = "env", value_name = "KEY")]
    pub(crate) environment: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// A delete: one key in a project.
#[derive(Debug, Args)]
pub(crate) struct KeyInProject {
    /// The key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration metric ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Every accepted change gives a metric a fresh _versionId; iterations keep the version they
were created with.")]
pub(crate) enum MetricCommand {
    /// List the metrics of a project
    #[command(after_help = "\
Examples:
  iteration metric list -p my-project -o table
  iteration metric list -p my-project --filter 'isNumeric equals true' --all
  iteration metric list -p my-project --expand experimentCount --limit 5")]
    List(ListMetrics),
    /// Read one metric
    #[command(after_help = "\
Example:
  iteration metric get checkout-pageview -p my-project --expand experimentCount,metricGroups")]
    Get(GetMetric),
    /// Create a metric from a MetricPost body
    #[command(after_help = "\
The body is a MetricPost: {\"key\", \"kind\": \"custom\"|\"pageview\"|\"click\"|\"trace\", \"eventKey\"?...}.
The server checks it and answers every problem at once.

Examples:
  iteration metric create -p my-project --file metric.json
  echo '{\"key\":\"signup\",\"kind\":\"custom\",\"eventKey\":\"signed-up\"}' | iteration metric create -p my-project --file -")]
    Create(CreateFromFile),
    /// Change a metric with a JSON Patch
    #[command(after_help = "\
The file is a bare array of operations or {\"patch\": [...]}; key and kind cannot change.

Example:
  echo '[{\"op\":\"replace\",\"path\":\"/description\",\"value\":\"Signups\"}]' | iteration metric patch signup -p my-project --file -")]
    Patch(PatchFromFile),
    /// Delete a metric (refused while a group or an iteration uses it)
    #[command(after_help = "\
Example:
  iteration metric delete signup -p my-project")]
    Delete(KeyInProject),
}

/// `metric list`.
#[derive(Debug, Args)]
pub(crate) struct ListMetrics {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Only metrics matching clauses such as 'tags contains [\"web\"]' or 'isNumeric equals true'
    #[arg(long, value_name = "CLAUSES")]
    pub(crate) filter: Option<String>,
    /// Properties to add, comma-separated: experimentCount, metricGroups...
    #[arg(long, value_name = "PROPERTIES", value_delimiter = ',')]
    pub(crate) expand: Vec<String>,
    /// Page size (the server's default is 20, its maximum 50)
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<u32>,
    /// Metrics to skip
    #[arg(long, value_name = "N")]
    pub(crate) offset: Option<u32>,
    /// Follow every page and print them as one list
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `metric get` and `metric-group get`.
#[derive(Debug, Args)]
pub(crate) struct GetMetric {
    /// The key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Properties to add, comma-separated: experiments, experimentCount...
    #[arg(long, value_name = "PROPERTIES", value_delimiter = ',')]
    pub(crate) expand: Vec<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// A create from a JSON body.
#[derive(Debug, Args)]
pub(crate) struct CreateFromFile {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// The body, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// A JSON Patch of one key.
#[derive(Debug, Args)]
pub(crate) struct PatchFromFile {
    /// The key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// The JSON Patch, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration metric-group ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
A funnel group has at least two member metrics, in the order of its steps; a standard
group at least one.")]
pub(crate) enum MetricGroupCommand {
    /// List the metric groups of a project
    #[command(after_help = "\
Examples:
  iteration metric-group list -p my-project -o table
  iteration metric-group list -p my-project --filter 'kind equals funnel' --all")]
    List(ListMetricGroups),
    /// Read one metric group
    #[command(after_help = "\
Example:
  iteration metric-group get metric-group-key-123abc -p my-project --expand experimentCount")]
    Get(GetMetric),
    /// Create a metric group from a MetricGroupPost body
    #[command(after_help = "\
The body is a MetricGroupPost:
{\"key\", \"name\", \"kind\": \"funnel\"|\"standard\", \"maintainerId\", \"tags\", \"metrics\": [{\"key\", \"nameInGroup\"}]}.

Example:
  iteration metric-group create -p my-project --file group.json")]
    Create(CreateFromFile),
    /// Change a metric group with a JSON Patch
    #[command(after_help = "\
Example:
  echo '[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"Signup funnel\"}]' | iteration metric-group patch signup-funnel -p my-project --file -")]
    Patch(PatchFromFile),
    /// Delete a metric group (refused while an iteration uses it)
    #[command(after_help = "\
Example:
  iteration metric-group delete signup-funnel -p my-project")]
    Delete(KeyInProject),
}

/// `metric-group list`.
#[derive(Debug, Args)]
pub(crate) struct ListMetricGroups {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Only groups matching clauses such as 'kind equals funnel' or 'query equals checkout'
    #[arg(long, value_name = "CLAUSES")]
    pub(crate) filter: Option<String>,
    /// Page size (the server's default is 20)
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<u32>,
    /// Groups to skip
    #[arg(long, value_name = "N")]
    pub(crate) offset: Option<u32>,
    /// Follow every page and print them as one list
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration context-kind ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ContextKindCommand {
    /// List the context kinds of a project
    #[command(after_help = "\
Example:
  iteration context-kind list -p my-project -o table")]
    List(ProjectOnly),
    /// Create a context kind, or update it
    #[command(after_help = "\
A new kind starts at version 1; an update moves the version by one. The file, if given, is an
UpsertContextKindPayload: {\"name\", \"description\"?, \"archived\"?, \"version\"?}.

Examples:
  iteration context-kind put organization -p my-project --name Organization --description 'A customer'
  iteration context-kind put organization -p my-project --file kind.json")]
    Put(PutContextKind),
}

/// A command that needs only the project.
#[derive(Debug, Args)]
pub(crate) struct ProjectOnly {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `context-kind put`.
#[derive(Debug, Args)]
pub(crate) struct PutContextKind {
    /// Context kind key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Its name
    #[arg(long, value_name = "NAME", required_unless_present = "file")]
    pub(crate) name: Option<String>,
    /// Its description
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: Option<String>,
    /// The UpsertContextKindPayload, or - for standard input
    #[arg(short, long, value_name = "FILE", conflicts_with_all = ["name", "description"])]
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration settings ...`: the project's experimentation settings.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
The experimentation settings name the context kinds experiments may randomize by, and the
default one, which new iterations and metrics that name no unit get.")]
pub(crate) enum SettingsCommand {
    /// Print the randomization units and the default
    #[command(after_help = "\
Example:
  iteration settings get -p my-project -o table")]
    Get(ProjectOnly),
    /// Replace the randomization units
    #[command(after_help = "\
Either --unit (repeated, or keys joined by commas) with --default, which is added to the units
if missing, or a RandomizationSettingsPut file:
{\"randomizationUnits\": [{\"randomizationUnit\": \"user\", \"default\": true}, ...]}.
Each unit must be an existing context kind, named once, and exactly one is the default.

Examples:
  iteration settings put -p my-project --unit user,organization --default user
  iteration settings put -p my-project --file settings.json")]
    Put(PutSettings),
}

/// `settings put`.
#[derive(Debug, Args)]
pub(crate) struct PutSettings {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// A context kind enabled for experiments
    #[arg(long, value_name = "KEY", value_delimiter = ',')]
    pub(crate) unit: Vec<String>,
    /// The unit new iterations get
    #[arg(long, value_name = "KEY", required_unless_present = "file")]
    pub(crate) default: Option<String>,
    /// The RandomizationSettingsPut body, or - for standard input
    #[arg(short, long, value_name = "FILE", conflicts_with_all = ["unit", "default"])]
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration layer ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Experiments in one layer get mutually exclusive traffic: each reserves a whole percentage of
the layer in an environment, and a layer's reservations there add up to at most 100.")]
pub(crate) enum LayerCommand {
    /// List the layers of a project
    #[command(after_help = "\
The table shows each environment's reservations, and the share reserved outside this server.

Examples:
  iteration layer list -p my-project -o table
  iteration layer list -p my-project --experiment example-experiment")]
    List(ListLayers),
    /// Create a layer from a LayerPost, or from --key and --name
    #[command(after_help = "\
The body is a LayerPost: {\"key\", \"name\", \"description\"}. A new layer reserves nothing.

Examples:
  iteration layer create -p my-project --key checkout --name Checkout --description 'Checkout tests'
  echo '{\"key\":\"checkout\",\"name\":\"Checkout\",\"description\":\"\"}' | iteration layer create -p my-project --file -")]
    Create(CreateLayer),
    /// Reserve a percentage of a layer's traffic for an experiment, or change its reservation
    #[command(after_help = "\
An experiment is in at most one layer; 0 is allowed only until it starts, and the layer's
reservations in the environment must stay at or below 100.

Example:
  iteration layer reserve checkout-flow -p my-project -e production --experiment example-experiment --percent 30")]
    Reserve(ReserveLayer),
    /// Take an experiment's reservation out of a layer (refused while it runs)
    #[command(after_help = "\
Example:
  iteration layer remove checkout-flow -p my-project -e production --experiment example-experiment")]
    Remove(RemoveFromLayer),
    /// Change a layer with a semantic patch ({"instructions": [...]})
    #[command(after_help = "\
The file is a LayerPatchInput: {\"environmentKey\"?, \"comment\"?, \"instructions\": [...]}, with
updateName, updateDescription, updateExperimentReservation and removeExperiment; -e names the
environment when the patch has no \"environmentKey\". Every instruction applies or none does.

Example:
  echo '{\"instructions\":[{\"kind\":\"updateName\",\"name\":\"Checkout\"}]}' | iteration layer patch checkout-flow -p my-project --file -")]
    Patch(PatchLayer),
}

/// `layer list`.
#[derive(Debug, Args)]
pub(crate) struct ListLayers {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Only the layers in which this experiment reserves traffic
    #[arg(short = 'x', long, value_name = "KEY")]
    pub(crate) experiment: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `layer create`.
#[derive(Debug, Args)]
pub(crate) struct CreateLayer {
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// The LayerPost, or - for standard input
    #[arg(short, long, value_name = "FILE", required_unless_present = "key", conflicts_with_all = ["key", "name", "description"])]
    pub(crate) file: Option<PathBuf>,
    /// The new layer's key
    #[arg(long, value_name = "KEY", requires = "name")]
    pub(crate) key: Option<String>,
    /// The new layer's name
    #[arg(long, value_name = "NAME", requires = "key")]
    pub(crate) name: Option<String>,
    /// What the new layer is for [default: empty]
    #[arg(long, value_name = "TEXT", requires = "key")]
    pub(crate) description: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `layer reserve`.
#[derive(Debug, Args)]
pub(crate) struct ReserveLayer {
    /// Layer key
    #[arg(value_name = "LAYER")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Environment key [env: LD_ENVIRONMENT]
    #[arg(short, long, visible_alias = "env", value_name = "KEY")]
    pub(crate) environment: Option<String>,
    /// The experiment that reserves the traffic
    #[arg(short = 'x', long, value_name = "KEY")]
    pub(crate) experiment: String,
    /// The percentage of the layer's traffic, 0 to 100
    #[arg(long, value_name = "N")]
    pub(crate) percent: i64,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `layer remove`.
#[derive(Debug, Args)]
pub(crate) struct RemoveFromLayer {
    /// Layer key
    #[arg(value_name = "LAYER")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// Environment key [env: LD_ENVIRONMENT]
    #[arg(short, long, visible_alias = "env", value_name = "KEY")]
    pub(crate) environment: Option<String>,
    /// The experiment whose reservation goes
    #[arg(short = 'x', long, value_name = "KEY")]
    pub(crate) experiment: String,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `layer patch`.
#[derive(Debug, Args)]
pub(crate) struct PatchLayer {
    /// Layer key
    #[arg(value_name = "LAYER")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: ProjectScope,
    /// The environment of a patch without environmentKey [env: LD_ENVIRONMENT]
    #[arg(short, long, visible_alias = "env", value_name = "KEY")]
    pub(crate) environment: Option<String>,
    /// The LayerPatchInput, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration holdout ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
A holdout keeps a percentage of an environment's traffic out of the experiments in it, and
measures them against it through its base experiment, which has the holdout's key. Its status
goes created, enabled (an experiment joined), running, ended.")]
pub(crate) enum HoldoutCommand {
    /// List the holdouts of an environment
    #[command(after_help = "\
Examples:
  iteration holdout list -p my-project -e production -o table
  iteration holdout list -p my-project -e production --limit 5 --offset 5")]
    List(ListHoldouts),
    /// Read a holdout by key, with its experiments in full
    #[command(after_help = "\
--expand names optional parts of the base experiment, --expand-related those of the
experiments in the holdout.

Examples:
  iteration holdout get checkout-holdout -p my-project -e production -o table
  iteration holdout get checkout-holdout -p my-project -e production --expand draftIteration --expand-related treatments")]
    Get(GetHoldout),
    /// Read a holdout by its ID
    #[command(after_help = "\
Example:
  iteration holdout get-by-id 65f0c0ffee00000000000001 -p my-project -e production")]
    GetById(GetHoldoutById),
    /// Create a holdout and its base experiment from a HoldoutPostRequest
    #[command(after_help = "\
The body is a HoldoutPostRequest, its field names in lower case:
{\"key\", \"name\", \"holdoutamount\": \"5\", \"description\"?, \"randomizationunit\"?, \"primarymetrickey\"?,
\"metrics\"?: [{\"key\", \"isGroup\"?}], \"attributes\"?, \"prerequisiteflagkey\"?, \"maintainerId\"?}.

Examples:
  iteration holdout create -p my-project -e production --file holdout.json
  echo '{\"key\":\"pricing\",\"name\":\"Pricing\",\"holdoutamount\":\"5\"}' | iteration holdout create -p my-project -e production --file -")]
    Create(CreateHoldout),
    /// End a holdout (refused while an experiment in it runs)
    #[command(after_help = "\
Example:
  iteration holdout end checkout-holdout -p my-project -e production")]
    End(HoldoutKey),
    /// Change a holdout with a semantic patch ({"instructions": [...]})
    #[command(after_help = "\
The file is a HoldoutPatchInput: {\"comment\"?, \"instructions\": [...]}, with updateName,
updateDescription, removeExperiment and endHoldout (each value in \"value\").

Example:
  echo '{\"instructions\":[{\"kind\":\"updateName\",\"value\":\"Checkout\"}]}' | iteration holdout patch checkout-holdout -p my-project -e production --file -")]
    Patch(PatchHoldout),
}

/// `holdout list`.
#[derive(Debug, Args)]
pub(crate) struct ListHoldouts {
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// Page size
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<u32>,
    /// Holdouts to skip
    #[arg(long, value_name = "N")]
    pub(crate) offset: Option<u32>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `holdout get`.
#[derive(Debug, Args)]
pub(crate) struct GetHoldout {
    /// Holdout key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: Scope,
    #[arg(long, value_name = "PARTS", value_parser = parse_expand, help = EXPAND_HELP)]
    pub(crate) expand: Option<Expand>,
    /// The same parts, of the experiments in the holdout
    #[arg(long, value_name = "PARTS", value_parser = parse_expand)]
    pub(crate) expand_related: Option<Expand>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `holdout get-by-id`.
#[derive(Debug, Args)]
pub(crate) struct GetHoldoutById {
    /// Holdout ID (its `_id`)
    #[arg(value_name = "ID")]
    pub(crate) id: String,
    #[command(flatten)]
    pub(crate) scope: Scope,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `holdout create`.
#[derive(Debug, Args)]
pub(crate) struct CreateHoldout {
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// The HoldoutPostRequest, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `holdout end`: one holdout in an environment.
#[derive(Debug, Args)]
pub(crate) struct HoldoutKey {
    /// Holdout key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: Scope,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `holdout patch`.
#[derive(Debug, Args)]
pub(crate) struct PatchHoldout {
    /// Holdout key
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// The HoldoutPatchInput, or - for standard input
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration admin ...`: the administration API of `iteration serve`.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
These commands call the server's own endpoints under /_iteration/, which only this project's
server has (not LaunchDarkly), with a token of role admin: the demo world's is api-demo-admin.

Example:
  export LD_BASE_URI=http://127.0.0.1:8080 LD_API_KEY=api-demo-admin
  iteration admin reset")]
pub(crate) enum AdminCommand {
    /// Put the server back in the state it started with (its world, and nothing else)
    #[command(after_help = "\
Tokens, projects, catalogs and experiments become what the world the server started with holds.
The request journal and the fault rules are left as they are.

Example:
  iteration admin reset")]
    Reset(AdminOnly),
    /// Read or replace the server's whole state, as a world file
    #[command(subcommand)]
    State(StateCommand),
    /// List the requests the server answered, newest first (the request journal)
    #[command(after_help = "\
The journal keeps the last 1000 requests of the API (not those of the administration API);
`serve --journal-size 0` switches it off. The table shows the time (UTC), method, path,
operation, status, the token's name and the duration; -o json adds each write's body.

Examples:
  iteration admin requests --limit 5 -o table
  iteration admin requests --operation createIteration --status 400 -o json
  iteration admin requests --clear")]
    Requests(ListRequests),
    /// Make requests fail on purpose, or stop doing so
    #[command(subcommand)]
    Faults(FaultsCommand),
}

/// `iteration admin state ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum StateCommand {
    /// Print the whole state as a world file (what `serve --world` reads)
    #[command(after_help = "\
The world file is JSON whatever --output says: tokens, and each project with its catalog,
layers and experiments. Putting it back, or serving it with --world, gives the same state.

Examples:
  iteration admin state get > state.json
  iteration admin state get --out-file state.json")]
    Get(GetState),
    /// Replace the whole state with a world file (tokens included)
    #[command(after_help = "\
The server checks the file as `serve --world` would and, if it breaks a rule, lists every
problem and changes nothing. A later `admin reset` returns to the world the server started with.

Examples:
  iteration admin state put state.json
  iteration admin state get | iteration admin state put -")]
    Put(PutState),
}

/// `admin state get`.
#[derive(Debug, Args)]
pub(crate) struct GetState {
    /// Write the state to FILE instead of standard output (--output is the format option)
    #[arg(long, value_name = "FILE")]
    pub(crate) out_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `admin state put`.
#[derive(Debug, Args)]
pub(crate) struct PutState {
    /// The world file, or - for standard input
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `admin requests`.
#[derive(Debug, Args)]
pub(crate) struct ListRequests {
    /// Only requests of this operation id (createIteration, getExperiment...; unknown for no route)
    #[arg(long, value_name = "ID")]
    pub(crate) operation: Option<String>,
    /// Only requests answered with this status
    #[arg(long, value_name = "CODE")]
    pub(crate) status: Option<u16>,
    /// At most N requests, newest first (1 to 1000)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub(crate) limit: Option<u16>,
    /// Empty the journal instead of listing it
    #[arg(long, conflicts_with_all = ["operation", "status", "limit"])]
    pub(crate) clear: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// `iteration admin faults ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = "\
A rule is {\"operation\"?, \"method\"?, \"status\", \"latencyMs\"?, \"probability\"?, \"times\"?}: requests of
the API whose operation id and method match (absent fields match everything; the first matching
rule decides) wait latencyMs, then answer status (400 to 599) in the API's error format.
probability (0 to 1) makes a rule fire only that often; times removes it after that many.")]
pub(crate) enum FaultsCommand {
    /// Replace the fault rules in force with those of a file
    #[command(after_help = "\
The file is a JSON list of rules (or {\"items\": [...]}, what `faults list -o json` prints).

Examples:
  echo '[{\"operation\":\"createIteration\",\"status\":503,\"times\":1}]' | iteration admin faults set -
  iteration admin faults set faults.json")]
    Set(SetFaults),
    /// List the fault rules in force
    #[command(after_help = "\
Example:
  iteration admin faults list -o table")]
    List(AdminOnly),
    /// Remove every fault rule
    #[command(after_help = "\
Example:
  iteration admin faults clear")]
    Clear(AdminOnly),
}

/// `admin faults set`.
#[derive(Debug, Args)]
pub(crate) struct SetFaults {
    /// The list of rules, or - for standard input
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// An administration command without arguments of its own.
#[derive(Debug, Args)]
pub(crate) struct AdminOnly {
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

impl Command {
    /// The client options given after the command, for those that call the API.
    pub(crate) fn client_options(&self) -> Option<&ClientOptions> {
        use AdminCommand as A;
        use ContextKindCommand as K;
        use ExperimentCommand as E;
        use FlagCommand as F;
        use HoldoutCommand as H;
        use LayerCommand as L;
        use MetricCommand as M;
        use MetricGroupCommand as G;
        use SettingsCommand as S;
        Some(match self {
            Command::Create(c) => &c.client,
            Command::Experiment(E::List(c)) => &c.client,
            Command::Experiment(E::Get(c)) => &c.client,
            Command::Experiment(E::Create(c)) => &c.client,
            Command::Experiment(E::Patch(c)) => &c.client,
            Command::Experiment(E::Start(c)) => &c.client,
            Command::Experiment(E::Stop(c)) => &c.client,
            Command::Experiment(E::Archive(c) | E::Restore(c)) => &c.client,
            Command::Flag(F::List(c)) => &c.client,
            Command::Flag(F::Get(c)) => &c.client,
            Command::Flag(F::Create(c)) => &c.client,
            Command::Flag(F::Patch(c)) => &c.client,
            Command::Flag(F::On(c) | F::Off(c)) => &c.client,
            Command::Flag(F::Delete(c))
            | Command::Metric(M::Delete(c))
            | Command::MetricGroup(G::Delete(c)) => &c.client,
            Command::Metric(M::List(c)) => &c.client,
            Command::Metric(M::Get(c)) | Command::MetricGroup(G::Get(c)) => &c.client,
            Command::Metric(M::Create(c)) | Command::MetricGroup(G::Create(c)) => &c.client,
            Command::Metric(M::Patch(c)) | Command::MetricGroup(G::Patch(c)) => &c.client,
            Command::MetricGroup(G::List(c)) => &c.client,
            Command::ContextKind(K::List(c)) | Command::Settings(S::Get(c)) => &c.client,
            Command::ContextKind(K::Put(c)) => &c.client,
            Command::Settings(S::Put(c)) => &c.client,
            Command::Layer(L::List(c)) => &c.client,
            Command::Layer(L::Create(c)) => &c.client,
            Command::Layer(L::Reserve(c)) => &c.client,
            Command::Layer(L::Remove(c)) => &c.client,
            Command::Layer(L::Patch(c)) => &c.client,
            Command::Holdout(H::List(c)) => &c.client,
            Command::Holdout(H::Get(c)) => &c.client,
            Command::Holdout(H::GetById(c)) => &c.client,
            Command::Holdout(H::Create(c)) => &c.client,
            Command::Holdout(H::End(c)) => &c.client,
            Command::Holdout(H::Patch(c)) => &c.client,
            Command::Admin(A::Reset(c) | A::Faults(FaultsCommand::List(c) | FaultsCommand::Clear(c))) => {
                &c.client
            }
            Command::Admin(A::State(StateCommand::Get(c))) => &c.client,
            Command::Admin(A::State(StateCommand::Put(c))) => &c.client,
            Command::Admin(A::Requests(c)) => &c.client,
            Command::Admin(A::Faults(FaultsCommand::Set(c))) => &c.client,
            Command::Validate(_)
            | Command::Config(_)
            | Command::Completions { .. }
            | Command::Man
            | Command::Serve(_) => return None,
        })
    }
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
    fn catalog_commands_take_a_key_and_their_bodies_one_way() {
        let cli = parse(&["flag", "on", "f", "-p", "p", "--env", "production"]).unwrap();
        let Command::Flag(FlagCommand::On(on)) = cli.command else { panic!() };
        assert_eq!((on.key.as_str(), on.environment.as_deref()), ("f", Some("production")));

        let cli = parse(&["flag", "create", "--key", "k", "--name", "K"]).unwrap();
        let Command::Flag(FlagCommand::Create(create)) = cli.command else { panic!() };
        assert_eq!(
            (create.key.as_deref(), create.name.as_deref(), create.file),
            (Some("k"), Some("K"), None)
        );

        let cli =
            parse(&["settings", "put", "--unit", "user,team", "--unit", "org", "--default", "team"]).unwrap();
        let Command::Settings(SettingsCommand::Put(put)) = cli.command else { panic!() };
        assert_eq!(put.unit, ["user", "team", "org"]);

        let cli = parse(&["metric", "get", "m", "--expand", "experimentCount,metricGroups", "-v"]).unwrap();
        assert_eq!(cli.command.client_options().map(|c| c.verbose), Some(1));

        let cases: [(&[&str], ErrorKind); 5] = [
            (
                &["flag", "create", "--file", "f.json", "--key", "k", "--name", "K"],
                ErrorKind::ArgumentConflict,
            ),
            (&["flag", "create", "--key", "k"], ErrorKind::MissingRequiredArgument),
            (&["flag", "create"], ErrorKind::MissingRequiredArgument),
            (&["context-kind", "put", "team"], ErrorKind::MissingRequiredArgument),
            (&["settings", "put", "--unit", "user"], ErrorKind::MissingRequiredArgument),
        ];
        for (words, kind) in cases {
            let error = parse(words).unwrap_err();
            assert_eq!(error.kind(), kind, "{words:?}: {error}");
        }
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
