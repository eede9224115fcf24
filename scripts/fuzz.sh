#!/usr/bin/env bash
# Coverage-guided fuzzing (fuzz/README.md): builds the fuzz targets with cargo-fuzz (libFuzzer)
# on the stable toolchain, seeds their corpora (fuzz/seeds.py) and runs each target for
# SECONDS (default 10: about a minute for the six), failing on any crash, panic, timeout or
# out-of-memory. FUZZ_RUNS caps the executions per target (libFuzzer -runs); FUZZ_MAX_LEN
# caps an input's bytes (libFuzzer -max_len, default 262144).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   FUZZ_RUNS=10000000 nice -n 19 scripts/fuzz.sh 3600 decode_acs     # a long run
#   FUZZ_RUNS=10000000 FUZZ_MAX_LEN=8192 nice -n 19 scripts/fuzz.sh 7200 template_load
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-10}
[ $# -gt 0 ] && shift
case "$secs" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$secs'" >&2; exit 2 ;; esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode_acs decode_cpe device_rpc acs_session scenario_load template_load)

# cargo-fuzz drives rustc with -Z flags (sanitizer coverage); stable rustc accepts them under
# RUSTC_BOOTSTRAP=1, the documented switch for building nightly features on a stable compiler.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
# Its own build directory: the fuzz build uses other rustc flags than the main one.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then export CARGO_TARGET_DIR=$CARGO_TARGET_DIR/fuzz; fi
cd fuzz
# -s none: the code is #![forbid(unsafe_code)], so AddressSanitizer would only slow the search
# (about 2x); -a keeps debug assertions and overflow checks, so an arithmetic overflow is a crash.
build=(-s none -O -a)
cargo fuzz build "${build[@]}"
python3 seeds.py >/dev/null

status=0
for t in "${targets[@]}"; do
  dict=()
  case "$t" in
    decode_* | device_rpc | acs_session) dict=(-dict=cwmp.dict) ;;
    *_load) dict=(-dict=yaml.dict) ;;
  esac
  mkdir -p "artifacts/$t" "corpus/$t"
  log="artifacts/$t/last-run.log"
  if cargo fuzz run "${build[@]}" "$t" "corpus/$t" -- \
      -max_total_time="$secs" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -timeout=10 -rss_limit_mb=2048 \
      -max_len="${FUZZ_MAX_LEN:-262144}" -print_final_stats=1 "${dict[@]}" -artifact_prefix="artifacts/$t/" \
      >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
    echo "fuzz $t: ok, ${runs:-?} executions, $cov (${secs}s)"
  else
    status=1
    echo "fuzz $t: FAILED — see fuzz/$log and the input saved in fuzz/artifacts/$t/" >&2
    grep -E '^(thread|==[0-9]+== ERROR|SUMMARY)' "$log" | head -5 >&2 || true
  fi
done
exit $status
