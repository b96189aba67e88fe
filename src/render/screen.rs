//! Text for a full-screen view, as values: lines of styled spans cut to a terminal's width by
//! display width (CJK and emoji take two columns), and tables whose columns are dropped by
//! priority, then shortened with `…`, until they fit. Nothing here knows about a terminal.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::detect::Verdict;

/// How a span looks; the terminal maps it to attributes (colour only when colour is on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    #[default]
    Plain,
    Dim,
    Bold,
    Warn,
    Bad,
    Verdict(Verdict),
    /// The selected row: reverse video, also without colour.
    Selected,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub style: Style,
}

/// One screen line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextLine {
    pub spans: Vec<Span>,
}

impl TextLine {
    pub fn plain(text: impl Into<String>) -> Self {
        TextLine::styled(text, Style::Plain)
    }
    pub fn styled(text: impl Into<String>, style: Style) -> Self {
        TextLine { spans: vec![Span { text: text.into(), style }] }
    }
    pub fn push(&mut self, text: impl Into<String>, style: Style) {
        self.spans.push(Span { text: text.into(), style });
    }
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
    pub fn width(&self) -> usize {
        self.spans.iter().map(|s| width(&s.text)).sum()
    }
    /// The line cut to `max` columns, ending in `…` when something was cut.
    pub fn fit(self, max: usize) -> TextLine {
        if self.width() <= max {
            return self;
        }
        let mut left = max.saturating_sub(1);
        let mut spans = Vec::new();
        for s in self.spans {
            if left == 0 {
                break;
            }
            let w = width(&s.text);
            if w <= left {
                left -= w;
                spans.push(s);
            } else {
                spans.push(Span { text: take_width(&s.text, left), style: s.style });
                left = 0;
            }
        }
        if max > 0 {
            let style = spans.last().map(|s| s.style).unwrap_or_default();
            spans.push(Span { text: "…".into(), style });
        }
        TextLine { spans }
    }
}

/// Display width of `s` (control characters count as one: cluster text is sanitised before).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// The longest prefix of `s` at most `max` columns wide.
fn take_width(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(1);
        if used + w > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}

/// `s` in at most `max` columns: cut with `…` at the end when too wide.
pub fn shorten(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    match max {
        0 => String::new(),
        _ => format!("{}…", take_width(s, max - 1)),
    }
}

/// `text` broken at spaces into lines of at most `max` columns (a word longer than a line is
/// cut), at most `lines` of them, the last ending in `…` when text is left over.
pub fn wrap(text: &str, max: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let sep = usize::from(!cur.is_empty());
        if !cur.is_empty() && width(&cur) + sep + width(word) > max {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        while width(&cur) > max && max > 0 {
            let head = take_width(&cur, max);
            cur = cur[head.len()..].to_string();
            out.push(head);
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    if out.len() > lines {
        out.truncate(lines);
        if let Some(last) = out.last_mut() {
            *last = shorten(&format!("{last} …"), max);
        }
    }
    out
}

/// `1 object`, `1,502 objects`.
pub fn count_of(n: usize, noun: &str) -> String {
    format!("{} {}", thousands(n), plural(n as u64, noun))
}

/// `noun`, or its plural (an `s` more) unless `n` is 1.
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 { noun.to_string() } else { format!("{noun}s") }
}

/// `1,490`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A table column: its header, how readily it is dropped (higher goes first; 0 never), and
/// for a column that may be shortened with `…`, the width it counts as when deciding what to
/// drop (`None`: never shortened).
#[derive(Clone, Debug)]
pub struct Column {
    pub header: &'static str,
    pub drop_order: u8,
    pub cap: Option<usize>,
}

/// One cell: text and style.
pub type Cell = (String, Style);

const GAP: usize = 2;

/// Lays a table out in `max` columns: the header line and one line per row. Columns are
/// dropped by `drop_order` until the rest fit (shortenable ones counted at their cap); then
/// shortenable columns give up width, rightmost first, down to 8 columns or their header; a
/// row style (the selection) spans the line.
pub fn table(columns: &[Column], rows: &[(Vec<Cell>, Option<Style>)], max: usize) -> Vec<TextLine> {
    let natural: Vec<usize> = (0..columns.len())
        .map(|c| {
            rows.iter()
                .map(|(cells, _)| width(&cells[c].0))
                .chain([width(columns[c].header)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut keep: Vec<usize> = (0..columns.len()).collect();
    let total = |keep: &[usize], w: &[usize]| -> usize {
        keep.iter().map(|&c| w[c]).sum::<usize>() + GAP * keep.len().saturating_sub(1)
    };
    let mut widths = natural.clone();
    let capped: Vec<usize> =
        (0..columns.len()).map(|c| natural[c].min(columns[c].cap.unwrap_or(usize::MAX))).collect();
    let least: Vec<usize> = (0..columns.len())
        .map(|c| {
            if columns[c].cap.is_some() {
                natural[c].min(width(columns[c].header).max(8))
            } else {
                natural[c]
            }
        })
        .collect();
    while total(&keep, &capped) > max {
        let Some(pos) = (0..keep.len())
            .filter(|&p| columns[keep[p]].drop_order > 0)
            .max_by_key(|&p| (columns[keep[p]].drop_order, p))
        else {
            break;
        };
        keep.remove(pos);
    }
    for &c in keep.iter().rev() {
        let over = total(&keep, &widths).saturating_sub(max);
        widths[c] -= over.min(widths[c] - least[c]);
    }
    let line = |cells: Vec<Cell>, row_style: Option<Style>| {
        let mut l = TextLine::default();
        for (i, &c) in keep.iter().enumerate() {
            let (text, style) = &cells[c];
            let text = shorten(text, widths[c]);
            let pad = if i + 1 == keep.len() { 0 } else { widths[c] - width(&text) + GAP };
            let style = row_style.unwrap_or(*style);
            l.push(text, style);
            if pad > 0 {
                l.push(" ".repeat(pad), row_style.unwrap_or(Style::Plain));
            }
        }
        l.fit(max)
    };
    let header: Vec<Cell> = columns.iter().map(|c| (c.header.to_string(), Style::Bold)).collect();
    std::iter::once(line(header, None)).chain(rows.iter().map(|(cells, s)| line(cells.clone(), *s))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_by_display_width_with_an_ellipsis() {
        let l = TextLine::plain("abcdef").fit(4);
        assert_eq!(l.text(), "abc…");
        assert_eq!(l.width(), 4);
        assert_eq!(TextLine::plain("abc").fit(3).text(), "abc");
        // Wide characters take two columns and are never split.
        let l = TextLine::plain("名前空間").fit(5);
        assert_eq!((l.text().as_str(), l.width()), ("名前…", 5));
        let mut two = TextLine::plain("ab");
        two.push("cdef", Style::Bad);
        let cut = two.fit(4);
        assert_eq!(cut.text(), "abc…");
        assert_eq!(cut.spans[1].style, Style::Bad);
        assert_eq!(TextLine::plain("abc").fit(0).width(), 0);
    }

    #[test]
    fn wrap_breaks_at_spaces_and_marks_what_is_left_over() {
        assert_eq!(
            wrap("Secret ns/x-eks-connection has no cluster_ca", 20, 5),
            ["Secret", "ns/x-eks-connection", "has no cluster_ca"]
        );
        assert_eq!(wrap("abcdefghij", 4, 5), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("one two three four", 9, 1), ["one two …"]);
        assert_eq!(wrap("", 9, 1), [""]);
        for l in wrap("a long line of words that goes on and on", 7, 3) {
            assert!(width(&l) <= 7, "{l}");
        }
    }

    #[test]
    fn shorten_and_thousands() {
        assert_eq!(shorten("demo/cp0015", 7), "demo/c…");
        assert_eq!(shorten("demo", 7), "demo");
        assert_eq!(thousands(1490), "1,490");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    fn cols() -> Vec<Column> {
        vec![
            Column { header: "NAME", drop_order: 0, cap: Some(20) },
            Column { header: "PHASE", drop_order: 2, cap: None },
            Column { header: "KIND", drop_order: 3, cap: None },
            Column { header: "VERDICT", drop_order: 0, cap: None },
        ]
    }

    fn row(name: &str) -> (Vec<Cell>, Option<Style>) {
        let c = |s: &str| (s.to_string(), Style::Plain);
        (vec![c(name), c("Failed"), c("CAPTControlPlane"), c("HOT")], None)
    }

    #[test]
    fn a_table_fits_by_dropping_columns_then_shortening_names() {
        let rows = vec![row("team-a/a-rather-long-control-plane-name")];
        let wide = table(&cols(), &rows, 200);
        assert_eq!(
            wide[0].text(),
            "NAME                                     PHASE   KIND              VERDICT"
        );
        // KIND goes first, then PHASE.
        let mid = table(&cols(), &rows, 50);
        assert_eq!(mid[0].text().split_whitespace().collect::<Vec<_>>(), ["NAME", "PHASE", "VERDICT"]);
        let narrow = table(&cols(), &rows, 30);
        assert_eq!(narrow[0].text().split_whitespace().collect::<Vec<_>>(), ["NAME", "VERDICT"]);
        assert_eq!(narrow[1].text(), "team-a/a-rather-long…  HOT");
        assert_eq!(table(&cols(), &rows, 16)[1].text(), "team-a/…  HOT");
        assert_eq!(table(&cols(), &rows, 10)[1].text(), "team-a/… …");
        for w in [10, 20, 30, 45, 60, 80] {
            for l in table(&cols(), &rows, w) {
                assert!(l.width() <= w, "{w}: {:?}", l.text());
            }
        }
    }

    #[test]
    fn a_row_style_covers_the_whole_row() {
        let mut rows = vec![row("a")];
        rows[0].1 = Some(Style::Selected);
        let t = table(&cols(), &rows, 80);
        assert!(t[1].spans.iter().all(|s| s.style == Style::Selected));
        assert!(t[0].spans.iter().all(|s| s.style != Style::Selected));
    }
}
