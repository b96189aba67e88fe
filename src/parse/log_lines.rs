//! Controller log lines inside an input, handed to the controller-log parser ([`super::logs`],
//! shared with `watch`): reconcile passes become records; other log lines are counted as
//! ignored, broken ones as malformed, lines in no log format as unknown.

use chrono::DateTime;

use super::logs::{LogOptions, LogParser as Inner};
use super::{ParseReport, ReconcileRecord, Record, RecordBody};

/// Per-input state of the log parser.
pub struct LogInput {
    inner: Inner,
}

impl LogInput {
    /// `year` is assumed for klog headers, which have none.
    pub fn new(year: i32) -> Self {
        LogInput { inner: Inner::new(LogOptions { year }) }
    }

    /// Reads one log line (text, or a zap JSON line as text). `line` is its line in the input.
    /// `foreign_ok`: the input is a container log, where a line in no controller log format is
    /// another program's output (not relevant) rather than of an unknown format.
    pub fn line(
        &mut self,
        text: &str,
        line: u64,
        report: &mut ParseReport,
        foreign_ok: bool,
    ) -> Option<Record> {
        let before = self.inner.stats().clone();
        let rec = self.inner.parse_line(text.as_bytes());
        let after = self.inner.stats();
        if after.malformed > before.malformed {
            report.malformed.add(line);
            return None;
        }
        if after.unrecognised > before.unrecognised {
            if foreign_ok {
                report.ignored += 1;
            } else {
                report.unknown.add(line);
            }
            return None;
        }
        let Some(rec) = rec else {
            // Blank, a stack-trace continuation, or the first part of a CRI partial line.
            report.ignored += 1;
            return None;
        };
        report.count("log");
        if !rec.is_reconcile() {
            report.ignored += 1;
            return None;
        }
        let Some(object) = rec.object() else {
            report.ignored += 1;
            return None;
        };
        let object =
            super::object_key(&object.group, &object.kind, object.namespace.as_deref(), &object.name);
        let error = rec.error.is_some() || rec.message == "Reconciler error";
        Some(Record {
            at: rec.at.and_then(DateTime::from_timestamp_millis),
            line,
            body: RecordBody::Reconcile(ReconcileRecord {
                object,
                reconcile_id: rec.reconcile_id,
                controller: rec.controller,
                error,
            }),
        })
    }
}
