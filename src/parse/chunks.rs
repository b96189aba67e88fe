//! Decoding of line-oriented input on every core: a reader thread cuts the input into chunks
//! at newlines, workers decode the lines that are one audit event each (the costly, stateless
//! part), and the chunks come back in input order for the sequential part (the scanner for
//! every other line, the audit state, the report). A line the workers cannot decode goes to
//! the scanner as raw bytes, exactly as without chunks, so the records and the report are the
//! same either way.

use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use memchr::{memchr, memrchr};

use super::MAX_RECORD_BYTES;
use super::audit::{AuditLine, read_line};
use super::container::fill;

/// Bytes per chunk (a line longer than this is cut and read by the scanner).
pub const CHUNK_BYTES: usize = 512 * 1024;

/// A run of the input: its bytes and what the workers made of them, in order.
pub struct Chunk {
    pub bytes: Vec<u8>,
    pub items: Vec<Item>,
}

pub enum Item {
    /// `bytes[start..end]`: one line (newline included) that is one audit event which writes
    /// ([`AuditLine::Write`] or [`AuditLine::Early`]).
    Audit { event: AuditLine, start: usize, end: usize },
    /// `bytes[start..end]`: one line that is one audit event which writes nothing (a read):
    /// counted, never built.
    Ignored { start: usize, end: usize },
    /// `bytes[start..end]`: for the scanner (whole lines, or part of a line cut by a chunk).
    Raw { start: usize, end: usize },
}

/// How a worker decodes a chunk.
#[derive(Clone, Copy, Debug)]
pub struct Decode {
    /// Audit events are wanted (`--format` allows them).
    pub audit: bool,
}

enum Slot {
    Chunk(Receiver<Chunk>),
    Error(std::io::Error),
}

type Job = (Vec<u8>, bool, SyncSender<Chunk>);

/// Chunks of one input, decoded on `workers` threads, handed out in order. Memory is bounded:
/// at most `4 × workers + 4` chunks are in flight (2 MiB per worker: with a queue a quarter as
/// deep, a core sat idle at times, 5 % of the elapsed time on the Metadata log of
/// `scripts/bench-analyze`).
pub struct Chunks {
    order: Receiver<Slot>,
    error: Option<std::io::Error>,
    /// Buffers of chunks read out, back to the reader: a fresh 512 KiB buffer per chunk, freed
    /// on another thread, kept the allocator's pages busy (peak RSS).
    recycle: SyncSender<Vec<u8>>,
}

impl Chunks {
    pub fn start<R: Read + Send + 'static>(
        reader: R,
        decode: Decode,
        workers: usize,
        chunk_bytes: usize,
    ) -> Self {
        let workers = workers.max(1);
        let (order_tx, order) = sync_channel::<Slot>(4 * workers + 2);
        let (job_tx, job_rx) = sync_channel::<Job>(2 * workers);
        let (recycle, recycled) = sync_channel::<Vec<u8>>(4 * workers + 4);
        let job_rx = Arc::new(Mutex::new(job_rx));
        for _ in 0..workers {
            let jobs = Arc::clone(&job_rx);
            std::thread::spawn(move || {
                loop {
                    // The lock is held only to take a job.
                    let job = jobs.lock().map_err(|_| ()).and_then(|rx| rx.recv().map_err(|_| ()));
                    let Ok((bytes, cut_start, tx)) = job else { return };
                    let items = decode_chunk(&bytes, cut_start, decode);
                    let _ = tx.send(Chunk { bytes, items });
                }
            });
        }
        std::thread::spawn(move || {
            let fresh = || recycled.try_recv().unwrap_or_default();
            let sent = read_chunks(reader, chunk_bytes.max(1), fresh, |bytes, cut_start| {
                let (tx, rx) = sync_channel(1);
                order_tx.send(Slot::Chunk(rx)).is_ok() && job_tx.send((bytes, cut_start, tx)).is_ok()
            });
            if let Err(e) = sent {
                let _ = order_tx.send(Slot::Error(e));
            }
        });
        Chunks { order, error: None, recycle }
    }

    /// Hands a read-out chunk's buffer back for the next chunk (dropped when enough wait).
    pub fn recycle(&self, chunk: Chunk) {
        let _ = self.recycle.try_send(chunk.bytes);
    }

    /// The next chunk in input order, or `None` at the end (then [`Chunks::take_error`]).
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        loop {
            match self.order.recv().ok()? {
                Slot::Chunk(rx) => {
                    // A worker that died (it cannot panic on any input, but still) ends the input.
                    return rx.recv().ok();
                }
                Slot::Error(e) => self.error = Some(e),
            }
        }
    }

    /// The read error that ended the input early, if any.
    pub fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }
}

/// Reads `reader` to the end in chunks of about `size` bytes that end at a newline (a line
/// longer than `size` is cut: the next chunk then starts inside a line, `cut_start`), into
/// buffers from `fresh`, whose bytes are overwritten (a recycled buffer keeps its length, so
/// it is not zeroed again before each read). Stops when `emit` returns false.
fn read_chunks(
    mut reader: impl Read,
    size: usize,
    mut fresh: impl FnMut() -> Vec<u8>,
    mut emit: impl FnMut(Vec<u8>, bool) -> bool,
) -> std::io::Result<()> {
    let (mut buf, mut filled) = (fresh(), 0);
    let mut cut_start = false;
    loop {
        if buf.len() < size {
            buf.resize(size, 0);
        }
        // One read per chunk, straight into the buffer, where a file allows it.
        let (n, error) = fill(&mut reader, &mut buf[filled..size]);
        filled += n;
        buf.truncate(filled);
        if let Some(e) = error {
            if !buf.is_empty() {
                emit(buf, cut_start);
            }
            return Err(e);
        }
        if filled < size {
            if !buf.is_empty() {
                emit(buf, cut_start);
            }
            return Ok(());
        }
        let mut next = fresh();
        let next_cut = match memrchr(b'\n', &buf) {
            Some(i) => {
                let tail = &buf[i + 1..];
                if next.len() < tail.len() {
                    next.resize(tail.len(), 0);
                }
                next[..tail.len()].copy_from_slice(tail);
                filled = tail.len();
                buf.truncate(i + 1);
                false
            }
            None => {
                filled = 0;
                true
            }
        };
        if !emit(buf, cut_start) {
            return Ok(());
        }
        buf = next;
        cut_start = next_cut;
    }
}

/// Decodes the lines of one chunk. `cut_start`: the chunk starts inside a line (raw up to its
/// first newline). A last line without a newline is raw too (the scanner sees its end).
pub fn decode_chunk(bytes: &[u8], cut_start: bool, decode: Decode) -> Vec<Item> {
    let mut items = Vec::new();
    let mut raw_from: Option<usize> = None;
    let mut pos = 0;
    if cut_start {
        pos = memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
        raw_from = Some(0);
    }
    while pos < bytes.len() {
        let Some(nl) = memchr(b'\n', &bytes[pos..]).map(|i| pos + i) else {
            raw_from.get_or_insert(pos);
            break;
        };
        let item = if decode.audit { audit_line(&bytes[pos..nl], pos, nl + 1) } else { None };
        match item {
            Some(item) => {
                if let Some(from) = raw_from.take() {
                    items.push(Item::Raw { start: from, end: pos });
                }
                items.push(item);
            }
            None => {
                raw_from.get_or_insert(pos);
            }
        }
        pos = nl + 1;
    }
    if let Some(from) = raw_from {
        items.push(Item::Raw { start: from, end: bytes.len() });
    }
    items
}

/// The audit event on this line, when the scanner would read the line as exactly that one
/// JSON object: it starts at column 0 with `{`, ends with `}` (then only blanks), fits the
/// record limit, decodes as an audit event, and has no top-level `items` array (which the
/// scanner reads element by element). Decoded with borrowed strings: a read (most of an audit
/// log) allocates nothing and becomes [`Item::Ignored`]; a write's bodies are worked down to
/// what the audit state reads here ([`Decoded`]), so their JSON trees never leave the worker.
fn audit_line(line: &[u8], start: usize, next: usize) -> Option<Item> {
    let end = line.iter().rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))? + 1;
    let json = &line[..end];
    if json.first() != Some(&b'{') || json.last() != Some(&b'}') || json.len() > MAX_RECORD_BYTES - 1 {
        return None;
    }
    match read_line(json)? {
        (_, true) => None,
        (AuditLine::Read, false) => Some(Item::Ignored { start, end: next }),
        (event, false) => Some(Item::Audit { event, start, end: next }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks_of(input: &[u8], size: usize) -> Vec<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        read_chunks(input, size, Vec::new, |b, cut| {
            out.push((b, cut));
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn chunks_end_at_newlines_and_long_lines_are_cut() {
        let input = b"aaaa\nbb\ncccccccccccc\nd";
        let chunks = chunks_of(input, 6);
        let joined: Vec<u8> = chunks.iter().flat_map(|(b, _)| b.clone()).collect();
        assert_eq!(joined, input);
        for (i, (b, cut)) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            // Every chunk ends at a newline, except a cut one (the next starts mid-line) and the last.
            let next_cut = chunks.get(i + 1).is_some_and(|c| c.1);
            assert!(last || next_cut || b.ends_with(b"\n"), "{chunks:?}");
            let _ = cut;
        }
        assert!(chunks.iter().any(|c| c.1), "the 12-byte line is cut: {chunks:?}");
    }

    /// Hands out `data` a few bytes at a time, interrupted once, then fails.
    struct Failing<'a> {
        data: &'a [u8],
        interrupted: bool,
    }

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.interrupted {
                self.interrupted = true;
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            if self.data.is_empty() {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = buf.len().min(3).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_recycled_buffers_old_bytes_never_show() {
        let input: Vec<u8> = (0..200).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        for size in [5, 7, 16, 64, 4096] {
            // Buffers as they come back: stale bytes, shorter or longer than a chunk.
            let mut n = 0;
            let fresh = || {
                n += 1;
                vec![b'#'; (n * 13) % (2 * size + 1)]
            };
            let mut out = Vec::new();
            read_chunks(&input[..], size, fresh, |b, _| {
                out.extend(b);
                true
            })
            .unwrap();
            assert_eq!(out, input, "chunks of {size}");
        }
    }

    #[test]
    fn bytes_read_before_an_error_are_all_handed_out() {
        let input = b"first line\nsecond line\nthird, cut";
        for size in [4, 11, 16, 1000] {
            let mut out = Vec::new();
            let reader = Failing { data: input, interrupted: false };
            let err = read_chunks(reader, size, Vec::new, |b, _| {
                out.extend(b);
                true
            })
            .unwrap_err();
            assert_eq!(err.to_string(), "disk gone");
            assert_eq!(out, input, "chunks of {size}");
        }
    }

    #[test]
    fn only_whole_audit_lines_are_decoded() {
        let ev = r#"{"auditID":"1","verb":"get","stage":"ResponseComplete"}"#;
        let text = format!(
            "{ev}\r\n {ev}\n{ev} {ev}\n{{\"auditID\":\"2\",\"verb\":\"get\",\"items\":[]}}\n{{\"auditID\":\n{ev}\n{ev}"
        );
        let items = decode_chunk(text.as_bytes(), false, Decode { audit: true });
        let kinds: Vec<(bool, &str)> = items
            .iter()
            .map(|i| match i {
                Item::Audit { start, end, .. } | Item::Ignored { start, end } => (true, &text[*start..*end]),
                Item::Raw { start, end } => (false, &text[*start..*end]),
            })
            .collect();
        let audit = |s: &str| (true, s.to_string());
        assert_eq!(kinds[0], (true, &*format!("{ev}\r\n")));
        assert!(
            !kinds[1].0 && kinds[1].1.starts_with(' ') && kinds[1].1.ends_with("\"auditID\":\n"),
            "{kinds:?}"
        );
        assert_eq!((kinds[2].0, kinds[2].1.to_string()), audit(&format!("{ev}\n")));
        assert_eq!(kinds[3], (false, ev), "a last line without newline is the scanner's");
        assert_eq!(kinds.len(), 4);
        assert!(
            decode_chunk(text.as_bytes(), false, Decode { audit: false })
                .iter()
                .all(|i| matches!(i, Item::Raw { .. }))
        );
    }
}
