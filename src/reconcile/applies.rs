//! The main and kubeconfig WorkspaceTemplateApplies: created when missing, otherwise patched in
//! the spec fields the controller owns only. User fields (`retainWorkspaceOnDelete`,
//! `waitForSecrets`, extra variables) are never touched (upstream overwrites the whole spec, B12).

use std::collections::BTreeMap;

use serde_json::json;

use super::names::{KUBECONFIG_TEMPLATE, KUBECONFIG_TEMPLATE_NAMESPACE, Names};
use super::writes::{controller_ref, create, patch, redact};
use super::{ObjectRef, Operation, Write};
use crate::model::{
    CaptControlPlane, SecretRef, WorkspaceRef, WorkspaceTemplateApply, WorkspaceTemplateApplySpec,
    WorkspaceTemplateRef,
};

/// Variables of the kubeconfig apply that are copied from the connection Secret.
pub const SECRET_VARIABLES: &[&str] = &["cluster_endpoint", "cluster_certificate_authority_data"];

/// The spec fields one apply's owner decides.
#[derive(Clone, Debug, PartialEq)]
pub struct Owned {
    pub template_ref: WorkspaceTemplateRef,
    pub variables: BTreeMap<String, String>,
    pub connection_secret: SecretRef,
    /// Workspaces that must be waited for (added if missing; others are left alone).
    pub wait_for_workspaces: Vec<WorkspaceRef>,
}

/// The main apply's owned spec (spec §1.5), with the template namespace defaulted to the
/// CAPTControlPlane's (B3).
pub fn main_owned(cp: &CaptControlPlane, names: &Names, vpc_exists: bool) -> Owned {
    let spec = &cp.spec;
    let mut variables = BTreeMap::new();
    variables.insert("cluster_name".to_string(), names.cp.clone());
    variables.insert("kubernetes_version".to_string(), spec.version.clone());
    if let Some(cfg) = &spec.control_plane_config {
        if let Some(region) = cfg.region.as_ref().filter(|r| !r.is_empty()) {
            variables.insert("region".to_string(), region.clone());
        }
        if let Some(access) = &cfg.endpoint_access {
            let b = |v: Option<bool>| if v.unwrap_or(false) { "true" } else { "false" }.to_string();
            variables.insert("endpoint_public_access".to_string(), b(access.public));
            variables.insert("endpoint_private_access".to_string(), b(access.private));
        }
    }
    for (k, v) in spec.additional_tags.iter().flatten() {
        variables.insert(format!("tags_{k}"), v.clone());
    }
    Owned {
        template_ref: WorkspaceTemplateRef {
            name: spec.workspace_template_ref.name.clone(),
            namespace: Some(names.template_namespace(&spec.workspace_template_ref)),
        },
        variables,
        connection_secret: SecretRef {
            name: names.connection_secret.clone(),
            namespace: names.namespace.clone(),
        },
        wait_for_workspaces: if vpc_exists {
            vec![WorkspaceRef { name: names.vpc_apply.clone(), namespace: Some(names.namespace.clone()) }]
        } else {
            Vec::new()
        },
    }
}

/// The kubeconfig apply's owned spec. Its outputs Secret goes to the CAPTControlPlane's
/// namespace, not the hard-coded `default` (B11). `endpoint_url` is the validated URL (scheme,
/// host, port), never the Secret's raw value.
pub fn kubeconfig_owned(
    names: &Names,
    region: &str,
    endpoint_url: &str,
    ca_raw: &str,
    workspace: &str,
) -> Owned {
    let variables = [
        ("cluster_name", names.cp.as_str()),
        ("region", region),
        ("cluster_endpoint", endpoint_url),
        ("cluster_certificate_authority_data", ca_raw),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Owned {
        template_ref: WorkspaceTemplateRef {
            name: KUBECONFIG_TEMPLATE.into(),
            namespace: Some(KUBECONFIG_TEMPLATE_NAMESPACE.into()),
        },
        variables,
        connection_secret: SecretRef {
            name: names.outputs_kubeconfig_secret.clone(),
            namespace: names.namespace.clone(),
        },
        wait_for_workspaces: vec![WorkspaceRef { name: workspace.to_string(), namespace: None }],
    }
}

/// `stored` with the owned fields set.
pub fn desired_spec(stored: &WorkspaceTemplateApplySpec, owned: &Owned) -> WorkspaceTemplateApplySpec {
    let mut spec = stored.clone();
    spec.template_ref = owned.template_ref.clone();
    let mut vars = spec.variables.take().unwrap_or_default();
    vars.extend(owned.variables.clone());
    spec.variables = Some(vars);
    spec.write_connection_secret_to_ref = Some(owned.connection_secret.clone());
    if !owned.wait_for_workspaces.is_empty() {
        let mut waits = spec.wait_for_workspaces.take().unwrap_or_default();
        for w in &owned.wait_for_workspaces {
            if !waits.iter().any(|x| x.name == w.name) {
                waits.push(w.clone());
            }
        }
        spec.wait_for_workspaces = Some(waits);
    }
    spec
}

/// Create `name` with `owned`, or patch the owned fields of `stored` that differ.
pub fn write(
    cp: &CaptControlPlane,
    names: &Names,
    name: &str,
    stored: Option<&WorkspaceTemplateApply>,
    owned: &Owned,
    secret_variables: &[&str],
) -> Option<Write> {
    let target = ObjectRef::new("WorkspaceTemplateApply", Some(&names.namespace), name);
    let mut w = match stored {
        None => {
            let spec = desired_spec(&WorkspaceTemplateApplySpec::default(), owned);
            let object = json!({
                "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                "kind": "WorkspaceTemplateApply",
                "metadata": {
                    "name": name,
                    "namespace": names.namespace,
                    "ownerReferences": [controller_ref(cp)],
                },
                "spec": spec,
            });
            create(target, object)
        }
        Some(wta) => {
            let desired = desired_spec(&wta.spec, owned);
            let as_doc = |s: &WorkspaceTemplateApplySpec| json!({ "spec": s });
            patch(
                target,
                Operation::Patch,
                &as_doc(&wta.spec),
                &as_doc(&desired),
                wta.metadata.resource_version.clone(),
            )?
        }
    };
    redact(&mut w.fields, secret_variables);
    Some(w)
}
