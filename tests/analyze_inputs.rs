//! No server: `analyze` on what people actually have: kubectl text pastes, compressed logs,
//! directories, archives and `kubectl cluster-info dump` output, through the real binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod support {
    pub mod compress;
}
use support::compress::{bzip2, gzip};

const NOW: &str = "2026-11-30T12:00:00Z";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze").join(rel)
}

fn capt(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-capt"));
    cmd.arg("analyze").args(args).env("NO_COLOR", "1");
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run kubectl-capt");
    if let Some(data) = stdin {
        let mut s = child.stdin.take().unwrap();
        s.write_all(data).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The findings lines and the summary of `-o json`.
fn json(o: &Output) -> (Vec<Value>, Value) {
    let mut lines: Vec<Value> = text(o).lines().map(|l| serde_json::from_str(l).expect("NDJSON")).collect();
    let summary = lines.pop().expect("a summary line")["summary"].clone();
    (lines, summary)
}

fn row<'a>(rows: &'a [Value], kind: &str, ns: &str, name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["kind"] == kind && r["namespace"] == ns && r["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {ns}/{name} in {rows:#?}"))
}

fn nothing_unread(summary: &Value) {
    for i in summary["inputs"].as_array().unwrap() {
        for k in ["malformed", "unknown", "truncated", "invalidUtf8"] {
            assert_eq!(i[k]["count"], 0, "{k} in {i:#}");
        }
        assert!(i["records"].as_object().is_some_and(|r| !r.is_empty()), "nothing read: {i:#}");
    }
}

#[test]
fn describe_paste_with_an_event_storm_is_hot() {
    let f = fixture("kubectl/describe-storm.txt");
    let out = capt(&[f.to_str().unwrap(), "--now", NOW, "-o", "json"], None);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let (rows, summary) = json(&out);
    nothing_unread(&summary);
    let r = row(&rows, "CAPTControlPlane", "capt-demo", "demo");
    assert_eq!(r["verdict"], "HOT", "{r:#}");
    assert_eq!(r["cause"], "event-storm");
    let evidence = r["evidence"].to_string();
    assert!(evidence.contains("SecretError from capt-controller"), "{evidence}");
    assert_eq!(r["totals"]["events"], 1083);
    assert_eq!(summary["inputs"][0]["agesRelativeTo"], "2026-11-30T12:00:00Z (--now)");
    // The footer says which reference time was used.
    let out = capt(&[f.to_str().unwrap(), "--now", NOW], None);
    assert!(
        text(&out).contains("kubectl ages read relative to 2026-11-30T12:00:00Z (--now)"),
        "{}",
        text(&out)
    );
    let out = capt(&[f.to_str().unwrap()], None);
    assert!(text(&out).contains("(the file's modification time; --now sets it)"), "{}", text(&out));
}

#[test]
fn describe_paste_with_a_few_events_a_minute_is_listed_not_hot() {
    let f = fixture("kubectl/describe-calm.txt");
    let out = capt(&[f.to_str().unwrap(), "--now", NOW, "-o", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (rows, summary) = json(&out);
    nothing_unread(&summary);
    let r = row(&rows, "Pod", "shop", "web-7d4b9c-x2kqp");
    assert_ne!(r["verdict"], "HOT");
    assert_eq!(r["totals"]["events"], 1 + 7 + 45);
}

#[test]
fn get_watch_paste_of_an_object_updated_every_few_seconds_is_flagged() {
    let f = fixture("kubectl/get-watch.txt");
    let out = capt(&[f.to_str().unwrap(), "--now", NOW, "-o", "json"], None);
    let (rows, summary) = json(&out);
    nothing_unread(&summary);
    let r = row(&rows, "CAPTControlPlane", "capt-demo", "demo");
    assert!(r["verdict"] == "HOT" || r["verdict"] == "ELEVATED", "{r:#}");
    assert_eq!(r["totals"]["writes"], 20);
    assert_eq!(row(&rows, "CAPTControlPlane", "capt-demo", "calm")["verdict"], "OK");
    // --output-watch-events with -A: the pod was deleted and created again; the Deployment
    // block has no command line and is named by its columns.
    let pod = row(&rows, "Pod", "shop", "web-7d4b9c-x2kqp");
    assert_eq!(pod["totals"]["deletes"], 1);
    assert!(rows.iter().any(|r| r["kind"] == "Deployment" && r["name"] == "web"));
}

#[test]
fn events_tables_are_read_completely() {
    let f = fixture("kubectl/events-tables.txt");
    let out = capt(&[f.to_str().unwrap(), "--now", NOW, "-o", "json"], None);
    let (rows, summary) = json(&out);
    nothing_unread(&summary);
    assert_eq!(row(&rows, "CAPTControlPlane", "capt-demo", "demo")["totals"]["events"], 18);
    assert_eq!(row(&rows, "Lease", "kube-system", "kube-scheduler")["totals"]["events"], 1);
    assert!(row(&rows, "Pod", "shop", "web-7d4b9c-x2kqp")["totals"]["events"].as_u64() >= Some(3));
    assert_eq!(summary["inputs"][0]["untimed"], 1, "the <unknown> age");
}

/// The summary without what names the file and how it was stored.
fn without_source(mut summary: Value) -> Value {
    for i in summary["inputs"].as_array_mut().unwrap() {
        let o = i.as_object_mut().unwrap();
        o.remove("source");
        o.remove("compression");
    }
    summary
}

#[test]
fn compressed_copies_give_identical_json() {
    let plain = std::fs::read(fixture("audit.jsonl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copies = [
        ("audit.log", plain.clone()),
        ("audit.log.gz", gzip(&plain)),
        ("audit.log.zst", zstd::encode_all(&plain[..], 3).unwrap()),
        // Named like plain text: detected by content, not name.
        ("audit-bz2.log", bzip2(&plain)),
    ];
    let mut outputs = Vec::new();
    for (name, data) in &copies {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        let out = capt(&[p.to_str().unwrap(), "-o", "json"], None);
        assert!(out.status.code().is_some_and(|c| c == 0 || c == 3), "{name}: {out:?}");
        let (rows, summary) = json(&out);
        assert!(!rows.is_empty(), "{name}");
        outputs.push((rows, without_source(summary.clone())));
        let comp = summary["inputs"][0]["compression"].as_str().map(str::to_string);
        let want = match *name {
            "audit.log" => None,
            "audit.log.gz" => Some("gzip"),
            "audit.log.zst" => Some("zstd"),
            _ => Some("bzip2"),
        };
        assert_eq!(comp.as_deref(), want, "{name}");
    }
    // And through stdin.
    let out = capt(&["-", "-o", "json"], Some(&gzip(&plain)));
    let (rows, summary) = json(&out);
    outputs.push((rows, without_source(summary)));
    for o in &outputs[1..] {
        assert_eq!(o, &outputs[0]);
    }
    // The text footer names the compression.
    let out = capt(&[dir.path().join("audit.log.gz").to_str().unwrap()], None);
    assert!(text(&out).contains("audit.log.gz: json, gzip-compressed ("), "{}", text(&out));
}

/// A bundle: kubectl pastes, an audit log, a dump directory.
fn bundle(root: &Path) {
    std::fs::create_dir_all(root.join("pastes")).unwrap();
    for f in ["describe-storm.txt", "get-watch.txt", "events-tables.txt"] {
        std::fs::copy(fixture(&format!("kubectl/{f}")), root.join("pastes").join(f)).unwrap();
    }
    std::fs::write(root.join("watch.json.gz"), gzip(&std::fs::read(fixture("watch.json")).unwrap())).unwrap();
    copy_dir(&fixture("dump"), &root.join("cluster-dump"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn an_archive_gives_the_same_findings_as_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bundle");
    bundle(&root);
    let targz = dir.path().join("bundle.tgz");
    {
        let f = std::fs::File::create(&targz).unwrap();
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(f, flate2::Compression::default()));
        b.append_dir_all("bundle", &root).unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    let tar = dir.path().join("bundle.tar");
    {
        let mut b = tar::Builder::new(std::fs::File::create(&tar).unwrap());
        b.append_dir_all("bundle", &root).unwrap();
        b.finish().unwrap();
    }
    let from_dir = capt(&[root.to_str().unwrap(), "--now", NOW, "-o", "json"], None);
    assert_eq!(from_dir.status.code(), Some(3), "{}", String::from_utf8_lossy(&from_dir.stderr));
    let (rows, summary) = json(&from_dir);
    nothing_unread(&summary);
    assert_eq!(summary["inputs"].as_array().unwrap().len(), 8, "every file accounted for: {summary:#}");
    for archive in [&targz, &tar] {
        let out = capt(&[archive.to_str().unwrap(), "--now", NOW, "-o", "json"], None);
        let (arows, asummary) = json(&out);
        assert_eq!(arows, rows, "{}", archive.display());
        assert_eq!(without_source(asummary), without_source(summary.clone()));
    }
    // Members are named after the archive.
    let out = capt(&[targz.to_str().unwrap(), "--now", NOW], None);
    assert!(text(&out).contains("bundle.tgz:bundle/pastes/get-watch.txt: text ("), "{}", text(&out));
}

#[test]
fn cluster_info_dump_directory_and_stream() {
    let out = capt(&[fixture("dump").to_str().unwrap(), "-o", "json"], None);
    let (rows, summary) = json(&out);
    nothing_unread(&summary);
    let logs = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"].as_str().is_some_and(|s| s.ends_with("logs.txt")));
    assert!(logs.is_some_and(|l| l["ignored"].as_u64() >= Some(2)), "{summary:#}");
    assert_eq!(row(&rows, "CAPTControlPlane", "capt-demo", "demo")["totals"]["reconciles"], 2);
    assert!(rows.iter().any(|r| r["kind"] == "Node" && r["name"] == "node-a"));
    assert_eq!(
        row(&rows, "Pod", "capt-system", "capt-controller-manager-6c9d8-wx7lp")["totals"]["events"],
        1
    );

    let stream = std::fs::read(fixture("kubectl/dump-stream.txt")).unwrap();
    let out = capt(&["-", "-o", "json"], Some(&zstd::encode_all(&stream[..], 3).unwrap()));
    let (srows, ssummary) = json(&out);
    nothing_unread(&ssummary);
    // The same objects and counts (one stream orders the Pod's Event before the Pod).
    let brief = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .map(|r| {
                format!("{} {} {} {} {}", r["kind"], r["namespace"], r["name"], r["verdict"], r["totals"])
            })
            .collect()
    };
    assert_eq!(brief(&srows), brief(&rows));
}

/// `-o json` writes its rows on two threads in batches: with enough objects for many batches,
/// every row comes out once, in the order `-o yaml` (one thread) gives.
#[test]
fn json_rows_of_many_objects_come_out_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut log = String::new();
    let mut n = 0;
    for i in 0..1500u32 {
        // Some objects written more often than others, so the order is not the input's.
        for k in 0..(1 + i % 7) {
            n += 1;
            let line = serde_json::json!({
                "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
                "auditID": format!("id-{n}"), "stage": "ResponseComplete", "verb": "update",
                "requestURI": format!("/api/v1/namespaces/ns/configmaps/cm-{i}"),
                "user": {"username": "writer"}, "userAgent": "writer/1.0",
                "objectRef": {"resource": "configmaps", "namespace": "ns", "name": format!("cm-{i}"), "apiVersion": "v1"},
                "responseStatus": {"code": 200},
                "requestReceivedTimestamp": format!("2026-03-01T10:00:{:02}.{:06}Z", k * 7, i),
                "stageTimestamp": format!("2026-03-01T10:00:{:02}.{:06}Z", k * 7, i),
            });
            log.push_str(&line.to_string());
            log.push('\n');
        }
    }
    std::fs::write(&path, log).unwrap();
    let file = path.to_str().unwrap();
    let out = capt(&["-o", "json", file], None);
    let (rows, summary) = json(&out);
    nothing_unread(&summary);
    let yaml = capt(&["-o", "yaml", file], None);
    let doc: Value = serde_yaml_ng::from_slice(&yaml.stdout).expect("YAML");
    let ids = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .map(|r| format!("{}/{}", r["namespace"].as_str().unwrap(), r["name"].as_str().unwrap()))
            .collect()
    };
    let want = ids(doc["findings"].as_array().expect("findings"));
    assert_eq!(want.len(), 1500);
    assert_eq!(ids(&rows), want);
    assert_ne!(want[0], "ns/cm-0", "the order is by activity, not the input's");
}
