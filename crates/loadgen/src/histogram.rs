//! Latencies in a fixed-size log-linear histogram.
//!
//! A run at tens of thousands of requests per second would otherwise keep
//! every latency; the histogram keeps counts in 1,728 buckets instead, each
//! value within 1/64 (1.6%) of the recorded one: exact below 128 µs, then
//! 64 buckets per power of two up to 2^32 µs (71 minutes).

/// Values below this are counted exactly.
const EXACT: u64 = 128;
/// Buckets per power of two above [`EXACT`].
const SUB_BUCKETS: u64 = 64;
const BUCKETS: usize = (EXACT + 25 * SUB_BUCKETS) as usize;

/// Counts of latencies in microseconds.
pub(crate) struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram { counts: Box::new([0; BUCKETS]), total: 0 }
    }
}

fn index(micros: u64) -> usize {
    let micros = micros.min(u64::from(u32::MAX));
    if micros < EXACT {
        return micros as usize;
    }
    let shift = u64::from(63 - micros.leading_zeros()) - 6;
    let sub = micros >> shift;
    (EXACT + (shift - 1) * SUB_BUCKETS + (sub - SUB_BUCKETS)) as usize
}

/// The middle of bucket `index`'s range of values.
fn value(index: usize) -> f64 {
    let index = index as u64;
    if index < EXACT {
        return index as f64;
    }
    let k = index - EXACT;
    let shift = k / SUB_BUCKETS + 1;
    let sub = k % SUB_BUCKETS + SUB_BUCKETS;
    let low = sub << shift;
    let high = ((sub + 1) << shift) - 1;
    (low + high) as f64 / 2.0
}

impl Histogram {
    pub(crate) fn record(&mut self, micros: u64) {
        self.counts[index(micros)] += 1;
        self.total += 1;
    }

    pub(crate) fn count(&self) -> u64 {
        self.total
    }

    pub(crate) fn add(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    /// The latency at percentile `p` (0–100), in microseconds; 0 when empty.
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return value(i);
            }
        }
        value(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_within_its_precision() {
        let mut v = 0u64;
        while v < u64::from(u32::MAX) {
            let i = index(v);
            assert!(i < BUCKETS, "{v} → {i}");
            let back = value(i);
            assert!((back - v as f64).abs() <= v as f64 / 64.0 + 0.5, "{v} → {i} → {back}");
            v = v * 9 / 8 + 1;
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn buckets_are_ordered_and_contiguous() {
        for v in 1..100_000u64 {
            let (a, b) = (index(v - 1), index(v));
            assert!(b == a || b == a + 1, "{v}: {a} then {b}");
        }
    }

    #[test]
    fn percentiles_by_rank() {
        let mut h = Histogram::default();
        for v in 1..=100 {
            h.record(v);
        }
        assert_eq!(h.percentile(50.0), 50.0);
        assert_eq!(h.percentile(99.0), 99.0);
        assert_eq!(h.percentile(100.0), 100.0);
        let mut other = Histogram::default();
        other.record(10_000);
        h.add(&other);
        assert_eq!(h.count(), 101);
        assert!((h.percentile(100.0) - 10_000.0).abs() < 10_000.0 / 64.0);
        assert_eq!(Histogram::default().percentile(99.0), 0.0);
    }
}
