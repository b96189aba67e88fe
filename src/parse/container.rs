//! What inputs come wrapped in: gzip, zstd and bzip2 (by magic bytes, files and stdin),
//! directories (recursively), `.tar`/`.tar.gz`/`.tgz` archives (member by member, by magic
//! bytes too). Each file or member becomes one [`Opened`] input with its own name (so the
//! footer accounts for every one) and its modification time (the reference for kubectl ages
//! and the year of klog lines).
//!
//! The analysis reads all inputs side by side (merged by time), but an archive can only be read
//! front to back: its members are decompressed up front, small ones into memory and large ones
//! into anonymous temporary files (deleted when closed).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

/// Members up to this size are kept in memory; larger ones go to a temporary file.
const IN_MEMORY: u64 = 8 * 1024 * 1024;

/// Directory levels followed at most (a symlink loop ends here).
const MAX_DEPTH: usize = 32;

/// A compression detected by magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    Bzip2,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }

    /// By the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Some(Compression::Bzip2)
        } else {
            None
        }
    }
}

/// Whether a block is the start of a tar archive (`ustar` magic at offset 257).
pub fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// One input ready to parse.
pub struct Opened {
    /// `path`, `archive.tar.gz:member`, or `-`.
    pub name: String,
    pub reader: Box<dyn Read + Send>,
    /// The compression it was stored with (already undone in `reader`).
    pub compression: Option<Compression>,
    /// When the file or member was last modified; `None` for stdin.
    pub modified: Option<DateTime<Utc>>,
    /// A container log file of a `kubectl cluster-info dump` (`NS/POD/logs.txt`): lines in no
    /// controller log format are another program's output, not an unknown format.
    pub container_log: bool,
}

/// Counts the raw bytes read from disk or stdin (progress), shared by every input.
#[derive(Clone, Debug, Default)]
pub struct ByteCounter(pub Arc<AtomicU64>);

impl ByteCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct Counting<R> {
    inner: R,
    counter: ByteCounter,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Undoes a compression detected by the stream's first bytes (nested: a `.gz` of a `.zst` too).
pub fn decompress(reader: Box<dyn Read + Send>) -> io::Result<(Option<Compression>, Box<dyn Read + Send>)> {
    let mut first = None;
    let mut reader = reader;
    for _ in 0..3 {
        let mut buf = BufReader::with_capacity(256 * 1024, reader);
        let head = buf.fill_buf()?;
        let Some(c) = Compression::sniff(head) else {
            // Plain bytes: what was sniffed, then the stream itself, read without the BufReader
            // (which copied every read smaller than itself).
            let sniffed = Cursor::new(buf.buffer().to_vec());
            return Ok((first, Box::new(sniffed.chain(buf.into_inner()))));
        };
        first = first.or(Some(c));
        reader = match c {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buf)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buf)?),
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(buf)),
        };
    }
    Ok((first, reader))
}

fn modified(meta: &std::fs::Metadata) -> Option<DateTime<Utc>> {
    meta.modified().ok().map(DateTime::<Utc>::from)
}

fn open_error(path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("cannot read {}: {e}", path.display()))
}

/// Opens a path: a file (decompressed; an archive expanded), or a directory (every file in it,
/// recursively, in name order).
pub fn open_path(path: &Path, counter: &ByteCounter) -> io::Result<Vec<Opened>> {
    let mut out = Vec::new();
    open_into(path, &display(path), counter, 0, &mut out)?;
    Ok(out)
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

fn open_into(
    path: &Path,
    name: &str,
    counter: &ByteCounter,
    depth: usize,
    out: &mut Vec<Opened>,
) -> io::Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| open_error(path, e))?;
    if meta.is_dir() {
        if depth >= MAX_DEPTH {
            return Ok(());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| open_error(path, e))?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<_>>()
            .map_err(|e| open_error(path, e))?;
        entries.sort();
        for p in entries {
            let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            open_into(&p, &display(&p), counter, depth + 1, out)?;
        }
        return Ok(());
    }
    if !meta.is_file() {
        return Ok(());
    }
    let file = File::open(path).map_err(|e| open_error(path, e))?;
    let reader: Box<dyn Read + Send> = Box::new(Counting { inner: file, counter: counter.clone() });
    let container_log = is_dump_log(name);
    open_stream(name, reader, modified(&meta), container_log, out).map_err(|e| open_error(path, e))
}

/// The bytes on disk under `paths` (directories recursively), for a progress bar; `None` when
/// one is stdin.
pub fn total_size(paths: &[PathBuf]) -> Option<u64> {
    fn size(p: &Path, depth: usize) -> u64 {
        match std::fs::metadata(p) {
            Ok(m) if m.is_file() => m.len(),
            Ok(m) if m.is_dir() && depth < MAX_DEPTH => std::fs::read_dir(p)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| size(&e.path(), depth + 1))
                .sum(),
            _ => 0,
        }
    }
    if paths.iter().any(|p| p.as_os_str() == "-") {
        return None;
    }
    Some(paths.iter().map(|p| size(p, 0)).sum())
}

/// Opens stdin (or any stream): decompressed; an archive expanded.
pub fn open_stream_input(
    name: &str,
    reader: Box<dyn Read + Send>,
    counter: &ByteCounter,
) -> io::Result<Vec<Opened>> {
    let mut out = Vec::new();
    let reader: Box<dyn Read + Send> = Box::new(Counting { inner: reader, counter: counter.clone() });
    open_stream(name, reader, None, false, &mut out)?;
    Ok(out)
}

fn open_stream(
    name: &str,
    reader: Box<dyn Read + Send>,
    modified: Option<DateTime<Utc>>,
    container_log: bool,
    out: &mut Vec<Opened>,
) -> io::Result<()> {
    let (compression, mut reader) = decompress(reader)?;
    // A tar header is 512 bytes: read them, then put them back in front.
    let mut head = vec![0u8; 512];
    let (n, error) = fill(&mut reader, &mut head);
    if let Some(e) = error {
        return Err(e);
    }
    head.truncate(n);
    let tar = is_tar(&head);
    let joined = Cursor::new(head).chain(reader);
    if tar {
        return expand_tar(name, joined, out);
    }
    out.push(Opened {
        name: name.to_string(),
        reader: Box::new(joined),
        compression,
        modified,
        container_log,
    });
    Ok(())
}

/// Reads into `buf` until it is full or the stream ends (an interrupted read is retried): the
/// bytes read, and the error that stopped it early, if any (the bytes before it are in `buf`).
pub fn fill(r: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

fn expand_tar<R: Read>(name: &str, reader: R, out: &mut Vec<Opened>) -> io::Result<()> {
    let mut archive = tar::Archive::new(reader);
    let mut members: Vec<(String, Opened)> = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        if path.rsplit('/').next().is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        let modified = entry.header().mtime().ok().and_then(|s| DateTime::from_timestamp(s as i64, 0));
        let size = entry.header().size().unwrap_or(0);
        let spooled: Box<dyn Read + Send> = if size <= IN_MEMORY {
            let mut v = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut v)?;
            Box::new(Cursor::new(v))
        } else {
            let mut f = tempfile::tempfile()?;
            io::copy(&mut entry, &mut f)?;
            f.seek(SeekFrom::Start(0))?;
            Box::new(f)
        };
        let member = format!("{name}:{path}");
        let container_log = is_dump_log(&path);
        let mut nested = Vec::new();
        open_stream(&member, spooled, modified, container_log, &mut nested)?;
        for o in nested {
            members.push((path.clone(), o));
        }
    }
    // Name order, as a directory of the same files is read.
    members.sort_by(|a, b| a.0.cmp(&b.0));
    out.extend(members.into_iter().map(|(_, o)| o));
    Ok(())
}

/// `NS/POD/logs.txt` in a `kubectl cluster-info dump --output-directory`. By file name, so that a
/// directory walked on Windows (`NS\POD\logs.txt`) counts too.
fn is_dump_log(path: &str) -> bool {
    std::path::Path::new(path).file_name().is_some_and(|n| n == "logs.txt")
}

#[cfg(test)]
#[path = "../../tests/support/compress.rs"]
mod compress;

#[cfg(test)]
mod tests {
    use super::*;

    use super::compress::{bzip2, gzip};

    const TEXT: &[u8] = b"{\"kind\":\"Event\"}\nline two\n";

    fn read_all(o: Opened) -> (String, Option<Compression>, Vec<u8>) {
        let mut r = o.reader;
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        (o.name, o.compression, v)
    }

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(1_767_225_600);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(Compression::sniff(&gzip(b"x")), Some(Compression::Gzip));
        assert_eq!(Compression::sniff(&zstd::encode_all(&b"x"[..], 3).unwrap()), Some(Compression::Zstd));
        assert_eq!(Compression::sniff(&bzip2(b"x")), Some(Compression::Bzip2));
        assert_eq!(Compression::sniff(b"BZh"), None);
        assert_eq!(Compression::sniff(b"{}"), None);
        assert!(is_tar(&tar_of(&[("a", b"x")])));
        assert!(!is_tar(TEXT));
    }

    #[test]
    fn streams_decompress_by_content_not_name() {
        let counter = ByteCounter::default();
        for (data, c) in [
            (TEXT.to_vec(), None),
            (gzip(TEXT), Some(Compression::Gzip)),
            (zstd::encode_all(TEXT, 3).unwrap(), Some(Compression::Zstd)),
            (bzip2(TEXT), Some(Compression::Bzip2)),
            // A .gz of a .zst.
            (gzip(&zstd::encode_all(TEXT, 3).unwrap()), Some(Compression::Gzip)),
        ] {
            let opened = open_stream_input("-", Box::new(Cursor::new(data)), &counter).unwrap();
            assert_eq!(opened.len(), 1);
            let (name, comp, bytes) = read_all(opened.into_iter().next().unwrap());
            assert_eq!((name.as_str(), comp, bytes.as_slice()), ("-", c, TEXT));
        }
        assert!(counter.get() > 0);
        // Cut short: an error when read, not a panic.
        let mut cut = gzip(TEXT);
        cut.truncate(cut.len() / 2);
        let opened = open_stream_input("-", Box::new(Cursor::new(cut)), &counter);
        if let Ok(o) = opened {
            let mut v = Vec::new();
            assert!(o.into_iter().next().unwrap().reader.read_to_end(&mut v).is_err());
        }
    }

    #[test]
    fn archives_member_by_member_in_name_order() {
        let tar = tar_of(&[("b/audit.log.gz", &gzip(TEXT)), ("a.txt", b"hello\n"), ("c/.hidden", b"x")]);
        for data in [tar.clone(), gzip(&tar), zstd::encode_all(&tar[..], 3).unwrap()] {
            let opened =
                open_stream_input("bundle", Box::new(Cursor::new(data)), &ByteCounter::default()).unwrap();
            let all: Vec<_> = opened.into_iter().map(read_all).collect();
            assert_eq!(
                all,
                vec![
                    ("bundle:a.txt".to_string(), None, b"hello\n".to_vec()),
                    ("bundle:b/audit.log.gz".to_string(), Some(Compression::Gzip), TEXT.to_vec()),
                ]
            );
        }
    }

    #[test]
    fn directories_recursively_with_modification_times() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ns/pod-a")).unwrap();
        std::fs::write(dir.path().join("ns/pod-a/logs.txt"), b"log\n").unwrap();
        std::fs::write(dir.path().join("ns/events.json"), gzip(TEXT)).unwrap();
        std::fs::write(dir.path().join("nodes.json"), b"{}\n").unwrap();
        let big = vec![b'x'; (IN_MEMORY + 10) as usize];
        std::fs::write(dir.path().join("z.tar"), tar_of(&[("big.log", &big)])).unwrap();
        let counter = ByteCounter::default();
        let opened = open_path(dir.path(), &counter).unwrap();
        let names: Vec<String> = opened
            .iter()
            .map(|o| o.name.strip_prefix(&dir.path().display().to_string()).unwrap_or(&o.name).to_string())
            .collect();
        assert_eq!(names, ["/nodes.json", "/ns/events.json", "/ns/pod-a/logs.txt", "/z.tar:big.log"]);
        assert!(opened.iter().all(|o| o.modified.is_some()));
        assert_eq!(opened.iter().map(|o| o.container_log).collect::<Vec<_>>(), [false, false, true, false]);
        let all: Vec<_> = opened.into_iter().map(read_all).collect();
        assert_eq!(all[1].2, TEXT);
        assert_eq!(all[3].2.len(), big.len());
        assert!(counter.get() >= big.len() as u64);
        assert!(open_path(&dir.path().join("missing"), &counter).is_err());
    }
}
