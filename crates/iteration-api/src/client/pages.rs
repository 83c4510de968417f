//! Walking every page of a list.
//!
//! An async `next()` rather than a `Stream`, so that the crate needs no
//! futures dependency: `while let Some(page) = pages.next().await? { ... }`.
//! Every list's pager (experiments here; flags, metrics and metric groups
//! in their modules) keeps its place with one [`Cursor`], so they all stop
//! the same way.

use iteration_model::ExperimentCollectionRep;

use super::{Client, Error, ListParams};

/// A page of a list, as a [`Cursor`] needs to see it.
pub(crate) trait Page {
    /// How many items the page holds.
    fn item_count(&self) -> usize;
    /// How many items match in all, when the server says.
    fn total_count(&self) -> Option<i64>;
}

/// Where a walk through pages is: the next offset, and whether it is over.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    offset: u32,
    limit: Option<u32>,
    done: bool,
}

impl Cursor {
    /// A walk from `offset` (default 0) in pages of `limit` (default: the server's).
    pub(crate) fn new(offset: Option<u32>, limit: Option<u32>) -> Cursor {
        Cursor { offset: offset.unwrap_or(0), limit, done: false }
    }

    /// The offset of the page to fetch next, or `None` after the last one.
    pub(crate) fn next_offset(&self) -> Option<u32> {
        (!self.done).then_some(self.offset)
    }

    /// Takes in the page fetched at [`Cursor::next_offset`]: the page, or
    /// `None` when it was empty. An error ends the walk, since fetching
    /// again would repeat it.
    pub(crate) fn record<P: Page>(&mut self, page: Result<P, Error>) -> Result<Option<P>, Error> {
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                self.done = true;
                return Err(error);
            }
        };
        let count = u32::try_from(page.item_count()).unwrap_or(u32::MAX);
        self.offset = self.offset.saturating_add(count);
        self.done = is_last(page.total_count(), self.offset, count, self.limit);
        if count == 0 { Ok(None) } else { Ok(Some(page)) }
    }
}

/// Whether no page follows: an empty page, the total reached, or (when the
/// server gives no total) a short page.
fn is_last(total: Option<i64>, next_offset: u32, count: u32, limit: Option<u32>) -> bool {
    if count == 0 {
        return true;
    }
    match total {
        Some(total) => i64::from(next_offset) >= total,
        None => limit.is_some_and(|limit| count < limit),
    }
}

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
        let cursor = Cursor::new(self.params.offset, self.params.limit);
        ExperimentPages { query: self, cursor }
    }
}

/// Pages of experiments, fetched one request at a time.
#[derive(Debug)]
pub struct ExperimentPages<'a> {
    query: ExperimentQuery<'a>,
    cursor: Cursor,
}

impl ExperimentPages<'_> {
    /// The next page, or `None` after the last one.
    pub async fn next(&mut self) -> Result<Option<ExperimentCollectionRep>, Error> {
        let Some(offset) = self.cursor.next_offset() else { return Ok(None) };
        let params = ListParams { offset: Some(offset), ..self.query.params.clone() };
        let client = self.query.client;
        let page = match &self.query.environment {
            Some(environment) => client.list_experiments(&self.query.project, environment, &params).await,
            None => client.list_project_experiments(&self.query.project, &params).await,
        };
        self.cursor.record(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(usize, Option<i64>);
    impl Page for Fake {
        fn item_count(&self) -> usize {
            self.0
        }
        fn total_count(&self) -> Option<i64> {
            self.1
        }
    }

    #[test]
    fn a_walk_stops_at_the_total() {
        let mut cursor = Cursor::new(None, Some(2));
        assert_eq!(cursor.next_offset(), Some(0));
        assert!(cursor.record(Ok(Fake(2, Some(3)))).unwrap().is_some());
        assert_eq!(cursor.next_offset(), Some(2));
        assert!(cursor.record(Ok(Fake(1, Some(3)))).unwrap().is_some());
        assert_eq!(cursor.next_offset(), None);
    }

    #[test]
    fn without_a_total_a_short_or_empty_page_is_the_last() {
        let mut cursor = Cursor::new(Some(4), Some(2));
        assert!(cursor.record(Ok(Fake(2, None))).unwrap().is_some());
        assert_eq!(cursor.next_offset(), Some(6));
        assert!(cursor.record(Ok(Fake(1, None))).unwrap().is_some());
        assert_eq!(cursor.next_offset(), None);

        let mut cursor = Cursor::new(None, None);
        assert!(cursor.record(Ok(Fake(0, None))).unwrap().is_none());
        assert_eq!(cursor.next_offset(), None);
    }

    #[test]
    fn an_error_ends_the_walk() {
        let mut cursor = Cursor::new(None, None);
        assert!(cursor.record::<Fake>(Err(Error::Config("x".into()))).is_err());
        assert_eq!(cursor.next_offset(), None);
    }
}
