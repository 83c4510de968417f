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
#![forbid(unsafe_code)]

mod wire;

mod allocation;
mod builder;
pub mod catalog;
mod error_rep;
mod experiment;
mod ids;
mod input;
mod iteration;
mod key;
mod link;
mod metric;
mod millis;
mod patch;
mod reader;
mod resolve;
mod validate;
mod violation;

pub use allocation::{AllocationPercent, AllocationTotal, InvalidAllocation, MAX_DECIMALS};
pub use builder::{IterationInputBuilder, Treatment};
pub use catalog::demo::{demo_catalog, demo_experiment};
pub use catalog::{
    Catalog, CatalogFlag, CatalogMetric, CatalogMetricGroup, ContextKind, ExperimentContext, GroupMember,
    TargetingRule, Variation,
};
pub use error_rep::{ErrorRep, FieldErrorRep, codes};
pub use experiment::{
    AnalysisConfigInput, AnalysisConfigRep, DataSource, Experiment, ExperimentCollectionRep, ExperimentPost,
    ExperimentType, Methodology, MultipleComparisonCorrectionMethod, MultipleComparisonCorrectionScope,
};
pub use ids::{IdSource, SequentialIds};
pub use input::{FlagInput, IterationInput, MetricInput, TreatmentInput, TreatmentParameterInput};
pub use iteration::{
    CovariateInfoRep, FlagRep, IterationRep, IterationStatus, LayerSnapshotRep, ParameterRep, TreatmentRep,
};
pub use key::{InvalidKey, Key, MAX_KEY_LEN, is_valid_key};
pub use link::{Link, Links, links};
pub use metric::{
    DependentMetricGroupRepWithMetrics, DependentMetricOrMetricGroupRep, MetricInGroupRep, MetricKind,
    MetricV2Rep, UnitAggregationType,
};
pub use millis::UnixMillis;
pub use patch::{ExperimentPatchInput, FieldOperation, FieldUpdate, Instruction};
pub use resolve::{FALLTHROUGH, ResolveError, VersionConflict, resolve_iteration};
pub use validate::{EXPERIMENT_FIELDS, ITERATION_FIELDS};
pub use violation::{Violation, ViolationCode, Violations, pointer};
