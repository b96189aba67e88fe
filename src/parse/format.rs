//! Which parser reads a file, decided from its first bytes. JSON records and log lines share
//! one reader (each record is classified on its own, so mixed files work); YAML streams and
//! Prometheus scrapes have their own.

use serde::Serialize;

/// How much of the start of a file the detector looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Nothing in it.
    #[default]
    Empty,
    /// JSON records (audit events, watch events, objects, Events, zap JSON), one per line or
    /// concatenated, with any log lines among them.
    Json,
    /// Text log lines (zap console, klog, CRI-wrapped), with any JSON records among them.
    Text,
    /// A YAML stream (`kubectl get -w -o yaml`, objects).
    Yaml,
    /// Prometheus text exposition.
    Metrics,
    /// Compressed or binary data.
    Unknown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Empty => "empty",
            Format::Json => "json",
            Format::Text => "text",
            Format::Yaml => "yaml",
            Format::Metrics => "metrics",
            Format::Unknown => "unknown",
        }
    }
}

/// Why a file's format is unknown, for the message.
pub fn unknown_reason(head: &[u8]) -> &'static str {
    if head.starts_with(&[0x1f, 0x8b]) {
        "gzip-compressed (decompress it first: zcat FILE | kubectl capt analyze -)"
    } else if head.starts_with(b"PK\x03\x04") {
        "a zip archive"
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd-compressed (decompress it first: zstdcat FILE | kubectl capt analyze -)"
    } else {
        "binary data"
    }
}

/// Decides the format from the first bytes of a file.
pub fn sniff(head: &[u8]) -> Format {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.iter().all(|b| b.is_ascii_whitespace()) {
        return Format::Empty;
    }
    if head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || head.starts_with(b"PK\x03\x04")
    {
        return Format::Unknown;
    }
    let binary = head.iter().filter(|&&b| b == 0 || (b < 0x20 && !b"\t\n\r\x0c\x1b".contains(&b))).count();
    if binary * 20 > head.len().min(4096) {
        return Format::Unknown;
    }
    let lines: Vec<&str> = head
        .split(|&b| b == b'\n')
        .take(200)
        .map(|l| std::str::from_utf8(l).unwrap_or(""))
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let Some(first) = lines.first() else { return Format::Text };
    let first_trim = first.trim_start();
    if first_trim.starts_with('{') || first_trim.starts_with('[') {
        return Format::Json;
    }
    if first.starts_with("---") || yaml_start(first) {
        return Format::Yaml;
    }
    let exposition_comment = |l: &&str| {
        l.starts_with("# HELP ") || l.starts_with("# TYPE ") || l.starts_with("# UNIT ") || *l == "# EOF"
    };
    let metricish = lines.iter().filter(|l| exposition_comment(l) || is_metric_line(l)).count();
    if lines.iter().any(exposition_comment) && metricish * 10 >= lines.len() * 8 || metricish == lines.len() {
        return Format::Metrics;
    }
    Format::Text
}

fn yaml_start(line: &str) -> bool {
    let l = line.strip_prefix("- ").unwrap_or(line);
    ["apiVersion:", "kind:", "type:", "object:", "items:", "metadata:"].iter().any(|k| l.starts_with(k))
}

/// `name{labels} value [timestamp]`.
pub fn is_metric_line(line: &str) -> bool {
    super::metrics::parse_sample(line).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects() {
        assert_eq!(sniff(b""), Format::Empty);
        assert_eq!(sniff(b"\n  \n"), Format::Empty);
        assert_eq!(sniff(b"{\"kind\":\"Event\"}\n"), Format::Json);
        assert_eq!(sniff(b"\xEF\xBB\xBF[{}]"), Format::Json);
        assert_eq!(sniff(b"type: ADDED\nobject:\n  kind: X\n"), Format::Yaml);
        assert_eq!(sniff(b"---\napiVersion: v1\n"), Format::Yaml);
        assert_eq!(sniff(b"# HELP x y\n# TYPE x counter\nx 1\n"), Format::Metrics);
        assert_eq!(sniff(b"x_total{a=\"b\"} 1 1700000000000\n"), Format::Metrics);
        assert_eq!(sniff(b"I0728 04:49:42.283205 1 file.go:302] \"Reconciling X\"\n"), Format::Text);
        assert_eq!(sniff(b"2025-03-31T09:33:49Z\tINFO\tReconciling PVC\t{}\n"), Format::Text);
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0, 0, 0]), Format::Unknown);
        assert_eq!(sniff(&[1, 2, 3, 0, 0, 0, 0, 9, 9]), Format::Unknown);
    }
}
