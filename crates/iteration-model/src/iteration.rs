//! Iterations as the API represents them.

use std::collections::BTreeMap;

use crate::allocation::AllocationPercent;
use crate::link::Links;
use crate::metric::{DependentMetricGroupRepWithMetrics, DependentMetricOrMetricGroupRep, MetricV2Rep};
use crate::millis::UnixMillis;
use crate::shared_list::SharedList;
use crate::text::Text;
use crate::wire::{representation, wire_enum};

wire_enum! {
    /// Where an iteration is in its life.
    pub enum IterationStatus {
        /// Created, not started: the experiment's draft.
        NotStarted = "not_started",
        /// Running: the experiment's current iteration.
        Running = "running",
        /// Stopped: one of the experiment's previous iterations.
        Stopped = "stopped",
    }
}

representation! {
    /// One iteration of an experiment (`IterationRep`).
    pub struct IterationRep {
        /// The iteration ID.
        opt id: String = "_id",
        /// The expected outcome of this experiment.
        req hypothesis: String = "hypothesis",
        /// The status of the iteration.
        req status: IterationStatus = "status",
        /// When the iteration was created.
        req created_at: UnixMillis = "createdAt",
        /// When the iteration started.
        opt started_at: UnixMillis = "startedAt",
        /// When the iteration ended.
        opt ended_at: UnixMillis = "endedAt",
        /// The treatment chosen when the experiment stopped.
        opt winning_treatment_id: String = "winningTreatmentId",
        /// Why the experiment stopped.
        opt winning_reason: String = "winningReason",
        /// Whether traffic may be reassigned when the audience changes.
        opt can_reshuffle_traffic: bool = "canReshuffleTraffic",
        /// The flags used in this iteration, by key.
        opt flags: BTreeMap<String, FlagRep> = "flags",
        /// How often a multi-armed bandit updates its allocation, in milliseconds.
        opt reallocation_frequency_millis: i64 = "reallocationFrequencyMillis",
        /// The iteration's version.
        opt version: i64 = "version",
        /// Deprecated: the primary metric or group.
        opt primary_metric: DependentMetricOrMetricGroupRep = "primaryMetric",
        /// The primary metric, when it is a single metric.
        opt primary_single_metric: MetricV2Rep = "primarySingleMetric",
        /// The primary funnel, when it is a metric group.
        opt primary_funnel: DependentMetricGroupRepWithMetrics = "primaryFunnel",
        /// The unit of randomization.
        opt randomization_unit: String = "randomizationUnit",
        /// The attributes results can be sliced by.
        opt attributes: Vec<String> = "attributes",
        /// The treatments, in order.
        opt treatments: Vec<TreatmentRep> = "treatments",
        /// Deprecated: the secondary single metrics.
        opt secondary_metrics: Vec<MetricV2Rep> = "secondaryMetrics",
        /// Every metric and group, in order.
        opt metrics: Vec<DependentMetricOrMetricGroupRep> = "metrics",
        /// The layer's state when the iteration stopped, if in a layer.
        opt layer_snapshot: LayerSnapshotRep = "layerSnapshot",
        /// The covariate file used for stratified sampling.
        opt covariate_info: CovariateInfoRep = "covariateInfo",
    }
}

representation! {
    /// A flag as an iteration uses it (`FlagRep`).
    pub struct FlagRep {
        /// The targeting rule's ID, or `fallthrough`.
        opt targeting_rule: Text = "targetingRule",
        /// The rule's description.
        opt targeting_rule_description: Text = "targetingRuleDescription",
        /// The rule's clauses.
        opt targeting_rule_clauses: SharedList<serde_json::Value> = "targetingRuleClauses",
        /// The flag's version.
        opt flag_config_version: i64 = "flagConfigVersion",
        /// Where traffic outside the experiment goes.
        opt not_in_experiment_variation_id: Text = "notInExperimentVariationId",
        /// Related resources.
        req links: Links = "_links",
    }
}

representation! {
    /// A treatment: one arm of the experiment (`TreatmentRep`).
    pub struct TreatmentRep {
        /// The treatment ID.
        opt id: String = "_id",
        /// The treatment name.
        req name: String = "name",
        /// Its share of traffic, a decimal string such as `"33.33"`; see
        /// [`TreatmentRep::allocation`] for the exact value.
        req allocation_percent: String = "allocationPercent",
        /// Whether it is the baseline.
        opt baseline: bool = "baseline",
        /// The flag variations it serves.
        opt parameters: Vec<ParameterRep> = "parameters",
    }
}

impl TreatmentRep {
    /// The allocation as an exact decimal. Kept as a string on the
    /// representation so that a value from a newer server never stops the
    /// whole iteration from being read.
    pub fn allocation(&self) -> Result<AllocationPercent, crate::InvalidAllocation> {
        AllocationPercent::parse(&self.allocation_percent)
    }
}

representation! {
    /// A flag variation a treatment serves (`ParameterRep`).
    pub struct ParameterRep {
        /// The variation ID.
        opt variation_id: String = "variationId",
        /// The flag key.
        opt flag_key: String = "flagKey",
    }
}

representation! {
    /// A layer's state when an iteration stopped (`LayerSnapshotRep`).
    pub struct LayerSnapshotRep {
        /// The layer key.
        req key: String = "key",
        /// The layer name.
        req name: String = "name",
        /// Percent of layer traffic reserved for this experiment.
        req reservation_percent: i64 = "reservationPercent",
        /// Percent of layer traffic reserved for other experiments.
        req other_reservation_percent: i64 = "otherReservationPercent",
    }
}

representation! {
    /// A covariate file for stratified sampling (`CovariateInfoRep`).
    pub struct CovariateInfoRep {
        /// The covariate ID.
        req id: String = "id",
        /// The uploaded file's name.
        req file_name: String = "fileName",
        /// When it was uploaded.
        req created_at: UnixMillis = "createdAt",
    }
}
