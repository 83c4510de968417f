//! Walking every page of a list of experiments.
//!
//! An async `next()` rather than a `Stream`, so that the crate needs no
//! futures dependency: `while let Some(page) = pages.next().await? { ... }`.

use iteration_model::ExperimentCollectionRep;

use super::{Client, Error, ListParams};

/// The experiments of a project or environment, made by [`Client::experiments`].
#[derive(Debug, Clone)]
pub struct ExperimentQuery<'a> {
    client: &'a Client,
    project: String,
    environment: Option<String>,
    params: ListParams,
}

impl<'a> ExperimentQuery<'a> {
    pub(crate) fn new(
        client: &'a Client,
        project: &str,
        environment: Option<&str>,
        params: ListParams,
    ) -> Self {
        Self { client, project: project.to_owned(), environment: environment.map(str::to_owned), params }
    }

    /// Every page, from `params.offset` on, `params.limit` experiments each.
    pub fn pages(self) -> ExperimentPages<'a> {
        let offset = self.params.offset.unwrap_or(0);
        ExperimentPages { query: self, offset, done: false }
    }
}

/// Pages of experiments, fetched one request at a time.
#[derive(Debug)]
pub struct ExperimentPages<'a> {
    query: ExperimentQuery<'a>,
    offset: u32,
    done: bool,
}

impl ExperimentPages<'_> {
    /// The next page, or `None` after the last one.
    pub async fn next(&mut self) -> Result<Option<ExperimentCollectionRep>, Error> {
        if self.done {
            return Ok(None);
        }
        let params = ListParams { offset: Some(self.offset), ..self.query.params.clone() };
        let client = self.query.client;
        let page = match &self.query.environment {
            Some(environment) => client.list_experiments(&self.query.project, environment, &params).await,
            None => client.list_project_experiments(&self.query.project, &params).await,
        };
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                // An error ends the walk: calling again would repeat it.
                self.done = true;
                return Err(error);
            }
        };
        let count = u32::try_from(page.items.len()).unwrap_or(u32::MAX);
        self.offset = self.offset.saturating_add(count);
        self.done = is_last(&page, self.offset, count, params.limit);
        if count == 0 { Ok(None) } else { Ok(Some(page)) }
    }
}

/// Whether no page follows: an empty page, the total reached, or (when the
/// server gives no total) a short page.
fn is_last(page: &ExperimentCollectionRep, next_offset: u32, count: u32, limit: Option<u32>) -> bool {
    if count == 0 {
        return true;
    }
    match page.total_count {
        Some(total) => i64::from(next_offset) >= total,
        None => limit.is_some_and(|limit| count < limit),
    }
}
