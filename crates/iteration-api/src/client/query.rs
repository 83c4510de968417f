//! Query parameters: which parts of an experiment to expand, and how to page
//! and filter lists.

use std::fmt::Write as _;

pub use iteration_model::Expand;

/// Which experiments a list returns by lifecycle (`lifecycleState`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LifecycleState {
    /// Not archived (the server's default).
    #[default]
    Active,
    /// Archived only.
    Archived,
    /// Both.
    All,
}

impl LifecycleState {
    fn as_query_value(self) -> &'static str {
        match self {
            LifecycleState::Active => "active",
            LifecycleState::Archived => "archived",
            LifecycleState::All => "active,archived",
        }
    }
}

/// `filter=...`: experiments using a flag or metric, or in a status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExperimentFilter {
    /// Only experiments whose iterations use this flag.
    pub flag_key: Option<String>,
    /// Only experiments whose iterations use this metric.
    pub metric_key: Option<String>,
    /// Only experiments in this status (`not_started`, `running`, `stopped`).
    pub status: Option<String>,
}

impl ExperimentFilter {
    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.flag_key.is_none() && self.metric_key.is_none() && self.status.is_none()
    }

    /// `flagKey:k,metricKey:m,status:s`, unencoded.
    fn to_query_value(&self) -> String {
        let parts = [("flagKey", &self.flag_key), ("metricKey", &self.metric_key), ("status", &self.status)];
        let terms: Vec<String> =
            parts.iter().filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}:{v}"))).collect();
        terms.join(",")
    }
}

/// Paging, filtering and expansion of a list of experiments.
///
/// Build with `..ListParams::default()` so that new parameters do not break
/// callers that set only some.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Page size; the server's default is 20, its maximum 50.
    pub limit: Option<u32>,
    /// How many experiments to skip.
    pub offset: Option<u32>,
    /// Which experiments.
    pub filter: ExperimentFilter,
    /// Which optional parts each experiment carries.
    pub expand: Expand,
    /// Active, archived or both; `None` leaves the server's default (active).
    pub lifecycle_state: Option<LifecycleState>,
}

impl ListParams {
    /// The query string (without `?`), every value percent-encoded; empty
    /// when nothing is set.
    pub(crate) fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(offset) = self.offset {
            pairs.push(("offset", offset.to_string()));
        }
        if !self.filter.is_empty() {
            pairs.push(("filter", self.filter.to_query_value()));
        }
        if !self.expand.is_empty() {
            pairs.push(("expand", self.expand.to_query_value()));
        }
        if let Some(state) = self.lifecycle_state {
            pairs.push(("lifecycleState", state.as_query_value().to_owned()));
        }
        join_query(&pairs)
    }
}

/// `name=value&...` with each value percent-encoded.
pub(crate) fn join_query(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters, and the
/// `,` and `:` that the API's `filter` and `expand` syntax uses (both are
/// allowed verbatim in a query and a path segment).
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b',' | b':') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_joins_names_in_documented_order() {
        let expand = Expand::TREATMENTS | Expand::DRAFT_ITERATION;
        assert_eq!(expand.to_query_value(), "draftIteration,treatments");
        assert_eq!(
            Expand::ALL.to_query_value(),
            "draftIteration,previousIterations,treatments,secondaryMetrics,analysisConfig,mutableFieldsByStatus"
        );
        assert_eq!(Expand::from_name("analysisConfig"), Some(Expand::ANALYSIS_CONFIG));
        assert_eq!(Expand::from_name("nope"), None);
    }

    #[test]
    fn list_query_has_every_parameter() {
        let params = ListParams {
            limit: Some(5),
            offset: Some(10),
            filter: ExperimentFilter {
                flag_key: Some("example-flag".into()),
                metric_key: None,
                status: Some("running".into()),
            },
            expand: Expand::DRAFT_ITERATION,
            lifecycle_state: Some(LifecycleState::All),
        };
        assert_eq!(
            params.to_query(),
            "limit=5&offset=10&filter=flagKey:example-flag,status:running&expand=draftIteration\
             &lifecycleState=active,archived"
        );
        assert_eq!(ListParams::default().to_query(), "");
    }

    #[test]
    fn percent_encoding_keeps_unreserved_and_escapes_the_rest() {
        assert_eq!(percent_encode("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(percent_encode("a b/c?d&e=é"), "a%20b%2Fc%3Fd%26e%3D%C3%A9");
    }
}
