//! The live catalog's commands: flags, metrics, metric groups, context
//! kinds and the experimentation settings. Each resolves its [`Context`],
//! reads its body, calls one client method and prints the answer; the
//! server checks catalog bodies and answers every problem at once.

use iteration_api::client::{FlagListParams, MetricGroupListParams, MetricListParams};
use iteration_model::{
    FeatureFlagBody, FeatureFlags, FlagPatch, JsonPatch, Links, MetricCollectionRep,
    MetricGroupCollectionRep, RandomizationUnit, Violation, ViolationCode, Violations,
};
use serde_json::{Map, Value};

use crate::args::{
    ClientOptions, ContextKindCommand, FlagCommand, MetricCommand, MetricGroupCommand, ProjectScope, Scope,
    SettingsCommand, ToggleFlag,
};
use crate::commands::{Context, Done, Failure, done, read_json};
use crate::feedback::Progress;
use crate::output;
use crate::settings::Env;

/// The project, with an environment when the command takes one.
fn scope(project: &ProjectScope, environment: Option<String>) -> Scope {
    Scope { environment, ..project.scope() }
}

/// Runs a `flag` command.
pub(crate) async fn flag(command: FlagCommand, top: ClientOptions, env: Env<'_>) -> Result<Done, Failure> {
    match command {
        FlagCommand::List(list) => {
            let options = top.merged(list.client);
            let context = Context::new(&options, &scope(&list.scope, list.environment), env, "flag list")?;
            let project = context.project()?;
            let environment = context.settings.environment.clone();
            let params = FlagListParams {
                env: environment.clone(),
                tag: list.tag,
                limit: list.limit,
                offset: list.offset,
                archived: list.archived.then_some(true),
                filter: list.filter,
            };
            let client = context.client()?;
            let page = if list.all {
                let mut pages = client.flag_pages(project, params);
                let mut walk = Walk::new("flags");
                while let Some(page) = pages.next().await? {
                    walk.add(page);
                }
                walk.finish()
            } else {
                client.list_flags(project, &params).await?
            };
            Ok(done(output::flags(context.format(), &page, environment.as_deref())))
        }
        FlagCommand::Get(get) => {
            let options = top.merged(get.client);
            let context = Context::new(&options, &scope(&get.scope, get.environment), env, "flag get")?;
            let project = context.project()?;
            let environment = context.settings.environment.as_deref();
            let flag = context.client()?.get_flag(project, &get.key, environment).await?;
            Ok(done(output::flag(context.format(), &flag, environment)))
        }
        FlagCommand::Create(create) => {
            let options = top.merged(create.client);
            let context = Context::new(&options, &create.scope.scope(), env, "flag create")?;
            let body = match (create.file, create.key, create.name) {
                (Some(file), _, _) => {
                    FeatureFlagBody::from_json(&read_json(&file)?).map_err(Failure::Invalid)?
                }
                (None, Some(key), Some(name)) => {
                    let mut body = FeatureFlagBody::new(key, name);
                    body.description = create.description;
                    body
                }
                _ => {
                    return Err(Failure::Usage(
                        "`iteration flag create` needs --file, or --key and --name".to_owned(),
                    ));
                }
            };
            let project = context.project()?;
            let flag = context.client()?.create_flag(project, &body).await?;
            Ok(done(output::flag(context.format(), &flag, context.settings.environment.as_deref())))
        }
        FlagCommand::Patch(patch) => {
            let options = top.merged(patch.client);
            let context = Context::new(&options, &scope(&patch.scope, patch.environment), env, "flag patch")?;
            let body = read_json(&patch.file)?;
            let project = context.project()?;
            let default_environment = context.settings.environment.clone();
            let client = context.client()?;
            // The same test the server makes: instructions make a semantic patch.
            let (flag, environment) = if body.get("instructions").is_some() {
                let mut semantic = FlagPatch::from_json(&body).map_err(Failure::Invalid)?;
                if semantic.environment_key.is_none() {
                    semantic.environment_key = default_environment;
                }
                let flag = client.patch_flag_semantic(project, &patch.key, &semantic).await?;
                (flag, semantic.environment_key)
            } else {
                let json_patch = JsonPatch::from_json(&body).map_err(Failure::Invalid)?;
                (client.patch_flag(project, &patch.key, &json_patch).await?, default_environment)
            };
            Ok(done(output::flag(context.format(), &flag, environment.as_deref())))
        }
        FlagCommand::On(toggle) => turn(toggle, true, top, env).await,
        FlagCommand::Off(toggle) => turn(toggle, false, top, env).await,
        FlagCommand::Delete(delete) => {
            let options = top.merged(delete.client);
            let context = Context::new(&options, &delete.scope.scope(), env, "flag delete")?;
            let project = context.project()?;
            context.client()?.delete_flag(project, &delete.key).await?;
            Ok(done(output::deleted(context.format(), "flag", &delete.key)))
        }
    }
}

/// `flag on` and `flag off`.
async fn turn(toggle: ToggleFlag, on: bool, top: ClientOptions, env: Env<'_>) -> Result<Done, Failure> {
    let options = top.merged(toggle.client);
    let name = if on { "flag on" } else { "flag off" };
    let context = Context::new(&options, &scope(&toggle.scope, toggle.environment), env, name)?;
    let (project, environment) = (context.project()?, context.environment()?);
    let client = context.client()?;
    let flag = if on {
        client.turn_flag_on(project, &toggle.key, environment).await?
    } else {
        client.turn_flag_off(project, &toggle.key, environment).await?
    };
    Ok(done(output::flag(context.format(), &flag, Some(environment))))
}

/// Runs a `metric` command.
pub(crate) async fn metric(
    command: MetricCommand,
    top: ClientOptions,
    env: Env<'_>,
) -> Result<Done, Failure> {
    match command {
        MetricCommand::List(list) => {
            let options = top.merged(list.client);
            let context = Context::new(&options, &list.scope.scope(), env, "metric list")?;
            let project = context.project()?;
            let params = MetricListParams {
                expand: list.expand,
                limit: list.limit,
                offset: list.offset,
                filter: list.filter,
            };
            let client = context.client()?;
            let page = if list.all {
                let mut pages = client.metric_pages(project, params);
                let mut walk = Walk::new("metrics");
                while let Some(page) = pages.next().await? {
                    walk.add(page);
                }
                walk.finish()
            } else {
                client.list_metrics(project, &params).await?
            };
            Ok(done(output::metrics(context.format(), &page)))
        }
        MetricCommand::Get(get) => {
            let options = top.merged(get.client);
            let context = Context::new(&options, &get.scope.scope(), env, "metric get")?;
            let project = context.project()?;
            let expand: Vec<&str> = get.expand.iter().map(String::as_str).collect();
            let metric = context.client()?.get_metric(project, &get.key, &expand).await?;
            Ok(done(output::metric(context.format(), &metric)))
        }
        MetricCommand::Create(create) => {
            let options = top.merged(create.client);
            let context = Context::new(&options, &create.scope.scope(), env, "metric create")?;
            let body = read_object(&create.file)?;
            let project = context.project()?;
            let metric = context.client()?.create_metric(project, &body).await?;
            Ok(done(output::metric(context.format(), &metric)))
        }
        MetricCommand::Patch(patch) => {
            let options = top.merged(patch.client);
            let context = Context::new(&options, &patch.scope.scope(), env, "metric patch")?;
            let json_patch = JsonPatch::from_json(&read_json(&patch.file)?).map_err(Failure::Invalid)?;
            let project = context.project()?;
            let metric = context.client()?.patch_metric(project, &patch.key, &json_patch.operations).await?;
            Ok(done(output::metric(context.format(), &metric)))
        }
        MetricCommand::Delete(delete) => {
            let options = top.merged(delete.client);
            let context = Context::new(&options, &delete.scope.scope(), env, "metric delete")?;
            let project = context.project()?;
            context.client()?.delete_metric(project, &delete.key).await?;
            Ok(done(output::deleted(context.format(), "metric", &delete.key)))
        }
    }
}

/// Runs a `metric-group` command.
pub(crate) async fn metric_group(
    command: MetricGroupCommand,
    top: ClientOptions,
    env: Env<'_>,
) -> Result<Done, Failure> {
    match command {
        MetricGroupCommand::List(list) => {
            let options = top.merged(list.client);
            let context = Context::new(&options, &list.scope.scope(), env, "metric-group list")?;
            let project = context.project()?;
            let params =
                MetricGroupListParams { filter: list.filter, limit: list.limit, offset: list.offset };
            let client = context.client()?;
            let page = if list.all {
                let mut pages = client.metric_group_pages(project, params);
                let mut walk = Walk::new("metric groups");
                while let Some(page) = pages.next().await? {
                    walk.add(page);
                }
                walk.finish()
            } else {
                client.list_metric_groups(project, &params).await?
            };
            Ok(done(output::metric_groups(context.format(), &page)))
        }
        MetricGroupCommand::Get(get) => {
            let options = top.merged(get.client);
            let context = Context::new(&options, &get.scope.scope(), env, "metric-group get")?;
            let project = context.project()?;
            let expand: Vec<&str> = get.expand.iter().map(String::as_str).collect();
            let group = context.client()?.get_metric_group(project, &get.key, &expand).await?;
            Ok(done(output::metric_group(context.format(), &group)))
        }
        MetricGroupCommand::Create(create) => {
            let options = top.merged(create.client);
            let context = Context::new(&options, &create.scope.scope(), env, "metric-group create")?;
            let body = read_object(&create.file)?;
            let project = context.project()?;
            let group = context.client()?.create_metric_group(project, &body).await?;
            Ok(done(output::metric_group(context.format(), &group)))
        }
        MetricGroupCommand::Patch(patch) => {
            let options = top.merged(patch.client);
            let context = Context::new(&options, &patch.scope.scope(), env, "metric-group patch")?;
            let json_patch = JsonPatch::from_json(&read_json(&patch.file)?).map_err(Failure::Invalid)?;
            let project = context.project()?;
            let group =
                context.client()?.patch_metric_group(project, &patch.key, &json_patch.operations).await?;
            Ok(done(output::metric_group(context.format(), &group)))
        }
        MetricGroupCommand::Delete(delete) => {
            let options = top.merged(delete.client);
            let context = Context::new(&options, &delete.scope.scope(), env, "metric-group delete")?;
            let project = context.project()?;
            context.client()?.delete_metric_group(project, &delete.key).await?;
            Ok(done(output::deleted(context.format(), "metric group", &delete.key)))
        }
    }
}

/// Runs a `context-kind` command.
pub(crate) async fn context_kind(
    command: ContextKindCommand,
    top: ClientOptions,
    env: Env<'_>,
) -> Result<Done, Failure> {
    match command {
        ContextKindCommand::List(list) => {
            let options = top.merged(list.client);
            let context = Context::new(&options, &list.scope.scope(), env, "context-kind list")?;
            let project = context.project()?;
            let kinds = context.client()?.list_context_kinds(project).await?;
            Ok(done(output::context_kinds(context.format(), &kinds)))
        }
        ContextKindCommand::Put(put) => {
            let options = top.merged(put.client);
            let context = Context::new(&options, &put.scope.scope(), env, "context-kind put")?;
            let body = match (&put.file, put.name) {
                (Some(file), _) => read_object(file)?,
                (None, Some(name)) => {
                    let mut body = Map::new();
                    body.insert("name".to_owned(), name.into());
                    if let Some(description) = put.description {
                        body.insert("description".to_owned(), description.into());
                    }
                    Value::Object(body)
                }
                (None, None) => {
                    return Err(Failure::Usage(
                        "`iteration context-kind put` needs --name, or --file".to_owned(),
                    ));
                }
            };
            let project = context.project()?;
            let answer = context.client()?.put_context_kind(project, &put.key, &body).await?;
            Ok(done(output::upserted(context.format(), &answer, "context kind", &put.key)))
        }
    }
}

/// Runs a `settings` command.
pub(crate) async fn settings(
    command: SettingsCommand,
    top: ClientOptions,
    env: Env<'_>,
) -> Result<Done, Failure> {
    match command {
        SettingsCommand::Get(get) => {
            let options = top.merged(get.client);
            let context = Context::new(&options, &get.scope.scope(), env, "settings get")?;
            let project = context.project()?;
            let settings = context.client()?.get_experimentation_settings(project).await?;
            Ok(done(output::randomization_settings(context.format(), &settings)))
        }
        SettingsCommand::Put(put) => {
            let options = top.merged(put.client);
            let context = Context::new(&options, &put.scope.scope(), env, "settings put")?;
            let units = match (&put.file, put.default) {
                (Some(file), _) => units_from_body(&read_json(file)?).map_err(Failure::Invalid)?,
                (None, Some(default)) => units_from_flags(put.unit, &default),
                (None, None) => {
                    return Err(Failure::Usage(
                        "`iteration settings put` needs --default (and --unit), or --file".to_owned(),
                    ));
                }
            };
            let project = context.project()?;
            let settings = context.client()?.put_experimentation_settings(project, &units).await?;
            Ok(done(output::randomization_settings(context.format(), &settings)))
        }
    }
}

/// `--unit a,b --default a`: each unit once, in order, with the default
/// among them (first, when `--unit` did not name it).
fn units_from_flags(units: Vec<String>, default: &str) -> Vec<RandomizationUnit> {
    let mut keys: Vec<String> = Vec::new();
    if !units.iter().any(|unit| unit == default) {
        keys.push(default.to_owned());
    }
    for unit in units {
        if !keys.contains(&unit) {
            keys.push(unit);
        }
    }
    keys.into_iter().map(|key| RandomizationUnit { default: key == default, key }).collect()
}

/// A `RandomizationSettingsPut` body: `{"randomizationUnits":
/// [{"randomizationUnit": "user", "default": true}, ...]}`, every problem
/// at its path. Whether the units exist and one is the default is the
/// server's to say.
fn units_from_body(body: &Value) -> Result<Vec<RandomizationUnit>, Violations> {
    let mut problems = Vec::new();
    let Some(items) = body.get("randomizationUnits").and_then(Value::as_array) else {
        let code = if body.get("randomizationUnits").is_some() {
            ViolationCode::WrongType
        } else {
            ViolationCode::MissingField
        };
        let problem =
            Violation::new("/randomizationUnits", code, "randomizationUnits must be a list of units");
        return Err(Violations(vec![problem]));
    };
    let mut units = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("/randomizationUnits/{index}");
        let key = match item.get("randomizationUnit") {
            Some(Value::String(key)) => Some(key.clone()),
            Some(_) => {
                problems.push(Violation::new(
                    format!("{path}/randomizationUnit"),
                    ViolationCode::WrongType,
                    "randomizationUnit must be a context kind key",
                ));
                None
            }
            None => {
                problems.push(Violation::new(
                    format!("{path}/randomizationUnit"),
                    ViolationCode::MissingField,
                    "randomizationUnit is required",
                ));
                None
            }
        };
        let default = match item.get("default") {
            None => Some(false),
            Some(Value::Bool(default)) => Some(*default),
            Some(_) => {
                problems.push(Violation::new(
                    format!("{path}/default"),
                    ViolationCode::WrongType,
                    "default must be true or false",
                ));
                None
            }
        };
        if let (Some(key), Some(default)) = (key, default) {
            units.push(RandomizationUnit { key, default });
        }
    }
    if problems.is_empty() { Ok(units) } else { Err(Violations(problems)) }
}

/// A body the server checks: any JSON object.
fn read_object(path: &std::path::Path) -> Result<Value, Failure> {
    let body = read_json(path)?;
    if body.is_object() {
        return Ok(body);
    }
    let problem = Violation::new("", ViolationCode::WrongType, "the body must be a JSON object");
    Err(Failure::Invalid(Violations(vec![problem])))
}

/// A list whose pages are put together by `--all`.
trait Gathered: Sized {
    /// How many items it holds.
    fn count(&self) -> usize;
    /// How many items match in all, when the server says.
    fn total(&self) -> Option<i64>;
    /// Appends another page's items.
    fn append(&mut self, page: Self);
    /// One document for all pages: the per-page links no longer apply.
    fn without_links(self) -> Self;
    /// No items at all.
    fn empty() -> Self;
}

/// `Gathered` for a page type, given its `_links` when there are none.
macro_rules! gathered {
    ($type:ty, $no_links:expr) => {
        impl Gathered for $type {
            fn count(&self) -> usize {
                self.items.len()
            }
            fn total(&self) -> Option<i64> {
                self.total_count
            }
            fn append(&mut self, page: Self) {
                self.items.extend(page.items);
            }
            fn without_links(self) -> Self {
                Self { links: $no_links, ..self }
            }
            fn empty() -> Self {
                Self { items: Vec::new(), links: $no_links, total_count: Some(0), extra: Map::new() }
            }
        }
    };
}

gathered!(FeatureFlags, Links::new());
gathered!(MetricCollectionRep, Links::new());
gathered!(MetricGroupCollectionRep, None);

/// Every page of a list, with progress on a terminal.
struct Walk<P> {
    noun: &'static str,
    all: Option<P>,
    pages: usize,
    progress: Progress,
}

impl<P: Gathered> Walk<P> {
    fn new(noun: &'static str) -> Walk<P> {
        Walk { noun, all: None, pages: 0, progress: Progress::new() }
    }

    fn add(&mut self, page: P) {
        self.pages += 1;
        match &mut self.all {
            Some(all) => all.append(page),
            None => self.all = Some(page),
        }
        let fetched = self.all.as_ref().map_or(0, Gathered::count);
        let (noun, pages) = (self.noun, self.pages);
        self.progress.show(&match self.all.as_ref().and_then(Gathered::total) {
            Some(total) => format!("fetched {fetched} of {total} {noun} ({pages} pages)"),
            None => format!("fetched {fetched} {noun} ({pages} pages)"),
        });
    }

    fn finish(mut self) -> P {
        self.progress.finish();
        self.all.take().map_or_else(P::empty, Gathered::without_links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_flags_name_each_unit_once_with_the_default_among_them() {
        let units =
            units_from_flags(vec!["user".into(), "organization".into(), "user".into()], "organization");
        let keys: Vec<(&str, bool)> = units.iter().map(|u| (u.key.as_str(), u.default)).collect();
        assert_eq!(keys, [("user", false), ("organization", true)]);
        let units = units_from_flags(Vec::new(), "user");
        assert_eq!(units, [RandomizationUnit { key: "user".into(), default: true }]);
    }

    #[test]
    fn a_settings_body_reports_every_problem_at_its_path() {
        let body = serde_json::json!({"randomizationUnits": [
            {"randomizationUnit": "user", "default": true},
            {"randomizationUnit": 7},
            {"default": "yes"},
        ]});
        let violations = units_from_body(&body).unwrap_err();
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/randomizationUnits/1/randomizationUnit",
                "/randomizationUnits/2/randomizationUnit",
                "/randomizationUnits/2/default"
            ]
        );
        let body = serde_json::json!({"randomizationUnits": [{"randomizationUnit": "user", "default": true}, {"randomizationUnit": "org"}]});
        assert_eq!(
            units_from_body(&body).unwrap(),
            [
                RandomizationUnit { key: "user".into(), default: true },
                RandomizationUnit { key: "org".into(), default: false }
            ]
        );
        let violations = units_from_body(&serde_json::json!({})).unwrap_err();
        assert_eq!(violations.as_slice()[0].path, "/randomizationUnits");
    }

    #[test]
    fn an_empty_walk_is_an_empty_list() {
        let walk: Walk<FeatureFlags> = Walk::new("flags");
        let flags = walk.finish();
        assert_eq!((flags.items.len(), flags.total_count), (0, Some(0)));
    }
}
