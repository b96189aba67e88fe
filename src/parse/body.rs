//! An audit event's request or response body as a light JSON tree: strings borrowed from the
//! line when they have no escapes, an object's members in one vector. Members are sorted by key
//! and a repeated key keeps its last value, as in serde_json's `Value` (a `BTreeMap`), so a body
//! flattens to exactly the leaves its `Value` would, without a map node or a string allocated
//! per member.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

#[derive(Clone, Debug, PartialEq)]
pub enum Body<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Body<'a>>),
    /// Sorted by key, keys unique.
    Object(Vec<(Cow<'a, str>, Body<'a>)>),
}

impl<'a> Body<'a> {
    /// Reads a JSON text; accepts and rejects what `serde_json::from_str::<Value>` does.
    /// [`super::skim::parse_body`] reads most texts faster.
    pub fn parse(text: &'a str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    /// An object of these members: sorted by key, and a repeated key keeps its last value.
    pub(super) fn object(mut members: Vec<(Cow<'a, str>, Body<'a>)>) -> Self {
        // Stable sort of the reversed members: of equal keys the last given comes first, and is
        // the one `dedup_by` keeps (as a `BTreeMap` insert replaces the earlier value).
        members.reverse();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        members.dedup_by(|later, first| later.0 == first.0);
        Body::Object(members)
    }

    pub fn get(&self, key: &str) -> Option<&Body<'a>> {
        match self {
            Body::Object(m) => m.binary_search_by(|(k, _)| (**k).cmp(key)).ok().map(|i| &m[i].1),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Body::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Body::Null => Value::Null,
            Body::Bool(b) => Value::Bool(*b),
            Body::Number(n) => Value::Number(n.clone()),
            Body::String(s) => Value::String(s.to_string()),
            Body::Array(a) => Value::Array(a.iter().map(Body::to_value).collect()),
            Body::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.to_string(), v.to_value())).collect()),
        }
    }

    /// The members named in `keep` (a path of keys to a member, and what of it to keep), as a
    /// `Value`: the few fields a reader of the whole object looks at, without converting the rest.
    pub fn select(&self, keep: &[(&str, Keep)]) -> Value {
        let mut out = serde_json::Map::new();
        for (key, what) in keep {
            if let Some(v) = self.get(key) {
                let v = match what {
                    Keep::All => v.to_value(),
                    Keep::Members(inner) if matches!(v, Body::Object(_)) => v.select(inner),
                    Keep::Members(_) => v.to_value(),
                };
                out.insert(key.to_string(), v);
            }
        }
        Value::Object(out)
    }
}

/// What [`Body::select`] keeps of a member.
#[derive(Clone, Copy, Debug)]
pub enum Keep {
    All,
    /// Of an object, only these members; anything else whole.
    Members(&'static [(&'static str, Keep)]),
}

impl<'de> Deserialize<'de> for Body<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Body<'de>, E> {
        Ok(Body::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Body<'de>, E> {
        Ok(Body::Number(i.into()))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Body<'de>, E> {
        Ok(Body::Number(u.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Body<'de>, E> {
        // As `Value`: a float that is not finite is null.
        Ok(Number::from_f64(f).map_or(Body::Null, Body::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Body<'de>, E> {
        Ok(Body::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Body<'de>, E> {
        Ok(Body::String(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Body<'de>, E> {
        Ok(Body::String(Cow::Owned(s)))
    }

    fn visit_none<E>(self) -> Result<Body<'de>, E> {
        Ok(Body::Null)
    }

    fn visit_unit<E>(self) -> Result<Body<'de>, E> {
        Ok(Body::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Body<'de>, D::Error> {
        Deserialize::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Body::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Body<'de>, A::Error> {
        let mut members: Vec<(Cow<'de, str>, Body<'de>)> = Vec::new();
        while let Some(Text(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Body::object(members))
    }
}

/// A JSON string borrowed from the input when it has no escapes (no allocation), owned
/// otherwise. Accepts exactly what `String` accepts.
#[derive(Debug)]
pub struct Text<'a>(pub std::borrow::Cow<'a, str>);

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(v.to_string().into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(v.into()))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Text<'de>, E> {
                std::str::from_utf8(v)
                    .map(|s| Text(s.to_string().into()))
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(v), &self))
            }
        }
        d.deserialize_string(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_value_does() {
        let text = r#"{"b": [1, -2, 2.5, 1e300, null, true], "a": {"y": "\u00e9", "x": "plain"}, "b": "last", "c": {}}"#;
        let body = Body::parse(text).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(body.to_value(), value);
        let Body::Object(m) = &body else { panic!("{body:?}") };
        assert_eq!(m.iter().map(|(k, _)| &**k).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(body.get("b").and_then(Body::as_str), Some("last"));
        // Unescaped strings are borrowed, escaped ones owned.
        let a = body.get("a").unwrap();
        assert!(matches!(a.get("x"), Some(Body::String(Cow::Borrowed("plain")))));
        assert!(matches!(a.get("y"), Some(Body::String(Cow::Owned(s))) if s == "é"));
        for bad in [r#"{"a": "\ud800"}"#, "[1e400]", "{\"a\": 1,}", "[1 2]", "{\"a\"}", "\"\\x\""] {
            assert!(Body::parse(bad).is_err() && serde_json::from_str::<Value>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn select_keeps_the_named_members_only() {
        const META: &[(&str, Keep)] = &[("name", Keep::All), ("labels", Keep::All)];
        let text = r#"{"kind": "X", "metadata": {"name": "n", "uid": "u", "labels": {"a": "b"}}, "data": {"k": "v"}}"#;
        let body = Body::parse(text).unwrap();
        let v = body.select(&[("kind", Keep::All), ("metadata", Keep::Members(META)), ("status", Keep::All)]);
        assert_eq!(v, serde_json::json!({"kind": "X", "metadata": {"name": "n", "labels": {"a": "b"}}}));
    }
}
