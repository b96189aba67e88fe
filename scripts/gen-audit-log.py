#!/usr/bin/env python3
"""Writes a synthetic kube-apiserver audit log (audit.k8s.io/v1, Metadata level, both stages
per request) of at least SIZE megabytes to PATH, for `scripts/bench-analyze`.

Shape: 1,000 objects over 5 kinds across 20 namespaces; 75% reads (get/list/watch), 25% writes
(patch/update/create/delete, a quarter through the status subresource); one CAPTControlPlane
loops (two status patches per pass, ~20 passes/s) for 2 minutes of every 10. Timestamps advance
~2 ms per request, so 500 MB spans about half an hour.

usage: gen-audit-log.py PATH SIZE_MB
"""
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audit_log_writer import LineWriter, ts  # noqa: E402

path, size_mb = sys.argv[1], int(sys.argv[2])
random.seed(42)
KINDS = [
    ("captcontrolplanes", "controlplane.cluster.x-k8s.io", "v1beta1"),
    ("workspacetemplateapplies", "infrastructure.cluster.x-k8s.io", "v1beta1"),
    ("clusters", "cluster.x-k8s.io", "v1beta1"),
    ("secrets", "", "v1"),
    ("deployments", "apps", "v1"),
]
USERS = [
    ("system:serviceaccount:capt-system:capt-controller-manager", "manager/v0.0.0 (linux/amd64) kubernetes/$Format", "capt"),
    ("system:serviceaccount:kube-system:deployment-controller", "kube-controller-manager/v1.36.0 (linux/amd64) kubernetes/abc/system:serviceaccount:kube-system:deployment-controller", None),
    ("kubernetes-admin", "kubectl/v1.36.0 (linux/amd64) kubernetes/abc", "kubectl-client-side-apply"),
]
objects = [(KINDS[i % 5], f"ns-{i % 20}", f"obj-{i}") for i in range(1000)]
start = datetime(2026, 3, 1, 10, 0, 0, tzinfo=timezone.utc)
limit = size_mb * 1024 * 1024


def event(n, stage, verb, obj, sub, user, t0, t1, code=200):
    (res, group, ver), ns, name = obj
    uname, ua, manager = user
    base = f"/apis/{group}/{ver}" if group else f"/api/{ver}"
    uri = f"{base}/namespaces/{ns}/{res}/{name}" + (f"/{sub}" if sub else "")
    if manager and verb in ("patch", "update", "create"):
        uri += f"?fieldManager={manager}"
    ref = {"resource": res, "namespace": ns, "name": name, "apiVersion": ver}
    if group:
        ref["apiGroup"] = group
    if sub:
        ref["subresource"] = sub
    e = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": f"{n:08x}-5f2a-4c1e-9d7b-{n:012x}", "stage": stage, "requestURI": uri, "verb": verb,
        "user": {"username": uname, "uid": "7a1c2b3d-0000-4000-8000-00000000000" + str(n % 10),
                 "groups": ["system:serviceaccounts", "system:authenticated"]},
        "sourceIPs": ["10.244.0.17"], "userAgent": ua, "objectRef": ref,
        "requestReceivedTimestamp": ts(t0), "stageTimestamp": ts(t1),
    }
    if stage == "ResponseComplete":
        e["responseStatus"] = {"metadata": {}, "code": code}
        e["annotations"] = {"authorization.k8s.io/decision": "allow",
                            "authorization.k8s.io/reason": 'RBAC: allowed by ClusterRoleBinding "capt-manager-rolebinding"'}
    return json.dumps(e, separators=(",", ":"))


looper = (KINDS[0], "ns-0", "looper")
n = 0
t = start
with LineWriter(path) as out:
    while out.written < limit:
        n += 1
        t += timedelta(microseconds=random.randint(1000, 3000))
        minute = int((t - start).total_seconds() // 60) % 10
        if minute < 2 and n % 25 == 0:
            # The loop: two status patches per pass by the manager.
            obj, verb, sub, user = looper, "patch", "status", USERS[0]
        else:
            obj = random.choice(objects)
            r = random.random()
            user = random.choice(USERS)
            if r < 0.75:
                verb, sub = random.choice(["get", "get", "list", "watch"]), None
            else:
                verb = random.choice(["patch", "update", "update", "create", "delete"])
                sub = "status" if random.random() < 0.25 and verb in ("patch", "update") else None
        t1 = t + timedelta(microseconds=random.randint(300, 4000))
        code = 409 if verb == "update" and random.random() < 0.05 else 200
        for stage, tt in (("RequestReceived", t), ("ResponseComplete", t1)):
            out.line(event(n, stage, verb, obj, sub, user, t, tt, code))
print(f"{path}: {out.written / 1e6:.0f} MB, {n} requests, {2 * n} events, {ts(start)} .. {ts(t)}")
