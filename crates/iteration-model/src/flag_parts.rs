//! The parts of a feature flag's representation: clauses, targets,
//! rollouts, prerequisites, summaries and the flag's attached experiments.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::link::{Link, Links};
use crate::metric_catalog::MetricRep;
use crate::millis::UnixMillis;
use crate::wire::representation;

representation! {
    /// A condition of a targeting rule (`Clause`).
    pub struct Clause {
        /// The clause ID.
        opt id: String = "_id",
        /// The context attribute it tests.
        req attribute: String = "attribute",
        /// The operator, such as `in` or `startsWith`.
        req op: String = "op",
        /// The values the attribute is tested against.
        req values: Vec<Value> = "values",
        /// The context kind whose attribute is tested.
        opt context_kind: String = "contextKind",
        /// Whether the result is negated.
        req negate: bool = "negate",
    }
}

representation! {
    /// Which client-side SDKs may see a flag (`ClientSideAvailability`).
    pub struct ClientSideAvailability {
        /// Mobile SDKs, with a mobile key.
        opt using_mobile_key: bool = "usingMobileKey",
        /// Browser SDKs, with the environment's client-side ID.
        opt using_environment_id: bool = "usingEnvironmentId",
    }
}

representation! {
    /// Which client-side SDKs may see a new flag (`ClientSideAvailabilityPost`).
    pub struct ClientSideAvailabilityPost {
        /// Browser SDKs, with the environment's client-side ID.
        req using_environment_id: bool = "usingEnvironmentId",
        /// Mobile SDKs, with a mobile key.
        req using_mobile_key: bool = "usingMobileKey",
    }
}

representation! {
    /// How a rollout's experiment allocates traffic (`ExperimentAllocationRep`).
    pub struct ExperimentAllocationRep {
        /// The variation served to contexts outside the experiment.
        req default_variation: i64 = "defaultVariation",
        /// Whether traffic may be reassigned.
        req can_reshuffle: bool = "canReshuffle",
    }
}

representation! {
    /// The legacy experiments attached to a flag (`ExperimentInfoRep`).
    pub struct ExperimentInfoRep {
        /// The index of the baseline variation.
        req baseline_idx: i64 = "baselineIdx",
        /// The experiments.
        req items: Vec<LegacyExperimentRep> = "items",
    }
}

impl ExperimentInfoRep {
    /// No attached legacy experiments, as a new flag has.
    pub fn none() -> ExperimentInfoRep {
        ExperimentInfoRep { baseline_idx: 0, items: Vec::new(), extra: serde_json::Map::new() }
    }
}

representation! {
    /// A legacy experiment attached to a flag (`LegacyExperimentRep`).
    pub struct LegacyExperimentRep {
        /// The metric it measures.
        opt metric_key: String = "metricKey",
        /// That metric.
        opt metric: MetricRep = "_metric",
        /// The environments it runs in.
        opt environments: Vec<String> = "environments",
        /// Its settings in each environment.
        opt environment_settings: BTreeMap<String, ExperimentEnvironmentSettingRep> = "_environmentSettings",
    }
}

representation! {
    /// When a legacy experiment ran in one environment (`ExperimentEnvironmentSettingRep`).
    pub struct ExperimentEnvironmentSettingRep {
        /// When it started.
        opt start_date: UnixMillis = "startDate",
        /// When it stopped.
        opt stop_date: UnixMillis = "stopDate",
        /// Each period it was enabled.
        opt enabled_periods: Vec<ExperimentEnabledPeriodRep> = "enabledPeriods",
    }
}

representation! {
    /// A period a legacy experiment was enabled (`ExperimentEnabledPeriodRep`).
    pub struct ExperimentEnabledPeriodRep {
        /// When it started.
        opt start_date: UnixMillis = "startDate",
        /// When it stopped.
        opt stop_date: UnixMillis = "stopDate",
    }
}

representation! {
    /// Which context kinds a flag was evaluated for recently (`FlagConfigEvaluation`).
    pub struct FlagConfigEvaluation {
        /// The context kinds.
        opt context_kinds: Vec<String> = "contextKinds",
    }
}

representation! {
    /// A migration flag's settings in one environment (`FlagConfigMigrationSettingsRep`).
    pub struct FlagConfigMigrationSettingsRep {
        /// How often reads are compared, one in this many.
        opt check_ratio: i64 = "checkRatio",
    }
}

representation! {
    /// A migration flag's settings (`FlagMigrationSettingsRep`).
    pub struct FlagMigrationSettingsRep {
        /// The context kind the migration is keyed by.
        opt context_kind: String = "contextKind",
        /// The number of stages.
        opt stage_count: i64 = "stageCount",
    }
}

representation! {
    /// A new migration flag's settings (`MigrationSettingsPost`).
    pub struct MigrationSettingsPost {
        /// The context kind the migration is keyed by.
        opt context_kind: String = "contextKind",
        /// The number of stages.
        req stage_count: i64 = "stageCount",
    }
}

representation! {
    /// A flag in a short listing (`FlagListingRep`).
    pub struct FlagListingRep {
        /// The flag name.
        req name: String = "name",
        /// The flag key.
        req key: String = "key",
        /// Related resources.
        opt links: Links = "_links",
        /// The flag's page.
        opt site: Link = "_site",
    }
}

representation! {
    /// A prerequisite of a new flag (`FlagPrerequisitePost`).
    pub struct FlagPrerequisitePost {
        /// The prerequisite flag's key.
        req key: String = "key",
        /// The variation it must serve.
        req variation_id: String = "variationId",
    }
}

representation! {
    /// How many targets and rules serve each variation (`FlagSummary`).
    pub struct FlagSummary {
        /// Per variation index.
        req variations: BTreeMap<String, VariationSummary> = "variations",
        /// The number of prerequisites.
        req prerequisites: i64 = "prerequisites",
    }
}

representation! {
    /// What serves one variation (`VariationSummary`).
    pub struct VariationSummary {
        // Read leniently: the contract's own example leaves out
        // `contextTargets`, which its schema requires.
        /// Rules that serve it.
        opt rules: i64 = "rules",
        /// Rules without clauses that serve it.
        opt null_rules: i64 = "nullRules",
        /// Individual targets served it.
        opt targets: i64 = "targets",
        /// Individual context targets served it.
        opt context_targets: i64 = "contextTargets",
        /// Whether the fallthrough serves it.
        opt is_fallthrough: bool = "isFallthrough",
        /// Whether it is served while targeting is off.
        opt is_off: bool = "isOff",
        /// The share of a rollout that serves it.
        opt rollout: i64 = "rollout",
        /// The attribute a rollout buckets by.
        opt bucket_by: String = "bucketBy",
    }
}

representation! {
    /// A flag that must serve a variation first (`Prerequisite`).
    pub struct Prerequisite {
        /// The prerequisite flag's key.
        req key: String = "key",
        /// The variation index it must serve.
        req variation: i64 = "variation",
    }
}

representation! {
    /// A percentage rollout (`Rollout`).
    pub struct Rollout {
        /// The weight of each variation.
        req variations: Vec<WeightedVariation> = "variations",
        /// The experiment that allocates the traffic.
        opt experiment_allocation: ExperimentAllocationRep = "experimentAllocation",
        /// The bucketing seed.
        opt seed: i64 = "seed",
        /// The attribute contexts are bucketed by.
        opt bucket_by: String = "bucketBy",
        /// The context kind bucketed.
        opt context_kind: String = "contextKind",
    }
}

representation! {
    /// One variation's share of a rollout (`WeightedVariation`).
    pub struct WeightedVariation {
        /// The variation index.
        req variation: i64 = "variation",
        /// Its weight, in thousandths of a percent.
        req weight: i64 = "weight",
        /// Whether its evaluations are left out of experiment results.
        opt untracked: bool = "_untracked",
    }
}

representation! {
    /// Individual contexts served one variation (`Target`).
    pub struct Target {
        /// The context keys.
        req values: Vec<String> = "values",
        /// The variation index served.
        req variation: i64 = "variation",
        /// The context kind of the keys.
        opt context_kind: String = "contextKind",
    }
}

representation! {
    /// A custom property of a flag (`customProperty`).
    pub struct CustomProperty {
        /// The property's name.
        req name: String = "name",
        /// Its values.
        req value: Vec<String> = "value",
    }
}
