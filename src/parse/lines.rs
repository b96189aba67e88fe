//! Splits a byte stream into lines with a length cap, for readers that follow logs (files,
//! stdin, pod log streams): a line longer than the cap is skipped and counted, never buffered
//! whole, so memory stays bounded on any input.

use memchr::memchr;

/// Longest log line kept: controller-runtime lines are far shorter; longer ones are skipped.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// See the module docs. Feed it chunks in order; [`LineSplitter::finish`] at the end of the
/// input yields a last line that had no newline.
#[derive(Debug)]
pub struct LineSplitter {
    max: usize,
    buf: Vec<u8>,
    /// The line being read is over the cap: drop bytes until its newline.
    over: bool,
    skipped: u64,
}

impl LineSplitter {
    pub fn new(max: usize) -> Self {
        LineSplitter { max, buf: Vec::new(), over: false, skipped: 0 }
    }

    /// Calls `f` with each complete line of `chunk` (without its `\n`), joined with what earlier
    /// chunks left unfinished.
    pub fn feed(&mut self, mut chunk: &[u8], mut f: impl FnMut(&[u8])) {
        while !chunk.is_empty() {
            let Some(i) = memchr(b'\n', chunk) else {
                self.push(chunk);
                return;
            };
            let (line, rest) = (&chunk[..i], &chunk[i + 1..]);
            if self.over || self.buf.len() + line.len() > self.max {
                self.skipped += 1;
            } else if self.buf.is_empty() {
                f(line);
            } else {
                self.buf.extend_from_slice(line);
                f(&self.buf);
            }
            self.reset();
            chunk = rest;
        }
    }

    /// The end of the input: an unterminated last line is a line.
    pub fn finish(&mut self, f: impl FnOnce(&[u8])) {
        if self.over {
            self.skipped += 1;
        } else if !self.buf.is_empty() {
            f(&self.buf);
        }
        self.reset();
    }

    /// Bytes of an unfinished line are waiting for their newline.
    pub fn has_partial(&self) -> bool {
        self.over || !self.buf.is_empty()
    }

    /// Lines skipped for length since the last call.
    pub fn take_skipped(&mut self) -> u64 {
        std::mem::take(&mut self.skipped)
    }

    fn push(&mut self, part: &[u8]) {
        if self.over {
            return;
        }
        if self.buf.len() + part.len() > self.max {
            self.over = true;
            self.buf = Vec::new();
        } else {
            self.buf.extend_from_slice(part);
        }
    }

    fn reset(&mut self) {
        self.over = false;
        self.buf.clear();
        if self.buf.capacity() > 64 * 1024 {
            self.buf.shrink_to(64 * 1024);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> (Vec<String>, u64) {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, |l| out.push(String::from_utf8_lossy(l).into_owned()));
        }
        s.finish(|l| out.push(String::from_utf8_lossy(l).into_owned()));
        (out, s.take_skipped())
    }

    #[test]
    fn lines_across_chunks_and_an_unterminated_last_line() {
        let (lines, skipped) = split(&[b"a\nb", b"c\n", b"", b"\nlast"], 10);
        assert_eq!(lines, ["a", "bc", "", "last"]);
        assert_eq!(skipped, 0);
    }

    #[test]
    fn long_lines_are_skipped_and_counted_without_being_kept() {
        let long = [b'x'; 25];
        let (lines, skipped) = split(&[b"ok\n", &long[..8], &long[8..], b"\nfine\n"], 10);
        assert_eq!(lines, ["ok", "fine"]);
        assert_eq!(skipped, 1);
        // At the cap is kept; one byte over is not, in one chunk or at the end.
        let (lines, skipped) = split(&[b"0123456789\n01234567890\n0123456789012"], 10);
        assert_eq!(lines, ["0123456789"]);
        assert_eq!(skipped, 2);
        let mut s = LineSplitter::new(10);
        s.feed(&[b'y'; 1000], |_| panic!("no line yet"));
        assert!(s.has_partial() && s.buf.capacity() == 0, "nothing of an over-long line is kept");
    }
}
