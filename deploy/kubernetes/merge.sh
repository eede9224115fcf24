#!/bin/sh
# The verdict (merge-job.yaml): waits for all CPEFLEET_SHARDS reports, then merges them exactly
# (histograms included) and judges the scenario's thresholds on the merged figures; its exit code
# is the run's. It never waits forever: a shard that failed (shard-N.failed, left by shard.sh)
# stops it at once, and after CPEFLEET_MERGE_TIMEOUT seconds it names the shards still missing
# (a pod lost with its node leaves no marker). Exit 1 then: the run failed.
set -u
dir=${CPEFLEET_REPORTS_DIR:-/reports}
n=${CPEFLEET_SHARDS:?the shard count, as in job.yaml}
timeout=${CPEFLEET_MERGE_TIMEOUT:?seconds to wait for the shards}
poll=${CPEFLEET_MERGE_POLL:-10}
deadline=$(($(date +%s) + timeout))

while :; do
  failed=""
  for f in "$dir"/shard-*.failed; do
    [ -e "$f" ] || continue
    failed=1
    echo "cpefleet-merge: $(basename "$f" .failed) failed: $(cat "$f")" >&2
  done
  if [ -n "$failed" ]; then
    echo "cpefleet-merge: no verdict: a shard failed (kubectl -n cpefleet describe job/cpefleet-shards)" >&2
    exit 1
  fi
  missing=""
  i=0
  while [ "$i" -lt "$n" ]; do
    [ -s "$dir/shard-$i.json" ] || missing="$missing shard-$i"
    i=$((i + 1))
  done
  [ -z "$missing" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "cpefleet-merge: no verdict: timed out after ${timeout}s waiting for $n shard reports; missing:$missing" >&2
    exit 1
  fi
  sleep "$poll"
done

i=0
set --
while [ "$i" -lt "$n" ]; do
  set -- "$@" "$dir/shard-$i.json"
  i=$((i + 1))
done
exec cpefleet report merge "$@" -o "$dir/merged.json" --junit "$dir/merged.junit.xml"
