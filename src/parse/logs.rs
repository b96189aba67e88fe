//! controller-runtime log lines in the three encodings seen in the wild (zap JSON, zap console,
//! klog text), optionally wrapped in a CRI/containerd or `kubectl logs --timestamps` prefix or a
//! Docker json-file envelope. Each line becomes a [`LogRecord`]; a reconcile pass becomes a
//! [`Observation`](crate::observe::Observation) via [`LogRecord::observation`].
//!
//! Lines that look like a supported format but are broken are counted as malformed, other
//! lines as unrecognised, each with the first few line numbers. Nothing here panics on input.

use serde::Serialize;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::lines::{LineSplitter, MAX_LINE_BYTES};
use crate::observe::{Millis, ObjectKey, Observation};

/// Line numbers kept per kind of failure.
const FIRST_LINES: usize = 5;

/// Which encoding a line was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LogFormat {
    ZapJson,
    ZapConsole,
    Klog,
}

/// One parsed log line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogRecord {
    /// 1-based line number.
    pub line: u64,
    pub format: Option<LogFormat>,
    /// The time of the line (its own timestamp, else the CRI prefix's).
    pub at: Option<Millis>,
    pub level: String,
    pub message: String,
    pub controller: Option<String>,
    pub group: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub reconcile_id: Option<String>,
    pub error: Option<String>,
}

impl LogRecord {
    /// Whether this line marks a reconcile pass: it carries a `reconcileID`, or it is a
    /// `Reconciling <Kind>` line.
    pub fn is_reconcile(&self) -> bool {
        self.reconcile_id.is_some() || self.message.starts_with("Reconciling ")
    }

    /// The object the line is about, when it names one.
    pub fn object(&self) -> Option<ObjectKey> {
        let name = self.name.as_deref().filter(|n| !n.is_empty())?;
        let kind = self.kind.as_deref().or(self.controller.as_deref())?;
        Some(ObjectKey::new(self.group.as_deref().unwrap_or_default(), kind, self.namespace.as_deref(), name))
    }

    /// A reconcile-pass observation, for lines that mark a pass, name an object and have a time.
    pub fn observation(&self) -> Option<Observation> {
        if !self.is_reconcile() {
            return None;
        }
        Some(Observation::reconcile(self.at?, self.object()?, self.reconcile_id.clone()))
    }
}

/// What a parser counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStats {
    pub lines: u64,
    pub records: u64,
    pub zap_json: u64,
    pub zap_console: u64,
    pub klog: u64,
    /// Lines that had a CRI/containerd or timestamp prefix or a Docker envelope.
    pub wrapped: u64,
    /// Lines that mark a reconcile pass.
    pub reconcile_lines: u64,
    /// Reconcile lines without a time or an object (cannot be counted per object).
    pub reconcile_lines_unattributed: u64,
    pub blank: u64,
    /// Stack-trace and other continuation lines of the previous record.
    pub continuation: u64,
    /// Lines that look like a supported format but do not parse.
    pub malformed: u64,
    pub first_malformed: Vec<u64>,
    /// Lines in no supported format.
    pub unrecognised: u64,
    pub first_unrecognised: Vec<u64>,
    /// Lines longer than [`MAX_LINE_BYTES`], skipped unread.
    pub too_long: u64,
}

impl LogStats {
    fn malformed(&mut self, line: u64) {
        self.malformed += 1;
        if self.first_malformed.len() < FIRST_LINES {
            self.first_malformed.push(line);
        }
    }
    fn unrecognised(&mut self, line: u64) {
        self.unrecognised += 1;
        if self.first_unrecognised.len() < FIRST_LINES {
            self.first_unrecognised.push(line);
        }
    }

    /// "12 malformed (lines 3, 9, …), 2 unrecognised (lines 1, 2)" or empty.
    pub fn problems(&self) -> Option<String> {
        let part = |n: u64, what: &str, lines: &[u64]| {
            (n > 0).then(|| {
                let mut l: Vec<String> = lines.iter().map(u64::to_string).collect();
                if n as usize > lines.len() {
                    l.push("…".into());
                }
                format!("{n} {what} (line{} {})", if n == 1 { "" } else { "s" }, l.join(", "))
            })
        };
        let too_long = (self.too_long > 0).then(|| {
            let s = if self.too_long == 1 { "" } else { "s" };
            format!("{} line{s} over {} MiB skipped", self.too_long, MAX_LINE_BYTES >> 20)
        });
        let parts: Vec<String> = [
            part(self.malformed, "malformed", &self.first_malformed),
            part(self.unrecognised, "unrecognised", &self.first_unrecognised),
            too_long,
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// Options that the text cannot supply.
#[derive(Clone, Copy, Debug)]
pub struct LogOptions {
    /// klog headers have no year: the year to assume.
    pub year: i32,
}

/// A streaming parser: feed it lines in order.
#[derive(Debug)]
pub struct LogParser {
    options: LogOptions,
    stats: LogStats,
    /// A CRI partial line (`P`) waiting for its final part.
    partial: Option<(Option<Millis>, String)>,
    /// Whether the previous line was a record (for continuation lines).
    after_record: bool,
}

impl LogParser {
    pub fn new(options: LogOptions) -> Self {
        LogParser { options, stats: LogStats::default(), partial: None, after_record: false }
    }

    pub fn stats(&self) -> &LogStats {
        &self.stats
    }

    /// Parses one line (without its newline). Invalid UTF-8 is replaced, never rejected.
    pub fn parse_line(&mut self, raw: &[u8]) -> Option<LogRecord> {
        self.stats.lines += 1;
        let line_no = self.stats.lines;
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches(['\r', '\n']);
        let (prefix_time, content) = match unwrap_prefix(text) {
            Unwrapped::Plain(c) => (None, c.to_string()),
            Unwrapped::Cri { at, partial: true, content } => {
                self.stats.wrapped += 1;
                let p = self.partial.get_or_insert_with(|| (at, String::new()));
                if p.1.len() + content.len() > MAX_LINE_BYTES {
                    // Endless partial lines: one over-long line, not unbounded memory.
                    self.partial = None;
                    self.stats.too_long += 1;
                } else {
                    p.1.push_str(content);
                }
                return None;
            }
            Unwrapped::Cri { at, partial: false, content } => {
                self.stats.wrapped += 1;
                match self.partial.take() {
                    Some((first_at, mut s)) => {
                        s.push_str(content);
                        (first_at.or(at), s)
                    }
                    None => (at, content.to_string()),
                }
            }
            Unwrapped::Docker { at, content } => {
                self.stats.wrapped += 1;
                (at, content.trim_end_matches('\n').to_string())
            }
        };
        if content.trim().is_empty() {
            self.stats.blank += 1;
            return None;
        }
        let parsed = if content.starts_with('{') {
            Some(parse_zap_json(&content))
        } else if looks_like_klog(&content) {
            Some(parse_klog(&content, self.options.year))
        } else if looks_like_console(&content) {
            Some(parse_console(&content))
        } else {
            None
        };
        let mut record = match parsed {
            Some(Ok(r)) => r,
            Some(Err(())) => {
                self.stats.malformed(line_no);
                self.after_record = false;
                return None;
            }
            None => {
                // zap console prints an error's stack trace on the following lines: function
                // names (no spaces) and tab-indented file:line.
                if self.after_record && (content.starts_with([' ', '\t']) || !content.contains(' ')) {
                    self.stats.continuation += 1;
                } else {
                    self.stats.unrecognised(line_no);
                    self.after_record = false;
                }
                return None;
            }
        };
        self.after_record = true;
        record.line = line_no;
        if record.at.is_none() {
            record.at = prefix_time;
        }
        fill_identity(&mut record);
        self.stats.records += 1;
        match record.format {
            Some(LogFormat::ZapJson) => self.stats.zap_json += 1,
            Some(LogFormat::ZapConsole) => self.stats.zap_console += 1,
            Some(LogFormat::Klog) => self.stats.klog += 1,
            None => {}
        }
        if record.is_reconcile() {
            self.stats.reconcile_lines += 1;
            if record.at.is_none() || record.object().is_none() {
                self.stats.reconcile_lines_unattributed += 1;
            }
        }
        Some(record)
    }

    /// Parses a whole text, calling `f` for each record.
    pub fn parse_all(&mut self, bytes: &[u8], mut f: impl FnMut(LogRecord)) {
        let mut lines = bytes.split(|&b| b == b'\n').peekable();
        while let Some(line) = lines.next() {
            if line.is_empty() && lines.peek().is_none() {
                break; // the final newline
            }
            if let Some(r) = self.parse_line(line) {
                f(r);
            }
        }
    }
}

/// Where a followed log line's time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineTime {
    /// The line's own timestamp, else its arrival (a file: lines keep their own time).
    Own,
    /// Its arrival (a pod stream: the controller's clock may differ from ours).
    Arrival,
}

/// A followed log (file, stdin, pod stream) as bytes in, reconcile observations out: lines
/// capped at [`MAX_LINE_BYTES`] (longer ones counted in the stats), and a last line without a
/// newline parsed at the end of the input.
#[derive(Debug)]
pub struct LogStream {
    lines: LineSplitter,
    parser: LogParser,
    time: LineTime,
}

impl LogStream {
    pub fn new(options: LogOptions, time: LineTime) -> Self {
        LogStream { lines: LineSplitter::new(MAX_LINE_BYTES), parser: LogParser::new(options), time }
    }

    pub fn stats(&self) -> &LogStats {
        &self.parser.stats
    }

    /// Bytes of an unfinished line are waiting for their newline.
    pub fn has_partial(&self) -> bool {
        self.lines.has_partial()
    }

    /// Reads `bytes` that arrived at `arrival`; passes go to `out`.
    pub fn feed(&mut self, bytes: &[u8], arrival: Millis, out: &mut Vec<Observation>) {
        let (parser, time) = (&mut self.parser, self.time);
        self.lines.feed(bytes, |line| out.extend(observe(parser, time, line, arrival)));
        self.count_skipped();
    }

    /// The end of the input (or a line left unfinished for long): the rest is a line.
    pub fn finish(&mut self, arrival: Millis, out: &mut Vec<Observation>) {
        let (parser, time) = (&mut self.parser, self.time);
        self.lines.finish(|line| out.extend(observe(parser, time, line, arrival)));
        self.count_skipped();
    }

    fn count_skipped(&mut self) {
        let n = self.lines.take_skipped();
        self.parser.stats.lines += n;
        self.parser.stats.too_long += n;
    }
}

fn observe(parser: &mut LogParser, time: LineTime, line: &[u8], arrival: Millis) -> Option<Observation> {
    let mut record = parser.parse_line(line)?;
    if time == LineTime::Arrival || record.at.is_none() {
        record.at = Some(arrival);
    }
    record.observation()
}

enum Unwrapped<'a> {
    Plain(&'a str),
    Cri { at: Option<Millis>, partial: bool, content: &'a str },
    Docker { at: Option<Millis>, content: String },
}

fn unwrap_prefix(line: &str) -> Unwrapped<'_> {
    // Docker json-file: {"log":"...","stream":"stderr","time":"..."}
    if line.starts_with("{\"log\":")
        && let Ok(Value::Object(o)) = serde_json::from_str::<Value>(line)
        && let Some(Value::String(log)) = o.get("log")
        && o.contains_key("stream")
    {
        let at = o.get("time").and_then(Value::as_str).and_then(parse_time);
        return Unwrapped::Docker { at, content: log.clone() };
    }
    // CRI: <RFC3339Nano> <stdout|stderr> <P|F> <content>; kubectl --timestamps: <RFC3339> <content>
    let Some((first, rest)) = line.split_once(' ') else { return Unwrapped::Plain(line) };
    if first.len() < 20 || !first.as_bytes()[0].is_ascii_digit() || first.contains('\t') {
        return Unwrapped::Plain(line);
    }
    let Some(at) = parse_time(first) else { return Unwrapped::Plain(line) };
    let mut parts = rest.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("stdout" | "stderr"), Some(tag @ ("F" | "P")), content) => {
            Unwrapped::Cri { at: Some(at), partial: tag == "P", content: content.unwrap_or_default() }
        }
        (Some("stdout" | "stderr"), Some(tag), None) if tag == "F" || tag == "P" => {
            Unwrapped::Cri { at: Some(at), partial: tag == "P", content: "" }
        }
        _ => Unwrapped::Cri { at: Some(at), partial: false, content: rest },
    }
}

/// RFC 3339 (any precision), zap's ISO 8601 (`+0900`), or epoch seconds as a float.
pub fn parse_time(s: &str) -> Option<Millis> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(s, fmt) {
            return Some(t.timestamp_millis());
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    epoch(s)
}

fn epoch(s: &str) -> Option<Millis> {
    let secs: f64 = s.parse().ok()?;
    (secs.is_finite() && (0.0..1.0e11).contains(&secs)).then(|| (secs * 1000.0).round() as Millis)
}

/// A JSON object whose repeated keys keep their FIRST value. controller-runtime puts the
/// request's `namespace`/`name` first; a caller's own keys come after and can repeat them
/// (upstream CAPT logs `"name": <Workspace>` on `Found Workspace`), so the last value would
/// attribute the line to the wrong object.
struct FirstWins(Map<String, Value>);

impl<'de> Deserialize<'de> for FirstWins {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = FirstWins;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstWins, A::Error> {
                let mut out = Map::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.entry(k).or_insert(v);
                }
                Ok(FirstWins(out))
            }
        }
        d.deserialize_map(Fields)
    }
}

fn json_fields(text: &str) -> Option<Map<String, Value>> {
    serde_json::from_str::<FirstWins>(text).ok().map(|f| f.0)
}

fn parse_zap_json(line: &str) -> Result<LogRecord, ()> {
    let Some(o) = json_fields(line) else { return Err(()) };
    let msg = o.get("msg").or_else(|| o.get("message"));
    let level = o.get("level").or_else(|| o.get("severity"));
    if msg.is_none() && level.is_none() {
        return Err(());
    }
    let at = match o.get("ts").or_else(|| o.get("time")).or_else(|| o.get("timestamp")) {
        Some(Value::String(s)) => Some(parse_time(s).ok_or(())?),
        Some(Value::Number(n)) => Some(n.as_f64().and_then(|f| epoch(&f.to_string())).ok_or(())?),
        Some(_) => return Err(()),
        None => None,
    };
    let mut r = LogRecord {
        format: Some(LogFormat::ZapJson),
        at,
        level: level.map(value_text).unwrap_or_default(),
        message: msg.map(value_text).unwrap_or_default(),
        ..LogRecord::default()
    };
    fields_from_json(&mut r, &o);
    Ok(r)
}

/// The keys controller-runtime's logger adds to every line of a reconcile, whatever the encoding.
fn set_standard_fields(r: &mut LogRecord, get: impl Fn(&str) -> Option<String>) {
    r.controller = get("controller");
    r.group = get("controllerGroup");
    r.kind = get("controllerKind");
    r.namespace = get("namespace");
    r.name = get("name");
    r.reconcile_id = get("reconcileID");
    r.error = get("err").or_else(|| get("error"));
}

fn fields_from_json(r: &mut LogRecord, o: &Map<String, Value>) {
    let text = |k: &str| o.get(k).map(value_text).filter(|s| !s.is_empty());
    set_standard_fields(r, text);
    // The key named after the kind, {"name": .., "namespace": ..}, is the request itself.
    if let Some(kind) = r.kind.clone()
        && let Some(Value::Object(obj)) = o.get(&kind)
    {
        set_request(r, obj);
    }
    if r.kind.is_none() {
        r.kind = text("gvk").as_deref().and_then(kind_from_gvk);
    }
}

/// The request's object from a kind-keyed `{"name": .., "namespace": ..}`; it wins over loose
/// `name`/`namespace` keys.
fn set_request(r: &mut LogRecord, obj: &Map<String, Value>) {
    let text = |k: &str| obj.get(k).map(value_text).filter(|s| !s.is_empty());
    if let Some(name) = text("name") {
        r.name = Some(name);
        r.namespace = text("namespace").or(r.namespace.take());
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `/v1, Kind=Pod` or `apps/v1, Kind=Deployment` → the kind.
fn kind_from_gvk(gvk: &str) -> Option<String> {
    gvk.split("Kind=").nth(1).map(|k| k.trim().to_string()).filter(|k| !k.is_empty())
}

fn looks_like_console(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 10 && b[0].is_ascii_digit() && line.contains('\t')
}

fn is_caller(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(file, n)| {
        file.ends_with(".go") && !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit())
    })
}

fn parse_console(line: &str) -> Result<LogRecord, ()> {
    let parts: Vec<&str> = line.split('\t').collect();
    if parts.len() < 3 {
        return Err(());
    }
    let at = parse_time(parts[0]).ok_or(())?;
    let level = parts[1].trim().to_string();
    let mut middle: &[&str] = &parts[2..];
    let mut fields = None;
    if let Some(last) = middle.last()
        && last.trim_start().starts_with('{')
        && middle.len() > 1
    {
        match json_fields(last) {
            Some(o) => {
                fields = Some(o);
                middle = &middle[..middle.len() - 1];
            }
            None => return Err(()),
        }
    }
    // [logger] [caller] message
    if middle.len() >= 2 && is_caller(middle[0]) {
        middle = &middle[1..];
    } else if middle.len() >= 3 && is_caller(middle[1]) {
        middle = &middle[2..];
    } else if middle.len() >= 2 && !middle[0].contains(' ') {
        middle = &middle[1..];
    }
    let mut r = LogRecord {
        format: Some(LogFormat::ZapConsole),
        at: Some(at),
        level,
        message: middle.join("\t"),
        ..LogRecord::default()
    };
    if let Some(o) = fields {
        fields_from_json(&mut r, &o);
    }
    Ok(r)
}

fn looks_like_klog(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 21
        && matches!(b[0], b'I' | b'W' | b'E' | b'F')
        && b[1..5].iter().all(u8::is_ascii_digit)
        && b[5] == b' '
}

fn parse_klog(line: &str, year: i32) -> Result<LogRecord, ()> {
    // Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg
    let (header, body) =
        line.split_once("] ").or_else(|| line.strip_suffix(']').map(|h| (h, ""))).ok_or(())?;
    let mut h = header.split_whitespace();
    let (date, time) = (h.next().ok_or(())?, h.next().ok_or(())?);
    let _thread = h.next().ok_or(())?;
    let _caller = h.next().ok_or(())?;
    let month: u32 = date.get(1..3).and_then(|s| s.parse().ok()).ok_or(())?;
    let day: u32 = date.get(3..5).and_then(|s| s.parse().ok()).ok_or(())?;
    let t = chrono::NaiveTime::parse_from_str(time, "%H:%M:%S%.f").map_err(|_| ())?;
    let d = chrono::NaiveDate::from_ymd_opt(year, month, day).ok_or(())?;
    let level = match line.as_bytes()[0] {
        b'I' => "info",
        b'W' => "warning",
        b'E' => "error",
        _ => "fatal",
    };
    let mut r = LogRecord {
        format: Some(LogFormat::Klog),
        at: Some(d.and_time(t).and_utc().timestamp_millis()),
        level: level.into(),
        ..LogRecord::default()
    };
    let body = body.trim_start();
    if let Some(rest) = body.strip_prefix('"') {
        let (msg, rest) = go_quoted(rest).ok_or(())?;
        r.message = msg;
        let kv = klog_pairs(rest);
        let get =
            |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
        set_standard_fields(&mut r, get);
        // The kind-keyed value is the request: `ns/name`, `name`, or {"name":..,"namespace":..}.
        if let Some(kind) = r.kind.clone()
            && let Some(obj) = get(&kind)
        {
            match json_fields(&obj) {
                Some(o) => set_request(&mut r, &o),
                None => match obj.split_once('/') {
                    Some((ns, name)) => {
                        r.namespace = Some(ns.to_string());
                        r.name = Some(name.to_string());
                    }
                    None => r.name = Some(obj),
                },
            }
        }
    } else {
        r.message = body.to_string();
    }
    Ok(r)
}

/// Reads a Go-quoted string body (after the opening quote): (unescaped text, rest after the
/// closing quote).
fn go_quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// `key="value" key=value key={"a":1}` pairs; a value that does not parse ends the list.
fn klog_pairs(mut s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        let Some((key, rest)) = s.split_once('=') else { break };
        if key.is_empty() || key.contains(char::is_whitespace) {
            break;
        }
        let (value, rest) = if let Some(q) = rest.strip_prefix('"') {
            match go_quoted(q) {
                Some(v) => v,
                None => break,
            }
        } else if rest.starts_with(['{', '[', '<']) {
            let end = balanced_end(rest).unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        };
        out.push((key.to_string(), value));
        s = rest;
    }
    out
}

fn balanced_end(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' | '<' => depth += 1,
            '}' | ']' | '>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + c.len_utf8());
                }
            }
            _ => {}
        }
    }
    None
}

/// Fills the kind from `Reconciling <Kind>` and the group of kinds this project knows.
fn fill_identity(r: &mut LogRecord) {
    if r.kind.is_none()
        && let Some(rest) = r.message.strip_prefix("Reconciling ")
    {
        r.kind = rest.split_whitespace().next().map(str::to_string);
    }
    if r.group.is_none()
        && let Some(kind) = &r.kind
    {
        r.group = crate::model::ALL_KINDS.iter().find(|k| k.kind == kind).map(|k| k.group.to_string());
    }
}

#[cfg(test)]
mod tests;
