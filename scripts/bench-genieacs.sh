#!/usr/bin/env bash
# BENCHMARKS.md §6: sessions/s a real GenieACS takes with cpefleet driving it to saturation, and
# cpefleet's share of one core meanwhile (utime+stime of its process over the run's wall time).
#
#   scripts/bench-genieacs.sh [RUNS] [CWMP_URL]      # defaults: 3, http://127.0.0.1:7547/
#
# Start GenieACS first, e.g. FRESH=1 GENIEACS_FS_HOSTNAME=127.0.0.1 ../shared/genieacs-live/start.sh;
# each run uses fresh serials (the seed changes), so every session is a device's first.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
acs=${2:-http://127.0.0.1:7547/}
bin=target/release/cpefleet
[ -x "$bin" ] || cargo build --release --locked
hz=$(getconf CLK_TCK)
out=$(mktemp -d)
printf '%-4s %12s %8s %8s %10s %8s\n' run sessions/s failed cpu_s wall_s core
for i in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  "$bin" run benches/scenarios/genieacs-saturation.yaml --acs "$acs" --seed "$((RANDOM * 1000 + i))" \
    --quiet --report-json "$out/r$i.json" >"$out/r$i.log" 2>&1 &
  pid=$!
  ticks=0
  while kill -0 "$pid" 2>/dev/null; do
    t=$(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null || true)
    [ -n "$t" ] && ticks=$t
    sleep 0.2
  done
  wait "$pid" || true
  wall=$(( $(date +%s%N) - start ))
  python3 - "$out/r$i.json" "$ticks" "$hz" "$wall" "$i" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ticks, hz, wall, i = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) / 1e9, sys.argv[5]
s = r["sessions"]
secs = r.get("duration_s") or r.get("elapsed_s") or wall
cpu = ticks / hz
print(f"{i:<4} {s['succeeded'] / secs:12.1f} {s['failed']:8d} {cpu:8.2f} {wall:10.1f} {100 * cpu / wall:7.1f}%")
PY
done
echo "reports: $out"
