# kubectl-capt: `make test` runs everything CI runs; `make demo` shows the tool on a local,
# real Kubernetes control plane (etcd + kube-apiserver from scripts/testenv).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo

.PHONY: all build test fmt-check clippy testenv-build testenv-up testenv-down demo demo-quick demo-upstream release cross-check check-platforms completions bench

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
	$(CARGO) test --all-targets --no-fail-fast

testenv-up: build
	CAPT_BIN=target/debug/kubectl-capt scripts/testenv up

testenv-down:
	scripts/testenv down

# The README's first command: a local control plane, three sample CAPT objects (one looping),
# and status, watch and reconcile on them (scripts/demo; --quick is the CI variant).
demo:
	scripts/demo

demo-quick:
	scripts/demo --quick

# The same tour with the real upstream CAPT controller (../shared/upstream-capt) instead of the
# generator, on the upstream CRDs.
demo-upstream:
	scripts/demo --upstream

# Release archives for every target into dist/, SHA256SUMS, and krew-manifest.yaml regenerated
# from them (docs/install.md).
release:
	@[[ -n "$(VERSION)" ]] || { echo "usage: make release VERSION=x.y.z" >&2; exit 2; }
	scripts/release "$(VERSION)"

# What CI builds of the non-Linux targets on every run: the cheapest one, x86_64-pc-windows-gnu
# (MinGW-w64 from Debian, dev profile), installed by scripts/release itself. The macOS graph is
# guarded by tests/distribution.rs (no crate that links a macOS framework). Cold: 360 CPU-seconds
# (/usr/bin/time make cross-check after make test; docs/install.md).
cross-check:
	scripts/release "$$(sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n1)" --check --targets x86_64-pc-windows-gnu

# Runs or inspects the archives in dist/ (wine, qemu, Mach-O headers, krew): docs/install.md.
check-platforms:
	scripts/check-platforms

# Regenerate the committed completion scripts from the CLI (tests/distribution.rs checks them).
completions: build
	target/debug/kubectl-capt completion bash > completions/kubectl-capt.bash
	target/debug/kubectl-capt completion zsh > completions/_kubectl-capt
	target/debug/kubectl-capt completion fish > completions/kubectl-capt.fish
	target/debug/kubectl-capt completion powershell > completions/_kubectl-capt.ps1

bench:
	$(CARGO) bench
