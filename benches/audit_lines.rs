//! Decoding audit log lines on one core: the reader the chunk workers and the scanner share
//! (`audit::read_line`: the skim reads a line's members in one pass, a read needs
//! nothing more and a write's members are typed afterwards) against reading every line into a `RawEvent` at once (the decoder before it).
//!
//! `cargo bench --bench audit_lines`. The lines have the shape of `scripts/gen-audit-log.py`'s
//! (Metadata level, about 850 bytes): three reads to one write, as in that log.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use kubectl_capt::parse::audit::{Decoded, RawEvent, read_line};

fn line(n: usize, verb: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{n:08x}-5f2a-4c1e-9d7b-{n:012x}","stage":"ResponseComplete","requestURI":"/apis/controlplane.cluster.x-k8s.io/v1beta1/namespaces/ns-{ns}/captcontrolplanes/obj-{n}?fieldManager=kubectl-client-side-apply","verb":"{verb}","user":{{"username":"system:serviceaccount:kube-system:deployment-controller","uid":"7a1c2b3d-0000-4000-8000-000000000009","groups":["system:serviceaccounts","system:authenticated"]}},"sourceIPs":["10.244.0.17"],"userAgent":"kube-controller-manager/v1.36.0 (linux/amd64) kubernetes/abc/system:serviceaccount:kube-system:deployment-controller","objectRef":{{"resource":"captcontrolplanes","namespace":"ns-{ns}","name":"obj-{n}","apiVersion":"v1beta1","apiGroup":"controlplane.cluster.x-k8s.io"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"2026-03-01T10:00:00.015881Z","stageTimestamp":"2026-03-01T10:00:00.019881Z","annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding"}}}}"#,
        ns = n % 50
    )
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for (name, verbs) in [
        ("audit lines, 3 reads to 1 write", &["get", "list", "watch", "update"][..]),
        ("audit lines, reads", &["get"]),
        ("audit lines, writes", &["update"]),
    ] {
        group(&mut c, name, verbs);
    }
    c.final_summary();
}

fn group(c: &mut Criterion, name: &str, verbs: &[&str]) {
    let lines: Vec<String> = (0..4_000).map(|n| line(n, verbs[n % verbs.len()])).collect();
    let bytes: usize = lines.iter().map(String::len).sum();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("read_line", |b| {
        b.iter(|| lines.iter().filter_map(|l| read_line(black_box(l.as_bytes()))).count())
    });
    g.bench_function("RawEvent at once", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter_map(|l| serde_json::from_slice::<RawEvent>(black_box(l.as_bytes())).ok())
                .filter(|e| e.audit_id.is_some() && e.verb.is_some())
                .filter_map(|e| if e.write_verb().is_some() { Decoded::new(e).map(Some) } else { Some(None) })
                .count()
        })
    });
    g.finish();
}
