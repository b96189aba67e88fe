//! The live `watch` screen, pure: what the user chose (keys in [`Ui`]), the view models built
//! from the detector's findings and an object's recent history, and their layout into exactly
//! the terminal's width and height. The header, the source states and the summary line are
//! always on screen; rows follow by verdict, then activity; quiet objects fold into one line.

use std::collections::BTreeMap;

use super::sanitize;
use super::screen::{self, Column, Style, TextLine, count_of, thousands, wrap};
use super::watch::sparkline;
use crate::detect::recent::{Change, Entry, Old, What};
use crate::detect::{Finding, Verdict};
use crate::observe::{ObjectKey, SourceState, rfc3339};

/// A key the screen reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Backspace,
    Up,
    Down,
    PageUp,
    PageDown,
    /// Ctrl-C (raw mode turns it into a key).
    Interrupt,
}

/// What the command does after a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reaction {
    Redraw,
    Quit,
    Interrupt,
    /// The history view of this object opened: fetch what it needs.
    Open(ObjectKey),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Verdict, then activity (the detector's order).
    #[default]
    Verdict,
    /// Writes + passes + events per minute.
    Activity,
    Name,
}

impl Sort {
    fn next(self) -> Sort {
        match self {
            Sort::Verdict => Sort::Activity,
            Sort::Activity => Sort::Name,
            Sort::Name => Sort::Verdict,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Sort::Verdict => "verdict",
            Sort::Activity => "activity",
            Sort::Name => "name",
        }
    }
}

/// What the user chose with keys.
#[derive(Clone, Debug, Default)]
pub struct Ui {
    pub sort: Sort,
    pub filter: String,
    /// Typing a filter after `/`.
    pub editing: bool,
    /// Quiet objects shown (`--all`, `a`).
    pub show_all: bool,
    pub selected: Option<ObjectKey>,
    /// The object whose history is shown.
    pub history: Option<ObjectKey>,
    /// Lines scrolled in the history view.
    pub scroll: usize,
}

impl Ui {
    /// Applies a key; `rows` are the table's rows as shown (for moving the selection).
    pub fn key(&mut self, key: Key, rows: &[ObjectKey]) -> Reaction {
        if key == Key::Interrupt {
            return Reaction::Interrupt;
        }
        if self.editing {
            match key {
                Key::Char(c) if !c.is_control() => self.filter.push(c),
                Key::Backspace => {
                    self.filter.pop();
                }
                Key::Enter => self.editing = false,
                Key::Esc => {
                    self.editing = false;
                    self.filter.clear();
                }
                _ => {}
            }
            return Reaction::Redraw;
        }
        if self.history.is_some() {
            match key {
                Key::Char('q') => return Reaction::Quit,
                Key::Esc | Key::Backspace | Key::Char('h') => {
                    self.history = None;
                    self.scroll = 0;
                }
                Key::Down | Key::Char('j') => self.scroll += 1,
                Key::Up | Key::Char('k') => self.scroll = self.scroll.saturating_sub(1),
                Key::PageDown => self.scroll += 10,
                Key::PageUp => self.scroll = self.scroll.saturating_sub(10),
                _ => {}
            }
            return Reaction::Redraw;
        }
        let at = self.selected.as_ref().and_then(|s| rows.iter().position(|r| r == s));
        let step = |delta: isize| {
            let from = at.map_or(-1, |i| i as isize);
            let to = (from + delta).clamp(0, rows.len() as isize - 1);
            rows.get(to.max(0) as usize).cloned()
        };
        match key {
            Key::Char('q') => return Reaction::Quit,
            Key::Char('s') => self.sort = self.sort.next(),
            Key::Char('a') => self.show_all = !self.show_all,
            Key::Char('/') => self.editing = true,
            Key::Esc => {
                self.filter.clear();
                self.selected = None;
            }
            Key::Down | Key::Char('j') => self.selected = step(1),
            Key::Up | Key::Char('k') => self.selected = step(-1),
            Key::PageDown => self.selected = step(10),
            Key::PageUp => self.selected = step(-10),
            Key::Enter => {
                let key = at.map(|i| rows[i].clone()).or_else(|| rows.first().cloned());
                if let Some(k) = key {
                    self.selected = Some(k.clone());
                    self.history = Some(k.clone());
                    self.scroll = 0;
                    return Reaction::Open(k);
                }
            }
            _ => {}
        }
        Reaction::Redraw
    }
}

/// One table row.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRow {
    pub key: ObjectKey,
    pub finding: Finding,
}

/// The table view: rows after filtering, sorting and folding.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub rows: Vec<TableRow>,
    /// Objects folded into the quiet line.
    pub quiet: usize,
    /// Objects the filter hides.
    pub filtered_out: usize,
}

/// Nothing written, reconciled or evented in the last minute, and never worse than OK.
pub fn is_quiet(f: &Finding) -> bool {
    f.verdict == Verdict::Ok
        && f.peak_verdict == Verdict::Ok
        && f.writes_per_minute == 0.0
        && f.reconciles_per_minute == 0.0
        && f.events_per_minute == 0.0
}

fn display_name(f: &Finding) -> String {
    match &f.namespace {
        Some(ns) => format!("{ns}/{}", f.name),
        None => f.name.clone(),
    }
}

fn activity(f: &Finding) -> f64 {
    f.writes_per_minute + f.reconciles_per_minute + f.events_per_minute
}

/// Builds the table from the findings (in the detector's order: verdict, then activity).
pub fn table(findings: Vec<Finding>, ui: &Ui) -> Table {
    let needle = ui.filter.to_lowercase();
    let mut t = Table::default();
    for f in findings {
        if !needle.is_empty() && !display_name(&f).to_lowercase().contains(&needle) {
            t.filtered_out += 1;
        } else if !ui.show_all && needle.is_empty() && is_quiet(&f) {
            t.quiet += 1;
        } else {
            t.rows.push(TableRow { key: f.key(), finding: f });
        }
    }
    match ui.sort {
        Sort::Verdict => {}
        Sort::Activity => t.rows.sort_by(|a, b| activity(&b.finding).total_cmp(&activity(&a.finding))),
        Sort::Name => t.rows.sort_by(|a, b| a.key.cmp(&b.key)),
    }
    t
}

/// Everything above the table.
#[derive(Clone, Debug)]
pub struct Header {
    /// `kubectl capt watch · -n demo`.
    pub title: String,
    pub now: crate::observe::Millis,
    pub sources: BTreeMap<String, SourceState>,
}

fn rate(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn title_line(h: &Header, width: usize) -> TextLine {
    let mut l = TextLine::styled(&h.title, Style::Bold);
    l.push(format!("   {}", rfc3339(h.now)), Style::Dim);
    l.fit(width)
}

/// The source states in one line: each by name when that fits, else the watching ones counted
/// and the others named.
fn sources_line(sources: &BTreeMap<String, SourceState>, width: usize) -> TextLine {
    let style = |s: &SourceState| match s {
        SourceState::Unavailable(_) => Style::Warn,
        SourceState::Reconnecting { .. } => Style::Bad,
        SourceState::Watching | SourceState::Done(_) => Style::Plain,
        _ => Style::Dim,
    };
    let short = |n: &str| n.split('.').next().unwrap_or(n).to_string();
    let mut full = TextLine::plain("sources: ");
    for (i, (name, state)) in sources.iter().enumerate() {
        let sep = if i == 0 { "" } else { " · " };
        full.push(format!("{sep}{}: {}", short(name), sanitize(&state.to_string())), style(state));
    }
    if full.width() <= width {
        return full;
    }
    let watching = sources.values().filter(|s| **s == SourceState::Watching).count();
    let mut l = TextLine::plain(format!("sources: {watching} watching"));
    for (name, state) in sources.iter().filter(|(_, s)| **s != SourceState::Watching) {
        l.push(format!(" · {}: {}", short(name), sanitize(&state.to_string())), style(state));
    }
    l.fit(width)
}

fn summary_line(findings: &[Finding], ui: &Ui, width: usize) -> TextLine {
    let count = |v: Verdict| findings.iter().filter(|f| f.verdict == v).count();
    let ever = findings.iter().filter(|f| f.first_hot_at.is_some()).count();
    let sum = |g: fn(&Finding) -> f64| findings.iter().map(g).sum::<f64>();
    let hot = count(Verdict::Hot);
    let mut l = TextLine::plain(count_of(findings.len(), "object"));
    if !ui.filter.is_empty() {
        l.push(format!(" (filter: {})", sanitize(&ui.filter)), Style::Bold);
    }
    l.push(": ", Style::Plain);
    let hot_style = if hot > 0 { Style::Verdict(Verdict::Hot) } else { Style::Plain };
    l.push(format!("{hot} HOT"), hot_style);
    l.push(
        format!(
            " ({ever} at some point), {} ELEVATED, {} OK · {} writes/min, {} passes/min, {} events/min",
            count(Verdict::Elevated),
            thousands(count(Verdict::Ok)),
            rate(sum(|f| f.writes_per_minute)),
            rate(sum(|f| f.reconciles_per_minute)),
            rate(sum(|f| f.events_per_minute)),
        ),
        Style::Plain,
    );
    l.fit(width)
}

const COLUMNS: [Column; 10] = [
    Column { header: "KIND", drop_order: 5, cap: Some(16) },
    Column { header: "NAME", drop_order: 0, cap: Some(32) },
    Column { header: "PHASE", drop_order: 4, cap: None },
    Column { header: "WRITES/MIN", drop_order: 2, cap: None },
    Column { header: "PASSES/MIN", drop_order: 3, cap: None },
    Column { header: "EVENTS/MIN", drop_order: 6, cap: None },
    Column { header: "EXPECTED", drop_order: 7, cap: None },
    Column { header: "VERDICT", drop_order: 0, cap: None },
    Column { header: "CAUSE", drop_order: 1, cap: Some(16) },
    Column { header: "LAST 5M", drop_order: 8, cap: Some(30) },
];

fn cells(f: &Finding) -> Vec<screen::Cell> {
    let p = |s: String| (s, Style::Plain);
    let verdict = if f.verdict == f.peak_verdict {
        f.verdict.to_string()
    } else {
        format!("{} (was {})", f.verdict, f.peak_verdict)
    };
    vec![
        p(sanitize(&f.kind)),
        p(sanitize(&display_name(f))),
        p(sanitize(f.phase.as_deref().unwrap_or("-"))),
        p(rate(f.writes_per_minute)),
        p(rate(f.reconciles_per_minute)),
        p(rate(f.events_per_minute)),
        p(f.expected_interval_seconds.map_or("-".into(), |s| format!("{s}s"))),
        (verdict, Style::Verdict(f.verdict)),
        p(f.cause.map_or("-".into(), |c| c.to_string())),
        p(sparkline(&f.series)),
    ]
}

fn footer(ui: &Ui, width: usize) -> TextLine {
    let text = if ui.editing {
        format!("filter: {}▏  Enter apply  Esc clear", sanitize(&ui.filter))
    } else if ui.history.is_some() {
        "Esc back  ↑↓ scroll  q quit".to_string()
    } else {
        let quiet = if ui.show_all { "a fold quiet" } else { "a show quiet" };
        format!("q quit  s sort: {}  / filter  {quiet}  ↑↓ select  Enter history", ui.sort.as_str())
    };
    TextLine::styled(text, Style::Dim).fit(width)
}

/// The table screen: exactly `height` lines (or fewer when the table is short), none wider
/// than `width`.
pub fn table_screen(
    header: &Header,
    findings: Vec<Finding>,
    ui: &Ui,
    width: usize,
    height: usize,
) -> Vec<TextLine> {
    let summary = summary_line(&findings, ui, width);
    let t = table(findings, ui);
    let top = [title_line(header, width), sources_line(&header.sources, width), summary];
    let fold = (t.quiet > 0).then(|| {
        TextLine::styled(format!("{} (a: show)", count_of(t.quiet, "quiet object")), Style::Dim).fit(width)
    });
    let bottom = footer(ui, width);
    if height < top.len() + 2 {
        // Too small for a table: the summary and the footer first.
        let mut l = vec![top[2].clone(), bottom, top[0].clone(), top[1].clone()];
        l.truncate(height);
        return l;
    }
    let mut out: Vec<TextLine> = top.to_vec();
    let room = height - top.len() - 1 - usize::from(fold.is_some());
    if t.rows.is_empty() {
        let why = if t.filtered_out > 0 {
            format!("no object matches the filter ({} hidden)", thousands(t.filtered_out))
        } else if fold.is_some() {
            "every object is quiet".to_string()
        } else {
            "waiting for writes, reconcile passes and events…".to_string()
        };
        out.extend(std::iter::once(TextLine::styled(why, Style::Dim).fit(width)).take(room));
    } else if room == 1 {
        let text = format!("{} rows: make the terminal taller to see them", thousands(t.rows.len()));
        out.push(TextLine::styled(text, Style::Dim).fit(width));
    } else if room > 1 {
        let sel = ui.selected.as_ref().and_then(|s| t.rows.iter().position(|r| &r.key == s));
        let body = room - 1;
        let (shown, more) = if t.rows.len() <= body { (body, 0) } else { (body - 1, 1) };
        let start = match sel {
            Some(i) if i >= shown => i + 1 - shown,
            _ => 0,
        };
        let window: Vec<(Vec<screen::Cell>, Option<Style>)> = t
            .rows
            .iter()
            .enumerate()
            .skip(start)
            .take(shown)
            .map(|(i, r)| (cells(&r.finding), (Some(i) == sel).then_some(Style::Selected)))
            .collect();
        out.extend(screen::table(&COLUMNS, &window, width));
        if more > 0 {
            let below = t.rows.len() - start - window.len();
            let text = format!("… {} more rows ({} above, ↑↓ to move)", thousands(below), start);
            out.push(TextLine::styled(text, Style::Dim).fit(width));
        }
    }
    out.extend(fold);
    out.push(bottom);
    out
}

/// The keys of the rows shown in the table, in order (what ↑↓ and Enter move over).
pub fn row_keys(findings: Vec<Finding>, ui: &Ui) -> Vec<ObjectKey> {
    table(findings, ui).rows.into_iter().map(|r| r.key).collect()
}

/// What `status` logic says about a CAPTControlPlane in the history view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    /// Not a CAPT control plane.
    None,
    Pending,
    /// The decision, the requeue (naming the Secret and key when one is missing) and findings.
    Lines(Vec<String>),
    Failed(String),
}

fn value(v: &Option<String>) -> String {
    v.as_deref().map_or("(absent)".into(), sanitize)
}

fn change_text(c: &Change, secret: bool) -> String {
    if secret {
        return format!("{} changed (value not shown)", sanitize(&c.path));
    }
    let old = match &c.old {
        Old::Unknown => "?".to_string(),
        Old::Known(v) => value(v),
    };
    format!("{}: {old} → {}", sanitize(&c.path), value(&c.new))
}

fn entry_lines(e: &Entry, secret: bool) -> Vec<TextLine> {
    let time = rfc3339(e.at).get(11..23).unwrap_or_default().to_string();
    let head = |what: String, style| {
        let mut l = TextLine::styled(format!("{time}  "), Style::Dim);
        l.push(what, style);
        l
    };
    match &e.what {
        What::Write { manager, create, generation, changes } => {
            let who = match manager {
                Some(m) => {
                    let sub = m.subresource.as_deref().map(|s| format!(", {s}")).unwrap_or_default();
                    format!("{} ({}{sub})", sanitize(&m.name), sanitize(&m.operation))
                }
                None => "unknown writer".into(),
            };
            let verb = if *create { "create" } else { "write " };
            let gen_ = generation.map(|g| format!(" · generation {g}")).unwrap_or_default();
            let mut out = vec![head(format!("{verb} by {who}{gen_}"), Style::Bold)];
            out.extend(
                changes.iter().map(|c| TextLine::plain(format!("              {}", change_text(c, secret)))),
            );
            out
        }
        What::Pass { reconcile_id } => vec![head(
            format!("pass   reconcileID {}", reconcile_id.as_deref().map_or("-".into(), sanitize)),
            Style::Plain,
        )],
        What::Events { count, reason } => vec![head(
            format!("events ×{count} {}", reason.as_deref().map_or("-".into(), sanitize)),
            Style::Plain,
        )],
        What::Deleted => vec![head("deleted".into(), Style::Warn)],
    }
}

/// The history view's model: one object, what the detector says of it, its recent entries
/// (newest first) and the diagnosis.
#[derive(Clone, Debug)]
pub struct HistoryView<'a> {
    pub key: &'a ObjectKey,
    pub finding: Option<&'a Finding>,
    pub entries: &'a [Entry],
    pub diagnosis: &'a Diagnosis,
}

/// The history screen of one object: what the detector says, the diagnosis, then the recent
/// writes, passes and Events, newest first.
pub fn history_screen(
    header: &Header,
    h: &HistoryView,
    ui: &Ui,
    width: usize,
    height: usize,
) -> Vec<TextLine> {
    let HistoryView { key, finding, entries, diagnosis } = *h;
    let mut top = vec![title_line(header, width), sources_line(&header.sources, width)];
    top.push(TextLine::styled(format!("history of {}", sanitize(&key.to_string())), Style::Bold).fit(width));
    if let Some(f) = finding {
        let mut l = TextLine::styled(f.verdict.to_string(), Style::Verdict(f.verdict));
        l.push(
            format!(
                " {} · {}/min writes, {}/min passes, {}/min events{}",
                f.cause.map_or("-".into(), |c| c.to_string()),
                rate(f.writes_per_minute),
                rate(f.reconciles_per_minute),
                rate(f.events_per_minute),
                f.expected_interval_seconds.map(|s| format!(" · expected every {s}s")).unwrap_or_default()
            ),
            Style::Plain,
        );
        top.push(l.fit(width));
        // The first piece of evidence (what flips), wrapped: names are long.
        for l in f.evidence.iter().take(1).flat_map(|e| wrap(&sanitize(e), width.saturating_sub(2), 2)) {
            top.push(TextLine::plain(format!("  {l}")));
        }
    }
    let said = |text: &str| {
        let lines = wrap(&sanitize(text), width.saturating_sub(11), 3);
        let lead = |i: usize| if i == 0 { "diagnosis: " } else { "           " };
        lines
            .into_iter()
            .enumerate()
            .map(move |(i, l)| TextLine::styled(format!("{}{l}", lead(i)), Style::Warn))
    };
    match diagnosis {
        Diagnosis::None => {}
        Diagnosis::Pending => top.push(TextLine::styled("diagnosis: reading its inputs…", Style::Dim)),
        Diagnosis::Failed(why) => top.extend(said(why)),
        Diagnosis::Lines(lines) => top.extend(lines.iter().flat_map(|l| said(l))),
    }
    let top: Vec<TextLine> = top.into_iter().map(|l| l.fit(width)).collect();
    let bottom = footer(ui, width);
    let secret = key.group.is_empty() && key.kind == "Secret";
    let body: Vec<TextLine> = if entries.is_empty() {
        vec![TextLine::styled("no writes, passes or Events seen since the watch began", Style::Dim)]
    } else {
        entries.iter().flat_map(|e| entry_lines(e, secret)).collect()
    };
    let room = height.saturating_sub(1);
    let mut out: Vec<TextLine> = top.into_iter().take(room).collect();
    let left = room - out.len();
    let scroll = ui.scroll.min(body.len().saturating_sub(1));
    out.extend(body.into_iter().skip(scroll).take(left).map(|l| l.fit(width)));
    if height > 0 {
        out.push(bottom);
    }
    out
}

#[cfg(test)]
mod tests;
