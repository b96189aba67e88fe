use super::*;
use crate::detect::recent::Recent;
use crate::detect::{Config, Detector};
use crate::observe::{FieldChange, ObjectState, Observation, ObservedWrite};

const T0: i64 = 1_800_000_000_000;

fn cp(ns: &str, name: &str) -> ObjectKey {
    ObjectKey::new("controlplane.cluster.x-k8s.io", "CAPTControlPlane", Some(ns), name)
}

fn hl1_write(k: i64, key: &ObjectKey) -> Observation {
    crate::render::watch::hl1_write(T0 + k * 50, k, key)
}

/// One hot-looping control plane among `quiet` listed-only ones, and one written twice.
fn world(quiet: usize) -> (Detector, Recent, ObjectKey) {
    let mut d = Detector::new(Config::default());
    let mut r = Recent::default();
    for i in 0..quiet {
        d.observe(&Observation::baseline(T0, cp("team-a", &format!("cp{i:04}")), ObjectState::default()));
    }
    let hot = cp("team-a", "hot-control-plane-with-a-long-name");
    for k in 0..40 {
        let o = hl1_write(k, &hot);
        d.observe(&o);
        r.observe(&o);
    }
    let calm = cp("team-b", "calm");
    for k in 0..2 {
        d.observe(&hl1_write(k * 20, &calm));
    }
    (d, r, hot)
}

fn header() -> Header {
    let mut sources = BTreeMap::new();
    for s in ["captcontrolplanes.controlplane.cluster.x-k8s.io", "clusters.cluster.x-k8s.io", "secrets"] {
        sources.insert(s.to_string(), SourceState::Watching);
    }
    sources.insert("logs".into(), SourceState::Off("--no-logs".into()));
    Header { title: "kubectl capt watch · all namespaces".into(), now: T0 + 2_000, sources }
}

fn texts(lines: &[TextLine]) -> Vec<String> {
    lines.iter().map(TextLine::text).collect()
}

#[test]
fn the_table_fits_every_terminal_size_keeping_header_sources_summary_and_hot_row() {
    let (d, _, _) = world(1_500);
    let ui = Ui::default();
    for (w, h) in [(80, 24), (200, 50), (40, 10), (120, 30), (60, 8), (25, 6)] {
        let lines = table_screen(&header(), d.findings(T0 + 2_000), &ui, w, h);
        let t = texts(&lines);
        assert!(lines.len() <= h, "{w}x{h}: {} lines", lines.len());
        for l in &lines {
            assert!(l.width() <= w, "{w}x{h}: {:?} is {} wide", l.text(), l.width());
        }
        assert!(t[0].starts_with("kubectl capt"), "{w}x{h}: {t:#?}");
        assert!(t[1].starts_with("sources: "), "{w}x{h}: {t:#?}");
        assert!(t[2].starts_with("1,502 objects: 1 HOT"), "{w}x{h}: {t:#?}");
        if h >= 8 {
            assert!(t[4].contains("HOT") && t[4].contains("team-a/hot"), "{w}x{h}: {t:#?}");
        }
        assert!(t.iter().any(|l| l.starts_with("1,500 quiet objects")), "{w}x{h}: {t:#?}");
        assert!(t.last().unwrap().starts_with("q quit"), "{w}x{h}: {t:#?}");
    }
    // 80 columns: the sources are summarised, columns dropped, the name shortened to fit.
    let t = texts(&table_screen(&header(), d.findings(T0 + 2_000), &ui, 80, 24));
    assert_eq!(t[1], "sources: 3 watching · logs: off (--no-logs)");
    assert!(!t[3].contains("LAST 5M") && t[3].contains("VERDICT") && t[3].contains("CAUSE"), "{t:#?}");
    // 200 columns: everything, the full name and the sparkline.
    let t = texts(&table_screen(&header(), d.findings(T0 + 2_000), &ui, 200, 50));
    assert!(t[1].contains("captcontrolplanes: watching · clusters: watching"), "{t:#?}");
    assert!(t[3].starts_with("KIND") && t[3].ends_with("LAST 5M"), "{t:#?}");
    assert!(t[4].contains("team-a/hot-control-plane-with-a-long-name") && t[4].contains("status-flip-flop"));
}

#[test]
fn narrow_terminals_shorten_names_with_an_ellipsis() {
    let (d, _, _) = world(3);
    let t = texts(&table_screen(&header(), d.findings(T0 + 2_000), &Ui::default(), 40, 12));
    assert_eq!(t[3].split_whitespace().collect::<Vec<_>>(), ["NAME", "VERDICT"]);
    assert_eq!(t[4], "team-a/hot-control-plane-with-…  HOT", "{t:#?}");
}

#[test]
fn quiet_objects_fold_unless_shown_and_rows_beyond_the_screen_are_counted() {
    let (d, _, _) = world(100);
    let mut ui = Ui::default();
    let t = texts(&table_screen(&header(), d.findings(T0 + 2_000), &ui, 100, 24));
    assert_eq!(t.len(), 8, "{t:#?}");
    assert!(t[5].contains("team-b/calm"), "an active OK object is not quiet: {t:#?}");
    assert_eq!(t[6], "100 quiet objects (a: show)");
    assert_eq!(
        (count_of(1, "object"), count_of(1_502, "object")),
        ("1 object".into(), "1,502 objects".into())
    );
    assert_eq!(ui.key(Key::Char('a'), &[]), Reaction::Redraw);
    assert!(ui.show_all);
    let t = texts(&table_screen(&header(), d.findings(T0 + 2_000), &ui, 100, 24));
    assert_eq!(t.len(), 24);
    assert!(t[22].starts_with("… 84 more rows (0 above"), "{t:#?}");
    assert!(!t.iter().any(|l| l.contains("quiet objects (a: show)")));
    assert!(t[23].contains("a fold quiet"), "{t:#?}");
}

#[test]
fn rows_are_ordered_by_verdict_then_activity_and_sort_cycles() {
    let (d, _, hot) = world(0);
    let mut ui = Ui { show_all: true, ..Ui::default() };
    let keys = row_keys(d.findings(T0 + 2_000), &ui);
    assert_eq!(keys[0], hot);
    assert_eq!(ui.key(Key::Char('s'), &keys), Reaction::Redraw);
    assert_eq!(ui.sort, Sort::Activity);
    ui.key(Key::Char('s'), &keys);
    let by_name = row_keys(d.findings(T0 + 2_000), &ui);
    assert_eq!(by_name[0].name, "hot-control-plane-with-a-long-name", "team-a before team-b");
    assert_eq!(by_name[1].name, "calm");
    ui.key(Key::Char('s'), &keys);
    assert_eq!(ui.sort, Sort::Verdict);
}

#[test]
fn slash_filters_by_name_and_escape_clears() {
    let (d, _, _) = world(20);
    let mut ui = Ui::default();
    for k in [Key::Char('/'), Key::Char('c'), Key::Char('p'), Key::Char('0'), Key::Char('0'), Key::Char('1')]
    {
        ui.key(k, &[]);
    }
    let t = texts(&table_screen(&header(), d.findings(T0 + 2_000), &ui, 100, 30));
    assert!(t.last().unwrap().starts_with("filter: cp001▏"), "{t:#?}");
    ui.key(Key::Enter, &[]);
    assert!(!ui.editing);
    let t = texts(&table_screen(&header(), d.findings(T0 + 2_000), &ui, 100, 30));
    assert!(t[2].starts_with("22 objects (filter: cp001): 1 HOT"), "{t:#?}");
    let names: Vec<&String> = t.iter().filter(|l| l.contains("team-a/")).collect();
    assert_eq!(names.len(), 10, "cp0010…cp0019, quiet or not: {t:#?}");
    ui.key(Key::Char('/'), &[]);
    for _ in 0..5 {
        ui.key(Key::Backspace, &[]);
    }
    ui.key(Key::Char('z'), &[]);
    ui.key(Key::Enter, &[]);
    let t = texts(&table_screen(&header(), d.findings(T0 + 2_000), &ui, 100, 30));
    assert!(t[3].starts_with("no object matches the filter (22 hidden)"), "{t:#?}");
    ui.key(Key::Esc, &[]);
    assert!(ui.filter.is_empty());
}

#[test]
fn keys_quit_interrupt_select_and_open_history() {
    let (d, _, hot) = world(5);
    let mut ui = Ui::default();
    let keys = row_keys(d.findings(T0 + 2_000), &ui);
    assert_eq!(ui.key(Key::Interrupt, &keys), Reaction::Interrupt);
    assert_eq!(ui.key(Key::Down, &keys), Reaction::Redraw);
    assert_eq!(ui.selected.as_ref(), Some(&hot));
    ui.key(Key::Down, &keys);
    ui.key(Key::Down, &keys);
    assert_eq!(ui.selected.as_ref().map(|k| k.name.as_str()), Some("calm"), "stops at the last row");
    let lines = table_screen(&header(), d.findings(T0 + 2_000), &ui, 100, 20);
    assert!(lines[5].spans.iter().all(|s| s.style == Style::Selected), "{:?}", lines[5]);
    ui.key(Key::Up, &keys);
    assert_eq!(ui.key(Key::Enter, &keys), Reaction::Open(hot.clone()));
    assert_eq!(ui.history.as_ref(), Some(&hot));
    assert_eq!(ui.key(Key::Char('a'), &keys), Reaction::Redraw);
    assert!(!ui.show_all, "keys of the table do nothing in the history view");
    ui.key(Key::Esc, &keys);
    assert_eq!(ui.history, None);
    assert_eq!(ui.key(Key::Char('q'), &keys), Reaction::Quit);
}

#[test]
fn history_shows_each_write_with_old_and_new_values_and_the_writer() {
    let (d, r, hot) = world(0);
    let entries = r.of(&hot);
    let f = d.finding(&hot, T0 + 2_000);
    let diagnosis = Diagnosis::Lines(vec![
        "Requeue 10s: SecretError: Secret team-a/x-eks-connection has no cluster_certificate_authority_data"
            .into(),
    ]);
    let ui = Ui { history: Some(hot.clone()), ..Ui::default() };
    let h = HistoryView { key: &hot, finding: f.as_ref(), entries: &entries, diagnosis: &diagnosis };
    for (w, ht) in [(80, 24), (200, 50)] {
        let lines = history_screen(&header(), &h, &ui, w, ht);
        let t = texts(&lines);
        assert!(lines.len() <= ht, "{t:#?}");
        assert!(lines.iter().all(|l| l.width() <= w));
        assert!(t[2].starts_with("history of CAPTControlPlane team-a/hot-control"), "{t:#?}");
        assert!(t[3].starts_with("HOT status-flip-flop"), "{t:#?}");
        assert!(t.iter().any(|l| l.starts_with("diagnosis: Requeue 10s: SecretError: Secret team-a/x-eks")));
        assert!(t.iter().any(|l| l.ends_with("write  by legacy-capt-manager (Update, status)")), "{t:#?}");
        assert!(
            t.iter().any(|l| l.ends_with("status.conditions[Ready].reason: Ready → SecretError")),
            "{t:#?}"
        );
        assert!(
            t.iter().any(|l| l.ends_with("status.conditions[Ready].reason: SecretError → Ready")),
            "{t:#?}"
        );
        assert_eq!(t.last().unwrap(), "Esc back  ↑↓ scroll  q quit");
    }
    // The newest write first.
    let t = texts(&history_screen(&header(), &h, &ui, 200, 50));
    let first = t.iter().position(|l| l.contains("write  by")).unwrap();
    assert!(t[first].contains("08:00:01.950"), "{t:#?}");
}

#[test]
fn a_secrets_history_never_shows_values() {
    let key = ObjectKey::new("", "Secret", Some("team-a"), "x-eks-connection");
    let mut r = Recent::default();
    for k in 0..3 {
        r.observe(&Observation::write(
            T0 + k,
            key.clone(),
            ObservedWrite {
                changes: vec![FieldChange::new("data.cluster_endpoint", Some("SECRET-VALUE".into()))].into(),
                ..Default::default()
            },
        ));
    }
    let ui = Ui { history: Some(key.clone()), ..Ui::default() };
    let h = HistoryView { key: &key, finding: None, entries: &r.of(&key), diagnosis: &Diagnosis::None };
    let t = texts(&history_screen(&header(), &h, &ui, 120, 30));
    assert!(t.iter().any(|l| l.ends_with("data.cluster_endpoint changed (value not shown)")), "{t:#?}");
    assert!(!t.concat().contains("SECRET-VALUE"));
}
