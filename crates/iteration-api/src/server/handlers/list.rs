//! `GET .../experiments`: a page of experiments with filters and links.

use bytes::Bytes;
use http::{Response, StatusCode};
use iteration_model::{Experiment, ExperimentCollectionRep, IterationRep, Link, Links, Text, WriteJson};

use std::sync::Arc;

use super::{Context, store_error};
use crate::server::response::{ApiError, json, json_bytes};
use crate::server::store::{PageQuery, Status};
use iteration_model::Expand;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 50;

/// Which experiments a `filter` keeps.
#[derive(Debug, Default, PartialEq)]
struct Filter {
    flag_key: Option<String>,
    metric_key: Option<String>,
    status: Option<Status>,
}

impl Filter {
    /// Reads `flagKey:k,metricKey:m,status:running`.
    fn parse(text: &str) -> Result<Filter, ApiError> {
        let mut filter = Filter::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((field, value)) = part.split_once(':') else {
                return Err(ApiError::invalid(format!("filter `{part}` must have the form field:value")));
            };
            let value = value.trim().to_owned();
            match field.trim() {
                "flagKey" => filter.flag_key = Some(value),
                "metricKey" => filter.metric_key = Some(value),
                "status" if Status::parse(&value).is_some() => filter.status = Status::parse(&value),
                "status" => {
                    return Err(ApiError::invalid(format!(
                        "filter status `{value}` is not one of not_started, running, stopped"
                    )));
                }
                other => {
                    return Err(ApiError::invalid(format!(
                        "cannot filter by `{other}`; filter by flagKey, metricKey or status"
                    )));
                }
            }
        }
        Ok(filter)
    }

    /// Whether the filter needs more of an experiment than its summary.
    fn reads_experiments(&self) -> bool {
        self.flag_key.is_some() || self.metric_key.is_some()
    }

    /// The part of the filter a summary cannot answer.
    fn keeps(&self, experiment: &Experiment) -> bool {
        let iterations = || iterations(experiment);
        self.flag_key.as_ref().is_none_or(|flag| {
            iterations().any(|i| i.flags.as_ref().is_some_and(|flags| flags.contains_key(flag)))
        }) && self.metric_key.as_ref().is_none_or(|metric| {
            iterations().any(|i| {
                i.metrics.iter().flatten().any(|m| {
                    m.key == *metric || m.metrics.iter().flatten().any(|member| member.key == *metric)
                })
            })
        })
    }
}

fn iterations(experiment: &Experiment) -> impl Iterator<Item = &IterationRep> {
    experiment
        .current_iteration
        .iter()
        .chain(experiment.draft_iteration.iter())
        .chain(experiment.previous_iterations.iter().flatten())
}

/// `lifecycleState`: `active` (default), `archived`, or both.
fn lifecycle_states(text: Option<&str>) -> Result<(bool, bool), ApiError> {
    let Some(text) = text else { return Ok((true, false)) };
    let (mut active, mut archived) = (false, false);
    for state in text.split(',').map(str::trim) {
        match state {
            "active" => active = true,
            "archived" => archived = true,
            other => {
                return Err(ApiError::invalid(format!(
                    "lifecycleState `{other}` is not one of active, archived"
                )));
            }
        }
    }
    Ok((active, archived))
}

fn number(ctx: &Context<'_>, name: &str, default: usize) -> Result<usize, ApiError> {
    match ctx.query(name) {
        None => Ok(default),
        // The document says int64: a number beyond it is refused, not read.
        Some(text) => text.parse::<i64>().ok().and_then(|n| usize::try_from(n).ok()).ok_or_else(|| {
            ApiError::invalid(format!("{name} `{text}` must be a whole number from 0 to {}", i64::MAX))
        }),
    }
}

pub(super) async fn list(
    ctx: &Context<'_>,
    project: &str,
    environment: Option<&str>,
) -> Result<Response<Bytes>, ApiError> {
    match environment {
        Some(environment) => ctx.environment(project, environment)?,
        None => ctx.project(project)?,
    };
    let (limit, offset) = page_window(ctx, DEFAULT_LIMIT, MAX_LIMIT)?;
    let filter = Filter::parse(&ctx.query("filter").unwrap_or_default())?;
    let (active, archived) = lifecycle_states(ctx.query("lifecycleState").as_deref())?;
    let expand = Expand::parse(&ctx.query("expand").unwrap_or_default());

    let keep = |experiment: &Experiment| filter.keeps(experiment);
    let query = PageQuery {
        environment,
        active,
        archived,
        // A holdout's base experiment is listed with its holdout, not here (chosen).
        holdouts: false,
        status: filter.status,
        keep: filter.reads_experiments().then_some(&keep as &(dyn Fn(&Experiment) -> bool + Sync)),
        offset,
        limit,
    };
    let base = match environment {
        Some(environment) => format!("/api/v2/projects/{project}/environments/{environment}/experiments"),
        None => format!("/api/v2/projects/{project}/experiments"),
    };
    let kept = ["filter", "expand", "lifecycleState"];
    if expand.is_empty() {
        // The common list: the store may hand out each item's bytes as
        // they are, without reading the records.
        let page = ctx.app.store.page_plain(project, query).await.map_err(store_error)?;
        let links = page_links(ctx, &base, &kept, limit, offset, page.total);
        return Ok(json_bytes(StatusCode::OK, collection_json(&page.items, page.total, &links)));
    }
    let page = ctx.app.store.page(project, query).await.map_err(store_error)?;
    let total = page.total;
    let items =
        page.items.into_iter().map(|r| expand.apply(Arc::unwrap_or_clone(r.value).experiment)).collect();
    let body = ExperimentCollectionRep {
        items,
        total_count: Some(i64::try_from(total).unwrap_or(i64::MAX)),
        links: Some(page_links(ctx, &base, &kept, limit, offset, total)),
        extra: Default::default(),
    };
    Ok(json(StatusCode::OK, &body))
}

/// The bytes serde_json writes for an [`ExperimentCollectionRep`] of
/// `items` (each the JSON of one experiment), `total` and `links`.
fn collection_json(items: &[Bytes], total: usize, links: &Links) -> Bytes {
    let mut out = Vec::with_capacity(64 + items.iter().map(Bytes::len).sum::<usize>() + 512);
    out.extend_from_slice(b"{\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"],\"total_count\":");
    out.extend_from_slice(i64::try_from(total).unwrap_or(i64::MAX).to_string().as_bytes());
    out.extend_from_slice(b",\"_links\":");
    links.write_json(&mut out);
    out.push(b'}');
    Bytes::from(out)
}

/// `limit` (default `default`, 1 to `max`) and `offset` (default 0) of a list.
pub(super) fn page_window(ctx: &Context<'_>, default: usize, max: usize) -> Result<(usize, usize), ApiError> {
    let limit = number(ctx, "limit", default)?;
    if !(1..=max).contains(&limit) {
        return Err(ApiError::invalid(format!("limit {limit} must be between 1 and {max}")));
    }
    Ok((limit, number(ctx, "offset", 0)?))
}

/// A list page's `_links`: `self`, `first`, `last`, and `prev` and `next`
/// where they exist, each keeping the query parameters named in `kept`.
pub(super) fn page_links(
    ctx: &Context<'_>,
    base: &str,
    kept: &[&str],
    limit: usize,
    offset: usize,
    total: usize,
) -> Links {
    let kept: Vec<String> = kept
        .iter()
        .filter_map(|name| ctx.query(name).map(|value| format!("{name}={}", encode(&value))))
        .collect();
    let page = |offset: usize| {
        let mut query = vec![format!("limit={limit}"), format!("offset={offset}")];
        query.extend(kept.iter().cloned());
        Link::json(format!("{base}?{}", query.join("&")))
    };
    let last = if total == 0 { 0 } else { (total - 1) / limit * limit };
    let mut links = Links::new();
    links.insert(Text::from_static("self"), page(offset));
    links.insert(Text::from_static("first"), page(0));
    links.insert(Text::from_static("last"), page(last));
    if offset > 0 {
        links.insert(Text::from_static("prev"), page(offset.saturating_sub(limit)));
    }
    if offset + limit < total {
        links.insert(Text::from_static("next"), page(offset + limit));
    }
    links
}

/// Percent-encodes a query value (everything but unreserved characters and
/// the `,` and `:` that filters and expands are made of).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b',' | b':' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collection_of_plain_items_is_written_as_serde_writes_the_collection() {
        let experiment: Experiment = serde_json::from_str(
            r#"{"_id":"i","key":"k\"q","name":"N","_maintainerId":"m","_creationDate":1,"environmentKey":"e","_links":{}}"#,
        )
        .unwrap();
        let mut links = Links::new();
        links.insert(Text::from_static("self"), Link::json("/api/v2/x?limit=20&offset=0"));
        links.insert(Text::from_static("next"), Link::json("/api/v2/x?limit=20&offset=20"));
        for count in [0, 1, 3] {
            let items = vec![experiment.clone(); count];
            let plain: Vec<Bytes> = items.iter().map(crate::server::store::plain_json).collect();
            let expected = ExperimentCollectionRep {
                items,
                total_count: Some(42),
                links: Some(links.clone()),
                extra: Default::default(),
            };
            assert_eq!(
                String::from_utf8(collection_json(&plain, 42, &links).to_vec()).unwrap(),
                serde_json::to_string(&expected).unwrap()
            );
        }
    }

    #[test]
    fn filters_read_every_field_and_refuse_unknown_ones() {
        assert_eq!(
            Filter::parse("flagKey:f,metricKey:m,status:running").map_err(|e| e.message),
            Ok(Filter {
                flag_key: Some("f".into()),
                metric_key: Some("m".into()),
                status: Some(Status::Running)
            })
        );
        assert_eq!(
            Filter::parse("owner:me").map_err(|e| e.message),
            Err("cannot filter by `owner`; filter by flagKey, metricKey or status".to_owned())
        );
        assert_eq!(
            Filter::parse("status:paused").map_err(|e| e.message),
            Err("filter status `paused` is not one of not_started, running, stopped".to_owned())
        );
    }
}
