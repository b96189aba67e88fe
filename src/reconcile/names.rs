//! Names the controller derives from the CAPTControlPlane's name (spec §1.8).

/// Suffix of the main WorkspaceTemplateApply.
pub const MAIN_APPLY_SUFFIX: &str = "-eks-controlplane-apply";
/// Namespace and name of the template the kubeconfig apply uses (upstream hard-codes it).
pub const KUBECONFIG_TEMPLATE_NAMESPACE: &str = "default";
pub const KUBECONFIG_TEMPLATE: &str = "eks-kubeconfig-template";

/// Every name one CAPTControlPlane implies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    pub namespace: String,
    pub cp: String,
    /// `spec.workspaceTemplateApplyName`, else `<cp>-eks-controlplane-apply`.
    pub main_apply: String,
    pub kubeconfig_apply: String,
    pub vpc_apply: String,
    pub connection_secret: String,
    pub outputs_kubeconfig_secret: String,
    pub kubeconfig_secret: String,
    pub ca_secret: String,
}

impl Names {
    pub fn new(namespace: &str, cp: &str, apply_name: Option<&str>) -> Self {
        let cluster = cp; // the Cluster is found by the CAPTControlPlane's name
        Names {
            namespace: namespace.to_string(),
            cp: cp.to_string(),
            main_apply: apply_name
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("{cp}{MAIN_APPLY_SUFFIX}")),
            kubeconfig_apply: format!("{cp}-kubeconfig-apply"),
            vpc_apply: format!("{cp}-vpc"),
            connection_secret: format!("{cp}-eks-connection"),
            outputs_kubeconfig_secret: format!("{cluster}-outputs-kubeconfig"),
            kubeconfig_secret: format!("{cluster}-kubeconfig"),
            ca_secret: format!("{cp}-ca"),
        }
    }

    /// Where the WorkspaceTemplate of `template_ref` is looked up: the ref's namespace, else
    /// the CAPTControlPlane's (upstream always uses the CAPTControlPlane's, B3).
    pub fn template_namespace(&self, template_ref: &crate::model::WorkspaceTemplateRef) -> String {
        template_ref.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| self.namespace.clone())
    }

    /// The names for a CAPTControlPlane object.
    pub fn of(cp: &crate::model::CaptControlPlane) -> Self {
        Names::new(
            cp.metadata.namespace.as_deref().unwrap_or("default"),
            cp.metadata.name.as_deref().unwrap_or(""),
            cp.spec.workspace_template_apply_name.as_deref(),
        )
    }
}
