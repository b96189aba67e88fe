//! Prometheus text exposition (and OpenMetrics): controller-runtime's reconcile and workqueue
//! counters. One scrape gives totals; several scrapes with timestamps give rates. A new scrape
//! starts when a series repeats or after `# EOF`.

use std::collections::{BTreeMap, HashSet};

use super::{MetricSample, ParseReport, Record, RecordBody};

/// The series the analysis uses; every other sample is counted as ignored.
pub const USED: &[&str] = &[
    "controller_runtime_reconcile_total",
    "controller_runtime_reconcile_errors_total",
    "workqueue_adds_total",
    "workqueue_retries_total",
    "process_start_time_seconds",
];

#[derive(Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
}

/// Parses one sample line: `name{label="value",...} value [timestamp]`.
pub fn parse_sample(line: &str) -> Result<Sample, &'static str> {
    let s = line.trim();
    let name_end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(s.len());
    let name = &s[..name_end];
    if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
        return Err("no metric name");
    }
    let mut rest = &s[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = parse_labels(r, &mut labels)?;
    }
    // OpenMetrics exemplars follow " # ".
    let rest = rest.split(" # ").next().unwrap_or(rest);
    let mut parts = rest.split_whitespace();
    let value = parts.next().ok_or("no value")?;
    let value: f64 = value.parse().map_err(|_| "value is not a number")?;
    let timestamp_ms = match parts.next() {
        None => None,
        Some(t) if t.contains('.') || t.contains('e') => {
            let secs: f64 = t.parse().map_err(|_| "bad timestamp")?;
            if !secs.is_finite() {
                return Err("bad timestamp");
            }
            Some((secs * 1000.0) as i64)
        }
        Some(t) => Some(t.parse().map_err(|_| "bad timestamp")?),
    };
    if parts.next().is_some() {
        return Err("trailing text");
    }
    Ok(Sample { name: name.to_string(), labels, value, timestamp_ms })
}

fn parse_labels<'a>(mut s: &'a str, out: &mut BTreeMap<String, String>) -> Result<&'a str, &'static str> {
    loop {
        s = s.trim_start();
        if let Some(r) = s.strip_prefix('}') {
            return Ok(r);
        }
        let eq = s.find('=').ok_or("label without =")?;
        let key = s[..eq].trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("bad label name");
        }
        s = s[eq + 1..].trim_start().strip_prefix('"').ok_or("label value not quoted")?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value"),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated label value"),
                },
                Some((_, c)) => value.push(c),
            }
        };
        out.insert(key.to_string(), value);
        s = s[end + 1..].trim_start();
        if let Some(r) = s.strip_prefix(',') {
            s = r;
        } else if !s.starts_with('}') {
            return Err("expected , or }");
        }
    }
}

/// Adds one sample to the per-controller totals of a scrape (`controller` label, else the
/// workqueue's `name`). Series the detector does not use are ignored.
pub fn accumulate(
    controllers: &mut BTreeMap<String, crate::observe::MetricsSample>,
    name: &str,
    labels: &BTreeMap<String, String>,
    value: f64,
) {
    let slot = match name {
        "controller_runtime_reconcile_total" | "workqueue_adds_total" => name,
        // Process-wide: applies to every controller of the scrape (see [`with_process_start`]).
        "process_start_time_seconds" => {
            let m = controllers.entry(PROCESS.to_string()).or_default();
            m.process_start = Some(value);
            return;
        }
        _ => return,
    };
    let controller = labels.get("controller").or_else(|| labels.get("name")).cloned().unwrap_or_default();
    let m = controllers
        .entry(controller.clone())
        .or_insert_with(|| crate::observe::MetricsSample { controller, ..Default::default() });
    let add = |slot: &mut Option<f64>, v: f64| *slot = Some(slot.unwrap_or(0.0) + v);
    if slot == "workqueue_adds_total" {
        add(&mut m.workqueue_adds, value);
    } else {
        add(&mut m.reconcile_total, value);
        if labels.get("result").map(String::as_str) == Some("error") {
            add(&mut m.reconcile_errors, value);
        }
    }
}

/// Where [`accumulate`] keeps `process_start_time_seconds` until the scrape is complete.
const PROCESS: &str = "\0process";

/// The controllers of a complete scrape, each with the process start time when it had one.
pub fn with_process_start(
    mut controllers: BTreeMap<String, crate::observe::MetricsSample>,
) -> Vec<crate::observe::MetricsSample> {
    let start = controllers.remove(PROCESS).and_then(|p| p.process_start);
    controllers.into_values().map(|m| crate::observe::MetricsSample { process_start: start, ..m }).collect()
}

/// One scrape's text as per-controller samples, with the number of lines that did not parse.
pub fn scrape(text: &str) -> (Vec<crate::observe::MetricsSample>, usize) {
    let mut controllers = BTreeMap::new();
    let mut malformed = 0;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match parse_sample(line) {
            Ok(s) => accumulate(&mut controllers, &s.name, &s.labels, s.value),
            Err(_) => malformed += 1,
        }
    }
    (with_process_start(controllers), malformed)
}

/// Line-by-line state: which series the current scrape has seen.
#[derive(Default)]
pub struct MetricsParser {
    scrape: u32,
    seen: HashSet<String>,
    any_in_scrape: bool,
}

impl MetricsParser {
    /// Parses one line; returns a record for the series the analysis uses.
    pub fn line(&mut self, text: &str, line: u64, report: &mut ParseReport) -> Option<Record> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if t.starts_with('#') {
            if t == "# EOF" && self.any_in_scrape {
                self.next_scrape();
            }
            report.ignored += 1;
            return None;
        }
        match parse_sample(t) {
            Err(_) => {
                report.malformed.add(line);
                None
            }
            Ok(s) => {
                let key = format!("{}{:?}", s.name, s.labels);
                if self.seen.contains(&key) {
                    self.next_scrape();
                }
                self.seen.insert(key);
                self.any_in_scrape = true;
                if !USED.contains(&s.name.as_str()) {
                    report.ignored += 1;
                    return None;
                }
                report.count("metric");
                let at = s.timestamp_ms.and_then(chrono::DateTime::from_timestamp_millis);
                Some(Record {
                    at,
                    line,
                    body: RecordBody::Sample(MetricSample {
                        name: s.name,
                        labels: s.labels,
                        value: s.value,
                        timestamp_ms: s.timestamp_ms,
                        scrape: self.scrape,
                    }),
                })
            }
        }
    }

    fn next_scrape(&mut self) {
        self.scrape += 1;
        self.seen.clear();
        self.any_in_scrape = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrape_sums_results_per_controller() {
        let text = "# HELP x\n\
controller_runtime_reconcile_total{controller=\"captcontrolplane\",result=\"success\"} 10\n\
controller_runtime_reconcile_total{controller=\"captcontrolplane\",result=\"error\"} 3\n\
workqueue_adds_total{name=\"captcontrolplane\"} 14\n\
go_goroutines 40\n\
broken{ 1\n";
        let (samples, malformed) = scrape(text);
        assert_eq!(malformed, 1);
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].controller, "captcontrolplane");
        assert_eq!(samples[0].reconcile_total, Some(13.0));
        assert_eq!(samples[0].reconcile_errors, Some(3.0));
        assert_eq!(samples[0].workqueue_adds, Some(14.0));
    }

    #[test]
    fn samples() {
        let s = parse_sample(
            r#"controller_runtime_reconcile_total{controller="x",result="success"} 42 1700000000000"#,
        )
        .unwrap();
        assert_eq!(s.name, "controller_runtime_reconcile_total");
        assert_eq!(s.labels["result"], "success");
        assert_eq!(s.value, 42.0);
        assert_eq!(s.timestamp_ms, Some(1_700_000_000_000));
        let s = parse_sample(r#"x{le="+Inf",msg="a \"q\" \\ b",} +Inf"#).unwrap();
        assert_eq!(s.labels["msg"], "a \"q\" \\ b");
        assert!(s.value.is_infinite());
        assert!(parse_sample("up NaN").unwrap().value.is_nan());
        assert!(parse_sample("x 1.5e3 # {trace_id=\"a\"} 1").is_ok());
        for bad in ["", "{a=\"b\"} 1", "x{a=b} 1", "x{a=\"b} 1", "x one", "x 1 2 3", "9x 1"] {
            assert!(parse_sample(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scrapes_split_when_series_repeat() {
        let mut p = MetricsParser::default();
        let mut r = ParseReport::default();
        let text = "# TYPE workqueue_adds_total counter\nworkqueue_adds_total{name=\"a\"} 1 1000\nother 3 1000\n\
                    workqueue_adds_total{name=\"a\"} 5 2000\nbroken{ 1\n";
        let recs: Vec<Record> =
            text.lines().enumerate().filter_map(|(i, l)| p.line(l, i as u64 + 1, &mut r)).collect();
        assert_eq!(recs.len(), 2);
        let scrapes: Vec<u32> = recs
            .iter()
            .map(|r| match &r.body {
                RecordBody::Sample(s) => s.scrape,
                _ => 99,
            })
            .collect();
        assert_eq!(scrapes, vec![0, 1]);
        assert_eq!(r.malformed.first_lines, vec![5]);
        assert_eq!(r.ignored, 2);
    }
}
