//! `kubectl-capt __complete -- WORDS...`: candidates for `kubectl capt <TAB>`, one per line
//! (`value<TAB>description`), then a cobra directive line (`:4` = no file completion, `:0` = let
//! the shell complete files), as kubectl (1.26+) expects from `kubectl_complete-capt`.
//!
//! kubectl passes the words after `kubectl capt` unparsed (its own flags are switched off for
//! plugins), so `-n`, `--context` and `--kubeconfig` arrive as words; `crate::complete` reads
//! them and says what to offer, this file looks names up. Any error (no kubeconfig, unreachable
//! server, forbidden) yields no candidates, never a message.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::ListParams;
use kube::config::Kubeconfig;

use crate::complete::{Offer, TypedLine, offer, protocol_text};
use crate::error::{ExitStatus, Result};
use crate::k8s::ClusterTarget;
use crate::model::CaptControlPlane;
use crate::settings::Settings;

/// How long a dynamic lookup may take before we give up and offer nothing.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn run(words: &[String], settings: &Settings) -> Result<ExitStatus> {
    let mut grammar = crate::settings::grammar();
    // Global flags propagated to every subcommand, as when parsing.
    grammar.build();
    let line = TypedLine::parse(&grammar, words);
    let offer = offer(&grammar, &line);
    let target = lookup_target(&line, &settings.target);
    let candidates = match &offer {
        Offer::Static(items) => items.clone(),
        Offer::Names => names(&target).await.into_iter().map(|n| (n, None)).collect(),
        Offer::Namespaces => namespaces(&target).await.into_iter().map(|n| (n, None)).collect(),
        Offer::Contexts => contexts(&target).into_iter().map(|n| (n, None)).collect(),
        Offer::Files | Offer::Nothing => Vec::new(),
    };
    super::emit(&protocol_text(&candidates, &line.prefix, &line.current, offer.directive()))?;
    Ok(ExitStatus::Ok)
}

/// Where to look up names: flags typed on the line win over the process's settings.
fn lookup_target(line: &TypedLine, base: &ClusterTarget) -> ClusterTarget {
    ClusterTarget {
        kubeconfig: line.kubeconfig.clone().map(Into::into).or_else(|| base.kubeconfig.clone()),
        context: line.context.clone().or_else(|| base.context.clone()),
        namespace: line.namespace.clone().or_else(|| base.namespace.clone()),
        all_namespaces: false,
        request_timeout: LOOKUP_TIMEOUT,
    }
}

/// CAPTControlPlane names in the namespace of the line (or the context); empty on any error.
async fn names(target: &ClusterTarget) -> Vec<String> {
    bounded(async {
        let kube = crate::k8s::connect(target).await.ok()?;
        let api: Api<CaptControlPlane> = Api::namespaced(kube.client.clone(), &kube.namespace);
        let list = api.list_metadata(&ListParams::default()).await.ok()?;
        Some(list.items.into_iter().filter_map(|o| o.metadata.name).collect())
    })
    .await
}

/// Namespace names; empty on any error (many users may not list namespaces).
async fn namespaces(target: &ClusterTarget) -> Vec<String> {
    bounded(async {
        let kube = crate::k8s::connect(target).await.ok()?;
        let api: Api<Namespace> = Api::all(kube.client.clone());
        let list = api.list_metadata(&ListParams::default()).await.ok()?;
        Some(list.items.into_iter().filter_map(|o| o.metadata.name).collect())
    })
    .await
}

/// Context names of the kubeconfig the line selects; empty when it cannot be read.
fn contexts(target: &ClusterTarget) -> Vec<String> {
    let config = match &target.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    };
    config.map(|c| c.contexts.into_iter().map(|c| c.name).collect()).unwrap_or_default()
}

async fn bounded(fetch: impl Future<Output = Option<Vec<String>>>) -> Vec<String> {
    match tokio::time::timeout(LOOKUP_TIMEOUT + Duration::from_secs(1), fetch).await {
        Ok(Some(names)) => names,
        _ => Vec::new(),
    }
}
