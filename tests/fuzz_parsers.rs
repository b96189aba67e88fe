//! A bounded fuzz pass over every parser (runs in CI in well under a minute): arbitrary bytes
//! and mutated valid records of every supported format go into the input parser (all formats,
//! each `--format`), the record splitter with tiny limits, the Prometheus and log line parsers,
//! the field flattener and the whole analysis. Nothing may panic, and the parse report must stay
//! consistent with the input.

use std::io::Read;

use kubectl_capt::analysis::{Input, analyze};
use kubectl_capt::detect::Config;
use kubectl_capt::parse::container::{ByteCounter, open_stream_input};
use kubectl_capt::parse::kubectl_text::{KubectlText, parse_age, parse_event_age};
use kubectl_capt::parse::logs::{LogOptions, LogParser};
use kubectl_capt::parse::scan::{Piece, Scanner};
use kubectl_capt::parse::{
    InputOptions, InputParser, ParseReport, Reference, ReferenceFrom, Restrict, fields, metrics, parse_time,
};
use proptest::prelude::*;

const FIXTURES: &[&[u8]] = &[
    include_bytes!("fixtures/analyze/audit.jsonl"),
    include_bytes!("fixtures/analyze/watch.json"),
    include_bytes!("fixtures/analyze/watch.yaml"),
    include_bytes!("fixtures/analyze/events.json"),
    include_bytes!("fixtures/analyze/metrics.txt"),
    include_bytes!("fixtures/analyze/mixed.log"),
    include_bytes!("fixtures/analyze/kubectl/describe-storm.txt"),
    include_bytes!("fixtures/analyze/kubectl/describe-calm.txt"),
    include_bytes!("fixtures/analyze/kubectl/events-tables.txt"),
    include_bytes!("fixtures/analyze/kubectl/get-watch.txt"),
    include_bytes!("fixtures/analyze/kubectl/dump-stream.txt"),
];

const RESTRICTS: &[Restrict] =
    &[Restrict::Any, Restrict::Audit, Restrict::Logs, Restrict::Watch, Restrict::Events, Restrict::Metrics];

/// Reads in small, uneven pieces so records straddle buffer refills.
struct Drip<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Drip<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(self.step).min(out.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.step = self.step % 97 + 3;
        Ok(n)
    }
}

fn check_report(r: &ParseReport, input_len: usize) {
    for p in [&r.malformed, &r.unknown, &r.truncated, &r.invalid_utf8] {
        assert!(p.first_lines.len() as u64 <= p.count);
        assert!(p.first_lines.len() <= kubectl_capt::parse::FIRST_LINES);
        assert!(p.first_lines.iter().all(|&l| l >= 1 && l <= r.lines.max(1) + 1), "{r:?}");
    }
    assert_eq!(r.bytes as usize, input_len, "every byte is read");
}

fn run_parser(data: &[u8], restrict: Restrict, step: usize) {
    let reference = parse_time("2026-11-30T12:00:00Z").map(|at| Reference { at, from: ReferenceFrom::Flag });
    let options = InputOptions {
        reference,
        container_log: step.is_multiple_of(5),
        ..InputOptions::new(restrict, 2026)
    };
    let mut p = InputParser::new("fuzz", Drip { data, step }, options).unwrap();
    let mut n = 0usize;
    for r in p.by_ref() {
        assert!(r.line >= 1);
        n += 1;
    }
    let report = p.into_report();
    check_report(&report, data.len());
    // An aggregated kubectl Event row (`x900 over 10m`) is spread into up to MAX_SPREAD records.
    let per_record = kubectl_capt::parse::kubectl_text::MAX_SPREAD as u64;
    assert!(n as u64 <= (report.total_records() + report.lines + 1) * per_record);
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop::collection::vec(
                prop_oneof![any::<u8>(), Just(b'{'), Just(b'}'), Just(b'"'), Just(b'\n'), Just(b'[')],
                0..16
            )
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 0usize..256).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(base: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut v = base.to_vec();
    for m in muts {
        let len = v.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if !v.is_empty() {
                    let i = i % v.len();
                    v[i] ^= b | 1;
                }
            }
            Mutation::Insert(i, bytes) => {
                let i = i % (v.len() + 1);
                v.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = i % len;
                let end = (i + n).min(v.len());
                if i < end {
                    v.drain(i..end);
                }
            }
            Mutation::Duplicate(i, n) => {
                let i = i % len;
                let end = (i + n).min(v.len());
                if i < end {
                    let chunk = v[i..end].to_vec();
                    v.splice(end..end, chunk);
                }
            }
            Mutation::Truncate(i) => v.truncate(i % len),
        }
    }
    v
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9 ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("(type|name|[a-z]{1,6})", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048), r in 0usize..6, step in 1usize..300) {
        run_parser(&data, RESTRICTS[r], step);
    }

    #[test]
    fn mutated_records_never_panic(f in 0usize..FIXTURES.len(), muts in prop::collection::vec(mutation(), 1..8), r in 0usize..6, step in 1usize..5000) {
        let data = mutate(FIXTURES[f], &muts);
        run_parser(&data, RESTRICTS[r], step);
    }

    #[test]
    fn spliced_formats_never_panic(a in 0usize..FIXTURES.len(), b in 0usize..FIXTURES.len(), cut_a in any::<usize>(), cut_b in any::<usize>()) {
        // The head of one format followed by the tail of another: mixed and cut records.
        let (x, y) = (FIXTURES[a], FIXTURES[b]);
        let mut data = x[..cut_a % (x.len() + 1)].to_vec();
        data.extend_from_slice(&y[cut_b % (y.len() + 1)..]);
        run_parser(&data, Restrict::Any, 4096);
    }

    #[test]
    fn splitter_with_tiny_limits(data in prop::collection::vec(prop_oneof![any::<u8>(), Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b'"'), Just(b'\\'), Just(b'\n')], 0..1024), limit in 0usize..64) {
        let mut s = Scanner::with_limit(Drip { data: &data, step: 7 }, limit);
        while let Some(p) = s.next_piece() {
            match p {
                Piece::Json { bytes, .. } | Piece::Text { bytes, .. } => prop_assert!(bytes.len() <= limit),
                Piece::Truncated { .. } | Piece::Stray { .. } => {}
            }
        }
        prop_assert_eq!(s.bytes() as usize, data.len());
    }

    #[test]
    fn line_parsers_never_panic(line in "\\PC{0,200}", raw in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = metrics::parse_sample(&line);
        let mut logs = LogParser::new(LogOptions { year: 2026 });
        let _ = logs.parse_line(line.as_bytes());
        let _ = logs.parse_line(&raw);
    }

    #[test]
    fn kubectl_text_never_panics(lines in prop::collection::vec(prop_oneof![
        "\\PC{0,120}",
        Just("NAME   READY   STATUS   AGE".to_string()),
        Just("EVENT   NAMESPACE   NAME   AGE".to_string()),
        Just("LAST SEEN   TYPE   REASON   OBJECT   MESSAGE".to_string()),
        Just("Name:  x".to_string()),
        Just("Events:".to_string()),
        Just("  Type  Reason  Age  From  Message".to_string()),
        "[a-z]{1,5}  (1/1|0s|5m|<invalid>|<unknown>|13s \\(x[0-9]{1,20} over [0-9]{1,3}m\\))  [A-Za-z/]{0,12}  (ADDED|DELETED|x)  [0-9a-z]{0,6}",
    ], 0..40), now in any::<i64>()) {
        let mut k = KubectlText::default();
        let mut report = ParseReport::default();
        for (i, l) in lines.iter().enumerate() {
            let _ = parse_age(l);
            let _ = parse_event_age(l);
            let _ = k.line(l, i as u64 + 1, &mut report);
        }
        let mut out = Vec::new();
        k.flush(chrono::DateTime::from_timestamp_millis(now % 8_000_000_000_000), &mut out);
        prop_assert!(out.iter().all(|r| r.line >= 1 && r.line <= lines.len() as u64));
    }

    #[test]
    fn containers_never_panic(f in 0usize..FIXTURES.len(), kind in 0usize..4, muts in prop::collection::vec(mutation(), 0..4)) {
        use std::io::Write;
        let plain = FIXTURES[f];
        let packed = match kind {
            0 => { let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()); e.write_all(plain).unwrap(); e.finish().unwrap() }
            1 => zstd::encode_all(plain, 1).unwrap(),
            2 => { let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast()); e.write_all(plain).unwrap(); e.finish().unwrap() }
            _ => { let mut b = tar::Builder::new(Vec::new()); let mut h = tar::Header::new_gnu(); h.set_size(plain.len() as u64); h.set_cksum(); b.append_data(&mut h, "m.log", plain).unwrap(); b.into_inner().unwrap() }
        };
        let data = mutate(&packed, &muts);
        if let Ok(opened) = open_stream_input("-", Box::new(std::io::Cursor::new(data)), &ByteCounter::default()) {
            for o in opened {
                let Ok(mut p) = InputParser::new(&o.name, o.reader, InputOptions::new(Restrict::Any, 2026)) else {
                    prop_assert!(!muts.is_empty());
                    continue;
                };
                p.by_ref().for_each(drop);
                if muts.is_empty() {
                    prop_assert_eq!(p.report().bytes as usize, plain.len());
                }
            }
        }
    }

    #[test]
    fn flatten_and_diff_never_panic(a in json_value(), b in json_value(), secret in any::<bool>()) {
        let la = fields::flatten(&a, secret);
        let lb = fields::flatten(&b, secret);
        prop_assert!(la.len() <= fields::MAX_LEAVES);
        let d = fields::diff(&fields::to_map(&la, &mut fields::PathPool::default()), &lb);
        if a == b {
            prop_assert!(d.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn whole_analysis_never_panics(f in 0usize..FIXTURES.len(), g in 0usize..FIXTURES.len(), muts in prop::collection::vec(mutation(), 0..6)) {
        let inputs = vec![
            Input::new("a", Box::new(std::io::Cursor::new(mutate(FIXTURES[f], &muts))), 2026),
            Input::new("b", Box::new(std::io::Cursor::new(FIXTURES[g].to_vec())), 2026),
        ];
        let a = analyze(inputs, Restrict::Any, Config { history_buckets: 32, ..Config::default() }).unwrap();
        let _ = kubectl_capt::render::analyze::render_text(&a, 5, true, false);
        let _ = kubectl_capt::render::plot::svg(&kubectl_capt::render::analyze::plot_data(&a, 5)).unwrap();
    }
}
