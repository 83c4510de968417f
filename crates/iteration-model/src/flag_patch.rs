//! Semantic patches of a feature flag: what each instruction does, as a pure
//! function of the flag.
//!
//! All instructions of a patch apply, in order, or none does: [`FlagPatch::apply`]
//! works on a copy and answers every problem it found. The caller then
//! checks the whole result ([`FeatureFlag::problems`]) and moves the
//! versions ([`FeatureFlag::settle`]).

use serde_json::{Map, Value};

use crate::flag::{FeatureFlag, FeatureFlagConfig, FlagRule};
use crate::ids::IdSource;
use crate::millis::UnixMillis;
use crate::reader::Reader;
use crate::violation::{ViolationCode, Violations, pointer};

/// A semantic patch of a flag: `{environmentKey?, comment?, instructions}`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagPatch {
    /// The environment that environment-level instructions change.
    pub environment_key: Option<String>,
    /// Why the change was made.
    pub comment: Option<String>,
    /// What to change, in order.
    pub instructions: Vec<FlagInstruction>,
}

/// One instruction of a flag's semantic patch, by its `kind`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FlagInstruction {
    /// `turnFlagOn`: targeting on in the patch's environment.
    TurnFlagOn,
    /// `turnFlagOff`: targeting off in the patch's environment.
    TurnFlagOff,
    /// `addRule`: a new targeting rule, with a fresh `_id`.
    AddRule {
        /// The rule's clauses.
        clauses: Vec<Value>,
        /// The variation it serves.
        variation_id: Option<String>,
        /// A rollout it serves instead.
        rollout: Option<Value>,
        /// What the rule is for.
        description: Option<String>,
        /// The rule to insert it before; at the end when absent.
        before_rule_id: Option<String>,
    },
    /// `removeRule`.
    RemoveRule {
        /// The rule's `_id`.
        rule_id: String,
    },
    /// `updateRuleDescription`.
    UpdateRuleDescription {
        /// The rule's `_id`.
        rule_id: String,
        /// The new description.
        description: String,
    },
    /// `updateFallthroughVariationOrRollout`.
    UpdateFallthroughVariationOrRollout {
        /// The variation served when no rule matches.
        variation_id: Option<String>,
        /// A rollout served instead.
        rollout: Option<Value>,
    },
    /// `updateOffVariation`.
    UpdateOffVariation {
        /// The variation served while targeting is off.
        variation_id: String,
    },
    /// `archiveFlag`.
    ArchiveFlag,
    /// `restoreFlag`.
    RestoreFlag,
    /// `updateName`.
    UpdateName {
        /// The new name.
        value: String,
    },
    /// `updateDescription`.
    UpdateDescription {
        /// The new description.
        value: String,
    },
    /// `addTags`.
    AddTags {
        /// Tags to add.
        values: Vec<String>,
    },
    /// `removeTags`.
    RemoveTags {
        /// Tags to remove.
        values: Vec<String>,
    },
    /// An instruction of a kind this model does not know, as sent.
    Other(Map<String, Value>),
}

impl FlagInstruction {
    /// The instruction's `kind`.
    pub fn kind(&self) -> &str {
        match self {
            FlagInstruction::TurnFlagOn => "turnFlagOn",
            FlagInstruction::TurnFlagOff => "turnFlagOff",
            FlagInstruction::AddRule { .. } => "addRule",
            FlagInstruction::RemoveRule { .. } => "removeRule",
            FlagInstruction::UpdateRuleDescription { .. } => "updateRuleDescription",
            FlagInstruction::UpdateFallthroughVariationOrRollout { .. } => {
                "updateFallthroughVariationOrRollout"
            }
            FlagInstruction::UpdateOffVariation { .. } => "updateOffVariation",
            FlagInstruction::ArchiveFlag => "archiveFlag",
            FlagInstruction::RestoreFlag => "restoreFlag",
            FlagInstruction::UpdateName { .. } => "updateName",
            FlagInstruction::UpdateDescription { .. } => "updateDescription",
            FlagInstruction::AddTags { .. } => "addTags",
            FlagInstruction::RemoveTags { .. } => "removeTags",
            FlagInstruction::Other(object) => object.get("kind").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// Whether the instruction changes one environment's configuration (and
    /// so needs `environmentKey`).
    pub fn is_environment_level(&self) -> bool {
        matches!(
            self,
            FlagInstruction::TurnFlagOn
                | FlagInstruction::TurnFlagOff
                | FlagInstruction::AddRule { .. }
                | FlagInstruction::RemoveRule { .. }
                | FlagInstruction::UpdateRuleDescription { .. }
                | FlagInstruction::UpdateFallthroughVariationOrRollout { .. }
                | FlagInstruction::UpdateOffVariation { .. }
        )
    }
}

impl FlagPatch {
    /// Reads a patch, reporting every problem with its JSON Pointer.
    pub fn from_json(value: &Value) -> Result<FlagPatch, Violations> {
        let mut r = Reader::new();
        let patch = (|| {
            let object = r.object(value, "")?;
            let environment_key = r.opt(object, "", "environmentKey", Reader::string);
            let comment = r.opt(object, "", "comment", Reader::string);
            let instructions = r.req(object, "", "instructions", |r, v, p| r.each(v, p, read_instruction));
            Some(FlagPatch {
                environment_key: environment_key?,
                comment: comment?,
                instructions: instructions?,
            })
        })();
        let mut patch = r.finish(patch)?;
        if patch.instructions.is_empty() {
            let mut violations = Violations::default();
            violations.push("/instructions", ViolationCode::TooFew, "a patch needs at least one instruction");
            return Err(violations);
        }
        patch.comment = patch.comment.filter(|c| !c.is_empty());
        Ok(patch)
    }

    /// `flag` with every instruction applied in order, or every reason why
    /// not (paths point into the patch: `/instructions/2/ruleId`). The
    /// result is not yet checked as a whole nor are its versions moved.
    pub fn apply(
        &self,
        flag: &FeatureFlag,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<FeatureFlag, Violations> {
        let mut flag = flag.clone();
        let mut violations = Violations::default();
        let needs_environment = self.instructions.iter().any(FlagInstruction::is_environment_level);
        if needs_environment {
            match &self.environment_key {
                None => violations.push(
                    "/environmentKey",
                    ViolationCode::MissingField,
                    "environmentKey is required for instructions that change an environment's targeting",
                ),
                Some(environment) if flag.environment(environment).is_none() => violations.push(
                    "/environmentKey",
                    ViolationCode::NotAllowed,
                    format!("environment `{environment}` is not an environment of this project"),
                ),
                Some(_) => {}
            }
        }
        if !violations.is_empty() {
            return Err(violations);
        }
        for (i, instruction) in self.instructions.iter().enumerate() {
            let path = pointer("/instructions", i);
            if let Err(message) = apply_one(&mut flag, self.environment_key.as_deref(), instruction, now, ids)
            {
                let (suffix, code, message) = message;
                let at = if suffix.is_empty() { path } else { pointer(&path, suffix) };
                violations.push(at, code, message);
            }
        }
        violations.into_result().map(|()| flag)
    }
}

/// Why one instruction could not apply: the field of the instruction at
/// fault (empty for the instruction itself), a code and a message.
type Refusal = (&'static str, ViolationCode, String);

fn apply_one(
    flag: &mut FeatureFlag,
    environment: Option<&str>,
    instruction: &FlagInstruction,
    now: UnixMillis,
    ids: &mut dyn IdSource,
) -> Result<(), Refusal> {
    let variation_index = |flag: &FeatureFlag, field: &'static str, id: &str| {
        flag.variation_index(id).map(|i| i as i64).ok_or_else(|| {
            (
                field,
                ViolationCode::UnknownVariation,
                format!("`{id}` is not a variation of flag `{}`", flag.key),
            )
        })
    };
    match instruction {
        FlagInstruction::UpdateName { value } => {
            if value.trim().is_empty() {
                return Err(("value", ViolationCode::Blank, "the name must not be blank".to_owned()));
            }
            flag.name = value.clone();
        }
        FlagInstruction::UpdateDescription { value } => flag.description = Some(value.clone()),
        FlagInstruction::ArchiveFlag => {
            flag.archived = true;
            flag.archived_date = Some(now);
        }
        FlagInstruction::RestoreFlag => {
            flag.archived = false;
            flag.archived_date = None;
        }
        FlagInstruction::AddTags { values } => {
            for tag in values {
                if !flag.tags.contains(tag) {
                    flag.tags.push(tag.clone());
                }
            }
        }
        FlagInstruction::RemoveTags { values } => flag.tags.retain(|tag| !values.contains(tag)),
        FlagInstruction::Other(_) => {
            return Err((
                "kind",
                ViolationCode::UnknownInstruction,
                format!("`{}` is not an instruction this server knows for flags", instruction.kind()),
            ));
        }
        FlagInstruction::TurnFlagOn => config(flag, environment)?.on = true,
        FlagInstruction::TurnFlagOff => config(flag, environment)?.on = false,
        FlagInstruction::AddRule { clauses, variation_id, rollout, description, before_rule_id } => {
            let variation = match (variation_id, rollout) {
                (Some(id), _) => Some(variation_index(flag, "variationId", id)?),
                (None, Some(_)) => None,
                (None, None) => {
                    return Err((
                        "variationId",
                        ViolationCode::MissingField,
                        "a rule needs variationId or rollout".to_owned(),
                    ));
                }
            };
            let rule = FlagRule {
                id: Some(ids.uuid()),
                disabled: Some(false),
                variation,
                rollout: if variation.is_some() { None } else { rollout.clone() },
                clauses: clauses
                    .iter()
                    .map(|clause| {
                        let mut clause = clause.clone();
                        if let Value::Object(object) = &mut clause {
                            object.entry("_id").or_insert_with(|| Value::String(ids.uuid()));
                        }
                        clause
                    })
                    .collect(),
                track_events: false,
                description: description.clone(),
                reference: None,
                extra: Map::new(),
            };
            let rules = config(flag, environment)?.rules.get_or_insert_with(Vec::new);
            let at = match before_rule_id {
                None => rules.len(),
                Some(before) => {
                    rules.iter().position(|r| r.id.as_deref() == Some(before)).ok_or_else(|| {
                        ("beforeRuleId", ViolationCode::UnknownRule, format!("no rule has _id `{before}`"))
                    })?
                }
            };
            rules.insert(at, rule);
        }
        FlagInstruction::RemoveRule { rule_id } => {
            let rules = config(flag, environment)?.rules.get_or_insert_with(Vec::new);
            let at = rule_position(rules, rule_id)?;
            rules.remove(at);
        }
        FlagInstruction::UpdateRuleDescription { rule_id, description } => {
            let rules = config(flag, environment)?.rules.get_or_insert_with(Vec::new);
            let at = rule_position(rules, rule_id)?;
            rules[at].description = Some(description.clone());
        }
        FlagInstruction::UpdateFallthroughVariationOrRollout { variation_id, rollout } => {
            let variation = match variation_id {
                Some(id) => Some(variation_index(flag, "variationId", id)?),
                None if rollout.is_some() => None,
                None => {
                    return Err((
                        "variationId",
                        ViolationCode::MissingField,
                        "give variationId or rollout".to_owned(),
                    ));
                }
            };
            let fallthrough = config(flag, environment)?.fallthrough.get_or_insert_with(|| {
                crate::flag::VariationOrRollout { variation: None, rollout: None, extra: Map::new() }
            });
            fallthrough.variation = variation;
            fallthrough.rollout = if variation.is_some() { None } else { rollout.clone() };
        }
        FlagInstruction::UpdateOffVariation { variation_id } => {
            let index = variation_index(flag, "variationId", variation_id)?;
            config(flag, environment)?.off_variation = Some(index);
        }
    }
    Ok(())
}

fn config<'f>(
    flag: &'f mut FeatureFlag,
    environment: Option<&str>,
) -> Result<&'f mut FeatureFlagConfig, Refusal> {
    // `apply` checked that the environment exists before any instruction ran.
    environment.and_then(|e| flag.environments.as_mut()?.get_mut(e)).ok_or((
        "",
        ViolationCode::NotAllowed,
        "this instruction needs the environmentKey of an environment of the project".to_owned(),
    ))
}

fn rule_position(rules: &[FlagRule], rule_id: &str) -> Result<usize, Refusal> {
    rules
        .iter()
        .position(|rule| rule.id.as_deref() == Some(rule_id))
        .ok_or_else(|| ("ruleId", ViolationCode::UnknownRule, format!("no rule has _id `{rule_id}` here")))
}

fn read_instruction(r: &mut Reader, value: &Value, path: &str) -> Option<FlagInstruction> {
    let obj = r.object(value, path)?;
    let kind = r.req(obj, path, "kind", Reader::string)?;
    let string = |r: &mut Reader, field: &str| r.req(obj, path, field, Reader::string);
    Some(match kind.as_str() {
        "turnFlagOn" => FlagInstruction::TurnFlagOn,
        "turnFlagOff" => FlagInstruction::TurnFlagOff,
        "archiveFlag" => FlagInstruction::ArchiveFlag,
        "restoreFlag" => FlagInstruction::RestoreFlag,
        "updateName" => FlagInstruction::UpdateName { value: string(r, "value")? },
        "updateDescription" => FlagInstruction::UpdateDescription { value: string(r, "value")? },
        "addTags" => FlagInstruction::AddTags { values: r.req(obj, path, "values", Reader::strings)? },
        "removeTags" => FlagInstruction::RemoveTags { values: r.req(obj, path, "values", Reader::strings)? },
        "addRule" => {
            let clauses = r.req(obj, path, "clauses", |r, v, p| r.array(v, p).cloned());
            let variation_id = r.opt(obj, path, "variationId", Reader::string);
            let description = r.opt(obj, path, "description", Reader::string);
            let before_rule_id = r.opt(obj, path, "beforeRuleId", Reader::string);
            let rollout = Reader::optional(obj, "rolloutWeights").cloned();
            FlagInstruction::AddRule {
                clauses: clauses?,
                variation_id: variation_id?,
                rollout,
                description: description?,
                before_rule_id: before_rule_id?,
            }
        }
        "removeRule" => FlagInstruction::RemoveRule { rule_id: string(r, "ruleId")? },
        "updateRuleDescription" => {
            let rule_id = string(r, "ruleId");
            let description = string(r, "description");
            FlagInstruction::UpdateRuleDescription { rule_id: rule_id?, description: description? }
        }
        "updateFallthroughVariationOrRollout" => {
            let variation_id = r.opt(obj, path, "variationId", Reader::string)?;
            let rollout = Reader::optional(obj, "rolloutWeights").cloned();
            FlagInstruction::UpdateFallthroughVariationOrRollout { variation_id, rollout }
        }
        "updateOffVariation" => {
            FlagInstruction::UpdateOffVariation { variation_id: string(r, "variationId")? }
        }
        _ => FlagInstruction::Other(obj.clone()),
    })
}
