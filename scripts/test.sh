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

# The interop tier (tests/it/interop_genieacs.rs): a real GenieACS 1.2.16 from
# ../shared/genieacs-live when it is there, on a fresh database in a temporary state directory,
# on free ports of its own, stopped at exit. Without it the tier prints SKIPPED (and fails with
# CI=true while ../shared/genieacs-live exists). An outside GenieACS can be given instead with
# CPEFLEET_GENIEACS_CWMP / CPEFLEET_GENIEACS_NBI.
LIVE=../shared/genieacs-live
if [ -z "${CPEFLEET_GENIEACS_CWMP:-}" ] && [ -x "$LIVE/start.sh" ]; then
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  GENIEACS_STATE=$(mktemp -d /tmp/cpefleet-genieacs.XXXXXX)
  stop_genieacs() { STATE_DIR=$GENIEACS_STATE "$LIVE/stop.sh" >/dev/null; rm -rf "$GENIEACS_STATE"; }
  trap stop_genieacs EXIT
  db=$(free_port) cwmp=$(free_port) nbi=$(free_port) fs=$(free_port)
  # Downloads point at the file server on loopback.
  if "$LIVE/install.sh" && STATE_DIR=$GENIEACS_STATE DB_PORT=$db CWMP_PORT=$cwmp NBI_PORT=$nbi \
      FS_PORT=$fs FRESH=1 GENIEACS_FS_HOSTNAME=127.0.0.1 "$LIVE/start.sh"; then
    export CPEFLEET_GENIEACS_CWMP=http://127.0.0.1:$cwmp/ CPEFLEET_GENIEACS_NBI=http://127.0.0.1:$nbi/
    export CPEFLEET_GENIEACS_CONFIG=$(cd "$LIVE" && pwd)/config.sh CPEFLEET_GENIEACS_DB_PORT=$db
  else
    echo "scripts/test.sh: GenieACS from $LIVE could not be started: the interop tier will say SKIPPED" >&2
  fi
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked

# A bounded fuzz run: every fuzz target 10 s (about a minute), failing on any crash
# (fuzz/README.md; it installs cargo-fuzz when missing).
bash scripts/fuzz.sh 10
