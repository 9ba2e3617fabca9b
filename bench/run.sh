#!/usr/bin/env bash
# Benchmark harness: generates plans of 1k..200k resources and times, in one run and side by side,
# `plangate check` (JSON output, every rule), the typed-serde baseline, a streaming parse, `cat`
# and jq doing the cross-environment rule. Prints a Markdown table: median wall time, peak RSS,
# MB/s and the ratio to the baseline.
#
#   bench/run.sh                     # 1000 10000 50000 200000 resources, 3 runs each
#   RUNS=5 bench/run.sh 10000 50000  # chosen sizes
#   bench/run.sh --render            # rendering 25k/50k/100k findings (text, json, markdown)
#
# Environment: RUNS (3), JQ_RUNS (RUNS, 1 from 200k resources), BENCH_DIR (/tmp/plangate-bench),
# CARGO_TARGET_DIR, SKIP_JQ=1. Needs /usr/bin/time (apt-get install time) and jq.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH_DIR=${BENCH_DIR:-/tmp/plangate-bench}
RUNS=${RUNS:-3}
mkdir -p "$BENCH_DIR"

(cd "$ROOT" && cargo build --quiet --release --bin plangate --example genplan --example baseline_parse)
PLANGATE=$TARGET/release/plangate
GENPLAN=$TARGET/release/examples/genplan
BASELINE=$TARGET/release/examples/baseline_parse
for tool in /usr/bin/time jq; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done

# run_timed OUT_VAR CMD...: runs once; sets LAST_WALL (s) and LAST_RSS (KiB). Exit codes 0 and 1
# are results (pass/block); anything else aborts the benchmark.
run_timed() {
  local start end rc
  start=$EPOCHREALTIME
  set +e
  /usr/bin/time -f '%M' -o "$BENCH_DIR/time.out" "$@" >"$BENCH_DIR/cmd.out" 2>"$BENCH_DIR/cmd.err"
  rc=$?
  set -e
  end=$EPOCHREALTIME
  if [ "$rc" -gt 1 ]; then
    echo "bench: '$*' exited $rc:" >&2
    tail -5 "$BENCH_DIR/cmd.err" >&2
    exit 2
  fi
  LAST_WALL=$(echo "$end - $start" | bc -l)
  LAST_RSS=$(tail -1 "$BENCH_DIR/time.out")
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME RUNS CMD...: prints "NAME wall rss" (medians)
measure() {
  local name=$1 runs=$2 walls="" rsss="" i
  shift 2
  for ((i = 0; i < runs; i++)); do
    run_timed "$@"
    walls+="$LAST_WALL"$'\n'
    rsss+="$LAST_RSS"$'\n'
  done
  echo "$name $(printf '%s' "$walls" | median) $(printf '%s' "$rsss" | median)"
}

plan_for() {
  local n=$1 extra=${2:-} file
  file=$BENCH_DIR/plan-$n${extra:+-${extra// /_}}.json
  if [ ! -s "$file" ]; then
    # shellcheck disable=SC2086
    "$GENPLAN" --resources "$n" --seed 42 --env staging $extra --out "$file.tmp"
    mv "$file.tmp" "$file"
  fi
  echo "$file"
}

table_header() {
  echo "| resources | plan MB | tool | wall s (median) | peak RSS MB | RSS / file | MB/s | x baseline |"
  echo "|---:|---:|---|---:|---:|---:|---:|---:|"
}

row() { # n size_bytes name wall rss base_wall
  awk -v n="$1" -v size="$2" -v name="$3" -v wall="$4" -v rss="$5" -v base="$6" 'BEGIN {
    mb = size / 1048576; rmb = rss / 1024
    printf "| %d | %.1f | %s | %.3f | %.0f | %.2f | %.0f | %.2f |\n", n, mb, name, wall, rmb, rmb / mb, mb / wall, wall / base
  }'
}

bench_sizes() {
  table_header
  for n in "$@"; do
    local plan size jq_runs results base_wall
    plan=$(plan_for "$n")
    size=$(stat -c %s "$plan")
    cat "$plan" >/dev/null # warm the page cache
    jq_runs=${JQ_RUNS:-$([ "$n" -ge 200000 ] && echo 1 || echo "$RUNS")}
    results=$(
      cd "$BENCH_DIR"
      measure baseline "$RUNS" "$BASELINE" "$plan"
      measure plangate "$RUNS" "$PLANGATE" check --plan "$plan" --env staging --format json
      measure stream-parse "$RUNS" "$BASELINE" --stream "$plan"
      measure cat "$RUNS" cat "$plan"
      if [ -z "${SKIP_JQ:-}" ]; then
        measure jq "$jq_runs" jq -r --arg project_env staging -f "$ROOT/bench/cross_env.jq" "$plan"
      fi
    )
    base_wall=$(echo "$results" | awk '$1 == "baseline" {print $2}')
    while read -r name wall rss; do
      row "$n" "$size" "$name" "$wall" "$rss" "$base_wall"
    done <<<"$results"
  done
}

bench_render() {
  echo "| findings | format | wall s (median) | peak RSS MB | output MB |"
  echo "|---:|---|---:|---:|---:|"
  for n in 25000 50000 100000; do
    local plan
    plan=$(plan_for "$n" "--mix delete=1,no-op=0,create=0,update=0,delete-create=0,create-delete=0 --foreign-env-percent 100 --data-percent 0")
    for format in text json markdown; do
      local result findings
      result=$(cd "$BENCH_DIR" && measure "$format" "$RUNS" "$PLANGATE" check --plan "$plan" --env staging --format "$format")
      findings=$(cd "$BENCH_DIR" && "$PLANGATE" check --plan "$plan" --env staging --format json | jq '.findings | length' || true)
      (cd "$BENCH_DIR" && "$PLANGATE" check --plan "$plan" --env staging --format "$format" >"$BENCH_DIR/render.out" || true)
      echo "$result" | awk -v f="$findings" -v out="$(stat -c %s "$BENCH_DIR/render.out")" \
        '{printf "| %d | %s | %.3f | %.0f | %.1f |\n", f, $1, $2, $3 / 1024, out / 1048576}'
    done
  done
}

echo "plangate $("$PLANGATE" --version | awk '{print $2}'), $(nproc) cores, $(uname -sm), runs=$RUNS"
if [ "${1:-}" = "--render" ]; then
  bench_render
else
  if [ $# -eq 0 ]; then set -- 1000 10000 50000 200000; fi
  bench_sizes "$@"
fi
