#!/usr/bin/env bash
# Benchmark harness: generates plans of 1k..200k resources and times, in one run and side by side,
# `plangate check` (JSON output, every rule), the typed-serde baseline, a streaming parse, `cat`
# and jq doing the cross-environment rule. Prints a Markdown table: median wall time, peak RSS,
# MB/s and the ratio to the baseline.
#
#   bench/run.sh                     # 1000 10000 50000 200000 resources, 3 runs each
#   RUNS=5 bench/run.sh 10000 50000  # chosen sizes
#   bench/run.sh --render            # rendering 25k/50k/100k findings (text, json, markdown)
#   bench/run.sh --context           # the blast radius: a 50k plan and four 50k context states
#
# Environment: RUNS (3), JQ_RUNS (RUNS, 1 from 200k resources), BENCH_DIR (/tmp/plangate-bench),
# CARGO_TARGET_DIR, SKIP_JQ=1. Needs /usr/bin/time (apt-get install time) and jq.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH_DIR=${BENCH_DIR:-/tmp/plangate-bench}
RUNS=${RUNS:-3}
SHAPES=${SHAPES:-mixed}
mkdir -p "$BENCH_DIR"

(cd "$ROOT" && cargo build --quiet --release --bin plangate --example genplan --example gencontext --example baseline_parse)
PLANGATE=$TARGET/release/plangate
GENPLAN=$TARGET/release/examples/genplan
GENCONTEXT=$TARGET/release/examples/gencontext
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

# measure_rounds RUNS SPEC...: each SPEC is "NAME|RUNS_OF_IT|CMD ARGS" (words split on spaces).
# Runs round 1 of every tool, then round 2, ...; prints "NAME wall rss" (medians) per tool.
measure_rounds() {
  local runs=$1 round spec name n cmd
  shift
  declare -A walls=() rsss=()
  for ((round = 0; round < runs; round++)); do
    for spec in "$@"; do
      IFS='|' read -r name n cmd <<<"$spec"
      [ "$round" -lt "$n" ] || continue
      # shellcheck disable=SC2086
      run_timed $cmd
      walls[$name]+="$LAST_WALL"$'\n'
      rsss[$name]+="$LAST_RSS"$'\n'
    done
  done
  for spec in "$@"; do
    IFS='|' read -r name n cmd <<<"$spec"
    echo "$name $(printf '%s' "${walls[$name]}" | median) $(printf '%s' "${rsss[$name]}" | median)"
  done
}

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

# The genplan flags of a shape.
shape_flags() {
  case $1 in
    mixed) echo "" ;;
    half-destroy) echo "--mix no-op=30,create=8,update=12,delete=44,delete-create=3,create-delete=3 --data-percent 0" ;;
    mass-destroy) echo "--mix no-op=0,create=0,update=0,delete=1,delete-create=0,create-delete=0 --data-percent 0" ;;
    *)
      echo "bench: unknown shape $1 (mixed, half-destroy, mass-destroy)" >&2
      return 2
      ;;
  esac
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
  echo "| shape | resources | plan MB | tool | wall s (median) | peak RSS MB | RSS / file | MB/s | x baseline |"
  echo "|---|---:|---:|---|---:|---:|---:|---:|---:|"
}

row() { # shape n size_bytes name wall rss base_wall
  awk -v shape="$1" -v n="$2" -v size="$3" -v name="$4" -v wall="$5" -v rss="$6" -v base="$7" 'BEGIN {
    mb = size / 1048576; rmb = rss / 1024
    printf "| %s | %d | %.1f | %s | %.3f | %.0f | %.2f | %.0f | %.2f |\n", shape, n, mb, name, wall, rmb, rmb / mb, mb / wall, wall / base
  }'
}

bench_sizes() {
  table_header
  local shape flags
  for shape in $SHAPES; do
    flags=$(shape_flags "$shape")
    for n in "$@"; do
      local plan size jq_runs results base_wall specs
      plan=$(plan_for "$n" "$flags")
      size=$(stat -c %s "$plan")
      cat "$plan" >/dev/null # warm the page cache
      jq_runs=${JQ_RUNS:-$([ "$n" -ge 200000 ] && echo 1 || echo "$RUNS")}
      specs=(
        "baseline|$RUNS|$BASELINE $plan"
        "plangate|$RUNS|$PLANGATE check --plan $plan --env staging --format json"
        "stream-parse|$RUNS|$BASELINE --stream $plan"
        "cat|$RUNS|cat $plan"
      )
      if [ -z "${SKIP_JQ:-}" ]; then
        specs+=("jq|$jq_runs|jq -r --arg project_env staging -f $ROOT/bench/cross_env.jq $plan")
      fi
      results=$(cd "$BENCH_DIR" && measure_rounds "$RUNS" "${specs[@]}")
      base_wall=$(echo "$results" | awk '$1 == "baseline" {print $2}')
      while read -r name wall rss; do
        row "$shape" "$n" "$size" "$name" "$wall" "$rss" "$base_wall"
      done <<<"$results"
    done
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

# The cross-project pass (DESIGN 13): a plan of N resources deleting 6% of them (3,000 of 50k),
# checked alone and with four --context states of N resources each, 300 of whose resources name
# something the plan destroys; beside them, cat of the four states (reading their bytes once).
bench_context() {
  local n=${1:-50000} plan plan_size k file mapped results check with cat_all READ_ONCE
  local contexts=() files=()
  plan=$(plan_for "$n" "--mix no-op=80,create=6,update=8,delete=6,delete-create=0,create-delete=0")
  plan_size=$(stat -c %s "$plan")
  mapped=$plan_size
  for k in 1 2 3 4; do
    file=$BENCH_DIR/context-$n-$k.json
    if [ ! -s "$file" ]; then
      "$GENCONTEXT" --plan "$plan" --resources "$n" --project "$k" --dependents 300 --out "$file.tmp"
      mv "$file.tmp" "$file"
    fi
    contexts+=(--context "ctx-$k=$file")
    files+=("$file")
    mapped=$((mapped + $(stat -c %s "$file")))
  done
  cat "$plan" "${files[@]}" >/dev/null # warm the page cache
  # Reading the states' bytes once: cat into /dev/null, not into the harness's output file,
  # which would add writing them.
  READ_ONCE=$BENCH_DIR/read-once
  printf '#!/bin/sh\nexec cat "$@" >/dev/null\n' >"$READ_ONCE"
  chmod +x "$READ_ONCE"
  results=$(cd "$BENCH_DIR" && measure_rounds "$RUNS" \
    "check|$RUNS|$PLANGATE check --plan $plan --env staging --format json" \
    "check-context|$RUNS|$PLANGATE check --plan $plan --env staging --format json ${contexts[*]}" \
    "cat-contexts|$RUNS|$READ_ONCE ${files[*]}")
  (cd "$BENCH_DIR" && "$PLANGATE" check --plan "$plan" --env staging --format json "${contexts[@]}" >"$BENCH_DIR/context.json" || true)
  check=$(echo "$results" | awk '$1 == "check" {print $2}')
  cat_all=$(echo "$results" | awk '$1 == "cat-contexts" {print $2}')
  with=$(echo "$results" | awk '$1 == "check-context" {print $2}')
  echo "| run | wall s (median) | peak RSS MB | bytes mapped MB | RSS / mapped |"
  echo "|---|---:|---:|---:|---:|"
  while read -r name wall rss; do
    awk -v name="$name" -v wall="$wall" -v rss="$rss" -v mapped="$mapped" -v plan="$plan_size" 'BEGIN {
      m = (name == "check") ? plan : (name == "cat-contexts" ? mapped - plan : mapped)
      printf "| %s | %.3f | %.0f | %.0f | %.2f |\n", name, wall, rss / 1024, m / 1048576, rss / 1024 / (m / 1048576)
    }'
  done <<<"$results"
  awk -v c="$check" -v w="$with" -v r="$cat_all" 'BEGIN {
    printf "\ncheck-context / (check + cat-contexts) = %.2f\n", w / (c + r)
  }'
  echo "dependents-at-risk findings: $(jq '[.findings[] | select(.rule == "dependents-at-risk")] | length' "$BENCH_DIR/context.json" 2>/dev/null || echo "?")"
}

echo "plangate $("$PLANGATE" --version | awk '{print $2}'), $(nproc) cores, $(uname -sm), runs=$RUNS"
if [ "${1:-}" = "--render" ]; then
  bench_render
elif [ "${1:-}" = "--context" ]; then
  shift
  bench_context "$@"
else
  if [ $# -eq 0 ]; then set -- 1000 10000 50000 200000; fi
  bench_sizes "$@"
fi
