//! Reads what one reconcile pass reads, with as few API calls as possible.
//!
//! Every request of an invocation goes over one HTTP/2 connection (src/k8s/transport.rs), so
//! parallel requests cost no extra connection and per-object GETs are cheap; what costs is
//! what the server reads and sends, so nothing is listed that the answer does not need.
//!
//! One object ([`fetch_snapshot`]): GET the CAPTControlPlane, then in parallel GET the Cluster,
//! the WorkspaceTemplate, the three WorkspaceTemplateApplies (main, kubeconfig, `-vpc`) and the
//! four Secrets, then GET the Workspace the main apply names: 10 calls, 11 once a Workspace is
//! named, in 3 round trips. (A LIST of the namespace's applies would read every apply of every
//! control plane there.)
//!
//! All objects ([`fetch_all`]): one LIST per kind (CAPTControlPlanes, Clusters,
//! WorkspaceTemplates, WorkspaceTemplateApplies, Workspaces), the last four at once, joined in
//! memory. Secrets are never listed (that would read every Secret in the namespace), and only
//! those a control plane's plan can reach are read: the pure core says which
//! ([`reads_wanted`]), they are fetched, and it is asked again, at most 1 + 4N GETs in two
//! rounds per control plane ([`SECRET_CONTROL_PLANES`] at a time). A control plane that decides before its Secrets
//! (waiting for its apply, a missing Cluster, …) reads none; the others stay
//! [`Snapshot::not_read`], which the report shows as `notRead`, never as missing.
//! (`status NAME` reads all four in its second round trip: the single-object tree shows them
//! all, and a third round trip would cost more than three GETs.)
//!
//! NotFound becomes an absent object; 401, an unreachable server and a missing CRD are errors;
//! anything else (403 on Secrets, 500) marks the input [`Unreadable`]: the core decides without
//! it when it can and says the decision is undetermined when it cannot.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

use super::{Kube, Op, is_not_found};
use crate::error::{Error, Result};
use crate::model::{
    CaptControlPlane, CaptKind, Cluster, Workspace, WorkspaceTemplate, WorkspaceTemplateApply,
};
use crate::reconcile::{Names, ObjectRef, ReadFailure, SecretInfo, Snapshot, Unreadable, reads_wanted};

/// Control planes reading their Secrets at once in [`fetch_all`]: at most 3 GETs each in
/// flight, below kube-apiserver's 250 concurrent streams per HTTP/2 connection.
const SECRET_CONTROL_PLANES: usize = 64;

/// A read that did not find the object, found it, or failed softly.
type Soft<T> = std::result::Result<Option<T>, Unreadable>;

/// What a soft failure tells the core: the RBAC rule for a 403, the status code of an answer.
fn failure(err: Error) -> ReadFailure {
    match err {
        Error::Forbidden { verb, resource, .. } => ReadFailure::Forbidden { verb, resource },
        Error::Api { code, .. } => ReadFailure::ServerError { code },
        other => ReadFailure::Failed { detail: other.to_string() },
    }
}

/// Errors that stop the command rather than become a finding.
fn is_hard(e: &Error) -> bool {
    matches!(
        e,
        Error::Unauthorized { .. } | Error::Unreachable { .. } | Error::CrdMissing { .. } | Error::Config(_)
    )
}

fn soften<T>(kube: &Kube, res: kube::Result<T>, op: &Op, target: ObjectRef) -> Result<Soft<T>> {
    match res {
        Ok(v) => Ok(Ok(Some(v))),
        Err(e) if is_not_found(&e) => Ok(Ok(None)),
        Err(e) => {
            let err = kube.error(op, e);
            if is_hard(&err) {
                return Err(err);
            }
            Ok(Err(Unreadable { target, failure: failure(err) }))
        }
    }
}

/// An Api for a namespaced kind in `namespace`, or across all namespaces.
fn api_in<K>(kube: &Kube, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>,
{
    match namespace {
        Some(ns) => Api::namespaced(kube.client.clone(), ns),
        None => Api::all(kube.client.clone()),
    }
}

async fn get_kind<K>(kube: &Kube, api: Api<K>, namespace: Option<&str>, name: &str) -> Result<Soft<K>>
where
    K: CaptKind + kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let info = K::INFO;
    let op = Op::on("get", &info, namespace, Some(name));
    soften(kube, api.get(name).await, &op, ObjectRef::new(info.kind, namespace, name))
}

async fn list_kind<K>(
    kube: &Kube,
    api: Api<K>,
    namespace: Option<&str>,
) -> Result<std::result::Result<Vec<K>, ReadFailure>>
where
    K: CaptKind + kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let info = K::INFO;
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(Ok(list.items)),
        Err(e) => {
            let err = kube.error(&Op::on("list", &info, namespace, None), e);
            if is_hard(&err) { Err(err) } else { Ok(Err(failure(err))) }
        }
    }
}

async fn get_secret(kube: &Kube, namespace: &str, name: &str) -> Result<Soft<SecretInfo>> {
    let api: Api<Secret> = Api::namespaced(kube.client.clone(), namespace);
    let op = Op::core("get", "secrets", "Secret", Some(namespace), Some(name));
    let res = api.get(name).await.map(SecretInfo::from_secret);
    soften(kube, res, &op, ObjectRef::new("Secret", Some(namespace), name))
}

fn take<T>(soft: Soft<T>, errors: &mut Vec<Unreadable>) -> Option<T> {
    soft.unwrap_or_else(|e| {
        errors.push(e);
        None
    })
}

/// The four Secrets of one CAPTControlPlane.
async fn secrets(kube: &Kube, names: &Names, snap: &mut Snapshot) -> Result<()> {
    let ns = names.namespace.as_str();
    let (conn, outputs, kubeconfig, ca) = tokio::join!(
        get_secret(kube, ns, &names.connection_secret),
        get_secret(kube, ns, &names.outputs_kubeconfig_secret),
        get_secret(kube, ns, &names.kubeconfig_secret),
        get_secret(kube, ns, &names.ca_secret),
    );
    let errors = &mut snap.unreadable;
    snap.connection_secret = take(conn?, errors);
    snap.outputs_kubeconfig_secret = take(outputs?, errors);
    snap.kubeconfig_secret = take(kubeconfig?, errors);
    snap.ca_secret = take(ca?, errors);
    Ok(())
}

/// Picks the main, kubeconfig and vpc applies of one control plane out of the listed applies,
/// indexed by (namespace, name).
fn join_applies(
    names: &Names,
    applies: &[WorkspaceTemplateApply],
    index: &BTreeMap<(String, String), usize>,
    snap: &mut Snapshot,
) {
    let find = |n: &str| index.get(&key(Some(&names.namespace), Some(n))).map(|&i| &applies[i]);
    snap.main_apply = find(&names.main_apply).cloned();
    snap.kubeconfig_apply = find(&names.kubeconfig_apply).cloned();
    snap.vpc_apply_exists = find(&names.vpc_apply).is_some();
}

/// Everything one pass over `<namespace>/<name>` reads. A missing CAPTControlPlane is an error.
pub async fn fetch_snapshot(kube: &Kube, namespace: &str, name: &str) -> Result<Snapshot> {
    // The object itself: every failure is the command's error (403 keeps its verb and resource).
    let op = Op::on("get", &CaptControlPlane::INFO, Some(namespace), Some(name));
    let api: Api<CaptControlPlane> = api_in(kube, Some(namespace));
    let cp = api.get(name).await.map_err(|e| kube.error(&op, e))?;
    let names = Names::of(&cp);
    let mut snap = Snapshot { control_plane: cp.clone(), ..Snapshot::default() };
    let template_ns = names.template_namespace(&cp.spec.workspace_template_ref);
    let template_name = cp.spec.workspace_template_ref.name.clone();
    let apply = |n: String| async move {
        get_kind::<WorkspaceTemplateApply>(kube, api_in(kube, Some(namespace)), Some(namespace), &n).await
    };
    let (cluster, template, main_apply, kubeconfig_apply, vpc_apply, secrets_done) = tokio::join!(
        get_kind::<Cluster>(kube, api_in(kube, Some(namespace)), Some(namespace), name),
        async {
            if template_name.is_empty() {
                Ok(Ok(None))
            } else {
                get_kind::<WorkspaceTemplate>(
                    kube,
                    api_in(kube, Some(&template_ns)),
                    Some(&template_ns),
                    &template_name,
                )
                .await
            }
        },
        apply(names.main_apply.clone()),
        apply(names.kubeconfig_apply.clone()),
        apply(names.vpc_apply.clone()),
        async {
            let mut s = Snapshot::default();
            secrets(kube, &names, &mut s).await.map(|()| s)
        },
    );
    let secrets_done = secrets_done?;
    snap.connection_secret = secrets_done.connection_secret;
    snap.outputs_kubeconfig_secret = secrets_done.outputs_kubeconfig_secret;
    snap.kubeconfig_secret = secrets_done.kubeconfig_secret;
    snap.ca_secret = secrets_done.ca_secret;
    snap.unreadable.extend(secrets_done.unreadable);
    snap.cluster = take(cluster?, &mut snap.unreadable);
    snap.template = take(template?, &mut snap.unreadable);
    // The three applies decide together (the vpc apply changes the main apply's variables), so
    // one that cannot be read leaves the main apply undetermined, as one failed LIST would.
    match (main_apply?, kubeconfig_apply?, vpc_apply?) {
        (Ok(main), Ok(kubeconfig), Ok(vpc)) => {
            snap.main_apply = main;
            snap.kubeconfig_apply = kubeconfig;
            snap.vpc_apply_exists = vpc.is_some();
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => snap.unreadable.push(Unreadable {
            target: ObjectRef::new("WorkspaceTemplateApply", Some(namespace), &names.main_apply),
            failure: e.failure,
        }),
    }
    if let Some(ws) = snap.main_apply.as_ref().and_then(|a| a.workspace_name()).map(str::to_string) {
        snap.workspace = take(
            get_kind::<Workspace>(kube, Api::all(kube.client.clone()), None, &ws).await?,
            &mut snap.unreadable,
        );
    }
    Ok(snap)
}

fn key(ns: Option<&str>, name: Option<&str>) -> (String, String) {
    (ns.unwrap_or("").to_string(), name.unwrap_or("").to_string())
}

/// What [`fetch_all`] read and how long it took, for `-v`.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// The five LISTs.
    pub lists: Duration,
    /// Secret GETs, and how long reading them took.
    pub secret_gets: usize,
    pub secrets: Duration,
}

/// The four Secrets of a control plane, as not read yet.
fn secret_refs(names: &Names) -> Vec<ObjectRef> {
    let ns = Some(names.namespace.as_str());
    [&names.connection_secret, &names.outputs_kubeconfig_secret, &names.kubeconfig_secret, &names.ca_secret]
        .into_iter()
        .map(|n| ObjectRef::new("Secret", ns, n))
        .collect()
}

/// Puts a Secret read for `target` into its slot of the snapshot.
fn store_secret(names: &Names, snap: &mut Snapshot, target: &ObjectRef, got: Soft<SecretInfo>) {
    snap.not_read.retain(|t| t != target);
    let value = take(got, &mut snap.unreadable);
    let n = target.name.as_str();
    let slot = if n == names.connection_secret {
        &mut snap.connection_secret
    } else if n == names.outputs_kubeconfig_secret {
        &mut snap.outputs_kubeconfig_secret
    } else if n == names.kubeconfig_secret {
        &mut snap.kubeconfig_secret
    } else {
        &mut snap.ca_secret
    };
    *slot = value;
}

/// Snapshots of every CAPTControlPlane in `namespace` (all namespaces for `None`), sorted by
/// namespace and name. Secrets a control plane's plan at `now` cannot reach stay in
/// [`Snapshot::not_read`].
pub async fn fetch_all(
    kube: &Kube,
    namespace: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Vec<Snapshot>, ReadStats)> {
    let mut stats = ReadStats::default();
    let started = Instant::now();
    let op = Op::on("list", &CaptControlPlane::INFO, namespace, None);
    let api: Api<CaptControlPlane> = api_in(kube, namespace);
    // The CAPTControlPlanes first: requests sent before the one HTTP/2 connection is up would
    // each open a connection of their own (tests/e2e/connection.rs counts them).
    let cps = api.list(&ListParams::default()).await.map_err(|e| kube.error(&op, e))?.items;
    if cps.is_empty() {
        return Ok((Vec::new(), stats));
    }
    let (clusters, templates, applies, workspaces) = tokio::join!(
        list_kind::<Cluster>(kube, api_in(kube, namespace), namespace),
        list_kind::<WorkspaceTemplate>(kube, api_in(kube, namespace), namespace),
        list_kind::<WorkspaceTemplateApply>(kube, api_in(kube, namespace), namespace),
        list_kind::<Workspace>(kube, Api::all(kube.client.clone()), None),
    );
    let (clusters, templates, applies, workspaces) = (clusters?, templates?, applies?, workspaces?);
    stats.lists = started.elapsed();
    let index = |m: &mut BTreeMap<(String, String), usize>, k: (String, String), i: usize| {
        m.insert(k, i);
    };
    let mut cluster_ix = BTreeMap::new();
    for (i, c) in clusters.iter().flatten().enumerate() {
        index(&mut cluster_ix, key(c.metadata.namespace.as_deref(), c.metadata.name.as_deref()), i);
    }
    let mut template_ix = BTreeMap::new();
    for (i, t) in templates.iter().flatten().enumerate() {
        index(&mut template_ix, key(t.metadata.namespace.as_deref(), t.metadata.name.as_deref()), i);
    }
    // Joined through indexes: with N control planes in a namespace, a scan per control plane
    // would be N² (and cloning the namespace's applies for each, seconds at N = 1,000).
    let mut apply_ix = BTreeMap::new();
    for (i, a) in applies.iter().flatten().enumerate() {
        index(&mut apply_ix, key(a.metadata.namespace.as_deref(), a.metadata.name.as_deref()), i);
    }
    let mut workspace_ix = BTreeMap::new();
    for (i, w) in workspaces.iter().flatten().enumerate() {
        index(&mut workspace_ix, key(None, w.metadata.name.as_deref()), i);
    }
    let mut snaps = Vec::with_capacity(cps.len());
    for cp in cps {
        let names = Names::of(&cp);
        let ns = names.namespace.clone();
        let mut snap =
            Snapshot { control_plane: cp.clone(), not_read: secret_refs(&names), ..Snapshot::default() };
        match &clusters {
            Ok(list) => {
                snap.cluster = cluster_ix.get(&key(Some(&ns), Some(&names.cp))).map(|&i| list[i].clone())
            }
            Err(m) => snap.unreadable.push(Unreadable {
                target: ObjectRef::new("Cluster", Some(&ns), &names.cp),
                failure: m.clone(),
            }),
        }
        let tns = names.template_namespace(&cp.spec.workspace_template_ref);
        let tname = cp.spec.workspace_template_ref.name.clone();
        match &templates {
            // A template in another namespace than the listed one needs its own GET.
            Ok(_) if namespace.is_some_and(|n| n != tns) => {
                snap.template = take(
                    get_kind::<WorkspaceTemplate>(kube, api_in(kube, Some(&tns)), Some(&tns), &tname).await?,
                    &mut snap.unreadable,
                );
            }
            Ok(list) => {
                snap.template = template_ix.get(&key(Some(&tns), Some(&tname))).map(|&i| list[i].clone())
            }
            Err(m) => snap.unreadable.push(Unreadable {
                target: ObjectRef::new("WorkspaceTemplate", Some(&tns), &tname),
                failure: m.clone(),
            }),
        }
        match &applies {
            Ok(list) => join_applies(&names, list, &apply_ix, &mut snap),
            Err(m) => snap.unreadable.push(Unreadable {
                target: ObjectRef::new("WorkspaceTemplateApply", Some(&ns), &names.main_apply),
                failure: m.clone(),
            }),
        }
        if let Some(ws) = snap.main_apply.as_ref().and_then(|a| a.workspace_name()).map(str::to_string) {
            match &workspaces {
                Ok(list) => {
                    snap.workspace = workspace_ix.get(&key(None, Some(&ws))).map(|&i| list[i].clone())
                }
                Err(m) => snap
                    .unreadable
                    .push(Unreadable { target: ObjectRef::new("Workspace", None, &ws), failure: m.clone() }),
            }
        }
        snaps.push((names, snap));
    }
    // Secrets: each control plane GETs only those its plan wants, then asks again (a first
    // round reads the connection Secret; one on the ready path then wants the other three).
    // Control planes go on independently: no round waits for the slowest of the previous one.
    let reads = Instant::now();
    let mut gets = 0;
    let mut out: Vec<Snapshot> = Vec::with_capacity(snaps.len());
    let mut done = stream::iter(snaps)
        .map(|(names, mut snap)| async move {
            let mut gets = 0;
            for _ in 0..3 {
                let wanted = reads_wanted(&snap, now);
                if wanted.is_empty() {
                    break;
                }
                gets += wanted.len();
                let got = futures::future::try_join_all(
                    wanted
                        .iter()
                        .map(|t| get_secret(kube, t.namespace.as_deref().unwrap_or_default(), &t.name)),
                )
                .await?;
                for (target, soft) in wanted.iter().zip(got) {
                    store_secret(&names, &mut snap, target, soft);
                }
            }
            Ok::<_, Error>((snap, gets))
        })
        .buffer_unordered(SECRET_CONTROL_PLANES);
    while let Some((snap, n)) = done.try_next().await? {
        gets += n;
        out.push(snap);
    }
    stats.secret_gets = gets;
    stats.secrets = reads.elapsed();
    fn k(s: &Snapshot) -> (&str, &str) {
        let m = &s.control_plane.metadata;
        (m.namespace.as_deref().unwrap_or(""), m.name.as_deref().unwrap_or(""))
    }
    out.sort_by(|a, b| k(a).cmp(&k(b)));
    Ok((out, stats))
}
