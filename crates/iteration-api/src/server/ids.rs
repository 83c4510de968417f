//! Fresh identifiers: 24-hex-digit object ids for experiments and
//! iterations, version-4 UUIDs for treatments and request ids.

use std::sync::Mutex;

/// A shared random source of ids; seed it for reproducible tests.
#[derive(Debug)]
pub(crate) struct IdGenerator {
    rng: Mutex<fastrand::Rng>,
}

impl IdGenerator {
    pub(crate) fn new(seed: Option<u64>) -> IdGenerator {
        let rng = seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        IdGenerator { rng: Mutex::new(rng) }
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut fastrand::Rng) -> T) -> T {
        // A panic while holding the lock cannot leave the generator in a bad
        // state (any state of the generator is valid), so a poisoned lock is used as is.
        let mut rng = self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut rng)
    }

    /// 24 lowercase hex digits, the form of LaunchDarkly's object ids.
    pub(crate) fn object_id(&self) -> String {
        let bytes: [u8; 12] = self.with_rng(|rng| std::array::from_fn(|_| rng.u8(..)));
        hex(&bytes)
    }

    /// A random (version 4) UUID.
    pub(crate) fn uuid(&self) -> String {
        let mut bytes: [u8; 16] = self.with_rng(|rng| std::array::from_fn(|_| rng.u8(..)));
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let mut id = String::with_capacity(36);
        for (i, group) in
            [&bytes[0..4], &bytes[4..6], &bytes[6..8], &bytes[8..10], &bytes[10..16]].into_iter().enumerate()
        {
            if i > 0 {
                id.push('-');
            }
            push_hex(&mut id, group);
        }
        id
    }
}

/// Resolution takes ids from a `&mut dyn IdSource`; a shared reference to
/// the generator is one, so concurrent requests need not clone it.
impl iteration_model::IdSource for &IdGenerator {
    fn object_id(&mut self) -> String {
        IdGenerator::object_id(self)
    }

    fn uuid(&mut self) -> String {
        IdGenerator::uuid(self)
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    push_hex(&mut hex, bytes);
    hex
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_24_hex_digits() {
        let ids = IdGenerator::new(Some(7));
        let id = ids.object_id();
        assert_eq!(id.len(), 24);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{id}");
    }

    #[test]
    fn uuids_are_version_4() {
        let ids = IdGenerator::new(Some(7));
        for _ in 0..100 {
            let id = ids.uuid();
            let parts: Vec<&str> = id.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
            assert!(parts[2].starts_with('4'), "{id}");
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{id}");
        }
    }
}
