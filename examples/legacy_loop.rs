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
//! writer fight).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;

use kubectl_capt::settings::ClusterTarget;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// One pass writes Ready/True then Failed/SecretError (upstream HL1).
    Hl1,
    /// Two managers alternately write spec.version.
    Fight,
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
    ensure_exists(&api, &ar, &args).await?;

    let mut log: Box<dyn std::io::Write> = match &args.log {
        Some(path) => Box::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?),
        None => Box::new(std::io::stdout()),
    };
    let started = Instant::now();
    let mut ids = IdGen::seeded();
    let mut passes = 0u64;
    let mut writes = 0u64;
    let mut failures = 0u64;
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        if args.duration.is_some_and(|d| started.elapsed() >= d) || args.passes.is_some_and(|p| passes >= p) {
            break;
        }
        let pass = async {
            log_pass(&mut log, &args, &ids.next())?;
            let mut n = 0;
            for step in 0..2 {
                let (manager, patch, status) = body(&args, passes, step);
                let pp = PatchParams { field_manager: Some(manager.to_string()), ..PatchParams::default() };
                let r = if status {
                    api.patch_status(&args.name, &pp, &Patch::Merge(&patch)).await
                } else {
                    api.patch(&args.name, &pp, &Patch::Merge(&patch)).await
                };
                match r {
                    Ok(_) => n += 1,
                    Err(e) => {
                        eprintln!("legacy_loop: write failed: {e}");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
            anyhow::Ok(n)
        };
        tokio::select! {
            r = pass => {
                let n = r?;
                writes += n;
                failures += 2 - n;
                passes += 1;
            }
            _ = &mut stop => break,
        }
        if !args.pause.is_zero() {
            tokio::time::sleep(args.pause).await;
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "legacy_loop: {passes} passes, {writes} writes ({:.1} writes/s), {failures} failed writes in {secs:.1}s",
        writes as f64 / secs
    );
    Ok(())
}

async fn ensure_exists(api: &Api<DynamicObject>, ar: &ApiResource, args: &Args) -> anyhow::Result<()> {
    if api.get_opt(&args.name).await?.is_some() {
        return Ok(());
    }
    let mut obj = DynamicObject::new(&args.name, ar).within(&args.namespace);
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
        Scenario::Fight => {
            let (manager, version) =
                if step == 0 { (&args.manager, "1.32") } else { (&args.other_manager, "1.30") };
            let _ = pass;
            (manager, json!({"spec": {"version": version}}), false)
        }
    }
}

fn log_pass(out: &mut Box<dyn std::io::Write>, args: &Args, id: &str) -> std::io::Result<()> {
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (ns, name) = (&args.namespace, &args.name);
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
