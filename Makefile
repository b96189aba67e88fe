# kubectl-capt: `make test` runs everything CI runs; `make demo` shows the tool on a local,
# real Kubernetes control plane (etcd + kube-apiserver from scripts/testenv).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo

.PHONY: all build test fmt-check clippy testenv-build testenv-up testenv-down demo bench

all: build

build:
	$(CARGO) build --bin kubectl-capt

fmt-check:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

# The Kubernetes binaries (cached outside the repo; minutes the first time, instant after).
testenv-build:
	scripts/testenv build

# e2e tests run the legacy loop generator (examples/legacy_loop.rs) as a real process; cargo test
# does not put example binaries in target/debug/examples, so build them first.
test: fmt-check clippy testenv-build
	$(CARGO) build --examples
	$(CARGO) test --all-targets

testenv-up: build
	CAPT_BIN=target/debug/kubectl-capt scripts/testenv up

testenv-down:
	scripts/testenv down

demo: build testenv-build
	@state="$${TMPDIR:-/tmp}/kubectl-capt-demo"; \
	trap 'scripts/testenv down --state-dir "$$state" >/dev/null 2>&1' EXIT; \
	eval "$$(CAPT_BIN=target/debug/kubectl-capt scripts/testenv up --state-dir "$$state")"; \
	echo "# sample CAPT objects from tests/fixtures/demo.yaml"; \
	"$$KUBECTL" apply -f tests/fixtures/demo.yaml; \
	echo; echo "$$ kubectl capt version"; \
	target/debug/kubectl-capt version; \
	echo; echo "$$ kubectl get captcontrolplanes,clusters -A"; \
	"$$KUBECTL" get captcontrolplanes,clusters -A

bench:
	$(CARGO) bench
