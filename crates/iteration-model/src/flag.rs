//! Feature flags as the live catalog holds them (`FeatureFlag`), what
//! creates one (`FeatureFlagBody`), and the rules of a change.
//!
//! A flag has one configuration per environment of its project. Each
//! configuration has its own `version`, which an iteration's
//! `flagConfigVersion` must match; [`FeatureFlag::settle`] moves the versions
//! after a change: +1 for every environment whose configuration changed, +1
//! for every environment when the variations changed, and +1 on the flag's
//! own `_version` for any change at all.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::catalog::{CatalogFlag, TargetingRule, Variation};
use crate::flag_parts::{
    Clause, ClientSideAvailability, CustomProperty, ExperimentInfoRep, FlagSummary, Prerequisite, Rollout,
    Target,
};
use crate::ids::IdSource;
use crate::key::is_valid_key;
use crate::link::{Link, Links, links};
use crate::millis::UnixMillis;
use crate::reader::Reader;
use crate::text::Text;
use crate::violation::{ViolationCode, Violations, pointer};
use crate::wire::{representation, wire_enum};

wire_enum! {
    /// The kind of a flag's variations.
    pub enum FlagKind {
        /// Two variations, `true` and `false`.
        Boolean = "boolean",
        /// Any number of variations of one JSON type.
        Multivariate = "multivariate",
    }
}

representation! {
    /// A feature flag with its configuration in each environment (`FeatureFlag`).
    pub struct FeatureFlag {
        /// The flag name.
        req name: String = "name",
        /// `boolean` or `multivariate`.
        req kind: FlagKind = "kind",
        /// The flag description.
        opt description: String = "description",
        /// The flag key.
        req key: String = "key",
        /// The flag's version: one more after every change.
        req version: i64 = "_version",
        /// When the flag was created.
        req creation_date: UnixMillis = "creationDate",
        /// Deprecated: whether client-side SDKs see the flag.
        opt include_in_snippet: bool = "includeInSnippet",
        /// Which client-side SDKs see the flag.
        opt client_side_availability: ClientSideAvailability = "clientSideAvailability",
        /// The variations, in order; rules name them by index.
        req variations: Vec<FlagVariation> = "variations",
        /// Whether the flag is meant to be removed eventually.
        req temporary: bool = "temporary",
        /// Tags.
        req tags: Vec<String> = "tags",
        /// Related resources.
        req links: Links = "_links",
        /// The member who maintains the flag.
        opt maintainer_id: String = "maintainerId",
        /// Experiments attached to the flag (`ExperimentInfoRep`).
        req experiments: ExperimentInfoRep = "experiments",
        /// Custom properties.
        req custom_properties: BTreeMap<String, CustomProperty> = "customProperties",
        /// Whether the flag is archived.
        req archived: bool = "archived",
        /// When the flag was archived.
        opt archived_date: UnixMillis = "archivedDate",
        /// Whether the flag is deprecated.
        opt deprecated: bool = "deprecated",
        /// The variations a new environment serves when on and when off.
        opt defaults: FlagDefaults = "defaults",
        /// The configuration in each environment, by environment key.
        opt environments: BTreeMap<String, FeatureFlagConfig> = "environments",
    }
}

representation! {
    /// A flag's configuration in one environment (`FeatureFlagConfig`).
    pub struct FeatureFlagConfig {
        /// Whether targeting is on.
        req on: bool = "on",
        /// Whether the flag is archived.
        req archived: bool = "archived",
        /// The salt used in bucketing.
        req salt: String = "salt",
        /// Deprecated.
        req sel: String = "sel",
        /// When the configuration last changed.
        req last_modified: UnixMillis = "lastModified",
        /// The configuration's version, which `flagConfigVersion` names.
        req version: i64 = "version",
        /// Individual targets.
        opt targets: Vec<Target> = "targets",
        /// Individual context targets.
        opt context_targets: Vec<Target> = "contextTargets",
        /// Targeting rules, in order.
        opt rules: Vec<FlagRule> = "rules",
        /// What targeting serves when no rule matches.
        opt fallthrough: VariationOrRollout = "fallthrough",
        /// The variation served when targeting is off (an index).
        opt off_variation: i64 = "offVariation",
        /// Prerequisite flags.
        opt prerequisites: Vec<Prerequisite> = "prerequisites",
        /// The configuration's page.
        req site: Link = "_site",
        /// The environment's name.
        req environment_name: String = "_environmentName",
        /// Whether every evaluation sends an event.
        req track_events: bool = "trackEvents",
        /// Whether fallthrough evaluations send events.
        req track_events_fallthrough: bool = "trackEventsFallthrough",
        /// How many variations targeting serves.
        opt summary: FlagSummary = "_summary",
    }
}

representation! {
    /// A variation of a flag (`Variation`).
    pub struct FlagVariation {
        /// The variation ID, which an iteration's treatments name.
        opt id: String = "_id",
        /// The value served.
        req value: Value = "value",
        /// A description.
        opt description: String = "description",
        /// A display name.
        opt name: String = "name",
    }
}

representation! {
    /// A targeting rule (`Rule`).
    pub struct FlagRule {
        /// The rule ID, which an iteration's `ruleId` names.
        opt id: String = "_id",
        /// Whether the rule is disabled.
        opt disabled: bool = "disabled",
        /// The variation served (an index), unless `rollout` is given.
        opt variation: i64 = "variation",
        /// A percentage rollout.
        opt rollout: Rollout = "rollout",
        /// The clauses, all of which must match.
        req clauses: Vec<Clause> = "clauses",
        /// Whether evaluations of this rule send events.
        req track_events: bool = "trackEvents",
        /// What the rule is for.
        opt description: String = "description",
        /// A reference for the rule.
        opt reference: String = "ref",
    }
}

representation! {
    /// A variation index or a rollout (`VariationOrRolloutRep`).
    pub struct VariationOrRollout {
        /// The variation served (an index).
        opt variation: i64 = "variation",
        /// A percentage rollout.
        opt rollout: Rollout = "rollout",
    }
}

representation! {
    /// The variations a new environment serves (`Defaults`).
    pub struct FlagDefaults {
        /// The index of the variation served when targeting is on.
        req on_variation: i64 = "onVariation",
        /// The index of the variation served when targeting is off.
        req off_variation: i64 = "offVariation",
    }
}

representation! {
    /// A page of flags (`FeatureFlags`).
    pub struct FeatureFlags {
        /// The flags on this page.
        req items: Vec<FeatureFlag> = "items",
        /// Links to this page and its neighbours.
        req links: Links = "_links",
        /// How many flags match in all.
        opt total_count: i64 = "totalCount",
    }
}

/// An environment of a project: its key and name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnvironmentName {
    /// The environment key.
    pub key: String,
    /// The environment name.
    pub name: String,
}

/// What creates a flag (`FeatureFlagBody`).
///
/// Written exactly as [`FeatureFlagBody::from_json`] reads it. `temporary`
/// is always written, because LaunchDarkly and this server default it
/// differently (true there, false here); `tags` only when there are some
/// and `isFlagOn` only when true, which both sides take as the default.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureFlagBody {
    /// The flag name.
    pub name: String,
    /// The flag key.
    pub key: String,
    /// The description.
    pub description: Option<String>,
    /// The variations; two boolean ones when absent.
    pub variations: Option<Vec<FlagVariation>>,
    /// Whether the flag is temporary (default false).
    pub temporary: bool,
    /// Tags.
    pub tags: Vec<String>,
    /// The variations new environments serve when on and off.
    pub defaults: Option<FlagDefaults>,
    /// Client-side availability.
    pub client_side_availability: Option<ClientSideAvailability>,
    /// Custom properties by key.
    pub custom_properties: Option<BTreeMap<String, CustomProperty>>,
    /// The maintainer.
    pub maintainer_id: Option<String>,
    /// Whether targeting starts on in every environment (default off).
    pub is_flag_on: bool,
}

impl FeatureFlagBody {
    /// A body with only a key and a name: a boolean, permanent flag, off
    /// everywhere, without tags.
    pub fn new(key: impl Into<String>, name: impl Into<String>) -> FeatureFlagBody {
        FeatureFlagBody {
            name: name.into(),
            key: key.into(),
            description: None,
            variations: None,
            temporary: false,
            tags: Vec::new(),
            defaults: None,
            client_side_availability: None,
            custom_properties: None,
            maintainer_id: None,
            is_flag_on: false,
        }
    }

    /// Reads a body, reporting every absent or mistyped field at once.
    pub fn from_json(value: &Value) -> Result<FeatureFlagBody, Violations> {
        let mut r = Reader::new();
        let Some(object) = r.object(value, "") else { return r.finish(None) };
        let name = r.req(object, "", "name", Reader::string);
        let key = r.req(object, "", "key", Reader::string);
        let description = r.opt(object, "", "description", Reader::string);
        let variations = r.opt(object, "", "variations", |r, v, p| {
            r.each(v, p, |r, item, path| {
                let object = r.object(item, path)?;
                let value = r.required(object, path, "value").cloned();
                let id = r.opt(object, path, "_id", Reader::string)?;
                let name = r.opt(object, path, "name", Reader::string)?;
                let description = r.opt(object, path, "description", Reader::string)?;
                r.unused(object, path, "valueHash", Reader::string);
                Some(FlagVariation { id, value: value?, description, name, extra: Map::new() })
            })
        });
        let temporary = r.opt(object, "", "temporary", Reader::boolean);
        let tags = r.opt(object, "", "tags", Reader::strings);
        let defaults = r.opt(object, "", "defaults", |r, v, p| {
            let object = r.object(v, p)?;
            let on_variation = r.req(object, p, "onVariation", Reader::integer);
            let off_variation = r.req(object, p, "offVariation", Reader::integer);
            Some(FlagDefaults {
                on_variation: on_variation?,
                off_variation: off_variation?,
                extra: Map::new(),
            })
        });
        let maintainer_id = r.opt(object, "", "maintainerId", Reader::string);
        let is_flag_on = r.opt(object, "", "isFlagOn", Reader::boolean);
        let client_side_availability = r.opt(object, "", "clientSideAvailability", typed);
        let custom_properties = r.opt(object, "", "customProperties", typed);
        // Documented, not kept: a new flag here has no prerequisites, no
        // migration stages and no team.
        r.unused(object, "", "includeInSnippet", Reader::boolean);
        r.unused(object, "", "maintainerTeamKey", Reader::string);
        r.unused(object, "", "purpose", Reader::one_of(&["migration", "holdout"]));
        r.unused(object, "", "migrationSettings", |r, v, p| {
            let settings = r.object(v, p)?;
            r.unused(settings, p, "contextKind", Reader::string);
            r.req(settings, p, "stageCount", Reader::integer)
        });
        r.unused(object, "", "initialPrerequisites", |r, v, p| {
            r.each(v, p, |r, item, path| {
                let prerequisite = r.object(item, path)?;
                let key = r.req(prerequisite, path, "key", Reader::string);
                let variation = r.req(prerequisite, path, "variationId", Reader::string);
                key.zip(variation)
            })
        });
        let body = (|| {
            Some(FeatureFlagBody {
                name: name?,
                key: key?,
                description: description?,
                variations: variations?,
                temporary: temporary?.unwrap_or(false),
                tags: tags?.unwrap_or_default(),
                defaults: defaults?,
                client_side_availability: client_side_availability?,
                custom_properties: custom_properties?,
                maintainer_id: maintainer_id?,
                is_flag_on: is_flag_on?.unwrap_or(false),
            })
        })();
        r.finish(body)
    }
}

/// Reads any typed part with serde, reporting a mismatch at `path`.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(r: &mut Reader, value: &Value, path: &str) -> Option<T> {
    match serde_json::from_value(value.clone()) {
        Ok(typed) => Some(typed),
        Err(err) => {
            r.violations.push(path, ViolationCode::WrongType, err.to_string());
            None
        }
    }
}

impl serde::Serialize for FeatureFlagBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("name", &self.name)?;
        out.serialize_entry("key", &self.key)?;
        if let Some(description) = &self.description {
            out.serialize_entry("description", description)?;
        }
        if let Some(variations) = &self.variations {
            out.serialize_entry("variations", variations)?;
        }
        out.serialize_entry("temporary", &self.temporary)?;
        if !self.tags.is_empty() {
            out.serialize_entry("tags", &self.tags)?;
        }
        if let Some(defaults) = &self.defaults {
            out.serialize_entry("defaults", defaults)?;
        }
        if let Some(availability) = &self.client_side_availability {
            out.serialize_entry("clientSideAvailability", availability)?;
        }
        if let Some(properties) = &self.custom_properties {
            out.serialize_entry("customProperties", properties)?;
        }
        if let Some(maintainer) = &self.maintainer_id {
            out.serialize_entry("maintainerId", maintainer)?;
        }
        if self.is_flag_on {
            out.serialize_entry("isFlagOn", &true)?;
        }
        out.end()
    }
}

/// The path of a flag's page in the API.
pub fn flag_path(project: &str, key: &str) -> String {
    format!("/api/v2/flags/{project}/{key}")
}

impl FeatureFlag {
    /// A new flag from `body`: version 1 everywhere, targeting off unless
    /// `isFlagOn`, no rules, fallthrough to `defaults.onVariation`, off
    /// variation `defaults.offVariation`; boolean `true`/`false` variations
    /// when none are given. Every problem is reported at once.
    pub fn create(
        project: &str,
        environments: &[EnvironmentName],
        body: FeatureFlagBody,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<FeatureFlag, Violations> {
        let mut violations = Violations::default();
        if !is_valid_key(&body.key) {
            violations.push(
                "/key",
                ViolationCode::InvalidKey,
                format!("`{}` is not a valid key: use letters, digits, `.`, `_` and `-`", body.key),
            );
        }
        if body.name.trim().is_empty() {
            violations.push("/name", ViolationCode::Blank, "name must not be blank");
        }
        let (kind, mut variations) = match body.variations {
            None => (
                FlagKind::Boolean,
                vec![variation(Value::Bool(true), None), variation(Value::Bool(false), None)],
            ),
            Some(variations) => {
                let boolean = variations.len() == 2
                    && variations.iter().any(|v| v.value == Value::Bool(true))
                    && variations.iter().any(|v| v.value == Value::Bool(false));
                (if boolean { FlagKind::Boolean } else { FlagKind::Multivariate }, variations)
            }
        };
        for variation in &mut variations {
            if variation.id.is_none() {
                variation.id = Some(ids.uuid());
            }
        }
        let defaults = body.defaults.unwrap_or(FlagDefaults {
            on_variation: 0,
            off_variation: variations.len().saturating_sub(1) as i64,
            extra: Map::new(),
        });
        let environments = environments
            .iter()
            .map(|environment| {
                let config = FeatureFlagConfig {
                    on: body.is_flag_on,
                    archived: false,
                    salt: ids.object_id(),
                    sel: ids.object_id(),
                    last_modified: now,
                    version: 1,
                    targets: Some(Vec::new()),
                    context_targets: Some(Vec::new()),
                    rules: Some(Vec::new()),
                    fallthrough: Some(VariationOrRollout {
                        variation: Some(defaults.on_variation),
                        rollout: None,
                        extra: Map::new(),
                    }),
                    off_variation: Some(defaults.off_variation),
                    prerequisites: Some(Vec::new()),
                    site: Link {
                        href: Some(format!("/{project}/{}/features/{}", environment.key, body.key).into()),
                        r#type: Some(Text::from_static("text/html")),
                        extra: Map::new(),
                    },
                    environment_name: environment.name.clone(),
                    track_events: false,
                    track_events_fallthrough: false,
                    summary: None,
                    extra: Map::new(),
                };
                (environment.key.clone(), config)
            })
            .collect();
        let flag = FeatureFlag {
            name: body.name,
            kind,
            description: body.description,
            links: flag_links(project, &body.key),
            key: body.key,
            version: 1,
            creation_date: now,
            include_in_snippet: Some(false),
            client_side_availability: Some(body.client_side_availability.unwrap_or(ClientSideAvailability {
                using_mobile_key: Some(false),
                using_environment_id: Some(false),
                extra: Map::new(),
            })),
            variations,
            temporary: body.temporary,
            tags: body.tags,
            maintainer_id: body.maintainer_id,
            experiments: ExperimentInfoRep::none(),
            custom_properties: body.custom_properties.unwrap_or_default(),
            archived: false,
            archived_date: None,
            deprecated: Some(false),
            defaults: Some(defaults),
            environments: Some(environments),
            extra: Map::new(),
        };
        violations.extend(flag.problems());
        violations.into_result().map(|()| flag)
    }

    /// The configuration in `environment`.
    pub fn environment(&self, environment: &str) -> Option<&FeatureFlagConfig> {
        self.environments.as_ref()?.get(environment)
    }

    /// The index of the variation with this ID.
    pub fn variation_index(&self, id: &str) -> Option<usize> {
        self.variations.iter().position(|v| v.id.as_deref() == Some(id))
    }

    /// What is wrong with the flag as a whole, each problem with the path of
    /// the field in the flag's representation: variation IDs unique and
    /// present, at least two variations (exactly `true` and `false` for a
    /// boolean flag), every variation index in range, rule IDs unique.
    pub fn problems(&self) -> Violations {
        let mut violations = Violations::default();
        let count = self.variations.len() as i64;
        if count < 2 {
            violations.push(
                "/variations",
                ViolationCode::TooFew,
                format!("a flag has {count} variations; it needs at least 2"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, variation) in self.variations.iter().enumerate() {
            match &variation.id {
                Some(id) if !seen.insert(id.as_str()) => violations.push(
                    pointer(&pointer("/variations", i), "_id"),
                    ViolationCode::Duplicate,
                    format!("variation ID `{id}` is used twice; each variation needs its own"),
                ),
                Some(_) => {}
                None => violations.push(
                    pointer(&pointer("/variations", i), "_id"),
                    ViolationCode::MissingField,
                    "every variation needs an _id",
                ),
            }
        }
        let mut values = Vec::new();
        for (i, variation) in self.variations.iter().enumerate() {
            if values.contains(&&variation.value) {
                violations.push(
                    pointer(&pointer("/variations", i), "value"),
                    ViolationCode::Duplicate,
                    "two variations serve the same value; each value must differ",
                );
            }
            values.push(&variation.value);
        }
        if self.kind == FlagKind::Boolean && self.variations.iter().any(|v| !v.value.is_boolean()) {
            violations.push(
                "/variations",
                ViolationCode::WrongType,
                "a boolean flag serves only true and false",
            );
        }
        let index = |violations: &mut Violations, path: String, value: Option<i64>| {
            if let Some(value) = value
                && !(0..count).contains(&value)
            {
                violations.push(
                    path,
                    ViolationCode::UnknownVariation,
                    format!("variation index {value} does not exist; the flag has {count} variations"),
                );
            }
        };
        if let Some(defaults) = &self.defaults {
            index(&mut violations, "/defaults/onVariation".to_owned(), Some(defaults.on_variation));
            index(&mut violations, "/defaults/offVariation".to_owned(), Some(defaults.off_variation));
        }
        for (environment, config) in self.environments.iter().flatten() {
            let base = pointer("/environments", environment);
            index(&mut violations, pointer(&base, "offVariation"), config.off_variation);
            if let Some(fallthrough) = &config.fallthrough {
                index(
                    &mut violations,
                    pointer(&pointer(&base, "fallthrough"), "variation"),
                    fallthrough.variation,
                );
            }
            let mut rule_ids = std::collections::HashSet::new();
            for (i, rule) in config.rules.iter().flatten().enumerate() {
                let rule_path = pointer(&pointer(&base, "rules"), i);
                index(&mut violations, pointer(&rule_path, "variation"), rule.variation);
                if rule.variation.is_none() && rule.rollout.is_none() {
                    violations.push(
                        rule_path.clone(),
                        ViolationCode::MissingField,
                        "a rule serves a variation or a rollout; it has neither",
                    );
                }
                if let Some(id) = &rule.id
                    && !rule_ids.insert(id.as_str())
                {
                    violations.push(
                        pointer(&rule_path, "_id"),
                        ViolationCode::Duplicate,
                        format!("rule ID `{id}` is used twice"),
                    );
                }
            }
        }
        violations
    }

    /// Moves the versions of `self`, the result of a change to `before`, as
    /// the change requires, stamping `now` where a configuration changed.
    /// Returns whether anything changed at all (then `_version` moved too).
    pub fn settle(&mut self, before: &FeatureFlag, now: UnixMillis) -> bool {
        let variations_changed = self.variations != before.variations;
        let mut changed = variations_changed;
        for (environment, config) in self.environments.iter_mut().flatten() {
            let old = before.environment(environment);
            let config_changed = old.is_none_or(|old| !same_targeting(config, old));
            if config_changed || variations_changed {
                config.version = old.map_or(1, |old| old.version + 1);
                config.last_modified = now;
                changed = true;
            } else if let Some(old) = old {
                config.version = old.version;
                config.last_modified = old.last_modified;
            }
        }
        let mut stamped = self.clone();
        stamped.version = before.version;
        changed |= stamped != *before;
        self.version = if changed { before.version + 1 } else { before.version };
        changed
    }

    /// The flag as [`crate::resolve_iteration`] sees it in `environment`.
    pub fn catalog_flag(&self, environment: &str) -> Option<CatalogFlag> {
        let config = self.environment(environment)?;
        Some(CatalogFlag {
            key: self.key.clone(),
            name: self.name.clone(),
            archived: self.archived,
            variations: self
                .variations
                .iter()
                .map(|v| Variation {
                    id: v.id.as_deref().map(Text::from).unwrap_or_default(),
                    name: v.name.clone(),
                    value: v.value.clone(),
                })
                .collect(),
            on: config.on,
            version: config.version,
            rules: config
                .rules
                .iter()
                .flatten()
                .filter_map(|rule| {
                    Some(TargetingRule {
                        id: Text::from(rule.id.as_deref()?),
                        description: rule.description.as_deref().map(Text::from),
                        clauses: rule.clauses.iter().map(crate::wire::to_json_value).collect(),
                    })
                })
                .collect(),
        })
    }
}

/// Whether two configurations target alike: what moves an environment's
/// version when it changes (not its version or timestamp).
fn same_targeting(a: &FeatureFlagConfig, b: &FeatureFlagConfig) -> bool {
    a.on == b.on
        && a.archived == b.archived
        && a.targets == b.targets
        && a.context_targets == b.context_targets
        && a.rules == b.rules
        && a.fallthrough == b.fallthrough
        && a.off_variation == b.off_variation
        && a.prerequisites == b.prerequisites
        && a.track_events == b.track_events
        && a.track_events_fallthrough == b.track_events_fallthrough
        && a.extra == b.extra
}

fn variation(value: Value, name: Option<&str>) -> FlagVariation {
    FlagVariation { id: None, value, description: None, name: name.map(str::to_owned), extra: Map::new() }
}

fn flag_links(project: &str, key: &str) -> Links {
    links([("parent", format!("/api/v2/flags/{project}")), ("self", flag_path(project, key))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_is_written_as_it_is_read() {
        let full = FeatureFlagBody {
            name: "Checkout".into(),
            key: "checkout".into(),
            description: Some("the new checkout".into()),
            variations: Some(vec![
                FlagVariation {
                    id: Some("v-a".into()),
                    value: json!("a"),
                    description: None,
                    name: Some("A".into()),
                    extra: Map::new(),
                },
                variation(json!("b"), None),
            ]),
            temporary: true,
            tags: vec!["web".into()],
            defaults: Some(FlagDefaults { on_variation: 0, off_variation: 1, extra: Map::new() }),
            client_side_availability: Some(ClientSideAvailability {
                using_mobile_key: Some(true),
                using_environment_id: None,
                extra: Map::new(),
            }),
            custom_properties: Some(BTreeMap::new()),
            maintainer_id: Some("m-1".into()),
            is_flag_on: true,
        };
        let written = serde_json::to_value(&full).unwrap();
        assert_eq!(
            written,
            json!({
                "name": "Checkout", "key": "checkout", "description": "the new checkout",
                "variations": [{"_id": "v-a", "value": "a", "name": "A"}, {"value": "b"}],
                "temporary": true, "tags": ["web"], "defaults": {"onVariation": 0, "offVariation": 1},
                "clientSideAvailability": {"usingMobileKey": true}, "customProperties": {},
                "maintainerId": "m-1", "isFlagOn": true,
            })
        );
        assert_eq!(FeatureFlagBody::from_json(&written).unwrap(), full);

        let short = FeatureFlagBody::new("k", "K");
        let written = serde_json::to_value(&short).unwrap();
        assert_eq!(written, json!({"name": "K", "key": "k", "temporary": false}));
        assert_eq!(FeatureFlagBody::from_json(&written).unwrap(), short);
    }
}
