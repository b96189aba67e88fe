//! Colour as a value, decided once in settings and passed to renderers.

use colored::{ColoredString, Colorize};

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
}
