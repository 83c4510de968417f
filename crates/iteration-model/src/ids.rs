//! Where the IDs of new iterations, experiments and treatments come from.
//!
//! Resolution is pure, so it does not make IDs up: the caller passes an
//! [`IdSource`]. A server passes a random one; tests and fixtures pass
//! [`SequentialIds`], so that the same input always resolves to the same JSON.

/// A supply of fresh IDs.
pub trait IdSource {
    /// A fresh object ID, for iterations and experiments: 24 lowercase hex
    /// characters, such as `12ab3c45de678910abc12345`.
    fn object_id(&mut self) -> String;

    /// A fresh UUID, for treatments: RFC 4122 version 4 text, such as
    /// `122c9f3e-da26-4321-ba68-e0fc02eced58`.
    fn uuid(&mut self) -> String;
}

/// Deterministic IDs from a seed and a counter, in the formats of
/// [`IdSource`]: the same seed gives the same sequence, and no two IDs of one
/// source are equal.
///
/// ```
/// use iteration_model::{IdSource, SequentialIds};
///
/// let mut ids = SequentialIds::new(1);
/// assert_eq!(ids.object_id(), "000000000000000100000001");
/// assert_eq!(ids.uuid(), "00000000-0001-4000-8000-000000000002");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequentialIds {
    seed: u64,
    counter: u64,
}

impl SequentialIds {
    /// A source whose IDs carry `seed`, counting from 1.
    pub fn new(seed: u64) -> SequentialIds {
        SequentialIds { seed, counter: 0 }
    }

    fn next(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        self.counter
    }
}

impl IdSource for SequentialIds {
    /// The seed in 16 hex digits, then the counter in 8.
    fn object_id(&mut self) -> String {
        let n = self.next();
        format!("{:016x}{:08x}", self.seed, n & 0xffff_ffff)
    }

    /// The seed's low 48 bits in the first groups and the counter in the
    /// last, with the version (4) and variant (`10`) bits RFC 4122 requires.
    fn uuid(&mut self) -> String {
        let n = self.next();
        let seed = self.seed & 0xffff_ffff_ffff;
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            seed >> 16,
            seed & 0xffff,
            (n >> 62) & 0x3,
            0x8000 | ((n >> 48) & 0x3fff),
            n & 0xffff_ffff_ffff,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_uuid_v4(text: &str) -> bool {
        let groups: Vec<&str> = text.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        lengths == [8, 4, 4, 4, 12]
            && text.bytes().all(|b| b == b'-' || matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && groups[2].starts_with('4')
            && groups[3].starts_with(['8', '9', 'a', 'b'])
    }

    #[test]
    fn ids_have_the_documented_formats_and_differ() {
        let mut ids = SequentialIds::new(0xdead_beef_cafe_f00d);
        let object_ids: Vec<String> = (0..3).map(|_| ids.object_id()).collect();
        assert_eq!(
            object_ids,
            ["deadbeefcafef00d00000001", "deadbeefcafef00d00000002", "deadbeefcafef00d00000003"]
        );
        let uuids: Vec<String> = (0..3).map(|_| ids.uuid()).collect();
        assert_eq!(uuids[0], "beefcafe-f00d-4000-8000-000000000004");
        assert!(uuids.iter().all(|u| is_uuid_v4(u)), "{uuids:?}");
        assert_ne!(uuids[1], uuids[2]);
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SequentialIds::new(7);
        let mut b = SequentialIds::new(7);
        assert_eq!((a.object_id(), a.uuid()), (b.object_id(), b.uuid()));
    }

    #[test]
    fn counter_bits_beyond_the_node_stay_valid() {
        let mut ids = SequentialIds { seed: u64::MAX, counter: u64::MAX - 1 };
        let uuid = ids.uuid();
        assert_eq!(uuid, "ffffffff-ffff-4003-bfff-ffffffffffff");
        assert!(is_uuid_v4(&uuid));
    }
}
