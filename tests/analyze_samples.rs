//! No server: every file in `../shared/real-samples/` (real clusters and controllers, all
//! negatives) is read by `analyze` with nothing malformed, unknown or truncated, and gives no
//! HOT verdict. Prints "skipped" when `../shared` is absent.

#[path = "support/mod.rs"]
mod support;

use kubectl_capt::analysis::{Input, analyze};
use kubectl_capt::detect::{Config, Verdict};
use kubectl_capt::parse::Restrict;
use kubectl_capt::render::analyze::render_text;

#[test]
fn real_samples_parse_cleanly_and_are_not_hot() {
    let Some(shared) = support::shared_dir("real_samples_parse_cleanly_and_are_not_hot") else { return };
    let dir = shared.join("real-samples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .filter(|d| d.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten().map(|f| f.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "expected the nine samples, found {files:?}");
    for path in files {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let input = Input::new(&path.display().to_string(), Box::new(file), 2025);
        let a = analyze(vec![input], Restrict::Any, Config { history_buckets: 64, ..Config::default() })
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let r = &a.inputs[0];
        let text = render_text(&a, 10, false, false);
        assert_eq!(r.unread(), 0, "{}: could not read everything:\n{text}", path.display());
        assert_eq!(r.invalid_utf8.count, 0, "{}", path.display());
        assert!(r.total_records() > 0, "{}: nothing read:\n{text}", path.display());
        assert!(!a.any_hot(), "{}: flagged HOT:\n{text}", path.display());
        assert!(a.rows().all(|row| row.finding.verdict != Verdict::Hot));
        println!("{}: {} records, {} objects, OK", path.display(), r.total_records(), a.len());
    }
}
