//! Detector throughput (observations per second on one core), the cost of a tick over many
//! objects, and memory per tracked object.
//!
//! `cargo bench --bench detector`. The memory figures are printed after the timing: the
//! fixed-size per-object state (`size_of`) plus its heap, and the process RSS growth per object
//! for 100,000 tracked objects (Linux).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use kubectl_capt::detect::{Config, Detector};
use kubectl_capt::observe::{FieldChange, Manager, ObjectKey, ObjectState, Observation, ObservedWrite};

const T0: i64 = 1_800_000_000_000;

fn key(i: usize) -> ObjectKey {
    ObjectKey::new("controlplane.cluster.x-k8s.io", "CAPTControlPlane", Some("team-a"), &format!("cp-{i}"))
}

/// A realistic mix over `objects` objects: HL1 status writes (4 changed fields), reconcile
/// lines (one reconcileID per pass), event deltas; 10 ms apart per object.
fn stream(objects: usize, n: usize) -> Vec<Observation> {
    let manager = Some(Manager {
        name: "legacy-capt-manager".into(),
        operation: "Update".into(),
        subresource: Some("status".into()),
        time: None,
    });
    (0..n)
        .map(|k| {
            let i = k % objects;
            let step = k / objects;
            let at = T0 + (step as i64) * 10;
            match k % 10 {
                0..=3 => {
                    let ready = step.is_multiple_of(2);
                    let w = ObservedWrite {
                        state: ObjectState {
                            phase: Some(if ready { "Ready" } else { "Failed" }.into()),
                            generation: Some(1),
                            ..Default::default()
                        },
                        manager: manager.clone(),
                        changes: vec![
                            FieldChange::new(
                                "status.conditions[Ready].status",
                                Some(if ready { "True" } else { "False" }.into()),
                            ),
                            FieldChange::new(
                                "status.conditions[Ready].reason",
                                Some(if ready { "Ready" } else { "SecretError" }.into()),
                            ),
                            FieldChange::new(
                                "status.conditions[Ready].lastTransitionTime",
                                Some("2026-11-27T09:00:00Z".into()),
                            ),
                            FieldChange::new(
                                "status.phase",
                                Some(if ready { "Ready" } else { "Failed" }.into()),
                            ),
                        ]
                        .into(),
                        ..Default::default()
                    };
                    Observation::write(at, key(i), w)
                }
                4..=8 => Observation::reconcile(at, key(i), Some(format!("pass-{step}"))),
                _ => Observation::events(at, key(i), 1, Some("SecretError".into())),
            }
        })
        .collect()
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("detector");
    for objects in [1usize, 1_000] {
        let n = 100_000;
        let obs = stream(objects, n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("observe/{objects}-objects"), |b| {
            b.iter_batched(
                || Detector::new(Config::default()),
                |mut d| {
                    for o in &obs {
                        black_box(d.observe(o));
                    }
                    d
                },
                BatchSize::LargeInput,
            )
        });
    }
    let obs = stream(1_000, 100_000);
    let mut d = Detector::new(Config::default());
    for o in &obs {
        d.observe(o);
    }
    let now = d.now();
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("findings/1000-objects", |b| b.iter(|| black_box(d.findings(now))));
    // A tick (once per second of a log while an object is HOT) in a long log: 20,000 objects
    // written once in its first seconds, one looping all along, five minutes in.
    let mut d = Detector::new(Config::default());
    for i in 0..20_000 {
        d.observe(&Observation::write(T0 + i as i64, key(i), ObservedWrite::default()));
    }
    let looper = key(20_000);
    for k in 0..600 {
        d.observe(&Observation::write(T0 + k * 500, looper.clone(), ObservedWrite::default()));
    }
    let now = T0 + 300_000;
    g.throughput(Throughput::Elements(20_001));
    g.bench_function("tick/20000-quiet-1-hot", |b| b.iter(|| black_box(d.tick(now))));
    g.finish();
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn memory() {
    let objects = 100_000;
    let obs = stream(objects, objects * 20);
    let before = rss_bytes();
    let mut d = Detector::new(Config::default());
    for o in &obs {
        d.observe(o);
    }
    let after = rss_bytes();
    println!(
        "memory: {} bytes per tracked object (size_of state + heap + index share), {objects} objects",
        d.bytes_per_object()
    );
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "memory: RSS grew {} bytes per object ({objects} objects, includes allocator slack)",
            a.saturating_sub(b) / objects as u64
        );
    }
    black_box(d);
}

/// Process CPU time (user + system), from /proc/self/stat (Linux, 10 ms ticks).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Throughput per CPU-second, immune to other processes competing for the cores (criterion's
/// figures above are wall-clock).
fn cpu_throughput() {
    let obs = stream(1_000, 1_000_000);
    let rounds = 5;
    let (Some(c0), wall) = (cpu_seconds(), std::time::Instant::now()) else { return };
    for _ in 0..rounds {
        let mut d = Detector::new(Config::default());
        for o in &obs {
            black_box(d.observe(o));
        }
        black_box(d);
    }
    let Some(c1) = cpu_seconds() else { return };
    let n = (rounds * obs.len()) as f64;
    println!(
        "cpu: {:.0} observations per CPU-second over 1,000 objects ({:.0} per wall-second; {} cores, load {})",
        n / (c1 - c0).max(1e-9),
        n / wall.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    c.final_summary();
    // `cargo test --all-targets` runs this binary without `--bench` (criterion's test mode: one
    // iteration each); the CPU and memory figures take minutes in a debug build, so only a real
    // `cargo bench` measures them.
    if std::env::args().any(|a| a == "--bench") {
        cpu_throughput();
        memory();
    }
}
