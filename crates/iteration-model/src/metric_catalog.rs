//! Metrics and metric groups as the live catalog holds them (`MetricRep`,
//! `MetricGroupRep`), what creates them (`MetricPost`, `MetricGroupPost`),
//! and their rules.
//!
//! Every accepted change gives a metric a fresh `_versionId`; iterations keep
//! the representation they were created with, which names that version.

use serde_json::{Map, Value};

use crate::ids::IdSource;
use crate::key::is_valid_key;
use crate::link::{Links, links};
use crate::metric::{AnalysisType, MetricInGroupRep, MetricKind, UnitAggregationType};
use crate::millis::UnixMillis;
use crate::reader::Reader;
use crate::text::Text;
use crate::violation::{ViolationCode, Violations, pointer};
use crate::wire::representation;

representation! {
    /// A metric of a project (`MetricRep`).
    pub struct MetricRep {
        /// The metric ID.
        req id: String = "_id",
        /// The version ID: new on every accepted change.
        req version_id: String = "_versionId",
        /// The version: one more on every accepted change.
        opt version: i64 = "_version",
        /// The metric key.
        req key: String = "key",
        /// The metric name.
        req name: String = "name",
        /// What the metric tracks.
        req kind: MetricKind = "kind",
        /// Related resources.
        req links: Links = "_links",
        /// Tags.
        req tags: Vec<String> = "tags",
        /// When the metric was created.
        req creation_date: UnixMillis = "_creationDate",
        /// When the metric last changed.
        opt last_modified: Modification = "lastModified",
        /// The maintainer.
        opt maintainer_id: String = "maintainerId",
        /// The description.
        opt description: String = "description",
        /// The category.
        opt category: String = "category",
        /// Whether a custom or trace metric measures a numeric value.
        opt is_numeric: bool = "isNumeric",
        /// `HigherThanBaseline` or `LowerThanBaseline`, for numeric metrics.
        opt success_criteria: String = "successCriteria",
        /// The unit of a numeric metric.
        opt unit: String = "unit",
        /// The event key of a custom or trace metric.
        opt event_key: String = "eventKey",
        /// The context kinds the metric can be measured by.
        opt randomization_units: Vec<String> = "randomizationUnits",
        /// The context kinds the metric is analysed by.
        opt analysis_units: Vec<String> = "analysisUnits",
        /// Event filters.
        opt filters: Filter = "filters",
        /// How a numeric metric aggregates values per unit.
        opt unit_aggregation_type: UnitAggregationType = "unitAggregationType",
        /// How the metric is analysed across units.
        opt analysis_type: AnalysisType = "analysisType",
        /// The percentile, for `analysisType` `percentile`.
        opt percentile_value: i64 = "percentileValue",
        /// What a unit without events counts as.
        opt event_default: MetricEventDefaultRep = "eventDefault",
        /// Where the metric's events come from.
        req data_source: MetricDataSourceRefRep = "dataSource",
        /// Whether the metric is archived.
        opt archived: bool = "archived",
        /// The CSS selector of a click metric.
        opt selector: String = "selector",
        /// The URL rules of a click or page view metric.
        opt urls: Vec<Value> = "urls",
    }
}

representation! {
    /// When something last changed (`Modification`).
    pub struct Modification {
        /// The time, as RFC 3339 text.
        opt date: String = "date",
    }
}

impl Modification {
    /// A modification at `time`.
    pub fn at(time: UnixMillis) -> Modification {
        Modification { date: Some(time.to_rfc3339()), extra: Map::new() }
    }
}

representation! {
    /// A page of metrics (`MetricCollectionRep`).
    pub struct MetricCollectionRep {
        /// The metrics on this page.
        req items: Vec<MetricRep> = "items",
        /// Links to this page and its neighbours.
        req links: Links = "_links",
        /// How many metrics match in all.
        opt total_count: i64 = "totalCount",
    }
}

representation! {
    /// Who maintains a metric group (`MaintainerRep`).
    pub struct MaintainerRep {
        /// The member's ID or team key.
        req key: String = "key",
        /// `member` or `team`.
        req kind: String = "kind",
    }
}

representation! {
    /// A metric group of a project (`MetricGroupRep`).
    pub struct MetricGroupRep {
        /// The group ID.
        req id: String = "_id",
        /// The group key.
        req key: String = "key",
        /// The group name.
        req name: String = "name",
        /// `funnel` or `standard`.
        req kind: MetricKind = "kind",
        /// The description.
        opt description: String = "description",
        /// Related resources.
        req links: Links = "_links",
        /// Tags.
        req tags: Vec<String> = "tags",
        /// When the group was created.
        req creation_date: UnixMillis = "_creationDate",
        /// When the group last changed.
        req last_modified: UnixMillis = "_lastModified",
        /// Who maintains the group.
        req maintainer: MaintainerRep = "maintainer",
        /// The member metrics, in order: a funnel's steps.
        req metrics: Vec<MetricInGroupRep> = "metrics",
        /// The version: one more on every accepted change.
        req version: i64 = "_version",
        /// This server's version ID of the group, which iterations name.
        opt version_id: String = "_versionId",
    }
}

representation! {
    /// A page of metric groups (`MetricGroupCollectionRep`).
    pub struct MetricGroupCollectionRep {
        /// The groups on this page.
        req items: Vec<MetricGroupRep> = "items",
        /// Links to this page and its neighbours.
        opt links: Links = "_links",
        /// How many groups match in all.
        opt total_count: i64 = "totalCount",
    }
}

/// The path of a metric's page in the API.
pub fn metric_path(project: &str, key: &str) -> String {
    format!("/api/v2/metrics/{project}/{key}")
}

/// The path of a metric group's page in the API.
pub fn metric_group_path(project: &str, key: &str) -> String {
    format!("/api/v2/projects/{project}/metric-groups/{key}")
}

/// What the metric rules need to know about the project.
#[derive(Clone, Copy)]
pub struct MetricContext<'a> {
    /// The project key.
    pub project: &'a str,
    /// The randomization unit a metric gets when it names none.
    pub default_unit: &'a str,
    /// Whether a context kind may be a metric's randomization unit.
    pub unit_allowed: &'a dyn Fn(&str) -> bool,
}

impl std::fmt::Debug for MetricContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricContext")
            .field("project", &self.project)
            .field("default_unit", &self.default_unit)
            .finish_non_exhaustive()
    }
}

/// A `UrlPost` of a metric's `urls`, kept as sent.
fn read_url(r: &mut Reader, value: &Value, path: &str) -> Option<()> {
    let url = r.object(value, path)?;
    r.unused(url, path, "kind", Reader::one_of(&["exact", "canonical", "substring", "regex"]));
    for field in ["url", "substring", "pattern"] {
        r.unused(url, path, field, Reader::string);
    }
    Some(())
}

/// Reads the `MetricPost` fields (or `DenominatorPost` fields, at `path`)
/// that a metric keeps as sent, among its unknown fields, without using
/// them, so that a value the document does not allow is refused.
fn kept_as_sent(r: &mut Reader, object: &Map<String, Value>) {
    window_and_winsor(r, object, "");
    for field in ["traceQuery", "traceValueLocation"] {
        r.unused(object, "", field, Reader::string);
    }
    r.unused(object, "", "denominator", |r, v, p| {
        let denominator = r.object(v, p)?;
        window_and_winsor(r, denominator, p);
        for field in ["eventName", "unitAggregationType"] {
            r.unused(denominator, p, field, Reader::string);
        }
        r.unused(denominator, p, "isNumeric", Reader::boolean);
        r.unused(denominator, p, "dataSource", crate::flag::typed::<MetricDataSourceRefRep>);
        r.unused(denominator, p, "filters", crate::flag::typed::<Filter>);
        Some(())
    });
}

/// The fields a metric and its denominator share: the analysis window and
/// winsorization.
fn window_and_winsor(r: &mut Reader, object: &Map<String, Value>, path: &str) {
    for field in ["windowStartOffset", "windowEndOffset"] {
        r.unused(object, path, field, Reader::integer);
    }
    for field in ["winsorLowerPercentile", "winsorUpperPercentile"] {
        r.unused(object, path, field, Reader::number);
    }
    for field in ["winsorExcludeImputed", "winsorIncludeImputed"] {
        r.unused(object, path, field, Reader::boolean);
    }
    r.unused(object, path, "unitAggregationField", Reader::string);
}

impl MetricRep {
    /// A new metric from a `MetricPost` body, or every problem with it.
    pub fn create(
        body: &Value,
        context: MetricContext<'_>,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<MetricRep, Violations> {
        let mut r = Reader::new();
        let read = (|| {
            let object = r.object(body, "")?;
            let key = r.req(object, "", "key", Reader::string);
            let kind = r.req(object, "", "kind", Reader::string);
            let name = r.opt(object, "", "name", Reader::string);
            Some((object, key?, kind?, name?))
        })();
        let Some((object, key, kind, name)) = read else { return r.finish(None) };
        let mut metric = MetricRep {
            id: ids.object_id(),
            version_id: ids.uuid(),
            version: Some(1),
            name: name.unwrap_or_else(|| key.clone()),
            kind: MetricKind::from(kind.as_str()),
            links: metric_links(context.project, &key),
            key,
            tags: Vec::new(),
            creation_date: now,
            last_modified: Some(Modification::at(now)),
            maintainer_id: None,
            description: None,
            category: None,
            is_numeric: None,
            success_criteria: None,
            unit: None,
            event_key: None,
            randomization_units: None,
            analysis_units: None,
            filters: None,
            unit_aggregation_type: None,
            analysis_type: None,
            percentile_value: None,
            event_default: None,
            data_source: MetricDataSourceRefRep::hosted(),
            archived: Some(false),
            selector: None,
            urls: None,
            extra: Map::new(),
        };
        kept_as_sent(&mut r, object);
        for (field, value) in object {
            if value.is_null() {
                continue;
            }
            let path = pointer("", field);
            match field.as_str() {
                "key" | "kind" | "name" => {}
                "description" => metric.description = r.string(value, &path),
                "selector" => metric.selector = r.string(value, &path),
                "eventKey" => metric.event_key = r.string(value, &path),
                "unit" => metric.unit = r.string(value, &path),
                "successCriteria" => metric.success_criteria = r.string(value, &path),
                "maintainerId" => metric.maintainer_id = r.string(value, &path),
                "isNumeric" => metric.is_numeric = r.boolean(value, &path),
                "tags" => metric.tags = r.strings(value, &path).unwrap_or_default(),
                "randomizationUnits" => metric.randomization_units = r.strings(value, &path),
                "analysisUnits" => metric.analysis_units = r.strings(value, &path),
                "urls" => metric.urls = r.each(value, &path, read_url).and(value.as_array().cloned()),
                "unitAggregationType" => {
                    metric.unit_aggregation_type = r.string(value, &path).map(|s| s.as_str().into())
                }
                "analysisType" => metric.analysis_type = r.string(value, &path).map(|s| s.as_str().into()),
                "percentileValue" => metric.percentile_value = r.integer(value, &path),
                "filters" => metric.filters = crate::flag::typed(&mut r, value, &path),
                "eventDefault" => metric.event_default = crate::flag::typed(&mut r, value, &path),
                "dataSource" => {
                    if let Some(source) = crate::flag::typed(&mut r, value, &path) {
                        metric.data_source = source;
                    }
                }
                _ => {
                    metric.extra.insert(field.clone(), value.clone());
                }
            }
        }
        if metric.randomization_units.is_none() {
            metric.randomization_units = Some(vec![context.default_unit.to_owned()]);
        }
        let mut violations = r.violations;
        violations.extend(metric.problems(context));
        violations.into_result().map(|()| metric)
    }

    /// What is wrong with the metric as a whole, with the paths of its fields.
    pub fn problems(&self, context: MetricContext<'_>) -> Violations {
        let mut v = Violations::default();
        if !is_valid_key(&self.key) {
            v.push("/key", ViolationCode::InvalidKey, format!("`{}` is not a valid key", self.key));
        }
        if self.name.trim().is_empty() {
            v.push("/name", ViolationCode::Blank, "name must not be blank");
        }
        let urls_empty = self.urls.as_ref().is_none_or(Vec::is_empty);
        let needs_event_key = || self.event_key.as_deref().is_none_or(|k| k.trim().is_empty());
        match &self.kind {
            MetricKind::Click => {
                if self.selector.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    v.push("/selector", ViolationCode::MissingField, "a click metric needs a selector");
                }
                if urls_empty {
                    v.push(
                        "/urls",
                        ViolationCode::MissingField,
                        "a click metric needs at least one URL rule",
                    );
                }
            }
            MetricKind::Pageview if urls_empty => {
                v.push(
                    "/urls",
                    ViolationCode::MissingField,
                    "a page view metric needs at least one URL rule",
                );
            }
            MetricKind::Custom | MetricKind::Trace if needs_event_key() => v.push(
                "/eventKey",
                ViolationCode::MissingField,
                format!("a {} metric needs an eventKey", self.kind),
            ),
            MetricKind::Pageview | MetricKind::Custom | MetricKind::Trace => {}
            other => v.push(
                "/kind",
                ViolationCode::NotAllowed,
                format!("`{other}` is not a metric kind; use pageview, click, custom or trace"),
            ),
        }
        let numeric = self.is_numeric == Some(true);
        if numeric && !matches!(self.kind, MetricKind::Custom | MetricKind::Trace) {
            v.push("/isNumeric", ViolationCode::NotAllowed, "only custom and trace metrics can be numeric");
        }
        if !numeric {
            for (field, given) in [
                ("unit", self.unit.is_some()),
                ("unitAggregationType", self.unit_aggregation_type.is_some()),
                ("percentileValue", self.percentile_value.is_some()),
            ] {
                if given {
                    v.push(
                        pointer("", field),
                        ViolationCode::NotAllowed,
                        format!("{field} applies to numeric metrics only; set isNumeric"),
                    );
                }
            }
        }
        if let Some(criteria) = &self.success_criteria
            && !["HigherThanBaseline", "LowerThanBaseline"].contains(&criteria.as_str())
        {
            v.push(
                "/successCriteria",
                ViolationCode::NotAllowed,
                format!(
                    "`{criteria}` is not a success criterion; use HigherThanBaseline or LowerThanBaseline"
                ),
            );
        }
        if let Some(aggregation) = &self.unit_aggregation_type
            && !aggregation.is_known()
        {
            v.push(
                "/unitAggregationType",
                ViolationCode::NotAllowed,
                format!("`{aggregation}` is not a unit aggregation; use sum, average or count_distinct"),
            );
        }
        match (&self.analysis_type, self.percentile_value) {
            (Some(AnalysisType::Percentile), None) => v.push(
                "/percentileValue",
                ViolationCode::MissingField,
                "a percentile analysis needs percentileValue",
            ),
            (Some(AnalysisType::Percentile), Some(p)) if !(0..=100).contains(&p) => v.push(
                "/percentileValue",
                ViolationCode::OutOfRange,
                format!("percentileValue is {p}; it must be from 0 to 100"),
            ),
            (Some(other), _) if !other.is_known() => v.push(
                "/analysisType",
                ViolationCode::NotAllowed,
                format!("`{other}` is not an analysis type; use mean or percentile"),
            ),
            _ => {}
        }
        for (i, unit) in self.randomization_units.iter().flatten().enumerate() {
            if !(context.unit_allowed)(unit) {
                v.push(
                    pointer("/randomizationUnits", i),
                    ViolationCode::ContextKindNotForExperiments,
                    format!("`{unit}` is not a context kind enabled for experiments in this project"),
                );
            }
        }
        v
    }

    /// The metric as a group member shows it.
    pub fn in_group(&self, name_in_group: Option<Text>) -> MetricInGroupRep {
        let texts =
            |list: &Option<Vec<String>>| list.as_ref().map(|list| list.iter().map(Text::from).collect());
        MetricInGroupRep {
            key: Text::from(&self.key),
            version_id: Some(Text::from(&self.version_id)),
            name: Text::from(&self.name),
            kind: self.kind.clone(),
            is_numeric: self.is_numeric,
            unit_aggregation_type: self.unit_aggregation_type.clone(),
            event_key: self.event_key.as_deref().map(Text::from),
            links: self.links.clone(),
            name_in_group,
            randomization_units: texts(&self.randomization_units),
            analysis_type: self.analysis_type.clone(),
            analysis_units: texts(&self.analysis_units),
            analysis_unit: None,
            extra: Map::new(),
        }
    }
}

fn metric_links(project: &str, key: &str) -> Links {
    links([("parent", format!("/api/v2/metrics/{project}")), ("self", metric_path(project, key))])
}

/// A member of a metric group as sent: `{key, nameInGroup}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMemberInput {
    /// The metric key.
    pub key: String,
    /// The metric's name in the group.
    pub name_in_group: Option<String>,
}

impl MetricGroupRep {
    /// A new group from a `MetricGroupPost` body, its members looked up
    /// with `metric`; or every problem with it.
    pub fn create(
        body: &Value,
        project: &str,
        metric: &dyn Fn(&str) -> Option<MetricRep>,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<MetricGroupRep, Violations> {
        let mut r = Reader::new();
        let read = (|| {
            let object = r.object(body, "")?;
            let key = r.req(object, "", "key", Reader::string);
            let name = r.req(object, "", "name", Reader::string);
            let kind = r.req(object, "", "kind", Reader::string);
            let description = r.opt(object, "", "description", Reader::string);
            let maintainer_id = r.opt(object, "", "maintainerId", Reader::string);
            let tags = r.opt(object, "", "tags", Reader::strings);
            let members = r.req(object, "", "metrics", |r, v, p| r.each(v, p, read_member));
            Some((key?, name?, kind?, description?, maintainer_id?, tags?, members?))
        })();
        let (key, name, kind, description, maintainer_id, tags, members) = r.finish(read)?;
        let group = MetricGroupRep {
            id: ids.object_id(),
            links: group_links(project, &key),
            key,
            name,
            kind: MetricKind::from(kind.as_str()),
            description,
            tags: tags.unwrap_or_default(),
            creation_date: now,
            last_modified: now,
            maintainer: MaintainerRep {
                key: maintainer_id.unwrap_or_else(|| "api".to_owned()),
                kind: "member".to_owned(),
                extra: Map::new(),
            },
            metrics: Vec::new(),
            version: 1,
            version_id: Some(ids.uuid()),
            extra: Map::new(),
        };
        group.with_members(&members, metric)
    }

    /// The group with `members` as its metrics, each looked up with
    /// `metric`, checked as a whole; or every problem, with paths under
    /// `/metrics`.
    pub fn with_members(
        mut self,
        members: &[GroupMemberInput],
        metric: &dyn Fn(&str) -> Option<MetricRep>,
    ) -> Result<MetricGroupRep, Violations> {
        let mut v = Violations::default();
        if !is_valid_key(&self.key) {
            v.push("/key", ViolationCode::InvalidKey, format!("`{}` is not a valid key", self.key));
        }
        if self.name.trim().is_empty() {
            v.push("/name", ViolationCode::Blank, "name must not be blank");
        }
        let least = match &self.kind {
            MetricKind::Funnel => 2,
            MetricKind::Standard => 1,
            other => {
                v.push(
                    "/kind",
                    ViolationCode::NotAllowed,
                    format!("`{other}` is not a metric group kind; use funnel or standard"),
                );
                1
            }
        };
        if members.len() < least {
            v.push(
                "/metrics",
                ViolationCode::TooFew,
                format!("a {} group has {} metrics; it needs at least {least}", self.kind, members.len()),
            );
        }
        let mut metrics = Vec::with_capacity(members.len());
        for (i, member) in members.iter().enumerate() {
            if members[..i].iter().any(|earlier| earlier.key == member.key) {
                v.push(
                    pointer(&pointer("/metrics", i), "key"),
                    ViolationCode::Duplicate,
                    format!("metric `{}` is in the group twice", member.key),
                );
                continue;
            }
            match metric(&member.key) {
                Some(found) => metrics.push(found.in_group(member.name_in_group.as_deref().map(Text::from))),
                None => v.push(
                    pointer(&pointer("/metrics", i), "key"),
                    ViolationCode::UnknownMetric,
                    format!("metric `{}` does not exist in this project", member.key),
                ),
            }
        }
        self.metrics = metrics;
        v.into_result().map(|()| self)
    }

    /// The members as sent to [`MetricGroupRep::with_members`].
    pub fn member_inputs(&self) -> Vec<GroupMemberInput> {
        self.metrics
            .iter()
            .map(|m| GroupMemberInput {
                key: m.key.to_string(),
                name_in_group: m.name_in_group.as_deref().map(str::to_owned),
            })
            .collect()
    }

    /// The randomization units every member metric has.
    pub fn randomization_units(&self) -> Vec<String> {
        let mut members = self.metrics.iter();
        let Some(first) = members.next() else { return Vec::new() };
        let mut units: Vec<String> =
            first.randomization_units.iter().flatten().map(|unit| unit.to_string()).collect();
        for member in members {
            let theirs = member.randomization_units.as_deref().unwrap_or_default();
            units.retain(|unit| theirs.iter().any(|their| their == unit));
        }
        units
    }
}

fn read_member(r: &mut Reader, value: &Value, path: &str) -> Option<GroupMemberInput> {
    let object = r.object(value, path)?;
    let key = r.req(object, path, "key", Reader::string);
    let name_in_group = r.opt(object, path, "nameInGroup", Reader::string);
    Some(GroupMemberInput { key: key?, name_in_group: name_in_group? })
}

fn group_links(project: &str, key: &str) -> Links {
    links([("parent", format!("/api/v2/projects/{project}")), ("self", metric_group_path(project, key))])
}

representation! {
    /// An experiment that uses a metric or group (`DependentExperimentRep`).
    pub struct DependentExperimentRep {
        /// The experiment key.
        req key: String = "key",
        /// The experiment name.
        req name: String = "name",
        /// The environment's ID.
        req environment_id: String = "environmentId",
        /// The environment's key.
        req environment_key: String = "environmentKey",
        /// When the experiment was created.
        req creation_date: UnixMillis = "creationDate",
        /// When it was archived.
        opt archived_date: UnixMillis = "archivedDate",
        /// Related resources.
        req links: Links = "_links",
    }
}

representation! {
    /// A metric group that holds a metric (`DependentMetricGroupRep`).
    pub struct DependentMetricGroupRep {
        /// The group key.
        req key: String = "key",
        /// The group name.
        req name: String = "name",
        /// `funnel` or `standard`.
        req kind: MetricKind = "kind",
        /// Related resources.
        req links: Links = "_links",
    }
}

representation! {
    /// A guarded rollout that measures a metric (`DependentMeasuredRolloutRep`).
    pub struct DependentMeasuredRolloutRep {
        /// The rollout ID.
        req id: String = "_id",
        /// The flag rolled out.
        req flag_key: String = "flagKey",
        /// That flag's name.
        req flag_name: String = "flagName",
        /// That flag's purpose.
        opt flag_purpose: String = "flagPurpose",
        /// The environment's key.
        req environment_key: String = "environmentKey",
        /// The environment's name.
        req environment_name: String = "environmentName",
        /// The rollout's status.
        req status: String = "status",
        /// When it was created.
        req creation_date: UnixMillis = "creationDate",
        /// Related resources.
        req links: Links = "_links",
    }
}

representation! {
    /// Where a metric's events come from (`MetricDataSourceRefRep`).
    pub struct MetricDataSourceRefRep {
        /// The data source key.
        req key: String = "key",
        /// The environment it reads.
        opt environment_key: String = "environmentKey",
        /// Its display name.
        opt name: String = "_name",
        /// The integration that feeds it.
        opt integration_key: String = "_integrationKey",
    }
}

impl MetricDataSourceRefRep {
    /// LaunchDarkly's own event store, where metrics read events by default.
    pub fn hosted() -> MetricDataSourceRefRep {
        MetricDataSourceRefRep {
            key: "launchdarkly-hosted".to_owned(),
            environment_key: None,
            name: None,
            integration_key: None,
            extra: Map::new(),
        }
    }
}

representation! {
    /// What a unit without events counts as (`MetricEventDefaultRep`).
    pub struct MetricEventDefaultRep {
        /// Whether units without events are left out.
        opt disabled: bool = "disabled",
        /// The value they count as.
        opt value: f64 = "value",
    }
}

representation! {
    /// A filter on events or contexts (`Filter`, and `EventFilter`, which has one shape).
    pub struct Filter {
        /// What is filtered: `contextAttribute`, `eventProperty` or `group`.
        req r#type: String = "type",
        /// The attribute or property tested.
        opt attribute: String = "attribute",
        /// The operator.
        req op: String = "op",
        /// The values tested against.
        req values: Vec<Value> = "values",
        /// The context kind whose attribute is tested.
        opt context_kind: String = "contextKind",
        /// Whether the result is negated.
        req negate: bool = "negate",
    }
}

representation! {
    /// The denominator of a ratio metric (`MetricDenominatorRep`, and `DenominatorPost`).
    pub struct MetricDenominatorRep {
        /// The event counted.
        opt event_name: String = "eventName",
        /// Whether the event carries a value.
        opt is_numeric: bool = "isNumeric",
        /// How values aggregate per unit.
        opt unit_aggregation_type: String = "unitAggregationType",
        /// The field aggregated.
        opt unit_aggregation_field: String = "unitAggregationField",
        /// Where the events come from.
        opt data_source: MetricDataSourceRefRep = "dataSource",
        /// Which events count.
        opt filters: Filter = "filters",
        /// Where the counting window starts, in milliseconds after exposure.
        opt window_start_offset: i64 = "windowStartOffset",
        /// Where it ends.
        opt window_end_offset: i64 = "windowEndOffset",
        /// The lower percentile values are clipped to.
        opt winsor_lower_percentile: f64 = "winsorLowerPercentile",
        /// The upper percentile values are clipped to.
        opt winsor_upper_percentile: f64 = "winsorUpperPercentile",
        /// Whether imputed values are left out of clipping.
        opt winsor_exclude_imputed: bool = "winsorExcludeImputed",
        /// Whether imputed values are clipped.
        opt winsor_include_imputed: bool = "winsorIncludeImputed",
    }
}

representation! {
    /// An account member in short (`MemberSummary`).
    pub struct MemberSummary {
        /// Related resources.
        req links: Links = "_links",
        /// The member ID.
        req id: String = "_id",
        /// First name.
        opt first_name: String = "firstName",
        /// Last name.
        opt last_name: String = "lastName",
        /// The member's role.
        req role: String = "role",
        /// The member's email address.
        req email: String = "email",
    }
}

representation! {
    /// A team in short (`MemberTeamSummaryRep`).
    pub struct MemberTeamSummaryRep {
        /// The custom roles of the team.
        req custom_role_keys: Vec<String> = "customRoleKeys",
        /// The team key.
        req key: String = "key",
        /// Related resources.
        opt links: Links = "_links",
        /// The team name.
        req name: String = "name",
    }
}

representation! {
    /// A team that maintains a resource (`MaintainerTeam`).
    pub struct MaintainerTeam {
        /// The team key.
        req key: String = "key",
        /// The team name.
        req name: String = "name",
        /// Related resources.
        opt links: Links = "_links",
    }
}

representation! {
    /// A URL rule of a click or page view metric (`UrlPost`).
    pub struct UrlPost {
        /// `exact`, `canonical`, `substring` or `regex`.
        opt kind: String = "kind",
        /// The URL, for `exact` and `canonical`.
        opt url: String = "url",
        /// The substring, for `substring`.
        opt substring: String = "substring",
        /// The pattern, for `regex`.
        opt pattern: String = "pattern",
    }
}

representation! {
    /// The answer to an upsert (`UpsertResponseRep`).
    pub struct UpsertResponseRep {
        /// `success`.
        opt status: String = "status",
        /// Related resources.
        opt links: Links = "_links",
    }
}
