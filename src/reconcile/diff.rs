//! Minimal JSON merge patches (RFC 7386) between what is stored and what a pass wants, where an
//! absent field and its zero value (`false`, `0`, `""`, `[]`, `{}`, `null`) compare equal, so the
//! core never writes `ready: false` over an absent `ready`.

use serde_json::{Map, Value};

use super::FieldDiff;

/// Whether a value is the zero value of its type (an object is zero when all its fields are).
pub fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_zero),
    }
}

/// Equality with absent == zero, recursively.
pub fn zero_eq(a: &Value, b: &Value) -> bool {
    if is_zero(a) && is_zero(b) {
        return true;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.iter().all(|(k, v)| zero_eq(v, y.get(k).unwrap_or(&Value::Null)))
                && y.iter().all(|(k, v)| x.contains_key(k) || is_zero(v))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| zero_eq(a, b))
        }
        (Value::Object(_), _) | (_, Value::Object(_)) => false,
        _ => a == b,
    }
}

/// The merge patch that turns `stored` into `desired` (up to zero values), or `None`.
pub fn merge_diff(stored: &Value, desired: &Value) -> Option<Value> {
    if zero_eq(stored, desired) {
        return None;
    }
    match (stored, desired) {
        (Value::Object(s), Value::Object(d)) => {
            let mut patch = Map::new();
            for (k, dv) in d {
                let sv = s.get(k).unwrap_or(&Value::Null);
                if let Some(p) = merge_diff(sv, dv) {
                    patch.insert(k.clone(), p);
                }
            }
            for (k, sv) in s {
                if !d.contains_key(k) && !is_zero(sv) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (_, Value::Object(d)) => {
            // Replacing a non-object: send the desired object without its null fields.
            Some(Value::Object(
                d.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect(),
            ))
        }
        _ => Some(desired.clone()),
    }
}

/// Applies a merge patch in place (RFC 7386: `null` deletes).
pub fn apply_merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        apply_merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The changed leaves of `patch` as `{path, stored, desired}`, with `prefix` before each path.
/// Lists of conditions are compared per `type` (`status.conditions[Ready].reason`).
pub fn field_changes(prefix: &str, stored: &Value, patch: &Value) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    walk(prefix, Some(stored), patch, &mut out);
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

fn some_non_zero(v: Option<&Value>) -> Option<Value> {
    v.filter(|v| !is_zero(v)).cloned()
}

fn walk(path: &str, stored: Option<&Value>, patch: &Value, out: &mut Vec<FieldDiff>) {
    match patch {
        Value::Object(p) if !p.is_empty() => {
            for (k, v) in p {
                walk(&join(path, k), stored.and_then(|s| s.get(k)), v, out);
            }
        }
        Value::Array(d) if is_condition_list(d) => {
            let s: &[Value] = stored.and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
            let by_type = |list: &[Value], t: &str| list.iter().find(|c| c["type"] == t).cloned();
            let mut types: Vec<String> = Vec::new();
            for c in s.iter().chain(d) {
                if let Some(t) = c["type"].as_str().filter(|t| !types.iter().any(|x| x == t)) {
                    types.push(t.to_string());
                }
            }
            for t in types {
                let (sc, dc) = (by_type(s, &t), by_type(d, &t));
                let cpath = format!("{path}[{t}]");
                match (&sc, &dc) {
                    (Some(sc), Some(dc)) => {
                        if let Some(diff) = merge_diff(sc, dc) {
                            walk(&cpath, Some(sc), &diff, out);
                        }
                    }
                    (None, Some(dc)) => walk(&cpath, None, dc, out),
                    _ if sc != dc => out.push(FieldDiff { path: cpath, stored: sc, desired: dc }),
                    _ => {}
                }
            }
        }
        _ => out.push(FieldDiff {
            path: path.to_string(),
            stored: some_non_zero(stored),
            desired: some_non_zero(Some(patch)).or_else(|| (!patch.is_null()).then(|| patch.clone())),
        }),
    }
}

fn is_condition_list(a: &[Value]) -> bool {
    !a.is_empty() && a.iter().all(|c| c.get("type").is_some_and(Value::is_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_equals_zero() {
        assert!(zero_eq(&json!({}), &json!({"ready": false, "ws": {"ready": false}, "m": ""})));
        assert!(!zero_eq(&json!({}), &json!({"ready": true})));
        assert_eq!(merge_diff(&json!({}), &json!({"ready": false})), None);
    }

    #[test]
    fn diff_is_minimal_and_applies() {
        let stored = json!({"a": 1, "b": {"c": "x", "d": "y"}, "gone": "z"});
        let desired = json!({"a": 1, "b": {"c": "x", "d": "w"}});
        let patch = merge_diff(&stored, &desired).unwrap();
        assert_eq!(patch, json!({"b": {"d": "w"}, "gone": null}));
        let mut applied = stored.clone();
        apply_merge(&mut applied, &patch);
        assert!(zero_eq(&applied, &desired));
        assert_eq!(merge_diff(&applied, &desired), None);
    }

    #[test]
    fn true_to_false_is_written_as_false() {
        assert_eq!(
            merge_diff(&json!({"ready": true}), &json!({"ready": false})),
            Some(json!({"ready": false}))
        );
    }

    #[test]
    fn condition_changes_are_per_type() {
        let stored = json!({"conditions": [{"type": "Ready", "status": "False", "reason": "Creating"}]});
        let desired = json!({"conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}]});
        let patch = merge_diff(&stored, &desired).unwrap();
        let ch = field_changes("status", &stored, &patch);
        let paths: Vec<&str> = ch.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, vec!["status.conditions[Ready].reason", "status.conditions[Ready].status"]);
        assert_eq!(ch[1].stored, Some(json!("False")));
        assert_eq!(ch[1].desired, Some(json!("True")));
    }
}
