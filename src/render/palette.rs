//! Colour as a value, decided once in settings and passed to renderers.

use colored::{ColoredString, Colorize};

use crate::detect::Verdict;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    pub enabled: bool,
}

impl Palette {
    pub fn new(enabled: bool) -> Self {
        Palette { enabled }
    }
    fn paint(&self, s: &str, f: impl Fn(&str) -> ColoredString) -> String {
        if self.enabled { f(s).to_string() } else { s.to_string() }
    }
    pub fn good(&self, s: &str) -> String {
        self.paint(s, |s| s.green())
    }
    pub fn warn(&self, s: &str) -> String {
        self.paint(s, |s| s.yellow())
    }
    pub fn bad(&self, s: &str) -> String {
        self.paint(s, |s| s.red().bold())
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint(s, |s| s.dimmed())
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint(s, |s| s.bold())
    }
    /// A detector verdict's colour: OK green, ELEVATED yellow, HOT red and bold.
    pub fn verdict(&self, verdict: Verdict, text: &str) -> String {
        match verdict {
            Verdict::Hot => self.bad(text),
            Verdict::Elevated => self.warn(text),
            Verdict::Ok => self.good(text),
        }
    }
}

/// The same colours for a table cell.
pub fn verdict_color(verdict: Verdict) -> comfy_table::Color {
    match verdict {
        Verdict::Hot => comfy_table::Color::Red,
        Verdict::Elevated => comfy_table::Color::Yellow,
        Verdict::Ok => comfy_table::Color::Green,
    }
}
