#!/usr/bin/env bash
# The one test command (README and .ci/run both call it). It installs what the tests need on a
# fresh Debian machine, then runs the same checks CI runs: format, lints, every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v xmllint >/dev/null || need_apt+=(libxml2-utils)       # tests/data/bbf/validate-cwmp
{ command -v prometheus && command -v promtool; } >/dev/null || need_apt+=(prometheus)  # tests/it/metrics_prometheus.rs
command -v chromium >/dev/null || need_apt+=(chromium)              # tests/it/report_html.rs
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "scripts/test.sh: please install: ${need_apt[*]}" >&2
    exit 2
  fi
fi

# Kubernetes manifest validation, offline (the schemas ship inside the PyPI package).
if ! command -v kubernetes-validate >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked

# A bounded fuzz run: every fuzz target 10 s (about a minute), failing on any crash
# (fuzz/README.md; it installs cargo-fuzz when missing).
bash scripts/fuzz.sh 10
