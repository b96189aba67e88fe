//! Splits a byte stream into records without reading it whole: text lines, and JSON values that
//! may span lines (pretty-printed watch dumps) or share one (`}{`). Elements of a top-level
//! array and of a List's `items` come out one at a time, so a 1 GB `kubectl get -o json` List
//! never sits in memory; every record is capped at a size limit.
//!
//! Recovery: a JSON value left open when a new value starts at column 0 (a truncated audit line
//! followed by the next one) is reported as truncated and scanning resumes at the new value.
//! (JSON pretty-printed with zero indentation would trip this; kubectl and jq indent.)

use std::io::{ErrorKind, Read};

use memchr::{memchr, memchr3};

/// Bytes handed to a [`Scanner::fed`] scanner as they come: reading past them is
/// `WouldBlock` until [`Feed::close`].
#[derive(Debug, Default)]
pub struct Feed {
    buf: Vec<u8>,
    pos: usize,
    closed: bool,
    error: Option<std::io::Error>,
}

impl Feed {
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// No more bytes; `error` is what ended the input early, if anything.
    pub fn close(&mut self, error: Option<std::io::Error>) {
        self.closed = true;
        self.error = error;
    }
}

impl Read for Feed {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.buf[self.pos..];
        if !rest.is_empty() {
            let n = rest.len().min(out.len());
            out[..n].copy_from_slice(&rest[..n]);
            self.pos += n;
            return Ok(n);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.closed { Ok(0) } else { Err(ErrorKind::WouldBlock.into()) }
    }
}

/// One piece of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A complete JSON value (not yet validated).
    Json { bytes: &'a [u8], line: u64 },
    /// One line of text, without its newline.
    Text { bytes: &'a [u8], line: u64 },
    /// A record cut off: over the size limit, unfinished at the end, or interrupted by a new one.
    Truncated { line: u64 },
    /// A scalar where an array of objects was expected.
    Stray { line: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Top,
    Text,
    Json,
}

#[derive(Debug, Default)]
struct Js {
    stack: Vec<u8>,
    in_string: bool,
    escape: bool,
    recording: bool,
    rec_depth: usize,
    rec_line: u64,
    items: bool,
    key: Vec<u8>,
    key_cap: bool,
    in_scalar: bool,
}

const MAX_DEPTH: usize = 1 << 16;

enum Ev {
    Done,
    Resync,
    Stray,
    Truncated,
}

/// Streaming splitter; see the module docs.
pub struct Scanner<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    first_fill: bool,
    /// Bytes of the first read(s) held at the buffer's start while they may still be the start
    /// of a byte-order mark (a pipe or decompressor can hand over one byte at a time).
    bom_held: usize,
    mode: Mode,
    js: Js,
    cur: Vec<u8>,
    over: bool,
    text_line: u64,
    max: usize,
    line: u64,
    col0: bool,
    bytes: u64,
    clear_next: bool,
    io_error: Option<std::io::Error>,
    text_only: bool,
    /// Fed by [`Feed`]: `WouldBlock` from the reader means "no bytes yet", not an error.
    fed: bool,
    /// Blanks skipped at the start of the current line, and of the last text line (kubectl
    /// tables and describe output are read by column).
    indent: usize,
    text_indent: usize,
}

impl<R: Read> Scanner<R> {
    pub fn new(reader: R) -> Self {
        Scanner::with_limit(reader, super::MAX_RECORD_BYTES)
    }

    pub fn with_limit(reader: R, max: usize) -> Self {
        Scanner {
            reader,
            buf: vec![0; 256 * 1024],
            start: 0,
            end: 0,
            eof: false,
            first_fill: true,
            bom_held: 0,
            mode: Mode::Top,
            js: Js::default(),
            cur: Vec::new(),
            over: false,
            text_line: 1,
            max,
            line: 1,
            col0: true,
            bytes: 0,
            clear_next: false,
            io_error: None,
            text_only: false,
            fed: false,
            indent: 0,
            text_indent: 0,
        }
    }

    /// Every line is text (YAML, Prometheus): no JSON splitting.
    pub fn text_only(mut self) -> Self {
        self.text_only = true;
        self
    }

    /// Reads are fed piecemeal (see [`Feed`]): [`Scanner::next_piece`] returns `None` when the
    /// bytes fed so far are used up, and [`Scanner::starved`] tells that from the end.
    pub fn fed(mut self) -> Self {
        self.fed = true;
        self
    }

    pub fn reader_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The last `None` from [`Scanner::next_piece`] meant "feed me more", not the end.
    pub fn starved(&self) -> bool {
        !self.eof && self.start == self.end
    }

    /// Every byte fed so far is used and the next byte would start a line at the top level:
    /// a line that is one complete JSON object would come out as exactly one piece, so a
    /// caller that decoded such a line itself may [`Scanner::skip_line`] it instead.
    pub fn idle(&self) -> bool {
        self.start == self.end && self.bom_held == 0 && self.mode == Mode::Top && self.col0
    }

    /// Counts one line (of `bytes` bytes, its newline included) decoded elsewhere while
    /// [`Scanner::idle`]; returns its line number.
    pub fn skip_line(&mut self, bytes: usize) -> u64 {
        let line = self.line;
        self.bytes += bytes as u64;
        self.first_fill = false;
        self.line += 1;
        line
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Lines seen so far (a final line without a newline counts).
    pub fn lines(&self) -> u64 {
        if self.col0 { self.line - 1 } else { self.line }
    }

    /// Reads the rest of the input without splitting it (an input of unknown format), counting
    /// bytes and lines.
    pub fn drain(&mut self) {
        loop {
            let chunk = &self.buf[self.start..self.end];
            if !chunk.is_empty() {
                let n = memchr::memchr_iter(b'\n', chunk).count() as u64;
                self.line += n;
                self.col0 = chunk.last() == Some(&b'\n');
                self.start = self.end;
            }
            if self.eof || !self.fill() {
                break;
            }
        }
        self.mode = Mode::Top;
    }

    /// Blanks (spaces, tabs) skipped before the last text line.
    pub fn text_indent(&self) -> usize {
        self.text_indent
    }

    /// A read error that ended the input early, if any.
    pub fn take_io_error(&mut self) -> Option<std::io::Error> {
        self.io_error.take()
    }

    fn fill(&mut self) -> bool {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        loop {
            let held = std::mem::take(&mut self.bom_held);
            match self.reader.read(&mut self.buf[held..]) {
                Ok(0) if held == 0 => {
                    self.eof = true;
                    return false;
                }
                Ok(n) => {
                    let have = held + n;
                    self.bytes += n as u64;
                    self.start = 0;
                    self.end = have;
                    if self.first_fill {
                        if n > 0 && have < BOM.len() && BOM.starts_with(&self.buf[..have]) {
                            self.bom_held = have;
                            self.end = 0;
                            continue;
                        }
                        self.first_fill = false;
                        if self.buf[..have].starts_with(BOM) {
                            self.start = BOM.len();
                        }
                    }
                    if self.start < self.end {
                        return true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => self.bom_held = held,
                Err(e) if self.fed && e.kind() == ErrorKind::WouldBlock => {
                    self.bom_held = held;
                    return false;
                }
                Err(e) => {
                    self.io_error = Some(e);
                    self.eof = true;
                    // Held bytes that never became a byte-order mark are still input.
                    self.first_fill = false;
                    self.start = 0;
                    self.end = held;
                    return held > 0;
                }
            }
        }
    }

    fn push_cur(&mut self, from: usize, to: usize) {
        if self.over || from >= to {
            return;
        }
        let room = self.max.saturating_sub(self.cur.len());
        if to - from > room {
            self.over = true;
            self.cur.clear();
            self.cur.shrink_to(64 * 1024);
        } else {
            self.cur.extend_from_slice(&self.buf[from..to]);
        }
    }

    fn reset_record(&mut self) {
        self.cur.clear();
        self.over = false;
    }

    /// The next piece, or `None` at the end of the input.
    pub fn next_piece(&mut self) -> Option<Piece<'_>> {
        if self.clear_next {
            self.clear_next = false;
            self.reset_record();
        }
        loop {
            if self.start == self.end && (self.eof || !self.fill()) {
                if !self.eof {
                    return None;
                }
                return self.finish();
            }
            match self.mode {
                Mode::Top => {
                    let b = self.buf[self.start];
                    match b {
                        b'\n' => {
                            self.line += 1;
                            self.col0 = true;
                            self.start += 1;
                            self.indent = 0;
                        }
                        b' ' | b'\t' | b'\r' if !self.text_only => {
                            self.col0 = false;
                            self.start += 1;
                            self.indent += 1;
                        }
                        b'{' | b'[' if !self.text_only => {
                            self.indent = 0;
                            self.mode = Mode::Json;
                            self.js = Js { rec_line: self.line, ..Js::default() };
                            self.reset_record();
                        }
                        _ => {
                            self.mode = Mode::Text;
                            self.text_line = self.line;
                            self.text_indent = std::mem::take(&mut self.indent);
                            self.reset_record();
                        }
                    }
                }
                Mode::Text => {
                    let (s, e) = (self.start, self.end);
                    match memchr(b'\n', &self.buf[s..e]) {
                        Some(i) => {
                            let stop = if i > 0 && self.buf[s + i - 1] == b'\r' { s + i - 1 } else { s + i };
                            self.push_cur(s, stop);
                            self.start = s + i + 1;
                            self.line += 1;
                            self.col0 = true;
                            self.mode = Mode::Top;
                            self.clear_next = true;
                            return Some(self.text_piece());
                        }
                        None => {
                            self.push_cur(s, e);
                            self.start = e;
                            self.col0 = false;
                        }
                    }
                }
                Mode::Json => {
                    if let Some(ev) = self.scan_json() {
                        return Some(self.json_piece(ev));
                    }
                }
            }
        }
    }

    fn text_piece(&self) -> Piece<'_> {
        if self.over {
            Piece::Truncated { line: self.text_line }
        } else {
            Piece::Text { bytes: &self.cur, line: self.text_line }
        }
    }

    fn json_piece(&mut self, ev: Ev) -> Piece<'_> {
        let line = self.js.rec_line;
        self.clear_next = true;
        match ev {
            Ev::Done if !self.over => Piece::Json { bytes: &self.cur, line },
            Ev::Stray => Piece::Stray { line: self.line },
            Ev::Done | Ev::Resync | Ev::Truncated => Piece::Truncated { line },
        }
    }

    fn finish(&mut self) -> Option<Piece<'_>> {
        match std::mem::replace(&mut self.mode, Mode::Top) {
            Mode::Top => None,
            Mode::Text => {
                self.clear_next = true;
                if self.cur.is_empty() && !self.over {
                    return None;
                }
                Some(self.text_piece())
            }
            Mode::Json => {
                self.clear_next = true;
                let recording = self.js.recording || self.js.stack.len() == 1;
                let line = self.js.rec_line;
                self.js = Js::default();
                if recording { Some(Piece::Truncated { line }) } else { None }
            }
        }
    }

    /// Scans JSON bytes until a record completes (or a stray scalar / resync), or the buffer
    /// runs out (`None`).
    fn scan_json(&mut self) -> Option<Ev> {
        let mut i = self.start;
        let end = self.end;
        let mut seg = i;
        while i < end {
            if self.js.in_string {
                // Fast path: skip to the next quote, backslash or newline.
                if self.js.escape {
                    self.js.escape = false;
                    if self.buf[i] == b'\n' {
                        self.js.in_string = false;
                        continue;
                    }
                    i += 1;
                    continue;
                }
                let Some(off) = memchr3(b'"', b'\\', b'\n', &self.buf[i..end]) else {
                    if self.js.key_cap {
                        let room = 16usize.saturating_sub(self.js.key.len());
                        let take = (end - i).min(room);
                        self.js.key.extend_from_slice(&self.buf[i..i + take]);
                    }
                    i = end;
                    break;
                };
                if self.js.key_cap && off > 0 {
                    let room = 16usize.saturating_sub(self.js.key.len());
                    let take = off.min(room);
                    self.js.key.extend_from_slice(&self.buf[i..i + take]);
                }
                i += off;
                match self.buf[i] {
                    b'"' => {
                        self.js.in_string = false;
                        self.js.key_cap = false;
                        i += 1;
                    }
                    b'\\' => {
                        self.js.escape = true;
                        i += 1;
                    }
                    _ => {
                        // A raw newline cannot be inside a JSON string: the value is broken
                        // (serde will say so); leave the string so the braces still count.
                        self.js.in_string = false;
                        self.js.key_cap = false;
                    }
                }
                continue;
            }
            let b = self.buf[i];
            if b == b'\n' {
                self.line += 1;
                self.col0 = true;
                i += 1;
                continue;
            }
            let at_col0 = self.col0;
            self.col0 = false;
            let depth = self.js.stack.len();
            if at_col0
                && depth > 0
                && !matches!(b, b' ' | b'\t' | b'\r' | b'"' | b'}' | b']' | b',')
                && !(depth == 1 && self.js.stack[0] == b'[')
            {
                // A new record starts at column 0 while this one is still open.
                let was_recording = self.js.recording;
                self.start = i;
                self.col0 = true;
                self.mode = Mode::Top;
                self.js.recording = false;
                self.js.stack.clear();
                return if was_recording { Some(Ev::Resync) } else { Some(Ev::Truncated) };
            }
            let elem_level = (depth == 1 && self.js.stack[0] == b'[') || (self.js.items && depth == 2);
            match b {
                b'"' => {
                    self.js.in_string = true;
                    self.js.key_cap =
                        depth == 1 && self.js.stack[0] == b'{' && self.js.rec_depth == 0 && !self.js.items;
                    if self.js.key_cap {
                        self.js.key.clear();
                    }
                    if elem_level && !self.js.recording && !self.js.in_scalar {
                        self.js.in_scalar = true;
                        i += 1;
                        self.start = i;
                        return Some(Ev::Stray);
                    }
                }
                b'{' | b'[' => {
                    if depth >= MAX_DEPTH {
                        self.start = i + 1;
                        self.mode = Mode::Top;
                        self.js.stack.clear();
                        return Some(Ev::Truncated);
                    }
                    if depth == 0 {
                        self.js.rec_line = self.line;
                        if b == b'{' {
                            self.js.recording = true;
                            self.js.rec_depth = 0;
                            seg = i;
                        }
                    } else if elem_level && !self.js.recording {
                        self.js.recording = true;
                        self.js.rec_depth = depth;
                        self.js.rec_line = self.line;
                        seg = i;
                        self.cur.clear();
                        self.over = false;
                    } else if depth == 1
                        && b == b'['
                        && self.js.stack[0] == b'{'
                        && self.js.key == b"items"
                        && !self.js.items
                    {
                        self.js.items = true;
                        self.js.recording = false;
                        self.cur.clear();
                        self.over = false;
                    }
                    self.js.stack.push(b);
                }
                b'}' | b']' => {
                    self.js.in_scalar = false;
                    self.js.stack.pop();
                    let depth = self.js.stack.len();
                    if self.js.items && depth == 1 {
                        self.js.items = false;
                    }
                    if self.js.recording && depth == self.js.rec_depth {
                        self.js.recording = false;
                        i += 1;
                        self.push_cur(seg, i);
                        self.start = i;
                        if depth == 0 {
                            self.mode = Mode::Top;
                        }
                        return Some(Ev::Done);
                    }
                    if depth == 0 {
                        if self.js.recording {
                            self.push_cur(seg, i + 1);
                        }
                        self.start = i + 1;
                        self.mode = Mode::Top;
                        return None;
                    }
                }
                b',' | b' ' | b'\t' | b'\r' => self.js.in_scalar = false,
                _ => {
                    if elem_level && !self.js.recording && !self.js.in_scalar {
                        self.js.in_scalar = true;
                        i += 1;
                        self.start = i;
                        return Some(Ev::Stray);
                    }
                }
            }
            i += 1;
        }
        if self.js.recording {
            self.push_cur(seg, i);
        }
        self.start = i;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum P {
        J(String, u64),
        T(String, u64),
        Cut(u64),
        Stray(u64),
    }

    /// Hands over at most `step` bytes per read, so records straddle refills (and a pipe or
    /// a decompressor may hand over one byte at a time).
    struct Drip<'a> {
        rest: &'a [u8],
        step: usize,
    }

    impl Read for Drip<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.rest.len());
            out[..n].copy_from_slice(&self.rest[..n]);
            self.rest = &self.rest[n..];
            Ok(n)
        }
    }

    /// The pieces and the byte count of `input` read `step` bytes at a time.
    fn dripped(input: &[u8], max: usize, step: usize) -> (Vec<P>, u64) {
        let mut s = Scanner::with_limit(Drip { rest: input, step }, max);
        let mut v = Vec::new();
        while let Some(p) = s.next_piece() {
            v.push(match p {
                Piece::Json { bytes, line } => P::J(String::from_utf8_lossy(bytes).into(), line),
                Piece::Text { bytes, line } => P::T(String::from_utf8_lossy(bytes).into(), line),
                Piece::Truncated { line } => P::Cut(line),
                Piece::Stray { line } => P::Stray(line),
            });
        }
        (v, s.bytes())
    }

    fn pieces_limit(input: &[u8], max: usize) -> Vec<P> {
        dripped(input, max, 7).0
    }

    fn pieces(input: &[u8]) -> Vec<P> {
        pieces_limit(input, 1 << 20)
    }

    #[test]
    fn lines_and_values() {
        let v = pieces(b"{\"a\":1}\nhello world\r\n\n{\"b\":\"x}y\\\"\"}{\"c\":[1,{}]}\nlast");
        assert_eq!(
            v,
            vec![
                P::J("{\"a\":1}".into(), 1),
                P::T("hello world".into(), 2),
                P::J("{\"b\":\"x}y\\\"\"}".into(), 4),
                P::J("{\"c\":[1,{}]}".into(), 4),
                P::T("last".into(), 5),
            ]
        );
    }

    #[test]
    fn pretty_values_span_lines() {
        let v = pieces(b"{\n  \"type\": \"ADDED\",\n  \"object\": {\n    \"x\": 1\n  }\n}\n{\n  \"type\": \"MODIFIED\"\n}\n");
        assert_eq!(v.len(), 2);
        assert!(matches!(&v[0], P::J(s, 1) if s.contains("ADDED")));
        assert!(matches!(&v[1], P::J(s, 7) if s.contains("MODIFIED")));
    }

    #[test]
    fn arrays_and_lists_yield_elements() {
        let v = pieces(b"[{\"a\":1},\n {\"b\":2}, 3]\n{\"kind\":\"List\",\"items\":[{\"c\":3},{\"d\":[4]}],\"metadata\":{}}");
        assert_eq!(
            v,
            vec![
                P::J("{\"a\":1}".into(), 1),
                P::J("{\"b\":2}".into(), 2),
                P::Stray(2),
                P::J("{\"c\":3}".into(), 3),
                P::J("{\"d\":[4]}".into(), 3),
            ]
        );
        // An object whose "items" is not at the top level stays whole.
        let v = pieces(b"{\"spec\":{\"items\":[{\"x\":1}]}}");
        assert_eq!(v, vec![P::J("{\"spec\":{\"items\":[{\"x\":1}]}}".into(), 1)]);
    }

    #[test]
    fn truncated_line_resyncs_at_next_record() {
        let v = pieces(b"{\"a\":[\"cut\n{\"b\":1}\n{\"c\":{\"d\"\n2026-01-01T00:00:00Z\tINFO\tx\n");
        assert_eq!(
            v,
            vec![
                P::Cut(1),
                P::J("{\"b\":1}".into(), 2),
                P::Cut(3),
                P::T("2026-01-01T00:00:00Z\tINFO\tx".into(), 4)
            ]
        );
    }

    #[test]
    fn unfinished_at_eof_and_over_limit() {
        assert_eq!(pieces(b"{\"a\":"), vec![P::Cut(1)]);
        let mut big = b"{\"a\":\"".to_vec();
        big.extend(std::iter::repeat_n(b'x', 100));
        big.extend_from_slice(b"\"}\n{\"b\":1}\n");
        big.extend(std::iter::repeat_n(b'y', 100));
        big.extend_from_slice(b"\nok\n");
        assert_eq!(
            pieces_limit(&big, 50),
            vec![P::Cut(1), P::J("{\"b\":1}".into(), 2), P::Cut(3), P::T("ok".into(), 4)]
        );
    }

    #[test]
    fn empty_and_bom() {
        assert_eq!(pieces(b""), vec![]);
        assert_eq!(pieces(b"\n\n  \n"), vec![]);
        assert_eq!(pieces(b"\xEF\xBB\xBF{}"), vec![P::J("{}".into(), 1)]);
    }

    #[test]
    fn bom_split_over_reads() {
        for step in 1..=4 {
            let (v, bytes) = dripped(b"\xEF\xBB\xBF{\"a\":1}\nok\n", 1 << 20, step);
            assert_eq!(v, vec![P::J("{\"a\":1}".into(), 1), P::T("ok".into(), 2)], "{step} bytes a read");
            assert_eq!(bytes, 14, "{step} bytes a read");
        }
        // The start of a mark that does not complete is input, not dropped.
        for step in 1..=3 {
            let (v, _) = dripped(b"\xEF\xBBx\n", 1 << 20, step);
            assert_eq!(v, vec![P::T("\u{FFFD}x".into(), 1)], "{step} bytes a read");
            let (v, _) = dripped(b"\xEF", 1 << 20, step);
            assert_eq!(v, vec![P::T("\u{FFFD}".into(), 1)], "{step} bytes a read");
        }
        // A mark after the first bytes is content.
        let (v, _) = dripped(b"x\xEF\xBB\xBF\n", 1 << 20, 1);
        assert_eq!(v, vec![P::T("x\u{FEFF}".into(), 1)]);
    }

    #[test]
    fn counts_lines_and_bytes() {
        let mut s = Scanner::new(&b"a\nb\nc"[..]);
        while s.next_piece().is_some() {}
        assert_eq!(s.lines(), 3);
        assert_eq!(s.bytes(), 5);
    }
}
