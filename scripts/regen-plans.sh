#!/usr/bin/env bash
# Regenerates plan fixtures with a real terraform binary, offline.
#
# A plan case is a directory holding:
#   tf/step1/*.tf   (optional) configuration applied first, to build the prior state
#   tf/config/*.tf  configuration that is planned against that state
#   tf/plan-flags   (optional) extra flags for `terraform plan` (e.g. -target=..., -destroy)
# and receives plan.json: `terraform show -json` of the saved plan, reshaped by shape_plan.py
# so that terraform_data resources look like the provider resources they stand for (type,
# attributes, tags), because real providers cannot be downloaded where fixtures are made.
#
# Usage: scripts/regen-plans.sh [CASE_DIR ...]   (default: every case under tests/fixtures/plans
#        and examples/)
# Needs: terraform (>= 1.4 for terraform_data), python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TF="${TERRAFORM:-terraform}"
command -v "$TF" >/dev/null || { echo "regen-plans: terraform not found" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
: > "$WORK/empty.tfrc"
export TF_CLI_CONFIG_FILE="$WORK/empty.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  while IFS= read -r d; do cases+=("$(dirname "$(dirname "$d")")"); done < <(
    find "$ROOT/tests/fixtures" "$ROOT/examples" -type d -path '*/tf/config' 2>/dev/null | sort)
fi

for case in "${cases[@]}"; do
  case="$(cd "$case" && pwd)"
  [ -d "$case/tf/config" ] || { echo "regen-plans: $case has no tf/config" >&2; exit 1; }
  echo "==> ${case#"$ROOT"/}" >&2
  dir="$WORK/$(echo "$case" | tr '/' '_')"
  mkdir -p "$dir"
  if [ -d "$case/tf/step1" ]; then
    cp "$case"/tf/step1/*.tf "$dir/"
    (cd "$dir" && "$TF" init -no-color >/dev/null && "$TF" apply -auto-approve -no-color >/dev/null)
    rm -f "$dir"/*.tf
  fi
  cp "$case"/tf/config/*.tf "$dir/"
  flags=""
  [ -f "$case/tf/plan-flags" ] && flags="$(cat "$case/tf/plan-flags")"
  # shellcheck disable=SC2086
  (cd "$dir" && "$TF" init -no-color >/dev/null && "$TF" plan -no-color -out=plan.tfplan $flags >/dev/null)
  (cd "$dir" && "$TF" show -json plan.tfplan) | python3 "$ROOT/scripts/shape_plan.py" > "$case/plan.json"
done
