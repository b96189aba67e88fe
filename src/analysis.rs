//! The analysis behind `kubectl capt analyze`: every input's records, merged in time order
//! across inputs, folded through the hot-loop detector, plus what only a whole file can tell
//! (peaks, HOT periods, every writer). Pure: readers in, an [`Analysis`] out.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::detect::{Cause, Config, Detector, Finding, History, ObjectId, Summary, Verdict, VerdictChange};
use crate::error::{Error, Result};
use crate::observe::{self, Manager, Millis, Observation, Signal, WriteScope};
use crate::parse::container::Compression;
use crate::parse::{InputOptions, InputParser, ParseReport, Record, RecordBody, Reference, Restrict, Verb};

/// Whole-run timeline buckets kept per object (they widen as a file's time span grows).
pub const HISTORY_BUCKETS: usize = 512;

/// One input to read: its name (for the report), the reader, the year klog lines are in, and
/// what kubectl ages in it are relative to.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
    pub year: i32,
    pub reference: Option<Reference>,
    /// A container log of a cluster dump (other programs' lines are not relevant).
    pub container_log: bool,
    /// How it was stored (already undone in `reader`), for the footer.
    pub compression: Option<Compression>,
}

impl Input {
    /// A plain input without a reference time.
    pub fn new(name: &str, reader: Box<dyn Read + Send>, year: i32) -> Self {
        Input {
            name: name.to_string(),
            reader,
            year,
            reference: None,
            container_log: false,
            compression: None,
        }
    }
}

/// What the analysis found.
#[derive(Debug)]
pub struct Analysis {
    pub summary: Summary,
    pub inputs: Vec<ParseReport>,
    /// The time span of the data.
    pub start: Option<Millis>,
    pub end: Option<Millis>,
    /// The fold's state, from which [`Analysis::rows`] builds each row when it is read: every
    /// row of a large log at once (about 1.8 KB each) was the peak of a run's memory.
    det: Detector,
    extra: Vec<ObjectExtra>,
    now: Millis,
    /// Worst first.
    order: Vec<ObjectId>,
    any_hot: bool,
}

/// One object: the detector's finding at the object's worst moment, plus what only a whole
/// file can tell.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row<'a> {
    #[serde(flatten)]
    pub finding: Finding,
    /// Most writes, passes or events in one second.
    pub peak_per_second: u32,
    /// Most in any 60 s.
    pub peak_per_minute: u32,
    /// When the object was HOT (RFC 3339).
    pub hot_periods: Vec<Period>,
    #[serde(skip)]
    pub hot_ms: Vec<(Millis, Millis)>,
    #[serde(skip)]
    pub history: Option<&'a History>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Period {
    pub from: String,
    pub to: String,
}

impl Analysis {
    pub fn any_hot(&self) -> bool {
        self.any_hot
    }

    /// Objects found (rows).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every object's row, worst first, each built when the iterator reaches it.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        self.order.iter().map(|&id| self.row(id))
    }

    /// Row `i` of [`Analysis::rows`].
    pub fn row_at(&self, i: usize) -> Row<'_> {
        self.row(self.order[i])
    }

    fn row(&self, id: ObjectId) -> Row<'_> {
        let e = self.extra.get(id.index());
        let finding = worst_of(self.det.finding_of(id, self.now), e.and_then(|e| e.worst.as_deref()));
        let hot_ms: Vec<(Millis, Millis)> =
            e.map_or(&[][..], |e| &e.hot).iter().map(|&(a, b)| (a, b.unwrap_or(self.now))).collect();
        Row {
            peak_per_second: e.map_or(0, ObjectExtra::per_second),
            peak_per_minute: e.map_or(0, ObjectExtra::per_minute),
            hot_periods: hot_ms
                .iter()
                .map(|&(a, b)| Period { from: observe::rfc3339(a), to: observe::rfc3339(b) })
                .collect(),
            hot_ms,
            history: self.det.history(id),
            finding,
        }
    }
}

/// Serialises as the sequence of every row, each built as it is written.
pub struct AllRows<'a>(pub &'a Analysis);

impl Serialize for AllRows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.rows())
    }
}

/// Reads every input to the end and folds the records through the detector, in time order
/// across inputs (each input is assumed to be roughly in time order, as logs are).
pub fn analyze(inputs: Vec<Input>, restrict: Restrict, config: Config) -> Result<Analysis> {
    analyze_counting(inputs, restrict, config, &AtomicU64::new(0))
}

/// [`analyze`], counting the records read into `records` (for the progress bar).
pub fn analyze_counting(
    inputs: Vec<Input>,
    restrict: Restrict,
    config: Config,
    records: &AtomicU64,
) -> Result<Analysis> {
    run(inputs, restrict, config, records, true)
}

/// `threaded`: each input parsed on its own thread (see [`Parsed`]); otherwise on this one (the
/// sequential reference the tests compare with).
fn run(
    inputs: Vec<Input>,
    restrict: Restrict,
    config: Config,
    records: &AtomicU64,
    threaded: bool,
) -> Result<Analysis> {
    std::thread::scope(|scope| {
        let mut sources = Vec::new();
        for i in inputs {
            let options = InputOptions {
                reference: i.reference,
                container_log: i.container_log,
                ..InputOptions::new(restrict, i.year)
            };
            let parser = InputParser::new(&i.name, i.reader, options)
                .map_err(|e| Error::other(format!("cannot read {}: {e}", i.name)))?;
            let parser = if threaded {
                // Audit lines are decoded on every core; the rest stays in order on the parser thread.
                let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
                Parsed::start(scope, parser.chunked(workers, crate::parse::chunks::CHUNK_BYTES))
            } else {
                Parsed::inline(parser)
            };
            sources.push(Source { parser, last_at: None, compression: i.compression });
        }
        Ok(fold_sources(sources, config, records))
    })
}

/// Folds the records of every source through the detector, in time order across sources.
fn fold_sources(mut sources: Vec<Source>, config: Config, records: &AtomicU64) -> Analysis {
    let mut read: u64 = 0;
    let mut fold = Fold::new(config);
    loop {
        let mut best: Option<(usize, Millis)> = None;
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some((r, _)) = s.parser.peek() {
                let t = r.at.map(|t| t.timestamp_millis()).or(s.last_at).unwrap_or(Millis::MIN);
                if best.is_none_or(|(_, bt)| t < bt) {
                    best = Some((i, t));
                }
            }
        }
        let Some((i, _)) = best else { break };
        let s = &mut sources[i];
        let Some((record, audit_seen)) = s.parser.next() else { continue };
        read += 1;
        if read.is_multiple_of(1024) {
            records.store(read, Ordering::Relaxed);
        }
        let at = record.at.map(|t| t.timestamp_millis()).or(s.last_at).or(fold.end).unwrap_or(0);
        s.last_at = Some(at);
        // An audit log shows every write from its first record on; a watch dump, the writes of
        // the kinds it holds from their first version on.
        let object = match &record.body {
            RecordBody::Write(w) => Some(&w.object),
            RecordBody::Seen(seen) => Some(&seen.object),
            _ => None,
        };
        if let Some(o) = object {
            let scope = if audit_seen {
                WriteScope::All
            } else {
                WriteScope::Kind { group: o.group.clone(), kind: o.kind.clone() }
            };
            fold.cover(scope, at);
        }
        fold.record(i, record, at);
    }
    records.store(read, Ordering::Relaxed);
    let inputs = sources
        .into_iter()
        .map(|s| {
            let mut r = s.parser.into_report();
            r.compression = s.compression.map(|c| c.as_str().to_string());
            r
        })
        .collect();
    fold.finish(inputs)
}

struct Source<'scope> {
    parser: Parsed<'scope>,
    last_at: Option<Millis>,
    compression: Option<Compression>,
}

/// Records per batch handed from a parser thread to the fold.
const BATCH: usize = 1024;
/// Changed fields per batch: an object's first write in a RequestResponse log carries every
/// field its request set (tens of them), and thousands of such writes in flight were a fifth of
/// the peak memory.
const BATCH_FIELDS: usize = 4 * BATCH;
/// Batches in flight per input: memory stays bounded however far the parser runs ahead.
const BATCHES_IN_FLIGHT: usize = 4;

/// One record, and whether its input had shown an audit event by then.
type Parsed1 = (Record, bool);

/// An input parsed on its own thread (reading, decompressing and decoding are most of the
/// work), its records handed over in order in bounded batches, with one record of look-ahead;
/// the fold runs on the calling thread, so the two use both cores and the order of records,
/// hence every verdict, is the sequential one.
struct Parsed<'scope> {
    feed: Feed<'scope>,
    next: Option<Parsed1>,
}

enum Feed<'scope> {
    Thread {
        rx: std::sync::mpsc::Receiver<Vec<Parsed1>>,
        batch: std::vec::IntoIter<Parsed1>,
        thread: std::thread::ScopedJoinHandle<'scope, ParseReport>,
    },
    Inline(Box<InputParser<Box<dyn Read + Send>>>),
}

impl<'scope> Parsed<'scope> {
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        mut parser: InputParser<Box<dyn Read + Send>>,
    ) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
        let thread = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut fields = 0;
            while let Some(r) = parser.next() {
                let audit_seen = parser.report().records.contains_key("audit");
                if let RecordBody::Write(w) = &r.body {
                    fields += w.fields.len();
                }
                batch.push((r, audit_seen));
                if batch.len() == BATCH || fields >= BATCH_FIELDS {
                    fields = 0;
                    if tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            parser.into_report()
        });
        Parsed { feed: Feed::Thread { rx, batch: Vec::new().into_iter(), thread }, next: None }
    }

    fn inline(parser: InputParser<Box<dyn Read + Send>>) -> Self {
        Parsed { feed: Feed::Inline(Box::new(parser)), next: None }
    }

    fn pull(&mut self) -> Option<Parsed1> {
        match &mut self.feed {
            Feed::Thread { rx, batch, .. } => loop {
                if let Some(r) = batch.next() {
                    return Some(r);
                }
                *batch = rx.recv().ok()?.into_iter();
            },
            Feed::Inline(parser) => {
                let r = parser.next()?;
                Some((r, parser.report().records.contains_key("audit")))
            }
        }
    }

    fn peek(&mut self) -> Option<&Parsed1> {
        if self.next.is_none() {
            self.next = self.pull();
        }
        self.next.as_ref()
    }

    fn next(&mut self) -> Option<Parsed1> {
        self.next.take().or_else(|| self.pull())
    }

    fn into_report(self) -> ParseReport {
        match self.feed {
            Feed::Thread { rx, thread, .. } => {
                // The parser stops at its next send once nobody receives.
                drop(rx);
                thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }
            Feed::Inline(parser) => parser.into_report(),
        }
    }
}

/// Peak count in one second and in any 60 s, over a stream in (roughly) time order. Only the
/// seconds of the last minute that had a count are kept: most objects of a long log are
/// written a few times, and a 60-slot ring for each of their three peaks was most of the
/// memory per object.
#[derive(Clone, Debug)]
struct Peak {
    head: i64,
    /// (second, count), ascending, all within 60 s of `head`.
    seconds: std::collections::VecDeque<(i64, u32)>,
    sum: u32,
    per_second: u32,
    per_minute: u32,
}

impl Default for Peak {
    fn default() -> Self {
        Peak { head: i64::MIN, seconds: Default::default(), sum: 0, per_second: 0, per_minute: 0 }
    }
}

impl Peak {
    fn add(&mut self, at: Millis, n: u32) {
        let sec = at.div_euclid(1000);
        if self.head == i64::MIN {
            self.head = sec;
        } else if sec > self.head {
            while let Some(&(s, c)) = self.seconds.front()
                && s <= sec - 60
            {
                self.sum = self.sum.saturating_sub(c);
                self.seconds.pop_front();
            }
            self.head = sec;
        } else if sec <= self.head - 60 {
            return;
        }
        let i = self.seconds.partition_point(|&(s, _)| s < sec);
        if self.seconds.get(i).is_none_or(|&(s, _)| s != sec) {
            self.seconds.insert(i, (sec, 0));
        }
        let count = &mut self.seconds[i].1;
        *count = count.saturating_add(n);
        self.sum = self.sum.saturating_add(n);
        self.per_second = self.per_second.max(*count);
        self.per_minute = self.per_minute.max(self.sum);
    }
}

/// What only a whole file tells about one object, by its detector id. Passes, events and a
/// worst moment are boxed: most objects of an audit log have none.
#[derive(Debug, Default)]
struct ObjectExtra {
    writes: Peak,
    passes: Option<Box<Peak>>,
    events: Option<Box<Peak>>,
    last_pass: Option<Box<str>>,
    hot: Vec<(Millis, Option<Millis>)>,
    worst: Option<Box<Worst>>,
}

impl ObjectExtra {
    fn peaks(&self) -> impl Iterator<Item = &Peak> {
        std::iter::once(&self.writes).chain(self.passes.as_deref()).chain(self.events.as_deref())
    }

    fn per_second(&self) -> u32 {
        self.peaks().map(|p| p.per_second).max().unwrap_or(0)
    }

    fn per_minute(&self) -> u32 {
        self.peaks().map(|p| p.per_minute).max().unwrap_or(0)
    }
}

/// The extras of the object `id`, added on first use.
fn extra_of(extra: &mut Vec<ObjectExtra>, id: ObjectId) -> &mut ObjectExtra {
    let i = id.index();
    if i >= extra.len() {
        extra.resize_with(i + 1, ObjectExtra::default);
    }
    &mut extra[i]
}

/// What an object's worst moment adds to its finding at the end (see [`worst_of`]); the rest of
/// that moment's finding is dropped at once. Kept whole for every object that was ever
/// ELEVATED, it was most of the memory per object of a large log.
#[derive(Debug)]
struct Worst {
    verdict: Verdict,
    cause: Option<Cause>,
    expected_interval_seconds: Option<u64>,
    observed_at: Box<str>,
    evidence: Box<[Box<str>]>,
    changed_fields: Box<[Box<str>]>,
}

impl Worst {
    fn of(f: Finding) -> Box<Self> {
        let boxed = |v: Vec<String>| v.into_iter().map(String::into_boxed_str).collect();
        Box::new(Worst {
            verdict: f.verdict,
            cause: f.cause,
            expected_interval_seconds: f.expected_interval_seconds,
            observed_at: f.observed_at.into_boxed_str(),
            evidence: boxed(f.evidence),
            changed_fields: boxed(f.changed_fields),
        })
    }
}

/// Metric samples of the scrape being read, per input.
#[derive(Default)]
struct Scrape {
    input: usize,
    number: u32,
    at: Millis,
    controllers: std::collections::BTreeMap<String, observe::MetricsSample>,
}

/// The fold: records in, detector state and per-object extras out.
struct Fold {
    det: Detector,
    extra: Vec<ObjectExtra>,
    scrape: Option<Scrape>,
    start: Option<Millis>,
    end: Option<Millis>,
    /// Objects HOT now; while there are any, the detector is ticked every second of data time
    /// so a HOT period ends when the loop stops, not at the object's next record.
    hot_now: usize,
    next_tick: Millis,
    /// ObservedWrite scopes covered from their first record on, already told to the detector.
    covered: HashSet<WriteScope>,
}

/// What a record adds to its row's counts.
enum Count {
    Write,
    /// A reconcile pass, by its id when the log has one.
    Pass(Option<Box<str>>),
    Events(u32),
    Nothing,
}

impl Fold {
    fn new(config: Config) -> Self {
        Fold {
            det: Detector::new(config),
            extra: Vec::new(),
            scrape: None,
            start: None,
            end: None,
            hot_now: 0,
            next_tick: Millis::MIN,
            covered: HashSet::new(),
        }
    }

    fn cover(&mut self, scope: WriteScope, at: Millis) {
        if !self.covered.contains(&scope) {
            self.det.observe(&Observation::coverage(at, scope.clone(), Some(at)));
            self.covered.insert(scope);
        }
    }

    fn tick_until(&mut self, at: Millis) {
        while self.hot_now > 0 && self.next_tick <= at {
            let t = self.next_tick;
            self.next_tick += 1000;
            for c in self.det.tick(t) {
                self.on_change(c);
            }
        }
        if self.hot_now == 0 {
            self.next_tick = self.next_tick.max(at.div_euclid(1000) * 1000 + 1000);
        }
    }

    fn record(&mut self, input: usize, r: Record, at: Millis) {
        self.tick_until(at);
        if r.at.is_some() && !matches!(r.body, RecordBody::Sample(_)) {
            self.start = Some(self.start.map_or(at, |s| s.min(at)));
            self.end = Some(self.end.map_or(at, |e| e.max(at)));
        }
        // The record is moved into its observation; what the row counts is taken first.
        let (obs, count) = match r.body {
            RecordBody::Write(w) => {
                let obs = if w.verb == Verb::Delete {
                    Observation::delete(at, w.object)
                } else {
                    Observation::write(
                        at,
                        w.object,
                        observe::ObservedWrite {
                            state: w.state,
                            create: w.verb == Verb::Create,
                            manager: Some(Manager {
                                name: w.writer.to_string(),
                                operation: w.operation,
                                subresource: w.subresource,
                                time: Some(at),
                            }),
                            changes: w.fields,
                        },
                    )
                };
                (obs, Count::Write)
            }
            RecordBody::Seen(s) => (Observation::baseline(at, s.object, s.state), Count::Nothing),
            RecordBody::Reconcile(p) => {
                let pass = Count::Pass(p.reconcile_id.as_deref().map(Box::from));
                (Observation::reconcile(at, p.object, p.reconcile_id), pass)
            }
            RecordBody::Event(ev) => {
                let n = u32::try_from(ev.count).unwrap_or(u32::MAX);
                let reason = match &ev.source {
                    Some(src) => format!("{} from {src}", ev.reason),
                    None => ev.reason,
                };
                (Observation::events(at, ev.object, n, Some(reason)), Count::Events(n))
            }
            RecordBody::Sample(s) => {
                self.sample(input, &s, r.at.map(|t| t.timestamp_millis()).unwrap_or(at));
                return;
            }
        };
        let change = self.det.observe(&obs);
        // After the detector has the object: beyond `Config::max_objects` it tracks no new ones,
        // and an object it does not track has no row.
        if let Some(id) = obs.object().and_then(|o| self.det.id(o)) {
            let e = extra_of(&mut self.extra, id);
            match count {
                Count::Write => e.writes.add(at, 1),
                Count::Pass(pass) => {
                    if pass.is_none() || pass != e.last_pass {
                        e.passes.get_or_insert_default().add(at, 1);
                        e.last_pass = pass;
                    }
                }
                Count::Events(n) => e.events.get_or_insert_default().add(at, n),
                Count::Nothing => {}
            }
        }
        if let Some(change) = change {
            self.on_change(change);
        }
    }

    fn sample(&mut self, input: usize, s: &crate::parse::MetricSample, at: Millis) {
        if self.scrape.as_ref().is_some_and(|c| c.input != input || c.number != s.scrape) {
            self.flush_scrape();
        }
        let scrape =
            self.scrape.get_or_insert_with(|| Scrape { input, number: s.scrape, at, ..Scrape::default() });
        scrape.at = scrape.at.max(at);
        crate::parse::metrics::accumulate(&mut scrape.controllers, &s.name, &s.labels, s.value);
    }

    fn flush_scrape(&mut self) {
        if let Some(s) = self.scrape.take() {
            for m in crate::parse::metrics::with_process_start(s.controllers) {
                self.det.observe(&Observation { at: s.at, signal: Signal::Metrics(m) });
            }
        }
    }

    fn on_change(&mut self, c: VerdictChange) {
        if c.cause_only() {
            // HOT periods are unchanged; a worst moment whose cause was not known yet takes the
            // cause found since.
            let Some(id) = self.det.id(&c.object) else { return };
            let e = extra_of(&mut self.extra, id);
            if e.worst.as_ref().is_some_and(|w| w.verdict == c.to && w.cause.is_none())
                && let Some(f) = self.det.finding(&c.object, c.at)
                && f.verdict == c.to
            {
                e.worst = Some(Worst::of(f));
            }
            return;
        }
        if c.to == Verdict::Hot {
            self.hot_now += 1;
        }
        if c.from == Verdict::Hot {
            self.hot_now = self.hot_now.saturating_sub(1);
        }
        let Some(id) = self.det.id(&c.object) else { return };
        let e = extra_of(&mut self.extra, id);
        if c.to == Verdict::Hot {
            e.hot.push((c.at, None));
        }
        if c.from == Verdict::Hot
            && let Some(last) = e.hot.last_mut()
            && last.1.is_none()
        {
            last.1 = Some(c.at);
        }
        // Keep the finding at the object's worst moment: when it gets there, and again just
        // before it cools down (with the evidence of the whole hot period).
        let at = if c.to < c.from { c.at - 1 } else { c.at };
        let level = c.to.max(c.from);
        if e.worst.as_ref().is_none_or(|w| w.verdict <= level)
            && let Some(f) = self.det.finding(&c.object, at)
            && f.verdict == level
        {
            e.worst = Some(Worst::of(f));
        }
    }

    fn finish(mut self, inputs: Vec<ParseReport>) -> Analysis {
        self.flush_scrape();
        let now = self.det.now().max(self.end.unwrap_or(Millis::MIN));
        if now != Millis::MIN {
            for c in self.det.tick(now) {
                self.on_change(c);
            }
        }
        let summary = self.det.summary(now);
        // Sorted on what orders the rows, without building them: the verdict at the worst
        // moment (see worst_of), the peak per minute, the activity, the name.
        let (det, extra) = (&self.det, &self.extra);
        let mut keyed: Vec<(Verdict, u32, u64, ObjectId)> = det
            .ids()
            .map(|id| {
                let e = extra.get(id.index());
                let worst = e.and_then(|e| e.worst.as_ref()).map(|w| w.verdict);
                let t = det.totals(id);
                (
                    det.verdict(id, now).max(worst.unwrap_or_default()),
                    e.map_or(0, ObjectExtra::per_minute),
                    t.writes.max(t.reconciles) + t.events,
                    id,
                )
            })
            .collect();
        keyed.sort_by(|a, b| {
            b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)).then_with(|| det.key(a.3).cmp(det.key(b.3)))
        });
        Analysis {
            summary,
            inputs,
            start: self.start,
            end: self.end,
            any_hot: keyed.first().is_some_and(|k| k.0 == Verdict::Hot),
            order: keyed.into_iter().map(|k| k.3).collect(),
            det: self.det,
            extra: self.extra,
            now,
        }
    }
}

/// The finding at the end of the data, with verdict, cause and evidence from the object's worst
/// moment when that was worse than the end (a loop that stopped before the file ended).
fn worst_of(end: Finding, worst: Option<&Worst>) -> Finding {
    let strings = |v: &[Box<str>]| v.iter().map(|s| s.to_string()).collect();
    match worst {
        Some(w) if w.verdict > end.verdict => Finding {
            verdict: w.verdict,
            cause: w.cause,
            evidence: strings(&w.evidence),
            observed_at: w.observed_at.to_string(),
            expected_interval_seconds: w.expected_interval_seconds.or(end.expected_interval_seconds),
            changed_fields: if end.changed_fields.is_empty() {
                strings(&w.changed_fields)
            } else {
                end.changed_fields
            },
            ..end
        },
        _ => end,
    }
}

// ---- render ----

/// Activity per second (writes or passes, whichever is higher, plus events) of one object in
/// `cells` equal cells over `[start, end]`.
pub fn resample(h: &History, start: Millis, end: Millis, cells: usize) -> Vec<f64> {
    let cells = cells.max(1);
    let span = (end - start).max(1) as f64;
    let mut out = vec![0.0; cells];
    for (i, b) in h.buckets() {
        let t = h.start + i as i64 * h.width_ms;
        let pos = ((t - start) as f64 / span * cells as f64).floor();
        let cell = (pos.max(0.0) as usize).min(cells - 1);
        out[cell] += f64::from(b[0].max(b[1]).saturating_add(b[2]));
    }
    let cell_secs = (span / 1000.0 / cells as f64).max(h.width_ms as f64 / 1000.0).max(1e-3);
    out.iter().map(|c| c / cell_secs).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::analyze::{render_text, sparkline};

    /// The 60-slot ring [`Peak`] replaced, as the reference.
    struct RingPeak {
        head: i64,
        ring: [u32; 60],
        sum: u32,
        per_second: u32,
        per_minute: u32,
    }

    impl RingPeak {
        fn add(&mut self, at: Millis, n: u32) {
            let sec = at.div_euclid(1000);
            if self.head == i64::MIN {
                self.head = sec;
            } else if sec > self.head {
                let gap = (sec - self.head).min(60);
                for k in 1..=gap {
                    let slot = (self.head + k).rem_euclid(60) as usize;
                    self.sum -= self.ring[slot];
                    self.ring[slot] = 0;
                }
                self.head = sec;
            } else if sec <= self.head - 60 {
                return;
            }
            let slot = sec.rem_euclid(60) as usize;
            self.ring[slot] += n;
            self.sum += n;
            self.per_second = self.per_second.max(self.ring[slot]);
            self.per_minute = self.per_minute.max(self.sum);
        }
    }

    proptest::proptest! {
        /// The sparse peak gives the ring's per-second and per-minute peaks after every count,
        /// over streams mostly in time order with steps back, gaps and counts in one second.
        #[test]
        fn sparse_peak_equals_the_ring(
            steps in proptest::collection::vec((-70_000i64..130_000, 1u32..5), 0..300),
            start in -5_000_000i64..5_000_000,
        ) {
            let mut sparse = Peak::default();
            let mut ring = RingPeak { head: i64::MIN, ring: [0; 60], sum: 0, per_second: 0, per_minute: 0 };
            let mut at = start;
            for (step, n) in steps {
                // Mostly forward, often within the same second.
                at += if step > 0 { step / 8 } else { step };
                sparse.add(at, n);
                ring.add(at, n);
                proptest::prop_assert_eq!((sparse.per_second, sparse.per_minute, sparse.sum), (ring.per_second, ring.per_minute, ring.sum));
                proptest::prop_assert!(sparse.seconds.len() <= 60);
            }
        }
    }

    fn input(name: &str, text: &str) -> Input {
        Input::new(name, Box::new(std::io::Cursor::new(text.as_bytes().to_vec())), 2026)
    }

    fn audit_line(id: usize, at_ms: i64, reason: &str) -> String {
        let t = chrono::DateTime::from_timestamp_millis(at_ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"id-{id}","stage":"ResponseComplete","requestURI":"/apis/controlplane.cluster.x-k8s.io/v1beta1/namespaces/ns/captcontrolplanes/a/status?fieldManager=legacy","verb":"patch","user":{{"username":"admin"}},"userAgent":"legacy-loop/0.1","objectRef":{{"resource":"captcontrolplanes","namespace":"ns","name":"a","apiGroup":"controlplane.cluster.x-k8s.io","apiVersion":"v1beta1","subresource":"status"}},"responseStatus":{{"code":200}},"requestObject":{{"status":{{"conditions":[{{"type":"Ready","reason":"{reason}"}}]}}}},"requestReceivedTimestamp":"{t}","stageTimestamp":"{t}"}}"#
        )
    }

    fn loop_log(seconds: i64, per_second: i64) -> String {
        let t0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let mut s = String::new();
        let mut id = 0;
        for ms in (0..seconds * 1000).step_by((1000 / per_second) as usize) {
            for reason in ["Ready", "SecretError"] {
                id += 1;
                s.push_str(&audit_line(id, t0 + ms, reason));
                s.push('\n');
            }
        }
        s
    }

    /// One generated audit event: object `o{object}`, `gap` ms after the previous one, a
    /// stage pair or a rejected write now and then.
    fn generated_line(id: usize, at_ms: i64, object: usize, reason: usize, kind: usize) -> String {
        let t = chrono::DateTime::from_timestamp_millis(at_ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let reason = ["Ready", "SecretError", "Creating"][reason];
        let (stage, code) = match kind {
            0 => ("RequestReceived", 200),
            1 => ("ResponseComplete", 409),
            _ => ("ResponseComplete", 200),
        };
        // A received stage shares its auditID with the next event, as a real pair does.
        let id = if kind == 0 { id + 1 } else { id };
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"g-{id}","stage":"{stage}","requestURI":"/apis/controlplane.cluster.x-k8s.io/v1beta1/namespaces/ns/captcontrolplanes/o{object}/status?fieldManager=m{object}","verb":"patch","user":{{"username":"u{object}"}},"objectRef":{{"resource":"captcontrolplanes","namespace":"ns","name":"o{object}","apiGroup":"controlplane.cluster.x-k8s.io","apiVersion":"v1beta1","subresource":"status"}},"responseStatus":{{"code":{code}}},"requestObject":{{"status":{{"conditions":[{{"type":"Ready","reason":"{reason}"}}]}}}},"requestReceivedTimestamp":"{t}","stageTimestamp":"{t}"}}"#
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(6))]
        /// Parsing each input on its own thread (batches over a channel) folds exactly what the
        /// sequential path folds: same rows, verdicts, causes, peaks, summary and reports,
        /// across several inputs merged by time and more records than one batch.
        #[test]
        fn threaded_parsing_gives_the_sequential_analysis(
            logs in proptest::collection::vec(
                proptest::collection::vec((0usize..5, 0i64..900, 0usize..3, 0usize..12), 0..1500),
                1..4,
            )
        ) {
            let t0 = 1_767_225_600_000;
            let texts: Vec<String> = logs
                .iter()
                .enumerate()
                .map(|(n, events)| {
                    let mut at = t0 + n as i64 * 37;
                    let mut text = String::new();
                    for (i, &(object, gap, reason, kind)) in events.iter().enumerate() {
                        at += gap;
                        text.push_str(&generated_line(n * 10_000 + i, at, object, reason, kind));
                        text.push('\n');
                    }
                    text
                })
                .collect();
            let inputs = || texts.iter().enumerate().map(|(n, t)| input(&format!("log{n}"), t)).collect();
            let counted = (AtomicU64::new(0), AtomicU64::new(0));
            let threaded = run(inputs(), Restrict::Any, Config::default(), &counted.0, true).unwrap();
            let sequential = run(inputs(), Restrict::Any, Config::default(), &counted.1, false).unwrap();
            let rows: Vec<Row> = threaded.rows().collect();
            proptest::prop_assert_eq!(format!("{rows:?}"), format!("{:?}", sequential.rows().collect::<Vec<_>>()));
            // Ordered on keys taken without building the rows: the rows built agree.
            proptest::prop_assert_eq!(rows.len(), threaded.len());
            let order = |r: &Row| (std::cmp::Reverse(r.finding.verdict), std::cmp::Reverse(r.peak_per_minute));
            proptest::prop_assert!(rows.windows(2).all(|w| order(&w[0]) <= order(&w[1])));
            proptest::prop_assert_eq!(threaded.any_hot(), rows.iter().any(|r| r.finding.verdict == Verdict::Hot));
            proptest::prop_assert_eq!(format!("{:?}", threaded.summary), format!("{:?}", sequential.summary));
            proptest::prop_assert_eq!(format!("{:?}", threaded.inputs), format!("{:?}", sequential.inputs));
            proptest::prop_assert_eq!((threaded.start, threaded.end), (sequential.start, sequential.end));
            proptest::prop_assert_eq!(counted.0.into_inner(), counted.1.into_inner());
        }
    }

    #[test]
    fn a_looping_object_is_hot_with_its_writer() {
        let mut text = loop_log(20, 5);
        text.push_str("not json at all\n");
        let a = analyze(
            vec![input("audit.log", &text)],
            Restrict::Any,
            Config { history_buckets: 64, ..Config::default() },
        )
        .unwrap();
        assert!(a.any_hot());
        let r = &a.rows().next().unwrap();
        assert_eq!(r.finding.name, "a");
        assert_eq!(r.finding.verdict, Verdict::Hot);
        assert_eq!(r.finding.totals.writes, 200);
        assert_eq!(r.peak_per_second, 10);
        assert_eq!(r.peak_per_minute, 200);
        assert!(r.finding.managers[0].manager.starts_with("legacy (admin"), "{:?}", r.finding.managers);
        assert_eq!(r.finding.cause, Some(crate::detect::Cause::StatusFlipFlop));
        assert_eq!(r.hot_ms.len(), 1);
        assert_eq!(a.inputs[0].unknown.first_lines, vec![201]);
        let text = render_text(&a, 10, false, false);
        assert!(text.contains("CAPTControlPlane"), "{text}");
        assert!(text.contains("HOT"), "{text}");
        assert!(text.contains("TIMELINE"), "{text}");
        assert!(text.contains("1 unknown format (line 201)"), "{text}");
    }

    #[test]
    fn a_calm_object_is_ok_and_a_loop_that_stopped_stays_hot() {
        let t0 = 1_767_225_600_000;
        let mut text = String::new();
        for i in 0..20 {
            text.push_str(&audit_line(
                i,
                t0 + i as i64 * 30_000,
                if i % 2 == 0 { "Ready" } else { "Creating" },
            ));
            text.push('\n');
        }
        let a = analyze(vec![input("calm", &text)], Restrict::Any, Config::default()).unwrap();
        assert!(!a.any_hot());
        assert_eq!(a.rows().next().unwrap().finding.verdict, Verdict::Ok);

        // A 15 s loop, then 10 minutes of quiet: still reported HOT, with its period.
        let mut text = loop_log(15, 5);
        text.push_str(&audit_line(999_999, t0 + 600_000, "Ready"));
        let a = analyze(vec![input("loop", &text)], Restrict::Any, Config::default()).unwrap();
        assert!(a.any_hot());
        let r = &a.rows().next().unwrap();
        assert_eq!(r.finding.verdict, Verdict::Hot);
        assert!(r.finding.cause.is_some());
        assert_eq!(r.hot_ms.len(), 1);
        assert!(r.hot_ms[0].1 < t0 + 600_000, "the hot period ended before the last write");
    }

    #[test]
    fn inputs_merge_by_time_and_empty_inputs_are_fine() {
        let a = analyze(vec![input("empty", ""), input("blank", "\n\n")], Restrict::Any, Config::default())
            .unwrap();
        assert!(a.is_empty() && a.rows().next().is_none());
        assert!(render_text(&a, 10, false, false).contains("No objects found"));
        let both = loop_log(12, 2);
        let lines: Vec<&str> = both.lines().collect();
        let first: Vec<&str> = lines.iter().step_by(2).copied().collect();
        let second: Vec<&str> = lines.iter().skip(1).step_by(2).copied().collect();
        let a = analyze(
            vec![input("one", &first.join("\n")), input("two", &second.join("\n"))],
            Restrict::Any,
            Config::default(),
        )
        .unwrap();
        assert_eq!(a.rows().next().unwrap().finding.totals.writes, 48);
        assert!(a.any_hot());
    }

    #[test]
    fn a_single_scrape_gives_lifetime_averages() {
        let text = "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1767225400\n\
                    controller_runtime_reconcile_total{controller=\"captcontrolplane\",result=\"success\"} 300 1767225600000\n\
                    controller_runtime_reconcile_total{controller=\"captcontrolplane\",result=\"error\"} 100 1767225600000\n";
        let a = analyze(vec![input("metrics.txt", text)], Restrict::Any, Config::default()).unwrap();
        let c = &a.summary.controllers[0];
        assert!(c.lifetime_average);
        assert_eq!((c.reconciles_per_second, c.errors_per_second), (Some(2.0), Some(0.5)));
        let text = render_text(&a, 10, false, false);
        assert!(text.contains("2.000 (lifetime avg)"), "{text}");
    }

    #[test]
    fn peaks() {
        let mut p = Peak::default();
        for s in 0..100 {
            p.add(s * 1000, 1);
        }
        p.add(99_500, 4);
        assert_eq!(p.per_second, 5);
        assert_eq!(p.per_minute, 64);
        p.add(1_000, 100); // too old for the ring
        assert_eq!(p.per_second, 5);
    }

    #[test]
    fn sparklines() {
        assert_eq!(sparkline(&[0.0, 1.0, 2.0, 4.0]), " ▃▅█");
        assert_eq!(sparkline(&[0.0, 0.0]), "  ");
        let mut h = History::new(0, 1000, 8);
        h.add(0, 0, 2);
        h.add(3000, 0, 4);
        let v = resample(&h, 0, 4000, 4);
        assert_eq!(v, vec![2.0, 0.0, 0.0, 4.0]);
    }
}
