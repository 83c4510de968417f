//! The live catalog's endpoints: flags, metrics, metric groups, context
//! kinds and experimentation settings. Each write runs one of the model's
//! catalog changes on a copy of the project's catalog and stores it only if
//! nothing changed in between (see [`Context::change_catalog`]).

use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Response, StatusCode};
use iteration_model::{
    CatalogError, ContextKindsCollectionRep, Experiment, FeatureFlag, FeatureFlags, FlagChange, FlagPatch,
    IdSource, JsonPatch, MetricCollectionRep, MetricGroupCollectionRep, MetricGroupRep, MetricRep,
    ProjectCatalog, codes, links, uses_metric,
};
use serde_json::{Value, json};

use super::list::{page_links, page_window};
use super::{Attempts, Context, MAX_WRITE_ATTEMPTS, raced, store_error};
use crate::server::response::{ApiError, json};
use crate::server::store::{CatalogExpectation, ExperimentRecord};

/// What a catalog change may read besides the catalog.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reads {
    /// Only the catalog.
    Catalog,
    /// The catalog and every experiment of the project: the write fails if
    /// an experiment changed in between (deletes refused while in use).
    Experiments,
}

impl Context<'_> {
    /// Reads the project's catalog (and its experiments, when `reads` says
    /// so), runs `change` on a copy and stores it only if what was read is
    /// unchanged; otherwise does it again on the new state. Answers what
    /// the winning `change` returned.
    pub(super) async fn change_catalog<T>(
        &self,
        project: &str,
        reads: Reads,
        mut change: impl FnMut(
            &mut ProjectCatalog,
            &[Arc<ExperimentRecord>],
            &mut dyn IdSource,
        ) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let store = &self.app.store;
        let kept_changing = || {
            format!(
                "the catalog of project `{project}` kept changing while this request tried {MAX_WRITE_ATTEMPTS} times; retry"
            )
        };
        let mut attempts = Attempts::default();
        loop {
            attempts.next(kept_changing)?;
            let (generation, experiments) = match reads {
                Reads::Catalog => (None, Vec::new()),
                Reads::Experiments => {
                    // The generation first: an experiment write after it makes the put fail.
                    let generation = store.generation(project).await.map_err(store_error)?;
                    let listed = store.list(project, None).await.map_err(store_error)?;
                    (Some(generation), listed.into_iter().map(|r| r.value).collect())
                }
            };
            let current = self.catalog(project).await?;
            let mut catalog = current.value.catalog().clone();
            let mut ids: &crate::server::ids::IdGenerator = &self.app.ids;
            let outcome = change(&mut catalog, &experiments, &mut ids)?;
            let expected = CatalogExpectation { version: current.version, generation };
            if raced(store.put_catalog(expected, catalog).await)?.is_some() {
                return Ok(outcome);
            }
        }
    }

    /// The project's catalog as it is now, for a read.
    pub(super) async fn read_catalog(
        &self,
        project: &str,
    ) -> Result<Arc<crate::server::store::CatalogRecord>, ApiError> {
        Ok(self.catalog(project).await?.value)
    }

    /// The project's experiments when `expand` names anything (every
    /// expand of the catalog reads them); none otherwise, so that a plain
    /// read does not list them.
    async fn experiments_for(
        &self,
        project: &str,
        expand: &[String],
    ) -> Result<Vec<Arc<ExperimentRecord>>, ApiError> {
        if expand.is_empty() {
            return Ok(Vec::new());
        }
        let listed = self.app.store.list(project, None).await.map_err(store_error)?;
        Ok(listed.into_iter().map(|r| r.value).collect())
    }

    /// The `expand` query parameter's names.
    pub(super) fn expands(&self) -> Vec<String> {
        self.query("expand")
            .map(|text| text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }
}

pub(super) fn catalog_error(error: CatalogError) -> ApiError {
    match error {
        CatalogError::NotFound(message) => ApiError::not_found(message),
        CatalogError::KeyExists(message) => ApiError::new(StatusCode::CONFLICT, codes::KEY_EXISTS, message),
        CatalogError::Invalid(violations) => ApiError::violations(&violations),
        other => ApiError::invalid(other.to_string()),
    }
}

pub(super) fn experiments(records: &[Arc<ExperimentRecord>]) -> impl Iterator<Item = &Experiment> {
    records.iter().map(|r| &r.experiment)
}

// ---------------------------------------------------------------- flags

/// `env=a,b` keeps only those environments' configurations.
fn only_environments(ctx: &Context<'_>, mut flag: FeatureFlag) -> FeatureFlag {
    if let Some(wanted) = ctx.query("env") {
        let wanted: Vec<&str> = wanted.split(',').map(str::trim).collect();
        if let Some(environments) = &mut flag.environments {
            environments.retain(|key, _| wanted.contains(&key.as_str()));
        }
    }
    flag
}

/// A documented boolean query parameter, read as Go's `strconv.ParseBool`
/// reads one (`true`, `false`, `1`, `0`, `t`, `f`, any case of the words):
/// anything else is a 400 naming it, also for the parameters whose value
/// changes nothing here (`summary`, the deprecated `compare`), since the
/// document says boolean.
fn boolean_query(ctx: &Context<'_>, name: &str) -> Result<Option<bool>, ApiError> {
    let Some(text) = ctx.query(name) else { return Ok(None) };
    match text.as_str() {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Some(true)),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Some(false)),
        _ => Err(ApiError::invalid(format!("{name} `{text}` must be true or false"))),
    }
}

pub(super) async fn list_flags(ctx: &Context<'_>, project: &str) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    for ignored in ["summary", "compare"] {
        boolean_query(ctx, ignored)?;
    }
    let filter = FlagFilter::parse(ctx)?;
    let (limit, offset) = page_window(ctx, 20, 100)?;
    let matching: Vec<&FeatureFlag> = catalog.catalog().flags.values().filter(|f| filter.keeps(f)).collect();
    let total = matching.len();
    let items =
        matching.into_iter().skip(offset).take(limit).map(|f| only_environments(ctx, f.clone())).collect();
    let base = format!("/api/v2/flags/{project}");
    let body = FeatureFlags {
        items,
        links: page_links(ctx, &base, &["env", "filter", "tag", "archived"], limit, offset, total),
        total_count: Some(total as i64),
        extra: Default::default(),
    };
    Ok(json(StatusCode::OK, &body))
}

/// The flag list's filters: `filter=query:text,tags:a+b,state:live|archived|deprecated`,
/// `tag=` and the deprecated `archived=`.
struct FlagFilter {
    query: Option<String>,
    tags: Vec<String>,
    archived: Option<bool>,
}

impl FlagFilter {
    fn parse(ctx: &Context<'_>) -> Result<FlagFilter, ApiError> {
        let mut filter = FlagFilter { query: None, tags: Vec::new(), archived: None };
        if let Some(tag) = ctx.query("tag") {
            filter.tags.push(tag);
        }
        if let Some(archived) = boolean_query(ctx, "archived")? {
            filter.archived = Some(archived);
        }
        for part in ctx.query("filter").unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
            let (field, value) = part.split_once(':').unwrap_or((part, ""));
            match field.trim() {
                "query" => filter.query = Some(value.to_lowercase()),
                "tags" => {
                    filter.tags.extend(value.split(['+', ' ']).filter(|t| !t.is_empty()).map(str::to_owned))
                }
                "state" => match value {
                    "archived" => filter.archived = Some(true),
                    "live" | "active" => filter.archived = Some(false),
                    "deprecated" | "" => {}
                    other => {
                        return Err(ApiError::invalid(format!(
                            "filter state `{other}` is not supported; use live, archived or deprecated"
                        )));
                    }
                },
                "archived" => filter.archived = Some(value == "true"),
                other => {
                    return Err(ApiError::invalid(format!(
                        "filter `{other}` is not supported here; supported: query, tags, state, archived"
                    )));
                }
            }
        }
        Ok(filter)
    }

    fn keeps(&self, flag: &FeatureFlag) -> bool {
        // Archived flags are listed only when asked for, as LaunchDarkly does.
        self.archived.unwrap_or(false) == flag.archived
            && self
                .query
                .as_ref()
                .is_none_or(|q| flag.key.to_lowercase().contains(q) || flag.name.to_lowercase().contains(q))
            && self.tags.iter().all(|t| flag.tags.contains(t))
    }
}

pub(super) async fn create_flag(ctx: &Context<'_>, project: &str) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let now = ctx.app.clock.now();
    let flag = ctx
        .change_catalog(project, Reads::Catalog, |catalog, _, ids| {
            catalog.create_flag(&body, now, ids).cloned().map_err(catalog_error)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &flag))
}

pub(super) async fn get_flag(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    let flag = catalog.catalog().flags.get(key).ok_or_else(|| flag_not_found(key))?;
    Ok(json(StatusCode::OK, &only_environments(ctx, flag.clone())))
}

fn flag_not_found(key: &str) -> ApiError {
    ApiError::not_found(format!("flag `{key}` not found"))
}

/// Whether the request declares a semantic patch.
fn is_semantic(ctx: &Context<'_>, body: &Value) -> bool {
    let content_type = ctx.request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    content_type.to_ascii_lowercase().contains("domain-model=launchdarkly.semanticpatch")
        // Generated clients send semantic patches as plain JSON; the shape tells them apart.
        || body.get("instructions").is_some()
}

pub(super) async fn patch_flag(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    for ignored in ["ignoreConflicts", "dryRun"] {
        boolean_query(ctx, ignored)?;
    }
    let body = ctx.json_body()?;
    let change = if is_semantic(ctx, &body) {
        FlagChange::Semantic(FlagPatch::from_json(&body).map_err(|v| ApiError::violations(&v))?)
    } else {
        FlagChange::Json(JsonPatch::from_json(&body).map_err(|v| ApiError::violations(&v))?)
    };
    let now = ctx.app.clock.now();
    let flag = ctx
        .change_catalog(project, Reads::Catalog, |catalog, _, ids| {
            catalog.patch_flag(key, &change, now, ids).cloned().map_err(catalog_error)
        })
        .await?;
    Ok(json(StatusCode::OK, &only_environments(ctx, flag)))
}

pub(super) async fn delete_flag(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.change_catalog(project, Reads::Experiments, |catalog, records, _| {
        catalog.delete_flag(key, experiments(records)).map_err(catalog_error)
    })
    .await?;
    Ok(no_content())
}

fn no_content() -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

// -------------------------------------------------------------- metrics

/// `MetricRep` with what `expand` asks for: `experiments`,
/// `experimentCount`, `metricGroups`, `metricGroupCount`.
fn expanded_metric(
    metric: &MetricRep,
    catalog: &ProjectCatalog,
    records: &[Arc<ExperimentRecord>],
    expand: &[String],
) -> MetricRep {
    let mut metric = metric.clone();
    let wants = |name: &str| expand.iter().any(|e| e == name);
    if wants("experiments") || wants("experimentCount") {
        let using: Vec<&Experiment> = experiments(records).filter(|e| uses_metric(e, &metric.key)).collect();
        if wants("experimentCount") {
            metric.extra.insert("experimentCount".to_owned(), json!(using.len()));
        }
        if wants("experiments") {
            let items: Vec<Value> = using.iter().map(|e| dependent_experiment(e)).collect();
            metric.extra.insert("experiments".to_owned(), Value::Array(items));
        }
    }
    if wants("metricGroups") || wants("metricGroupCount") {
        let groups: Vec<&MetricGroupRep> = catalog.groups_with_metric(&metric.key).collect();
        if wants("metricGroupCount") {
            metric.extra.insert("metricGroupCount".to_owned(), json!(groups.len()));
        }
        if wants("metricGroups") {
            let items: Vec<Value> = groups
                .iter()
                .map(|g| json!({"key": g.key, "name": g.name, "kind": g.kind, "_links": g.links}))
                .collect();
            metric.extra.insert("metricGroups".to_owned(), Value::Array(items));
        }
    }
    metric
}

/// An experiment as a metric or group lists it (`DependentExperimentRep`).
fn dependent_experiment(experiment: &Experiment) -> Value {
    let mut rep = json!({
        "key": experiment.key,
        "name": experiment.name,
        "environmentId": experiment.environment_key,
        "environmentKey": experiment.environment_key,
        "creationDate": experiment.creation_date,
        "_links": experiment.links,
    });
    if let (Some(archived), Some(object)) = (experiment.archived_date, rep.as_object_mut()) {
        object.insert("archivedDate".to_owned(), json!(archived));
    }
    rep
}

pub(super) async fn list_metrics(ctx: &Context<'_>, project: &str) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    let filters = Filters::parse(ctx.query("filter").as_deref().unwrap_or(""))?;
    let (limit, offset) = page_window(ctx, 20, 50)?;
    let expand = ctx.expands();
    let records = ctx.experiments_for(project, &expand).await?;
    let matching: Vec<&MetricRep> =
        catalog.catalog().metrics.values().filter(|m| filters.keeps_metric(m)).collect();
    let total = matching.len();
    let items = matching
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|m| expanded_metric(m, catalog.catalog(), &records, &expand))
        .collect();
    let base = format!("/api/v2/metrics/{project}");
    let body = MetricCollectionRep {
        items,
        links: page_links(ctx, &base, &["filter", "expand"], limit, offset, total),
        total_count: Some(total as i64),
        extra: Default::default(),
    };
    Ok(json(StatusCode::OK, &body))
}

pub(super) async fn create_metric(ctx: &Context<'_>, project: &str) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let now = ctx.app.clock.now();
    let metric = ctx
        .change_catalog(project, Reads::Catalog, |catalog, _, ids| {
            catalog.create_metric(&body, now, ids).cloned().map_err(catalog_error)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &metric))
}

pub(super) async fn get_metric(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    let metric = catalog.catalog().metrics.get(key).ok_or_else(|| metric_not_found(key))?;
    let expand = ctx.expands();
    let records = ctx.experiments_for(project, &expand).await?;
    Ok(json(StatusCode::OK, &expanded_metric(metric, catalog.catalog(), &records, &expand)))
}

fn metric_not_found(key: &str) -> ApiError {
    ApiError::not_found(format!("metric `{key}` not found"))
}

pub(super) async fn patch_metric(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let patch = JsonPatch::from_json(&body).map_err(|v| ApiError::violations(&v))?;
    let now = ctx.app.clock.now();
    let metric = ctx
        .change_catalog(project, Reads::Catalog, |catalog, _, ids| {
            catalog.patch_metric(key, &patch, now, ids).cloned().map_err(catalog_error)
        })
        .await?;
    Ok(json(StatusCode::OK, &metric))
}

pub(super) async fn delete_metric(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.change_catalog(project, Reads::Experiments, |catalog, records, _| {
        catalog.delete_metric(key, experiments(records)).map_err(catalog_error)
    })
    .await?;
    Ok(no_content())
}

// -------------------------------------------------------- metric groups

fn expanded_group(
    group: &MetricGroupRep,
    records: &[Arc<ExperimentRecord>],
    expand: &[String],
) -> MetricGroupRep {
    let mut group = group.clone();
    let wants = |name: &str| expand.iter().any(|e| e == name);
    if wants("experiments") || wants("experimentCount") {
        let using: Vec<&Experiment> = experiments(records).filter(|e| uses_metric(e, &group.key)).collect();
        if wants("experimentCount") {
            group.extra.insert("experimentCount".to_owned(), json!(using.len()));
        }
        if wants("experiments") {
            let items: Vec<Value> = using.iter().map(|e| dependent_experiment(e)).collect();
            group.extra.insert("experiments".to_owned(), Value::Array(items));
        }
    }
    group
}

pub(super) async fn list_metric_groups(
    ctx: &Context<'_>,
    project: &str,
) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    let filters = Filters::parse(ctx.query("filter").as_deref().unwrap_or(""))?;
    let (limit, offset) = page_window(ctx, 20, 50)?;
    let matching: Vec<&MetricGroupRep> =
        catalog.catalog().metric_groups.values().filter(|g| filters.keeps_group(g)).collect();
    let total = matching.len();
    // The list takes `expand` for compatibility only, as LaunchDarkly documents.
    let items = matching.into_iter().skip(offset).take(limit).cloned().collect();
    let base = format!("/api/v2/projects/{project}/metric-groups");
    let body = MetricGroupCollectionRep {
        items,
        links: Some(page_links(ctx, &base, &["filter"], limit, offset, total)),
        total_count: Some(total as i64),
        extra: Default::default(),
    };
    Ok(json(StatusCode::OK, &body))
}

pub(super) async fn create_metric_group(
    ctx: &Context<'_>,
    project: &str,
) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let now = ctx.app.clock.now();
    let group = ctx
        .change_catalog(project, Reads::Catalog, |catalog, _, ids| {
            catalog.create_metric_group(&body, now, ids).cloned().map_err(catalog_error)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &group))
}

pub(super) async fn get_metric_group(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    let group = catalog.catalog().metric_groups.get(key).ok_or_else(|| group_not_found(key))?;
    let expand = ctx.expands();
    let records = ctx.experiments_for(project, &expand).await?;
    Ok(json(StatusCode::OK, &expanded_group(group, &records, &expand)))
}

fn group_not_found(key: &str) -> ApiError {
    ApiError::not_found(format!("metric group `{key}` not found"))
}

pub(super) async fn patch_metric_group(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let patch = JsonPatch::from_json(&body).map_err(|v| ApiError::violations(&v))?;
    let now = ctx.app.clock.now();
    let group = ctx
        .change_catalog(project, Reads::Catalog, |catalog, _, ids| {
            catalog.patch_metric_group(key, &patch, now, ids).cloned().map_err(catalog_error)
        })
        .await?;
    Ok(json(StatusCode::OK, &group))
}

pub(super) async fn delete_metric_group(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.change_catalog(project, Reads::Experiments, |catalog, records, _| {
        catalog.delete_metric_group(key, experiments(records)).map_err(catalog_error)
    })
    .await?;
    Ok(no_content())
}

/// The metric and metric group lists' filters: `field operator value`,
/// comma-separated, where the value is a word, a JSON string or a JSON
/// list of strings (`tags contains ["a", "b"]`).
struct Filters(Vec<(String, Vec<String>)>);

impl Filters {
    fn parse(text: &str) -> Result<Filters, ApiError> {
        let mut filters = Vec::new();
        for clause in split_top_level(text) {
            let clause = clause.trim();
            if clause.is_empty() {
                continue;
            }
            let mut words = clause.splitn(3, ' ');
            let (field, operator, value) = match (words.next(), words.next(), words.next()) {
                (Some(f), Some(o), Some(v)) => (f, o, v.trim()),
                // The short form `field:value` reads as `field equals value`.
                _ => match clause.split_once(':') {
                    Some((f, v)) => (f, "equals", v),
                    None => {
                        return Err(ApiError::invalid(format!(
                            "filter `{clause}` must read `field operator value`, such as `tags contains [\"a\"]`"
                        )));
                    }
                },
            };
            if !["equals", "contains", "anyOf"].contains(&operator) {
                return Err(ApiError::invalid(format!(
                    "filter operator `{operator}` is not supported; use equals, contains or anyOf"
                )));
            }
            if !["query", "tags", "eventKind", "isNumeric", "unitAggregationType", "kind"].contains(&field) {
                return Err(ApiError::invalid(format!(
                    "filter field `{field}` is not supported here; supported: query, tags, eventKind, isNumeric, unitAggregationType, kind"
                )));
            }
            let values = match serde_json::from_str::<Value>(value) {
                Ok(Value::Array(items)) => {
                    items.iter().map(|v| v.as_str().map_or(v.to_string(), str::to_owned)).collect()
                }
                Ok(Value::String(s)) => vec![s],
                _ => vec![value.to_owned()],
            };
            filters.push((field.to_owned(), values));
        }
        Ok(Filters(filters))
    }

    fn keeps_metric(&self, metric: &MetricRep) -> bool {
        self.0.iter().all(|(field, values)| match field.as_str() {
            "query" => matches_query(values, &metric.key, &metric.name),
            "tags" => values.iter().all(|t| metric.tags.contains(t)),
            "eventKind" | "kind" => values.iter().any(|v| v == metric.kind.as_str()),
            "isNumeric" => values.iter().any(|v| *v == metric.is_numeric.unwrap_or(false).to_string()),
            "unitAggregationType" => {
                values.iter().any(|v| metric.unit_aggregation_type.as_ref().is_some_and(|u| u.as_str() == v))
            }
            _ => true,
        })
    }

    fn keeps_group(&self, group: &MetricGroupRep) -> bool {
        self.0.iter().all(|(field, values)| match field.as_str() {
            "query" => matches_query(values, &group.key, &group.name),
            "tags" => values.iter().all(|t| group.tags.contains(t)),
            "kind" => values.iter().any(|v| v == group.kind.as_str()),
            _ => true,
        })
    }
}

fn matches_query(values: &[String], key: &str, name: &str) -> bool {
    values.iter().any(|q| {
        let q = q.to_lowercase();
        key.to_lowercase().contains(&q) || name.to_lowercase().contains(&q)
    })
}

/// Splits at commas outside brackets and quotes.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

// ------------------------------------------- context kinds and settings

pub(super) async fn list_context_kinds(
    ctx: &Context<'_>,
    project: &str,
) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    let body = ContextKindsCollectionRep {
        items: catalog.catalog().context_kinds.clone(),
        links: links([("self", format!("/api/v2/projects/{project}/context-kinds"))]),
        extra: Default::default(),
    };
    Ok(json(StatusCode::OK, &body))
}

pub(super) async fn put_context_kind(
    ctx: &Context<'_>,
    project: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let now = ctx.app.clock.now();
    ctx.change_catalog(project, Reads::Catalog, |catalog, _, _| {
        catalog.put_context_kind(key, &body, now).map_err(|v| ApiError::violations(&v))
    })
    .await?;
    let answer = json!({
        "status": "success",
        "_links": {"self": {"href": format!("/api/v2/projects/{project}/context-kinds/{key}"), "type": "application/json"}},
    });
    Ok(json(StatusCode::OK, &answer))
}

pub(super) async fn get_settings(ctx: &Context<'_>, project: &str) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    Ok(json(StatusCode::OK, &catalog.catalog().settings()))
}

pub(super) async fn put_settings(ctx: &Context<'_>, project: &str) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let settings = ctx
        .change_catalog(project, Reads::Catalog, |catalog, _, _| {
            catalog.put_settings(&body).map_err(|v| ApiError::violations(&v))?;
            Ok(catalog.settings())
        })
        .await?;
    Ok(json(StatusCode::OK, &settings))
}
