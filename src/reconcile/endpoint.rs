//! Where the control plane endpoint comes from and how it is parsed. Upstream has two parsers
//! that disagree (spec §1.7, bugs B4/B5); this one accepts what provider-terraform really
//! writes (a raw URL, in Workspace outputs or in the connection secret, or its base64 form) and
//! always yields a bare host, as Cluster API expects.
//!
//! The value may come from a Secret, so no error carries any part of it: [`EndpointError`] is a
//! fieldless enum naming what is wrong, and messages are composed from the object's name, the
//! key and that enum only. A usable endpoint keeps only scheme, host and port: userinfo is an
//! error (a password must never be written back), a path, query or fragment is dropped.

use std::fmt;

use base64::Engine;

use super::SecretInfo;
use crate::model::{ApiEndpoint, Workspace};

pub const ENDPOINT_KEY: &str = "cluster_endpoint";
pub const CA_KEY: &str = "cluster_certificate_authority_data";

/// Longest value looked at; an API server URL is far shorter.
const MAX_LEN: usize = 2048;

/// Where an endpoint was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Outputs,
    Secret,
}

/// What is wrong with an endpoint value. Deliberately carries no part of the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointError {
    Empty,
    TooLong,
    NotUtf8,
    NotAString,
    NoScheme,
    NotHttps,
    HasUserinfo,
    NoHost,
    HostInvalid,
    PortNotNumber,
    PortOutOfRange,
}

// A fieldless enum is one byte: the day a variant carries data (a piece of the value), this fails.
const _: () = assert!(std::mem::size_of::<EndpointError>() == 1);

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointError::Empty => "the value is empty",
            EndpointError::TooLong => "the value is longer than 2048 bytes",
            EndpointError::NotUtf8 => "the value is not UTF-8 text",
            EndpointError::NotAString => "the value is not a string",
            EndpointError::NoScheme => "it does not start with https://",
            EndpointError::NotHttps => "the scheme is not https",
            EndpointError::HasUserinfo => "it holds a user name or password (an @), which is never written",
            EndpointError::NoHost => "the host is empty",
            EndpointError::HostInvalid => "the host has characters a host name cannot have",
            EndpointError::PortNotNumber => "the port is not a number",
            EndpointError::PortOutOfRange => "the port is not between 1 and 65535",
        })
    }
}

impl EndpointError {
    /// `Secret ns/x key cluster_endpoint is not an https URL: the port is not a number`.
    pub fn describe(self, from: &str) -> String {
        format!("{from} is not an https URL: {self}")
    }
}

/// A usable endpoint: the host and port for Cluster API, and the URL for the kubeconfig apply
/// (scheme, host and port as written; nothing else of the value is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub api: ApiEndpoint,
    pub url: String,
    /// The value had a path, query or fragment, which was dropped.
    pub dropped_rest: bool,
}

/// The endpoint lookup's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Found(Endpoint, Source),
    /// The value exists but is not a usable endpoint.
    Bad {
        source: Source,
        error: EndpointError,
    },
    /// Neither source has a `cluster_endpoint`.
    None,
}

/// Workspace outputs first, connection secret second (CAPTEP-0013).
pub fn lookup(workspace: Option<&Workspace>, secret: Option<&SecretInfo>) -> Lookup {
    if let Some(v) = workspace.and_then(|w| w.output(ENDPOINT_KEY)) {
        let parsed = v.as_str().ok_or(EndpointError::NotAString).and_then(parse);
        return match parsed {
            Ok(e) => Lookup::Found(e, Source::Outputs),
            Err(error) => Lookup::Bad { source: Source::Outputs, error },
        };
    }
    match secret.and_then(|s| s.get(ENDPOINT_KEY)) {
        Some(bytes) => match from_secret_bytes(bytes.expose()) {
            Ok(e) => Lookup::Found(e, Source::Secret),
            Err(error) => Lookup::Bad { source: Source::Secret, error },
        },
        None => Lookup::None,
    }
}

/// A Secret value is the raw URL (what provider-terraform writes) or, in older setups, its
/// base64 form; either way it must be an `https://` URL (a bare word could be anything).
pub fn from_secret_bytes(bytes: &[u8]) -> Result<Endpoint, EndpointError> {
    if bytes.len() > MAX_LEN * 2 {
        return Err(EndpointError::TooLong);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| EndpointError::NotUtf8)?;
    if !text.contains("://")
        && let Some(decoded) = decode_base64(text.trim()).and_then(|d| String::from_utf8(d).ok())
        && decoded.contains("://")
    {
        return parse_strict(&decoded);
    }
    parse_strict(text)
}

/// A Workspace output: `https://host[:port][/path]`, `http://…` or a bare `host[:port]`
/// (port 443 by default).
pub fn parse(raw: &str) -> Result<Endpoint, EndpointError> {
    parse_with(raw, false)
}

/// Only `https://host[:port][/path]`.
pub fn parse_strict(raw: &str) -> Result<Endpoint, EndpointError> {
    parse_with(raw, true)
}

fn parse_with(raw: &str, strict: bool) -> Result<Endpoint, EndpointError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(EndpointError::Empty);
    }
    if s.len() > MAX_LEN {
        return Err(EndpointError::TooLong);
    }
    // Anywhere, not only in the authority: a password may hold `/`, `?` or `#`.
    if s.contains('@') {
        return Err(EndpointError::HasUserinfo);
    }
    let (scheme, rest) = match s.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => ("https", rest),
        Some((scheme, rest)) if !strict && scheme.eq_ignore_ascii_case("http") => ("http", rest),
        Some(_) => return Err(EndpointError::NotHttps),
        None if strict => return Err(EndpointError::NoScheme),
        None => ("https", s),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = split_host_port(authority)?;
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':');
    if host.is_empty() || host == "[]" {
        return Err(EndpointError::NoHost);
    }
    if !host.chars().all(valid) {
        return Err(EndpointError::HostInvalid);
    }
    let port = match port {
        None => 443,
        Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(EndpointError::PortNotNumber);
        }
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(EndpointError::PortOutOfRange),
        },
    };
    Ok(Endpoint {
        api: ApiEndpoint { host: host.to_ascii_lowercase(), port: i32::from(port) },
        url: format!("{scheme}://{authority}"),
        dropped_rest: !tail.trim_start_matches('/').is_empty(),
    })
}

/// `host[:port]`, `[v6][:port]`, or a bare IPv6 address (no port).
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), EndpointError> {
    if authority.starts_with('[') {
        let close = authority.find(']').ok_or(EndpointError::HostInvalid)?;
        let (host, rest) = authority.split_at(close + 1);
        return match rest {
            "" => Ok((host, None)),
            _ => rest.strip_prefix(':').map(|p| (host, Some(p))).ok_or(EndpointError::HostInvalid),
        };
    }
    Ok(match authority.rsplit_once(':') {
        Some((h, _)) if h.contains(':') => (authority, None),
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    })
}

/// Standard base64, with or without padding and line breaks.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
        .ok()
}

/// The CA certificate for `tls.crt`/`ca.crt`: EKS gives base64 PEM; decode it if it decodes.
pub fn ca_certificate(data: &[u8]) -> Vec<u8> {
    std::str::from_utf8(data).ok().and_then(decode_base64).unwrap_or_else(|| data.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ep(host: &str, port: i32) -> ApiEndpoint {
        ApiEndpoint { host: host.into(), port }
    }
    fn api(r: Result<Endpoint, EndpointError>) -> Result<ApiEndpoint, EndpointError> {
        r.map(|e| e.api)
    }

    #[test]
    fn parses_urls_and_hosts() {
        assert_eq!(
            api(parse("https://ABC.gr7.ap-northeast-1.eks.amazonaws.com")),
            Ok(ep("abc.gr7.ap-northeast-1.eks.amazonaws.com", 443))
        );
        assert_eq!(api(parse("https://h.example:6443/x")), Ok(ep("h.example", 6443)));
        assert_eq!(api(parse("h.example")), Ok(ep("h.example", 443)));
        assert_eq!(api(parse("https://[::1]:6443")), Ok(ep("[::1]", 6443)));
        assert_eq!(parse(""), Err(EndpointError::Empty));
        assert_eq!(parse("https://"), Err(EndpointError::NoHost));
        assert_eq!(parse("ftp://h"), Err(EndpointError::NotHttps));
        assert_eq!(parse("https://h:99999"), Err(EndpointError::PortOutOfRange));
        assert_eq!(parse("https://h:0"), Err(EndpointError::PortOutOfRange));
        assert_eq!(parse("https://h:x1"), Err(EndpointError::PortNotNumber));
        assert_eq!(parse("https://h:"), Err(EndpointError::PortNotNumber));
        assert_eq!(parse("not a url"), Err(EndpointError::HostInvalid));
        assert_eq!(parse("https://[::1"), Err(EndpointError::HostInvalid));
    }

    #[test]
    fn url_keeps_scheme_host_and_port_only() {
        let e = parse_strict("https://ABC.example:443").unwrap();
        assert_eq!((e.url.as_str(), e.dropped_rest), ("https://ABC.example:443", false));
        let e = parse_strict("https://h.example/").unwrap();
        assert_eq!((e.url.as_str(), e.dropped_rest), ("https://h.example", false));
        let e = parse_strict("https://h.example:6443/p/MARK?q=MARK#MARK").unwrap();
        assert_eq!((e.url.as_str(), e.dropped_rest), ("https://h.example:6443", true));
        assert_eq!(e.api, ep("h.example", 6443));
        let e = parse_strict("https://h.example?token=MARK").unwrap();
        assert_eq!((e.url.as_str(), e.dropped_rest), ("https://h.example", true));
    }

    #[test]
    fn userinfo_is_an_error_wherever_the_at_sign_is() {
        for v in [
            "https://admin:hunter2@h.example",
            "https://admin@h.example",
            "https://admin:pa/ss@h.example",
            "https://admin:123/x@h.example",
            "https://admin:p?w@h.example:443",
        ] {
            assert_eq!(parse_strict(v), Err(EndpointError::HasUserinfo), "{v}");
        }
    }

    #[test]
    fn secret_value_must_be_an_https_url_raw_or_base64() {
        assert_eq!(api(from_secret_bytes(b"https://abc.example")), Ok(ep("abc.example", 443)));
        assert_eq!(api(from_secret_bytes(b"aHR0cHM6Ly9hYmMuZXhhbXBsZQ==")), Ok(ep("abc.example", 443)));
        assert_eq!(from_secret_bytes(&[0xff, 0xfe]), Err(EndpointError::NotUtf8));
        assert_eq!(from_secret_bytes(b"abc.example"), Err(EndpointError::NoScheme));
        assert_eq!(from_secret_bytes(b"http://abc.example"), Err(EndpointError::NotHttps));
        // base64 of a word: decodes, but not to a URL.
        assert_eq!(from_secret_bytes(b"TUFSS0VS"), Err(EndpointError::NoScheme));
        assert_eq!(from_secret_bytes(b"\x1b[31mhttps://h.example"), Err(EndpointError::NotHttps));
        assert_eq!(from_secret_bytes(&vec![b'a'; 1 << 20]), Err(EndpointError::TooLong));
        assert_eq!(from_secret_bytes(b""), Err(EndpointError::Empty));
    }

    #[test]
    fn message_names_the_place_and_the_problem_only() {
        let err = from_secret_bytes(b"https://h.example:MARK").unwrap_err();
        assert_eq!(
            err.describe("Secret ns/x key cluster_endpoint"),
            "Secret ns/x key cluster_endpoint is not an https URL: the port is not a number"
        );
    }

    #[test]
    fn ca_is_decoded_when_base64() {
        assert_eq!(ca_certificate(b"LS0tLS1CRUdJTg=="), b"-----BEGIN".to_vec());
        assert_eq!(ca_certificate(b"-----BEGIN raw"), b"-----BEGIN raw".to_vec());
    }

    const MARKER: &str = "Zq7MARKERx9";

    /// Every way the parser can show something of a failed value: the error's Display and Debug
    /// and the composed message.
    fn shown(err: EndpointError) -> String {
        format!("{err} {err:?} {}", err.describe("Secret ns/x key cluster_endpoint"))
    }

    fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    proptest! {
        /// A marker anywhere in a value (raw, base64, with userinfo, in port, host or path) never
        /// shows in an error, and an accepted value keeps it only where it is the host.
        #[test]
        fn marker_never_in_an_error(
            prefix in "[ -~]{0,12}",
            suffix in "[ -~\\x{1b}\\x{7f}-\\x{ff}]{0,12}",
            shape in 0..8u8,
        ) {
            let raw = match shape {
                0 => format!("{prefix}{MARKER}{suffix}"),
                1 => format!("https://admin:{MARKER}@{prefix}{suffix}"),
                2 => format!("https://h.example:{MARKER}{suffix}"),
                3 => format!("https://{prefix}{MARKER}{suffix}"),
                4 => format!("https://h.example/{prefix}?q={MARKER}{suffix}"),
                5 => b64(format!("https://{prefix}:{MARKER}@h{suffix}").as_bytes()),
                6 => b64(format!("{prefix}{MARKER}{suffix}").as_bytes()),
                _ => format!("\x1b]0;{MARKER}\x07https://h{suffix}"),
            };
            let marker_b64 = b64(MARKER.as_bytes());
            for result in [from_secret_bytes(raw.as_bytes()), parse(&raw)] {
                match result {
                    Err(err) => {
                        let text = shown(err);
                        prop_assert!(!text.contains(MARKER) && !text.contains(&marker_b64[..8]), "{text}");
                        prop_assert!(!text.contains('\x1b'), "{text}");
                    }
                    Ok(e) => {
                        // Only a marker that is part of the host itself survives (by design:
                        // the host is what the controller writes).
                        let authority = e.url.split_once("://").map(|(_, a)| a).unwrap_or("");
                        prop_assert!(!e.url.contains('@') && !e.url[8..].contains('/'), "{}", e.url);
                        prop_assert!(!e.url.contains('?') && !e.url.contains('#'), "{}", e.url);
                        if e.url.contains(MARKER) {
                            prop_assert!(authority.contains(MARKER) && e.api.host.contains(&MARKER.to_ascii_lowercase()));
                        }
                    }
                }
            }
        }

        /// Arbitrary bytes: never a panic, never a control character in what is kept.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(e) = from_secret_bytes(&bytes) {
                prop_assert!(e.url.chars().all(|c| c.is_ascii_graphic()), "{:?}", e.url);
            }
        }
    }
}
