#!/usr/bin/env python3
"""Writes a synthetic RequestResponse-level kube-apiserver audit log (object bodies in every
event) to PATH, for `scripts/bench-analyze`: OBJECTS ConfigMaps of 40 keys, each created then
updated ROUNDS - 1 times (3 keys changed per update), in rounds over all objects; both stages per
request (the ResponseComplete stage carries the request and response bodies). Requests are
0.2-0.6 ms apart with 20,000 objects, proportionally further apart with fewer, so each object is
written about every 8 s whatever OBJECTS is.
20,000 objects x 6 rounds make about 505 MB; so do 200 x 600 (the same log with fewer objects).

usage: gen-audit-log-rr.py PATH [OBJECTS [ROUNDS]]
"""
import os
import random
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audit_log_writer import LineWriter, ts  # noqa: E402

path = sys.argv[1]
objects = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 6
spread = max(1, 20000 // objects)
random.seed(7)
KEYS = 40
start = datetime(2026, 3, 1, 10, 0, 0, tzinfo=timezone.utc)
USER = {"username": "system:serviceaccount:apps:config-writer", "uid": "7a1c2b3d-0000-4000-8000-000000000001",
        "groups": ["system:serviceaccounts", "system:authenticated"]}
AGENT = "config-writer/v1.2.0 (linux/amd64) kubernetes/abc"


def value(i, key, version):
    return f"value-{i:05d}-{key:02d}-v{version}"


data = [{f"key-{k:02d}": value(i, k, 0) for k in range(KEYS)} for i in range(objects)]
versions = [0] * objects
n = 0
t = start
with LineWriter(path) as out:
    for round_ in range(rounds):
        for i in range(objects):
            n += 1
            t += timedelta(microseconds=random.randint(200, 600) * spread)
            ns, name = f"ns-{i % 50}", f"cm-{i:05d}"
            verb = "create" if round_ == 0 else "update"
            if round_ > 0:
                for k in random.sample(range(KEYS), 3):
                    data[i][f"key-{k:02d}"] = value(i, k, round_)
            versions[i] += 1
            meta = {"name": name, "namespace": ns, "uid": f"{i:08x}-1111-4000-8000-{i:012x}",
                    "labels": {"app": "config", "shard": str(i % 7)}}
            req = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": dict(meta), "data": data[i]}
            resp = {"kind": "ConfigMap", "apiVersion": "v1",
                    "metadata": dict(meta, resourceVersion=str(1000 + n), creationTimestamp=ts(start)),
                    "data": data[i]}
            uri = f"/api/v1/namespaces/{ns}/configmaps" + ("" if verb == "create" else f"/{name}")
            ref = {"resource": "configmaps", "namespace": ns, "name": name, "apiVersion": "v1"}
            t1 = t + timedelta(microseconds=random.randint(300, 3000))
            for stage, tt in (("RequestReceived", t), ("ResponseComplete", t1)):
                e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
                     "auditID": f"{n:08x}-5f2a-4c1e-9d7b-{n:012x}", "stage": stage, "requestURI": uri,
                     "verb": verb, "user": USER, "sourceIPs": ["10.244.0.17"], "userAgent": AGENT,
                     "objectRef": ref,
                     "requestReceivedTimestamp": ts(t), "stageTimestamp": ts(tt)}
                if stage == "ResponseComplete":
                    e["requestObject"] = req
                    e["responseStatus"] = {"metadata": {}, "code": 201 if verb == "create" else 200}
                    e["responseObject"] = resp
                out.line(e)
print(f"{path}: {out.written / 1e6:.0f} MB, {objects} ConfigMaps, {n} requests, {2 * n} events")
