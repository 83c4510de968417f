//! Injected faults (`PUT /_iteration/faults`): rules that make matching
//! requests fail with a given status, after a given latency, so that a
//! client's retries and error handling can be tested against this server.

use std::sync::Mutex;
use std::time::Duration;

use http::Method;
use iteration_model::{FieldErrorRep, pointer};
use serde::Deserialize;
use serde_json::Value;

use crate::admin::FaultRule;

/// The longest latency a rule may add.
pub(crate) const MAX_LATENCY_MS: u64 = 60_000;

/// What a matching rule does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) status: http::StatusCode,
    pub(crate) latency: Duration,
}

/// Reads a list of rules, reporting every problem at its JSON Pointer.
pub(crate) fn read_rules(value: &Value) -> Result<Vec<FaultRule>, Vec<FieldErrorRep>> {
    let mut problems = Vec::new();
    let mut problem = |path: String, message: String| {
        problems.push(FieldErrorRep { path, message, code: Some("invalid_fault".to_owned()) })
    };
    let Some(items) = value.as_array() else {
        problem(String::new(), "the body must be a JSON array of fault rules".to_owned());
        return Err(problems);
    };
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = pointer("", i);
        let mut rule = match FaultRule::deserialize(item) {
            Ok(rule) => rule,
            Err(err) => {
                problem(path, err.to_string());
                continue;
            }
        };
        if !(400..=599).contains(&rule.status) {
            problem(
                pointer(&path, "status"),
                format!("{} is not an error status; use 400 to 599", rule.status),
            );
        }
        if let Some(latency) = rule.latency_ms
            && latency > MAX_LATENCY_MS
        {
            problem(
                pointer(&path, "latencyMs"),
                format!("{latency} is too long; use at most {MAX_LATENCY_MS}"),
            );
        }
        if let Some(p) = rule.probability
            && !(0.0..=1.0).contains(&p)
        {
            problem(pointer(&path, "probability"), format!("{p} is not a probability; use 0 to 1"));
        }
        if rule.times == Some(0) {
            problem(
                pointer(&path, "times"),
                "0 would never fail a request; use at least 1, or leave it out".to_owned(),
            );
        }
        if let Some(method) = &rule.method {
            match Method::from_bytes(method.to_ascii_uppercase().as_bytes()) {
                Ok(parsed) => rule.method = Some(parsed.as_str().to_owned()),
                Err(_) => problem(pointer(&path, "method"), format!("`{method}` is not an HTTP method")),
            }
        }
        rules.push(rule);
    }
    if problems.is_empty() { Ok(rules) } else { Err(problems) }
}

/// The rules in force.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    fn rules(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        // Every change is a plain assignment or removal; a poisoned lock still guards valid rules.
        self.rules.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn set(&self, rules: Vec<FaultRule>) {
        *self.rules() = rules;
    }

    pub(crate) fn list(&self) -> Vec<FaultRule> {
        self.rules().clone()
    }

    /// The fault for a request of `operation` and `method`, if a rule
    /// matches and its dice say so; the first matching rule decides, and
    /// counts down when it fires.
    pub(crate) fn check(&self, operation: &str, method: &Method) -> Option<Fault> {
        let mut rules = self.rules();
        let at = rules.iter().position(|rule| {
            rule.operation.as_deref().is_none_or(|op| op == operation)
                && rule.method.as_deref().is_none_or(|m| m == method.as_str())
        })?;
        let rule = &mut rules[at];
        if rule.probability.is_some_and(|p| fastrand::f64() >= p) {
            return None;
        }
        let fault = Fault {
            status: http::StatusCode::from_u16(rule.status).ok()?,
            latency: Duration::from_millis(rule.latency_ms.unwrap_or(0)),
        };
        if let Some(times) = &mut rule.times {
            *times -= 1;
            if *times == 0 {
                rules.remove(at);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_problem_is_reported_at_its_path() {
        let problems = read_rules(&json!([
            {"status": 503},
            {"status": 200, "probability": 2, "times": 0, "latencyMs": 60001, "method": "GE T"},
            {"status": 500, "colour": "red"}
        ]))
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["/1/status", "/1/latencyMs", "/1/probability", "/1/times", "/1/method", "/2"]);
        assert_eq!(read_rules(&json!({})).unwrap_err()[0].path, "");
    }

    #[test]
    fn times_counts_down_and_the_first_matching_rule_decides() {
        let faults = Faults::default();
        faults.set(
            read_rules(&json!([
                {"operation": "createIteration", "method": "post", "status": 503, "times": 2},
                {"status": 500, "probability": 0}
            ]))
            .unwrap(),
        );
        let fired = |op: &str| faults.check(op, &Method::POST).map(|f| f.status.as_u16());
        assert_eq!(fired("createIteration"), Some(503));
        assert_eq!(fired("getExperiment"), None);
        assert_eq!(fired("createIteration"), Some(503));
        assert_eq!(faults.list().len(), 1);
        assert_eq!(fired("createIteration"), None);
    }
}
