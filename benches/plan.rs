//! `plan` on realistic snapshots built from the shared fixtures: a converged Ready control
//! plane (the 30 s steady state, nothing to write), a fresh one (every write), and HL1.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use kubectl_capt::reconcile::{Snapshot, plan, snapshot_from_yaml};

fn load(state: &str) -> Snapshot {
    let path = format!("{}/tests/fixtures/states/{state}.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    let text = text.replace("${NAME}", "demo").replace("${NAMESPACE}", "default");
    snapshot_from_yaml(&text, "default", "demo").expect("fixture parses")
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2024, 11, 22, 5, 0, 0).unwrap();
    for state in ["ready", "creating-fresh", "ready-no-ca"] {
        let snap = load(state);
        c.bench_function(&format!("plan/{state}"), |b| b.iter(|| plan(black_box(&snap), black_box(now))));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
