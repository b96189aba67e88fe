//! No server: `analyze` of a RequestResponse audit log and of watch dumps (JSON and YAML) whose
//! Secrets carry a marker in data, stringData, labels, annotations (last-applied-configuration
//! included) and managedFields. Both Secrets are HOT, so evidence is built and printed; the
//! marker, its base64 and no value of any Secret field appear in any output format, at `-v` or
//! `-vv`, or in the plot.

use std::path::PathBuf;
use std::process::Command;

const MARKER: &str = "SECRETMARKER-7f3a";
/// base64 of the marker's first 15 bytes (what every base64 value in the fixtures starts with).
const MARKER_B64: &str = "U0VDUkVUTUFSS0VSLTdm";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze").join(name)
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(MARKER) && !text.contains(MARKER_B64), "{what} shows Secret data:\n{text}");
}

#[test]
fn analyze_never_prints_a_secret_field_value() {
    let plot = std::env::temp_dir().join(format!("capt-analyze-secrets-{}.svg", std::process::id()));
    for file in ["audit-secrets.jsonl", "watch-secrets.json", "watch-secrets.yaml"] {
        let path = fixture(file);
        let raw = std::fs::read_to_string(&path).expect("fixture");
        assert!(raw.contains(MARKER) && raw.contains(MARKER_B64), "{file}: the fixture must hold the marker");
        // At the highest verbosity for the machine formats: what -vv adds goes to stderr.
        for (output, verbosity) in [("table", "-v"), ("wide", "-v"), ("json", "-vv"), ("yaml", "-vv")] {
            let out = Command::new(env!("CARGO_BIN_EXE_kubectl-capt"))
                .env("NO_COLOR", "1")
                .args(["analyze", verbosity, "-o", output, "--plot"])
                .arg(&plot)
                .arg(&path)
                .output()
                .expect("run analyze");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            // Exit 3: something is HOT (README exit codes).
            assert_eq!(out.status.code(), Some(3), "{file} -o {output}: {stderr}");
            for name in ["team-a/demo-ca", "team-a/demo-kubeconfig"] {
                let shown = if output == "table" || output == "wide" {
                    name.to_string()
                } else {
                    name.replace("team-a/", "")
                };
                assert!(stdout.contains(&shown), "{file} -o {output}: {name} missing:\n{stdout}");
            }
            assert!(stdout.contains("HOT"), "{file} -o {output}: nothing HOT, no evidence built:\n{stdout}");
            assert_clean(&format!("{file} -o {output} stdout"), &stdout);
            assert_clean(&format!("{file} -o {output} stderr"), &stderr);
            let svg = std::fs::read_to_string(&plot).expect("plot written");
            assert_clean(&format!("{file} plot"), &svg);
        }
    }
    let _ = std::fs::remove_file(&plot);
}
