#!/usr/bin/env bash
# The one test command (README and .ci/run both call it). It installs what the tests need on a
# fresh Debian machine, then runs the same checks CI runs: format, lints, every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v xmllint >/dev/null || need_apt+=(libxml2-utils)       # tests/data/bbf/validate-cwmp
{ command -v prometheus && command -v promtool; } >/dev/null || need_apt+=(prometheus)  # tests/it/metrics_prometheus.rs
command -v chromium >/dev/null || need_apt+=(chromium)              # tests/it/report_html.rs
command -v prosody >/dev/null || need_apt+=(prosody)                # tests/it/xmpp_prosody.rs, interop_genieacs.rs (XMPP)
command -v kubectl >/dev/null || need_apt+=(kubernetes-client)     # tests/it/deploy.rs (kubectl kustomize)
command -v turnserver >/dev/null || need_apt+=(coturn)             # tests/it/udp_cr.rs (real STUN server)
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
# CPEFLEET_GENIEACS_CWMP / CPEFLEET_GENIEACS_NBI. GenieACS sends its UDP connection requests
# (TR-069 Annex G; tests/it/interop_genieacs_udp.rs) from a free UDP port of its own.
LIVE=../shared/genieacs-live
if [ -z "${CPEFLEET_GENIEACS_CWMP:-}" ] && [ -x "$LIVE/start.sh" ]; then
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  free_udp_port() { python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'; }
  GENIEACS_STATE=$(mktemp -d /tmp/cpefleet-genieacs.XXXXXX)
  stop_genieacs() { STATE_DIR=$GENIEACS_STATE "$LIVE/stop.sh" >/dev/null; rm -rf "$GENIEACS_STATE"; }
  trap stop_genieacs EXIT
  db=$(free_port) cwmp=$(free_port) nbi=$(free_port) fs=$(free_port) udp=$(free_udp_port)
  # Downloads point at the file server on loopback. XMPP connection requests (TR-069 Annex K)
  # go through the Prosody that tests/it/interop_genieacs.rs starts on localhost:5222 (GenieACS
  # connects to port 5222 of its JID's domain, on the first XMPP connection request).
  xmpp_password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  if "$LIVE/install.sh" && STATE_DIR=$GENIEACS_STATE DB_PORT=$db CWMP_PORT=$cwmp NBI_PORT=$nbi \
      FS_PORT=$fs FRESH=1 GENIEACS_FS_HOSTNAME=127.0.0.1 GENIEACS_UDP_CONNECTION_REQUEST_PORT=$udp \
      GENIEACS_XMPP_JID=acs@localhost GENIEACS_XMPP_PASSWORD=$xmpp_password "$LIVE/start.sh"; then
    export CPEFLEET_GENIEACS_CWMP=http://127.0.0.1:$cwmp/ CPEFLEET_GENIEACS_NBI=http://127.0.0.1:$nbi/
    export CPEFLEET_GENIEACS_CONFIG=$(cd "$LIVE" && pwd)/config.sh CPEFLEET_GENIEACS_DB_PORT=$db
    export CPEFLEET_GENIEACS_UDP_CR_PORT=$udp
    export CPEFLEET_GENIEACS_XMPP_JID=acs@localhost CPEFLEET_GENIEACS_XMPP_PASSWORD=$xmpp_password
  else
    echo "scripts/test.sh: GenieACS from $LIVE could not be started: the interop tier will say SKIPPED" >&2
  fi
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
# Every loud skip is listed again after the run (the harness's own output buries it).
export CPEFLEET_SKIP_LOG
CPEFLEET_SKIP_LOG=$(mktemp /tmp/cpefleet-skips.XXXXXX)
list_skips() {
  if [ -s "$CPEFLEET_SKIP_LOG" ]; then
    echo "scripts/test.sh: $(wc -l <"$CPEFLEET_SKIP_LOG") test(s) skipped:" >&2
    sort -u "$CPEFLEET_SKIP_LOG" >&2
  fi
  rm -f "$CPEFLEET_SKIP_LOG"
}
test_rc=0
cargo test --all-targets --locked || test_rc=$?
list_skips
[ "$test_rc" = 0 ] || exit "$test_rc"

# A bounded fuzz run: every fuzz target 10 s (about a minute), failing on any crash
# (fuzz/README.md; it installs cargo-fuzz when missing).
bash scripts/fuzz.sh 10
