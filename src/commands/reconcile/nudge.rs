//! `reconcile --nudge`: make the in-cluster controller reconcile now and watch it do so.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use tokio::time::Instant;

use crate::commands::{emit, note};
use crate::error::{Error, ExitStatus, Result};
use crate::k8s::apply::{self};
use crate::k8s::{self, Kube};
use crate::reconcile::guard::{self, PassSign};
use crate::render::{sanitize, to_document};
use crate::settings::{ReconcileSettings, Settings};

use super::wait::{Interrupt, humantime, spinner};

/// The `--nudge` document.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NudgeDocument {
    namespace: String,
    name: String,
    annotation: &'static str,
    requested_at: String,
    observed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<PassSign>,
    waited_seconds: f64,
}

/// Stamps the nudge annotation and waits for a sign of a controller pass.
pub(super) async fn nudge(
    kube: &Kube,
    args: &ReconcileSettings,
    settings: &Settings,
    mut interrupt: Interrupt,
) -> Result<ExitStatus> {
    let ns = kube.namespace.clone();
    let name = args.name.as_str();
    let timeout = args.timeout.unwrap_or(Duration::from_secs(60));
    // Fail early, with the right message, when the object is missing.
    k8s::writers::control_plane(kube, &ns, name).await?;
    // The other sources of evidence, read from now on: a converged controller writes nothing,
    // but its log and metrics still show each pass.
    let mut log = args.controller_logs.as_deref().map(k8s::watch::LogTail::open).transpose()?;
    let metrics_before = match &args.metrics_url {
        Some(url) => Some(scrape_metrics(kube, url).await?),
        None => None,
    };
    let since = Utc::now().timestamp_millis();
    let token = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
    apply::nudge(kube, &ns, name, &token).await?;
    let started = Instant::now();
    // The baseline is the object as our own patch left it.
    let baseline = k8s::writers::control_plane(kube, &ns, name).await?.metadata;
    note(&format!(
        "nudged CAPTControlPlane {ns}/{} ({}={token}); waiting up to {} for a controller pass",
        sanitize(name),
        apply::NUDGE_ANNOTATION,
        humantime(timeout)
    ));
    let bar = spinner(settings);
    let mut sign = None;
    let mut interrupted = false;
    while started.elapsed() < timeout {
        bar.set_message(format!(
            "waiting for the controller ({}s/{}s)",
            started.elapsed().as_secs(),
            timeout.as_secs()
        ));
        if !interrupt.sleep(Duration::from_secs(1).min(timeout.saturating_sub(started.elapsed()))).await {
            interrupted = true;
            break;
        }
        let current = k8s::writers::control_plane(kube, &ns, name).await?.metadata;
        sign = guard::pass_sign(&baseline, &current);
        if sign.is_none()
            && let Some(tail) = log.as_mut()
            && let Some(o) = tail.read_new()?.iter().find(|o| guard::log_pass(o, &ns, name, since))
        {
            sign = Some(PassSign::ControllerLog {
                file: args.controller_logs.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
                time: crate::observe::rfc3339(o.at),
            });
        }
        if sign.is_none()
            && let (Some(url), Some(before)) = (&args.metrics_url, &metrics_before)
        {
            sign = guard::counter_rose(before, &scrape_metrics(kube, url).await?);
        }
        if sign.is_some() {
            break;
        }
    }
    bar.finish_and_clear();
    let waited = started.elapsed().as_secs_f64();
    let doc = NudgeDocument {
        namespace: ns.clone(),
        name: name.to_string(),
        annotation: apply::NUDGE_ANNOTATION,
        requested_at: token,
        observed: sign.is_some(),
        evidence: sign.clone(),
        waited_seconds: (waited * 10.0).round() / 10.0,
    };
    match to_document(&doc, settings.output)? {
        Some(text) => emit(&text)?,
        None => {
            if let Some(s) = &sign {
                emit(&format!("Controller pass observed after {waited:.1}s: {}\n", sanitize(&s.describe())))?;
            }
        }
    }
    if interrupted {
        return Ok(ExitStatus::Interrupted);
    }
    let object = format!("CAPTControlPlane {ns}/{}", sanitize(name));
    let within = humantime(timeout);
    match (sign, &log, &args.metrics_url) {
        (Some(_), ..) => Ok(ExitStatus::Ok),
        (None, None, None) => Err(Error::Unobservable(format!(
            "no controller wrote {object} within {within}. A converged controller writes nothing, so \
             its pass cannot be observed from the object alone"
        ))),
        (None, ..) => {
            let mut unseen = vec!["no other field manager wrote it".to_string()];
            if let Some(path) = &args.controller_logs {
                unseen.push(format!("{} shows no pass of it", sanitize(&path.display().to_string())));
            }
            if args.metrics_url.is_some() {
                unseen.push("the controller's reconcile counter did not rise".into());
            }
            Err(Error::Timeout(format!(
                "no sign of a controller pass on {object} within {within}: {}",
                unseen.join(", ")
            )))
        }
    }
}

/// One scrape of `--metrics-url` as per-controller counters; an unreadable source is an error
/// (the user asked for it).
pub(super) async fn scrape_metrics(kube: &Kube, url: &str) -> Result<Vec<crate::observe::MetricsSample>> {
    let text = k8s::watch::fetch_metrics(kube, url)
        .await
        .map_err(|why| Error::Other(anyhow::anyhow!("--metrics-url {}", sanitize(&why))))?;
    Ok(crate::parse::metrics::scrape(&text).0)
}
