//! Cluster-sourced text (names, condition messages, Terraform outputs) can hold control
//! characters that would move the cursor or recolour a terminal. Escape them before printing.

/// Replaces control and bidi-override characters with `\u{..}` escapes; keeps tabs as spaces.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push(' '),
            '\n' => out.push_str("\\n"),
            c if c.is_control() || is_bidi(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(sanitize("ok"), "ok");
        assert_eq!(sanitize("a\x1b[31mred"), "a\\u{1b}[31mred");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(sanitize("l1\nl2\tz"), "l1\\nl2 z");
    }
}
