//! Where the control plane endpoint comes from and how it is parsed. Upstream has two parsers
//! that disagree (spec §1.7, bugs B4/B5); this one accepts what provider-terraform really
//! writes (a raw URL, in Workspace outputs or in the connection secret, or its base64 form) and
//! always yields a bare host, as Cluster API expects.

use base64::Engine;

use super::SecretInfo;
use crate::model::{ApiEndpoint, Workspace};

pub const ENDPOINT_KEY: &str = "cluster_endpoint";
pub const CA_KEY: &str = "cluster_certificate_authority_data";

/// Where an endpoint was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Outputs,
    Secret,
}

/// The endpoint lookup's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Found(ApiEndpoint, Source),
    /// The value exists but is not a usable endpoint.
    Bad {
        source: Source,
        error: String,
    },
    /// Neither source has a `cluster_endpoint`.
    None,
}

/// Workspace outputs first, connection secret second (CAPTEP-0013).
pub fn lookup(workspace: Option<&Workspace>, secret: Option<&SecretInfo>) -> Lookup {
    if let Some(v) = workspace.and_then(|w| w.output(ENDPOINT_KEY)) {
        return match v.as_str() {
            Some(s) => match parse(s) {
                Ok(e) => Lookup::Found(e, Source::Outputs),
                Err(error) => Lookup::Bad { source: Source::Outputs, error },
            },
            None => Lookup::Bad { source: Source::Outputs, error: format!("output is not a string: {v}") },
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

/// A secret value is the raw URL (what provider-terraform writes) or, in older setups, its
/// base64 form. Error texts never include the value.
fn from_secret_bytes(bytes: &[u8]) -> Result<ApiEndpoint, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "value is not UTF-8".to_string())?;
    if text.contains("://") {
        return parse(text);
    }
    if let Some(decoded) = decode_base64(text.trim()).and_then(|d| String::from_utf8(d).ok())
        && decoded.contains("://")
    {
        return parse(&decoded);
    }
    parse(text)
}

/// `https://host[:port][/path]` or `host[:port]` → `{host, port}` (port 443 by default).
pub fn parse(raw: &str) -> Result<ApiEndpoint, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty endpoint".into());
    }
    let rest = match s.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") =>
        {
            rest
        }
        Some((scheme, _)) => return Err(format!("unsupported scheme {scheme:?}")),
        None => s,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') && h.contains(':') => (authority, None), // bare IPv6
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| format!("invalid port {p:?}"))?,
        None => 443,
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':');
    if host.is_empty() || !host.chars().all(valid) {
        return Err(format!("invalid host {host:?}"));
    }
    Ok(ApiEndpoint { host: host.to_ascii_lowercase(), port: i32::from(port) })
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

    fn ep(host: &str, port: i32) -> ApiEndpoint {
        ApiEndpoint { host: host.into(), port }
    }

    #[test]
    fn parses_urls_and_hosts() {
        assert_eq!(
            parse("https://ABC.gr7.ap-northeast-1.eks.amazonaws.com"),
            Ok(ep("abc.gr7.ap-northeast-1.eks.amazonaws.com", 443))
        );
        assert_eq!(parse("https://h.example:6443/x"), Ok(ep("h.example", 6443)));
        assert_eq!(parse("h.example"), Ok(ep("h.example", 443)));
        assert!(parse("").is_err());
        assert!(parse("https://").is_err());
        assert!(parse("ftp://h").is_err());
        assert!(parse("https://h:99999").is_err());
        assert!(parse("not a url").is_err());
    }

    #[test]
    fn secret_value_raw_or_base64() {
        assert_eq!(from_secret_bytes(b"https://abc.example"), Ok(ep("abc.example", 443)));
        assert_eq!(from_secret_bytes(b"aHR0cHM6Ly9hYmMuZXhhbXBsZQ=="), Ok(ep("abc.example", 443)));
        assert!(from_secret_bytes(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn ca_is_decoded_when_base64() {
        assert_eq!(ca_certificate(b"LS0tLS1CRUdJTg=="), b"-----BEGIN".to_vec());
        assert_eq!(ca_certificate(b"-----BEGIN raw"), b"-----BEGIN raw".to_vec());
    }
}
