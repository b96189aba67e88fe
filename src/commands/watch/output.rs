//! What `watch` prints outside the live screen: change lines or NDJSON while running (piped),
//! and the final table, NDJSON or YAML document.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::commands::{emit, note};
use crate::detect::{Detector, Finding, Summary, VerdictChange};
use crate::error::Result;
use crate::observe::SourceState;
use crate::render::OutputFormat;
use crate::render::live::is_quiet;
use crate::render::screen::{count_of, plural};
use crate::render::watch::{change_line, header, table};
use crate::render::{self, Palette, sanitize};
use crate::settings::Settings;

/// The last NDJSON line of `-o json`: `{"summary": {...}}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    #[serde(flatten)]
    pub detector: Summary,
    /// The sources that could not be read (403, CRD missing, …) and why: blind spots.
    pub blind: BTreeMap<String, String>,
    /// Each source's final state.
    pub sources: BTreeMap<String, String>,
    pub started_at: String,
    pub duration_seconds: f64,
    pub interrupted: bool,
}

/// How results are shown while running (when not on the live screen) and at the end.
pub struct View {
    format: OutputFormat,
    palette: Palette,
    /// The live screen ran: the final table goes to the terminal, quiet objects folded.
    live: bool,
    /// Print each verdict change as it happens (not a terminal, or NDJSON without a deadline).
    stream_changes: bool,
}

impl View {
    pub fn new(settings: &Settings, bounded: bool, live: bool) -> Self {
        let tabular = matches!(settings.output, OutputFormat::Table | OutputFormat::Wide);
        View {
            format: settings.output,
            palette: Palette::new(settings.color),
            live,
            stream_changes: (tabular && !live) || (settings.output == OutputFormat::Json && !bounded),
        }
    }

    pub fn changed(&mut self, detector: &Detector, change: &VerdictChange) -> Result<()> {
        if !self.stream_changes {
            return Ok(());
        }
        match self.format {
            OutputFormat::Json => {
                if let Some(f) = detector.finding(&change.object, change.at) {
                    emit(&render::to_json_line(&f).map_err(anyhow::Error::from)?)?;
                }
            }
            _ => emit(&change_line(detector, change, self.palette))?,
        }
        Ok(())
    }

    pub fn source(&mut self, name: &str, state: &SourceState) {
        if self.live
            || matches!(
                state,
                SourceState::Starting | SourceState::Listing { relist: false } | SourceState::Reading(_)
            )
        {
            return;
        }
        note(&format!("watch: {name}: {}", sanitize(&state.to_string())));
    }

    /// The end: `show_all` keeps quiet objects in the final table of a live run.
    pub fn finish(
        &mut self,
        findings: &[Finding],
        summary: &RunSummary,
        states: &BTreeMap<String, SourceState>,
        show_all: bool,
    ) -> Result<()> {
        match self.format {
            OutputFormat::Json => {
                let mut out = String::new();
                for f in findings {
                    out.push_str(&render::to_json_line(f).map_err(anyhow::Error::from)?);
                }
                out.push_str(
                    &render::to_json_line(&serde_json::json!({ "summary": summary }))
                        .map_err(anyhow::Error::from)?,
                );
                emit(&out)
            }
            OutputFormat::Yaml => {
                let doc = serde_json::json!({"findings": findings, "summary": summary});
                emit(&render::to_yaml(&doc).map_err(anyhow::Error::from)?)
            }
            OutputFormat::Table | OutputFormat::Wide => {
                let wide = self.format == OutputFormat::Wide;
                let mut text = String::new();
                if self.live {
                    text.push_str(&header(states, self.palette));
                } else {
                    note(header(states, Palette::new(false)).trim_end_matches('\n'));
                }
                // After the live screen, the terminal gets what the screen showed: quiet
                // objects folded unless asked for.
                let fold = self.live && !show_all;
                let rows: Vec<Finding> = findings.iter().filter(|f| !fold || !is_quiet(f)).cloned().collect();
                if findings.is_empty() {
                    note("No objects were written, reconciled or evented while watching.");
                } else if !rows.is_empty() {
                    text.push_str(&table(&rows, wide, self.palette));
                }
                if rows.len() < findings.len() {
                    text.push_str(&format!(
                        "{} (--all shows them)\n",
                        count_of(findings.len() - rows.len(), "quiet object")
                    ));
                }
                let s = &summary.detector;
                let line = format!(
                    "{} {}: {} HOT ({} at some point), {} ELEVATED, {} OK; {} writes, {} reconcile passes, {} events, {} {} in {:.0}s",
                    s.objects,
                    plural(s.objects as u64, "object"),
                    s.hot,
                    s.ever_hot,
                    s.elevated,
                    s.ok,
                    s.writes,
                    s.reconciles,
                    s.events,
                    s.baselines,
                    plural(s.baselines, "relisted object"),
                    summary.duration_seconds
                );
                let line = if summary.blind.is_empty() {
                    line
                } else {
                    let names: Vec<&str> = summary.blind.keys().map(String::as_str).collect();
                    format!("{line}; blind: {}", sanitize(&names.join(", ")))
                };
                if self.live {
                    text.push_str(&format!("{line}\n"));
                    emit(&text)
                } else {
                    emit(&text)?;
                    note(&line);
                    Ok(())
                }
            }
        }
    }
}
