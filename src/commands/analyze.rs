//! `kubectl capt analyze FILE...`: the `watch` detector over files (audit logs, controller
//! logs, watch dumps, Events, metrics scrapes), after the fact.
//!
//! fetch (open the inputs) → compute ([`crate::analysis`]: merge the inputs' records by time and fold
//! them through the detector) → render (table, timeline, footer; or NDJSON/YAML; or a plot) →
//! emit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Datelike, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::analysis::{AllRows, HISTORY_BUCKETS, Input, analyze_counting};
use crate::detect::Config;
use crate::error::{Error, ExitStatus, Result};
use crate::parse::container::{self, ByteCounter};
use crate::parse::{Reference, ReferenceFrom};
use crate::render::analyze::{Document, SummaryLine, plot_data, render_text, summary_view};
use crate::render::{self, OutputFormat, plot};
use crate::settings::{AnalyzeSettings, Settings};

pub async fn run(args: &AnalyzeSettings, settings: &Settings) -> Result<ExitStatus> {
    let config = Config { history_buckets: HISTORY_BUCKETS, ..args.detector.clone() };
    let restrict = args.restrict;
    let progress = Progress::start(settings.read_progress, container::total_size(&args.files));
    let (files, now, counter, records) =
        (args.files.clone(), args.now, progress.counter.clone(), progress.records.clone());
    // Opening reads archives (their members are unpacked up front): off the async runtime too.
    let analysis = tokio::task::spawn_blocking(move || {
        let inputs = open_inputs(&files, now, &counter)?;
        analyze_counting(inputs, restrict, config, &records)
    })
    .await
    .map_err(|e| Error::other(format!("analysis stopped: {e}")));
    progress.finish();
    let analysis = analysis??;

    if let Some(path) = &args.plot {
        let svg = plot::svg(&plot_data(&analysis, args.top)).map_err(Error::other)?;
        std::fs::write(path, svg)
            .map_err(|e| Error::other(format!("cannot write the plot to {}: {e}", path.display())))?;
        super::note(&format!("plot written to {}", path.display()));
    }
    match settings.output {
        OutputFormat::Json => {
            // Line by line: the whole text of a large log's findings (tens of MB) was the peak
            // of the run's memory.
            let summary = SummaryLine { summary: &summary_view(&analysis) };
            super::emit_json_rows(analysis.len(), |i| analysis.row_at(i), &summary)?;
        }
        OutputFormat::Yaml => {
            let doc = Document { findings: AllRows(&analysis), summary: summary_view(&analysis) };
            super::emit(&render::to_yaml(&doc).map_err(anyhow::Error::from)?)?;
        }
        OutputFormat::Table | OutputFormat::Wide => {
            super::emit(&render_text(
                &analysis,
                args.top,
                settings.output == OutputFormat::Wide,
                settings.color,
            ))?;
        }
    }
    Ok(if analysis.any_hot() { ExitStatus::Findings } else { ExitStatus::Ok })
}

/// Every file (directories recursively, archives member by member, compression undone), each
/// with its reference time: `--now`, else its modification time, else (stdin) the time now.
fn open_inputs(files: &[PathBuf], now: Option<DateTime<Utc>>, counter: &ByteCounter) -> Result<Vec<Input>> {
    let read_time = Utc::now();
    let mut out = Vec::new();
    for f in files {
        let opened = if f.as_os_str() == "-" {
            container::open_stream_input("-", Box::new(std::io::stdin()), counter)
        } else {
            container::open_path(f, counter)
        }
        .map_err(Error::other)?;
        if opened.is_empty() && f.as_os_str() != "-" {
            return Err(Error::other(format!("cannot read {}: no files in it", display(f))));
        }
        for o in opened {
            let reference = match (now, o.modified) {
                (Some(at), _) => Reference { at, from: ReferenceFrom::Flag },
                (None, Some(at)) => Reference { at, from: ReferenceFrom::Modified },
                (None, None) => Reference { at: read_time, from: ReferenceFrom::ReadTime },
            };
            out.push(Input {
                name: o.name,
                reader: o.reader,
                year: o.modified.unwrap_or(read_time).year(),
                reference: Some(reference),
                container_log: o.container_log,
                compression: o.compression,
            });
        }
    }
    Ok(out)
}

/// The progress bar on stderr while reading: bytes of the total (files) or bytes and records
/// (stdin), redrawn from shared counters by a timer so the reading thread never waits for it.
struct Progress {
    bar: ProgressBar,
    counter: ByteCounter,
    records: Arc<AtomicU64>,
    poll: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    fn start(show: bool, total: Option<u64>) -> Self {
        let counter = ByteCounter::default();
        let records = Arc::new(AtomicU64::new(0));
        if !show {
            return Progress { bar: ProgressBar::hidden(), counter, records, poll: None };
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}"
        } else {
            "{spinner} {bytes} read, {bytes_per_sec} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        let poll = tokio::spawn({
            let (bar, counter, records) = (bar.clone(), counter.clone(), records.clone());
            async move {
                loop {
                    bar.set_position(counter.get());
                    bar.set_message(format!("{} records", records.load(Ordering::Relaxed)));
                    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                }
            }
        });
        Progress { bar, counter, records, poll: Some(poll) }
    }

    fn finish(self) {
        if let Some(p) = self.poll {
            p.abort();
        }
        self.bar.finish_and_clear();
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
