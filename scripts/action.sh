#!/usr/bin/env bash
# The logic of action.yml: run plangate on the workflow's plans, annotate findings, write the
# job summary and the step outputs, and decide whether the step fails. Runnable on its own
# (tests/action.rs runs it with a fake event, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY).
#
# Inputs (environment):
#   PLANGATE_BIN     the plangate binary (default: plangate in PATH)
#   INPUT_PLANS      plan JSON files (terraform show -json), PATH or PROJECT=PATH, separated by
#                    whitespace or newlines
#   INPUT_ATLANTIS   atlantis.yaml path (optional)
#   INPUT_POLICY     policy file path (optional)
#   INPUT_COMMENT    true|false: post/update the pull-request comment (needs GITHUB_TOKEN)
#   INPUT_FAIL_ON    block (default) | warn | never: which verdict fails the step. Input plangate
#                    cannot read fails the step whatever this says.
#   INPUT_ARGS       extra arguments for `plangate check` (optional, whitespace separated)
# GitHub's: GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_REPOSITORY, RUNNER_TEMP.
set -uo pipefail
set -f # plan paths are taken literally, never globbed

bin="${PLANGATE_BIN:-plangate}"
fail_on="${INPUT_FAIL_ON:-block}"

# Workflow-command escaping: data escapes % CR LF; properties also : and ,.
escape_data() {
  local s="$1"
  s="${s//'%'/%25}"
  s="${s//$'\r'/%0D}"
  s="${s//$'\n'/%0A}"
  printf '%s' "$s"
}

set_output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"
  fi
}

summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat >> "$GITHUB_STEP_SUMMARY"
  else
    cat > /dev/null
  fi
}

case "$fail_on" in
  block | warn | never) ;;
  *)
    echo "::error title=plangate::$(escape_data "fail-on must be block, warn or never, not: $fail_on")"
    exit 2
    ;;
esac

work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/plangate.XXXXXX")"
report_json="$work/report.json"
report_summary="$work/summary"
outputs="$work/outputs"
errors="$work/stderr"

# The pull request and its head commit, read by plangate itself (no jq needed).
pr_number=""
head_sha=""
if [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ]; then
  while IFS='=' read -r key value; do
    case "$key" in
      pr_number) pr_number="$value" ;;
      head_sha) head_sha="$value" ;;
    esac
  done < <("$bin" github-event "$GITHUB_EVENT_PATH" 2> /dev/null)
fi
set_output pr-number "$pr_number"
set_output head-sha "$head_sha"

help="$("$bin" check --help 2> /dev/null)"
supports() { grep -q -e "$1" <<< "$help"; }

args=(check --format github-annotations --output "json=$report_json" --github-output "$outputs")
for plan in ${INPUT_PLANS:-}; do
  args+=(--plan "$plan")
done
[ -n "${INPUT_ATLANTIS:-}" ] && args+=(--atlantis "$INPUT_ATLANTIS")
[ -n "${INPUT_POLICY:-}" ] && args+=(--policy "$INPUT_POLICY")

# The Markdown report and the pull-request comment come with plangate's comment support; an
# older binary gets a plain-text summary and no comment.
markdown=false
if supports 'markdown'; then
  markdown=true
  args+=(--output "markdown=$report_summary")
else
  args+=(--output "text=$report_summary")
fi
if supports '--comment'; then
  if [ "${INPUT_COMMENT:-true}" = "true" ]; then
    args+=(--comment github)
    [ -n "${GITHUB_REPOSITORY:-}" ] && supports '--repo' && args+=(--repo "$GITHUB_REPOSITORY")
    [ -n "$pr_number" ] && supports '--pr' && args+=(--pr "$pr_number")
  else
    args+=(--comment off)
  fi
elif [ "${INPUT_COMMENT:-true}" = "true" ] && [ -n "$pr_number" ]; then
  echo "::notice title=plangate::this plangate version cannot comment on pull requests; the report is in the job summary"
fi
# shellcheck disable=SC2206 # extra arguments are whitespace separated on purpose
[ -n "${INPUT_ARGS:-}" ] && args+=(${INPUT_ARGS})

# Annotations go straight to the log, where the runner turns them into ::error/::warning.
"$bin" "${args[@]}" 2> "$errors"
code=$?
cat "$errors" >&2

verdict=error
blocked=true
approved=false
if [ -f "$outputs" ]; then
  while IFS='=' read -r key value; do
    case "$key" in
      verdict) verdict="$value" ;;
      blocked) blocked="$value" ;;
      approved) approved="$value" ;;
    esac
  done < "$outputs"
fi
if [ "$code" -ge 2 ]; then
  verdict=error
  blocked=true
fi
set_output verdict "$verdict"
set_output blocked "$blocked"
set_output approved "$approved"
if [ -f "$report_json" ]; then
  set_output report-path "$report_json"
else
  set_output report-path ""
fi

if [ "$code" -ge 2 ]; then
  reason="$(grep -v '^[[:space:]]*$' "$errors" | head -n 5)"
  echo "::error title=plangate could not evaluate::$(escape_data "${reason:-plangate exited with code $code}")"
  {
    echo "### plangate could not evaluate"
    echo
    echo '```'
    printf '%s\n' "${reason:-plangate exited with code $code}"
    echo '```'
  } | summary
  exit 2
fi

if [ -f "$report_summary" ]; then
  if [ "$markdown" = true ]; then
    summary < "$report_summary"
  else
    { echo "### plangate: $verdict"; echo; echo '```'; cat "$report_summary"; echo '```'; } | summary
  fi
fi

case "$fail_on:$verdict" in
  block:block | warn:block | warn:warn) exit 1 ;;
  *) exit 0 ;;
esac
