#!/bin/sh
# One shard of the run (job.yaml runs it as `sh /scripts/shard.sh <cpefleet run flags>`).
#
# Its report is written under a temporary name and renamed once complete, so the merge Job never
# reads half a file. A shard that ends without a report leaves shard-N.failed (its exit code) so
# the merge Job stops with that message instead of waiting. Thresholds failing on one shard's
# slice (exit 3) are not a failure of the shard: the merge judges them on the whole fleet, and a
# failed pod would make the Job stop the other shards.
set -u
dir=${CPEFLEET_REPORTS_DIR:-/reports}
i=${JOB_COMPLETION_INDEX:?set by the Indexed Job}
part="$dir/.shard-$i.json.part"
rm -f "$dir/shard-$i.failed" "$part"

cpefleet run "${CPEFLEET_SCENARIO:-/config/scenario.yaml}" --shard-from-env --report-json "$part" "$@" &
pid=$!
# The shell is PID 1: pass a stop on to cpefleet, which then writes its partial report.
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
wait "$pid"
rc=$?
if kill -0 "$pid" 2>/dev/null; then
  wait "$pid"
  rc=$?
fi

if [ -s "$part" ]; then
  mv "$part" "$dir/shard-$i.json"
  [ "$rc" -eq 3 ] && rc=0
else
  echo "exit code $rc and no report (kubectl -n cpefleet logs of the shard pod with index $i)" >"$dir/shard-$i.failed"
  [ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
