//! `kubectl capt status [NAME]`: fetch the snapshot(s), run the pure core, print the tree, the
//! drift and the requeue (one object) or one row per CAPTControlPlane (list).

use chrono::Utc;
use serde::Serialize;

use crate::cli::StatusArgs;
use crate::error::{ExitStatus, Result};
use crate::k8s::{self, snapshot};
use crate::reconcile::plan;
use crate::reconcile::report::{Report, report};
use crate::render::OutputFormat;
use crate::render::status::{list_text, object_text};
use crate::render::{self, Palette};
use crate::settings::Settings;

pub async fn run(args: StatusArgs, settings: &Settings) -> Result<ExitStatus> {
    let kube = k8s::connect(&settings.target).await?;
    let now = Utc::now();
    let palette = Palette::new(settings.color);
    let reports: Vec<Report> = match &args.name {
        Some(name) => {
            let snap = snapshot::fetch_snapshot(&kube, &kube.namespace, name).await?;
            vec![report(&snap, &plan(&snap, now), now)]
        }
        None => snapshot::fetch_all(&kube, kube.list_namespace())
            .await?
            .iter()
            .map(|s| report(s, &plan(s, now), now))
            .collect(),
    };

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
    if args.fail_if_not_ready && reports.iter().any(|r| !r.ready) {
        return Ok(ExitStatus::Findings);
    }
    Ok(ExitStatus::Ok)
}

#[derive(Serialize)]
struct List<'a> {
    items: &'a [Report],
}
