//! What the SQLite store keeps of the experiments in memory: a bounded
//! cache of recently used records, and per listed project an index of
//! creation order and [`Summary`], so that a list page reads only its page.

use std::collections::HashMap;
use std::mem;
use std::sync::Arc;

use super::super::{ExperimentRecord, PageQuery, Summary, Versioned};

/// The key of an experiment in the cache: project, environment and key,
/// joined by a byte none of them may hold.
pub(super) fn cache_key(project: &str, environment: &str, key: &str) -> String {
    let mut joined = String::with_capacity(project.len() + environment.len() + key.len() + 2);
    joined.push_str(project);
    joined.push('\0');
    joined.push_str(environment);
    joined.push('\0');
    joined.push_str(key);
    joined
}

/// Recently used records, at most `capacity` of them.
///
/// Two generations approximate "least recently used" at the cost of a hash
/// lookup: records are added to the young one; when it holds half the
/// capacity it becomes the old one and the old one is dropped; a record
/// found in the old generation moves back to the young one. So a record
/// used again within about half the capacity's worth of other records
/// stays, and the cache never holds more than `capacity`.
///
/// It also counts the commits published into it, so that a reader that
/// read a record from the database while a commit was published (and so
/// may hold an older version than the commit's) does not cache it.
#[derive(Debug)]
pub(super) struct Cache {
    capacity: usize,
    young: HashMap<String, Versioned<Arc<ExperimentRecord>>>,
    old: HashMap<String, Versioned<Arc<ExperimentRecord>>>,
    published: u64,
}

/// What the cache let go of (a generation dropped by a rotation, the
/// versions a commit replaced), to be dropped after the cache's lock is
/// released: dropping a record frees every part of it, and under the lock
/// every reader of the cache would wait for that.
#[derive(Debug, Default)]
#[must_use = "dropped under the cache's lock, it makes every reader wait"]
pub(super) struct Evicted {
    generations: Vec<HashMap<String, Versioned<Arc<ExperimentRecord>>>>,
    records: Vec<Versioned<Arc<ExperimentRecord>>>,
}

impl Evicted {
    pub(super) fn new() -> Evicted {
        Evicted::default()
    }

    /// Adds what `other` let go of.
    pub(super) fn extend(&mut self, other: Evicted) {
        self.generations.extend(other.generations);
        self.records.extend(other.records);
    }
}

impl Cache {
    pub(super) fn new(capacity: usize) -> Cache {
        Cache { capacity, young: HashMap::new(), old: HashMap::new(), published: 0 }
    }

    /// How many commits have been published.
    pub(super) fn published(&self) -> u64 {
        self.published
    }

    /// The record under `key`, if cached.
    pub(super) fn get(&mut self, key: &str) -> (Option<Versioned<Arc<ExperimentRecord>>>, Evicted) {
        if let Some(found) = self.young.get(key) {
            return (Some(found.clone()), Evicted::new());
        }
        match self.old.remove_entry(key) {
            Some((key, found)) => {
                let evicted = self.put_young(key, found.clone());
                (Some(found), evicted)
            }
            None => (None, Evicted::new()),
        }
    }

    /// Caches `record`, read from the database when `published` commits
    /// had been published, unless a commit was published since: the record
    /// may then be older than the one that commit wrote.
    pub(super) fn offer(
        &mut self,
        published: u64,
        key: String,
        record: Versioned<Arc<ExperimentRecord>>,
    ) -> Evicted {
        if published != self.published {
            return Evicted::new();
        }
        self.put_young(key, record)
    }

    /// Caches a record a commit wrote (replacing any older version).
    pub(super) fn publish(&mut self, key: String, record: Versioned<Arc<ExperimentRecord>>) -> Evicted {
        let older = self.old.remove(&key);
        let mut evicted = self.put_young(key, record);
        evicted.records.extend(older);
        evicted
    }

    /// Counts a commit as published, once its records are.
    pub(super) fn published_one(&mut self) {
        self.published += 1;
    }

    /// Forgets every record (the store was replaced), and counts that as a
    /// commit; returns them, to be dropped after the lock is released.
    pub(super) fn clear(&mut self) -> Evicted {
        self.published += 1;
        Evicted {
            generations: vec![mem::take(&mut self.young), mem::take(&mut self.old)],
            records: Vec::new(),
        }
    }

    fn put_young(&mut self, key: String, record: Versioned<Arc<ExperimentRecord>>) -> Evicted {
        if self.capacity == 0 {
            return Evicted::new();
        }
        let replaced = self.young.insert(key, record);
        let mut evicted = Evicted { generations: Vec::new(), records: replaced.into_iter().collect() };
        if self.young.len() >= self.capacity.div_ceil(2) {
            let young = mem::take(&mut self.young);
            evicted.generations.push(mem::replace(&mut self.old, young));
        }
        evicted
    }
}

/// Every experiment of one project by creation order, grouped by
/// environment and [`Summary`]: each group a sorted list of creation
/// orders, 8 bytes an experiment, so a million fit in a few MiB.
///
/// A query selects whole groups, so its total is the sum of their lengths,
/// and its page is found by binary search, not by walking every
/// experiment: the page's first order is the smallest order with more than
/// `offset` selected experiments at or before it.
#[derive(Debug, Default)]
pub(super) struct Listing {
    environments: Vec<Box<str>>,
    groups: HashMap<(u32, Summary), Vec<i64>>,
}

impl Listing {
    /// Adds the experiment with creation order `order`, or moves it to the
    /// group of its new environment and summary.
    pub(super) fn set(&mut self, order: i64, environment: &str, summary: Summary) {
        let group = (self.environment(environment), summary);
        // A change of summary moves the order; the groups are few, so each
        // is searched rather than keeping where every order is.
        for (at_group, orders) in &mut self.groups {
            if let Ok(at) = orders.binary_search(&order) {
                if *at_group == group {
                    return;
                }
                orders.remove(at);
                break;
            }
        }
        let orders = self.groups.entry(group).or_default();
        // Inserts come with a larger order than any before: a push.
        match orders.last() {
            Some(&last) if last > order => {
                let at = orders.partition_point(|&o| o < order);
                orders.insert(at, order);
            }
            _ => orders.push(order),
        }
    }

    fn environment(&mut self, environment: &str) -> u32 {
        match self.environments.iter().position(|e| &**e == environment) {
            Some(at) => at as u32,
            None => {
                self.environments.push(environment.into());
                (self.environments.len() - 1) as u32
            }
        }
    }

    /// The creation orders of the page `query` asks for (which must have
    /// no [`PageQuery::keep`]), and how many experiments it selects.
    pub(super) fn page(&self, query: &PageQuery<'_>) -> (Vec<i64>, usize) {
        let selected: Vec<&[i64]> = self
            .groups
            .iter()
            .filter(|((environment, summary), _)| {
                query.admits(&self.environments[*environment as usize], *summary)
            })
            .map(|(_, orders)| orders.as_slice())
            .filter(|orders| !orders.is_empty())
            .collect();
        let total = selected.iter().map(|orders| orders.len()).sum();
        if query.offset >= total || query.limit == 0 {
            return (Vec::new(), total);
        }
        // How many selected experiments have an order below `order`.
        let below =
            |order: i64| -> usize { selected.iter().map(|o| o.partition_point(|&x| x < order)).sum() };
        // The page starts at the largest order with at most `offset` below it.
        let (mut low, mut high) = (
            selected.iter().map(|o| o[0]).min().unwrap_or(0),
            selected.iter().map(|o| o[o.len() - 1]).max().unwrap_or(0),
        );
        while low < high {
            let middle = low + (high - low + 1) / 2;
            if below(middle) <= query.offset {
                low = middle;
            } else {
                high = middle - 1;
            }
        }
        // Merge the groups from there.
        let mut cursors: Vec<&[i64]> =
            selected.iter().map(|o| &o[o.partition_point(|&x| x < low)..]).collect();
        let mut page = Vec::with_capacity(query.limit.min(total - query.offset));
        while page.len() < query.limit {
            let Some((next, _)) = cursors
                .iter()
                .enumerate()
                .filter_map(|(i, o)| o.first().map(|&x| (i, x)))
                .min_by_key(|&(_, x)| x)
            else {
                break;
            };
            page.push(cursors[next][0]);
            cursors[next] = &cursors[next][1..];
        }
        (page, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str) -> Versioned<Arc<ExperimentRecord>> {
        let experiment = serde_json::from_value(serde_json::json!({
            "key": key, "name": key, "_maintainerId": "m", "_creationDate": 0, "environmentKey": "production", "_links": {},
        }))
        .unwrap();
        Versioned {
            version: 1,
            value: Arc::new(ExperimentRecord {
                project_key: "p".to_owned(),
                environment_key: "production".to_owned(),
                experiment,
            }),
        }
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity_and_keeps_what_is_used() {
        let mut cache = Cache::new(4);
        for i in 0..100 {
            let _ = cache.publish(format!("k{i}"), record("x"));
            // k0 is used after every insert, so it stays.
            assert!(cache.get("k0").0.is_some(), "k0 evicted after {i}");
            assert!(cache.young.len() + cache.old.len() <= 4);
        }
        assert!(cache.get("k1").0.is_none(), "k1 was used once, long ago");
    }

    #[test]
    fn a_record_read_while_a_commit_was_published_is_not_cached() {
        let mut cache = Cache::new(8);
        let seen = cache.published();
        cache.published_one();
        let _ = cache.offer(seen, "k".to_owned(), record("old"));
        assert!(cache.get("k").0.is_none());
        let _ = cache.offer(cache.published(), "k".to_owned(), record("new"));
        assert!(cache.get("k").0.is_some());
    }

    #[test]
    fn a_cache_of_capacity_zero_holds_nothing() {
        let mut cache = Cache::new(0);
        let _ = cache.publish("k".to_owned(), record("x"));
        assert!(cache.get("k").0.is_none());
    }

    /// The page a walk over every experiment in order would give.
    fn walked(all: &[(i64, &str, Summary)], query: &PageQuery<'_>) -> (Vec<i64>, usize) {
        let selected: Vec<i64> =
            all.iter().filter(|(_, e, s)| query.admits(e, *s)).map(|(order, _, _)| *order).collect();
        let page = selected.iter().skip(query.offset).take(query.limit).copied().collect();
        (page, selected.len())
    }

    #[test]
    fn a_page_found_by_search_is_the_page_a_walk_finds() {
        use super::super::super::Status;
        let statuses = [Status::NotStarted, Status::Running, Status::Stopped];
        let mut all = Vec::new();
        let mut listing = Listing::default();
        // Orders with gaps, in several groups, some changed after they were added.
        for i in 0..300_i64 {
            let order = i * 3 + (i % 2);
            let environment = ["production", "test", "staging"][(i % 3) as usize];
            let summary = Summary {
                archived: i % 7 == 0,
                holdout: i % 11 == 0,
                status: statuses[(i % 5 % 3) as usize],
            };
            listing.set(order, environment, summary);
            all.push((order, environment, summary));
        }
        for entry in all.iter_mut().filter(|(order, _, _)| order % 4 == 0) {
            entry.2.archived = !entry.2.archived;
            listing.set(entry.0, entry.1, entry.2);
        }
        for environment in [None, Some("production"), Some("test")] {
            for (active, archived) in [(true, false), (false, true), (true, true)] {
                for status in [None, Some(Status::Running)] {
                    for (offset, limit) in
                        [(0, 20), (0, 1), (7, 13), (99, 50), (150, 20), (400, 20), (0, 500)]
                    {
                        let query = PageQuery {
                            environment,
                            active,
                            archived,
                            holdouts: environment.is_none(),
                            status,
                            keep: None,
                            offset,
                            limit,
                        };
                        assert_eq!(listing.page(&query), walked(&all, &query), "{query:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_listing_pages_by_summary_and_environment() {
        let active =
            Summary { archived: false, holdout: false, status: super::super::super::Status::NotStarted };
        let archived = Summary { archived: true, ..active };
        let mut listing = Listing::default();
        for order in 1..=10 {
            let environment = if order % 2 == 0 { "production" } else { "test" };
            listing.set(order, environment, if order == 4 { archived } else { active });
        }
        let query = PageQuery {
            environment: Some("production"),
            active: true,
            archived: false,
            holdouts: false,
            status: None,
            keep: None,
            offset: 1,
            limit: 2,
        };
        assert_eq!(listing.page(&query), (vec![6, 8], 4));
        // A change of summary is found by its order.
        listing.set(4, "production", active);
        assert_eq!(listing.page(&query), (vec![4, 6], 5));
    }
}
