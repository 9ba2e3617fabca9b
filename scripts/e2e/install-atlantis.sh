#!/usr/bin/env bash
# Installs the pinned Atlantis release from the Go module proxy into $PLANGATE_CACHE/bin and
# prints the binary's path. Used by the end-to-end test (tests/e2e/atlantis/).
#
#   scripts/e2e/install-atlantis.sh            # prints e.g. /root/.cache/plangate/bin/atlantis
#
# Idempotent: a binary already there that was built from the pinned module version is kept.
# Exit codes: 0 installed (or already there), 2 no Go toolchain, 3 the download was refused
# (the module, version and the error are printed), 1 anything else (a build failure, or a
# module whose checksum is not the pinned one).
set -euo pipefail

module="github.com/runatlantis/atlantis"
version="v0.36.0"
# The module's go.sum hash (h1:, over the module zip) of v0.36.0 and the tag's commit.
# Pinned here because the checksum database is not always reachable from where this runs:
# the main module is then exempted from the lookup (GONOSUMDB) and checked against this value
# instead; its dependencies are checked against its own go.sum as usual.
module_sum="h1:Y4xSzT5qpRTWMHVvyOazT+h3zH1faRkgqi8cXDFmtYg="
commit="7f1ed4a0d50429308ba3f5ba9b98f058c1181aad"

cache="${PLANGATE_CACHE:-$HOME/.cache/plangate}"
bin_dir="$cache/bin"
binary="$bin_dir/atlantis"

if ! command -v go >/dev/null 2>&1; then
  echo "install-atlantis: no 'go' on PATH; cannot install $module@$version" >&2
  exit 2
fi

stamp="$bin_dir/atlantis.module"
want="$module@$version $module_sum"

# What the binary was built from: Go's own record (`go version -m`) when it was installed as
# MODULE@VERSION, else the stamp this script writes when it builds the downloaded module.
built_from() {
  local recorded
  recorded="$(go version -m "$binary" 2>/dev/null | awk '$1 == "mod" && $3 != "(devel)" { print $2 "@" $3 " " $4; exit }')"
  if [[ -z "$recorded" && -f "$stamp" ]]; then
    recorded="$(cat "$stamp")"
  fi
  echo "$recorded"
}

if [[ -x "$binary" && "$(built_from)" == "$want" ]]; then
  echo "$binary"
  exit 0
fi

mkdir -p "$bin_dir"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Module and build caches live under the plangate cache, never in the repository.
# GOTOOLCHAIN=local: never download another Go toolchain.
export GOMODCACHE="${GOMODCACHE:-$cache/go/mod}"
export GOCACHE="${GOCACHE:-$cache/go/build}"
export GOTOOLCHAIN=local
export GOFLAGS="-modcacherw -buildvcs=false"
export GONOSUMDB="$module"
export CGO_ENABLED=0

refused() {
  echo "install-atlantis: the download of $1 was refused:" >&2
  sed 's/^/  /' "$log" >&2
  exit 3
}
is_refusal() {
  grep -Eq '(^|[^0-9])(403|404|410)([^0-9]|$)|Forbidden|Not Found|not available|dial tcp|no such host|connection refused|i/o timeout|TLS handshake' "$log"
}

if ! go mod download -json "$module@$version" >"$log" 2>&1; then
  refused "$module@$version"
fi
sum="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' "$log")"
module_dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$log")"
if [[ -z "$sum" || -z "$module_dir" ]]; then
  # `go mod download -json` can report a refused download inside its JSON ("Error": ...).
  refused "$module@$version"
fi
if [[ "$sum" != "$module_sum" ]]; then
  echo "install-atlantis: $module@$version has checksum $sum, expected $module_sum: not installed" >&2
  exit 1
fi

rm -f "$stamp"
if GOBIN="$bin_dir" go install "$module@$version" >"$log" 2>&1; then
  :
elif grep -q 'loading deprecation' "$log" && grep -q '@v/list' "$log"; then
  # `go install MODULE@VERSION` also reads the module's version list to look for deprecation
  # notices; a proxy that serves the pinned version but refuses the list stops it there. The
  # module is downloaded and verified above: build it where it lies, as its own main module
  # (its go.mod and go.sum pin every dependency, exactly as `go install MODULE@VERSION` does).
  echo "install-atlantis: the proxy refuses the version list of $module; building the verified module" >&2
  if ! (cd "$module_dir" && GOBIN="$bin_dir" go install -trimpath \
    -ldflags "-X main.version=${version#v} -X main.commit=$commit" .) >"$log" 2>&1; then
    if is_refusal; then
      refused "a dependency of $module@$version"
    fi
    echo "install-atlantis: building $module@$version failed:" >&2
    sed 's/^/  /' "$log" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
elif is_refusal; then
  refused "$module@$version"
else
  echo "install-atlantis: go install $module@$version failed:" >&2
  sed 's/^/  /' "$log" >&2
  exit 1
fi

if [[ "$(built_from)" != "$want" ]]; then
  echo "install-atlantis: $binary was not built from $module@$version ($(built_from))" >&2
  exit 1
fi
echo "$binary"
