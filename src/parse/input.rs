//! One input (a file or stdin) as a stream of [`Record`]s: detects the format from the first
//! bytes, splits the rest record by record, classifies each record on its own (audit event,
//! watch event, object, Event, log line, envelope around any of these) and keeps the
//! [`ParseReport`].

use std::collections::VecDeque;
use std::io::{Chain, Cursor, Read};

use serde_json::Value;

use super::audit::{self, AuditEvent, AuditState, Decoded};
use super::chunks::{Chunk, Chunks, Decode, Item};
use super::events::{self, EventState};
use super::format::{self, Format};
use super::kubectl_text::{self, KubectlText};
use super::metrics::MetricsParser;
use super::scan::{Feed, Piece, Scanner};
use super::watch_dump::{self, EventType, WatchState};
use super::{MAX_RECORD_BYTES, ParseReport, Record, RecordBody, Reference};

/// What an input may contain (`--format`); records of other kinds count as unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restrict {
    Any,
    Audit,
    Logs,
    Watch,
    Events,
    Metrics,
}

/// How to read an input.
#[derive(Clone, Copy, Debug)]
pub struct InputOptions {
    pub restrict: Restrict,
    /// The year klog lines (which have none) are assumed to be in.
    pub year: i32,
    /// What kubectl ages are relative to; without one, rows of kubectl text have no time.
    pub reference: Option<Reference>,
    /// A container log of a cluster dump: lines in no controller log format are not relevant
    /// (another program's output) rather than unknown.
    pub container_log: bool,
}

impl InputOptions {
    pub fn new(restrict: Restrict, year: i32) -> Self {
        InputOptions { restrict, year, reference: None, container_log: false }
    }
}

/// Fields of a log-shipping envelope that may hold a record as a string.
const ENVELOPE_FIELDS: &[&str] = &["log", "message", "@message", "textPayload", "MESSAGE", "body"];

type Src<R> = Chain<Cursor<Vec<u8>>, R>;

/// Where the scanner reads: the input itself, or the raw bytes [`Chunks`] hand over.
enum Source<R> {
    Direct(Src<R>),
    Fed(Feed),
    /// Only while switching from one to the other.
    Gone,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Direct(r) => r.read(out),
            Source::Fed(f) => f.read(out),
            Source::Gone => Ok(0),
        }
    }
}

/// The chunk being read out of [`Chunks`].
struct Chunked {
    chunks: Chunks,
    chunk: Option<Chunk>,
    next: usize,
}

enum Mode {
    /// JSON records and text lines.
    Lines,
    Yaml,
    Metrics,
    /// Nothing to read (empty, or an unknown format).
    Skip,
}

/// See the module docs. Iterate it for records; [`InputParser::report`] says what could not be
/// read.
pub struct InputParser<R: Read> {
    scanner: Scanner<Source<R>>,
    chunked: Option<Chunked>,
    mode: Mode,
    restrict: Restrict,
    report: ParseReport,
    audit: AuditState,
    watch: WatchState,
    events: EventState,
    metrics: MetricsParser,
    logs: super::log_lines::LogInput,
    kubectl: KubectlText,
    reference: Option<Reference>,
    /// Inside a container log (a dump file, or `==== START logs ...` in a dump stream).
    container_log: bool,
    in_dump_logs: bool,
    queue: VecDeque<Record>,
    yaml_doc: String,
    yaml_line: u64,
    yaml_over: bool,
    finished: bool,
}

impl<R: Read> InputParser<R> {
    /// Reads the first bytes to detect the format. `source` names the input in the report.
    pub fn new(source: &str, mut reader: R, options: InputOptions) -> std::io::Result<Self> {
        let restrict = options.restrict;
        let mut head = Vec::with_capacity(format::SNIFF_BYTES);
        (&mut reader).take(format::SNIFF_BYTES as u64).read_to_end(&mut head)?;
        let detected = format::sniff(&head);
        let mut report = ParseReport::new(source);
        report.format = detected;
        let mode = match (detected, restrict) {
            (Format::Empty, _) => Mode::Skip,
            (Format::Unknown, _) => {
                report.unknown.add(1);
                report.note = Some(format::unknown_reason(&head).to_string());
                Mode::Skip
            }
            (_, Restrict::Metrics) | (Format::Metrics, Restrict::Any) => Mode::Metrics,
            (Format::Yaml, Restrict::Any | Restrict::Watch | Restrict::Events) => Mode::Yaml,
            _ => Mode::Lines,
        };
        let scanner = Scanner::new(Source::Direct(Cursor::new(head).chain(reader)));
        let scanner = if matches!(mode, Mode::Lines) { scanner } else { scanner.text_only() };
        Ok(InputParser {
            scanner,
            chunked: None,
            mode,
            restrict,
            report,
            audit: AuditState::default(),
            watch: WatchState::default(),
            events: EventState::default(),
            metrics: MetricsParser::default(),
            logs: super::log_lines::LogInput::new(options.year),
            kubectl: KubectlText::default(),
            reference: options.reference,
            container_log: options.container_log,
            in_dump_logs: false,
            queue: VecDeque::new(),
            yaml_doc: String::new(),
            yaml_line: 0,
            yaml_over: false,
            finished: false,
        })
    }

    /// Decodes audit lines on `workers` threads, `chunk_bytes` at a time (JSON records and
    /// log lines only; other inputs, and lines longer than a chunk, are read as before). The
    /// records and the report are the same as without.
    pub fn chunked(mut self, workers: usize, chunk_bytes: usize) -> Self
    where
        R: Send + 'static,
    {
        if !matches!(self.mode, Mode::Lines) || self.chunked.is_some() {
            return self;
        }
        let Source::Direct(reader) =
            std::mem::replace(self.scanner.reader_mut(), Source::Fed(Feed::default()))
        else {
            return self;
        };
        let decode = Decode { audit: self.allows(Restrict::Audit) };
        let chunks = Chunks::start(reader, decode, workers, chunk_bytes);
        self.scanner = std::mem::replace(&mut self.scanner, Scanner::new(Source::Gone)).fed();
        self.chunked = Some(Chunked { chunks, chunk: None, next: 0 });
        self
    }

    /// Hands the scanner its next bytes from the chunks, or reads the next audit line the
    /// workers decoded straight into the audit state when the scanner is between lines.
    fn feed(&mut self) {
        let Some(c) = self.chunked.as_mut() else { return };
        loop {
            let Some(chunk) = c.chunk.as_mut() else {
                match c.chunks.next_chunk() {
                    Some(chunk) => {
                        c.chunk = Some(chunk);
                        c.next = 0;
                        continue;
                    }
                    None => {
                        let error = c.chunks.take_error();
                        if let Source::Fed(f) = self.scanner.reader_mut() {
                            f.close(error);
                        }
                        return;
                    }
                }
            };
            let Some(item) = chunk.items.get_mut(c.next) else {
                if let Some(done) = c.chunk.take() {
                    c.chunks.recycle(done);
                }
                continue;
            };
            c.next += 1;
            let (start, end) = match std::mem::replace(item, Item::Raw { start: 0, end: 0 }) {
                Item::Audit { event, start, end } if self.scanner.idle() => {
                    let line = self.scanner.skip_line(end - start);
                    let mut out = Vec::new();
                    self.audit.line(event, line, &mut self.report, &mut out);
                    self.queue.extend(out);
                    return;
                }
                Item::Ignored { start, end } if self.scanner.idle() => {
                    self.scanner.skip_line(end - start);
                    AuditState::ignored(&mut self.report);
                    return;
                }
                Item::Audit { start, end, .. } | Item::Ignored { start, end } | Item::Raw { start, end } => {
                    (start, end)
                }
            };
            if let Source::Fed(f) = self.scanner.reader_mut() {
                f.push(&chunk.bytes[start..end]);
            }
            return;
        }
    }

    pub fn report(&self) -> &ParseReport {
        &self.report
    }

    pub fn into_report(self) -> ParseReport {
        self.report
    }

    /// Reads until at least one record is queued or the input ends.
    fn step(&mut self) {
        if matches!(self.mode, Mode::Skip) {
            self.scanner.drain();
            self.finish();
            return;
        }
        // Copy the piece out of the scanner's buffer only when needed: classification borrows
        // `self` mutably.
        let piece = match self.scanner.next_piece() {
            None => None,
            Some(Piece::Json { bytes, line }) => Some((true, bytes.to_vec(), line)),
            Some(Piece::Text { bytes, line }) => Some((false, bytes.to_vec(), line)),
            Some(Piece::Truncated { line }) => {
                self.report.truncated.add(line);
                return;
            }
            Some(Piece::Stray { line }) => {
                self.report.unknown.add(line);
                return;
            }
        };
        let Some((json, bytes, line)) = piece else {
            if self.chunked.is_some() && self.scanner.starved() {
                return self.feed();
            }
            self.finish();
            return;
        };
        let indent = self.scanner.text_indent();
        match self.mode {
            Mode::Lines if json => self.json(&bytes, line),
            Mode::Lines => {
                let text = self.text(&bytes, line);
                self.text_line(&text, line, indent);
            }
            Mode::Yaml => {
                let text = self.text(&bytes, line);
                self.yaml_line_in(&text, line);
            }
            Mode::Metrics => {
                let text = self.text(&bytes, line);
                if let Some(mut r) = self.metrics.line(&text, line, &mut self.report) {
                    // A scrape without timestamps was taken about when the file was written.
                    r.at = r.at.or(self.reference.map(|x| x.at));
                    self.queue.push_back(r);
                }
            }
            Mode::Skip => {}
        }
    }

    fn finish(&mut self) {
        if matches!(self.mode, Mode::Yaml) {
            self.yaml_flush();
        }
        let mut out = Vec::new();
        self.audit.flush(&mut out);
        self.kubectl.flush(self.reference.map(|r| r.at), &mut out);
        self.queue.extend(out);
        self.report.versions_forgotten = self.audit.versions_forgotten();
        if self.kubectl.used()
            && let Some(r) = self.reference
        {
            self.report.ages_relative_to = Some(r.to_string());
        }
        self.report.bytes = self.scanner.bytes();
        self.report.lines = self.scanner.lines();
        if let Some(e) = self.scanner.take_io_error() {
            self.report.truncated.add(self.report.lines + 1);
            self.report.note = Some(format!("read error: {e}"));
        }
        self.finished = true;
    }

    fn text(&mut self, bytes: &[u8], line: u64) -> String {
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => {
                self.report.invalid_utf8.add(line);
                String::from_utf8_lossy(bytes).into_owned()
            }
        }
    }

    fn allows(&self, r: Restrict) -> bool {
        self.restrict == Restrict::Any || self.restrict == r
    }

    fn json(&mut self, bytes: &[u8], line: u64) {
        if self.allows(Restrict::Audit)
            && let Some((event, _)) = audit::read_line(bytes)
        {
            let mut out = Vec::new();
            self.audit.line(event, line, &mut self.report, &mut out);
            self.queue.extend(out);
            return;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => self.value(v, line, bytes, 0),
            Err(_) => {
                if std::str::from_utf8(bytes).is_err() {
                    self.report.invalid_utf8.add(line);
                }
                self.report.malformed.add(line);
            }
        }
    }

    /// Classifies one JSON value. `raw` is its text (for log lines, which the log parser reads
    /// as text); `depth` > 0 inside an envelope.
    fn value(&mut self, v: Value, line: u64, raw: &[u8], depth: u8) {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        if v.get("auditID").is_some() && v.get("verb").is_some() {
            if !self.allows(Restrict::Audit) {
                return self.report.unknown.add(line);
            }
            if audit::is_read(&v) {
                return AuditState::ignored(&mut self.report);
            }
            match serde_json::from_value::<AuditEvent>(v).ok().and_then(Decoded::from_value) {
                Some(decoded) => {
                    let mut out = Vec::new();
                    self.audit.event(decoded, line, &mut self.report, &mut out);
                    self.queue.extend(out);
                }
                None => self.report.malformed.add(line),
            }
            return;
        }
        if v.get("msg").is_some() && (v.get("ts").is_some() || v.get("level").is_some()) {
            let text = String::from_utf8_lossy(raw).into_owned();
            return self.log_line(&text, line);
        }
        if let Some((t, obj)) = watch_dump::as_watch_event(&v) {
            if events::is_event(obj) {
                return self.event(obj, line, t == Some(EventType::Deleted));
            }
            if !self.allows(Restrict::Watch) {
                return self.report.unknown.add(line);
            }
            match t {
                // BOOKMARK, ERROR (e.g. 410 Gone): not about an object's content.
                None => {
                    self.report.count("watch");
                    self.report.ignored += 1;
                }
                Some(_) => {
                    if let Some(r) = self.watch.version(obj, t, line, &mut self.report) {
                        self.queue.push_back(r);
                    }
                }
            }
            return;
        }
        if events::is_event(&v) {
            return self.event(&v, line, false);
        }
        if let (Some(kind), Some(items)) = (s("kind"), v.get("items").and_then(Value::as_array))
            && kind.ends_with("List")
        {
            for item in items {
                let text = serde_json::to_vec(item).unwrap_or_default();
                self.value(item.clone(), line, &text, depth);
            }
            return;
        }
        let v = watch_dump::with_kind_from_self_link(v);
        if watch_dump::is_object(&v) {
            if !self.allows(Restrict::Watch) {
                return self.report.unknown.add(line);
            }
            if let Some(r) = self.watch.version(&v, None, line, &mut self.report) {
                self.queue.push_back(r);
            }
            return;
        }
        if depth == 0 {
            let inner = ENVELOPE_FIELDS
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str))
                .or_else(|| v.pointer("/properties/log").and_then(Value::as_str));
            if let Some(inner) = inner {
                let t = inner.trim();
                if t.starts_with('{') {
                    match serde_json::from_str::<Value>(t) {
                        Ok(iv) => return self.value(iv, line, t.as_bytes(), depth + 1),
                        Err(_) => return self.report.malformed.add(line),
                    }
                }
                let t = t.to_string();
                return self.log_line(&t, line);
            }
        }
        self.report.unknown.add(line);
    }

    fn event(&mut self, v: &Value, line: u64, deleted: bool) {
        if !self.allows(Restrict::Events) {
            return self.report.unknown.add(line);
        }
        if let Some(r) = self.events.event(v, line, deleted, &mut self.report) {
            self.queue.push_back(r);
        }
    }

    /// A text line: kubectl text (describe, tables), a dump's log markers, or a log line.
    fn text_line(&mut self, text: &str, line: u64, indent: usize) {
        if text.starts_with("==== START logs for container ") {
            self.in_dump_logs = true;
            self.report.ignored += 1;
            return;
        }
        if text.starts_with("==== END logs for container ") {
            self.in_dump_logs = false;
            self.report.ignored += 1;
            return;
        }
        if !self.in_dump_logs
            && !self.container_log
            && (self.allows(Restrict::Events) || self.allows(Restrict::Watch))
            && self.kubectl_line(text, line, indent)
        {
            if self.kubectl.held() >= kubectl_text::MAX_ROWS {
                let mut out = Vec::new();
                self.kubectl.flush(self.reference.map(|r| r.at), &mut out);
                self.queue.extend(out);
            }
            return;
        }
        self.log_line(text, line);
    }

    /// kubectl text is read by column: give it the line with its indentation.
    fn kubectl_line(&mut self, text: &str, line: u64, indent: usize) -> bool {
        if indent == 0 {
            return self.kubectl.line(text, line, &mut self.report);
        }
        let mut full = " ".repeat(indent.min(4096));
        full.push_str(text);
        self.kubectl.line(&full, line, &mut self.report)
    }

    fn log_line(&mut self, text: &str, line: u64) {
        if !self.allows(Restrict::Logs) {
            return self.report.unknown.add(line);
        }
        let foreign_ok = self.container_log || self.in_dump_logs;
        if let Some(r) = self.logs.line(text, line, &mut self.report, foreign_ok) {
            self.queue.push_back(r);
        }
    }

    fn yaml_line_in(&mut self, text: &str, line: u64) {
        if text.starts_with("---") || text == "..." {
            self.yaml_flush();
            return;
        }
        if self.yaml_doc.is_empty() && !self.yaml_over {
            self.yaml_line = line;
        }
        if self.yaml_over {
            return;
        }
        if self.yaml_doc.len() + text.len() + 1 > MAX_RECORD_BYTES {
            self.yaml_over = true;
            self.yaml_doc = String::new();
            return;
        }
        self.yaml_doc.push_str(text);
        self.yaml_doc.push('\n');
    }

    fn yaml_flush(&mut self) {
        let line = self.yaml_line;
        if std::mem::take(&mut self.yaml_over) {
            self.report.truncated.add(line);
            return;
        }
        let doc = std::mem::take(&mut self.yaml_doc);
        if doc.trim().is_empty()
            || doc.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return;
        }
        match serde_yaml_ng::from_str::<Value>(&doc) {
            Ok(Value::Null) => {}
            Ok(Value::Array(items)) => {
                for item in items {
                    self.value(item, line, b"", 1);
                }
            }
            Ok(v) => self.value(v, line, b"", 1),
            Err(_) => self.report.malformed.add(line),
        }
    }
}

impl<R: Read> Iterator for InputParser<R> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(r) = self.queue.pop_front() {
                if r.at.is_none() && !matches!(r.body, RecordBody::Seen(_) | RecordBody::Sample(_)) {
                    self.report.untimed += 1;
                }
                return Some(r);
            }
            if self.finished {
                return None;
            }
            self.step();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Verb, WriteRecord};

    fn parse_with(bytes: &[u8], restrict: Restrict) -> (Vec<Record>, ParseReport) {
        let mut p = InputParser::new("t", bytes, InputOptions::new(restrict, 2026)).unwrap();
        let records: Vec<Record> = p.by_ref().collect();
        (records, p.into_report())
    }

    fn parse(bytes: &[u8]) -> (Vec<Record>, ParseReport) {
        parse_with(bytes, Restrict::Any)
    }

    /// Lines for generated inputs: audit events (writes, reads, both stages, a rejected write),
    /// and everything the chunked decoder must leave to the scanner in place.
    fn awkward_line(kind: usize, n: usize) -> String {
        let ev = |stage: &str, verb: &str, code: u16| {
            format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"id-{}","stage":"{stage}","verb":"{verb}","requestURI":"/api/v1/namespaces/ns/configmaps/c{}?fieldManager=m","objectRef":{{"resource":"configmaps","namespace":"ns","name":"c{}","apiVersion":"v1"}},"user":{{"username":"u"}},"responseStatus":{{"code":{code}}},"requestObject":{{"data":{{"k":"v{n}"}}}},"stageTimestamp":"2026-01-01T00:00:{:02}.000000Z"}}"#,
                n / 2,
                n % 3,
                n % 3,
                n % 60
            )
        };
        match kind {
            0 => ev("ResponseComplete", "patch", 200),
            1 => ev("RequestReceived", "update", 200),
            2 => ev("ResponseComplete", "get", 200),
            3 => ev("ResponseComplete", "update", 409),
            4 => format!("{}\r", ev("ResponseComplete", "create", 200)),
            5 => String::new(),
            6 => r#"{"auditID":"broken","verb":"patch","#.to_string(),
            7 => "not json at all".to_string(),
            8 => format!("  {}", ev("ResponseComplete", "delete", 200)),
            9 => "{\n  \"kind\": \"ConfigMap\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {\"name\": \"p\", \"namespace\": \"ns\"}\n}".to_string(),
            10 => "[".to_string(),
            11 => "]".to_string(),
            12 => r#"{"auditID":"i","verb":"patch","items":[{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}]}"#.to_string(),
            13 => format!("{} {}", ev("ResponseComplete", "patch", 200), ev("ResponseComplete", "patch", 200)),
            14 => format!("{}   \t", ev("ResponseComplete", "patch", 200)),
            15 => "{\"auditID\":\"x\",\"verb\":\"patch\",\"stage\":\"\u{1}é\\\"\"}".to_string(),
            // Reads the workers count without building: escaped strings, a wrong-typed field (no
            // audit event for either decoder), a verb that is not a string.
            16 => ev("ResponseComplete", "list", 200).replace("?fieldManager=m", "?a=1\\u0026watch=\\\"x\\\""),
            17 => ev("ResponseComplete", "watch", 200).replace(r#""user":{"username":"u"}"#, r#""user":{"username":7}"#),
            18 => ev("ResponseComplete", "get", 200).replace(r#""verb":"get""#, r#""verb":["get"]"#),
            // Bodies, which the workers work down to leaves: a response (diffed against the
            // object's last version), a Secret's, a JSON patch, a name only in the body.
            19 => ev("ResponseComplete", "update", 200).replace(
                r#""requestObject""#,
                &format!(
                    r#""responseObject":{{"metadata":{{"name":"c{}","resourceVersion":"{n}"}},"status":{{"conditions":[{{"type":"Ready","reason":"r{}"}}]}},"data":{{"k":"v{n}"}}}},"requestObject""#,
                    n % 3,
                    n % 2
                ),
            ),
            20 => ev("ResponseComplete", "patch", 200)
                .replace("configmaps", "secrets")
                .replace(r#""requestObject""#, r#""responseObject":{"metadata":{"name":"s"},"data":{"k":"c2VjcmV0"}},"requestObject""#),
            21 => ev("ResponseComplete", "patch", 200)
                .replace(r#""requestObject":{"data":{"k":"#, r#""requestObject":[{"op":"replace","path":"/data/k","value":"#)
                .replace(r#"}},"stageTimestamp""#, r#"}],"stageTimestamp""#),
            22 => ev("ResponseComplete", "create", 200)
                .replace(r#""name":"c"#, r#""name":"","x":"c"#)
                .replace(r#""requestObject""#, &format!(r#""responseObject":{{"metadata":{{"name":"gen-{n}"}}}},"requestObject""#)),
            _ => "\u{feff}".to_string() + &ev("ResponseComplete", "patch", 200),
        }
    }

    #[test]
    fn generated_body_lines_are_writes_read_from_their_bodies() {
        let write = |kind: usize| {
            let (records, report) = parse(awkward_line(kind, 4).as_bytes());
            assert_eq!(report.malformed.count, 0, "line kind {kind}");
            let w = writes(&records);
            assert_eq!(w.len(), 1, "line kind {kind}: {records:?}");
            w[0].0.clone()
        };
        let w = write(19);
        assert_eq!(w.state.phase.as_deref(), Some("r0"), "the response body's state");
        // No earlier version: the changes are what the request sent.
        assert_eq!(w.fields.iter().map(|f| f.path).collect::<Vec<_>>(), ["data.k"]);
        let w = write(20);
        assert_eq!(w.object.kind, "Secret");
        assert!(w.fields.iter().all(|f| f.value.is_none()) && !w.fields.is_empty(), "{:?}", w.fields);
        let w = write(21);
        assert_eq!(w.fields.get(0).unwrap().path, "data.k", "the JSON patch's path");
        assert_eq!(write(22).object.name, "gen-4", "the name from the response body");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Decoding audit lines in chunks on worker threads gives exactly the records and the
        /// report of the sequential scanner, whatever the chunk size (lines cut across chunks)
        /// (tiny ones cut every line; larger ones hold whole lines, which the workers decode)
        /// and whatever else is among the lines (CRLF, blanks, malformed and truncated JSON,
        /// text, pretty-printed objects, arrays, no final newline).
        #[test]
        fn chunked_decoding_gives_the_sequential_records_and_report(
            kinds in proptest::collection::vec(0usize..24, 0..60),
            chunk in proptest::prop_oneof![1usize..64, 600usize..6000],
            workers in 1usize..4,
            final_newline: bool,
            audit_only: bool,
        ) {
            let mut text = kinds.iter().enumerate().map(|(n, &k)| awkward_line(k, n)).collect::<Vec<_>>().join("\n");
            if final_newline {
                text.push('\n');
            }
            let restrict = if audit_only { Restrict::Audit } else { Restrict::Any };
            let options = InputOptions::new(restrict, 2026);
            let mut seq = InputParser::new("t", std::io::Cursor::new(text.clone().into_bytes()), options).unwrap();
            let seq_records: Vec<Record> = seq.by_ref().collect();
            let mut par = InputParser::new("t", std::io::Cursor::new(text.into_bytes()), options)
                .unwrap()
                .chunked(workers, chunk);
            let par_records: Vec<Record> = par.by_ref().collect();
            proptest::prop_assert_eq!(par_records, seq_records);
            proptest::prop_assert_eq!(format!("{:?}", par.into_report()), format!("{:?}", seq.into_report()));
        }
    }

    fn writes(records: &[Record]) -> Vec<(&WriteRecord, u64)> {
        records
            .iter()
            .filter_map(|r| match &r.body {
                RecordBody::Write(w) => Some((w, r.line)),
                _ => None,
            })
            .collect()
    }

    fn count(records: &[Record], f: impl Fn(&RecordBody) -> bool) -> usize {
        records.iter().filter(|r| f(&r.body)).count()
    }

    #[test]
    fn audit_fixture() {
        let (records, rep) = parse(include_bytes!("../../tests/fixtures/analyze/audit.jsonl"));
        let w = writes(&records);
        let lines: Vec<u64> = w.iter().map(|(_, l)| *l).collect();
        assert_eq!(lines, vec![2, 5, 7, 8, 9]);
        assert_eq!(w[0].0.writer.manager.as_deref(), Some("capt"));
        assert_eq!(w[0].0.object.kind, "CAPTControlPlane");
        assert_eq!(w[0].0.object.group, "controlplane.cluster.x-k8s.io");
        assert_eq!(w[1].0.writer.to_string(), "capt (alice as system:admin, manager/v0.0.0)");
        assert_eq!(w[3].0.verb, Verb::Delete);
        assert_eq!(w[3].0.subresource, None);
        assert_eq!((w[4].0.verb, w[4].0.object.name.as_str()), (Verb::Create, "second"));
        assert_eq!(rep.format, Format::Json);
        assert_eq!(rep.records["audit"], 8);
        assert_eq!(rep.ignored, 3);
        assert_eq!(rep.truncated.first_lines, vec![6]);
        assert_eq!(rep.unknown.first_lines, vec![10]);
        assert!(rep.malformed.is_empty());
        assert_eq!(rep.lines, 10);
        // --format watch: audit events are of an unknown kind there.
        let (records, rep) =
            parse_with(include_bytes!("../../tests/fixtures/analyze/audit.jsonl"), Restrict::Watch);
        assert!(records.is_empty());
        assert_eq!(rep.unknown.count, 9);
    }

    #[test]
    fn watch_fixtures_json_and_yaml() {
        for (bytes, fmt) in [
            (&include_bytes!("../../tests/fixtures/analyze/watch.json")[..], Format::Json),
            (&include_bytes!("../../tests/fixtures/analyze/watch.yaml")[..], Format::Yaml),
        ] {
            let (records, rep) = parse(bytes);
            assert_eq!(rep.format, fmt);
            assert_eq!(rep.unread(), 0, "{rep:?}");
            assert_eq!(count(&records, |b| matches!(b, RecordBody::Seen(_))), 1);
            let w = writes(&records);
            assert_eq!(w.len(), 3, "{fmt:?}");
            assert_eq!(
                w[0].0.fields.iter().map(|f| f.path).collect::<Vec<_>>(),
                [
                    "status.conditions[Ready].lastTransitionTime",
                    "status.conditions[Ready].reason",
                    "status.conditions[Ready].status",
                    "status.phase"
                ]
            );
            assert_eq!(w[0].0.state.owner.as_ref().map(|o| o.kind.as_str()), Some("Cluster"));
            assert_eq!(w[2].0.state.phase.as_deref(), Some("Failed"));
            assert!(records.iter().all(|r| r.at.is_some()));
        }
    }

    #[test]
    fn events_fixture() {
        let (records, rep) = parse(include_bytes!("../../tests/fixtures/analyze/events.json"));
        let ev: Vec<(String, u64)> = records
            .iter()
            .filter_map(|r| match &r.body {
                RecordBody::Event(e) => Some((format!("{}/{}", e.object.group, e.object.kind), e.count)),
                _ => None,
            })
            .collect();
        assert_eq!(
            ev,
            vec![
                ("controlplane.cluster.x-k8s.io/CAPTControlPlane".to_string(), 3),
                ("controlplane.cluster.x-k8s.io/CAPTControlPlane".to_string(), 1),
                ("apps/Deployment".to_string(), 4)
            ]
        );
        assert_eq!(rep.records["event"], 4);
        assert_eq!(rep.unknown.count, 1);
        let (records, rep) =
            parse_with(include_bytes!("../../tests/fixtures/analyze/events.json"), Restrict::Audit);
        assert!(records.is_empty());
        assert_eq!(rep.unknown.count, 4);
    }

    #[test]
    fn metrics_fixture() {
        let (records, rep) = parse(include_bytes!("../../tests/fixtures/analyze/metrics.txt"));
        assert_eq!(rep.format, Format::Metrics);
        assert_eq!(records.len(), 8);
        let last = records.last().map(|r| match &r.body {
            RecordBody::Sample(s) => (s.scrape, s.value),
            _ => (99, 0.0),
        });
        assert_eq!(last, Some((1, 730.0)));
        assert_eq!(rep.malformed.first_lines, vec![14]);
        assert_eq!(rep.ignored, 5);
    }

    #[test]
    fn mixed_formats_in_one_file() {
        let (records, rep) = parse(include_bytes!("../../tests/fixtures/analyze/mixed.log"));
        assert_eq!(rep.format, Format::Text);
        let passes: Vec<u64> =
            records.iter().filter(|r| matches!(r.body, RecordBody::Reconcile(_))).map(|r| r.line).collect();
        assert_eq!(passes, vec![1, 2, 3]);
        assert_eq!(writes(&records).iter().map(|w| w.1).collect::<Vec<_>>(), vec![4]);
        assert_eq!(count(&records, |b| matches!(b, RecordBody::Seen(_))), 1);
        assert_eq!(rep.unknown.first_lines, vec![6]);
        assert_eq!(rep.truncated.first_lines, vec![7]);
        assert!(rep.malformed.is_empty());
        assert!(records.iter().all(|r| r.at.is_some()));
    }

    #[test]
    fn empty_binary_and_invalid_utf8() {
        let (records, rep) = parse(b"");
        assert!(records.is_empty());
        assert_eq!((rep.format, rep.unread()), (Format::Empty, 0));
        let (records, rep) = parse(&[0x1f, 0x8b, 8, 0, 1, 2, 3]);
        assert!(records.is_empty());
        assert_eq!(rep.format, Format::Unknown);
        assert_eq!(rep.unknown.count, 1);
        assert!(rep.note.as_deref().unwrap_or("").contains("zcat"));
        // Invalid UTF-8 inside a JSON string: malformed, counted; a text line: read lossily.
        let mut bad = b"{\"auditID\":\"x\xff\",\"verb\":\"get\"}\n".to_vec();
        bad.extend_from_slice(b"2026-03-01T10:00:00Z\tINFO\tReconciling \xfe X\t{}\n");
        let (_, rep) = parse(&bad);
        assert_eq!(rep.malformed.first_lines, vec![1]);
        assert_eq!(rep.invalid_utf8.first_lines, vec![1, 2]);
    }

    #[test]
    fn huge_lines_are_truncated_not_kept() {
        let mut input = Vec::new();
        input.extend_from_slice(b"{\"kind\":\"X\",\"pad\":\"");
        input.extend(std::iter::repeat_n(b'a', MAX_RECORD_BYTES + 10));
        input.extend_from_slice(b"\"}\n");
        input.extend(std::iter::repeat_n(b'b', MAX_RECORD_BYTES + 10));
        input.extend_from_slice(b"\n");
        input.extend_from_slice(include_bytes!("../../tests/fixtures/analyze/audit.jsonl"));
        let (records, rep) = parse(&input);
        assert_eq!(rep.truncated.first_lines, vec![1, 2, 8]);
        assert_eq!(writes(&records).len(), 5);
    }

    #[test]
    fn concatenated_compact_values() {
        let one = r#"{"type":"MODIFIED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c","namespace":"d","resourceVersion":"1","managedFields":[{"manager":"m","operation":"Update","time":"2026-03-01T10:00:00Z"}]},"data":{"a":"1"}}}"#;
        let two = one
            .replace("\"1\"}}}", "\"2\"}}}")
            .replace("\"resourceVersion\":\"1\"", "\"resourceVersion\":\"2\"");
        let text = format!("{one}{two}");
        let (records, rep) = parse(text.as_bytes());
        assert_eq!(rep.unread(), 0);
        let w = writes(&records);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].0.fields.get(0).unwrap().path, "data.a");
    }

    #[test]
    fn kubectl_text_and_dump_fixtures_read_completely() {
        let reference = Some(Reference {
            at: crate::parse::parse_time("2026-11-30T12:00:00Z").unwrap(),
            from: crate::parse::ReferenceFrom::Flag,
        });
        let fixtures: [(&str, &[u8]); 5] = [
            ("describe-storm", include_bytes!("../../tests/fixtures/analyze/kubectl/describe-storm.txt")),
            ("describe-calm", include_bytes!("../../tests/fixtures/analyze/kubectl/describe-calm.txt")),
            ("events-tables", include_bytes!("../../tests/fixtures/analyze/kubectl/events-tables.txt")),
            ("get-watch", include_bytes!("../../tests/fixtures/analyze/kubectl/get-watch.txt")),
            ("dump-stream", include_bytes!("../../tests/fixtures/analyze/kubectl/dump-stream.txt")),
        ];
        for (name, bytes) in fixtures {
            let options = InputOptions { reference, ..InputOptions::new(Restrict::Any, 2026) };
            let mut p = InputParser::new(name, bytes, options).unwrap();
            let records: Vec<Record> = p.by_ref().collect();
            let rep = p.into_report();
            assert_eq!((rep.unread(), rep.invalid_utf8.count), (0, 0), "{name}: {rep:?}");
            assert!(!records.is_empty(), "{name}");
            if name == "dump-stream" {
                assert_eq!(count(&records, |b| matches!(b, RecordBody::Reconcile(_))), 2);
                assert_eq!(count(&records, |b| matches!(b, RecordBody::Seen(_))), 2);
                assert_eq!(rep.records["event"], 1);
                assert!(rep.ages_relative_to.is_none(), "no ages in a dump");
            } else {
                assert_eq!(rep.ages_relative_to.as_deref(), Some("2026-11-30T12:00:00Z (--now)"), "{name}");
            }
        }
        // Without the markers, the other program's lines are of an unknown format; in a
        // container log file they are not relevant.
        let text = b"Listening on 0.0.0.0:8443\n";
        let (_, rep) = parse(text);
        assert_eq!(rep.unknown.count, 1);
        let options = InputOptions { container_log: true, ..InputOptions::new(Restrict::Any, 2026) };
        let mut p = InputParser::new("logs.txt", &text[..], options).unwrap();
        p.by_ref().for_each(drop);
        let rep = p.into_report();
        assert_eq!((rep.unknown.count, rep.ignored), (0, 1));
    }
}
