#!/usr/bin/env bash
# Regenerates plan fixtures with real terraform / tofu binaries, offline.
#
# A plan case is a directory holding:
#   tf/step1/*.tf   (optional) configuration applied first, to build the prior state
#   tf/taint        (optional) resource addresses, one a line, tainted after step1
#   tf/config/*.tf  configuration that is planned against that state (subdirectories are
#                   local modules)
#   tf/plan-flags   (optional) extra flags for `plan` (e.g. -target=..., -destroy)
#   tf/binary       (optional) which binary plans it: `terraform` (the default), `tofu`, or
#                   `terraform >= 1.16` (a newer terraform than the one on PATH)
#   tf/providers    (optional) `simple`: the case also needs the test provider of the OpenTofu
#                   module (scripts/build-tofu.sh builds it), installed with -plugin-dir
#   tf/raw          (optional) marker: keep the plan exactly as the binary wrote it
# and receives plan.json: `show -json` of the saved plan, reshaped by shape_plan.py (unless
# tf/raw) so that terraform_data resources look like the provider resources they stand for
# (type, attributes, tags), because real providers cannot be downloaded where fixtures are made.
#
# Binaries: terraform is $TERRAFORM, else `terraform` on PATH (1.11 makes the Part I fixtures);
# tofu is $TOFU, else ${PLANGATE_CACHE:-$HOME/.cache/plangate}/bin/tofu (scripts/build-tofu.sh);
# `terraform >= X` is $TERRAFORM_NEW, else the cache's bin/terraform, when it reports version X
# or newer. A case whose binary or provider is absent is skipped with a note and keeps its
# plan.json (some of those were written by hand from the binary's source: see their SOURCE.md).
#
# Usage: scripts/regen-plans.sh [CASE_DIR ...]   (default: every case under tests/fixtures
#        and examples/)
# Needs: terraform (>= 1.4 for terraform_data), python3; tofu for the OpenTofu cases.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PLANGATE_CACHE:-$HOME/.cache/plangate}"
TF="${TERRAFORM:-terraform}"
TOFU_BIN="${TOFU:-$CACHE/bin/tofu}"
TF_NEW="${TERRAFORM_NEW:-$CACHE/bin/terraform}"
PLUGINS="$CACHE/tofu-plugins"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
: > "$WORK/empty.tfrc"
export TF_CLI_CONFIG_FILE="$WORK/empty.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

# The version a terraform or tofu binary reports, or nothing.
version_of() {
  command -v "$1" >/dev/null 2>&1 || return 0
  "$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -n1
}

# True when version $1 is at least $2.
at_least() {
  [ "$(printf '%s\n%s\n' "$2" "${1%%-*}" | sort -V | head -n1)" = "$2" ]
}

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  while IFS= read -r d; do cases+=("$(dirname "$(dirname "$d")")"); done < <(
    find "$ROOT/tests/fixtures" "$ROOT/examples" -type d -path '*/tf/config' 2>/dev/null | sort)
fi

skipped=0
for case in "${cases[@]}"; do
  case="$(cd "$case" && pwd)"
  name="${case#"$ROOT"/}"
  [ -d "$case/tf/config" ] || { echo "regen-plans: $case has no tf/config" >&2; exit 1; }

  want="terraform"
  [ -f "$case/tf/binary" ] && want="$(tr -s ' \n' ' ' < "$case/tf/binary" | sed 's/ *$//')"
  case "$want" in
    terraform)
      bin="$TF"
      command -v "$bin" >/dev/null || { echo "regen-plans: terraform not found" >&2; exit 1; } ;;
    tofu)
      bin="$TOFU_BIN"
      if [ -z "$(version_of "$bin")" ]; then
        echo "skipped: $name: no tofu at $bin (run scripts/build-tofu.sh, or set TOFU)" >&2
        skipped=$((skipped + 1)); continue
      fi ;;
    "terraform >= "*)
      min="${want#terraform >= }"
      bin="$TF_NEW"
      have="$(version_of "$bin")"
      if [ -z "$have" ] || ! at_least "$have" "$min"; then
        found="none at $bin"
        [ -n "$have" ] && found="$bin is $have"
        echo "skipped: $name: needs terraform >= $min, $found (set TERRAFORM_NEW); plan.json kept" >&2
        skipped=$((skipped + 1)); continue
      fi ;;
    *) echo "regen-plans: $case/tf/binary: unknown binary '$want'" >&2; exit 1 ;;
  esac

  init=(init -no-color)
  if [ -f "$case/tf/providers" ]; then
    missing=""
    while IFS= read -r p; do
      [ -z "$p" ] || [ -d "$PLUGINS/registry.opentofu.org/hashicorp/$p" ] || missing="$missing $p"
    done < "$case/tf/providers"
    if [ -n "$missing" ]; then
      echo "skipped: $name: provider(s)$missing not built under $PLUGINS (run scripts/build-tofu.sh)" >&2
      skipped=$((skipped + 1)); continue
    fi
    init+=("-plugin-dir=$PLUGINS")
  fi

  echo "==> $name ($("$bin" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -n1) via $(basename "$bin"))" >&2
  dir="$WORK/$(echo "$case" | tr '/' '_')"
  mkdir -p "$dir"
  if [ -d "$case/tf/step1" ]; then
    cp -R "$case"/tf/step1/. "$dir/"
    (cd "$dir" && "$bin" "${init[@]}" >/dev/null && "$bin" apply -auto-approve -no-color >/dev/null)
    # Keep only the state (and the init data); the planned configuration replaces the rest.
    find "$dir" -mindepth 1 -maxdepth 1 ! -name 'terraform.tfstate*' ! -name '.terraform*' -exec rm -rf {} +
  fi
  if [ -f "$case/tf/taint" ]; then
    while IFS= read -r addr; do
      [ -n "$addr" ] && (cd "$dir" && "$bin" taint -no-color "$addr" >/dev/null)
    done < "$case/tf/taint"
  fi
  cp -R "$case"/tf/config/. "$dir/"
  flags=""
  [ -f "$case/tf/plan-flags" ] && flags="$(cat "$case/tf/plan-flags")"
  # shellcheck disable=SC2086
  (cd "$dir" && "$bin" "${init[@]}" >/dev/null && "$bin" plan -no-color -out=plan.tfplan $flags >/dev/null)
  if [ -f "$case/tf/raw" ]; then
    (cd "$dir" && "$bin" show -json plan.tfplan) | python3 -c \
      'import json,sys; json.dump(json.load(sys.stdin), sys.stdout, indent=1, sort_keys=True); print()' > "$case/plan.json"
  else
    (cd "$dir" && "$bin" show -json plan.tfplan) | python3 "$ROOT/scripts/shape_plan.py" > "$case/plan.json"
  fi
done
[ "$skipped" -eq 0 ] || echo "regen-plans: $skipped case(s) skipped (see the notes above)" >&2
