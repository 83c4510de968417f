//! Starting a store: the world's experiments go in once, and the world is
//! stored with the data so a restart without a world file still knows it.

use crate::server::store::{Store, StoreError};
use crate::server::world::World;

/// Saves `world` in `store` and inserts its seed experiments that are not
/// there yet; returns how many were inserted. Running it again on the same
/// store changes nothing that requests changed since.
pub async fn seed_store(store: &dyn Store, world: &World) -> Result<usize, StoreError> {
    store.save_world(world).await?;
    let mut inserted = 0;
    for record in world.seed_experiments() {
        match store.insert(record).await {
            Ok(_) => inserted += 1,
            Err(StoreError::KeyExists { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(inserted)
}
