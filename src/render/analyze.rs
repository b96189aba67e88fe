//! The text views of `analyze`: the findings table, the timeline of the top objects, the
//! per-input footer, the serialised summary and the plot's lines.

use comfy_table::Cell;
use serde::Serialize;

use crate::analysis::{AllRows, Analysis, Row, resample};
use crate::detect::{Finding, Summary, Verdict};
use crate::observe;
use crate::parse::ParseReport;
use crate::render::{self, plot};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryView<'a> {
    #[serde(flatten)]
    pub summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    pub inputs: &'a [ParseReport],
}

#[derive(Serialize)]
pub struct SummaryLine<'a> {
    pub summary: &'a SummaryView<'a>,
}

#[derive(Serialize)]
pub struct Document<'a> {
    pub findings: AllRows<'a>,
    pub summary: SummaryView<'a>,
}

/// The summary as serialised: the detector's totals, the data's span, every input's report.
pub fn summary_view(a: &Analysis) -> SummaryView<'_> {
    SummaryView {
        summary: &a.summary,
        start: a.start.map(observe::rfc3339),
        end: a.end.map(observe::rfc3339),
        inputs: &a.inputs,
    }
}

/// A fixed-width sparkline of `values` (nearest bar; blank for zero).
pub fn sparkline(values: &[f64]) -> String {
    render::spark::line(values, render::spark::Bars::Nearest)
}

fn verdict_cell(v: Verdict, color: bool) -> Cell {
    let c = Cell::new(v.as_str());
    if !color {
        return c;
    }
    c.fg(render::palette::verdict_color(v))
}

fn object_name(f: &Finding) -> String {
    let n = match &f.namespace {
        Some(ns) => format!("{ns}/{}", f.name),
        None => f.name.clone(),
    };
    render::sanitize(&n)
}

/// The top `n` writers by writes, one entry per writer (a writer's create and its status
/// patches are separate managedFields entries but one writer); `short` keeps only the manager
/// (or user) name.
fn top_writers(f: &Finding, n: usize, short: bool) -> String {
    let mut by_name: Vec<(String, u64)> = Vec::new();
    for m in &f.managers {
        let name = if short { m.manager.split(" (").next().unwrap_or(&m.manager) } else { &m.manager };
        match by_name.iter_mut().find(|(k, _)| k == name) {
            Some((_, w)) => *w += m.writes,
            None => by_name.push((name.to_string(), m.writes)),
        }
    }
    by_name.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let s: Vec<String> =
        by_name.iter().take(n).map(|(m, w)| format!("{} ×{w}", render::sanitize(m))).collect();
    if s.is_empty() { "-".into() } else { s.join(", ") }
}

/// The table, the timeline of the top objects, and the footer.
pub fn render_text(a: &Analysis, top: usize, wide: bool, color: bool) -> String {
    let mut out = String::new();
    if a.is_empty() {
        out.push_str("No objects found in the input.\n");
    } else {
        let mut headers = vec![
            "kind",
            "object",
            "writes",
            "passes",
            "events",
            "peak/s",
            "peak/min",
            "top writers",
            "verdict",
            "cause",
        ];
        if wide {
            headers.extend(["expected", "first hot", "changed fields"]);
        }
        let mut t = render::table(&headers);
        // Built once for the table, the evidence and the timeline.
        let rows: Vec<Row> = a.rows().take(top.max(1)).collect();
        for r in &rows {
            let f = &r.finding;
            let mut row = vec![
                Cell::new(render::sanitize(&f.kind)),
                Cell::new(object_name(f)),
                Cell::new(f.totals.writes),
                Cell::new(f.totals.reconciles),
                Cell::new(f.totals.events),
                Cell::new(r.peak_per_second),
                Cell::new(r.peak_per_minute),
                Cell::new(top_writers(f, if wide { 4 } else { 2 }, !wide)),
                verdict_cell(f.verdict, color),
                Cell::new(f.cause.map_or("-", |c| c.as_str())),
            ];
            if wide {
                row.push(Cell::new(f.expected_interval_seconds.map_or("-".into(), |s| format!("{s}s"))));
                row.push(Cell::new(f.first_hot_at.as_deref().unwrap_or("-")));
                row.push(Cell::new(render::sanitize(
                    &f.changed_fields.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                )));
            }
            t.add_row(row);
        }
        out.push_str(&render::table_to_string(&t));
        if a.len() > top {
            out.push_str(&format!("... and {} more objects (--top N shows more)\n", a.len() - top));
        }
        for r in rows
            .iter()
            .take(top)
            .filter(|r| r.finding.verdict != Verdict::Ok && !r.finding.evidence.is_empty())
        {
            out.push_str(&format!(
                "\n{} {} {}: {}\n",
                r.finding.verdict,
                render::sanitize(&r.finding.kind),
                object_name(&r.finding),
                render::sanitize(&r.finding.evidence.join("; "))
            ));
        }
        if let (Some(start), Some(end)) = (a.start, a.end)
            && end > start
        {
            let cells = 48;
            out.push_str(&format!(
                "\nTIMELINE {} → {} ({} per cell, activity per second)\n",
                observe::rfc3339(start),
                observe::rfc3339(end),
                human_secs((end - start) as f64 / 1000.0 / cells as f64)
            ));
            let mut t = render::table(&["object", "timeline", "peak/s"]);
            for r in rows.iter().take(top) {
                let Some(h) = r.history else { continue };
                let v = resample(h, start, end, cells);
                let peak = v.iter().cloned().fold(0.0, f64::max);
                t.add_row(vec![
                    Cell::new(format!("{} {}", render::sanitize(&r.finding.kind), object_name(&r.finding))),
                    Cell::new(format!("|{}|", sparkline(&v))),
                    Cell::new(format!("{peak:.1}")),
                ]);
            }
            out.push_str(&render::table_to_string(&t));
        }
    }
    if !a.summary.controllers.is_empty() {
        out.push_str("\nCONTROLLERS (from metrics; no object identity)\n");
        let mut t = render::table(&[
            "controller",
            "scrapes",
            "reconciles total",
            "reconciles/s",
            "errors/s",
            "queue adds/s",
        ]);
        let f = |v: Option<f64>, p: usize| v.map_or("-".to_string(), |v| format!("{v:.p$}"));
        for c in &a.summary.controllers {
            // One scrape: averages since the process started, not a current rate.
            let rate = |v: Option<f64>| match (v, c.lifetime_average) {
                (Some(_), true) => format!("{} (lifetime avg)", f(v, 3)),
                _ => f(v, 2),
            };
            t.add_row(vec![
                render::sanitize(&c.controller),
                c.scrapes.to_string(),
                f(c.reconcile_total, 0),
                rate(c.reconciles_per_second),
                rate(c.errors_per_second),
                rate(c.workqueue_adds_per_second),
            ]);
        }
        out.push_str(&render::table_to_string(&t));
    }
    out.push_str(&footer(&a.inputs));
    out
}

fn human_secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0}ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.0}s")
    } else if s < 7200.0 {
        format!("{:.0}m", s / 60.0)
    } else {
        format!("{:.1}h", s / 3600.0)
    }
}

/// What was read from each input and what could not be.
pub fn footer(inputs: &[ParseReport]) -> String {
    let mut out = String::from("\n");
    for r in inputs {
        let kinds: Vec<String> = r.records.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let read = if kinds.is_empty() { "no records".to_string() } else { kinds.join(", ") };
        let stored = r.compression.as_deref().map_or(String::new(), |c| format!(", {c}-compressed"));
        out.push_str(&format!(
            "{}: {}{stored} ({} lines): {read}",
            render::sanitize(&r.source),
            r.format.as_str(),
            r.lines
        ));
        if r.ignored > 0 {
            out.push_str(&format!("; {} not relevant", r.ignored));
        }
        out.push('\n');
        let problems: Vec<String> = [
            ("malformed", &r.malformed),
            ("unknown format", &r.unknown),
            ("truncated", &r.truncated),
            ("invalid UTF-8", &r.invalid_utf8),
        ]
        .iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(what, p)| {
            let lines: Vec<String> = p.first_lines.iter().map(u64::to_string).collect();
            let more = if p.count as usize > p.first_lines.len() { ", …" } else { "" };
            format!(
                "{} {what} (line{} {}{more})",
                p.count,
                if p.count == 1 { "" } else { "s" },
                lines.join(", ")
            )
        })
        .collect();
        if !problems.is_empty() {
            out.push_str(&format!("  could not read: {}\n", problems.join(", ")));
        }
        if r.untimed > 0 {
            out.push_str(&format!(
                "  {} records without a time took the time of the record before them\n",
                r.untimed
            ));
        }
        if r.versions_forgotten > 0 {
            out.push_str(&format!(
                "  {} objects' earlier versions forgotten (memory cap); their next writes were read from the request\n",
                r.versions_forgotten
            ));
        }
        if let Some(n) = &r.note {
            out.push_str(&format!("  {}\n", render::sanitize(n)));
        }
        if let Some(at) = &r.ages_relative_to {
            out.push_str(&format!("  kubectl ages read relative to {}\n", render::sanitize(at)));
        }
    }
    out
}

/// The lines to plot: the top objects' activity per second over the data's span.
pub fn plot_data(a: &Analysis, top: usize) -> plot::Plot {
    let (start, end) = match (a.start, a.end) {
        (Some(s), Some(e)) => (s, e.max(s + 1000)),
        _ => (0, 1000),
    };
    let cells = 200;
    let step = (end - start) as f64 / 1000.0 / cells as f64;
    let series = a
        .rows()
        .take(top)
        .filter_map(|r| {
            let h = r.history?;
            let v = resample(h, start, end, cells);
            Some(plot::Line {
                label: format!("{} {}", r.finding.kind, object_name(&r.finding)),
                points: v.iter().enumerate().map(|(i, &y)| (i as f64 * step, y)).collect(),
                hot: r
                    .hot_ms
                    .iter()
                    .map(|&(a, b)| ((a - start) as f64 / 1000.0, (b - start) as f64 / 1000.0))
                    .collect(),
            })
        })
        .collect();
    plot::Plot {
        title: format!("activity per second from {}", observe::rfc3339(start)),
        x_label: "seconds".into(),
        span: (end - start) as f64 / 1000.0,
        lines: series,
    }
}
