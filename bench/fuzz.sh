#!/usr/bin/env bash
# Bounded fuzzing of plangate's readers with cargo-fuzz (libFuzzer; needs a nightly toolchain
# and `cargo install cargo-fuzz`). Not part of CI's default path.
#
#   bench/fuzz.sh                    # plan, policy and atlantis targets, 60 s each
#   FUZZ_SECONDS=300 bench/fuzz.sh plan
#
# Seeds: the plans and atlantis files of the shared corpus (../shared/corpus), the built-in
# policy, and every input kept in tests/regressions/. A crash stops the target and leaves its
# input in fuzz/artifacts/<target>/: copy it to tests/regressions/<target>/ (tests/regressions.rs
# then keeps it fixed) and fix the reader.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${PLANGATE_SHARED:-$ROOT/../shared}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
if [ $# -eq 0 ]; then set -- plan policy atlantis; fi

seed() { # target, then source files/dirs
  local target=$1 dir=$ROOT/fuzz/seeds/$1
  shift
  rm -rf "$dir"
  mkdir -p "$dir" "$ROOT/fuzz/corpus/$target"
  for src in "$@"; do
    [ -e "$src" ] || continue
    find "$src" -type f -size -1024k | while read -r f; do
      cp "$f" "$dir/$(sha1sum "$f" | cut -c1-16)"
    done
  done
}

cd "$ROOT/fuzz"
status=0
for target in "$@"; do
  case $target in
    plan)
      seed plan "$SHARED/corpus/plans" "$ROOT/tests/fixtures" "$ROOT/tests/regressions/plan" "$ROOT/examples"
      dict=plan.dict ;;
    policy)
      seed policy "$ROOT/policies" "$ROOT/tests/regressions/policy"
      dict=yaml.dict ;;
    atlantis)
      seed atlantis "$SHARED/corpus/atlantis" "$ROOT/tests/regressions/atlantis"
      dict=yaml.dict ;;
    *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
  esac
  echo "== $target: ${SECONDS_EACH}s, $(ls "seeds/$target" | wc -l) seeds"
  if ! cargo "+$TOOLCHAIN" fuzz run "$target" "corpus/$target" "seeds/$target" -- \
      -dict="$dict" -max_total_time="$SECONDS_EACH" -max_len=262144 -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1; then
    echo "fuzz: $target found a failure: see fuzz/artifacts/$target/" >&2
    status=1
  fi
done
exit $status
