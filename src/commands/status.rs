//! `kubectl capt status [NAME]`: fetch the snapshot(s), run the pure core, print the tree, the
//! drift and the requeue (one object) or one row per CAPTControlPlane (list).

use std::time::Instant;

use chrono::Utc;
use serde::Serialize;

use crate::error::{Error, ExitStatus, Result};
use crate::k8s::{self, snapshot};
use crate::reconcile::report::{Report, report};
use crate::reconcile::{ReadFailure, plan};
use crate::render::OutputFormat;
use crate::render::status::{list_text, object_text};
use crate::render::{self, Palette, sanitize};
use crate::settings::{Settings, StatusSettings};

pub async fn run(args: &StatusSettings, settings: &Settings) -> Result<ExitStatus> {
    let kube = k8s::connect(&settings.target).await?;
    let now = Utc::now();
    let palette = Palette::new(settings.color);
    let started = Instant::now();
    let reports: Vec<Report> = match &args.name {
        Some(name) => {
            let snap = snapshot::fetch_snapshot(&kube, &kube.namespace, name).await?;
            vec![report(&snap, &plan(&snap, now), now)]
        }
        None => {
            let (snaps, stats) = snapshot::fetch_all(&kube, kube.list_namespace(), now).await?;
            let read = started.elapsed();
            let reports = snaps.iter().map(|s| report(s, &plan(s, now), now)).collect();
            if settings.verbose > 0 {
                super::note(&format!(
                    "status: {} CAPTControlPlanes: 5 LISTs in {} ms; {} Secret GETs in {} ms; read in {} ms; planned in {} ms",
                    snaps.len(),
                    stats.lists.as_millis(),
                    stats.secret_gets,
                    stats.secrets.as_millis(),
                    read.as_millis(),
                    (started.elapsed() - read).as_millis(),
                ));
            }
            reports
        }
    };
    let planned = started.elapsed();

    let text = match (&args.name, settings.output) {
        (Some(_), OutputFormat::Json | OutputFormat::Yaml) => {
            render::to_document(&reports[0], settings.output)?
        }
        (None, OutputFormat::Json | OutputFormat::Yaml) => {
            render::to_document(&List { items: &reports }, settings.output)?
        }
        (Some(_), format) => Some(object_text(&reports[0], format == OutputFormat::Wide, palette)),
        (None, _) if reports.is_empty() => {
            super::note(&match kube.list_namespace() {
                Some(ns) => format!("No CAPTControlPlanes found in {ns} namespace."),
                None => "No CAPTControlPlanes found.".to_string(),
            });
            None
        }
        (None, format) => {
            Some(list_text(&reports, format == OutputFormat::Wide, kube.all_namespaces, palette))
        }
    };
    if let Some(text) = text {
        super::emit(&text)?;
    }
    if settings.verbose > 0 {
        super::note(&format!(
            "status: rendered and written in {} ms",
            (started.elapsed() - planned).as_millis()
        ));
    }
    if args.fail_if_not_ready {
        // A control plane known not to be ready is a finding (3); one whose readiness could
        // not be decided is an error (1): the gate cannot say "ready", nor "not ready".
        if reports.iter().any(|r| r.determined && !r.ready) {
            return Ok(ExitStatus::Findings);
        }
        if let Some(r) = reports.iter().find(|r| !r.determined) {
            return Err(undetermined_error(r));
        }
    }
    Ok(ExitStatus::Ok)
}

/// `--fail-if-not-ready` on a report whose decision is undetermined.
fn undetermined_error(r: &Report) -> Error {
    let needed = r.unreadable.iter().find(|u| u.needed).or(r.unreadable.first());
    let (input, can_i) = match needed {
        Some(u) => {
            let can_i = match &u.failure {
                ReadFailure::Forbidden { verb, resource } => Some(format!(
                    "{verb} {resource}{}",
                    u.object.namespace.as_deref().map(|n| format!(" -n {n}")).unwrap_or_default()
                )),
                _ => None,
            };
            let why = match (&u.failure, &u.rbac) {
                (_, Some(rbac)) => format!("forbidden (403): needs {rbac}"),
                (ReadFailure::ServerError { code }, _) => format!("the API server answered {code}"),
                (ReadFailure::Failed { detail }, _) => sanitize(detail),
                (ReadFailure::Forbidden { .. }, None) => "forbidden (403)".to_string(),
                (ReadFailure::NotRead, None) => "not read".to_string(),
            };
            (format!("{} ({why})", sanitize(&u.object.to_string())), can_i)
        }
        None => ("an input".to_string(), None),
    };
    Error::Undetermined {
        object: format!("CAPTControlPlane {}/{}", sanitize(&r.namespace), sanitize(&r.name)),
        input,
        can_i,
    }
}

#[derive(Serialize)]
struct List<'a> {
    items: &'a [Report],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::snapshot_from_yaml;
    use crate::render::status::{list_text, object_text};

    /// A user who may not read Secrets: the decision is Unknown, says what it needs, and the
    /// gate cannot answer.
    #[test]
    fn an_undetermined_decision_is_unknown_and_names_the_rbac() {
        let path = format!("{}/tests/fixtures/states/ready.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap().replace("${NAME}", "demo");
        let mut snap = snapshot_from_yaml(&text, "default", "demo").unwrap();
        snap.connection_secret = None;
        snap.unreadable.push(crate::reconcile::Unreadable {
            target: crate::reconcile::ObjectRef::new("Secret", Some("default"), "demo-eks-connection"),
            failure: ReadFailure::Forbidden { verb: "get".into(), resource: "secrets".into() },
        });
        let now = chrono::DateTime::parse_from_rfc3339("2024-11-22T05:00:00Z").unwrap().to_utc();
        let r = report(&snap, &plan(&snap, now), now);
        assert!(!r.determined && !r.ready);
        assert_eq!((r.phase.as_deref(), r.in_sync, r.requeue_after_seconds), (Some("Unknown"), None, None));
        let text = object_text(&r, false, Palette::new(false));
        assert!(text.contains("Phase:     Unknown (stored: Ready)"), "{text}");
        assert!(
            text.contains("Requeue:   unknown: cannot read Secret default/demo-eks-connection"),
            "{text}"
        );
        assert!(text.contains("Drift:     unknown (undetermined)"), "{text}");
        assert!(
            text.contains("Unreadable: Secret default/demo-eks-connection: forbidden (403); kubectl-capt needs get secrets in namespace \"default\" (the decision needs it)"),
            "{text}"
        );
        assert!(!text.contains("Failed") && !text.contains("Ready:  "), "{text}");
        let row = list_text(std::slice::from_ref(&r), false, false, Palette::new(false));
        let row = row.lines().nth(1).unwrap();
        assert!(row.contains("Unknown") && row.contains(" - ") && row.contains('?'), "{row}");
        let doc = serde_json::to_value(&r).unwrap();
        assert_eq!(doc["determined"], false);
        assert_eq!(doc["unreadable"][0]["rbac"], "get secrets in namespace \"default\"");
        assert_eq!(doc["unreadable"][0]["failure"], "forbidden");
        assert_eq!(doc["unreadable"][0]["needed"], true);
        let e = undetermined_error(&r);
        assert_eq!(
            e.to_string(),
            "cannot tell whether CAPTControlPlane default/demo is ready: the decision needs Secret default/demo-eks-connection (forbidden (403): needs get secrets in namespace \"default\")"
        );
        assert_eq!(e.exit_code(), 1);
        assert!(e.hint().unwrap().contains("kubectl auth can-i get secrets -n default"));
    }
}
