use serde::{Deserialize, Serialize};

/// One condition, in any of the three shapes CAPT's objects carry: metav1 (CAPTControlPlane),
/// crossplane (WorkspaceTemplateApply, Workspace) and Cluster API (Cluster, with `severity`).
/// All fields are optional so a half-written condition still parses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Kept as text: a malformed time must not make the whole object unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl Condition {
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
    pub fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }
    /// `lastTransitionTime` parsed as RFC 3339, if it is.
    pub fn transition_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let raw = self.last_transition_time.as_deref()?;
        chrono::DateTime::parse_from_rfc3339(raw).ok().map(|t| t.to_utc())
    }
}

/// The first condition of the given type (CAPTEP-0035: match on type only).
pub fn find_condition<'a>(conditions: Option<&'a [Condition]>, type_: &str) -> Option<&'a Condition> {
    conditions?.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_partial_and_extra_fields() {
        let c: Condition = serde_json::from_str(r#"{"type":"Ready","status":"True","extra":1}"#).unwrap();
        assert!(c.is_true());
        assert_eq!(c.reason(), "");
        assert_eq!(c.transition_time(), None);
    }

    #[test]
    fn malformed_time_is_not_fatal() {
        let c: Condition =
            serde_json::from_str(r#"{"type":"Ready","status":"False","lastTransitionTime":"yesterday"}"#)
                .unwrap();
        assert_eq!(c.transition_time(), None);
        assert_eq!(c.last_transition_time.as_deref(), Some("yesterday"));
    }

    #[test]
    fn find_by_type() {
        let cs = vec![
            Condition { type_: "Synced".into(), status: "True".into(), ..Default::default() },
            Condition { type_: "Ready".into(), status: "False".into(), ..Default::default() },
        ];
        assert_eq!(find_condition(Some(&cs), "Ready").unwrap().status, "False");
        assert!(find_condition(Some(&cs), "Other").is_none());
        assert!(find_condition(None, "Ready").is_none());
    }
}
