//! The `admin` commands: the administration API of `iteration serve`
//! (`docs/behaviour.md` section 6), for scripts and test suites that use
//! the server as a stand-in for LaunchDarkly. Each resolves its
//! [`Context`] like every other command (the token must be of role
//! `admin`), calls one client method and prints the answer.

use iteration_api::client::{FaultRule, RequestFilter};
use iteration_model::{Violation, ViolationCode, Violations};
use serde_json::Value;

use crate::args::{AdminCommand, ClientOptions, FaultsCommand, OutputFormat, Scope, StateCommand};
use crate::commands::{Context, Done, Failure, done, read_input, read_json};
use crate::output;
use crate::settings::Env;

/// Runs an `admin` command.
pub(crate) async fn run(command: AdminCommand, top: ClientOptions, env: Env<'_>) -> Result<Done, Failure> {
    match command {
        AdminCommand::Reset(reset) => {
            let context = context(top, reset.client, env, "admin reset")?;
            context.client()?.reset_state().await?;
            Ok(done(output::admin_done(context.format(), "reset", "the state is the starting world again")))
        }
        AdminCommand::State(StateCommand::Get(get)) => {
            let context = context(top, get.client, env, "admin state get")?;
            let state = context.client()?.get_state().await?;
            let text = String::from_utf8_lossy(&state).trim_end().to_owned();
            match get.out_file {
                None => Ok(done(text)),
                Some(path) => {
                    std::fs::write(&path, format!("{text}\n"))
                        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
                    let line = format!("wrote the state to {}", path.display());
                    Ok(done(if context.format() == OutputFormat::Table { line } else { String::new() }))
                }
            }
        }
        AdminCommand::State(StateCommand::Put(put)) => {
            let context = context(top, put.client, env, "admin state put")?;
            let (_, world) = read_input(&put.file)?;
            let state = context.client()?.put_state(world).await?;
            Ok(done(output::state_replaced(context.format(), &state)))
        }
        AdminCommand::Requests(list) => {
            let context = context(top, list.client, env, "admin requests")?;
            let client = context.client()?;
            if list.clear {
                client.clear_requests().await?;
                return Ok(done(output::admin_done(context.format(), "cleared", "the journal is empty")));
            }
            let mut filter = RequestFilter::default();
            filter.operation = list.operation;
            filter.status = list.status;
            filter.limit = list.limit.map(usize::from);
            let requests = client.list_requests(&filter).await?;
            Ok(done(output::recorded_requests(context.format(), &requests)))
        }
        AdminCommand::Faults(FaultsCommand::Set(set)) => {
            let context = context(top, set.client, env, "admin faults set")?;
            let rules = fault_rules(read_json(&set.file)?).map_err(Failure::Invalid)?;
            let rules = context.client()?.set_faults(&rules).await?;
            Ok(done(output::fault_rules(context.format(), &rules)))
        }
        AdminCommand::Faults(FaultsCommand::List(list)) => {
            let context = context(top, list.client, env, "admin faults list")?;
            let rules = context.client()?.list_faults().await?;
            Ok(done(output::fault_rules(context.format(), &rules)))
        }
        AdminCommand::Faults(FaultsCommand::Clear(clear)) => {
            let context = context(top, clear.client, env, "admin faults clear")?;
            context.client()?.clear_faults().await?;
            Ok(done(output::admin_done(context.format(), "cleared", "no fault rules are in force")))
        }
    }
}

/// The settings of an administration command: no project or environment.
fn context(
    top: ClientOptions,
    inner: ClientOptions,
    env: Env<'_>,
    command: &'static str,
) -> Result<Context, Failure> {
    Context::new(&top.merged(inner), &Scope::default(), env, command)
}

/// A list of fault rules, or `{"items": [...]}` as `faults list -o json`
/// prints it. Each rule's shape is checked here (unknown fields, wrong
/// types), each problem at its pointer; the ranges (status 400 to 599...)
/// are the server's to check.
fn fault_rules(body: Value) -> Result<Vec<FaultRule>, Violations> {
    let (list, prefix) = match body {
        Value::Object(mut object) if object.contains_key("items") => {
            (object.remove("items").unwrap_or_default(), "/items")
        }
        other => (other, ""),
    };
    let Value::Array(items) = list else {
        let message = "the file must be a JSON list of fault rules";
        return Err(Violations(vec![Violation::new(prefix, ViolationCode::WrongType, message)]));
    };
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<FaultRule>(item) {
            Ok(rule) => rules.push(rule),
            Err(e) => problems.push(Violation::new(
                format!("{prefix}/{i}"),
                ViolationCode::WrongType,
                e.to_string(),
            )),
        }
    }
    if problems.is_empty() { Ok(rules) } else { Err(Violations(problems)) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fault_rules_come_as_a_list_or_as_items_and_each_problem_has_its_path() {
        let rules =
            fault_rules(json!([{"operation": "createIteration", "status": 503, "times": 1}])).unwrap();
        assert_eq!(rules, [FaultRule::status(503).operation("createIteration").times(1)]);
        let rules = fault_rules(json!({"items": [{"status": 500}]})).unwrap();
        assert_eq!(rules, [FaultRule::status(500)]);
        let problems =
            fault_rules(json!([{"status": 503}, {"status": "x"}, {"status": 500, "colour": 1}])).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/1", "/2"]);
        assert_eq!(fault_rules(json!({"status": 503})).unwrap_err().as_slice()[0].path, "");
    }
}
