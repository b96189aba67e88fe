//! Fixed-size rings of time buckets: the only history the detector keeps per object.

/// The three counted signals, as indices into a bucket.
pub const WRITES: usize = 0;
pub const RECONCILES: usize = 1;
pub const EVENTS: usize = 2;

/// `N` buckets of `width_ms` each; bucket `i` covers `[i*width, (i+1)*width)`. Counts saturate.
/// Nothing is allocated before the first count (most objects a watch lists are never written),
/// and a ring with few buckets counted into within its span holds only those ([`SPARSE`] of
/// them, in index order): an object written a few times costs 128 bytes, not `6 × N`.
#[derive(Clone, Debug)]
pub struct Ring<const N: usize> {
    /// Index of the newest bucket written (`i64::MIN` when empty).
    head: i64,
    store: Store<N>,
}

/// Buckets a ring holds sparsely before it turns dense.
const SPARSE: usize = 8;

/// An unused sparse entry (they come after the used ones).
const UNUSED: (i64, [u16; 3]) = (i64::MIN, [0; 3]);

#[derive(Clone, Debug)]
enum Store<const N: usize> {
    Empty,
    /// `(bucket index, counts)` in index order, unused entries last.
    Sparse(Box<[(i64, [u16; 3]); SPARSE]>),
    Dense(Box<[[u16; 3]; N]>),
}

impl<const N: usize> Default for Ring<N> {
    fn default() -> Self {
        Ring { head: i64::MIN, store: Store::Empty }
    }
}

impl<const N: usize> Ring<N> {
    const LEN: i64 = N as i64;

    /// Counts `n` of `signal` into bucket `idx`; a bucket older than the ring's span is dropped.
    #[inline]
    pub fn add(&mut self, idx: i64, signal: usize, n: u16) {
        if self.head == i64::MIN {
            self.head = idx;
        } else if idx > self.head {
            if let Store::Dense(buckets) = &mut self.store {
                let gap = (idx - self.head).min(Self::LEN);
                for k in 1..=gap {
                    buckets[slot::<N>(self.head + k)] = [0; 3];
                }
            }
            self.head = idx;
        } else if idx <= self.head - Self::LEN {
            return;
        }
        let oldest = self.head.saturating_sub(Self::LEN - 1);
        let b = match &mut self.store {
            Store::Dense(buckets) => &mut buckets[slot::<N>(idx)][signal],
            Store::Empty => {
                self.store = Store::Sparse(Box::new([UNUSED; SPARSE]));
                return self.add(idx, signal, n);
            }
            Store::Sparse(entries) => {
                // Entries that fell out of the span go; the rest move to the front.
                let gone = entries.iter().take_while(|e| e.0 != i64::MIN && e.0 < oldest).count();
                if gone > 0 {
                    entries.copy_within(gone.., 0);
                    entries[SPARSE - gone..].fill(UNUSED);
                }
                let used = entries.iter().take_while(|e| e.0 != i64::MIN).count();
                let at = entries[..used].partition_point(|e| e.0 < idx);
                if at < used && entries[at].0 == idx {
                    &mut entries[at].1[signal]
                } else if used < SPARSE {
                    entries.copy_within(at..used, at + 1);
                    entries[at] = (idx, [0; 3]);
                    &mut entries[at].1[signal]
                } else {
                    let mut buckets = Box::new([[0; 3]; N]);
                    for &(i, c) in entries.iter() {
                        buckets[slot::<N>(i)] = c;
                    }
                    self.store = Store::Dense(buckets);
                    return self.add(idx, signal, n);
                }
            }
        };
        *b = b.saturating_add(n);
    }

    /// The count of bucket `idx` (0 outside the ring's span).
    #[inline]
    pub fn get(&self, idx: i64, signal: usize) -> u32 {
        if idx > self.head || idx <= self.head - Self::LEN {
            return 0;
        }
        match &self.store {
            Store::Empty => 0,
            Store::Sparse(entries) => {
                entries.iter().find(|e| e.0 == idx).map_or(0, |e| u32::from(e.1[signal]))
            }
            Store::Dense(buckets) => u32::from(buckets[slot::<N>(idx)][signal]),
        }
    }

    /// The newest bucket counted into, if any.
    pub fn newest(&self) -> Option<i64> {
        (self.head != i64::MIN).then_some(self.head)
    }

    /// Sum of `signal` over buckets `from..=to`.
    pub fn sum(&self, from: i64, to: i64, signal: usize) -> u32 {
        self.scan(from, to).sums[signal]
    }

    /// One pass over buckets `from..=to`: the sum of each signal, the buckets with writes or
    /// passes, and the buckets with events.
    #[inline]
    pub fn scan(&self, from: i64, to: i64) -> Scan {
        self.scan_both(i64::MAX, from, to).1
    }

    /// [`Ring::scan`] of `inner..=to` and of `from..=to` in one pass (`inner` at or after
    /// `from`; after `to` for none): a verdict reads its window and the last minute.
    pub fn scan_both(&self, inner: i64, from: i64, to: i64) -> (Scan, Scan) {
        let (mut short, mut long) = (Scan::default(), Scan::default());
        let lo = from.max(self.head.saturating_sub(Self::LEN - 1));
        let hi = to.min(self.head);
        if lo > hi {
            return (short, long);
        }
        let count = |out: &mut Scan, b: [u16; 3]| {
            out.sums[0] += u32::from(b[0]);
            out.sums[1] += u32::from(b[1]);
            out.sums[2] += u32::from(b[2]);
            out.busy += u32::from(b[0] > 0 || b[1] > 0);
            out.busy_events += u32::from(b[2] > 0);
        };
        let mut both = |idx: i64, b: [u16; 3]| {
            count(&mut long, b);
            if idx >= inner {
                count(&mut short, b);
            }
        };
        match &self.store {
            Store::Empty => {}
            Store::Sparse(entries) => {
                entries
                    .iter()
                    .filter(|e| e.0 != i64::MIN && (lo..=hi).contains(&e.0))
                    .for_each(|e| both(e.0, e.1));
            }
            Store::Dense(buckets) => {
                // The inner window is a suffix: each bucket is read once, into one of two
                // sums, over at most four runs of slots without a branch per bucket.
                let split = inner.clamp(lo, hi + 1);
                let mut outer = Scan::default();
                Self::runs(buckets, lo, split - 1, |run| run.iter().for_each(|&b| count(&mut outer, b)));
                Self::runs(buckets, split, hi, |run| run.iter().for_each(|&b| count(&mut short, b)));
                long = outer.plus(short);
            }
        }
        (short, long)
    }

    /// The slots of buckets `from..=to` (within the span) as at most two runs, oldest first.
    #[inline]
    fn runs(buckets: &[[u16; 3]; N], from: i64, to: i64, mut each: impl FnMut(&[[u16; 3]])) {
        if from > to {
            return;
        }
        let (a, len) = (slot::<N>(from), (to - from + 1) as usize);
        let first = len.min(N - a);
        each(&buckets[a..a + first]);
        each(&buckets[..len - first]);
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

impl Scan {
    fn plus(self, o: Scan) -> Scan {
        Scan {
            sums: [self.sums[0] + o.sums[0], self.sums[1] + o.sums[1], self.sums[2] + o.sums[2]],
            busy: self.busy + o.busy,
            busy_events: self.busy_events + o.busy_events,
        }
    }
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
        assert!(matches!(r.store, Store::Empty));
        assert_eq!((r.get(0, WRITES), r.sum(-10, 10, WRITES), r.busy(-10, 10, &[WRITES])), (0, 0, 0));
        assert_eq!(r.scan(-10, 10), Scan::default());
        r.add(3, WRITES, 1);
        assert!(matches!(r.store, Store::Sparse(_)));
        assert_eq!(r.get(3, WRITES), 1);
        for i in 4..4 + SPARSE as i64 {
            r.add(i, EVENTS, 1);
        }
        assert!(matches!(r.store, Store::Sparse(_)), "never more than 4 buckets within the span");
        let mut r: Ring<64> = Ring::default();
        for i in 0..SPARSE as i64 {
            r.add(i * 2, WRITES, 1);
        }
        assert!(matches!(r.store, Store::Sparse(_)));
        r.add(100, WRITES, 1);
        assert!(matches!(r.store, Store::Sparse(_)), "the old buckets left the span");
        for i in 0..SPARSE as i64 {
            r.add(101 + i, WRITES, 1);
        }
        assert!(matches!(r.store, Store::Dense(_)));
        assert_eq!(r.sum(0, 200, WRITES), SPARSE as u32 + 1);
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

    /// The dense ring the sparse store stands in for, kept as the reference.
    struct DenseRing<const N: usize> {
        head: i64,
        buckets: [[u16; 3]; N],
    }

    impl<const N: usize> DenseRing<N> {
        fn add(&mut self, idx: i64, signal: usize, n: u16) {
            if self.head == i64::MIN {
                self.head = idx;
            } else if idx > self.head {
                for k in 1..=(idx - self.head).min(N as i64) {
                    self.buckets[slot::<N>(self.head + k)] = [0; 3];
                }
                self.head = idx;
            } else if idx <= self.head - N as i64 {
                return;
            }
            let b = &mut self.buckets[slot::<N>(idx)][signal];
            *b = b.saturating_add(n);
        }

        fn get(&self, idx: i64, signal: usize) -> u32 {
            if self.head == i64::MIN || idx > self.head || idx <= self.head - N as i64 {
                return 0;
            }
            u32::from(self.buckets[slot::<N>(idx)][signal])
        }
    }

    fn ring_equals_dense<const N: usize>(
        adds: &[(i64, usize, u16)],
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let mut ring: Ring<N> = Ring::default();
        let mut dense = DenseRing::<N> { head: i64::MIN, buckets: [[0; 3]; N] };
        for &(idx, s, n) in adds {
            ring.add(idx, s, n);
            dense.add(idx, s, n);
            let head = dense.head;
            for i in head - N as i64 - 2..=head + 1 {
                for s in 0..3 {
                    proptest::prop_assert_eq!(ring.get(i, s), dense.get(i, s), "bucket {} signal {}", i, s);
                }
            }
            for (from, to) in
                [(head - 9, head), (head - 59, head), (head - 200, head + 5), (head - 3, head - 1)]
            {
                let mut want = Scan::default();
                for i in from.max(head - (N as i64 - 1))..=to.min(head) {
                    let b = [dense.get(i, 0), dense.get(i, 1), dense.get(i, 2)];
                    for (sum, n) in want.sums.iter_mut().zip(b) {
                        *sum += n;
                    }
                    want.busy += u32::from(b[0] > 0 || b[1] > 0);
                    want.busy_events += u32::from(b[2] > 0);
                }
                proptest::prop_assert_eq!(ring.scan(from, to), want, "scan {}..={}", from, to);
                for inner in [from, from + 1, to - 4, to, to + 1] {
                    proptest::prop_assert_eq!(
                        ring.scan_both(inner.max(from), from, to),
                        (ring.scan(inner.max(from), to), want),
                        "scan_both {}, {}..={}",
                        inner,
                        from,
                        to
                    );
                }
            }
        }
        Ok(())
    }

    proptest::proptest! {
        /// Sparse or dense, a ring counts as the plain dense ring: the same buckets and scans
        /// after every count, with counts late, early, repeated, far ahead and saturating.
        #[test]
        fn a_ring_counts_as_the_dense_ring(
            adds in proptest::collection::vec((0i64..40, 0usize..3, proptest::prop_oneof![0u16..4, proptest::strategy::Just(u16::MAX)]), 0..120),
            base in -1_000i64..1_000,
            leaps in proptest::collection::vec(0i64..200, 0..8),
        ) {
            // Mostly forward in time, with jumps and stragglers, as observations come.
            let mut t = base;
            let mut seq = Vec::new();
            for (k, &(d, s, n)) in adds.iter().enumerate() {
                t += leaps.get(k % 8).copied().unwrap_or(0) * i64::from(k % 13 == 0);
                seq.push((t + d - 20, s, n));
            }
            ring_equals_dense::<4>(&seq)?;
            ring_equals_dense::<32>(&seq)?;
            ring_equals_dense::<64>(&seq)?;
        }
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
