//! The legacy CAPTControlPlane hot loop (upstream input HL1), reproduced against a real API
//! server for tests and the demo:
//!
//! ```text
//! cargo run --example legacy_loop -- --namespace demo --name a --duration 20s --log /tmp/manager.log
//! ```
//!
//! Each pass logs one `Reconciling CAPTControlPlane` line with a fresh reconcileID in
//! controller-runtime's zap console format, then writes the CAPTControlPlane status twice, as
//! upstream HEAD does when the main apply is Ready but the connection secret lacks
//! `cluster_certificate_authority_data`: Ready/True, then Failed/`SecretError`. Every write is a
//! real change, so a watch-driven controller would re-run at once: the generator simply loops
//! as fast as the API server accepts the writes.
//!
//! `--scenario fight` instead has two field managers alternately set `spec.version` (a
//! writer fight); `--scenario touch` writes each object's status once per pass over them (the
//! writes of a healthy controller: no loop). `--rate` paces all writes together (benchmarks).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;

use kubectl_capt::k8s::ClusterTarget;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// One pass writes Ready/True then Failed/SecretError (upstream HL1).
    Hl1,
    /// Two managers alternately write spec.version.
    Fight,
    /// One status write per pass (a fresh observed time): no loop.
    Touch,
}

/// Reproduces the upstream CAPTControlPlane hot loop against a real API server.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    #[arg(long)]
    context: Option<String>,
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// CAPTControlPlane to loop on (created when missing)
    #[arg(long, default_value = "demo")]
    name: String,
    /// Stop after this long (e.g. 20s); default: until Ctrl-C
    #[arg(long, value_parser = kubectl_capt::cli::parse_duration)]
    duration: Option<Duration>,
    /// Stop after this many passes
    #[arg(long)]
    passes: Option<u64>,
    /// Pause between passes (default: none, as fast as the server allows)
    #[arg(long, value_parser = kubectl_capt::cli::parse_duration, default_value = "0s")]
    pause: Duration,
    /// Write the controller log here instead of stdout
    #[arg(long)]
    log: Option<PathBuf>,
    /// Field manager of the writes
    #[arg(long, default_value = "legacy-capt-manager")]
    manager: String,
    /// Second field manager (--scenario fight)
    #[arg(long, default_value = "other-writer")]
    other_manager: String,
    #[arg(long, value_enum, default_value_t = Scenario::Hl1)]
    scenario: Scenario,
    /// Loop over this many objects `<name>-F` … `<name>-(F+N-1)` instead of one (for benchmarks)
    #[arg(long)]
    objects: Option<usize>,
    /// F: the index of the first of --objects
    #[arg(long, default_value_t = 0)]
    first: usize,
    /// Write at most this many times per second in all (default: as fast as the server allows)
    #[arg(long)]
    rate: Option<f64>,
    /// The objects exist: do not read each one first (creating it when missing)
    #[arg(long)]
    no_create: bool,
    /// Passes in flight at once (with --objects)
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Append `<response unix ms> <resourceVersion>` for every accepted write (watch lag)
    #[arg(long)]
    trace: Option<PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let target = ClusterTarget {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: Some(args.namespace.clone()),
        all_namespaces: false,
        request_timeout: Duration::from_secs(15),
    };
    let kube = kubectl_capt::k8s::connect(&target).await?;
    let gvk = GroupVersionKind::gvk("controlplane.cluster.x-k8s.io", "v1beta1", "CAPTControlPlane");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "captcontrolplanes");
    let api: Api<DynamicObject> = Api::namespaced_with(kube.client.clone(), &args.namespace, &ar);
    let names: Vec<String> = match args.objects {
        Some(n) => (args.first..args.first + n).map(|i| format!("{}-{i}", args.name)).collect(),
        None => vec![args.name.clone()],
    };
    if !args.no_create {
        for name in &names {
            ensure_exists(&api, &ar, &args, name).await?;
        }
    }
    let log: Box<dyn std::io::Write + Send> = match &args.log {
        Some(path) => Box::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?),
        None => Box::new(std::io::stdout()),
    };
    let trace: Option<Box<dyn std::io::Write + Send>> = match &args.trace {
        Some(path) => Some(Box::new(std::io::BufWriter::new(
            std::fs::OpenOptions::new().create(true).append(true).open(path)?,
        ))),
        None => None,
    };
    let shared = std::sync::Arc::new(std::sync::Mutex::new(Shared { log, trace, ids: IdGen::seeded() }));
    // One clock for every worker: a steady total rate, never a burst to catch up.
    let pace = args.rate.filter(|r| *r > 0.0).map(|r| {
        let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / r));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        std::sync::Arc::new(tokio::sync::Mutex::new(every))
    });
    let args = std::sync::Arc::new(args);
    let started = Instant::now();
    let workers = args.concurrency.clamp(1, names.len().max(1));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let mine: Vec<String> = names.iter().skip(w).step_by(workers).cloned().collect();
        tasks.spawn(worker(api.clone(), args.clone(), mine, shared.clone(), pace.clone(), started));
    }
    let mut totals = (0u64, 0u64, 0u64);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            r = tasks.join_next() => match r {
                Some(Ok(Ok((p, w, f)))) => { totals.0 += p; totals.1 += w; totals.2 += f; }
                Some(Ok(Err(e))) => return Err(e),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            _ = &mut stop => { tasks.abort_all(); break; }
        }
    }
    if let Ok(mut s) = shared.lock()
        && let Some(t) = s.trace.as_mut()
    {
        t.flush()?;
    }
    let (passes, writes, failures) = totals;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "legacy_loop: {passes} passes, {writes} writes ({:.1} writes/s), {failures} failed writes in {secs:.1}s",
        writes as f64 / secs
    );
    Ok(())
}

struct Shared {
    log: Box<dyn std::io::Write + Send>,
    trace: Option<Box<dyn std::io::Write + Send>>,
    ids: IdGen,
}

/// Loops over `names`, one pass per object in turn: (passes, writes, failed writes).
async fn worker(
    api: Api<DynamicObject>,
    args: std::sync::Arc<Args>,
    names: Vec<String>,
    shared: std::sync::Arc<std::sync::Mutex<Shared>>,
    pace: Option<std::sync::Arc<tokio::sync::Mutex<tokio::time::Interval>>>,
    started: Instant,
) -> anyhow::Result<(u64, u64, u64)> {
    let steps = if args.scenario == Scenario::Touch { 1 } else { 2 };
    let (mut passes, mut writes, mut failures) = (0u64, 0u64, 0u64);
    'outer: loop {
        for name in &names {
            if args.duration.is_some_and(|d| started.elapsed() >= d)
                || args.passes.is_some_and(|p| passes >= p)
            {
                break 'outer;
            }
            {
                let mut s = shared.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                let id = s.ids.next();
                log_pass(&mut s.log, &args, name, &id)?;
            }
            for step in 0..steps {
                if let Some(p) = &pace {
                    p.lock().await.tick().await;
                }
                let (manager, patch, status) = body(&args, passes, step);
                let pp = PatchParams { field_manager: Some(manager.to_string()), ..PatchParams::default() };
                let r = if status {
                    api.patch_status(name, &pp, &Patch::Merge(&patch)).await
                } else {
                    api.patch(name, &pp, &Patch::Merge(&patch)).await
                };
                match r {
                    Ok(obj) => {
                        writes += 1;
                        let mut s = shared.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                        if let Some(t) = s.trace.as_mut() {
                            let rv = obj.metadata.resource_version.unwrap_or_default();
                            writeln!(t, "{} {rv}", chrono::Utc::now().timestamp_millis())?;
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!("legacy_loop: write failed: {e}");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
            passes += 1;
            if !args.pause.is_zero() {
                tokio::time::sleep(args.pause).await;
            }
        }
    }
    Ok((passes, writes, failures))
}

async fn ensure_exists(
    api: &Api<DynamicObject>,
    ar: &ApiResource,
    args: &Args,
    name: &str,
) -> anyhow::Result<()> {
    if api.get_opt(name).await?.is_some() {
        return Ok(());
    }
    let mut obj = DynamicObject::new(name, ar).within(&args.namespace);
    obj.data =
        json!({"spec": {"version": "1.31", "workspaceTemplateRef": {"name": "eks-controlplane-template"}}});
    api.create(&PostParams { field_manager: Some(args.manager.clone()), ..PostParams::default() }, &obj)
        .await?;
    Ok(())
}

/// (manager, merge patch, whether it goes to the status subresource) of write `step` of pass `pass`.
fn body(args: &Args, pass: u64, step: u8) -> (&str, serde_json::Value, bool) {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match args.scenario {
        Scenario::Hl1 if step == 0 => (
            &args.manager,
            json!({"status": {
                "ready": true, "initialized": true, "phase": "Ready",
                "failureReason": null, "failureMessage": null,
                "conditions": [{"type": "Ready", "status": "True", "reason": "Ready",
                                "message": "Control plane is ready", "lastTransitionTime": now}]}}),
            true,
        ),
        Scenario::Hl1 => (
            &args.manager,
            json!({"status": {
                "ready": false, "phase": "Failed", "failureReason": "SecretError",
                "failureMessage": "Failed to get CA data: cluster_certificate_authority_data not found in connection secret",
                "conditions": [{"type": "Ready", "status": "False", "reason": "SecretError",
                                "message": "Failed to get CA data", "lastTransitionTime": now}]}}),
            true,
        ),
        Scenario::Touch => (
            &args.manager,
            json!({"status": {"workspaceTemplateStatus": {"lastAppliedRevision": now}}}),
            true,
        ),
        Scenario::Fight => {
            let (manager, version) =
                if step == 0 { (&args.manager, "1.32") } else { (&args.other_manager, "1.30") };
            let _ = pass;
            (manager, json!({"spec": {"version": version}}), false)
        }
    }
}

fn log_pass(
    out: &mut Box<dyn std::io::Write + Send>,
    args: &Args,
    name: &str,
    id: &str,
) -> std::io::Result<()> {
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let ns = &args.namespace;
    writeln!(
        out,
        "{ts}\tINFO\tReconciling CAPTControlPlane\t{{\"controller\": \"captcontrolplane\", \"controllerGroup\": \"controlplane.cluster.x-k8s.io\", \"controllerKind\": \"CAPTControlPlane\", \"CAPTControlPlane\": {{\"name\":\"{name}\",\"namespace\":\"{ns}\"}}, \"namespace\": \"{ns}\", \"name\": \"{name}\", \"reconcileID\": \"{id}\"}}"
    )?;
    out.flush()
}

/// Random version-4 UUIDs (xorshift seeded from the clock and pid: unique, not cryptographic).
struct IdGen(u64);

impl IdGen {
    fn seeded() -> Self {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        IdGen((t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32) | 1)
    }
    fn word(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn next(&mut self) -> String {
        let (a, b) = (self.word(), self.word());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}
