//! Property tests over generated snapshots: every combination of present, missing, stale and
//! broken objects the builders can express. `plan` never panics, and applying a plan and
//! planning again writes nothing.

use proptest::prelude::*;
use serde_json::json;

use super::fixtures::*;
use super::*;
use crate::model::ApiEndpoint;

/// Choices for each object of the snapshot; each index picks one variant.
#[derive(Clone, Debug)]
struct Choice {
    cp: (u8, u8, u8, u8, u8),
    cluster: u8,
    template: bool,
    main: (u8, u8),
    kubeconfig_apply: u8,
    vpc: bool,
    workspace: u8,
    connection: u8,
    outputs: u8,
    kubeconfig: u8,
    ca: u8,
    errors: u8,
}

fn choice() -> impl Strategy<Value = Choice> {
    (
        (0..4u8, 0..5u8, 0..3u8, 0..3u8, 0..4u8),
        0..4u8,
        any::<bool>(),
        (0..7u8, 0..3u8),
        0..3u8,
        any::<bool>(),
        (0..7u8, 0..8u8, 0..4u8, 0..4u8, 0..3u8, 0..8u8),
    )
        .prop_map(
            |(
                cp,
                cluster,
                template,
                main,
                kubeconfig_apply,
                vpc,
                (workspace, connection, outputs, kubeconfig, ca, errors),
            )| Choice {
                cp,
                cluster,
                template,
                main,
                kubeconfig_apply,
                vpc,
                workspace,
                connection,
                outputs,
                kubeconfig,
                ca,
                errors,
            },
        )
}

fn build(c: &Choice) -> Snapshot {
    let full = ready();
    let (claim, status, endpoint, spec, deletion) = c.cp;
    let mut cp = if claim == 0 { fresh_cp() } else { cp() };
    if claim == 3 {
        cp.metadata.owner_references = None;
    }
    cp.status = match status {
        0 => None,
        1 => full.control_plane.status.clone(),
        2 => Some(serde_json::from_value(json!({"phase": "Failed", "ready": true, "failureReason": "X",
            "conditions": [{"type": "Ready", "status": "False", "reason": "X"}, {"type": "Other", "status": "True"}]})).unwrap()),
        3 => Some(serde_json::from_value(json!({"phase": "Creating", "initialized": true, "secretsReady": true,
            "workspaceStatus": {"ready": true, "state": "Gone", "atProvider": {"outputs": {"old": "x"}}}})).unwrap()),
        _ => Some(Default::default()),
    };
    cp.spec.control_plane_endpoint = match endpoint {
        0 => None,
        1 => Some(ApiEndpoint { host: URL.into(), port: 443 }),
        _ => Some(ApiEndpoint { host: HOST.into(), port: 443 }),
    };
    match spec {
        1 => cp.spec.control_plane_config = None,
        2 => cp.spec.workspace_template_ref.namespace = None,
        _ => {}
    }
    if deletion == 1 || deletion == 2 {
        cp.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Default::default()));
        if deletion == 2 {
            cp.metadata.finalizers = None;
        }
    }

    let cluster = match c.cluster {
        0 => None,
        1 => Some(cluster()),
        2 => full.cluster.clone(),
        _ => {
            let mut cl = cluster();
            cl.status = Some(serde_json::from_value(json!({"failureReason": "Old", "controlPlaneReady": true,
                "conditions": [{"type": "ControlPlaneInitialized", "status": "False", "reason": "WaitingForControlPlaneProviderInitialized"}]})).unwrap());
            Some(cl)
        }
    };
    let (main_kind, main_spec) = c.main;
    let mut main = match main_kind {
        0 => None,
        1 => Some({
            let mut w = wta(json!({}));
            w.status = None;
            w
        }),
        2 => Some(wta_creating()),
        3 => Some(wta_ready()),
        4 => Some(wta_failed("apply failed")),
        5 => Some(wta(json!({"conditions": [{"type": "Ready", "status": "True"}]}))),
        _ => full.main_apply.clone(),
    };
    if let Some(m) = main.as_mut() {
        match main_spec {
            1 => {
                m.spec.retain_workspace_on_delete = Some(true);
                m.spec.variables = None;
            }
            2 => m.spec.write_connection_secret_to_ref = None,
            _ => {}
        }
    }
    let kubeconfig_apply = match c.kubeconfig_apply {
        0 => None,
        1 => full.kubeconfig_apply.clone(),
        _ => full.kubeconfig_apply.clone().map(|mut k| {
            k.spec.variables = None;
            k.spec.wait_for_workspaces = None;
            k
        }),
    };
    let workspace = match c.workspace {
        0 => None,
        1 => Some(good_workspace()),
        2 => Some(workspace(json!({}), false)),
        3 => Some(workspace(json!({"cluster_endpoint": ""}), true)),
        4 => Some(workspace(json!({"cluster_endpoint": 42}), true)),
        5 => Some({
            let mut w = good_workspace();
            w.status = None;
            w
        }),
        _ => Some(workspace(json!({}), true)),
    };
    let mut conn = connection_secret();
    let connection_secret = match c.connection {
        0 => None,
        1 => Some(conn),
        2 => {
            conn.data.remove("cluster_certificate_authority_data");
            Some(conn)
        }
        3 => {
            conn.data.remove("cluster_endpoint");
            Some(conn)
        }
        4 => {
            conn.data.insert(
                "cluster_endpoint".into(),
                SecretBytes::new(b"aHR0cHM6Ly9hYmMuZXhhbXBsZQ==".to_vec()),
            );
            Some(conn)
        }
        5 => {
            conn.data.insert("cluster_certificate_authority_data".into(), SecretBytes::default());
            Some(conn)
        }
        6 => {
            conn.data.insert("cluster_endpoint".into(), SecretBytes::new(vec![0xff, 0x00]));
            Some(conn)
        }
        _ => {
            conn.data.insert("cluster_endpoint".into(), SecretBytes::new(b"not a url".to_vec()));
            Some(conn)
        }
    };
    let outputs_kubeconfig_secret = match c.outputs {
        0 => None,
        1 => Some(outputs_secret(KUBECONFIG)),
        2 => Some(outputs_secret("other")),
        _ => Some(outputs_secret("")),
    };
    let kubeconfig_secret = match c.kubeconfig {
        0 => None,
        1 => full.kubeconfig_secret.clone(),
        2 => Some(secret("demo-kubeconfig", &[("value", b"stale")])),
        _ => full.kubeconfig_secret.clone().map(|mut s| {
            s.labels.clear();
            s
        }),
    };
    let ca_secret = match c.ca {
        0 => None,
        1 => full.ca_secret.clone(),
        _ => Some(secret("demo-ca", &[("tls.crt", b"x")])),
    };
    let unreadable = if c.errors == 0 {
        vec![Unreadable {
            target: ObjectRef::new("Secret", Some("default"), "demo-ca"),
            failure: ReadFailure::Forbidden { verb: "get".into(), resource: "secrets".into() },
        }]
    } else {
        Vec::new()
    };
    Snapshot {
        control_plane: cp,
        cluster,
        template: c.template.then(template),
        main_apply: main,
        kubeconfig_apply,
        vpc_apply_exists: c.vpc,
        workspace,
        connection_secret,
        outputs_kubeconfig_secret,
        kubeconfig_secret,
        ca_secret,
        unreadable,
        not_read: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn plan_apply_plan_writes_nothing(c in choice()) {
        let snap = build(&c);
        let first = plan(&snap, now());
        let next = apply(&snap, &first);
        let second = plan(&next, later());
        prop_assert!(
            second.writes.is_empty(),
            "second pass writes {:#?}",
            second.writes.iter().map(|w| (&w.target, w.operation, &w.fields)).collect::<Vec<_>>()
        );
        prop_assert_eq!(second.phase, first.phase);
        if snap.control_plane.metadata.deletion_timestamp.is_none() {
            prop_assert_eq!((second.requeue.after, second.requeue.outcome), (first.requeue.after, first.requeue.outcome));
            // One decision: the status stored after the pass is the status planned.
            let stored = next.control_plane.status.clone().unwrap_or_default();
            prop_assert_eq!(&stored.phase, &first.status.phase);
            prop_assert!(diff::zero_eq(&serde_json::to_value(&stored).unwrap(), &serde_json::to_value(&first.status).unwrap()));
        } else {
            // Deletion moves on (wait → done) but never writes twice.
            prop_assert!(matches!(second.requeue.outcome, Outcome::Done | Outcome::Waiting | Outcome::Serious | Outcome::Undetermined));
        }
    }

    /// An unreadable input either leaves the pass undetermined (no phase, writes or requeue;
    /// the stored status stands) or did not matter: the same plan whether the object is in
    /// fact absent or present.
    #[test]
    fn an_unreadable_input_decides_nothing_or_does_not_matter(c in choice()) {
        let blind = build(&Choice { errors: 0, ..c.clone() });
        let p = plan(&blind, now());
        if p.determined() {
            for ca in [None, ready().ca_secret] {
                let seeing = Snapshot { unreadable: Vec::new(), ca_secret: ca, ..blind.clone() };
                let q = plan(&seeing, now());
                prop_assert_eq!(&p.writes, &q.writes);
                prop_assert_eq!((&p.phase, &p.requeue), (&q.phase, &q.requeue));
            }
        } else {
            prop_assert!(p.writes.is_empty() && p.phase.is_none() && p.requeue.after.is_none());
            prop_assert_eq!(p.requeue.outcome, Outcome::Undetermined);
            prop_assert_eq!(&p.status, &blind.control_plane.status.clone().unwrap_or_default());
        }
    }

    /// Reading only the Secrets [`reads_wanted`] asks for gives the plan of reading all four
    /// (at most two rounds, each Secret once). With a Secret the reader may not read, the
    /// decision is the same whenever reading everything could decide it.
    #[test]
    fn reading_only_the_wanted_secrets_plans_the_same(c in choice()) {
        let full = build(&c);
        let (snap, rounds) = read_as_needed(&full, now());
        prop_assert!(rounds.len() <= 2, "{rounds:?}");
        let (p, q) = (plan(&full, now()), plan(&snap, now()));
        if full.unreadable.is_empty() {
            prop_assert_eq!(&p, &q);
        } else if p.determined() {
            prop_assert!(q.determined());
            prop_assert_eq!(&p.writes, &q.writes);
            prop_assert_eq!((&p.phase, &p.requeue, &p.status), (&q.phase, &q.requeue, &q.status));
        }
        prop_assert!(q.unreadable.iter().all(|u| u.failure != ReadFailure::NotRead), "{:?}", q.unreadable);
    }

    #[test]
    fn requeue_matches_the_outcome(c in choice()) {
        let p = plan(&build(&c), now());
        let secs = p.requeue.after.map(|d| d.as_secs());
        let want = match p.requeue.outcome {
            Outcome::Ready => Some(30),
            Outcome::Serious => Some(10),
            Outcome::Waiting => Some(5),
            Outcome::Done | Outcome::Undetermined => None,
        };
        prop_assert_eq!(secs, want);
        prop_assert!(!p.requeue.reason.is_empty());
        if p.requeue.outcome == Outcome::Ready {
            prop_assert!(p.status.ready == Some(true) && p.status.phase.as_deref() == Some("Ready"));
        }
    }
}
