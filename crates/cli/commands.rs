//! Running a command that reads a body or calls the API: resolve the
//! settings, read input, call the client, print the answer. The catalog's
//! commands are in `catalog.rs`, on the same [`Context`].

use std::io::Read as _;
use std::path::Path;

use iteration_api::client::{Client, Error, ListParams};
use iteration_model::{
    ExperimentCollectionRep, ExperimentPatchInput, ExperimentPost, IterationInput, Violations,
};
use iteration_transport::ProxyConfig;

use crate::admin;
use crate::args::{ClientOptions, Command, ExperimentCommand, OutputFormat, Scope};
use crate::catalog;
use crate::exit;
use crate::feedback::{self, Progress};
use crate::layers;
use crate::output;
use crate::settings::{Env, Settings, SettingsFile, TokenSource};

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

    /// The first line of the message, after `error: `.
    fn summary(&self) -> String {
        match self {
            Failure::Usage(message) => message.clone(),
            Failure::Invalid(_) => "the input is invalid".to_owned(),
            Failure::Api(Error::Validation(_)) => "the request is invalid".to_owned(),
            Failure::Api(error) => with_causes(error),
        }
    }

    /// Every violation, for invalid input.
    fn violations(&self) -> Vec<(String, String, String)> {
        match self {
            Failure::Invalid(violations) | Failure::Api(Error::Validation(violations)) => {
                violations.iter().map(|v| (v.path.clone(), v.code.to_string(), v.message.clone())).collect()
            }
            Failure::Api(Error::InvalidRequest { errors, .. }) => errors
                .iter()
                .map(|e| (e.path.clone(), e.code.clone().unwrap_or_default(), e.message.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What to print on standard error, as text.
    pub(crate) fn message(&self, colour: bool) -> String {
        let mut text = format!("{} {}", feedback::red("error:", colour), self.summary());
        let violations = self.violations();
        if !violations.is_empty() {
            text.push(':');
        }
        for (path, code, message) in violations {
            text.push_str(&format!("\n  {path}: {message}"));
            if !code.is_empty() {
                text.push_str(&format!(" [{code}]"));
            }
        }
        text
    }

    /// What to print on standard error, as JSON:
    /// `{"error": {"kind", "exitCode", "message", "status"?, "code"?, "requestId"?, "violations"?}}`.
    pub(crate) fn json(&self) -> String {
        let code = self.exit_code();
        let mut error = serde_json::json!({
            "kind": exit::kind(code),
            "exitCode": code,
            "message": self.summary(),
        });
        if let Failure::Api(api) = self {
            if let Some(status) = api.status() {
                error["status"] = status.as_u16().into();
            }
            if let Some(details) = api.details() {
                if let Some(server_code) = &details.code {
                    error["code"] = server_code.clone().into();
                }
                if let Some(id) = &details.id {
                    error["requestId"] = id.clone().into();
                }
            }
        }
        let violations = self.violations();
        if !violations.is_empty() {
            error["violations"] = violations
                .into_iter()
                .map(|(path, code, message)| serde_json::json!({"path": path, "code": code, "message": message}))
                .collect();
        }
        serde_json::json!({ "error": error }).to_string()
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Api(error)
    }
}

/// `error: cause: cause...`: the transport's cause (refused, certificate...)
/// is the useful part.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

/// What a finished command prints on standard output, and its exit code.
pub(crate) struct Done {
    pub(crate) text: String,
    pub(crate) code: u8,
}

pub(crate) fn done(text: String) -> Done {
    Done { text, code: exit::OK }
}

/// The client options and scope a command was given, and the settings
/// they resolve to.
pub(crate) struct Context {
    pub(crate) settings: Settings,
    file: SettingsFile,
    command: &'static str,
}

impl Context {
    pub(crate) fn new(
        options: &ClientOptions,
        scope: &Scope,
        env: Env<'_>,
        command: &'static str,
    ) -> Result<Context, Failure> {
        // The token's file is checked only when the token is used, so that
        // `validate` works whatever the file's mode.
        let file = SettingsFile::load(env).map_err(Failure::Usage)?;
        let settings = Settings::resolve(options, scope, env, &file).map_err(Failure::Usage)?;
        Ok(Context { settings, file, command })
    }

    pub(crate) fn format(&self) -> OutputFormat {
        self.settings.output
    }

    pub(crate) fn project(&self) -> Result<&str, Failure> {
        self.settings.project.as_deref().ok_or_else(|| self.missing("project", "LD_PROJECT"))
    }

    pub(crate) fn environment(&self) -> Result<&str, Failure> {
        self.settings.environment.as_deref().ok_or_else(|| self.missing("environment", "LD_ENVIRONMENT"))
    }

    fn missing(&self, name: &str, var: &str) -> Failure {
        Failure::Usage(format!(
            "`iteration {}` needs --{name} (or {var}, or `iteration config set {name} KEY`)",
            self.command
        ))
    }

    /// The API client: the token, base URL, CAs, proxies and retry notice.
    pub(crate) fn client(&self) -> Result<Client, Failure> {
        let settings = &self.settings;
        let mut builder = Client::builder().base_url(settings.base_url.clone());
        match &settings.token {
            Some(TokenSource::File(path)) => {
                let token = std::fs::read_to_string(path).map_err(|e| {
                    Failure::Usage(format!("cannot read the token file {}: {e}", path.display()))
                })?;
                let token = token.trim();
                if token.is_empty() {
                    return Err(Failure::Usage(format!("the token file {} is empty", path.display())));
                }
                builder = builder.token(token);
            }
            Some(TokenSource::Environment(token)) => builder = builder.token(token.trim()),
            Some(TokenSource::SettingsFile(token)) => {
                self.file.check_private().map_err(Failure::Usage)?;
                builder = builder.token(token.trim());
            }
            None => {
                return Err(Failure::Usage(
                    "no API token: set LD_ACCESS_TOKEN or LD_API_KEY, use --token-file PATH, or run \
                     `iteration config set access-token` (reads standard input)"
                        .to_owned(),
                ));
            }
        }
        if let Some(version) = &settings.api_version {
            builder = builder.api_version(version.clone());
        }
        if let Some(path) =
            std::env::var_os(iteration_transport::SSL_CERT_FILE_ENV_VAR).filter(|p| !p.is_empty())
        {
            builder = builder.add_root_certificate_file(path);
        }
        for path in &settings.ca_certs {
            builder = builder.add_root_certificate_file(path);
        }
        let proxy = ProxyConfig::from_env()
            .map_err(|e| Failure::Usage(format!("the proxy settings are unusable: {}", with_causes(&e))))?;
        builder = builder.proxy(proxy);
        builder = builder.on_retry(feedback::print_retry_notice);
        Ok(builder.build()?)
    }
}

/// Runs a client command (not `serve`, `config`, `completions` or `man`).
pub(crate) async fn run(command: Command, top: ClientOptions, env: Env<'_>) -> Result<Done, Failure> {
    match command {
        Command::Validate(validate) => {
            let options = top.merged(ClientOptions { output: validate.output, ..ClientOptions::default() });
            let context = Context::new(&options, &Scope::default(), env, "validate")?;
            let result = check_document(&read_json(&validate.file)?);
            let code = if result.is_ok() { exit::OK } else { exit::INVALID };
            Ok(Done { text: output::validation(context.format(), &result), code })
        }
        Command::Create(create) => {
            let options = top.merged(create.client);
            let context = Context::new(&options, &create.scope, env, "create")?;
            let input = IterationInput::from_json(&read_json(&create.file)?).map_err(Failure::Invalid)?;
            if create.dry_run {
                return Ok(dry_run(context.format(), input.validate()));
            }
            let experiment = create.experiment.unwrap_or_default();
            let (project, environment) = (context.project()?, context.environment()?);
            let iteration =
                context.client()?.create_iteration(project, environment, &experiment, &input).await?;
            Ok(done(output::iteration(context.format(), &iteration)))
        }
        Command::Experiment(command) => experiment(command, top, env).await,
        Command::Flag(command) => catalog::flag(command, top, env).await,
        Command::Metric(command) => catalog::metric(command, top, env).await,
        Command::MetricGroup(command) => catalog::metric_group(command, top, env).await,
        Command::ContextKind(command) => catalog::context_kind(command, top, env).await,
        Command::Settings(command) => catalog::settings(command, top, env).await,
        Command::Layer(command) => layers::layer(command, top, env).await,
        Command::Holdout(command) => layers::holdout(command, top, env).await,
        Command::Admin(command) => admin::run(command, top, env).await,
        Command::Config(_) | Command::Completions { .. } | Command::Man | Command::Serve(_) => {
            Err(Failure::Usage("not a client command".to_owned()))
        }
    }
}

async fn experiment(command: ExperimentCommand, top: ClientOptions, env: Env<'_>) -> Result<Done, Failure> {
    match command {
        ExperimentCommand::List(list) => {
            let options = top.merged(list.client);
            let context = Context::new(&options, &list.scope, env, "experiment list")?;
            let params = ListParams {
                limit: list.limit,
                offset: list.offset,
                filter: list.filter.unwrap_or_default(),
                expand: list.expand.unwrap_or_default(),
                lifecycle_state: list.lifecycle_state.map(Into::into),
            };
            let project = context.project()?;
            let environment = context.settings.environment.as_deref();
            let client = context.client()?;
            if !list.all {
                let page = match environment {
                    Some(environment) => client.list_experiments(project, environment, &params).await?,
                    None => client.list_project_experiments(project, &params).await?,
                };
                return Ok(done(output::collection(context.format(), &page)));
            }
            let mut pages = client.experiments(project, environment, params).pages();
            let mut everything: Option<ExperimentCollectionRep> = None;
            let mut progress = Progress::new();
            let mut count = 0;
            while let Some(page) = pages.next().await? {
                count += 1;
                match &mut everything {
                    Some(all) => all.items.extend(page.items),
                    None => everything = Some(page),
                }
                let fetched = everything.as_ref().map_or(0, |all| all.items.len());
                let total = everything.as_ref().and_then(|all| all.total_count);
                progress.show(&match total {
                    Some(total) => format!("fetched {fetched} of {total} experiments ({count} pages)"),
                    None => format!("fetched {fetched} experiments ({count} pages)"),
                });
            }
            progress.finish();
            let mut all = everything.unwrap_or_else(empty_collection);
            // One document for all pages: the per-page links no longer apply.
            all.links = None;
            Ok(done(output::collection(context.format(), &all)))
        }
        ExperimentCommand::Get(get) => {
            let options = top.merged(get.client);
            let context = Context::new(&options, &get.target.scope, env, "experiment get")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let expand = get.expand.unwrap_or_default();
            let found = context
                .client()?
                .get_experiment(project, environment, &get.target.experiment, expand)
                .await?;
            Ok(done(output::experiment(context.format(), &found)))
        }
        ExperimentCommand::Create(create) => {
            let options = top.merged(create.client);
            let context = Context::new(&options, &create.scope, env, "experiment create")?;
            let post = ExperimentPost::from_json(&read_json(&create.file)?).map_err(Failure::Invalid)?;
            if create.dry_run {
                return Ok(dry_run(context.format(), post.validate()));
            }
            let (project, environment) = (context.project()?, context.environment()?);
            let created = context.client()?.create_experiment(project, environment, &post).await?;
            Ok(done(output::experiment(context.format(), &created)))
        }
        ExperimentCommand::Patch(patch) => {
            let options = top.merged(patch.client);
            let context = Context::new(&options, &patch.scope, env, "experiment patch")?;
            let input =
                ExperimentPatchInput::from_json(&read_json(&patch.file)?).map_err(Failure::Invalid)?;
            if patch.dry_run {
                return Ok(dry_run(context.format(), input.validate()));
            }
            let (project, environment) = (context.project()?, context.environment()?);
            let experiment = patch.experiment.unwrap_or_default();
            let patched =
                context.client()?.patch_experiment(project, environment, &experiment, &input).await?;
            Ok(done(output::experiment(context.format(), &patched)))
        }
        ExperimentCommand::Start(start) => {
            let options = top.merged(start.client);
            let context = Context::new(&options, &start.target.scope, env, "experiment start")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let started = context
                .client()?
                .start_iteration(
                    project,
                    environment,
                    &start.target.experiment,
                    start.justification.as_deref(),
                )
                .await?;
            Ok(done(output::experiment(context.format(), &started)))
        }
        ExperimentCommand::Stop(stop) => {
            let options = top.merged(stop.client);
            let context = Context::new(&options, &stop.target.scope, env, "experiment stop")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let stopped = context
                .client()?
                .stop_iteration(
                    project,
                    environment,
                    &stop.target.experiment,
                    &stop.winner,
                    stop.reason.as_deref(),
                )
                .await?;
            Ok(done(output::experiment(context.format(), &stopped)))
        }
        ExperimentCommand::Archive(archive) => {
            let options = top.merged(archive.client);
            let context = Context::new(&options, &archive.target.scope, env, "experiment archive")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let archived = context
                .client()?
                .archive_experiment(project, environment, &archive.target.experiment)
                .await?;
            Ok(done(output::experiment(context.format(), &archived)))
        }
        ExperimentCommand::Restore(restore) => {
            let options = top.merged(restore.client);
            let context = Context::new(&options, &restore.target.scope, env, "experiment restore")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let restored = context
                .client()?
                .restore_experiment(project, environment, &restore.target.experiment)
                .await?;
            Ok(done(output::experiment(context.format(), &restored)))
        }
    }
}

/// The outcome of a local check, exit 1 when it fails.
fn dry_run(format: OutputFormat, result: Result<(), Violations>) -> Done {
    let code = if result.is_ok() { exit::OK } else { exit::INVALID };
    Done { text: output::validation(format, &result), code }
}

fn empty_collection() -> ExperimentCollectionRep {
    ExperimentCollectionRep {
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

/// The bytes of a file, or of standard input for `-`, and what to call it
/// in a message.
pub(crate) fn read_input(path: &Path) -> Result<(String, Vec<u8>), Failure> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::Usage(format!("cannot read standard input: {e}")))?;
        Ok(("standard input".to_owned(), bytes))
    } else {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
        Ok((path.display().to_string(), bytes))
    }
}

/// Reads JSON from a file, or from standard input for `-`.
pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value, Failure> {
    let (name, bytes) = read_input(path)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Failure::Invalid(Violations(vec![iteration_model::Violation::new(
            "",
            iteration_model::ViolationCode::WrongType,
            format!("{name} is not JSON: {e}"),
        )]))
    })
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

    #[test]
    fn errors_as_json_carry_the_kind_exit_code_and_violations() {
        let failure = Failure::Invalid(Violations(vec![iteration_model::Violation::new(
            "/treatments",
            iteration_model::ViolationCode::AllocationSum,
            "allocations sum to 90; they must sum to 100",
        )]));
        let json: serde_json::Value = serde_json::from_str(&failure.json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {
                "kind": "invalid", "exitCode": 1, "message": "the input is invalid",
                "violations": [{"path": "/treatments", "code": "allocation_sum",
                                "message": "allocations sum to 90; they must sum to 100"}]
            }})
        );
        assert_eq!(
            failure.message(false),
            "error: the input is invalid:\n  /treatments: allocations sum to 90; they must sum to 100 [allocation_sum]"
        );
    }
}
