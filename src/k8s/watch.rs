//! Live sources for `kubectl capt watch`: object watches, Events, controller logs. Each runs as
//! a task that turns what it reads into [`Update`]s on one channel: observations for the
//! detector, and its own state (watching, reconnecting, unavailable and why) for the header.
//!
//! Watches use kube-runtime's watcher with its default back-off: timeouts, 410 Gone and API
//! server restarts are resumed or relisted, and a relist is reported as baselines, never writes.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::api::{Api, LogParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{self, Scope};
use kube::runtime::{WatchStreamExt, watcher};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc::Sender;

use super::pod_streams::{Action, PodInfo, PodStreams, StreamKey};
use super::{Kube, Op, error_chain};
use crate::error::{Error, Result};
use crate::model::{CaptControlPlane, CaptKind, Cluster, KindInfo, Workspace, WorkspaceTemplateApply};
use crate::observe::{Millis, Observation, SourceState, WriteScope};
use crate::parse::logs::{LineTime, LogOptions, LogStats, LogStream};
use crate::parse::objects::{EventTracker, ObjectTracker, regarding};

/// Scrapes controller-runtime metrics from `url` every `every`: an API server path (e.g.
/// `/api/v1/namespaces/capt-system/pods/POD:8080/proxy/metrics`, authorised like any request)
/// or a plain `http://` URL (e.g. through `kubectl port-forward`). Counters have no object
/// identity: they become controller-wide rates in the summary, a cross-check for the logs.
pub async fn scrape_metrics(kube: Kube, url: String, every: Duration, tx: Sender<Update>) {
    let name = "metrics";
    let mut last: Option<SourceState> = None;
    let mut scrapes = 0u64;
    loop {
        let state = match fetch_metrics(&kube, &url).await {
            Ok(text) => {
                let (samples, malformed) = crate::parse::metrics::scrape(&text);
                let at = now_ms();
                let controllers = samples.len();
                let mut batch: Vec<Observation> = samples
                    .into_iter()
                    .map(|m| Observation { at, signal: crate::observe::Signal::Metrics(m) })
                    .collect();
                if !send_batch(&tx, &mut batch).await {
                    return;
                }
                scrapes += 1;
                match (controllers, malformed) {
                    (0, _) => SourceState::Unavailable(format!(
                        "{url}: no controller_runtime_reconcile_total or workqueue_adds_total series"
                    )),
                    (n, 0) => SourceState::Reading(format!("{n} controllers, every {}s", every.as_secs())),
                    (n, m) => SourceState::Reading(format!("{n} controllers, {m} malformed lines")),
                }
            }
            Err(why) => SourceState::Unavailable(why),
        };
        // Report a change of state, and the first good scrape.
        if last.as_ref() != Some(&state) || scrapes == 1 {
            if !send_state(&tx, name, state.clone()).await {
                return;
            }
            last = Some(state);
        }
        tokio::time::sleep(every).await;
    }
}

/// Largest metrics body read: a controller's scrape is kilobytes; anything near this is not one.
pub const MAX_METRICS_BYTES: usize = 16 << 20;

fn too_big(url: &str) -> String {
    format!("{url}: the metrics body is over {} MiB; not read", MAX_METRICS_BYTES >> 20)
}

pub async fn fetch_metrics(kube: &Kube, url: &str) -> std::result::Result<String, String> {
    if url.starts_with('/') {
        use futures::AsyncReadExt as _;
        let req = http::Request::get(url).body(Vec::new()).map_err(|e| e.to_string())?;
        let op = Op::core("get", url, "metrics", None, None);
        let fail = |e| kube.error(&op, e).to_string();
        let stream = kube.client.request_stream(req).await.map_err(fail)?;
        let mut body = Vec::new();
        let mut limited = stream.take(MAX_METRICS_BYTES as u64 + 1);
        let read = limited.read_to_end(&mut body);
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .map_err(|_| format!("{url}: timed out"))?
            .map_err(|e| format!("{url}: {e}"))?;
        if body.len() > MAX_METRICS_BYTES {
            return Err(too_big(url));
        }
        return Ok(text_of(body));
    }
    if !url.starts_with("http://") {
        return Err(format!(
            "{url}: use an API server path (/api/v1/namespaces/NS/pods/POD:PORT/proxy/metrics) or an http:// URL"
        ));
    }
    use http_body_util::BodyExt;
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let fetch = async {
        let resp = client.get(uri).await.map_err(|e| format!("{url}: {}", error_chain(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("{url}: HTTP {status}"));
        }
        // Stops reading at the cap: a huge body is refused, not held.
        let limited = http_body_util::Limited::new(resp.into_body(), MAX_METRICS_BYTES);
        let body = limited.collect().await.map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() { too_big(url) } else { format!("{url}: {e}") }
        })?;
        Ok(text_of(body.to_bytes().to_vec()))
    };
    tokio::time::timeout(Duration::from_secs(10), fetch).await.map_err(|_| format!("{url}: timed out"))?
}

/// UTF-8 text without a copy when it is valid.
fn text_of(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// What a source tells the command.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// Observations in the order they were made: one, or all that a watch had ready at once
    /// (an initial list of thousands of objects then wakes the receiver once per batch, not
    /// once per object).
    Observe(Vec<Observation>),
    Source {
        name: String,
        state: SourceState,
    },
}

/// Which objects of a resource to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    /// Only the Secrets CAPT reads or writes (by name pattern, owner or CAPI label).
    CaptSecrets,
}

/// One resource to watch.
#[derive(Clone, Debug)]
pub struct WatchTarget {
    /// Display name, `plural[.group]`.
    pub name: String,
    pub resource: ApiResource,
    pub namespaced: bool,
    pub filter: Filter,
    /// Label selector (the user's `--selector`; not applied to CAPT Secrets).
    pub selector: Option<String>,
    pub crd: Option<String>,
}

fn from_info(info: &KindInfo, selector: Option<&str>) -> WatchTarget {
    let gvk = GroupVersionKind::gvk(info.group, info.version, info.kind);
    WatchTarget {
        name: info.crd_name(),
        resource: ApiResource::from_gvk_with_plural(&gvk, info.plural),
        namespaced: info.scope == crate::model::Scope::Namespaced,
        filter: Filter::All,
        selector: selector.map(str::to_string),
        crd: Some(info.crd_name()),
    }
}

/// The CAPT kinds and the CAPT Secrets.
pub fn capt_targets(selector: Option<&str>) -> Vec<WatchTarget> {
    let mut t: Vec<WatchTarget> =
        [CaptControlPlane::INFO, WorkspaceTemplateApply::INFO, Workspace::INFO, <Cluster as CaptKind>::INFO]
            .iter()
            .map(|i| from_info(i, selector))
            .collect();
    t.push(WatchTarget {
        name: "secrets".into(),
        resource: ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", "Secret"), "secrets"),
        namespaced: true,
        filter: Filter::CaptSecrets,
        selector: None,
        crd: None,
    });
    t
}

/// Resolves `--kind` values (`deployments.apps`, `Deployment`, `pods`, a CAPT kind) through
/// discovery.
pub async fn resolve_targets(
    kube: &Kube,
    kinds: &[String],
    selector: Option<&str>,
) -> Result<Vec<WatchTarget>> {
    let mut out = Vec::new();
    let mut full: Option<discovery::Discovery> = None;
    for spec in kinds {
        let (res, group) = spec.split_once('.').map_or((spec.as_str(), None), |(r, g)| (r, Some(g)));
        let res_l = res.to_ascii_lowercase();
        let matches = |ar: &ApiResource| {
            ar.plural == res_l
                || ar.kind.to_ascii_lowercase() == res_l
                || format!("{}s", ar.kind.to_ascii_lowercase()) == res_l
        };
        let mut found = None;
        let groups: Vec<discovery::ApiGroup> = match group {
            Some(g) => match discovery::group(&kube.client, g).await {
                Ok(g) => vec![g],
                Err(kube::Error::Discovery(_)) => Vec::new(),
                Err(e) => {
                    return Err(kube.error(&Op::core("list", "api groups", "APIGroup", None, None), e));
                }
            },
            None => match discovery::group(&kube.client, "").await {
                Ok(core) => vec![core],
                Err(e) => {
                    return Err(kube.error(&Op::core("list", "api versions", "APIVersions", None, None), e));
                }
            },
        };
        for g in &groups {
            found = g.recommended_resources().into_iter().find(|(ar, _)| matches(ar));
            if found.is_some() {
                break;
            }
        }
        if found.is_none() && group.is_none() {
            if full.is_none() {
                full =
                    Some(discovery::Discovery::new(kube.client.clone()).run().await.map_err(|e| {
                        kube.error(&Op::core("list", "api groups", "APIGroup", None, None), e)
                    })?);
            }
            if let Some(d) = &full {
                found = d.groups().flat_map(|g| g.recommended_resources()).find(|(ar, _)| matches(ar));
            }
        }
        let Some((ar, caps)) = found else {
            return Err(Error::Usage(format!(
                "--kind {spec}: the server does not serve such a resource (try kubectl api-resources)"
            )));
        };
        if !caps.operations.is_empty() && !caps.supports_operation("watch") {
            return Err(Error::Usage(format!("--kind {spec}: {} cannot be watched", ar.plural)));
        }
        let name =
            if ar.group.is_empty() { ar.plural.clone() } else { format!("{}.{}", ar.plural, ar.group) };
        let secret = ar.group.is_empty() && ar.kind == "Secret";
        out.push(WatchTarget {
            name: name.clone(),
            namespaced: caps.scope == Scope::Namespaced,
            filter: Filter::All,
            selector: selector.map(str::to_string),
            crd: (!ar.group.is_empty() && ar.group.contains('.')).then_some(name),
            resource: ar,
        });
        let _ = secret;
    }
    Ok(out)
}

/// The kinds of `targets`, as (group, kind), for matching Events to objects.
pub fn kinds_of(targets: &[WatchTarget]) -> BTreeSet<(String, String)> {
    targets.iter().map(|t| (t.resource.group.clone(), t.resource.kind.clone())).collect()
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}

async fn send_state(tx: &Sender<Update>, name: &str, state: SourceState) -> bool {
    tx.send(Update::Source { name: name.to_string(), state }).await.is_ok()
}

/// Why a watch error ends the source (forbidden, resource missing), if it does.
fn fatal_reason(err: &watcher::Error, target: &WatchTarget, kube: &Kube) -> Option<String> {
    let inner = match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => e,
        watcher::Error::WatchError(s) => {
            return match s.code {
                403 => Some(format!("403 on watch {}", target.name)),
                _ => None,
            };
        }
        watcher::Error::NoResourceVersion => return Some("the resource does not support watch".into()),
    };
    let ns = target.namespaced.then(|| kube.namespace.clone()).filter(|_| !kube.all_namespaces);
    let op = Op {
        verb: "list",
        resource: target.name.clone(),
        namespace: ns.clone(),
        name: None,
        crd: target.crd.clone(),
        kind: target.resource.kind.clone(),
    };
    match inner {
        kube::Error::Api(s) if s.code == 403 => Some(format!(
            "403 on list/watch {}{}",
            target.name,
            ns.map(|n| format!(" in {n}")).unwrap_or_default()
        )),
        kube::Error::Api(s) if s.code == 404 => Some(match kube.error(&op, inner_clone(s)) {
            Error::CrdMissing { crd } => format!("CRD {crd} is not installed"),
            other => other.to_string(),
        }),
        kube::Error::Api(s) if s.code == 401 => Some("401: credentials not accepted".into()),
        _ => None,
    }
}

/// The server refused a streaming list (it predates them, or has them switched off).
fn refuses_streaming(err: &watcher::Error) -> bool {
    let code = match err {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code,
        watcher::Error::WatchError(s) => s.code,
        _ => return false,
    };
    matches!(code, 400 | 422)
}

fn inner_clone(s: &kube::core::Status) -> kube::Error {
    kube::Error::Api(Box::new(s.clone()))
}

fn short_reason(err: &watcher::Error) -> String {
    let s = error_chain(err);
    let s = s.rsplit(": ").next().unwrap_or(&s).to_string();
    s.chars().take(120).collect()
}

fn api_for(kube: &Kube, target: &WatchTarget) -> Api<WatchedObject> {
    match (target.namespaced, kube.list_namespace()) {
        (true, Some(ns)) => Api::namespaced_with(kube.client.clone(), ns, &target.resource),
        _ => Api::all_with(kube.client.clone(), &target.resource),
    }
}

/// Whether a Secret is one CAPT reads or writes.
pub fn is_capt_secret(obj: &Value) -> bool {
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let by_name =
        ["-eks-connection", "-control-plane-kubeconfig", "-kubeconfig", "-ca", "-outputs-kubeconfig"]
            .iter()
            .any(|s| name.ends_with(s));
    let by_label = obj.pointer("/metadata/labels/cluster.x-k8s.io~1cluster-name").is_some();
    let by_owner = obj.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|refs| {
        refs.iter().any(|r| {
            r.get("kind").and_then(Value::as_str).is_some_and(|k| {
                matches!(k, "CAPTControlPlane" | "WorkspaceTemplateApply" | "Workspace" | "Cluster")
            })
        })
    });
    by_name || by_label || by_owner
}

/// Watches one resource until the channel closes or the source becomes unavailable.
/// The server-side timeout of each watch request: shorter than the client's read timeout, so
/// an idle watch is ended by the server (and resumed) instead of failing on the client.
pub fn watch_timeout(request_timeout: Duration) -> u32 {
    (request_timeout.as_secs().saturating_sub(3)).clamp(1, 290) as u32
}

/// Watches one resource's objects: a baseline per listed object, then every write and delete.
pub async fn watch_objects(kube: Kube, target: WatchTarget, request_timeout: Duration, tx: Sender<Update>) {
    let source = ObjectSource {
        tracker: ObjectTracker::new(),
        keep_all: target.filter == Filter::All,
        scope: WriteScope::Kind { group: target.resource.group.clone(), kind: target.resource.kind.clone() },
    };
    follow_watch(kube, target, request_timeout, tx, source).await;
}

/// Watches core/v1 Events about objects of `kinds`, as count deltas.
pub async fn watch_events(
    kube: Kube,
    kinds: BTreeSet<(String, String)>,
    request_timeout: Duration,
    tx: Sender<Update>,
) {
    let target = WatchTarget {
        name: "events".into(),
        resource: ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", "Event"), "events"),
        namespaced: true,
        filter: Filter::All,
        selector: None,
        crd: None,
    };
    follow_watch(kube, target, request_timeout, tx, EventSource { tracker: EventTracker::new(), kinds })
        .await;
}

/// What one watched resource makes of the watcher's events; [`follow_watch`] is the same loop
/// (list, watch, reconnect, report the source's state) for every resource.
trait WatchSource {
    /// Whether a write after a reconnect reports the source as watching again (objects); Events
    /// stay reconnecting until the next list.
    const RESUME_ON_WRITE: bool;
    /// A list begins; `relist`: after an earlier one (a gap).
    fn listing(&mut self, now: Millis, relist: bool) -> Option<Observation>;
    fn listed_object(&mut self, now: Millis, v: &Value) -> Option<Observation>;
    /// The list is complete; watching from here.
    fn listed(&mut self, now: Millis) -> Option<Observation>;
    fn applied(&mut self, now: Millis, v: &Value) -> Option<Observation>;
    fn deleted(&mut self, now: Millis, v: &Value) -> Option<Observation>;
}

struct ObjectSource {
    tracker: ObjectTracker,
    /// Every object, or only CAPT's Secrets.
    keep_all: bool,
    scope: WriteScope,
}

impl ObjectSource {
    fn keep(&self, v: &Value) -> bool {
        self.keep_all || is_capt_secret(v)
    }
}

impl WatchSource for ObjectSource {
    const RESUME_ON_WRITE: bool = true;
    fn listing(&mut self, now: Millis, relist: bool) -> Option<Observation> {
        // A relist follows a gap (410 Gone): writes in it were missed.
        relist.then(|| Observation::coverage(now, self.scope.clone(), None))
    }
    fn listed_object(&mut self, now: Millis, v: &Value) -> Option<Observation> {
        self.keep(v).then(|| self.tracker.baseline(now, v)).flatten()
    }
    fn listed(&mut self, now: Millis) -> Option<Observation> {
        // Every write after the list is seen from here on.
        Some(Observation::coverage(now, self.scope.clone(), Some(now)))
    }
    fn applied(&mut self, now: Millis, v: &Value) -> Option<Observation> {
        self.keep(v).then(|| self.tracker.applied(now, v)).flatten()
    }
    fn deleted(&mut self, now: Millis, v: &Value) -> Option<Observation> {
        self.keep(v).then(|| self.tracker.deleted(now, v)).flatten()
    }
}

struct EventSource {
    tracker: EventTracker,
    /// `(group, kind)` of the objects whose Events count.
    kinds: BTreeSet<(String, String)>,
}

impl WatchSource for EventSource {
    const RESUME_ON_WRITE: bool = false;
    fn listing(&mut self, _: Millis, _: bool) -> Option<Observation> {
        None
    }
    fn listed_object(&mut self, _: Millis, v: &Value) -> Option<Observation> {
        self.tracker.baseline(v);
        None
    }
    fn listed(&mut self, _: Millis) -> Option<Observation> {
        None
    }
    fn applied(&mut self, now: Millis, v: &Value) -> Option<Observation> {
        let relevant = regarding(v).is_some_and(|k| self.kinds.contains(&(k.group, k.kind)));
        relevant.then(|| self.tracker.applied(now, v)).flatten()
    }
    fn deleted(&mut self, _: Millis, v: &Value) -> Option<Observation> {
        self.tracker.deleted(v);
        None
    }
}

/// The watch loop every resource shares: list, watch, reconnect with back-off, report the
/// source's state, send what `source` makes of each event. Ends on a fatal error or when the
/// receiver is gone.
async fn follow_watch<S: WatchSource>(
    kube: Kube,
    target: WatchTarget,
    request_timeout: Duration,
    tx: Sender<Update>,
    mut source: S,
) {
    let name = target.name.clone();
    if !send_state(&tx, &name, SourceState::Starting).await {
        return;
    }
    let mut config = watcher::Config::default().timeout(watch_timeout(request_timeout));
    if let Some(sel) = &target.selector {
        config = config.labels(sel);
    }
    // Streaming lists (a watch that sends the initial objects, from the API server's watch
    // cache) sync 10,000 chains in about half the time of paged lists (docs/performance.md). A
    // server without them (before 1.27, or WatchList off) refuses the request with 400 or 422
    // before any object comes: the source then starts over with paged lists.
    // Events already read are taken together (`ready_chunks`) and their observations sent as
    // one batch; a state change goes after the observations made before it.
    let start =
        |config| watcher(api_for(&kube, &target), config).default_backoff().ready_chunks(BATCH).boxed();
    let mut streaming = true;
    let mut stream = start(config.clone().streaming_lists());
    let mut attempt = 0u32;
    let mut listed = false;
    let mut batch = Vec::new();
    while let Some(items) = stream.next().await {
        for item in items {
            let now = now_ms();
            let mut state = None;
            let obs = match item {
                Ok(watcher::Event::Init) => {
                    state = Some(SourceState::Listing { relist: listed });
                    source.listing(now, listed)
                }
                Ok(watcher::Event::InitApply(o)) => {
                    to_value(o, &target.resource).and_then(|v| source.listed_object(now, &v))
                }
                Ok(watcher::Event::InitDone) => {
                    listed = true;
                    attempt = 0;
                    state = Some(SourceState::Watching);
                    source.listed(now)
                }
                Ok(watcher::Event::Apply(o)) => {
                    let obs = to_value(o, &target.resource).and_then(|v| source.applied(now, &v));
                    if S::RESUME_ON_WRITE && attempt > 0 {
                        attempt = 0;
                        state = Some(SourceState::Watching);
                    }
                    obs
                }
                Ok(watcher::Event::Delete(o)) => {
                    to_value(o, &target.resource).and_then(|v| source.deleted(now, &v))
                }
                Err(e) if streaming && refuses_streaming(&e) => {
                    streaming = false;
                    stream = start(config.clone());
                    None
                }
                Err(e) => {
                    if let Some(why) = fatal_reason(&e, &target, &kube) {
                        let _ = send_batch(&tx, &mut batch).await;
                        let _ = send_state(&tx, &name, SourceState::Unavailable(why)).await;
                        return;
                    }
                    attempt += 1;
                    state = Some(SourceState::Reconnecting { attempt, reason: short_reason(&e) });
                    None
                }
            };
            if let Some(state) = state
                && !(send_batch(&tx, &mut batch).await && send_state(&tx, &name, state).await)
            {
                return;
            }
            batch.extend(obs);
        }
        if !send_batch(&tx, &mut batch).await {
            return;
        }
    }
}

/// Most watch events handled before their observations are sent.
const BATCH: usize = 512;

/// Sends the observations in `batch`, if any; false when the receiver is gone.
async fn send_batch(tx: &Sender<Update>, batch: &mut Vec<Observation>) -> bool {
    batch.is_empty() || tx.send(Update::Observe(std::mem::take(batch))).await.is_ok()
}

/// A watched object, read straight into JSON. kube's `DynamicObject` reads `metadata` into typed
/// fields beside a flattened rest (serde buffers each object to do that), and the sources read
/// JSON, so every object was read twice and its metadata written back. `meta` holds what the
/// watcher itself reads (the resourceVersion it resumes from).
#[derive(Clone, Debug)]
struct WatchedObject {
    json: Value,
    meta: ObjectMeta,
}

impl<'de> Deserialize<'de> for WatchedObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let json = Value::deserialize(d)?;
        let field = |k: &str| json.get("metadata")?.get(k)?.as_str().map(str::to_string);
        let meta = ObjectMeta {
            name: field("name"),
            namespace: field("namespace"),
            resource_version: field("resourceVersion"),
            uid: field("uid"),
            ..ObjectMeta::default()
        };
        Ok(WatchedObject { json, meta })
    }
}

impl Resource for WatchedObject {
    type DynamicType = ApiResource;
    type Scope = kube::core::DynamicResourceScope;

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        dt.kind.as_str().into()
    }
    fn group(dt: &ApiResource) -> Cow<'_, str> {
        dt.group.as_str().into()
    }
    fn version(dt: &ApiResource) -> Cow<'_, str> {
        dt.version.as_str().into()
    }
    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        dt.api_version.as_str().into()
    }
    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        dt.plural.as_str().into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// The object as JSON, with `metadata`, `apiVersion` and `kind` (the items of a paged list of a
/// built-in kind, e.g. Secrets, come without the last two; both come from the resource unless
/// the object has both, with a kind).
fn to_value(o: WatchedObject, resource: &ApiResource) -> Option<Value> {
    let Value::Object(mut map) = o.json else { return None };
    map.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
    let typed = matches!(
        (map.get("apiVersion"), map.get("kind")),
        (Some(Value::String(_)), Some(Value::String(kind))) if !kind.is_empty()
    );
    if !typed {
        map.insert("apiVersion".into(), Value::String(resource.api_version.clone()));
        map.insert("kind".into(), Value::String(resource.kind.clone()));
    }
    Some(Value::Object(map))
}

/// Follows the logs of every container of the controller pods, watching the pods so that
/// streams start on pods that appear (a rollout) and stop on pods that go.
pub async fn follow_pod_logs(kube: Kube, namespace: String, selector: String, tx: Sender<Update>) {
    let name = "logs";
    let _ = send_state(&tx, name, SourceState::Starting).await;
    let pods: Api<Pod> = Api::namespaced(kube.client.clone(), &namespace);
    let config = watcher::Config::default().labels(&selector);
    let mut events = watcher(pods.clone(), config).default_backoff().boxed();
    let mut plan = PodStreams::default();
    let mut streams: HashMap<StreamKey, tokio::task::AbortHandle> = HashMap::new();
    let mut tasks: tokio::task::JoinSet<(StreamKey, std::result::Result<(), String>)> =
        tokio::task::JoinSet::new();
    let mut last: Option<SourceState> = None;
    let mut failure: Option<String> = None;
    loop {
        let actions = tokio::select! {
            item = events.next() => match item {
                None => break,
                Some(Ok(watcher::Event::Init)) => {
                    plan.relist_started();
                    continue;
                }
                Some(Ok(watcher::Event::InitApply(p) | watcher::Event::Apply(p))) => plan.applied(pod_info(&p)),
                Some(Ok(watcher::Event::InitDone)) => plan.relist_done(),
                Some(Ok(watcher::Event::Delete(p))) => plan.deleted(&p.metadata.name.unwrap_or_default()),
                Some(Err(e)) => {
                    let inner = match &e {
                        watcher::Error::InitialListFailed(e)
                        | watcher::Error::WatchStartFailed(e)
                        | watcher::Error::WatchFailed(e) => Some(e),
                        _ => None,
                    };
                    if let Some(kube::Error::Api(s)) = inner
                        && s.code == 403
                    {
                        let why = format!("403 on list pods in {namespace}");
                        let _ = send_state(&tx, name, SourceState::Unavailable(why)).await;
                        return;
                    }
                    failure = Some(format!("cannot watch pods in {namespace}: {}", short_reason(&e)));
                    Vec::new()
                }
            },
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                let Ok((key, result)) = done else { continue };
                streams.remove(&key);
                plan.stream_ended(&key);
                match result {
                    Err(why) if why.starts_with("403") => {
                        let _ = send_state(&tx, name, SourceState::Unavailable(why)).await;
                        return;
                    }
                    Err(why) => failure = Some(why),
                    Ok(()) => return, // the channel closed
                }
                Vec::new()
            }
        };
        for action in actions {
            match action {
                Action::Start(key) => {
                    failure = None;
                    let task =
                        follow_container(pods.clone(), key.pod.clone(), key.container.clone(), tx.clone());
                    let k = key.clone();
                    streams.insert(key, tasks.spawn(async move { (k, task.await) }));
                }
                Action::Stop(key) => {
                    if let Some(h) = streams.remove(&key) {
                        h.abort();
                    }
                }
            }
        }
        let state = match (&failure, plan.pods(), plan.streams()) {
            (Some(why), _, 0) => SourceState::Unavailable(why.clone()),
            (_, 0, _) => SourceState::Unavailable(format!("no pods match {selector} in {namespace}")),
            (_, _, 0) => SourceState::Unavailable(format!("no running pods match {selector} in {namespace}")),
            (_, p, n) => SourceState::Reading(format!("{n} streams from {p} pods")),
        };
        if last.as_ref() != Some(&state) {
            if !send_state(&tx, name, state.clone()).await {
                return;
            }
            last = Some(state);
        }
    }
}

fn pod_info(p: &Pod) -> PodInfo {
    PodInfo {
        name: p.metadata.name.clone().unwrap_or_default(),
        uid: p.metadata.uid.clone().unwrap_or_default(),
        containers: p
            .spec
            .as_ref()
            .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default(),
        running: p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"),
    }
}

/// Follows one container's log until its pod is gone (`Err`) or the channel closes (`Ok`).
async fn follow_container(
    pods: Api<Pod>,
    pod: String,
    container: String,
    tx: Sender<Update>,
) -> std::result::Result<(), String> {
    use futures::AsyncReadExt as _;
    let mut log = LogStream::new(LogOptions { year: current_year() }, LineTime::Arrival);
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut since = 1;
    loop {
        let lp = LogParams {
            container: Some(container.clone()),
            follow: true,
            since_seconds: Some(since),
            ..LogParams::default()
        };
        let mut stream = match pods.log_stream(&pod, &lp).await {
            Ok(s) => s,
            Err(kube::Error::Api(s)) if s.code == 403 => return Err("403 on pods/log".into()),
            Err(kube::Error::Api(s)) if s.code == 404 => return Err(format!("pod {pod} is gone")),
            Err(e) => return Err(format!("pods/log {pod}: {}", error_chain(&e))),
        };
        let mut last = std::time::Instant::now();
        loop {
            let n = match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            last = std::time::Instant::now();
            log.feed(&buf[..n], now_ms(), &mut out);
            if !send_batch(&tx, &mut out).await {
                return Ok(());
            }
        }
        // The end of this stream: its last line counts even without a newline.
        log.finish(now_ms(), &mut out);
        if !send_batch(&tx, &mut out).await {
            return Ok(());
        }
        // The stream ended (idle timeout, container restart): follow again from where it
        // stopped; lines seen twice share a reconcileID and count once.
        since = (last.elapsed().as_secs() as i64 + 2).max(1);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

/// How long a followed file may leave a line unfinished before it is read as it is.
const PARTIAL_LINE_WAIT: Duration = Duration::from_secs(1);

/// Reads controller logs from a file (following appended lines) or stdin (`-`). Lines keep
/// their own timestamps; lines over the length cap are skipped and counted.
pub async fn read_log_file(path: PathBuf, follow: bool, tx: Sender<Update>) {
    use tokio::io::AsyncReadExt as _;
    let name = "logs";
    let stdin = path.as_os_str() == "-";
    let mut reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> = if stdin {
        Box::new(tokio::io::stdin())
    } else {
        let mut waiting = false;
        loop {
            match tokio::fs::File::open(&path).await {
                Ok(f) => break Box::new(f),
                // Following a log that is not written yet: wait for it.
                Err(e) if follow && e.kind() == std::io::ErrorKind::NotFound => {
                    if !waiting {
                        waiting = true;
                        let why = format!("{}: not found yet, waiting", path.display());
                        if !send_state(&tx, name, SourceState::Unavailable(why)).await {
                            return;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => {
                    let _ =
                        send_state(&tx, name, SourceState::Unavailable(format!("{}: {e}", path.display())))
                            .await;
                    return;
                }
            }
        }
    };
    let _ = send_state(&tx, name, SourceState::Watching).await;
    let mut log = LogStream::new(LogOptions { year: current_year() }, LineTime::Own);
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut reported = u64::MAX;
    let mut last_report = std::time::Instant::now();
    let mut idle_since: Option<std::time::Instant> = None;
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => {
                if stdin || !follow {
                    break;
                }
                // A writer that left a line unfinished this long is not finishing it.
                let idle = idle_since.get_or_insert_with(std::time::Instant::now);
                if log.has_partial() && idle.elapsed() >= PARTIAL_LINE_WAIT {
                    log.finish(now_ms(), &mut out);
                    if !send_batch(&tx, &mut out).await {
                        return;
                    }
                }
                if reported != log.stats().lines {
                    reported = log.stats().lines;
                    last_report = std::time::Instant::now();
                    if !send_state(&tx, name, SourceState::Reading(log_summary(log.stats()))).await {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(n) => {
                idle_since = None;
                log.feed(&buf[..n], now_ms(), &mut out);
                if !send_batch(&tx, &mut out).await {
                    return;
                }
                // A stream that never pauses (stdin) still reports its progress.
                if last_report.elapsed() >= Duration::from_secs(1) && reported != log.stats().lines {
                    reported = log.stats().lines;
                    last_report = std::time::Instant::now();
                    if !send_state(&tx, name, SourceState::Reading(log_summary(log.stats()))).await {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ =
                    send_state(&tx, name, SourceState::Unavailable(format!("{}: {e}", path.display()))).await;
                return;
            }
        }
    }
    log.finish(now_ms(), &mut out);
    if !send_batch(&tx, &mut out).await {
        return;
    }
    let _ = send_state(&tx, name, SourceState::Done(log_summary(log.stats()))).await;
}

fn log_summary(s: &LogStats) -> String {
    let mut what = format!("{} lines, {} reconcile lines", s.lines, s.reconcile_lines);
    if let Some(p) = s.problems() {
        what.push_str(&format!("; {p}"));
    }
    what
}

/// A controller log file read from where it ended when it was opened (`reconcile --nudge`):
/// only what the controller writes from then on.
pub struct LogTail {
    path: PathBuf,
    offset: u64,
    stream: LogStream,
}

impl LogTail {
    pub fn open(path: &std::path::Path) -> Result<LogTail> {
        let offset = std::fs::metadata(path)
            .map_err(|e| Error::Other(anyhow::anyhow!("--controller-logs {}: {e}", path.display())))?
            .len();
        Ok(LogTail { path: path.to_path_buf(), offset, stream: Self::stream() })
    }

    fn stream() -> LogStream {
        LogStream::new(LogOptions { year: current_year() }, LineTime::Own)
    }

    /// The reconcile observations in what was appended since the last call.
    pub fn read_new(&mut self) -> Result<Vec<Observation>> {
        use std::io::{Read as _, Seek as _};
        let fail = |e: std::io::Error| {
            Error::Other(anyhow::anyhow!("--controller-logs {}: {e}", self.path.display()))
        };
        let mut file = std::fs::File::open(&self.path).map_err(fail)?;
        let len = file.metadata().map_err(fail)?.len();
        if len < self.offset {
            // Truncated or replaced (a restart, a rotation): read the new file from its start.
            self.offset = 0;
            self.stream = Self::stream();
        }
        file.seek(std::io::SeekFrom::Start(self.offset)).map_err(fail)?;
        let mut bytes = Vec::new();
        file.take(len - self.offset).read_to_end(&mut bytes).map_err(fail)?;
        self.offset += bytes.len() as u64;
        let mut out = Vec::new();
        self.stream.feed(&bytes, now_ms(), &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> WatchedObject {
        serde_json::from_str(json).expect("a watched object")
    }

    #[test]
    fn watched_objects_are_json_typed_from_their_resource_when_they_are_not() {
        let secrets = ApiResource::erase::<k8s_openapi::api::core::v1::Secret>(&());
        let o = read(
            r#"{"metadata":{"name":"s","namespace":"ns","resourceVersion":"7","labels":{"a":"b"}},"data":{"k":"djE="}}"#,
        );
        assert_eq!(
            (o.meta.name.as_deref(), o.meta.namespace.as_deref(), o.meta.resource_version.as_deref()),
            (Some("s"), Some("ns"), Some("7"))
        );
        let v = to_value(o, &secrets).unwrap();
        assert_eq!((&v["apiVersion"], &v["kind"]), (&Value::from("v1"), &Value::from("Secret")));
        assert_eq!(
            (&v["metadata"]["labels"]["a"], &v["data"]["k"]),
            (&Value::from("b"), &Value::from("djE="))
        );
        // An object with its own types keeps them; one with half of them gets the resource's.
        let v = to_value(read(r#"{"apiVersion":"x/v1","kind":"Thing","metadata":{}}"#), &secrets).unwrap();
        assert_eq!((&v["apiVersion"], &v["kind"]), (&Value::from("x/v1"), &Value::from("Thing")));
        let v = to_value(read(r#"{"kind":"Thing"}"#), &secrets).unwrap();
        assert_eq!((&v["apiVersion"], &v["kind"]), (&Value::from("v1"), &Value::from("Secret")));
        assert!(v["metadata"].is_object(), "{v}");
        // Malformed metadata is still an object to look at, not an error; a non-object is nothing.
        assert_eq!(read(r#"{"metadata":{"name":7}}"#).meta.name, None);
        assert!(to_value(read("[1]"), &secrets).is_none());
    }
}
