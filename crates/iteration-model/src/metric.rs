//! Metrics and metric groups as an iteration shows them.

use crate::link::Links;
use crate::text::Text;
use crate::wire::{representation, wire_enum};

wire_enum! {
    /// What a metric tracks, or for a group, what kind of group it is.
    pub enum MetricKind {
        /// Page views.
        Pageview = "pageview",
        /// Clicks.
        Click = "click",
        /// A custom event.
        Custom = "custom",
        /// A value read from traces.
        Trace = "trace",
        /// An ordered funnel of metrics (groups only).
        Funnel = "funnel",
        /// A plain set of metrics (groups only).
        Standard = "standard",
    }
}

wire_enum! {
    /// How a numeric metric aggregates values per unit.
    pub enum UnitAggregationType {
        /// The sum of values.
        Sum = "sum",
        /// The average of values.
        Average = "average",
        /// The number of distinct values.
        CountDistinct = "count_distinct",
    }
}

wire_enum! {
    /// How a numeric metric is analysed across units.
    pub enum AnalysisType {
        /// The mean.
        Mean = "mean",
        /// A percentile (`percentileValue`).
        Percentile = "percentile",
    }
}

representation! {
    /// A single metric (`MetricV2Rep`).
    pub struct MetricV2Rep {
        /// The metric key.
        req key: Text = "key",
        /// The version ID of the metric.
        opt version_id: Text = "_versionId",
        /// The metric name.
        req name: Text = "name",
        /// The kind of event the metric tracks.
        req kind: MetricKind = "kind",
        /// For custom metrics, whether it tracks a numeric value.
        opt is_numeric: bool = "isNumeric",
        /// The unit aggregation of a numeric metric.
        opt unit_aggregation_type: UnitAggregationType = "unitAggregationType",
        /// The event key of a custom metric.
        opt event_key: Text = "eventKey",
        /// How the metric is analysed across units.
        opt analysis_type: AnalysisType = "analysisType",
        /// The context kind it is analysed by; absent: the iteration's randomization unit.
        opt analysis_unit: Text = "analysisUnit",
        /// Related resources.
        req links: Links = "_links",
    }
}

representation! {
    /// A metric inside a metric group (`MetricInGroupRep`).
    pub struct MetricInGroupRep {
        /// The metric key.
        req key: Text = "key",
        /// The version ID of the metric.
        opt version_id: Text = "_versionId",
        /// The metric name.
        req name: Text = "name",
        /// The kind of event the metric tracks.
        req kind: MetricKind = "kind",
        /// For custom metrics, whether it tracks a numeric value.
        opt is_numeric: bool = "isNumeric",
        /// The unit aggregation of a numeric metric.
        opt unit_aggregation_type: UnitAggregationType = "unitAggregationType",
        /// The event key of a custom metric.
        opt event_key: Text = "eventKey",
        /// Related resources.
        req links: Links = "_links",
        /// The metric's name within the group (funnels only).
        opt name_in_group: Text = "nameInGroup",
        /// The randomization units the metric supports.
        opt randomization_units: Vec<Text> = "randomizationUnits",
        /// How the metric is analysed across units.
        opt analysis_type: AnalysisType = "analysisType",
        /// The context kinds the metric can be analysed by.
        opt analysis_units: Vec<Text> = "analysisUnits",
        /// The context kind it is analysed by; absent: the iteration's randomization unit.
        opt analysis_unit: Text = "analysisUnit",
    }
}

representation! {
    /// A metric or a metric group that an iteration uses (`DependentMetricOrMetricGroupRep`).
    pub struct DependentMetricOrMetricGroupRep {
        /// The metric or group key.
        req key: Text = "key",
        /// The version ID.
        req version_id: Text = "_versionId",
        /// The name.
        req name: Text = "name",
        /// For a metric, the event kind; for a group, the group kind.
        req kind: MetricKind = "kind",
        /// For custom metrics, whether it tracks a numeric value.
        opt is_numeric: bool = "isNumeric",
        /// The event key of a custom metric.
        opt event_key: Text = "eventKey",
        /// Related resources.
        req links: Links = "_links",
        /// Whether this is a metric group.
        req is_group: bool = "isGroup",
        /// A group's metrics, in order.
        opt metrics: Vec<MetricInGroupRep> = "metrics",
        /// How a metric is analysed across units.
        opt analysis_type: AnalysisType = "analysisType",
        /// The context kind it is analysed by; absent: the iteration's randomization unit.
        opt analysis_unit: Text = "analysisUnit",
    }
}

representation! {
    /// A metric group with its metrics (`DependentMetricGroupRepWithMetrics`).
    pub struct DependentMetricGroupRepWithMetrics {
        /// The group key.
        req key: Text = "key",
        /// The group name.
        req name: Text = "name",
        /// The group kind (`funnel` or `standard`).
        req kind: MetricKind = "kind",
        /// Related resources.
        req links: Links = "_links",
        /// The group's metrics, in order.
        opt metrics: Vec<MetricInGroupRep> = "metrics",
    }
}
