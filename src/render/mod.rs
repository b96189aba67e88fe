//! Pure formatting: view models in, text out. JSON and YAML are serialised from the same view
//! the tables are built from, never scraped from a table. Nothing here prints.

pub mod analyze;
pub mod live;
pub mod palette;
pub mod plan;
pub mod plot;
pub mod screen;
pub mod spark;
pub mod status;
pub mod watch;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

pub use crate::sanitize::sanitize;
pub use palette::Palette;

/// What `-o` asks for (a clap value enum: its doc lines are the `--help` text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable table
    Table,
    /// Table with extra columns
    Wide,
    /// JSON document (NDJSON for `watch`)
    Json,
    /// YAML document
    Yaml,
}

/// Serialises a view as pretty JSON with a trailing newline.
pub fn to_json<T: Serialize + ?Sized>(view: &T) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(view)?;
    s.push('\n');
    Ok(s)
}

/// Serialises a view as one JSON line (NDJSON).
pub fn to_json_line<T: Serialize + ?Sized>(view: &T) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string(view)?;
    s.push('\n');
    Ok(s)
}

/// Serialises a view as YAML.
pub fn to_yaml<T: Serialize + ?Sized>(view: &T) -> Result<String, serde_yaml_ng::Error> {
    serde_yaml_ng::to_string(view)
}

/// Serialises a view in a machine format; `None` for table formats.
pub fn to_document<T: Serialize + ?Sized>(view: &T, format: OutputFormat) -> anyhow::Result<Option<String>> {
    Ok(match format {
        OutputFormat::Json => Some(to_json(view)?),
        OutputFormat::Yaml => Some(to_yaml(view)?),
        OutputFormat::Table | OutputFormat::Wide => None,
    })
}

/// A kubectl-like table: no borders, upper-case headers, columns separated by spaces.
pub fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| h.to_uppercase()));
    for c in t.column_iter_mut() {
        c.set_padding((0, 3));
    }
    t
}

/// Renders a table as kubectl does: trailing spaces trimmed, one trailing newline.
pub fn table_to_string(t: &Table) -> String {
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Human age like kubectl: 45s, 12m, 3h, 5d.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_look_like_kubectl() {
        let mut t = table(&["name", "phase"]);
        t.add_row(vec!["demo", "Ready"]);
        t.add_row(vec!["a-longer-name", "Creating"]);
        let s = table_to_string(&t);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "NAME            PHASE");
        assert_eq!(lines[1], "demo            Ready");
        assert_eq!(lines[2], "a-longer-name   Creating");
    }

    #[test]
    fn ages() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(600), "10m");
        assert_eq!(age(3 * 3600), "3h");
        assert_eq!(age(3 * 86_400), "3d");
        assert_eq!(age(-4), "0s");
    }
}
