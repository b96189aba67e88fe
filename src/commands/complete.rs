//! `kubectl-capt __complete WORDS...`: candidates for `kubectl capt <TAB>`, printed one per line
//! followed by a cobra-style directive line (`:4` = no file completion), as kubectl expects from
//! `kubectl_complete-capt`. Errors print nothing.

use clap::CommandFactory;
use kube::Api;
use kube::api::ListParams;

use crate::cli::{Cli, CompleteArgs};
use crate::error::{ExitStatus, Result};
use crate::model::CaptControlPlane;
use crate::settings::Settings;

/// Subcommands that take a CAPTControlPlane name.
const NAMED: &[&str] = &["status", "reconcile"];

pub async fn run(args: &CompleteArgs, settings: &Settings) -> Result<ExitStatus> {
    let words = &args.words;
    let current = words.last().cloned().unwrap_or_default();
    let before = &words[..words.len().saturating_sub(1)];
    let mut out: Vec<String> = Vec::new();
    let cmd = Cli::command();
    let sub = before.iter().find(|w| !w.starts_with('-'));
    match sub {
        None if current.starts_with('-') => out.extend(flags(&cmd, &current)),
        None => out.extend(
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.get_name().to_string())
                .filter(|n| n.starts_with(&current)),
        ),
        Some(sub) => {
            if let Some(sc) = cmd.find_subcommand(sub) {
                if current.starts_with('-') {
                    out.extend(flags(sc, &current));
                    out.extend(flags(&cmd, &current));
                } else if NAMED.contains(&sub.as_str()) {
                    out.extend(names(settings, &current).await);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(":4\n");
    super::emit(&text)?;
    Ok(ExitStatus::Ok)
}

fn flags(cmd: &clap::Command, prefix: &str) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .filter(|f| f.starts_with(prefix))
        .collect()
}

/// CAPTControlPlane names from the current context, with a short timeout; empty on any error.
async fn names(settings: &Settings, prefix: &str) -> Vec<String> {
    let fetch = async {
        let mut target = settings.target.clone();
        target.request_timeout = std::time::Duration::from_secs(2);
        let kube = crate::k8s::connect(&target).await.ok()?;
        let api: Api<CaptControlPlane> = Api::namespaced(kube.client.clone(), &kube.namespace);
        let list = api.list_metadata(&ListParams::default()).await.ok()?;
        Some(list.items.into_iter().filter_map(|o| o.metadata.name).collect::<Vec<_>>())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), fetch).await {
        Ok(Some(names)) => names.into_iter().filter(|n| n.starts_with(prefix)).collect(),
        _ => Vec::new(),
    }
}
