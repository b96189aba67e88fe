//! No server: every upstream CRD and sample manifest in `../shared/capt-crds` matches the
//! project's kinds and parses into the project's types, and the project's CRDs accept at least
//! what the upstream CRDs accept. Prints "skipped" when `../shared` is absent.

#[path = "support/mod.rs"]
mod support;

use kubectl_capt::model::{
    ALL_KINDS, CaptCluster, CaptControlPlane, CaptControlPlaneTemplate, Cluster, KindInfo, Scope, Workspace,
    WorkspaceTemplate, WorkspaceTemplateApply,
};
use serde_json::Value;
use support::upstream::{self, NOT_MODELLED, UpstreamCrd};

fn project_kind(c: &UpstreamCrd) -> Option<&'static KindInfo> {
    ALL_KINDS.iter().find(|k| k.group == c.group() && k.kind == c.kind())
}

/// Deserialises into the project's type for `kind`; the error names the object.
fn parse_as_project_type(kind: &str, v: &Value, what: &str) {
    let r = match kind {
        "CAPTControlPlane" => serde_json::from_value::<CaptControlPlane>(v.clone()).map(|_| ()),
        "CaptControlPlaneTemplate" => {
            serde_json::from_value::<CaptControlPlaneTemplate>(v.clone()).map(|_| ())
        }
        "CAPTCluster" => serde_json::from_value::<CaptCluster>(v.clone()).map(|_| ()),
        "Cluster" => serde_json::from_value::<Cluster>(v.clone()).map(|_| ()),
        "WorkspaceTemplate" => serde_json::from_value::<WorkspaceTemplate>(v.clone()).map(|_| ()),
        "WorkspaceTemplateApply" => serde_json::from_value::<WorkspaceTemplateApply>(v.clone()).map(|_| ()),
        "Workspace" => serde_json::from_value::<Workspace>(v.clone()).map(|_| ()),
        other => panic!("{what}: no project type for kind {other}"),
    };
    if let Err(e) = r {
        panic!(
            "{what} does not parse into the project's {kind}: {e}\n{}",
            serde_json::to_string_pretty(v).unwrap()
        );
    }
}

#[test]
fn upstream_crds_match_project_kinds() {
    let Some(shared) = support::shared_dir("upstream_crds_match_project_kinds") else { return };
    let crds = upstream::crds(&shared);
    let mut covered = Vec::new();
    for c in &crds {
        let what = c.path.display().to_string();
        if NOT_MODELLED.contains(&c.kind()) {
            assert!(
                project_kind(c).is_none(),
                "{what}: {} is modelled now; drop it from NOT_MODELLED",
                c.kind()
            );
            continue;
        }
        let info = project_kind(c)
            .unwrap_or_else(|| panic!("{what}: no project kind for {}/{}", c.group(), c.kind()));
        assert_eq!(info.plural, c.plural(), "{what}: plural");
        assert_eq!(info.version, c.storage_version()["name"], "{what}: version");
        if c.stub {
            // real/ has the authoritative scope and status for these.
            continue;
        }
        let scope = match info.scope {
            Scope::Namespaced => "Namespaced",
            Scope::Cluster => "Cluster",
        };
        assert_eq!(scope, c.scope(), "{what}: scope of {}", c.kind());
        assert!(
            !c.has_status_subresource() || info.status_subresource,
            "{what}: upstream has a status subresource, the project's {} does not",
            info.kind
        );
        covered.push(info.kind);
    }
    for info in ALL_KINDS {
        assert!(covered.contains(&info.kind), "{} has no upstream CRD to compare with", info.kind);
    }
}

/// Whether `ours` accepts every field `theirs` defines (at any depth), without pruning.
fn accepts(ours: &Value, theirs: &Value, path: &str) -> Result<(), String> {
    if ours["x-kubernetes-preserve-unknown-fields"] == true && ours.get("properties").is_none() {
        return Ok(());
    }
    if let Some(props) = theirs["properties"].as_object() {
        for (k, s) in props {
            let mine = ours["properties"]
                .get(k)
                .ok_or_else(|| format!("{path}.{k}: defined upstream, pruned by the project's CRD"))?;
            accepts(mine, s, &format!("{path}.{k}"))?;
        }
    }
    if theirs["x-kubernetes-preserve-unknown-fields"] == true
        && ours["x-kubernetes-preserve-unknown-fields"] != true
    {
        return Err(format!("{path}: upstream keeps unknown fields, the project's CRD prunes them"));
    }
    Ok(())
}

#[test]
fn project_crds_accept_everything_upstream_accepts() {
    let Some(shared) = support::shared_dir("project_crds_accept_everything_upstream_accepts") else { return };
    let mut compared = Vec::new();
    for c in upstream::served_crds(&shared) {
        let Some(info) = project_kind(&c) else { continue };
        compared.push(info.kind);
        let ours = kubectl_capt::crd::crd(info);
        let what = format!("{} vs the project's CRD", c.path.display());
        assert_eq!(ours["spec"]["names"]["plural"], c.crd["spec"]["names"]["plural"], "{what}: plural");
        assert_eq!(ours["spec"]["names"]["kind"], c.crd["spec"]["names"]["kind"], "{what}: kind");
        assert_eq!(ours["spec"]["scope"], c.crd["spec"]["scope"], "{what}: scope");
        let version = &ours["spec"]["versions"][0];
        assert_eq!(version["name"], c.storage_version()["name"], "{what}: version");
        if c.has_status_subresource() {
            assert!(version["subresources"]["status"].is_object(), "{what}: status subresource missing");
        }
        let schema = &version["schema"]["openAPIV3Schema"];
        accepts(schema, c.schema(), c.kind()).unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    for info in ALL_KINDS {
        assert!(compared.contains(&info.kind), "{}: no served upstream CRD was compared", info.kind);
    }
}

#[test]
fn samples_parse_into_project_types() {
    let Some(shared) = support::shared_dir("samples_parse_into_project_types") else { return };
    let mut seen = Vec::new();
    for (path, docs) in upstream::samples(&shared) {
        for doc in docs {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            let what = format!("{} ({kind})", path.display());
            parse_as_project_type(&kind, &doc, &what);
            if kind == "CAPTControlPlane" {
                let cp: CaptControlPlane = serde_json::from_value(doc.clone()).unwrap();
                assert_eq!(cp.spec.version, doc["spec"]["version"], "{what}");
                assert_eq!(cp.spec.workspace_template_ref.name, doc["spec"]["workspaceTemplateRef"]["name"]);
                let cfg = cp.spec.control_plane_config.expect("controlPlaneConfig");
                assert_eq!(cfg.region.as_deref(), doc["spec"]["controlPlaneConfig"]["region"].as_str());
            }
            if kind == "Cluster" {
                let cl: Cluster = serde_json::from_value(doc.clone()).unwrap();
                assert_eq!(cl.metadata.name.as_deref(), doc["metadata"]["name"].as_str(), "{what}");
            }
            seen.push(kind);
        }
    }
    for kind in ["CAPTControlPlane", "Cluster", "CAPTCluster"] {
        assert!(seen.iter().any(|k| k == kind), "no {kind} sample was read");
    }
}

#[test]
fn full_upstream_shaped_objects_parse_into_project_types() {
    let Some(shared) = support::shared_dir("full_upstream_shaped_objects_parse_into_project_types") else {
        return;
    };
    let mut n = 0;
    for c in upstream::served_crds(&shared) {
        if project_kind(&c).is_none() {
            continue;
        }
        let obj = c.full_object("full");
        parse_as_project_type(c.kind(), &obj, &format!("full object from {}", c.path.display()));
        n += 1;
    }
    assert_eq!(n, ALL_KINDS.len(), "every project kind was checked against a full upstream object");
}
