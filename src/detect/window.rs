//! Fixed-size rings of time buckets: the only history the detector keeps per object.

/// The three counted signals, as indices into a bucket.
pub const WRITES: usize = 0;
pub const RECONCILES: usize = 1;
pub const EVENTS: usize = 2;

/// `N` buckets of `width_ms` each; bucket `i` covers `[i*width, (i+1)*width)`. Counts saturate.
/// The buckets are allocated on the first count: most objects a watch lists are never written.
#[derive(Clone, Debug)]
pub struct Ring<const N: usize> {
    /// Index of the newest bucket written (`i64::MIN` when empty).
    head: i64,
    buckets: Option<Box<[[u16; 3]; N]>>,
}

impl<const N: usize> Default for Ring<N> {
    fn default() -> Self {
        Ring { head: i64::MIN, buckets: None }
    }
}

impl<const N: usize> Ring<N> {
    const LEN: i64 = N as i64;

    /// Counts `n` of `signal` into bucket `idx`; a bucket older than the ring's span is dropped.
    #[inline]
    pub fn add(&mut self, idx: i64, signal: usize, n: u16) {
        let buckets = self.buckets.get_or_insert_with(|| Box::new([[0; 3]; N]));
        if self.head == i64::MIN {
            self.head = idx;
        } else if idx > self.head {
            let gap = (idx - self.head).min(Self::LEN);
            for k in 1..=gap {
                buckets[slot::<N>(self.head + k)] = [0; 3];
            }
            self.head = idx;
        } else if idx <= self.head - Self::LEN {
            return;
        }
        let b = &mut buckets[slot::<N>(idx)][signal];
        *b = b.saturating_add(n);
    }

    /// The count of bucket `idx` (0 outside the ring's span).
    #[inline]
    pub fn get(&self, idx: i64, signal: usize) -> u32 {
        match &self.buckets {
            Some(b) if idx <= self.head && idx > self.head - Self::LEN => {
                u32::from(b[slot::<N>(idx)][signal])
            }
            _ => 0,
        }
    }

    /// Sum of `signal` over buckets `from..=to`.
    pub fn sum(&self, from: i64, to: i64, signal: usize) -> u32 {
        let lo = from.max(self.head.saturating_sub(Self::LEN - 1));
        let hi = to.min(self.head);
        (lo..=hi).map(|i| self.get(i, signal)).sum()
    }

    /// One pass over buckets `from..=to`: the sum of each signal, the buckets with writes or
    /// passes, and the buckets with events.
    #[inline]
    pub fn scan(&self, from: i64, to: i64) -> Scan {
        let mut out = Scan::default();
        let Some(buckets) = &self.buckets else { return out };
        let lo = from.max(self.head - (Self::LEN - 1));
        let hi = to.min(self.head);
        if lo > hi {
            return out;
        }
        let mut slot = slot::<N>(lo);
        for _ in lo..=hi {
            let b = buckets[slot];
            out.sums[0] += u32::from(b[0]);
            out.sums[1] += u32::from(b[1]);
            out.sums[2] += u32::from(b[2]);
            out.busy += u32::from(b[0] > 0 || b[1] > 0);
            out.busy_events += u32::from(b[2] > 0);
            slot = if slot + 1 == N { 0 } else { slot + 1 };
        }
        out
    }

    /// Buckets in `from..=to` where any of `signals` is non-zero.
    pub fn busy(&self, from: i64, to: i64, signals: &[usize]) -> u32 {
        let lo = from.max(self.head.saturating_sub(Self::LEN - 1));
        let hi = to.min(self.head);
        (lo..=hi).filter(|&i| signals.iter().any(|&s| self.get(i, s) > 0)).count() as u32
    }
}

/// What [`Ring::scan`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub sums: [u32; 3],
    pub busy: u32,
    pub busy_events: u32,
}

#[inline]
fn slot<const N: usize>(idx: i64) -> usize {
    idx.rem_euclid(N as i64) as usize
}

/// A history of fixed size whose buckets double in width when it fills: covers any duration in
/// bounded memory, for timelines of whole files (`analyze`). Sparse: only buckets that were
/// counted into are stored, so an object written a few times over a long log costs a few
/// entries, not `cap` buckets.
#[derive(Clone, Debug)]
pub struct History {
    pub start: i64,
    pub width_ms: i64,
    /// `(bucket index, counts)`, in index order.
    buckets: Vec<(u32, [u32; 3])>,
    cap: usize,
}

impl History {
    pub fn new(start: i64, width_ms: i64, cap: usize) -> Self {
        let cap = (cap.max(2) & !1).min(u32::MAX as usize);
        History { start, width_ms: width_ms.max(1), buckets: Vec::new(), cap }
    }

    pub fn add(&mut self, at: i64, signal: usize, n: u32) {
        if at < self.start {
            // Late or out-of-order observation: count it in the first bucket.
            if !self.buckets.is_empty() {
                self.count(0, signal, n);
                return;
            }
            self.start = at;
        }
        let mut idx = ((at - self.start) / self.width_ms) as usize;
        while idx >= self.cap {
            self.halve();
            idx = ((at - self.start) / self.width_ms) as usize;
        }
        self.count(idx as u32, signal, n);
    }

    fn count(&mut self, idx: u32, signal: usize, n: u32) {
        // Observations come mostly in time order: the newest bucket is the usual target.
        let at = match self.buckets.last() {
            Some(&(last, _)) if last == idx => self.buckets.len() - 1,
            Some(&(last, _)) if last < idx => {
                self.buckets.push((idx, [0; 3]));
                self.buckets.len() - 1
            }
            None => {
                self.buckets.push((idx, [0; 3]));
                0
            }
            _ => match self.buckets.binary_search_by_key(&idx, |&(i, _)| i) {
                Ok(k) => k,
                Err(k) => {
                    self.buckets.insert(k, (idx, [0; 3]));
                    k
                }
            },
        };
        let b = &mut self.buckets[at].1[signal];
        *b = b.saturating_add(n);
    }

    fn halve(&mut self) {
        let mut merged: Vec<(u32, [u32; 3])> = Vec::with_capacity(self.buckets.len());
        for &(i, c) in &self.buckets {
            match merged.last_mut() {
                Some((j, m)) if *j == i / 2 => {
                    for s in 0..3 {
                        m[s] = m[s].saturating_add(c[s]);
                    }
                }
                _ => merged.push((i / 2, c)),
            }
        }
        self.buckets = merged;
        self.width_ms *= 2;
    }

    /// The buckets counted into, `(index, counts)` in index order; bucket `i` starts at
    /// `start + i * width_ms`.
    pub fn buckets(&self) -> impl Iterator<Item = (usize, [u32; 3])> + '_ {
        self.buckets.iter().map(|&(i, c)| (i as usize, c))
    }

    /// Every bucket up to the last one counted into, empty ones as zeros.
    pub fn dense(&self) -> Vec<[u32; 3]> {
        let len = self.buckets.last().map_or(0, |&(i, _)| i as usize + 1);
        let mut out = vec![[0; 3]; len];
        for &(i, c) in &self.buckets {
            out[i as usize] = c;
        }
        out
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<(u32, [u32; 3])>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_drops_old_and_clears_skipped() {
        let mut r: Ring<4> = Ring::default();
        r.add(10, WRITES, 1);
        r.add(10, WRITES, 2);
        r.add(12, WRITES, 1);
        assert_eq!(r.sum(9, 12, WRITES), 4);
        assert_eq!(r.busy(9, 12, &[WRITES]), 2);
        r.add(20, WRITES, 5);
        assert_eq!(r.sum(0, 20, WRITES), 5, "buckets more than 4 behind are gone");
        r.add(16, WRITES, 1);
        assert_eq!(r.sum(0, 20, WRITES), 5, "too old to count");
        r.add(18, RECONCILES, 1);
        assert_eq!(r.sum(17, 20, RECONCILES), 1);
        let s = r.scan(10, 20);
        assert_eq!((s.sums, s.busy, s.busy_events), ([5, 1, 0], 2, 0));
        assert_eq!(r.scan(21, 30), Scan::default());
    }

    #[test]
    fn ring_saturates() {
        let mut r: Ring<2> = Ring::default();
        r.add(0, EVENTS, u16::MAX);
        r.add(0, EVENTS, 9);
        assert_eq!(r.get(0, EVENTS), u32::from(u16::MAX));
    }

    #[test]
    fn an_empty_ring_holds_no_buckets_and_reads_zero() {
        let mut r: Ring<4> = Ring::default();
        assert!(r.buckets.is_none());
        assert_eq!((r.get(0, WRITES), r.sum(-10, 10, WRITES), r.busy(-10, 10, &[WRITES])), (0, 0, 0));
        assert_eq!(r.scan(-10, 10), Scan::default());
        r.add(3, WRITES, 1);
        assert!(r.buckets.is_some());
        assert_eq!(r.get(3, WRITES), 1);
    }

    #[test]
    fn history_doubles_width() {
        let mut h = History::new(0, 1000, 4);
        for s in 0..8 {
            h.add(s * 1000, WRITES, 1);
        }
        assert_eq!(h.width_ms, 2000);
        assert_eq!(h.dense(), vec![[2, 0, 0]; 4]);
        h.add(8_000, WRITES, 1);
        assert_eq!(h.width_ms, 4000);
        assert_eq!(h.dense().iter().map(|b| b[0]).collect::<Vec<_>>(), vec![4, 4, 1]);
    }

    #[test]
    fn a_history_of_a_few_writes_over_a_long_span_keeps_a_few_buckets() {
        let mut h = History::new(0, 1000, 512);
        for k in 0..6 {
            h.add(k * 3_600_000, WRITES, 1);
        }
        assert_eq!(h.buckets().count(), 6);
        assert_eq!(h.buckets().map(|(_, c)| c[WRITES]).sum::<u32>(), 6);
        assert!(h.heap_bytes() <= 16 * 16, "{} bytes", h.heap_bytes());
        assert_eq!(h.dense().len(), 5 * 3_600_000 / h.width_ms as usize + 1);
    }

    /// The dense history this sparse one replaced, kept as the reference.
    struct DenseHistory {
        start: i64,
        width_ms: i64,
        buckets: Vec<[u32; 3]>,
        cap: usize,
    }

    impl DenseHistory {
        fn add(&mut self, at: i64, signal: usize, n: u32) {
            if at < self.start {
                if let Some(b) = self.buckets.first_mut() {
                    b[signal] = b[signal].saturating_add(n);
                    return;
                }
                self.start = at;
            }
            let mut idx = ((at - self.start) / self.width_ms) as usize;
            while idx >= self.cap {
                self.buckets = self
                    .buckets
                    .chunks(2)
                    .map(|c| {
                        let mut m = c[0];
                        if let Some(b) = c.get(1) {
                            for s in 0..3 {
                                m[s] = m[s].saturating_add(b[s]);
                            }
                        }
                        m
                    })
                    .collect();
                self.width_ms *= 2;
                idx = ((at - self.start) / self.width_ms) as usize;
            }
            if self.buckets.len() <= idx {
                self.buckets.resize(idx + 1, [0; 3]);
            }
            self.buckets[idx][signal] = self.buckets[idx][signal].saturating_add(n);
        }
    }

    proptest::proptest! {
        #[test]
        fn sparse_history_equals_the_dense_one(
            start in -5_000i64..5_000,
            width in 1i64..3_000,
            cap in 0usize..40,
            adds in proptest::collection::vec((-10_000i64..2_000_000, 0usize..3, 0u32..5), 0..200),
        ) {
            let mut sparse = History::new(start, width, cap);
            let mut dense = DenseHistory {
                start,
                width_ms: width.max(1),
                buckets: Vec::new(),
                cap: cap.max(2) & !1,
            };
            for &(at, s, n) in &adds {
                sparse.add(at, s, n);
                dense.add(at, s, n);
            }
            proptest::prop_assert_eq!(sparse.start, dense.start);
            proptest::prop_assert_eq!(sparse.width_ms, dense.width_ms);
            proptest::prop_assert_eq!(sparse.dense(), dense.buckets);
        }
    }
}
