//! Types, validation and resolution for LaunchDarkly's Experiments API.
//!
//! This crate does no IO. It holds every type of the Experiments endpoints,
//! named after the API's own schemas (`IterationInput`, `IterationRep`, ...),
//! so that a crate can build, read, write and check iteration JSON while
//! depending on serde alone.
//!
//! - Representations (what a server sends, `*Rep`, [`Experiment`]) keep fields
//!   and enum values they do not know, and write them back unchanged.
//! - Inputs (what a client sends) are exact. They are read with `from_json`,
//!   which reports every absent or mistyped field with its JSON Pointer.
//! - [`UnixMillis`] reads integers and strings of digits and writes integers;
//!   [`AllocationPercent`] is an exact decimal.
//! - [`IterationInput::validate`] checks the rules that need no project data;
//!   [`resolve_iteration`] checks an input against a [`Catalog`] of the
//!   project's flags and metrics and builds the new draft [`IterationRep`].
//!   Both report every violation at once, each with a JSON Pointer, a stable
//!   [`ViolationCode`] and a message.
//! - [`JsonPatch`] reads, writes and applies JSON Patch bodies (for flags,
//!   metrics and metric groups): all operations apply or none, and every
//!   problem points into the body the client sent.
//!
//! # Example
//!
//! Build the demo world's request, send it through JSON, and resolve it
//! against the demo project:
//!
//! ```
//! use iteration_model::{
//!     FlagInput, IterationInput, IterationStatus, SequentialIds, Treatment, UnixMillis, demo_catalog,
//!     demo_experiment, resolve_iteration,
//! };
//!
//! const FLAG: &str = "example-flag-for-experiment";
//! const CONTROL: &str = "e432f62b-55f6-49dd-a02f-eb24acf39d05";
//! const TOP_BUTTON: &str = "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10";
//!
//! let input = IterationInput::builder("The new button placement will increase conversion")
//!     .metric("metric-key-123abc")
//!     .primary()
//!     .metric_group("metric-group-key-123abc")
//!     .flag(FLAG, FlagInput::rule(CONTROL, 12).not_in_experiment(CONTROL))
//!     .treatment(Treatment::baseline("Control", "50").serve(FLAG, CONTROL))
//!     .treatment(Treatment::new("Top button", "50").serve(FLAG, TOP_BUTTON))
//!     .randomization_unit("user")
//!     .covariate("74a49a2b-4834-4246-917e-5d85231d8c2a")
//!     .attributes(["country", "device", "os"])
//!     .build()?;
//!
//! let body = serde_json::to_value(&input)?;
//! assert_eq!(body["treatments"][0]["allocationPercent"], "50");
//! let received = IterationInput::from_json(&body)?;
//! assert_eq!(received, input);
//! received.validate()?;
//!
//! let iteration = resolve_iteration(
//!     &demo_catalog("production"),
//!     &demo_experiment("example-experiment"),
//!     &received,
//!     UnixMillis(1_700_000_000_000),
//!     &mut SequentialIds::new(1),
//! )?;
//! assert_eq!(iteration.status, IterationStatus::NotStarted);
//! assert_eq!(iteration.id.as_deref(), Some("000000000000000100000001"));
//! assert_eq!(iteration.primary_single_metric.map(|m| m.name).as_deref(), Some("Example metric"));
//! let flag = &iteration.flags.unwrap_or_default()[FLAG];
//! assert_eq!(flag.targeting_rule_description.as_deref(), Some("Customers who live in Canada"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

/// The Rust examples of this crate's README.md (the project's README.md
/// shows the same ones), run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod wire;

mod access;
mod allocation;
mod builder;
pub mod catalog;
mod catalog_change;
mod error_rep;
mod expand;
mod experiment;
pub mod experiment_patch;
mod flag;
mod flag_parts;
mod flag_patch;
mod holdout;
mod ids;
mod input;
mod input_bytes;
mod iteration;
mod iteration_fields;
mod json;
mod json_patch;
mod json_pointer;
mod key;
mod layer;
pub mod lifecycle;
mod link;
mod metric;
mod metric_catalog;
mod millis;
mod patch;
mod project;
mod reader;
mod resolve;
mod shared_list;
mod text;
mod validate;
mod violation;

pub use access::{Access, AccessAllowedRep, AccessDenied, AccessReason};
pub use allocation::{AllocationPercent, AllocationTotal, InvalidAllocation, MAX_DECIMALS};
pub use builder::{IterationInputBuilder, Treatment};
pub use catalog::demo::{demo_catalog, demo_experiment};
pub use catalog::{
    Catalog, CatalogFlag, CatalogMetric, CatalogMetricGroup, ContextKind, ExperimentContext, GroupMember,
    TargetingRule, Variation,
};
pub use catalog_change::{CatalogError, FlagChange};
pub use error_rep::{ErrorRep, FieldErrorRep, codes};
pub use expand::Expand;
pub use experiment::{
    AnalysisConfigInput, AnalysisConfigRep, DataSource, Experiment, ExperimentCollectionRep, ExperimentPost,
    ExperimentType, Methodology, MultipleComparisonCorrectionMethod, MultipleComparisonCorrectionScope,
    MutableFieldsByStatusRep,
};
pub use flag::{
    EnvironmentName, FeatureFlag, FeatureFlagBody, FeatureFlagConfig, FeatureFlags, FlagDefaults, FlagKind,
    FlagRule, FlagVariation, VariationOrRollout, flag_path,
};
pub use flag_parts::{
    Clause, ClientSideAvailability, ClientSideAvailabilityPost, CustomProperty, ExperimentAllocationRep,
    ExperimentEnabledPeriodRep, ExperimentEnvironmentSettingRep, ExperimentInfoRep, FlagConfigEvaluation,
    FlagConfigMigrationSettingsRep, FlagListingRep, FlagMigrationSettingsRep, FlagPrerequisitePost,
    FlagSummary, LegacyExperimentRep, MigrationSettingsPost, Prerequisite, Rollout, Target, VariationSummary,
    WeightedVariation,
};
pub use flag_patch::{FlagInstruction, FlagPatch};
pub use holdout::{
    Holdout, HoldoutInstruction, HoldoutMetric, HoldoutPatch, HoldoutPost, HoldoutRep, HoldoutStatus,
    HoldoutsCollectionRep, RelatedExperimentRep, SimpleHoldoutRep, ends_only_when_nothing_runs,
    holdout_exists, holdout_not_ended, leaves_only_when_not_running, not_in_a_layer,
};
pub use ids::{IdSource, SequentialIds};
pub use input::{FlagInput, IterationInput, MetricInput, TreatmentInput, TreatmentParameterInput};
pub use input_bytes::InputError;
pub use iteration::{
    CovariateInfoRep, FlagRep, IterationRep, IterationStatus, LayerSnapshotRep, ParameterRep, TreatmentRep,
};
pub use iteration_fields::FieldUpdateError;
pub use json::{WriteJson, to_json_vec};
pub use json_patch::{JsonPatch, PATCH_OPS, PatchForm, PatchOperation};
pub use json_pointer::{InvalidPointer, JsonPointer};
pub use key::{InvalidKey, Key, MAX_KEY_LEN, is_valid_key};
pub use layer::{
    LAYER_CAPACITY, Layer, LayerCollectionRep, LayerEnvironment, LayerInstruction, LayerPatch, LayerPost,
    LayerReservation, is_running, layer_not_over_full, not_in_a_holdout, not_removed_while_running,
    one_layer_per_experiment, reservation_in_range, zero_only_while_not_running,
};
pub use link::{Link, Links, links};
pub use metric::{
    AnalysisType, DependentMetricGroupRepWithMetrics, DependentMetricOrMetricGroupRep, MetricInGroupRep,
    MetricKind, MetricV2Rep, UnitAggregationType,
};
pub use metric_catalog::{
    DependentExperimentRep, DependentMeasuredRolloutRep, DependentMetricGroupRep, Filter, GroupMemberInput,
    MaintainerRep, MaintainerTeam, MemberSummary, MemberTeamSummaryRep, MetricCollectionRep, MetricContext,
    MetricDataSourceRefRep, MetricDenominatorRep, MetricEventDefaultRep, MetricGroupCollectionRep,
    MetricGroupRep, MetricRep, Modification, UpsertResponseRep, UrlPost, metric_group_path, metric_path,
};
pub use millis::UnixMillis;
pub use patch::{ExperimentPatchInput, FieldOperation, FieldUpdate, Instruction};
pub use project::{
    ContextKindRep, ContextKindsCollectionRep, ProjectCatalog, RandomizationSettingsRep, RandomizationUnit,
    RandomizationUnitRep, live_iterations, uses_flag, uses_metric,
};
pub use resolve::{FALLTHROUGH, ResolveError, VersionConflict, resolve_iteration};
pub use shared_list::SharedList;
pub use text::Text;
pub use validate::{EXPERIMENT_FIELDS, ITERATION_FIELDS};
pub use violation::{Violation, ViolationCode, Violations, pointer};
