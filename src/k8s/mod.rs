//! Kubernetes access: the only module that holds a [`kube::Client`]. Every API failure leaves
//! here as a typed [`crate::error::Error`] that names the verb and resource.

pub mod apply;
pub mod pod_streams;
pub mod snapshot;
pub mod transport;
pub mod watch;
pub mod writers;

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::error::{Error, Result};
use crate::model::KindInfo;

/// A connected client and what it was resolved from.
#[derive(Clone)]
pub struct Kube {
    pub client: Client,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    pub context: String,
    pub server: String,
    pub all_namespaces: bool,
}

impl Kube {
    /// The project's error for `err`, a failure of `op` against this cluster.
    pub fn error(&self, op: &Op, err: kube::Error) -> Error {
        api_error(err, op, &self.server, &self.context)
    }

    /// The namespace to list in: `None` for `-A`.
    pub fn list_namespace(&self) -> Option<&str> {
        (!self.all_namespaces).then_some(self.namespace.as_str())
    }
}

/// Where and how to reach the cluster.
#[derive(Clone, Debug, Default)]
pub struct ClusterTarget {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `-n`, if given; otherwise the context's namespace is used (see [`connect`]).
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    pub request_timeout: Duration,
}

/// Builds a client from `--kubeconfig`/`--context`/`-n` the way kubectl does. Does not contact
/// the server.
pub async fn connect(target: &ClusterTarget) -> Result<Kube> {
    let kubeconfig = match &target.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| Error::Config(error_chain(&e)))?;
    let context = target.context.clone().or_else(|| kubeconfig.current_context.clone()).unwrap_or_default();
    let options = KubeConfigOptions { context: target.context.clone(), ..Default::default() };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| Error::Config(error_chain(&e)))?;
    config.connect_timeout = Some(target.request_timeout.min(std::time::Duration::from_secs(5)));
    config.read_timeout = Some(target.request_timeout);
    config.write_timeout = Some(target.request_timeout);
    let namespace = target.namespace.clone().unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    let client = transport::client(&config).map_err(Error::Config)?;
    Ok(Kube { client, namespace, context, server, all_namespaces: target.all_namespaces })
}

/// One API operation, for error messages: `get captcontrolplanes.controlplane.cluster.x-k8s.io`.
#[derive(Clone, Debug)]
pub struct Op {
    pub verb: &'static str,
    /// `plural.group`, with `/status` for the subresource; `secrets` for core kinds.
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// The CRD that serves this resource, when it is a custom resource.
    pub crd: Option<String>,
    pub kind: String,
}

impl Op {
    pub fn on(verb: &'static str, info: &KindInfo, namespace: Option<&str>, name: Option<&str>) -> Self {
        Op {
            verb,
            resource: info.crd_name(),
            namespace: namespace.map(str::to_string),
            name: name.map(str::to_string),
            crd: Some(info.crd_name()),
            kind: info.kind.to_string(),
        }
    }
    /// An operation on a core (non-CRD) resource such as `secrets`.
    pub fn core(
        verb: &'static str,
        resource: &str,
        kind: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        Op {
            verb,
            resource: resource.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.map(str::to_string),
            crd: None,
            kind: kind.to_string(),
        }
    }
    pub fn subresource(mut self, sub: &str) -> Self {
        self.resource = format!("{}/{sub}", self.resource);
        self
    }
}

/// Whether a kube error is a 404 for a named object (as opposed to a missing resource type).
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404 && !is_missing_resource_message(&s.message))
}

/// Whether a kube error is a 409 conflict.
pub fn is_conflict(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409)
}

/// A 404 for the resource type itself: kube-apiserver answers a request under an API group it
/// does not serve with a plain-text `404 page not found` (kube turns it into a Status).
fn is_missing_resource_message(msg: &str) -> bool {
    msg.contains("could not find the requested resource")
        || msg.contains("404 page not found")
        || msg.is_empty()
}

/// Turns a kube error into the crate's error for `op`, on the server `server`.
pub fn api_error(err: kube::Error, op: &Op, server: &str, context: &str) -> Error {
    match &err {
        kube::Error::Api(status) => match status.code {
            401 => Error::Unauthorized { server: server.to_string(), context: context.to_string() },
            403 => Error::Forbidden {
                verb: op.verb.to_string(),
                resource: op.resource.clone(),
                namespace: op.namespace.clone(),
            },
            404 if is_missing_resource_message(&status.message) && op.crd.is_some() => {
                Error::CrdMissing { crd: op.crd.clone().unwrap_or_default() }
            }
            404 => Error::NotFound {
                kind: op.kind.clone(),
                name: op.name.clone().unwrap_or_default(),
                namespace: op.namespace.clone(),
            },
            code => Error::Api {
                context: format!("{} {}", op.verb, op.resource),
                code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_) => {
            Error::Unreachable { server: server.to_string(), detail: root_cause(&err) }
        }
        _ => Error::other(format!("{} {}: {}", op.verb, op.resource, error_chain(&err))),
    }
}

/// `a: b: c` from an error and its sources, without repeats.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut src = err.source();
    while let Some(e) = src {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        src = e.source();
    }
    parts.join(": ")
}

fn root_cause(err: &dyn std::error::Error) -> String {
    let mut last = err.to_string();
    let mut src = err.source();
    while let Some(e) = src {
        last = e.to_string();
        src = e.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CaptControlPlane, CaptKind};
    use kube::core::Status;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(Status { code, message: message.into(), ..Status::default() }))
    }

    fn op() -> Op {
        Op::on("get", &CaptControlPlane::INFO, Some("ns"), Some("demo"))
    }

    #[test]
    fn missing_crd_is_named() {
        let e = api_error(api(404, "the server could not find the requested resource"), &op(), "s", "c");
        assert_eq!(
            e.to_string(),
            "the CRD captcontrolplanes.controlplane.cluster.x-k8s.io is not installed on this cluster"
        );
    }

    #[test]
    fn missing_object_is_not_found() {
        let e = api_error(api(404, "captcontrolplanes \"demo\" not found"), &op(), "s", "c");
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
        assert!(is_not_found(&api(404, "x \"demo\" not found")));
        assert!(!is_not_found(&api(404, "the server could not find the requested resource")));
        // What a real kube-apiserver says for a group it does not serve (see e2e foundation).
        assert!(!is_not_found(&api(404, "404 page not found")));
        let e = api_error(api(404, "404 page not found"), &op(), "s", "c");
        assert!(matches!(e, Error::CrdMissing { .. }), "{e}");
    }

    #[test]
    fn forbidden_keeps_verb_and_subresource() {
        let e = api_error(api(403, "nope"), &op().subresource("status"), "s", "c");
        assert!(e.to_string().contains("cannot get captcontrolplanes.controlplane.cluster.x-k8s.io/status"));
    }

    #[test]
    fn unauthorized() {
        let e = api_error(api(401, "Unauthorized"), &op(), "https://x", "ctx");
        assert!(matches!(e, Error::Unauthorized { .. }));
    }
}
