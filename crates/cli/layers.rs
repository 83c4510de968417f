//! The layer and holdout commands. Each resolves its [`Context`], reads its
//! body, calls one client method and prints the answer; the server checks
//! the rules (a layer's reservations add up to at most 100, a holdout ends
//! only when nothing in it runs) and answers every problem at once.

use iteration_model::{
    HoldoutPatch, HoldoutPost, LayerPatch, LayerPost, Violation, ViolationCode, Violations,
};
use serde_json::Value;

use crate::args::{ClientOptions, HoldoutCommand, LayerCommand, ProjectScope, Scope};
use crate::commands::{Context, Done, Failure, done, read_json};
use crate::output;
use crate::settings::Env;

/// The project, with an environment when the command takes one.
fn scope(project: &ProjectScope, environment: Option<String>) -> Scope {
    Scope { environment, ..project.scope() }
}

/// Runs a `layer` command.
pub(crate) async fn layer(command: LayerCommand, top: ClientOptions, env: Env<'_>) -> Result<Done, Failure> {
    match command {
        LayerCommand::List(list) => {
            let options = top.merged(list.client);
            let context = Context::new(&options, &list.scope.scope(), env, "layer list")?;
            let project = context.project()?;
            let layers = context.client()?.list_layers(project, list.experiment.as_deref()).await?;
            Ok(done(output::layers(context.format(), &layers)))
        }
        LayerCommand::Create(create) => {
            let options = top.merged(create.client);
            let context = Context::new(&options, &create.scope.scope(), env, "layer create")?;
            let post = match (create.file, create.key, create.name) {
                (Some(file), _, _) => layer_post(&read_json(&file)?).map_err(Failure::Invalid)?,
                (None, Some(key), Some(name)) => {
                    LayerPost { key, name, description: create.description.unwrap_or_default() }
                }
                _ => {
                    return Err(Failure::Usage(
                        "`iteration layer create` needs --file, or --key and --name".to_owned(),
                    ));
                }
            };
            let project = context.project()?;
            let layer = context.client()?.create_layer(project, &post).await?;
            Ok(done(output::layer(context.format(), &layer)))
        }
        LayerCommand::Reserve(reserve) => {
            let options = top.merged(reserve.client);
            let context =
                Context::new(&options, &scope(&reserve.scope, reserve.environment), env, "layer reserve")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let layer = context
                .client()?
                .reserve_layer_traffic(
                    project,
                    &reserve.key,
                    environment,
                    &reserve.experiment,
                    reserve.percent,
                )
                .await?;
            Ok(done(output::layer(context.format(), &layer)))
        }
        LayerCommand::Remove(remove) => {
            let options = top.merged(remove.client);
            let context =
                Context::new(&options, &scope(&remove.scope, remove.environment), env, "layer remove")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let layer = context
                .client()?
                .remove_experiment_from_layer(project, &remove.key, environment, &remove.experiment)
                .await?;
            Ok(done(output::layer(context.format(), &layer)))
        }
        LayerCommand::Patch(patch) => {
            let options = top.merged(patch.client);
            let context =
                Context::new(&options, &scope(&patch.scope, patch.environment), env, "layer patch")?;
            let mut semantic = LayerPatch::from_json(&read_json(&patch.file)?).map_err(Failure::Invalid)?;
            if semantic.environment_key.is_none() {
                semantic.environment_key = context.settings.environment.clone();
            }
            let project = context.project()?;
            let layer = context.client()?.update_layer(project, &patch.key, &semantic).await?;
            Ok(done(output::layer(context.format(), &layer)))
        }
    }
}

/// Runs a `holdout` command; every one names an environment.
pub(crate) async fn holdout(
    command: HoldoutCommand,
    top: ClientOptions,
    env: Env<'_>,
) -> Result<Done, Failure> {
    match command {
        HoldoutCommand::List(list) => {
            let options = top.merged(list.client);
            let context = Context::new(&options, &list.scope, env, "holdout list")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let page = context.client()?.list_holdouts(project, environment, list.limit, list.offset).await?;
            Ok(done(output::holdouts(context.format(), &page)))
        }
        HoldoutCommand::Get(get) => {
            let options = top.merged(get.client);
            let context = Context::new(&options, &get.scope, env, "holdout get")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let (expand, related) = (get.expand.unwrap_or_default(), get.expand_related.unwrap_or_default());
            let holdout =
                context.client()?.get_holdout(project, environment, &get.key, expand, related).await?;
            Ok(done(output::holdout(context.format(), &holdout)))
        }
        HoldoutCommand::GetById(get) => {
            let options = top.merged(get.client);
            let context = Context::new(&options, &get.scope, env, "holdout get-by-id")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let holdout = context.client()?.get_holdout_by_id(project, environment, &get.id).await?;
            Ok(done(output::holdout(context.format(), &holdout)))
        }
        HoldoutCommand::Create(create) => {
            let options = top.merged(create.client);
            let context = Context::new(&options, &create.scope, env, "holdout create")?;
            let post = HoldoutPost::from_json(&read_json(&create.file)?).map_err(Failure::Invalid)?;
            let (project, environment) = (context.project()?, context.environment()?);
            let holdout = context.client()?.create_holdout(project, environment, &post).await?;
            Ok(done(output::holdout(context.format(), &holdout)))
        }
        HoldoutCommand::End(end) => {
            let options = top.merged(end.client);
            let context = Context::new(&options, &end.scope, env, "holdout end")?;
            let (project, environment) = (context.project()?, context.environment()?);
            let holdout = context.client()?.end_holdout(project, environment, &end.key).await?;
            Ok(done(output::holdout(context.format(), &holdout)))
        }
        HoldoutCommand::Patch(patch) => {
            let options = top.merged(patch.client);
            let context = Context::new(&options, &patch.scope, env, "holdout patch")?;
            let semantic = HoldoutPatch::from_json(&read_json(&patch.file)?).map_err(Failure::Invalid)?;
            let (project, environment) = (context.project()?, context.environment()?);
            let holdout =
                context.client()?.patch_holdout(project, environment, &patch.key, &semantic).await?;
            Ok(done(output::holdout(context.format(), &holdout)))
        }
    }
}

/// A `LayerPost` body: `key` and `name` strings, `description` a string
/// when given (empty when not). Every problem at its path; whether the key
/// is valid and free is the server's to say.
fn layer_post(body: &Value) -> Result<LayerPost, Violations> {
    let Some(object) = body.as_object() else {
        let problem = Violation::new("", ViolationCode::WrongType, "the body must be a JSON object");
        return Err(Violations(vec![problem]));
    };
    let mut problems = Vec::new();
    let mut field = |name: &str, required: bool| match object.get(name) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => {
            let message = format!("{name} must be a string");
            problems.push(Violation::new(format!("/{name}"), ViolationCode::WrongType, message));
            None
        }
        None if required => {
            let message = format!("{name} is required");
            problems.push(Violation::new(format!("/{name}"), ViolationCode::MissingField, message));
            None
        }
        None => Some(String::new()),
    };
    let (key, name, description) = (field("key", true), field("name", true), field("description", false));
    match (key, name, description) {
        (Some(key), Some(name), Some(description)) if problems.is_empty() => {
            Ok(LayerPost { key, name, description })
        }
        _ => Err(Violations(problems)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_layer_post_reports_every_problem_at_its_path() {
        let post = layer_post(&json!({"key": "checkout", "name": "Checkout"})).unwrap();
        assert_eq!(
            post,
            LayerPost { key: "checkout".into(), name: "Checkout".into(), description: "".into() }
        );
        let violations = layer_post(&json!({"name": 7, "description": false})).unwrap_err();
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/key", "/name", "/description"]);
        let violations = layer_post(&json!([])).unwrap_err();
        assert_eq!(violations.as_slice()[0].path, "");
    }
}
