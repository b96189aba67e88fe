//! Reading an audit line's top-level members in one pass, without decoding it.
//!
//! Three quarters of an audit log are reads (`get`, `list`, `watch`), which the analysis only
//! counts. [`members`] walks the line's JSON once, checking its grammar as strictly as
//! serde_json does and comparing top-level keys, and answers only when it is sure: the text of
//! each audit member, which is what [`super::audit::read_line`] needs to tell a read (nothing
//! more) and to type a write's members (each read once more, on its own). Anything unusual (an
//! escaped key, a `\u` escape, a repeated audit member, deep nesting, a grammar error) answers
//! `None` and the line is decoded in full, which decides and reports it. [`parse_body`] reads a
//! write's request and response bodies the same way.

use std::borrow::Cow;

use super::body::Body;

/// The members [`super::audit::read_line`] decodes by name, by their number in
/// [`Members::text`]: a repeat of one of them is an error there, so a reason to hand the line
/// over.
pub mod member {
    pub const AUDIT_ID: usize = 0;
    pub const VERB: usize = 1;
    pub const ITEMS: usize = 2;
    pub const STAGE: usize = 3;
    pub const REQUEST_URI: usize = 4;
    pub const OBJECT_REF: usize = 5;
    pub const USER: usize = 6;
    pub const IMPERSONATED_USER: usize = 7;
    pub const USER_AGENT: usize = 8;
    pub const RESPONSE_STATUS: usize = 9;
    pub const STAGE_TIMESTAMP: usize = 10;
    pub const REQUEST_RECEIVED_TIMESTAMP: usize = 11;
    pub const TIMESTAMP: usize = 12;
    pub const REQUEST_OBJECT: usize = 13;
    pub const RESPONSE_OBJECT: usize = 14;
    pub const COUNT: usize = 15;

    pub(super) fn of(key: &[u8]) -> Option<usize> {
        Some(match key {
            b"auditID" => AUDIT_ID,
            b"verb" => VERB,
            b"items" => ITEMS,
            b"stage" => STAGE,
            b"requestURI" => REQUEST_URI,
            b"objectRef" => OBJECT_REF,
            b"user" => USER,
            b"impersonatedUser" => IMPERSONATED_USER,
            b"userAgent" => USER_AGENT,
            b"responseStatus" => RESPONSE_STATUS,
            b"stageTimestamp" => STAGE_TIMESTAMP,
            b"requestReceivedTimestamp" => REQUEST_RECEIVED_TIMESTAMP,
            b"timestamp" => TIMESTAMP,
            b"requestObject" => REQUEST_OBJECT,
            b"responseObject" => RESPONSE_OBJECT,
            _ => return None,
        })
    }
}

/// A line's audit members as their JSON text (a `null` member as absent, as serde reads an
/// `Option`), when the skim is sure of them: `auditID` and `verb` are strings, no member
/// repeats, and the line is one JSON object. The text is UTF-8 (checked as the skim went), but
/// left as bytes: a read needs only its `verb` as a string.
pub struct Members<'a> {
    pub text: [Option<&'a [u8]>; member::COUNT],
}

impl<'a> Members<'a> {
    /// The `verb`'s text when it has no escapes (with them, the line is decoded in full).
    pub fn verb(&self) -> Option<&'a str> {
        let v = self.text[member::VERB]?;
        let inner = &v[1..v.len() - 1];
        if inner.contains(&b'\\') {
            return None;
        }
        std::str::from_utf8(inner).ok()
    }
}

/// Nesting deeper than this is left to serde_json, which has its own limits.
const MAX_DEPTH: u32 = 64;

/// The line's audit members, or `None` when it is not one JSON object with a string `auditID`
/// and a string `verb`, or the skim is not sure (then decoding decides).
pub fn members(line: &[u8]) -> Option<Members<'_>> {
    let mut s = Skim { b: line, i: 0 };
    let mut m = Members { text: [None; member::COUNT] };
    let mut seen = 0u16;
    s.blank();
    s.eat(b'{')?;
    s.blank();
    if s.peek()? == b'}' {
        s.i += 1;
    } else {
        loop {
            let key = s.string()?.plain()?;
            s.blank();
            s.eat(b':')?;
            s.blank();
            let start = s.i;
            match member::of(key) {
                Some(n) => {
                    if seen & (1 << n) != 0 {
                        return None;
                    }
                    seen |= 1 << n;
                    if n == member::AUDIT_ID || n == member::VERB {
                        s.string()?;
                    } else {
                        s.value(0)?;
                    }
                    let text = &line[start..s.i];
                    if text != b"null" {
                        m.text[n] = Some(text);
                    }
                }
                None => s.value(0)?,
            }
            s.blank();
            match s.bump()? {
                b',' => s.blank(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    s.blank();
    (s.i == line.len() && m.text[member::AUDIT_ID].is_some() && m.text[member::VERB].is_some()).then_some(m)
}

/// Reads a JSON text as [`Body::parse`] does (the same tree, the same errors): most texts (no
/// string escapes) in one pass by the skim, the rest by serde_json.
pub fn parse_body(text: &str) -> serde_json::Result<Body<'_>> {
    match body(text) {
        Some(b) => Ok(b),
        None => Body::parse(text),
    }
}

/// A JSON text as a [`Body`] in one pass over it, when its strings have no escapes and it nests
/// no deeper than [`MAX_DEPTH`]. `None` for anything else, grammar errors included:
/// [`Body::parse`] then leaves it to serde_json, which decides.
pub fn body(text: &str) -> Option<Body<'_>> {
    let mut s = Skim { b: text.as_bytes(), i: 0 };
    s.blank();
    let v = s.body(text, 0)?;
    s.blank();
    (s.i == text.len()).then_some(v)
}

struct Skim<'a> {
    b: &'a [u8],
    i: usize,
}

/// A string's text between its quotes, and whether it has escapes.
struct Str<'a> {
    text: &'a [u8],
    escaped: bool,
}

impl<'a> Str<'a> {
    /// The text when it is what it says (no escapes).
    fn plain(self) -> Option<&'a [u8]> {
        (!self.escaped).then_some(self.text)
    }
}

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES << 7;

impl<'a> Skim<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.bump()? == c).then_some(())
    }

    fn blank(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// The next byte at or after `i` that ends a run of plain string bytes: `"`, `\`, a control
    /// character or a non-ASCII byte (sixteen bytes at a time with SSE2 on x86-64, then eight at
    /// a time, as serde_json does).
    fn stop(&self, mut i: usize) -> usize {
        let b = self.b;
        // A signed byte below 0x20 is a control or a non-ASCII byte. (Written as a plain loop
        // for the compiler to vectorise, this ran slower than the eight-byte words below.)
        #[cfg(target_arch = "x86_64")]
        while i + 16 <= b.len() {
            use std::arch::x86_64::*;
            #[allow(unsafe_code)]
            // SAFETY: i + 16 <= b.len(), and an unaligned load reads only those 16 bytes.
            let hit = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(i).cast());
                let q = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let s = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                let c = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, s), c))
            };
            if hit != 0 {
                return i + hit.trailing_zeros() as usize;
            }
            i += 16;
        }
        while let Some(chunk) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            let ctrl = w.wrapping_sub(ONES * 0x20) & !w;
            let q = w ^ (ONES * u64::from(b'"'));
            let quote = q.wrapping_sub(ONES) & !q;
            let s = w ^ (ONES * u64::from(b'\\'));
            let slash = s.wrapping_sub(ONES) & !s;
            // The lowest flagged byte is a real match: borrows only flag bytes above one.
            let hit = (ctrl | quote | slash | w) & HIGH;
            if hit != 0 {
                return i + hit.trailing_zeros() as usize / 8;
            }
            i += 8;
        }
        while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f | 0x80..) {
            i += 1;
        }
        i
    }

    fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        let mut utf8 = false;
        loop {
            self.i = self.stop(self.i);
            match self.bump()? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    // `\u` escapes (and their surrogate rules) are left to serde_json.
                    if !matches!(self.bump()?, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') {
                        return None;
                    }
                }
                0x80.. => utf8 = true,
                _ => return None,
            }
        }
        let text = &self.b[start..self.i - 1];
        if utf8 {
            std::str::from_utf8(text).ok()?;
        }
        Some(Str { text, escaped })
    }

    fn value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                if depth == MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.blank();
                if self.peek()? == close {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.string()?;
                        self.blank();
                        self.eat(b':')?;
                        self.blank();
                    }
                    self.value(depth + 1)?;
                    self.blank();
                    match self.bump()? {
                        b',' => self.blank(),
                        c if c == close => return Some(()),
                        _ => return None,
                    }
                }
            }
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// The value at `i` as a [`Body`]; `text` is what `b` holds, as a `str`.
    fn body(&mut self, text: &'a str, depth: u32) -> Option<Body<'a>> {
        Some(match self.peek()? {
            b'"' => Body::String(Cow::Borrowed(self.plain_str(text)?)),
            b'{' | b'[' if depth == MAX_DEPTH => return None,
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.i += 1;
                self.blank();
                let (mut members, mut items) = (Vec::new(), Vec::new());
                if self.peek()? == close {
                    self.i += 1;
                } else {
                    loop {
                        if open == b'{' {
                            let key = self.plain_str(text)?;
                            self.blank();
                            self.eat(b':')?;
                            self.blank();
                            members.push((Cow::Borrowed(key), self.body(text, depth + 1)?));
                        } else {
                            items.push(self.body(text, depth + 1)?);
                        }
                        self.blank();
                        match self.bump()? {
                            b',' => self.blank(),
                            c if c == close => break,
                            _ => return None,
                        }
                    }
                }
                if open == b'{' { Body::object(members) } else { Body::Array(items) }
            }
            b't' => self.word(b"true").map(|()| Body::Bool(true))?,
            b'f' => self.word(b"false").map(|()| Body::Bool(false))?,
            b'n' => self.word(b"null").map(|()| Body::Null)?,
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.number()?;
                // serde_json reads the number, as it would in the whole text (an integer that
                // fits, else a float; out of range is an error).
                Body::Number(serde_json::from_str(text.get(start..self.i)?).ok()?)
            }
            _ => return None,
        })
    }

    /// A string without escapes, borrowed from `text` (its quotes are ASCII: the text between
    /// them starts and ends on character boundaries).
    fn plain_str(&mut self, text: &'a str) -> Option<&'a str> {
        let start = self.i + 1;
        self.string()?.plain()?;
        text.get(start..self.i - 1)
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        self.b.get(self.i..self.i + w.len()).filter(|s| *s == w)?;
        self.i += w.len();
        Some(())
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return None;
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            (self.digits() > 0).then_some(())?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            (self.digits() > 0).then_some(())?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::de::IgnoredAny;

    use super::super::Verb;
    use super::super::audit::{AuditLine, decode_line, read_line};
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]
        /// The skim reads a text as serde_json does, or leaves it (escapes, deep nesting) to it;
        /// a text serde_json rejects (a byte changed, dropped or the text cut) it never reads.
        #[test]
        fn the_skim_reads_a_body_as_serde_json_does(
            text in crate::parse::fields::tests::json_text(),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
            how in 0..4u8,
        ) {
            fn serde(t: &str) -> Option<Body<'_>> {
                serde_json::from_str(t).ok()
            }
            let skim = body(&text);
            proptest::prop_assert!(skim.is_some() || text.contains('\\'), "{text}");
            proptest::prop_assert_eq!(&skim.or_else(|| serde(&text)), &serde(&text));
            let mut bytes = text.clone().into_bytes();
            let at = cut.index(bytes.len().max(1)).min(bytes.len().saturating_sub(1));
            match how {
                0 if !bytes.is_empty() => bytes[at] = byte,
                1 if !bytes.is_empty() => { bytes.remove(at); }
                2 => bytes.truncate(at),
                _ => bytes.insert(at, byte),
            }
            if let Ok(bad) = String::from_utf8(bytes) {
                let skim = body(&bad);
                proptest::prop_assert!(skim.is_none() || skim == serde(&bad), "{bad}");
                proptest::prop_assert_eq!(parse_body(&bad).ok(), serde(&bad));
            }
        }
    }

    /// `Some(items)` when the skim is sure the line is a read (its `verb` writes nothing).
    fn read(line: &[u8]) -> Option<bool> {
        let m = members(line)?;
        Verb::parse(m.verb()?).is_none().then_some(m.text[member::ITEMS].is_some())
    }

    fn decoded(line: &[u8]) -> Option<(&'static str, bool)> {
        decode_line(line, true)
            .map(|(e, items)| (if matches!(e, AuditLine::Read) { "read" } else { "write" }, items))
    }

    /// An audit line of `gen-audit-log.py`'s shape with the given verb and extra members.
    fn line(verb: &str, extra: &str) -> String {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"00000001-5f2a","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/ns-14/deployments/obj-114","verb":"{verb}","user":{{"username":"system:serviceaccount:kube-system:deployment-controller","groups":["system:serviceaccounts","system:authenticated"]}},"sourceIPs":["10.244.0.17"],"objectRef":{{"resource":"deployments","namespace":"ns-14","name":"obj-114","apiGroup":"apps"}},"responseStatus":{{"metadata":{{}},"code":200}},"annotations":{{"authorization.k8s.io/reason":"RBAC: allowed by \"capt\""}}{extra}}}"#
        )
    }

    #[test]
    fn reads_are_told_and_everything_else_is_handed_over() {
        for verb in ["get", "list", "watch", "proxy"] {
            assert_eq!(read(line(verb, "").as_bytes()), Some(false), "{verb}");
        }
        assert_eq!(read(line("list", r#","items":[{"a":1}]"#).as_bytes()), Some(true));
        assert_eq!(read(line("list", r#","items":null"#).as_bytes()), Some(false));
        for not_sure in [
            line("update", ""),
            line("delete", ""),
            line("ADDED", ""),
            line("get", r#","verb":"get""#),
            line("get", r#","items":[],"items":[]"#),
            line("g\\u0065t", ""),
            line("get", r#","x":"\u00e9""#),
            line("get", &format!(r#","deep":{}{}"#, "[".repeat(65), "]".repeat(65))),
            line("get", " x"),
            line("get", r#","x":01"#),
            line("get", r#","x":[1,]"#),
            line("get", r#","x":tru"#),
            line("get", "\u{1}"),
            r#"{"verb":"get"}"#.to_string(),
            r#"{"auditID":7,"verb":"get"}"#.to_string(),
            r#"{"auditID":"a","verb":null}"#.to_string(),
            r#"["auditID","verb"]"#.to_string(),
            String::new(),
        ] {
            assert_eq!(read(not_sure.as_bytes()), None, "{not_sure}");
        }
        // Non-ASCII text is checked as UTF-8, not refused.
        assert_eq!(read(line("get", ",\"x\":\"caf\u{e9} \u{1F600}\"").as_bytes()), Some(false));
        let mut bad = line("get", r#","x":"abc""#).into_bytes();
        let b = bad.iter().rposition(|c| *c == b'b').unwrap();
        bad[b] = 0xff;
        assert_eq!(read(&bad), None);
    }

    /// The skim's grammar is serde_json's: a value is accepted by one exactly when by the other
    /// (the skim may only refuse more for `\u` escapes, which it leaves to serde_json).
    #[test]
    fn the_grammar_is_serde_jsons() {
        let values = [
            "0",
            "-0",
            "01",
            "-",
            "1.",
            "1.5",
            ".5",
            "1e5",
            "1E+5",
            "1e-",
            "2.5e-3",
            "-12",
            "1ee5",
            "+1",
            "true",
            "tru",
            "truex",
            "null",
            "nul",
            "false",
            "\"\"",
            "\"a\\\"b\"",
            "\"a\\qb\"",
            "\"a\\/b\"",
            "\"\\\"",
            "\"a\u{1}b\"",
            "\"tab\there\"",
            "[]",
            "[ ]",
            "[1,2]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{}",
            "{ }",
            "{\"a\":1}",
            "{\"a\" : [ true , null ] }",
            "{\"a\":}",
            "{\"a\"}",
            "{1:2}",
            "{\"a\":1,}",
            "[\"x\"]]",
            "[[[[]]]]",
            "{\"a\":{\"b\":{}}}",
            "\"\u{e9}\"",
            "nan",
            "[1e400]",
        ];
        for v in values {
            let line = format!(r#"{{"auditID":"a","verb":"get","x":{v}}}"#);
            let serde = serde_json::from_str::<IgnoredAny>(v).is_ok();
            assert_eq!(read(line.as_bytes()).is_some(), serde, "{v}");
            assert_eq!(decoded(line.as_bytes()).is_some(), serde, "{v}");
        }
    }

    /// Lines of the generated logs' shape with one byte changed, dropped or doubled, cut short,
    /// or with a member repeated.
    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let verbs = prop_oneof![Just("get"), Just("list"), Just("watch"), Just("update"), Just("patch")];
        let extras = prop_oneof![
            Just(""),
            Just(r#","items":[1,{"a":"b"}]"#),
            Just(r#","items":null"#),
            Just(r#","stage":"RequestReceived""#),
            Just(r#","auditID":"again""#),
            Just(r#","x":[-1.5e3,true,false,null,"\n\t\\"]"#),
            Just(
                r#","requestObject":{"kind":"ConfigMap","metadata":{"name":"obj-114","resourceVersion":"7"},"data":{"k":"v\u00e9","n":[1,2.5e1]}}"#
            ),
            Just(
                r#","responseObject":{"metadata":{"name":"obj-114","managedFields":[{"manager":"m\"x"}]},"status":{"ready":true}}"#
            ),
            Just(
                r#","requestObject":[{"op":"replace","path":"/data/k","value":null}],"responseObject":null"#
            ),
            Just(r#","requestObject":"not a body""#),
        ];
        let bytes = prop_oneof![
            Just(b'"'),
            Just(b'\\'),
            Just(b'{'),
            Just(b'}'),
            Just(b'['),
            Just(b']'),
            Just(b','),
            Just(b':'),
            Just(b' '),
            Just(b'0'),
            Just(b'-'),
            Just(b'.'),
            Just(b'e'),
            Just(b'u'),
            Just(b'n'),
            Just(1u8),
            Just(0xc3u8),
            Just(0xffu8)
        ];
        (verbs, extras, any::<prop::sample::Index>(), bytes, 0..5u8).prop_map(
            |(verb, extra, at, byte, how)| {
                let mut l = line(verb, extra).into_bytes();
                let i = at.index(l.len());
                match how {
                    0 => l[i] = byte,
                    1 => drop(l.remove(i)),
                    2 => l.insert(i, byte),
                    3 => l.truncate(i),
                    _ => {}
                }
                l
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// Whatever the skim answers, decoding answers too.
        #[test]
        fn the_skim_answers_only_what_decoding_would(l in mutated()) {
            if let Some(items) = read(&l) {
                prop_assert_eq!(decoded(&l), Some(("read", items)), "{}", String::from_utf8_lossy(&l));
            }
        }

        /// A line read through the skim's members reads as when decoded in full, writes and
        /// their bodies included.
        #[test]
        fn a_line_reads_through_the_skim_as_decoded(l in mutated()) {
            let got = format!("{:?}", read_line(&l));
            prop_assert_eq!(got, format!("{:?}", decode_line(&l, true)), "{}", String::from_utf8_lossy(&l));
        }
    }

    #[test]
    fn the_analyze_fixtures_reads_are_all_skimmed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze");
        let (mut reads, mut skimmed) = (0, 0);
        for name in ["audit.jsonl", "audit-secrets.jsonl"] {
            for l in std::fs::read_to_string(dir.join(name)).unwrap().lines() {
                let skim = read(l.as_bytes());
                if let Some(items) = skim {
                    assert_eq!(decoded(l.as_bytes()), Some(("read", items)), "{l}");
                    skimmed += 1;
                }
                if matches!(decoded(l.as_bytes()), Some(("read", _))) {
                    reads += 1;
                    assert!(skim.is_some() || l.contains("\\u"), "{l}");
                }
            }
        }
        assert!(reads > 0 && skimmed == reads, "{skimmed} of {reads}");
    }

    #[test]
    fn the_fixtures_lines_read_through_the_skim_as_decoded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze");
        let mut writes = 0;
        for name in ["audit.jsonl", "audit-secrets.jsonl"] {
            for l in std::fs::read_to_string(dir.join(name)).unwrap().lines() {
                let (got, want) = (read_line(l.as_bytes()), decode_line(l.as_bytes(), true));
                assert_eq!(format!("{got:?}"), format!("{want:?}"), "{l}");
                if matches!(got, Some((AuditLine::Write(_), _))) {
                    writes += 1;
                    // The skim is sure of writes too, unless a `\u` escape sends them to serde.
                    assert!(members(l.as_bytes()).is_some() || l.contains("\\u"), "{l}");
                }
            }
        }
        assert!(writes > 0);
    }
}
