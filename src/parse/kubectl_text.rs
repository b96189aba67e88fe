//! What people paste from a terminal: `kubectl describe` (its Events section), `kubectl get
//! events` / `kubectl events` tables (`-A`, `-w`) and `kubectl get KIND` tables (`-w`, with or
//! without `--output-watch-events`, `-o wide`, several blocks in one paste). Each block is
//! recognised by its header line; a pasted command line above it (`$ kubectl get pods -n x -w`)
//! names the kind and namespace when the table does not.
//!
//! Times: kubectl prints ages, not times. Every row has an age against a fixed instant of its
//! identity (AGE: the object's creation; `over 10m` or a single Event's age: the Event's first
//! occurrence), so the same identity seen again says how much later its row was printed. That
//! gives a relative print clock across the paste; the last row is taken to have been printed at
//! the reference time (`--now`, else the file's modification time). Rows are therefore held
//! until the input ends (up to [`MAX_ROWS`], then anchored early), sorted by time and emitted.
//!
//! Aggregated Events (`13s (x120 over 10m)`) are spread evenly over their span, one record per
//! second at most, so a storm reads as a sustained rate rather than one burst.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::observe::{ChangeRef, Changes};

use super::{
    EventRecord, ObjectKey, ObjectState, ParseReport, Record, RecordBody, SeenRecord, Verb, WriteRecord,
    Writer, object_key,
};

/// Rows held before the paste is anchored early (memory stays bounded on huge `-w` logs).
pub const MAX_ROWS: usize = 1 << 20;

/// Records one aggregated row is spread into, at most.
pub const MAX_SPREAD: i64 = 3600;

/// What a pasted command line says about the tables under it.
#[derive(Clone, Debug, Default, PartialEq)]
struct Command {
    /// The resource argument (`pods`, `captcontrolplane`, `deploy/web`).
    resource: Option<String>,
    namespace: Option<String>,
}

/// One column of a table header: its name and where it starts (in chars).
#[derive(Clone, Debug, PartialEq)]
struct Column {
    name: String,
    start: usize,
}

/// A row of a table: its cells under the header's columns.
struct Row<'a> {
    cols: &'a [Column],
    cells: Vec<String>,
}

impl Row<'_> {
    /// The cell under the column `name`.
    fn get(&self, name: &str) -> Option<&String> {
        self.cols.iter().position(|c| c.name == name).and_then(|i| self.cells.get(i))
    }
}

#[derive(Clone, Debug, Default)]
struct Subject {
    name: Option<String>,
    namespace: Option<String>,
    kind: Option<String>,
    group: Option<String>,
    /// Body keys seen, to guess the kind of built-in objects (describe prints no Kind for them).
    hints: Vec<String>,
}

enum Block {
    None,
    /// A describe body, before its Events section.
    Describe(Subject),
    DescribeEvents(Subject, Vec<Column>),
    Events(Vec<Column>),
    Objects(Vec<Column>),
}

/// A parsed row, before its time is known.
struct Pending {
    line: u64,
    /// Relative time (ms on the print clock), `None` when the row's age is `<unknown>`.
    at: Option<i64>,
    body: RecordBody,
}

#[derive(Clone)]
struct Seen {
    /// The identity's fixed instant on the print clock (creation, first occurrence).
    anchor: i64,
    /// Last count (Events) and last cells (objects).
    count: u64,
    last_at: i64,
    cells: Vec<(String, String)>,
    deleted: bool,
}

/// Per-input state; see the module docs.
pub struct KubectlText {
    block: Block,
    command: Command,
    /// The command line has not been used by a table yet (one command, one table).
    command_fresh: bool,
    /// Print clock of the last row (ms, relative).
    clock: i64,
    seen: HashMap<String, Seen>,
    pending: Vec<Pending>,
    used: bool,
}

impl Default for KubectlText {
    fn default() -> Self {
        KubectlText {
            block: Block::None,
            command: Command::default(),
            command_fresh: false,
            clock: 0,
            seen: HashMap::new(),
            pending: Vec::new(),
            used: false,
        }
    }
}

/// A kubectl human duration (`13s`, `2m5s`, `3h`, `2d3h`, `3y20d`) in milliseconds; `<invalid>`
/// (a time in the future: clock skew) is 0. `None` for anything else (including `<unknown>`).
pub fn parse_age(s: &str) -> Option<i64> {
    let s = s.trim();
    if s == "<invalid>" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(i64::from(d))?);
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'y' => 365 * 86_400,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(unit)?)?;
    }
    if num.is_some() {
        return None;
    }
    total.checked_mul(1000)
}

/// The `LAST SEEN` / `Age` of an Event row: `13s`, `13s (x120 over 10m)`, `<unknown>`,
/// `<invalid>`. Returns (last-seen age, count, first-seen age); the ages are `None` when unknown.
pub fn parse_event_age(s: &str) -> Option<(Option<i64>, u64, Option<i64>)> {
    let s = s.trim();
    let age = |a: &str| if a == "<unknown>" { Some(None) } else { parse_age(a).map(Some) };
    match s.split_once(" (x") {
        None => {
            let a = age(s)?;
            Some((a, 1, a))
        }
        Some((last, rest)) => {
            let rest = rest.strip_suffix(')')?;
            let (count, over) = rest.split_once(" over ")?;
            let count: u64 = count.trim().parse().ok()?;
            Some((age(last)?, count.max(1), age(over)?))
        }
    }
}

/// Splits a header line into columns: names separated by two or more spaces (or a tab).
fn header_columns(line: &str) -> Vec<Column> {
    let chars: Vec<char> = line.chars().collect();
    let mut cols = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let start = i;
        let mut name = String::new();
        while i < chars.len() {
            if chars[i] == '\t' || (chars[i] == ' ' && chars.get(i + 1).is_none_or(|c| c.is_whitespace())) {
                break;
            }
            name.push(chars[i]);
            i += 1;
        }
        cols.push(Column { name, start });
    }
    cols
}

/// Splits a row into as many cells as there are columns: by the header's column starts when the
/// row lines up with them (kubectl's tabwriter), else by runs of two or more spaces (rows of a
/// `-w` stream are padded one by one). The last cell takes the rest of the line.
fn split_row<'a>(line: &str, cols: &'a [Column]) -> Option<Row<'a>> {
    let chars: Vec<char> = line.chars().collect();
    let aligned = cols.iter().skip(1).all(|c| {
        c.start < chars.len()
            && chars[c.start - 1].is_whitespace()
            && !chars[c.start].is_whitespace()
            && (c.start < 2 || chars[c.start - 2].is_whitespace())
    }) && chars
        .first()
        .is_some_and(|c| !c.is_whitespace() || cols.first().is_some_and(|c0| c0.start > 0));
    if aligned && !cols.is_empty() {
        let mut cells = Vec::with_capacity(cols.len());
        for (k, c) in cols.iter().enumerate() {
            let end = cols.get(k + 1).map_or(chars.len(), |n| n.start);
            let cell: String = chars[c.start.min(chars.len())..end.min(chars.len())].iter().collect();
            cells.push(cell.trim().to_string());
        }
        if cells.iter().take(cols.len().saturating_sub(1)).all(|c| !c.is_empty()) {
            return Some(Row { cols, cells });
        }
    }
    let mut cells: Vec<String> = Vec::new();
    let mut rest = line.trim();
    while cells.len() + 1 < cols.len() {
        let cut = match (rest.find("  "), rest.find('\t')) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        cells.push(rest[..cut].trim().to_string());
        rest = rest[cut..].trim_start();
        if rest.is_empty() {
            return None;
        }
    }
    cells.push(rest.trim().to_string());
    (cells.len() == cols.len() && cells.iter().all(|c| !c.is_empty() || cols.len() == 1))
        .then_some(Row { cols, cells })
}

fn is_header_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "()_-./ ".contains(c))
}

/// Which table a header line starts.
fn table_header(line: &str) -> Option<(bool, Vec<Column>)> {
    let t = line.trim_start();
    let first = t.as_bytes().first()?;
    if !matches!(first, b'N' | b'L' | b'E') || line.len() > 2000 {
        return None;
    }
    let cols = header_columns(line);
    if cols.len() < 2 || !cols.iter().all(|c| is_header_word(&c.name)) {
        return None;
    }
    let has = |n: &str| cols.iter().any(|c| c.name == n);
    if has("LAST SEEN") && has("REASON") && (has("OBJECT") || has("MESSAGE")) {
        return Some((true, cols));
    }
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).take(3).collect();
    let starts_right = matches!(
        names.as_slice(),
        ["NAME", ..] | ["NAMESPACE", "NAME", ..] | ["EVENT", "NAME", ..] | ["EVENT", "NAMESPACE", "NAME", ..]
    );
    starts_right.then_some((false, cols))
}

/// `Kind/name`, `kind.group/name` or `kind/name` (lowercase, from `kubectl get events`).
fn split_kind_name(s: &str) -> Option<(String, String, &str)> {
    let (kind, name) = s.split_once('/')?;
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    let (kind, group) = kind.split_once('.').unwrap_or((kind, ""));
    Some((proper_kind(kind), group.to_string(), name))
}

/// `pod`, `pods`, `po`, `captcontrolplane` → the kind as the API names it.
pub fn proper_kind(s: &str) -> String {
    let l = s.to_ascii_lowercase();
    for k in crate::model::ALL_KINDS {
        if k.kind.eq_ignore_ascii_case(&l) || k.plural == l {
            return k.kind.to_string();
        }
    }
    let known: &[(&[&str], &str)] = &[
        (&["pod", "pods", "po"], "Pod"),
        (&["deployment", "deployments", "deploy"], "Deployment"),
        (&["replicaset", "replicasets", "rs"], "ReplicaSet"),
        (&["statefulset", "statefulsets", "sts"], "StatefulSet"),
        (&["daemonset", "daemonsets", "ds"], "DaemonSet"),
        (&["job", "jobs"], "Job"),
        (&["cronjob", "cronjobs", "cj"], "CronJob"),
        (&["service", "services", "svc"], "Service"),
        (&["configmap", "configmaps", "cm"], "ConfigMap"),
        (&["secret", "secrets"], "Secret"),
        (&["node", "nodes", "no"], "Node"),
        (&["namespace", "namespaces", "ns"], "Namespace"),
        (&["lease", "leases"], "Lease"),
        (&["endpoints", "ep"], "Endpoints"),
        (&["endpointslice", "endpointslices"], "EndpointSlice"),
        (&["persistentvolumeclaim", "persistentvolumeclaims", "pvc"], "PersistentVolumeClaim"),
        (&["persistentvolume", "persistentvolumes", "pv"], "PersistentVolume"),
        (&["serviceaccount", "serviceaccounts", "sa"], "ServiceAccount"),
        (&["event", "events", "ev"], "Event"),
        (&["workspace", "workspaces"], "Workspace"),
        (&["cluster", "clusters"], "Cluster"),
    ];
    for (names, kind) in known {
        if names.contains(&l.as_str()) {
            return (*kind).to_string();
        }
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        return s.to_string();
    }
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// The kind of a `kubectl get` table without a kind in its rows or command: by its columns.
fn kind_from_columns(cols: &[Column]) -> Option<&'static str> {
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    let has = |n: &str| names.contains(&n);
    Some(if has("READY") && has("STATUS") && has("RESTARTS") {
        "Pod"
    } else if has("UP-TO-DATE") && has("AVAILABLE") {
        "Deployment"
    } else if has("DESIRED") && has("CURRENT") && has("READY") && !has("NODE SELECTOR") {
        "ReplicaSet"
    } else if has("DESIRED") && has("NODE SELECTOR") {
        "DaemonSet"
    } else if has("CLUSTER-IP") {
        "Service"
    } else if has("ROLES") && has("VERSION") {
        "Node"
    } else if has("HOLDER") {
        "Lease"
    } else if has("DATA") && names.len() == 3 {
        "ConfigMap"
    } else {
        return None;
    })
}

/// A pasted command line: `$ kubectl get pods -n x -w`, `kubectl describe captcontrolplane y`.
fn command_line(line: &str) -> Option<Command> {
    let t = line.trim_start();
    let t = t.strip_prefix(['$', '%', '>', '#']).map_or(t, str::trim_start);
    let rest = t.strip_prefix("kubectl ").or_else(|| t.strip_prefix("k "))?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let mut cmd = Command::default();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if w == "-n" || w == "--namespace" {
            cmd.namespace = words.get(i + 1).map(|s| (*s).to_string());
            i += 2;
            continue;
        }
        if let Some(ns) = w.strip_prefix("--namespace=").or_else(|| w.strip_prefix("-n=")) {
            cmd.namespace = Some(ns.to_string());
        } else if w == "-o" || w == "--output" || w == "--for" || w == "-l" || w == "--selector" {
            i += 2;
            continue;
        } else if !w.starts_with('-') {
            positional.push(w);
        }
        i += 1;
    }
    match positional.first() {
        Some(&("get" | "describe")) => cmd.resource = positional.get(1).map(|s| (*s).to_string()),
        Some(&("events" | "alpha")) => cmd.resource = Some("events".into()),
        Some(_) | None => {}
    }
    Some(cmd)
}

/// `Name:  x` at column 0 (a describe body line): the key and the value.
fn describe_key(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(':')?;
    let first = k.chars().next()?;
    (first.is_ascii_uppercase()
        && k.len() <= 40
        && k.chars().all(|c| c.is_ascii_alphanumeric() || " -/()._".contains(c))
        && (v.is_empty() || v.starts_with([' ', '\t'])))
    .then(|| (k, v.trim()))
}

impl KubectlText {
    /// Whether any kubectl text was read (the footer then says which reference time ages use).
    pub fn used(&self) -> bool {
        self.used
    }

    /// Reads one text line. Returns `false` when it is not kubectl text (the caller reads it
    /// as a log line); `true` when it was consumed (a row, a header, a describe body line).
    pub fn line(&mut self, text: &str, line: u64, report: &mut ParseReport) -> bool {
        let text = text.strip_suffix('\r').unwrap_or(text);
        if matches!(self.block, Block::None) {
            return self.start(text, report);
        }
        let blank = text.trim().is_empty();
        match std::mem::replace(&mut self.block, Block::None) {
            Block::None => false,
            Block::Describe(mut subject) => {
                if let Some(rest) = text.strip_prefix("Events:") {
                    self.used = true;
                    report.ignored += 1;
                    if !rest.trim().is_empty() {
                        // `Events:  <none>`: the describe ends here.
                        return true;
                    }
                    self.block = Block::Describe(subject);
                    return true;
                }
                // Header of the Events table inside a describe.
                let t = text.trim_start();
                if t.starts_with("Type")
                    && t.contains("Reason")
                    && t.contains("Message")
                    && text.starts_with(' ')
                {
                    report.ignored += 1;
                    self.block = Block::DescribeEvents(subject, header_columns(text));
                    return true;
                }
                if blank || text.starts_with([' ', '\t']) {
                    report.ignored += 1;
                    self.block = Block::Describe(subject);
                    return true;
                }
                if let Some((k, v)) = describe_key(text) {
                    report.ignored += 1;
                    match k {
                        "Name" if subject.name.is_some() => {
                            // The next object of a multi-object describe.
                            subject = Subject::default();
                            subject.name = Some(v.to_string());
                        }
                        "Name" => subject.name = Some(v.to_string()),
                        "Namespace" => subject.namespace = Some(v.to_string()),
                        "Kind" => subject.kind = Some(v.to_string()),
                        "API Version" => subject.group = Some(super::group_of(v).to_string()),
                        _ => subject.hints.push(k.to_string()),
                    }
                    self.block = Block::Describe(subject);
                    return true;
                }
                self.start(text, report)
            }
            Block::DescribeEvents(subject, cols) => {
                if text.trim_start().starts_with("----") {
                    report.ignored += 1;
                    self.block = Block::DescribeEvents(subject, cols);
                    return true;
                }
                let parsed = !blank
                    && text.starts_with(' ')
                    && split_row(text, &cols)
                        .is_some_and(|row| self.describe_event(&subject, &row, line, report));
                self.after_row(parsed, Block::DescribeEvents(subject, cols), blank, text, report)
            }
            Block::Events(cols) => {
                let parsed =
                    !blank && split_row(text, &cols).is_some_and(|row| self.table_event(&row, line, report));
                self.after_row(parsed, Block::Events(cols), blank, text, report)
            }
            Block::Objects(cols) => {
                let parsed =
                    !blank && split_row(text, &cols).is_some_and(|row| self.table_object(&row, line, report));
                self.after_row(parsed, Block::Objects(cols), blank, text, report)
            }
        }
    }

    /// After a line inside a table: a parsed row keeps the block, a blank line is skipped (and
    /// ends the block), anything else may start the next one.
    fn after_row(
        &mut self,
        parsed: bool,
        block: Block,
        blank: bool,
        text: &str,
        report: &mut ParseReport,
    ) -> bool {
        if parsed {
            self.block = block;
            return true;
        }
        if blank {
            report.ignored += 1;
            return true;
        }
        self.start(text, report)
    }

    /// Outside a block: a header, a command line, or a describe's first line starts one.
    fn start(&mut self, text: &str, report: &mut ParseReport) -> bool {
        if let Some(cmd) = command_line(text) {
            self.command = cmd;
            self.command_fresh = true;
            report.ignored += 1;
            self.used = true;
            return true;
        }
        if let Some((events, cols)) = table_header(text) {
            // A command line names the table right below it, not a later one.
            if !std::mem::take(&mut self.command_fresh) {
                self.command = Command::default();
            }
            report.ignored += 1;
            self.used = true;
            self.block = if events { Block::Events(cols) } else { Block::Objects(cols) };
            return true;
        }
        if let Some(v) = text.strip_prefix("Name:")
            && (v.is_empty() || v.starts_with([' ', '\t']))
        {
            report.ignored += 1;
            self.used = true;
            self.block = Block::Describe(Subject { name: Some(v.trim().to_string()), ..Subject::default() });
            return true;
        }
        if text.starts_with("No resources found") || text.starts_with("No events found") {
            report.ignored += 1;
            self.used = true;
            return true;
        }
        false
    }

    fn describe_event(&mut self, subject: &Subject, row: &Row, line: u64, report: &mut ParseReport) -> bool {
        let get = |n: &str| row.get(n);
        let (Some(typ), Some(reason), Some(age)) = (get("Type"), get("Reason"), get("Age")) else {
            return false;
        };
        let Some(age) = parse_event_age(age) else { return false };
        let Some(name) = subject.name.as_deref() else { return false };
        let kind = subject
            .kind
            .clone()
            .or_else(|| {
                self.command.resource.as_deref().map(|r| proper_kind(r.split('/').next().unwrap_or(r)))
            })
            .or_else(|| kind_from_hints(&subject.hints).map(str::to_string))
            .unwrap_or_else(|| "object".into());
        let ns = subject.namespace.as_deref().or(self.command.namespace.as_deref());
        let object = object_key(subject.group.as_deref().unwrap_or(""), &kind, ns, name);
        let source = get("From").filter(|s| !s.is_empty()).cloned();
        let message = get("Message").map_or("", |s| s.as_str());
        self.event(object, typ, reason, source, message, age, line, report);
        true
    }

    fn table_event(&mut self, row: &Row, line: u64, report: &mut ParseReport) -> bool {
        let get = |n: &str| row.get(n);
        let (Some(last), Some(reason)) = (get("LAST SEEN"), get("REASON")) else { return false };
        let Some(mut age) = parse_event_age(last) else { return false };
        // Older kubectl: separate FIRST SEEN and COUNT columns.
        if let Some(c) = get("COUNT").and_then(|c| c.parse::<u64>().ok()) {
            age.1 = c.max(1);
        }
        if let Some(first) = get("FIRST SEEN") {
            match parse_event_age(first) {
                Some((f, _, _)) => age.2 = f,
                None => return false,
            }
        }
        let ns = get("NAMESPACE").map(String::as_str).or(self.command.namespace.as_deref());
        let object = match get("OBJECT").and_then(|o| split_kind_name(o)) {
            Some((kind, group, name)) => object_key(&group, &kind, ns, name),
            None => match (get("NAME"), get("KIND")) {
                (Some(n), Some(k)) => object_key("", &proper_kind(k), ns, n.split('.').next().unwrap_or(n)),
                _ => return false,
            },
        };
        let typ = get("TYPE").map_or("", |s| s.as_str());
        let source = get("SOURCE").filter(|s| !s.is_empty()).cloned();
        let message = get("MESSAGE").map_or("", |s| s.as_str());
        self.event(object, typ, reason, source, message, age, line, report);
        true
    }

    /// One Event row: advances the print clock by its identity, queues the new occurrences.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        object: ObjectKey,
        typ: &str,
        reason: &str,
        source: Option<String>,
        message: &str,
        (last_age, count, first_age): (Option<i64>, u64, Option<i64>),
        line: u64,
        report: &mut ParseReport,
    ) {
        self.used = true;
        report.count("event");
        let msg: String = message.chars().take(200).collect();
        let id = format!("E\0{object}\0{reason}\0{msg}");
        let prev = self.seen.get(&id).cloned();
        let print = match (&prev, first_age) {
            (Some(p), Some(f)) => self.clock.max(p.anchor + f),
            _ => self.clock,
        };
        self.clock = print;
        let Some(last_age) = last_age else {
            // `<unknown>`: no time; one occurrence at the time of the record before it.
            report.ignored += u64::from(prev.is_some());
            if prev.is_none() {
                self.seen.insert(
                    id,
                    Seen { anchor: print, count, last_at: print, cells: Vec::new(), deleted: false },
                );
                self.push(line, None, event_body(&object, reason, typ, &source, count));
            }
            return;
        };
        let last_at = print - last_age;
        let first_at = first_age.map_or(last_at, |f| (print - f).min(last_at));
        let (delta, from, inclusive) = match &prev {
            Some(p) if count <= p.count => {
                report.ignored += 1;
                return;
            }
            // The earlier occurrences were queued with the earlier row: spread over (last, now].
            Some(p) => (count - p.count, p.last_at.min(last_at), false),
            None => (count, first_at, true),
        };
        self.seen.insert(id, Seen { anchor: first_at, count, last_at, cells: Vec::new(), deleted: false });
        // Spread over [from, last_at], one record per second at most.
        let span_s = ((last_at - from) / 1000).max(0);
        let pieces = i64::try_from(delta).unwrap_or(i64::MAX).min(span_s + 1).clamp(1, MAX_SPREAD);
        let delta = i64::try_from(delta).unwrap_or(i64::MAX);
        for k in 0..pieces {
            let n = delta / pieces + i64::from(k < delta % pieces);
            let at = match (inclusive, pieces) {
                (true, 1) => last_at,
                (true, _) => from + (last_at - from) * k / (pieces - 1),
                (false, _) => from + (last_at - from) * (k + 1) / pieces,
            };
            self.push(line, Some(at), event_body(&object, reason, typ, &source, n as u64));
        }
    }

    fn table_object(&mut self, row: &Row, line: u64, report: &mut ParseReport) -> bool {
        let get = |n: &str| row.get(n);
        let Some(name) = get("NAME") else { return false };
        let event = match get("EVENT").map(String::as_str) {
            None => None,
            Some(e @ ("ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR")) => Some(e),
            Some(_) => return false,
        };
        let age = match get("AGE") {
            Some(a) if a == "<unknown>" => None,
            Some(a) => match parse_age(a) {
                Some(a) => Some(a),
                None => return false,
            },
            None => None,
        };
        self.used = true;
        report.count("watch");
        if matches!(event, Some("BOOKMARK" | "ERROR")) {
            report.ignored += 1;
            return true;
        }
        let ns = get("NAMESPACE").map(String::as_str).or(self.command.namespace.as_deref());
        let object = match split_kind_name(name) {
            Some((kind, group, n)) => object_key(&group, &kind, ns, n),
            None => {
                let kind = self
                    .command
                    .resource
                    .as_deref()
                    .filter(|r| *r != "all" && !r.contains(','))
                    .map(|r| proper_kind(r.split('/').next().unwrap_or(r)))
                    .or_else(|| kind_from_columns(row.cols).map(str::to_string))
                    .unwrap_or_else(|| {
                        if report.note.is_none() {
                            report.note = Some(
                                "a kubectl table names no kind: paste the command line (`$ kubectl get KIND -w`) above it"
                                    .into(),
                            );
                        }
                        "object".into()
                    });
                object_key("", &kind, ns, name)
            }
        };
        let state_cells: Vec<(String, String)> = row
            .cols
            .iter()
            .zip(&row.cells)
            .filter(|(c, _)| !matches!(c.name.as_str(), "NAME" | "NAMESPACE" | "EVENT" | "AGE"))
            .map(|(c, v)| (c.name.clone(), v.clone()))
            .collect();
        let phase = state_cells
            .iter()
            .find(|(c, _)| c == "PHASE" || c == "STATUS")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty() && v != "<none>");
        let state = ObjectState { phase, ..ObjectState::default() };
        let id = format!("O\0{object}");
        let prev = self.seen.get(&id).cloned();
        // A smaller AGE for a known name: a new object of the same name (recreated).
        let recreated = match (&prev, age) {
            (Some(p), Some(a)) => !p.deleted && self.clock.max(p.last_at) - p.anchor > a + 1000,
            _ => false,
        };
        let print = match (&prev, age) {
            (Some(p), Some(a)) if !recreated && !p.deleted => self.clock.max(p.anchor + a),
            _ => self.clock,
        };
        self.clock = print;
        let anchor = age.map_or(print, |a| print - a);
        let at = Some(print);
        let write = |verb: Verb, fields: Changes| {
            RecordBody::Write(WriteRecord {
                object: object.clone(),
                verb,
                subresource: None,
                writer: Writer::default(),
                fields,
                operation: "watch".into(),
                state: state.clone(),
            })
        };
        match (&prev, event) {
            (_, Some("DELETED")) => {
                self.push(line, at, write(Verb::Delete, Changes::default()));
                self.seen
                    .insert(id, Seen { anchor, count: 0, last_at: print, cells: state_cells, deleted: true });
            }
            (None, Some("ADDED") | None) => {
                self.push(
                    line,
                    at,
                    RecordBody::Seen(SeenRecord { object: object.clone(), state: state.clone() }),
                );
                self.seen.insert(
                    id,
                    Seen { anchor, count: 0, last_at: print, cells: state_cells, deleted: false },
                );
            }
            (Some(p), _) if p.deleted || recreated || event == Some("ADDED") => {
                if recreated && !p.deleted {
                    self.push(line, at, write(Verb::Delete, Changes::default()));
                }
                let fields = changed(&[], &state_cells);
                self.push(line, at, write(Verb::Create, fields));
                self.seen.insert(
                    id,
                    Seen { anchor, count: 0, last_at: print, cells: state_cells, deleted: false },
                );
            }
            (prev, _) => {
                let old = prev.as_ref().map(|p| p.cells.as_slice()).unwrap_or(&[]);
                let fields = changed(old, &state_cells);
                self.push(line, at, write(Verb::Update, fields));
                let anchor = prev.as_ref().map_or(anchor, |p| p.anchor);
                self.seen.insert(
                    id,
                    Seen { anchor, count: 0, last_at: print, cells: state_cells, deleted: false },
                );
            }
        }
        true
    }

    fn push(&mut self, line: u64, at: Option<i64>, body: RecordBody) {
        self.pending.push(Pending { line, at, body });
    }

    /// Rows held: the caller flushes at [`MAX_ROWS`].
    pub fn held(&self) -> usize {
        self.pending.len()
    }

    /// Emits the held rows in time order, the last print taken to be at `reference` (rows of an
    /// unknown time keep their place after the row before them).
    pub fn flush(&mut self, reference: Option<DateTime<Utc>>, out: &mut Vec<Record>) {
        if self.pending.is_empty() {
            return;
        }
        let end = self.clock;
        let mut rows = std::mem::take(&mut self.pending);
        // Untimed rows take the time of the row before them, for sorting.
        let mut last = i64::MIN;
        let mut keyed: Vec<(i64, Pending)> = rows
            .drain(..)
            .map(|p| {
                if let Some(a) = p.at {
                    last = a;
                }
                (last, p)
            })
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        for (_, p) in keyed {
            let at = match (p.at, reference) {
                (Some(a), Some(r)) => r.checked_add_signed(TimeDelta::milliseconds(a - end)),
                _ => None,
            };
            out.push(Record { at, line: p.line, body: p.body });
        }
        // Later rows continue the clock from the anchored end.
        self.clock = end;
    }
}

fn event_body(object: &ObjectKey, reason: &str, typ: &str, source: &Option<String>, n: u64) -> RecordBody {
    RecordBody::Event(EventRecord {
        object: object.clone(),
        reason: reason.to_string(),
        count: n,
        first: None,
        warning: typ == "Warning",
        source: source.clone(),
    })
}

/// Describe bodies of built-in kinds carry no Kind line: guess from their keys.
fn kind_from_hints(hints: &[String]) -> Option<&'static str> {
    let has = |k: &str| hints.iter().any(|h| h == k);
    Some(if has("Containers") && has("IP") {
        "Pod"
    } else if has("StrategyType") {
        "Deployment"
    } else if has("Pods Status") && has("Replicas") {
        "ReplicaSet"
    } else if has("Pods Status") && has("Node-Selector") {
        "DaemonSet"
    } else if has("Roles") && has("Taints") {
        "Node"
    } else if has("Type") && has("IP Families") {
        "Service"
    } else {
        return None;
    })
}

/// Cells that differ from the previous row of the same object, as changed fields.
fn changed(old: &[(String, String)], new: &[(String, String)]) -> Changes {
    new.iter()
        .filter(|(c, v)| old.iter().find(|(oc, _)| oc == c).is_none_or(|(_, ov)| ov != v))
        .map(|(c, v)| ChangeRef { path: c, value: Some(v) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, now: &str) -> (Vec<Record>, ParseReport, usize) {
        let mut k = KubectlText::default();
        let mut rep = ParseReport::default();
        let mut not_mine = 0;
        for (i, l) in text.lines().enumerate() {
            if !k.line(l, i as u64 + 1, &mut rep) {
                not_mine += 1;
            }
        }
        let mut out = Vec::new();
        k.flush(super::super::parse_time(now), &mut out);
        (out, rep, not_mine)
    }

    fn events(records: &[Record]) -> Vec<(String, u64, String)> {
        records
            .iter()
            .filter_map(|r| match &r.body {
                RecordBody::Event(e) => Some((
                    e.object.to_string(),
                    e.count,
                    r.at.map(|t| t.format("%H:%M:%S").to_string()).unwrap_or_default(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("13s"), Some(13_000));
        assert_eq!(parse_age("2m5s"), Some(125_000));
        assert_eq!(parse_age("3h20m"), Some(12_000_000));
        assert_eq!(parse_age("2d3h"), Some((2 * 86_400 + 3 * 3600) * 1000));
        assert_eq!(parse_age("3y20d"), Some((3 * 365 + 20) * 86_400_000));
        assert_eq!(parse_age("<invalid>"), Some(0));
        assert_eq!(parse_age("<unknown>"), None);
        assert_eq!(parse_age("5"), None);
        assert_eq!(parse_age("s"), None);
        assert_eq!(parse_age("99999999999999999999s"), None);
        assert_eq!(parse_event_age("13s (x120 over 10m)"), Some((Some(13_000), 120, Some(600_000))));
        assert_eq!(parse_event_age("<unknown>"), Some((None, 1, None)));
        assert_eq!(parse_event_age("4m"), Some((Some(240_000), 1, Some(240_000))));
        assert_eq!(parse_event_age("13s (x120"), None);
    }

    #[test]
    fn command_lines() {
        let c = command_line("$ kubectl get pods -n capt-system -w").unwrap();
        assert_eq!((c.resource.as_deref(), c.namespace.as_deref()), (Some("pods"), Some("capt-system")));
        let c = command_line("kubectl -n=x describe captcontrolplane/demo").unwrap();
        assert_eq!(
            (c.resource.as_deref(), c.namespace.as_deref()),
            (Some("captcontrolplane/demo"), Some("x"))
        );
        assert!(command_line("I0728 04:49:42.283205 1 file.go:302] kubectl").is_none());
        assert_eq!(proper_kind("captcontrolplane"), "CAPTControlPlane");
        assert_eq!(proper_kind("deploy"), "Deployment");
        assert_eq!(proper_kind("widget"), "Widget");
    }

    #[test]
    fn describe_with_aggregated_events() {
        let text = "\
Name:         demo
Namespace:    capt-demo
Labels:       <none>
API Version:  controlplane.cluster.x-k8s.io/v1beta1
Kind:         CAPTControlPlane
Spec:
  Version:  v1.31
Events:
  Type     Reason       Age                  From             Message
  ----     ------       ----                 ----             -------
  Warning  SecretError  13s (x900 over 10m)  capt-controller  kubeconfig secret not found
  Normal   Created      <unknown>            capt-controller  created
  Normal   Synced       <invalid>            capt-controller  ok
";
        let (records, rep, not_mine) = read(text, "2026-11-30T12:00:00Z");
        assert_eq!(not_mine, 0);
        assert_eq!(rep.unread(), 0);
        let ev = events(&records);
        let total: u64 = ev.iter().filter(|e| e.0 == "CAPTControlPlane capt-demo/demo").map(|e| e.1).sum();
        assert_eq!(total, 902);
        // 900 spread over 11:50:00 .. 11:59:47, at most one record per second.
        assert!(ev.len() > 500 && ev.len() < 700, "{}", ev.len());
        assert_eq!(ev.first().map(|e| e.2.as_str()), Some("11:50:00"));
        assert!(ev.iter().any(|e| e.2 == "11:59:47"));
        assert!(ev.iter().any(|e| e.2 == "12:00:00"), "<invalid> is now");
        assert!(ev.iter().any(|e| e.2.is_empty()), "<unknown> has no time");
        match &records.iter().find(|r| matches!(r.body, RecordBody::Event(_))).unwrap().body {
            RecordBody::Event(e) => {
                assert_eq!(e.object.group, "controlplane.cluster.x-k8s.io");
                assert_eq!(e.source.as_deref(), Some("capt-controller"));
                assert!(e.warning);
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn describe_of_a_pod_and_none_events() {
        let text = "\
$ kubectl describe pod web-1 -n shop
Name:             web-1
Namespace:        shop
Node:             node-a/10.0.0.4
IP:               10.1.2.3
Containers:
  web:
    Image:  nginx
Events:
  Type     Reason   Age                From     Message
  ----     ------   ----               ----     -------
  Warning  BackOff  2m (x4 over 12m)   kubelet  Back-off restarting failed container web in pod web-1_shop(abc)

Name:        other
Namespace:   shop
Events:      <none>
I0728 04:49:42.283205       1 controller.go:302] \"Reconciling\"
";
        let (records, rep, not_mine) = read(text, "2026-11-30T12:00:00Z");
        assert_eq!(not_mine, 1, "the klog line is not kubectl text");
        assert_eq!(rep.records["event"], 1);
        let ev = events(&records);
        assert_eq!(ev.len(), 4);
        assert!(ev.iter().all(|e| e.0 == "Pod shop/web-1" && e.1 == 1));
        assert_eq!(ev[0].2, "11:48:00");
        assert_eq!(ev[3].2, "11:58:00");
    }

    #[test]
    fn events_tables_plain_all_namespaces_and_watch() {
        let text = "\
LAST SEEN   TYPE      REASON        OBJECT                        MESSAGE
5m          Normal    Scheduled     pod/web-1                     Successfully assigned shop/web-1 to node-a
30s         Warning   SecretError   captcontrolplane/demo         kubeconfig secret not found
";
        let (records, rep, not_mine) = read(text, "2026-11-30T12:00:00Z");
        assert_eq!((not_mine, rep.unread()), (0, 0));
        assert_eq!(
            events(&records),
            vec![
                ("Pod web-1".to_string(), 1, "11:55:00".to_string()),
                ("CAPTControlPlane demo".to_string(), 1, "11:59:30".to_string())
            ]
        );
        // kubectl events -A, then the same Event again while watching: the count grew by 3,
        // and `over` grew by 30 s: the second row was printed 30 s after the first.
        let text = "\
NAMESPACE   LAST SEEN            TYPE      REASON    OBJECT           MESSAGE
shop        10s (x5 over 2m)     Warning   BackOff   Pod/web-1        Back-off restarting failed container
shop        1s (x8 over 2m30s)   Warning   BackOff   Pod/web-1        Back-off restarting failed container
";
        let (records, _, not_mine) = read(text, "2026-11-30T12:00:00Z");
        assert_eq!(not_mine, 0);
        let ev = events(&records);
        assert_eq!(ev.iter().map(|e| e.1).sum::<u64>(), 8);
        assert!(ev.iter().all(|e| e.0 == "Pod shop/web-1"));
        assert_eq!(ev.first().unwrap().2, "11:57:30");
        assert_eq!(ev.last().unwrap().2, "11:59:59");
    }

    #[test]
    fn get_watch_tables() {
        // One object modified every 3 s: ages tell the spacing; the last row is at --now.
        let mut text =
            String::from("$ kubectl get captcontrolplanes -n demo -w\nNAME   READY   PHASE     AGE\n");
        for i in 0..5 {
            let phase = if i % 2 == 0 { "Ready" } else { "Failed" };
            text.push_str(&format!("demo   true    {phase}     {}s\n", 40 + 3 * i));
        }
        let (records, rep, not_mine) = read(&text, "2026-11-30T12:00:00Z");
        assert_eq!((not_mine, rep.unread()), (0, 0));
        let times: Vec<String> =
            records.iter().map(|r| r.at.unwrap().format("%H:%M:%S").to_string()).collect();
        assert_eq!(times, ["11:59:48", "11:59:51", "11:59:54", "11:59:57", "12:00:00"]);
        let RecordBody::Write(w) = &records[1].body else { panic!("{:?}", records[1]) };
        assert_eq!(w.object.to_string(), "CAPTControlPlane demo/demo");
        assert_eq!(w.fields.iter().map(|f| f.path).collect::<Vec<_>>(), ["PHASE"]);
        assert_eq!(w.state.phase.as_deref(), Some("Failed"));

        // --output-watch-events, -A, a recreate, and a second block of another kind.
        let text = "\
EVENT      NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE
ADDED      shop        web-1   1/1     Running   0          5m
MODIFIED   shop        web-1   0/1   Terminating   0     5m10s
DELETED    shop        web-1   0/1   Terminating   0     5m12s
ADDED      shop        web-1   0/1   Pending   0     0s

NAME   READY   UP-TO-DATE   AVAILABLE   AGE
web    1/1     1            1           9d
";
        let (records, rep, not_mine) = read(text, "2026-11-30T12:00:00Z");
        assert_eq!((not_mine, rep.unread()), (0, 0));
        let kinds: Vec<String> = records
            .iter()
            .map(|r| match &r.body {
                RecordBody::Write(w) => format!("{:?} {}", w.verb, w.object),
                RecordBody::Seen(s) => format!("seen {}", s.object),
                b => format!("{b:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "seen Pod shop/web-1",
                "Update Pod shop/web-1",
                "Delete Pod shop/web-1",
                "Create Pod shop/web-1",
                "seen Deployment web"
            ]
        );
    }

    #[test]
    fn recreated_without_event_column_and_unknown_kind() {
        let text = "\
NAME   FOO   AGE
x      a     50s
x      b     55s
x      a     2s
";
        let (records, rep, _) = read(text, "2026-11-30T12:00:00Z");
        let verbs: Vec<String> = records
            .iter()
            .map(|r| match &r.body {
                RecordBody::Write(w) => format!("{:?}", w.verb),
                _ => "seen".into(),
            })
            .collect();
        assert_eq!(verbs, ["seen", "Update", "Delete", "Create"]);
        assert!(rep.note.as_deref().unwrap_or("").contains("names no kind"));
    }

    #[test]
    fn not_kubectl_text() {
        let (_, _, not_mine) = read(
            "2025-03-31T09:33:49Z\tINFO\tReconciling\t{}\nE0728 04:49:42.283205 1 x.go:1] boom\nNAME is a word\n",
            "2026-11-30T12:00:00Z",
        );
        assert_eq!(not_mine, 3);
    }
}
