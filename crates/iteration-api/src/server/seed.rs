//! Starting a store: the world's catalogs and experiments go in once, and
//! the world is stored with the data so a restart without a world file
//! still knows it.

use crate::server::store::{CatalogExpectation, Store, StoreError};
use crate::server::world::World;

/// Saves `world` in `store`, stores the live catalog of each project that
/// has none yet, and inserts the seed experiments that are not there yet;
/// returns how many experiments were inserted. Running it again on the same
/// store changes nothing that requests changed since.
pub async fn seed_store(store: &dyn Store, world: &World) -> Result<usize, StoreError> {
    store.save_world(world).await?;
    for catalog in world.seed_catalogs() {
        if store.catalog(&catalog.key).await?.is_some() {
            continue;
        }
        let absent = CatalogExpectation { version: 0, generation: None };
        match store.put_catalog(absent, catalog).await {
            // Another seeder got there first: its catalog stands.
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    let mut inserted = 0;
    for record in world.seed_experiments() {
        match store.insert(record, None).await {
            Ok(_) => inserted += 1,
            Err(StoreError::KeyExists { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(inserted)
}
