//! Test environment: real etcd + kube-apiserver (see scripts/testenv).
