//! Secret contents the core needs (CA data, kubeconfig, endpoint) in a wrapper that cannot be
//! printed: `Debug` shows only the length and there is deliberately no `Serialize` or `Display`.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// Bytes of one Secret key. Never printed, never serialised.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }
    /// The raw bytes, for computing (never for printing).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} bytes>", self.0.len())
    }
}

// Compile-time guard: these fail to compile as soon as `SecretBytes` implements `Display` or
// `Serialize` (the call's type parameter becomes ambiguous), so its bytes cannot be formatted
// into a message or serialised into an output by accident.
trait AmbiguousIfDisplay<A> {
    fn check() {}
}
impl<T: ?Sized> AmbiguousIfDisplay<()> for T {}
impl<T: ?Sized + fmt::Display> AmbiguousIfDisplay<u8> for T {}
const _: fn() = || <SecretBytes as AmbiguousIfDisplay<_>>::check();
trait AmbiguousIfSerialize<A> {
    fn check() {}
}
impl<T: ?Sized> AmbiguousIfSerialize<()> for T {}
impl<T: ?Sized + serde::Serialize> AmbiguousIfSerialize<u8> for T {}
const _: fn() = || <SecretBytes as AmbiguousIfSerialize<_>>::check();
const _: fn() = || <SecretInfo as AmbiguousIfSerialize<_>>::check();

/// What the core knows about one Secret: identity, type, labels, owners and its data behind
/// [`SecretBytes`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecretInfo {
    pub name: String,
    pub namespace: String,
    pub type_: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub owner_references: Vec<OwnerReference>,
    pub resource_version: Option<String>,
    pub uid: Option<String>,
    pub creation_timestamp: Option<String>,
    pub data: BTreeMap<String, SecretBytes>,
}

impl SecretInfo {
    /// Takes what the core needs from a Secret (`data` and `stringData`) and drops the rest.
    pub fn from_secret(s: Secret) -> Self {
        let meta = s.metadata;
        let mut data: BTreeMap<String, SecretBytes> =
            s.data.unwrap_or_default().into_iter().map(|(k, v)| (k, SecretBytes(v.0))).collect();
        for (k, v) in s.string_data.unwrap_or_default() {
            data.insert(k, SecretBytes(v.into_bytes()));
        }
        SecretInfo {
            name: meta.name.unwrap_or_default(),
            namespace: meta.namespace.unwrap_or_default(),
            type_: s.type_,
            labels: meta.labels.unwrap_or_default(),
            owner_references: meta.owner_references.unwrap_or_default(),
            resource_version: meta.resource_version,
            uid: meta.uid,
            creation_timestamp: meta.creation_timestamp.map(|t| t.0.to_string()),
            data,
        }
    }

    /// A key's bytes, if present.
    pub fn get(&self, key: &str) -> Option<&SecretBytes> {
        self.data.get(key)
    }

    /// The key names only (safe to print).
    pub fn keys(&self) -> Vec<String> {
        self.data.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    #[test]
    fn debug_never_shows_bytes() {
        let mut s = Secret::default();
        s.metadata.name = Some("demo-eks-connection".into());
        s.data = Some(
            [("cluster_certificate_authority_data".to_string(), ByteString(b"TOPSECRET".to_vec()))].into(),
        );
        let info = SecretInfo::from_secret(s);
        let dbg = format!("{info:?}");
        assert!(!dbg.contains("TOPSECRET"), "{dbg}");
        assert!(dbg.contains("<redacted 9 bytes>"));
        assert_eq!(info.keys(), vec!["cluster_certificate_authority_data"]);
    }
}
