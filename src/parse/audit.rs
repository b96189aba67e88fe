//! Kubernetes audit events (`audit.k8s.io/v1` and `v1beta1`, any level). A write is a
//! create/update/patch/delete of one `objectRef` (subresources included); the stages of one
//! request (`RequestReceived` → `ResponseComplete`) count once, by `auditID`, with bounded
//! memory: a request whose later stage never comes is counted when it falls out of the window.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::body::{Body, Text};
use super::fields::{self, Leaves};
use super::objects::STATE_FIELDS;
use super::skim;
use super::{
    ObjectKey, ObjectState, ParseReport, Record, RecordBody, Verb, WriteRecord, Writer, kind_for_resource,
    object_key, parse_time,
};
use crate::hash::FxBuild;

/// Requests waiting for their final stage, and finished IDs remembered to drop repeats.
const WINDOW: usize = 65_536;

/// Leaves of last versions kept over all objects (each object has at most
/// [`fields::MAX_LEAVES`]): a RequestResponse log of many large objects stays within a few tens
/// of MiB. The least recently written objects are forgotten first; their next write is read
/// from its request body, as when no earlier version was seen.
pub const MAX_KEPT_LEAVES: usize = 1 << 18;

/// The fields of an audit event the analysis reads; everything else is skipped unparsed.
/// Strings are `S`: owned (`String`) for the audit state, or [`Text`] borrowed from the line.
/// Bodies are `B`: a `Value` where the event was read as one (inside a list), else their JSON
/// text ([`RawEvent`]), read only for a write. Both string types accept exactly the same lines.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent<S = String, B = Value> {
    #[serde(rename = "auditID")]
    pub audit_id: Option<S>,
    pub stage: Option<S>,
    pub verb: Option<S>,
    #[serde(rename = "requestURI")]
    pub request_uri: Option<S>,
    pub object_ref: Option<AuditObjectRef<S>>,
    pub user: Option<UserInfo<S>>,
    pub impersonated_user: Option<UserInfo<S>>,
    pub user_agent: Option<S>,
    pub response_status: Option<ResponseStatus>,
    pub stage_timestamp: Option<S>,
    pub request_received_timestamp: Option<S>,
    /// v1beta1 only.
    pub timestamp: Option<S>,
    pub request_object: Option<B>,
    pub response_object: Option<B>,
    /// Not an audit field: a top-level `items` array makes the scanner read the line element
    /// by element, so the chunked decoder leaves such a line to it.
    #[serde(default)]
    pub items: Option<serde::de::IgnoredAny>,
}

/// An audit event as read from a line: strings borrowed, bodies as their text.
pub type RawEvent<'a> = AuditEvent<Text<'a>, &'a RawValue>;

/// An audit event's top-level members as read from a line, before typing: `auditID` and `verb`
/// as strings, every other member checked to be JSON and kept as its text. A read (three
/// quarters of an audit log) needs nothing more; a write's members are then typed from their
/// text ([`Spans::typed`]), with the types and errors of reading the line into a
/// [`RawEvent`] at once.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineFields<'a> {
    #[serde(rename = "auditID", borrow)]
    audit_id: Option<Text<'a>>,
    #[serde(borrow)]
    verb: Option<Text<'a>>,
    #[serde(borrow)]
    stage: Option<&'a RawValue>,
    #[serde(rename = "requestURI", borrow)]
    request_uri: Option<&'a RawValue>,
    #[serde(borrow)]
    object_ref: Option<&'a RawValue>,
    #[serde(borrow)]
    user: Option<&'a RawValue>,
    #[serde(borrow)]
    impersonated_user: Option<&'a RawValue>,
    #[serde(borrow)]
    user_agent: Option<&'a RawValue>,
    #[serde(borrow)]
    response_status: Option<&'a RawValue>,
    #[serde(borrow)]
    stage_timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    request_received_timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    request_object: Option<&'a RawValue>,
    #[serde(borrow)]
    response_object: Option<&'a RawValue>,
    #[serde(default)]
    items: Option<serde::de::IgnoredAny>,
}

impl<'a> LineFields<'a> {
    fn spans(self) -> Spans<'a> {
        use super::skim::member::*;
        let mut text = [None; COUNT];
        for (n, raw) in [
            (STAGE, self.stage),
            (REQUEST_URI, self.request_uri),
            (OBJECT_REF, self.object_ref),
            (USER, self.user),
            (IMPERSONATED_USER, self.impersonated_user),
            (USER_AGENT, self.user_agent),
            (RESPONSE_STATUS, self.response_status),
            (STAGE_TIMESTAMP, self.stage_timestamp),
            (REQUEST_RECEIVED_TIMESTAMP, self.request_received_timestamp),
            (TIMESTAMP, self.timestamp),
            (REQUEST_OBJECT, self.request_object),
            (RESPONSE_OBJECT, self.response_object),
        ] {
            text[n] = raw.map(RawValue::get);
        }
        Spans { audit_id: self.audit_id, verb: self.verb, items: self.items.is_some(), text }
    }
}

/// A line's members: `auditID` and `verb` as strings, whether it has `items`, and the others as
/// their JSON text by their number in [`super::skim::member`] (the places of those three are
/// not read), from [`LineFields`] or from the skim.
struct Spans<'a> {
    audit_id: Option<Text<'a>>,
    verb: Option<Text<'a>>,
    items: bool,
    text: [Option<&'a str>; super::skim::member::COUNT],
}

impl<'a> Spans<'a> {
    /// The members typed from their text, with the types and errors of reading the line into
    /// a [`RawEvent`] at once; the bodies stay text.
    fn typed(self) -> serde_json::Result<AuditEvent<Text<'a>, &'a str>> {
        use super::skim::member::*;
        let t = self.text;
        fn ty<'a, T: Deserialize<'a>>(text: Option<&'a str>) -> serde_json::Result<Option<T>> {
            text.map(serde_json::from_str).transpose()
        }
        Ok(AuditEvent {
            audit_id: self.audit_id,
            stage: string(t[STAGE])?,
            verb: self.verb,
            request_uri: string(t[REQUEST_URI])?,
            object_ref: ty(t[OBJECT_REF])?,
            user: ty(t[USER])?,
            impersonated_user: ty(t[IMPERSONATED_USER])?,
            user_agent: string(t[USER_AGENT])?,
            response_status: ty(t[RESPONSE_STATUS])?,
            stage_timestamp: string(t[STAGE_TIMESTAMP])?,
            request_received_timestamp: string(t[REQUEST_RECEIVED_TIMESTAMP])?,
            timestamp: string(t[TIMESTAMP])?,
            request_object: t[REQUEST_OBJECT],
            response_object: t[RESPONSE_OBJECT],
            items: self.items.then_some(serde::de::IgnoredAny),
        })
    }
}

/// What a line says as an audit event.
#[derive(Debug)]
pub enum AuditLine {
    /// A request that writes nothing (`get`, `list`, `watch`, ...): counted, never built.
    Read,
    Write(Box<Decoded>),
    /// A write's first stage: its final stage usually follows and replaces it.
    Early(Early),
}

/// A write's `RequestReceived` or `ResponseStarted` stage, read and typed (so it is an audit
/// event on the same terms as any other) but kept as its line: half of a log's writes are
/// these, and nearly all are replaced by their final stage unbuilt. Built from the line only if
/// none comes ([`AuditState::flush`], or it falls out of the window).
pub struct Early {
    id: u64,
    verb: Verb,
    /// Counted and ignored at once ([`AuditEvent::skipped`]); no text is kept.
    skipped: bool,
    line: Box<[u8]>,
}

/// The line's length only: it may be a Secret's request body.
impl std::fmt::Debug for Early {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Early")
            .field("id", &self.id)
            .field("verb", &self.verb)
            .field("skipped", &self.skipped)
            .field("line_bytes", &self.line.len())
            .finish()
    }
}

/// Reads a line that is one JSON text as an audit event, and whether it has a top-level
/// `items` member. `None` when it is not one: not an object, no `auditID` or `verb` string, or,
/// for a write, a member of the wrong type or a body a `Value` would refuse. A read's other
/// members are only checked to be JSON ([`is_read`] is the same rule for a `Value`). The one
/// reader of audit lines, for the chunk workers and the scanner alike.
pub fn read_line(json: &[u8]) -> Option<(AuditLine, bool)> {
    read(json, true)
}

/// [`read_line`]; a first stage is [`AuditLine::Early`] when `early`, else built.
fn read(json: &[u8], early: bool) -> Option<(AuditLine, bool)> {
    use super::skim::member::*;
    // The skim reads the members' text in one pass (a read needs nothing more); anything it is
    // not sure of is decoded in full.
    let Some(m) = super::skim::members(json) else { return decode_line(json, early) };
    let Some(verb) = m.verb() else { return decode_line(json, early) };
    let items = m.text[ITEMS].is_some();
    if Verb::parse(verb).is_none() {
        return Some((AuditLine::Read, items));
    }
    // The skim checked the text as UTF-8; were it not, decoding would decide.
    let mut strs = [None; COUNT];
    for (t, bytes) in strs.iter_mut().zip(m.text) {
        match bytes.map(std::str::from_utf8) {
            Some(Ok(s)) => *t = Some(s),
            Some(Err(_)) => return decode_line(json, early),
            None => {}
        }
    }
    // The verb was read above, without escapes.
    let (audit_id, verb) = (Some(string(strs[AUDIT_ID]).ok()??), Some(Text(verb.into())));
    let spans = Spans { audit_id, verb, items, text: strs };
    Some((write_line(spans.typed().ok()?, json, early)?, items))
}

/// The longest first stage kept as its line. Up to [`WINDOW`] wait for their final stage: a
/// longer line (a large request body) is worked down at once, as before, so that what waits
/// stays bounded by the leaves it is worked down to, not by the body's size.
const EARLY_LINE_MAX: usize = 8 << 10;

/// A write's line: [`AuditLine::Early`] for a first stage when `early` (and the line is not
/// over [`EARLY_LINE_MAX`]), else built.
fn write_line(event: AuditEvent<Text<'_>, &str>, json: &[u8], early: bool) -> Option<AuditLine> {
    let verb = event.write_verb()?;
    if early && !event.final_stage() && json.len() <= EARLY_LINE_MAX {
        let skipped = event.skipped();
        let line = if skipped { Box::default() } else { json.into() };
        let id = request_id(event.audit_id.as_ref().map(AsRef::as_ref));
        return Some(AuditLine::Early(Early { id, verb, skipped, line }));
    }
    Some(AuditLine::Write(Box::new(Decoded::from_text(event)?)))
}

/// A request's key in the pending and finished sets: a 64-bit hash of its `auditID` (a UUID),
/// so no allocation per request.
fn request_id(audit_id: Option<&str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    audit_id.unwrap_or_default().hash(&mut h);
    h.finish()
}

/// A member's JSON text as serde reads it into an `Option<Text>` (`None` when absent). The
/// text is JSON: quoted without a backslash, it is a string with exactly that content.
fn string(json: Option<&str>) -> serde_json::Result<Option<Text<'_>>> {
    match json.and_then(|t| t.strip_prefix('"')?.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Ok(Some(Text(inner.into()))),
        _ => json.map(serde_json::from_str).transpose(),
    }
}

/// [`read_line`] by decoding the line.
pub(super) fn decode_line(json: &[u8], early: bool) -> Option<(AuditLine, bool)> {
    // Valid UTF-8 (nearly every line): serde_json then skips checking each string again.
    let fields: LineFields = match std::str::from_utf8(json) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(json),
    }
    .ok()?;
    let items = fields.items.is_some();
    fields.audit_id.as_ref()?;
    let verb = fields.verb.as_ref()?;
    if Verb::parse(verb.as_ref()).is_none() {
        return Some((AuditLine::Read, items));
    }
    Some((write_line(fields.spans().typed().ok()?, json, early)?, items))
}

/// The rule of [`read_line`] for an event read as a `Value` (an item of a list): a string
/// `auditID` and a string `verb` that writes nothing.
pub fn is_read(v: &Value) -> bool {
    v.get("auditID").is_some_and(Value::is_string)
        && v.get("verb").and_then(Value::as_str).is_some_and(|verb| Verb::parse(verb).is_none())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditObjectRef<S = String> {
    pub resource: Option<S>,
    pub namespace: Option<S>,
    pub name: Option<S>,
    pub api_group: Option<S>,
    pub subresource: Option<S>,
}

#[derive(Debug, Deserialize)]
pub struct UserInfo<S = String> {
    pub username: Option<S>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseStatus {
    pub code: Option<i64>,
}

impl<S: AsRef<str>, B> AuditEvent<S, B> {
    /// The write this event's verb makes; `None` for reads (`get`, `list`, `watch`) and any
    /// other verb that writes nothing, which the audit state counts and ignores unlooked-at.
    pub fn write_verb(&self) -> Option<Verb> {
        self.verb.as_ref().and_then(|v| Verb::parse(v.as_ref()))
    }

    /// Not a first stage (`RequestReceived`, `ResponseStarted`): the response is known.
    fn final_stage(&self) -> bool {
        !matches!(self.stage.as_ref().map(AsRef::as_ref), Some("RequestReceived" | "ResponseStarted"))
    }

    /// A write the analysis does not count: no object, a virtual resource, a token request or
    /// a dry run.
    fn skipped(&self) -> bool {
        let Some(oref) = self.object_ref.as_ref() else { return true };
        let resource = oref.resource.as_ref().map_or("", AsRef::as_ref);
        let sub = oref.subresource.as_ref().map(AsRef::as_ref).filter(|s| !s.is_empty());
        let dry_run = self.request_uri.as_ref().is_some_and(|u| u.as_ref().contains("dryRun="));
        resource.is_empty() || VIRTUAL.contains(&resource) || sub == Some("token") || dry_run
    }
}

impl<B> AuditEvent<Text<'_>, B> {
    /// The event with owned strings and without its bodies, and the bodies (request, response).
    fn into_owned(self) -> (AuditEvent, Option<B>, Option<B>) {
        let s = |t: Option<Text>| t.map(|t| t.0.into_owned());
        let user = |u: Option<UserInfo<Text>>| u.map(|u| UserInfo { username: s(u.username) });
        let event = AuditEvent {
            audit_id: s(self.audit_id),
            stage: s(self.stage),
            verb: s(self.verb),
            request_uri: s(self.request_uri),
            object_ref: self.object_ref.map(|o| AuditObjectRef {
                resource: s(o.resource),
                namespace: s(o.namespace),
                name: s(o.name),
                api_group: s(o.api_group),
                subresource: s(o.subresource),
            }),
            user: user(self.user),
            impersonated_user: user(self.impersonated_user),
            user_agent: s(self.user_agent),
            response_status: self.response_status,
            stage_timestamp: s(self.stage_timestamp),
            request_received_timestamp: s(self.request_received_timestamp),
            timestamp: s(self.timestamp),
            request_object: None,
            response_object: None,
            items: self.items,
        };
        (event, self.request_object, self.response_object)
    }
}

impl AuditEvent {
    /// The kind its `objectRef` names (`Secret` decides what of its bodies may be shown).
    fn kind(&self) -> String {
        let oref = self.object_ref.as_ref();
        let resource = oref.and_then(|o| o.resource.as_deref()).unwrap_or("");
        let group = oref.and_then(|o| o.api_group.as_deref()).unwrap_or("");
        kind_for_resource(resource, group)
    }
}

/// An audit event with its bodies worked down to what the audit state reads: the response
/// body's name, leaves and state, the request body's changes and phase. Made where the line is
/// decoded (a chunk worker, or the parser thread), so a body's JSON tree is built and freed on
/// one thread, in parallel when chunked, and no tree waits in the pending requests.
#[derive(Debug)]
pub struct Decoded {
    /// The event without its bodies.
    pub event: AuditEvent,
    response: Option<ResponseBody>,
    request: Option<RequestBody>,
}

#[derive(Debug)]
struct ResponseBody {
    name: Option<String>,
    leaves: fields::Flat,
    state: ObjectState,
}

#[derive(Debug)]
struct RequestBody {
    /// What it says it changes, as leaves to show.
    changes: fields::Flat,
    phase: Option<String>,
}

impl Decoded {
    /// An event read from a line. `None` when a write's body is not JSON that a `Value` would
    /// hold (a lone surrogate escape, too deep): the line is then not an audit event, as when
    /// the whole line is read into a `Value`. A read's bodies are never looked at.
    pub fn new(raw: RawEvent) -> Option<Decoded> {
        let (event, request, response) = raw.into_owned();
        Decoded::work_down(event, request.map(RawValue::get), response.map(RawValue::get))
    }

    /// An event read from a line, its bodies as their text.
    fn from_text(e: AuditEvent<Text<'_>, &str>) -> Option<Decoded> {
        let (event, request, response) = e.into_owned();
        Decoded::work_down(event, request, response)
    }

    /// An event read as a `Value` (an item of a list): its bodies are read back from their text,
    /// so that both ways make the same `Decoded`.
    pub fn from_value(mut event: AuditEvent) -> Option<Decoded> {
        let text = |v: Option<Value>| v.map(|v| v.to_string());
        let (request, response) = (text(event.request_object.take()), text(event.response_object.take()));
        Decoded::work_down(event, request.as_deref(), response.as_deref())
    }

    fn work_down(event: AuditEvent, request: Option<&str>, response: Option<&str>) -> Option<Decoded> {
        if event.write_verb().is_none() {
            return Some(Decoded { event, response: None, request: None });
        }
        let secret = event.kind() == "Secret";
        let (request, response) = (request.map(skim::parse_body), response.map(skim::parse_body));
        let response = match response.transpose().ok()? {
            Some(b) if b.get("metadata").is_some() => Some(ResponseBody {
                name: b.get("metadata").and_then(|m| m.get("name")?.as_str()).map(str::to_string),
                leaves: fields::flatten(&b, secret),
                state: state_of(&b, secret),
            }),
            _ => None,
        };
        let request = request.transpose().ok()?.map(|req| RequestBody {
            changes: request_fields(&req, secret),
            phase: if secret { None } else { fields::phase_of(&req.select(STATE_FIELDS)) },
        });
        Some(Decoded { event, response, request })
    }
}

/// Virtual resources whose "create" stores nothing.
const VIRTUAL: &[&str] = &[
    "tokenreviews",
    "subjectaccessreviews",
    "selfsubjectaccessreviews",
    "localsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "selfsubjectreviews",
];

#[derive(Default)]
pub struct AuditState {
    // Keyed by a 64-bit hash of the auditID (a UUID): no allocation per request.
    pending: HashMap<u64, (Pending, Verb, u64)>,
    pending_order: VecDeque<u64>,
    done: HashSet<u64>,
    done_order: VecDeque<u64>,
    /// Last version per object, when events carry response bodies.
    versions: Versions,
}

/// A first stage waiting for its final stage.
enum Pending {
    Decoded(Box<Decoded>),
    /// An [`Early`] line.
    Line(Box<[u8]>),
}

/// The last version of each object, least recently written forgotten first beyond a budget of
/// leaves.
struct Versions {
    /// By a keyed hash of the object (no copy of its key per write; a collision cannot be
    /// crafted without the run's random keys).
    map: HashMap<u64, (Leaves, u64), FxBuild>,
    order: std::collections::BTreeMap<u64, u64>,
    keys: std::hash::RandomState,
    leaves: usize,
    budget: usize,
    seq: u64,
    forgotten: u64,
    paths: fields::PathPool,
}

impl Default for Versions {
    fn default() -> Self {
        Versions::new(MAX_KEPT_LEAVES)
    }
}

impl Versions {
    fn new(budget: usize) -> Self {
        Versions {
            map: HashMap::default(),
            order: Default::default(),
            leaves: 0,
            budget,
            seq: 0,
            forgotten: 0,
            paths: Default::default(),
            keys: Default::default(),
        }
    }

    /// What the versions are keyed by: taken once per write, for the lookup and the update.
    fn key(&self, object: &ObjectKey) -> u64 {
        self.keys.hash_one(object)
    }

    fn get(&self, key: u64) -> Option<&Leaves> {
        self.map.get(&key).map(|(l, _)| l)
    }

    fn remove(&mut self, key: u64) {
        if let Some((l, seq)) = self.map.remove(&key) {
            self.leaves -= l.len();
            self.order.remove(&seq);
        }
    }

    fn insert(&mut self, key: u64, leaves: Leaves) {
        self.remove(key);
        self.seq += 1;
        self.leaves += leaves.len();
        self.order.insert(self.seq, key);
        self.map.insert(key, (leaves, self.seq));
        while self.leaves > self.budget {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            if let Some((l, _)) = self.map.remove(&oldest) {
                self.leaves -= l.len();
                self.forgotten += 1;
            }
        }
    }
}

impl AuditState {
    /// Reads one line's audit event; finished writes go to `out`.
    pub fn line(&mut self, event: AuditLine, line: u64, report: &mut ParseReport, out: &mut Vec<Record>) {
        match event {
            AuditLine::Read => Self::ignored(report),
            AuditLine::Write(decoded) => self.event(*decoded, line, report, out),
            AuditLine::Early(early) => self.early(early, line, report, out),
        }
    }

    /// [`AuditState::event`] for a first stage kept as its line.
    fn early(&mut self, e: Early, line: u64, report: &mut ParseReport, out: &mut Vec<Record>) {
        report.count("audit");
        if e.skipped || self.done.contains(&e.id) || self.pending.contains_key(&e.id) {
            report.ignored += 1;
            return;
        }
        self.wait(e.id, Pending::Line(e.line), e.verb, line, out);
    }

    /// Reads one audit event; finished writes go to `out`.
    pub fn event(&mut self, decoded: Decoded, line: u64, report: &mut ParseReport, out: &mut Vec<Record>) {
        let ev = &decoded.event;
        let Some(verb) = ev.write_verb() else {
            return Self::ignored(report);
        };
        report.count("audit");
        if ev.skipped() {
            report.ignored += 1;
            return;
        }
        let id = request_id(ev.audit_id.as_deref());
        if self.done.contains(&id) {
            report.ignored += 1;
            return;
        }
        let final_stage = ev.final_stage();
        if !final_stage && self.pending.contains_key(&id) {
            report.ignored += 1;
            return;
        }
        if final_stage && self.pending.remove(&id).is_some() {
            report.ignored += 1;
        }
        let code = ev.response_status.as_ref().and_then(|s| s.code);
        if final_stage {
            self.remember_done(id);
            if code.is_some_and(|c| c >= 400) {
                // Rejected (conflict, forbidden, invalid): nothing was written.
                report.ignored += 1;
                return;
            }
        }
        if final_stage {
            out.push(self.write_record(decoded, verb, line));
        } else {
            self.wait(id, Pending::Decoded(Box::new(decoded)), verb, line, out);
        }
    }

    /// Keeps a first stage unbuilt: the final stage usually follows and replaces it. The oldest
    /// beyond the window are built now.
    fn wait(&mut self, id: u64, pending: Pending, verb: Verb, line: u64, out: &mut Vec<Record>) {
        self.pending.insert(id, (pending, verb, line));
        self.pending_order.push_back(id);
        while self.pending_order.len() > WINDOW {
            if let Some(old) = self.pending_order.pop_front()
                && let Some(p) = self.pending.remove(&old)
            {
                self.build_pending(p, out);
            }
        }
    }

    fn build_pending(&mut self, (pending, verb, line): (Pending, Verb, u64), out: &mut Vec<Record>) {
        let decoded = match pending {
            Pending::Decoded(d) => *d,
            // The line was read as an audit event before, so it reads the same now.
            Pending::Line(text) => match read(&text, false) {
                Some((AuditLine::Write(d), _)) => *d,
                _ => return,
            },
        };
        out.push(self.write_record(decoded, verb, line));
    }

    /// What [`AuditState::event`] does with an event without an [`AuditEvent::write_verb`].
    pub fn ignored(report: &mut ParseReport) {
        report.count("audit");
        report.ignored += 1;
    }

    /// Objects whose last version was forgotten to stay within [`MAX_KEPT_LEAVES`].
    pub fn versions_forgotten(&self) -> u64 {
        self.versions.forgotten
    }

    fn remember_done(&mut self, id: u64) {
        if self.done.insert(id) {
            self.done_order.push_back(id);
            if self.done_order.len() > WINDOW
                && let Some(old) = self.done_order.pop_front()
            {
                self.done.remove(&old);
            }
        }
    }

    /// Requests whose final stage never came (the log ends, or they were cut): counted as
    /// writes, since the request reached the server.
    pub fn flush(&mut self, out: &mut Vec<Record>) {
        let order: Vec<u64> = self.pending_order.drain(..).collect();
        for id in order {
            if let Some(p) = self.pending.remove(&id) {
                self.build_pending(p, out);
            }
        }
    }

    fn write_record(&mut self, decoded: Decoded, verb: Verb, line: u64) -> Record {
        let Decoded { event: ev, response, request } = decoded;
        let oref = ev.object_ref.as_ref();
        let kind = ev.kind();
        let group = oref.and_then(|o| o.api_group.as_deref()).unwrap_or("");
        let name = oref
            .and_then(|o| o.name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| response.as_ref().and_then(|b| b.name.clone()))
            .unwrap_or_else(|| {
                if ev.verb.as_deref() == Some("deletecollection") { "*" } else { "(generated)" }.into()
            });
        let object = object_key(group, &kind, oref.and_then(|o| o.namespace.as_deref()), &name);
        let mut fields_changed = crate::observe::Changes::default();
        let mut state = ObjectState::default();
        if let Some(b) = response {
            let key = self.versions.key(&object);
            match self.versions.get(key) {
                Some(prev) => fields_changed = fields::diff(prev, &b.leaves),
                None => {
                    if let Some(req) = request {
                        fields_changed = fields::as_changes(req.changes);
                    }
                }
            }
            if verb == Verb::Delete {
                self.versions.remove(key);
            } else {
                let kept = fields::to_map(&b.leaves, &mut self.versions.paths);
                self.versions.insert(key, kept);
            }
            state = b.state;
        } else if let Some(req) = request {
            fields_changed = fields::as_changes(req.changes);
            state.phase = req.phase;
        }
        let writer = Writer {
            user: ev.user.as_ref().and_then(|u| u.username.clone()),
            impersonated: ev.impersonated_user.as_ref().and_then(|u| u.username.clone()),
            user_agent: ev.user_agent.clone(),
            manager: ev.request_uri.as_deref().and_then(field_manager),
        };
        let at = [&ev.stage_timestamp, &ev.request_received_timestamp, &ev.timestamp]
            .into_iter()
            .find_map(|t| t.as_deref().and_then(parse_time));
        Record {
            at,
            line,
            body: RecordBody::Write(WriteRecord {
                object,
                verb,
                subresource: oref.and_then(|o| o.subresource.clone()).filter(|s| !s.is_empty()),
                writer,
                fields: fields_changed,
                operation: ev.verb.clone().unwrap_or_default(),
                state,
            }),
        }
    }
}

/// The object's state; a Secret's phase (it has none, but a hostile body may) is a value too.
fn state_of(body: &Body, secret: bool) -> ObjectState {
    let mut state = super::objects::state_of(&body.select(STATE_FIELDS));
    if secret {
        state.phase = None;
    }
    state
}

/// What a request body says it changes: the leaves of a merge/apply patch or object, or the
/// paths of a JSON patch.
fn request_fields(req: &Body, secret: bool) -> fields::Flat {
    match req {
        Body::Array(ops) => {
            let mut out = fields::Flat::default();
            for op in ops {
                let Some(path) = op.get("path").and_then(Body::as_str) else { continue };
                let dotted =
                    path.trim_start_matches('/').replace('/', ".").replace("~1", "/").replace("~0", "~");
                let value = op
                    .get("value")
                    .filter(|v| !secret && !matches!(v, Body::Object(_) | Body::Array(_)))
                    .map(Body::to_value);
                out.push_change(&dotted, value.as_ref());
            }
            out
        }
        other => fields::flatten(other, secret),
    }
}

/// `fieldManager=...` from a request URI's query.
fn field_manager(uri: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    let v = query.split('&').find_map(|kv| kv.strip_prefix("fieldManager="))?;
    Some(percent_decode(v))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{ChangeRef, Changes, FieldChange};
    use serde_json::json;

    /// Read from its line; read as a `Value` (an item of a list) it must come out the same.
    fn ev(v: Value) -> Decoded {
        let text = v.to_string();
        let from_line = Decoded::new(serde_json::from_str::<RawEvent>(&text).unwrap()).unwrap();
        let from_value = Decoded::from_value(serde_json::from_value::<AuditEvent>(v).unwrap()).unwrap();
        assert_eq!(format!("{from_line:?}"), format!("{from_value:?}"));
        from_line
    }

    fn leaves(n: usize) -> Leaves {
        (0..n).map(|i| (format!("f{i}"), i as u64)).collect()
    }

    #[test]
    fn versions_stay_within_the_leaf_budget_forgetting_the_oldest() {
        let mut v = Versions::new(10);
        let key = |v: &Versions, n: &str| v.key(&ObjectKey::new("", "ConfigMap", Some("ns"), n));
        let (a, b, c) = (key(&v, "a"), key(&v, "b"), key(&v, "c"));
        v.insert(a, leaves(4));
        v.insert(b, leaves(4));
        v.insert(a, leaves(4)); // written again: now the newest
        v.insert(c, leaves(4));
        assert_eq!((v.leaves, v.forgotten), (8, 1));
        assert!(v.get(b).is_none() && v.get(a).is_some() && v.get(c).is_some());
        v.remove(a);
        assert_eq!((v.leaves, v.map.len(), v.order.len()), (4, 1, 1));
    }

    fn base(id: &str, stage: &str, verb: &str) -> Value {
        json!({"apiVersion": "audit.k8s.io/v1", "kind": "Event", "level": "Metadata", "auditID": id, "stage": stage,
               "verb": verb, "requestURI": "/apis/controlplane.cluster.x-k8s.io/v1beta1/namespaces/ns/captcontrolplanes/a/status?fieldManager=legacy-loop",
               "objectRef": {"resource": "captcontrolplanes", "namespace": "ns", "name": "a",
                             "apiGroup": "controlplane.cluster.x-k8s.io", "subresource": "status"},
               "user": {"username": "admin"}, "userAgent": "legacy-loop/0.1",
               "requestReceivedTimestamp": "2026-01-01T00:00:00.000000Z", "stageTimestamp": "2026-01-01T00:00:00.010000Z"})
    }

    fn writes(out: &[Record]) -> Vec<&WriteRecord> {
        out.iter()
            .filter_map(|r| match &r.body {
                RecordBody::Write(w) => Some(w),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn two_stages_count_once() {
        let mut st = AuditState::default();
        let mut rep = ParseReport::default();
        let mut out = Vec::new();
        st.event(ev(base("1", "RequestReceived", "patch")), 1, &mut rep, &mut out);
        assert!(out.is_empty());
        st.event(ev(base("1", "ResponseComplete", "patch")), 2, &mut rep, &mut out);
        st.event(ev(base("1", "ResponseComplete", "patch")), 3, &mut rep, &mut out);
        st.event(ev(base("2", "ResponseComplete", "get")), 4, &mut rep, &mut out);
        st.flush(&mut out);
        let w = writes(&out);
        assert_eq!(w.len(), 1);
        assert_eq!(out[0].line, 2);
        assert_eq!(
            w[0].object,
            ObjectKey::new("controlplane.cluster.x-k8s.io", "CAPTControlPlane", Some("ns"), "a")
        );
        assert_eq!(w[0].subresource.as_deref(), Some("status"));
        assert_eq!(w[0].writer.manager.as_deref(), Some("legacy-loop"));
        assert_eq!(w[0].writer.user.as_deref(), Some("admin"));
        assert_eq!(rep.ignored, 3);
        assert_eq!(rep.records["audit"], 4);
    }

    #[test]
    fn lone_request_received_is_counted_at_the_end() {
        let mut st = AuditState::default();
        let mut rep = ParseReport::default();
        let mut out = Vec::new();
        st.event(ev(base("9", "RequestReceived", "update")), 1, &mut rep, &mut out);
        st.flush(&mut out);
        assert_eq!(writes(&out).len(), 1);
        assert_eq!(writes(&out)[0].verb, Verb::Update);
    }

    /// First stages kept as their lines count as first stages built at once: the same records
    /// (in order, with their lines) and the same counts, whether replaced, repeated, left
    /// alone until the end, pushed out of the window, or not counted at all.
    #[test]
    fn first_stages_kept_as_lines_count_as_built_ones() {
        let mut virt = base("v", "RequestReceived", "create");
        virt["objectRef"] = json!({"resource": "tokenreviews", "apiGroup": "authentication.k8s.io"});
        let mut virt_done = virt.clone();
        virt_done["stage"] = json!("ResponseComplete");
        let mut events = vec![
            base("1", "RequestReceived", "patch"),
            base("1", "RequestReceived", "patch"),
            base("1", "ResponseComplete", "patch"),
            base("1", "RequestReceived", "patch"),
            base("2", "ResponseStarted", "update"),
            virt,
            virt_done,
            base("3", "RequestReceived", "delete"),
        ];
        // Pushes "2" and "3" out of the window: built there, before the flush.
        events.extend((0..WINDOW).map(|i| base(&format!("w{i}"), "RequestReceived", "update")));
        events.push(base("3", "ResponseComplete", "delete"));
        // One first stage too long to be kept as its line: built at once.
        let mut long = base("4", "RequestReceived", "update");
        long["requestObject"] = json!({"metadata": {"name": "a"}, "data": {"k": "x".repeat(EARLY_LINE_MAX)}});
        events.push(long);
        let lines: Vec<String> = events.iter().map(Value::to_string).collect();
        let early =
            lines.iter().filter(|l| matches!(read_line(l.as_bytes()), Some((AuditLine::Early(_), _))));
        assert_eq!(early.count(), lines.len() - 4);
        assert!(matches!(read_line(lines[lines.len() - 1].as_bytes()), Some((AuditLine::Write(_), _))));
        let run = |as_lines: bool| {
            let (mut st, mut rep, mut out) = (AuditState::default(), ParseReport::default(), Vec::new());
            for (n, line) in lines.iter().enumerate() {
                let n = n as u64 + 1;
                match as_lines {
                    true => st.line(read_line(line.as_bytes()).unwrap().0, n, &mut rep, &mut out),
                    false => st.event(
                        Decoded::new(serde_json::from_str(line).unwrap()).unwrap(),
                        n,
                        &mut rep,
                        &mut out,
                    ),
                }
            }
            st.flush(&mut out);
            (format!("{out:?}"), rep.ignored, rep.records["audit"], out.len())
        };
        let (built, lines_kept) = (run(false), run(true));
        assert_eq!(built, lines_kept);
        // "1" once; "2" out of the window; "3" out of the window and again at its final stage
        // (the window forgot it); every "w" and "4" at the end.
        assert_eq!(built.3, 5 + WINDOW);
    }

    #[test]
    fn rejected_and_dry_run_are_not_writes() {
        let mut st = AuditState::default();
        let mut rep = ParseReport::default();
        let mut out = Vec::new();
        let mut v = base("1", "ResponseComplete", "update");
        v["responseStatus"] = json!({"code": 409});
        st.event(ev(v), 1, &mut rep, &mut out);
        let mut v = base("2", "ResponseComplete", "patch");
        v["requestURI"] = json!("/api/v1/x?dryRun=All");
        st.event(ev(v), 2, &mut rep, &mut out);
        assert!(out.is_empty());
        assert_eq!(rep.ignored, 2);
    }

    #[test]
    fn request_bodies_give_fields_and_response_bodies_give_diffs() {
        let mut st = AuditState::default();
        let mut rep = ParseReport::default();
        let mut out = Vec::new();
        let mut v = base("1", "ResponseComplete", "patch");
        v["requestObject"] = json!({"status": {"conditions": [{"type": "Ready", "reason": "SecretError"}]}});
        st.event(ev(v), 1, &mut rep, &mut out);
        let obj = |reason: &str, gen_: i64| {
            json!({"metadata": {"name": "a", "generation": gen_, "resourceVersion": "5"},
                   "status": {"conditions": [{"type": "Ready", "reason": reason}]}})
        };
        let mut v = base("2", "ResponseComplete", "update");
        v["responseObject"] = obj("Ready", 1);
        st.event(ev(v), 2, &mut rep, &mut out);
        let mut v = base("3", "ResponseComplete", "update");
        v["responseObject"] = obj("SecretError", 1);
        st.event(ev(v), 3, &mut rep, &mut out);
        let w = writes(&out);
        assert_eq!(w[0].fields.get(0).unwrap().path, "status.conditions[Ready].reason");
        assert_eq!(
            w[2].fields,
            Changes::from(vec![FieldChange::new(
                "status.conditions[Ready].reason",
                Some("SecretError".into())
            )])
        );
        assert_eq!(w[2].state.generation, Some(1));
        assert_eq!(w[2].state.phase.as_deref(), Some("SecretError"));
    }

    #[test]
    fn a_read_body_is_skipped_and_a_write_body_serde_json_refuses_is_not_an_event() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let line = |verb: &str, body: &str| {
            format!(
                r#"{{"auditID":"a","stage":"ResponseComplete","verb":"{verb}","objectRef":{{"resource":"configmaps","name":"c"}},"responseObject":{body}}}"#
            )
        };
        let decode = |text: &str| serde_json::from_str::<RawEvent>(text).ok().and_then(Decoded::new);
        for body in [deep.as_str(), r#"{"metadata":{"name":"\ud800"}}"#] {
            assert!(decode(&line("list", body)).is_some_and(|d| d.response.is_none()));
            assert!(decode(&line("update", body)).is_none());
            assert!(serde_json::from_str::<Value>(&line("update", body)).is_err(), "a Value refuses it too");
        }
        let fine = decode(&line("update", r#"{"metadata":{"name":"c"},"data":{"k":"v"}}"#)).unwrap();
        assert_eq!(fine.response.map(|r| r.leaves.len()), Some(2));
    }

    fn read(line: &str) -> Option<(&'static str, bool)> {
        read_line(line.as_bytes())
            .map(|(e, items)| (if matches!(e, AuditLine::Read) { "read" } else { "write" }, items))
    }

    #[test]
    fn a_read_needs_its_audit_id_and_verb_and_a_write_every_member_typed() {
        let line = |verb: &str, extra: &str| {
            format!(r#"{{"auditID":"a","verb":{verb},"stage":"ResponseComplete"{extra}}}"#)
        };
        assert_eq!(read(&line(r#""get""#, "")), Some(("read", false)));
        assert_eq!(read(&line(r#""update""#, "")), Some(("write", false)));
        assert_eq!(read(&line(r#""list""#, r#","items":[1]"#)), Some(("read", true)));
        // A member the analysis reads only from writes may have any JSON type in a read.
        for odd in [r#","user":{"username":7}"#, r#","userAgent":5"#, r#","responseStatus":{"code":"x"}"#] {
            assert_eq!(read(&line(r#""watch""#, odd)), Some(("read", false)), "{odd}");
            assert_eq!(read(&line(r#""patch""#, odd)), None, "{odd}");
            assert!(
                serde_json::from_str::<RawEvent>(&line(r#""patch""#, odd)).is_err(),
                "as a RawEvent too: {odd}"
            );
        }
        for not_audit in [
            line(r#"["get"]"#, ""),
            line("null", ""),
            r#"{"auditID":5,"verb":"get"}"#.to_string(),
            r#"{"auditID":null,"verb":"get"}"#.to_string(),
            r#"{"verb":"get"}"#.to_string(),
            r#"{"auditID":"a","verb":"get""#.to_string(),
            r#"{"auditID":"a","verb":"get","x":[}"#.to_string(),
            r#"{"auditID":"a","verb":"get","verb":"list"}"#.to_string(),
            r#"["auditID","verb"]"#.to_string(),
        ] {
            assert_eq!(read(&not_audit), None, "{not_audit}");
        }
        // Bytes that are not UTF-8 where no string is read: a read as before.
        let mut bytes = line(r#""get""#, r#","annotations":{"k":"X"}"#).into_bytes();
        let x = bytes.iter().position(|b| *b == b'X').unwrap();
        bytes[x] = 0xff;
        assert!(matches!(read_line(&bytes), Some((AuditLine::Read, false))));
        assert!(serde_json::from_slice::<RawEvent>(&bytes).is_ok());
    }

    /// A member for generated events: absent, or a value of the expected type or another one.
    fn member() -> impl proptest::strategy::Strategy<Value = Option<Value>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            Just(Some(json!(5))),
            Just(Some(json!("s\u{e9}\"x\u{1}"))),
            Just(Some(json!({"username": "u", "resource": "configmaps", "name": "c", "code": 200}))),
            Just(Some(json!({"username": 1, "resource": ["x"], "code": "200"}))),
            Just(Some(json!({"metadata": {"name": "c"}, "data": {"k": "v"}}))),
            Just(Some(json!([{"op": "add", "path": "/data/k", "value": 1}]))),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// A line reads as the scanner reads the same event as a `Value` (an item of a list):
        /// a read by [`is_read`], a write by `AuditEvent` and [`Decoded::from_value`].
        #[test]
        fn a_line_reads_as_its_value_does(
            members in proptest::collection::vec(member(), 13),
            stage in proptest::prop_oneof![
                member(),
                proptest::strategy::Just(Some(json!("RequestReceived"))),
                proptest::strategy::Just(Some(json!("ResponseStarted"))),
                proptest::strategy::Just(Some(json!("ResponseComplete"))),
            ],
            verb in proptest::prop_oneof![
                proptest::strategy::Just(json!("get")), proptest::strategy::Just(json!("watch")),
                proptest::strategy::Just(json!("update")), proptest::strategy::Just(json!("patch")),
                proptest::strategy::Just(json!("delete")), proptest::strategy::Just(json!(3)),
            ],
            id: bool,
        ) {
            let names = ["requestURI", "objectRef", "user", "impersonatedUser", "userAgent",
                "responseStatus", "stageTimestamp", "requestReceivedTimestamp", "timestamp",
                "requestObject", "responseObject", "level", "annotations"];
            let mut v = json!({"verb": verb});
            if id {
                v["auditID"] = json!("a-1");
            }
            for (name, m) in std::iter::once(&"stage").chain(&names).zip(std::iter::once(stage).chain(members)) {
                if let Some(m) = m {
                    v[*name] = m;
                }
            }
            let line = v.to_string();
            let got = read_line(line.as_bytes()).map(|(e, _)| match e {
                AuditLine::Read => "read".to_string(),
                AuditLine::Write(d) => format!("{d:?}"),
                // Kept as its line, it builds as a final stage would have been.
                AuditLine::Early(early) => {
                    let Some((AuditLine::Write(d), _)) = super::read(line.as_bytes(), false) else {
                        return "not built".to_string();
                    };
                    assert!(!d.event.final_stage(), "{line}");
                    assert_eq!(early.skipped, d.event.skipped(), "{line}");
                    assert_eq!(*early.line, *if early.skipped { &b""[..] } else { line.as_bytes() });
                    assert_eq!(early.id, request_id(d.event.audit_id.as_deref()));
                    format!("{d:?}")
                }
            });
            let audit = v.get("auditID").is_some_and(Value::is_string) && v.get("verb").is_some_and(Value::is_string);
            let want = if is_read(&v) {
                Some("read".to_string())
            } else if audit {
                serde_json::from_value::<AuditEvent>(v).ok().and_then(Decoded::from_value).map(|d| format!("{d:?}"))
            } else {
                None
            };
            proptest::prop_assert_eq!(got, want, "{}", line);
        }
    }

    #[test]
    fn json_patch_paths_and_secret_values() {
        let ops = json!([{"op": "replace", "path": "/data/token", "value": "c2VjcmV0"},
                         {"op": "replace", "path": "/metadata/labels/a~1b", "value": "x"}]);
        let text = ops.to_string();
        let ops = Body::parse(&text).unwrap();
        let f = fields::as_changes(request_fields(&ops, true));
        assert_eq!(f.get(0).unwrap(), ChangeRef { path: "data.token", value: None });
        // Every value of a Secret is hidden, labels included; other kinds show small values.
        assert_eq!(f.get(1).unwrap(), ChangeRef { path: "metadata.labels.a/b", value: None });
        let f = fields::as_changes(request_fields(&ops, false));
        assert_eq!(f.get(1).unwrap(), ChangeRef { path: "metadata.labels.a/b", value: Some("x") });
    }

    #[test]
    fn field_managers_are_decoded() {
        assert_eq!(
            field_manager("/x?fieldManager=kubectl-client-side-apply&y=1").as_deref(),
            Some("kubectl-client-side-apply")
        );
        assert_eq!(field_manager("/x?fieldManager=a%20b").as_deref(), Some("a b"));
        assert_eq!(field_manager("/x?fieldManager=bad%2").as_deref(), Some("bad%2"));
        assert_eq!(field_manager("/x"), None);
    }
}
