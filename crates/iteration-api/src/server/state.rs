//! What every request shares: the store, the world, the clock, the ID
//! generator, the journal, the injected faults and the rate limiter.
//!
//! It lives apart from the pipeline (`app.rs`) that owns it and the
//! handlers (`handlers/`, `admin.rs`) that read it, so that those import
//! it and not each other: the pipeline calls the handlers, and nothing
//! calls back.

use std::sync::{Arc, PoisonError, RwLock};

use crate::server::clock::Clock;
use crate::server::faults::Faults;
use crate::server::ids::IdGenerator;
use crate::server::journal::Journal;
use crate::server::rate_limit::RateLimiter;
use crate::server::store::Store;
use crate::server::world::World;

/// The state an `App` shares with every request it answers.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    /// The world requests are answered in; `PUT /_iteration/state` replaces it.
    world: RwLock<Arc<World>>,
    /// The world the app started in, which `POST /_iteration/reset` restores.
    seed: Arc<World>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Shared with changes the store decides away from their request.
    pub(crate) ids: Arc<IdGenerator>,
    pub(crate) journal: Journal,
    pub(crate) faults: Faults,
    pub(crate) limiter: RateLimiter,
    /// Whether the benchmarks' baseline route exists.
    pub(crate) bench_baseline: bool,
}

impl Shared {
    /// The state of an app that starts in `world`, with `journal` (empty)
    /// and no faults.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        world: Arc<World>,
        clock: Arc<dyn Clock>,
        ids: IdGenerator,
        journal: Journal,
        limiter: RateLimiter,
        bench_baseline: bool,
    ) -> Shared {
        Shared {
            store,
            world: RwLock::new(Arc::clone(&world)),
            seed: world,
            clock,
            ids: Arc::new(ids),
            journal,
            faults: Faults::default(),
            limiter,
            bench_baseline,
        }
    }

    /// The world as it is now.
    pub(crate) fn world(&self) -> Arc<World> {
        // Replacing an `Arc` cannot leave the lock's value half-written.
        Arc::clone(&self.world.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn set_world(&self, world: Arc<World>) {
        *self.world.write().unwrap_or_else(PoisonError::into_inner) = world;
    }

    /// The world the app started in.
    pub(crate) fn seed(&self) -> Arc<World> {
        Arc::clone(&self.seed)
    }
}
