#!/usr/bin/env bash
# Install act (github.com/nektos/act), the local GitHub Actions runner that tests/e2e/act runs
# the Action with, into $PLANGATE_CACHE/bin (default ~/.cache/plangate/bin) with `go install`
# of a pinned version, and print the binary's path.
#
# Idempotent: an act that Go records as built from the pinned module version and hash is kept.
# Exit codes: 0 installed (or already there); 3 Go is missing or `go install` failed (the
# module, the version and Go's error are printed), so callers can skip with a note; 1 the
# binary built is not from the pinned module hash.
#
# Environment: PLANGATE_CACHE, GOTOOLCHAIN (passed to go; act v0.2.89 needs Go 1.25 or newer).
set -euo pipefail

module="github.com/nektos/act"
version="v0.2.89"
# go.sum's hash of the module zip of v0.2.89, as `go version -m` records it.
module_sum="h1:d9oFeJ6jUkaVExuG+XzAaMPDqoDrNHaGeiRb8IU+N5w="
cache="${PLANGATE_CACHE:-$HOME/.cache/plangate}"
bin="$cache/bin"
want="$module $version $module_sum"

if ! command -v go > /dev/null; then
  echo "install-act: go is not installed, so $module@$version cannot be installed" >&2
  exit 3
fi

built_from() {
  go version -m "$bin/act" 2> /dev/null | awk '$1 == "mod" { print $2, $3, $4; exit }'
}

if [ -x "$bin/act" ] && [ "$(built_from)" = "$want" ]; then
  echo "$bin/act"
  exit 0
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
got="$(built_from)"
if [ "$got" != "$want" ]; then
  echo "install-act: $bin/act is built from '$got', not the pinned '$want'" >&2
  exit 1
fi
echo "$bin/act"
