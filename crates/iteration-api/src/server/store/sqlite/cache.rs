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

/// What a cache rotation or replacement let go of, to be dropped after
/// the cache's lock is released.
pub(super) type Evicted = HashMap<String, Versioned<Arc<ExperimentRecord>>>;

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
        self.old.remove(&key);
        self.put_young(key, record)
    }

    /// Counts a commit as published, once its records are.
    pub(super) fn published_one(&mut self) {
        self.published += 1;
    }

    /// Forgets every record (the store was replaced), and counts that as a
    /// commit; returns them, to be dropped after the lock is released.
    pub(super) fn clear(&mut self) -> (Evicted, Evicted) {
        self.published += 1;
        (mem::take(&mut self.young), mem::take(&mut self.old))
    }

    fn put_young(&mut self, key: String, record: Versioned<Arc<ExperimentRecord>>) -> Evicted {
        if self.capacity == 0 {
            return Evicted::new();
        }
        self.young.insert(key, record);
        if self.young.len() >= self.capacity.div_ceil(2) {
            let young = mem::take(&mut self.young);
            return mem::replace(&mut self.old, young);
        }
        Evicted::new()
    }
}

/// One experiment in a [`Listing`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Listed {
    /// Its row's creation order (the rowid).
    pub(super) order: i64,
    /// Its environment, an index into [`Listing::environments`].
    environment: u32,
    summary: Summary,
}

/// Every experiment of one project by creation order, with its
/// environment and [`Summary`]: about 24 bytes each, so a million fit in a
/// few tens of MiB, where their records would take several GiB.
#[derive(Debug, Default)]
pub(super) struct Listing {
    environments: Vec<Box<str>>,
    listed: Vec<Listed>,
}

impl Listing {
    /// Adds or changes the experiment with creation order `order`.
    pub(super) fn set(&mut self, order: i64, environment: &str, summary: Summary) {
        let environment = self.environment(environment);
        let listed = Listed { order, environment, summary };
        // Inserts come with a larger order than any before; so the common
        // case is a push.
        match self.listed.last() {
            Some(last) if last.order < order => self.listed.push(listed),
            None => self.listed.push(listed),
            Some(_) => match self.listed.binary_search_by_key(&order, |l| l.order) {
                Ok(at) => self.listed[at] = listed,
                Err(at) => self.listed.insert(at, listed),
            },
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
        let mut total = 0;
        let mut page = Vec::with_capacity(query.limit.min(64));
        for listed in &self.listed {
            let environment = &self.environments[listed.environment as usize];
            if query.admits(environment, listed.summary) {
                if total >= query.offset && page.len() < query.limit {
                    page.push(listed.order);
                }
                total += 1;
            }
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
