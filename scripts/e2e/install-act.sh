#!/usr/bin/env bash
# Install act (github.com/nektos/act), the local GitHub Actions runner that tests/e2e/act runs
# the Action with, into $PLANGATE_CACHE/bin (default ~/.cache/plangate/bin) with `go install`
# of a pinned version. Idempotent: an act of the pinned version already there is kept.
# Prints the path of the binary. Exit 3 when Go is missing or the module cannot be had (the
# module, the version and Go's error are printed), so that callers can skip with a note.
#
# Environment: PLANGATE_CACHE, ACT_VERSION (default below), GOTOOLCHAIN (passed to go; act
# needs Go 1.25 or newer).
set -euo pipefail

module="github.com/nektos/act"
version="${ACT_VERSION:-v0.2.89}"
cache="${PLANGATE_CACHE:-$HOME/.cache/plangate}"
bin="$cache/bin"
stamp="$bin/act.version"

if [ -x "$bin/act" ] && [ "$(cat "$stamp" 2> /dev/null || true)" = "$module@$version" ]; then
  echo "$bin/act"
  exit 0
fi

if ! command -v go > /dev/null; then
  echo "install-act: go is not installed, so $module@$version cannot be installed" >&2
  exit 3
fi

mkdir -p "$bin"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# -buildvcs=false: there is no VCS checkout to stamp, only the module cache.
if ! GOBIN="$bin" GOFLAGS=-buildvcs=false go install "$module@$version" > "$log" 2>&1; then
  echo "install-act: go install $module@$version failed:" >&2
  cat "$log" >&2
  exit 3
fi
printf '%s\n' "$module@$version" > "$stamp"
echo "$bin/act"
