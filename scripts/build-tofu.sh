#!/usr/bin/env bash
# Builds the OpenTofu CLI from its Go module (github.com/opentofu/opentofu) into the plangate
# cache, for fixture regeneration and for the tests that need a real `tofu`.
#
#   scripts/build-tofu.sh                          the pinned version; prints the binary's path
#   TOFU_VERSION=v1.10.10 scripts/build-tofu.sh    another version the module proxy serves
#
# Result: ${PLANGATE_CACHE:-$HOME/.cache/plangate}/bin/tofu, a link to bin/tofu-<version>, and
# the module's own test provider ("simple", internal/provider-simple-v6: a managed, data and
# ephemeral `simple_resource`) under tofu-plugins/, for `tofu init -plugin-dir` (fixtures with
# ephemeral resources: no built-in provider has one).
# Idempotent: when bin/tofu already reports the wanted version and the provider is there,
# nothing is downloaded or built.
# Downloaded modules are kept under the cache (go/mod) unless GOMODCACHE is set; Go's build
# cache is a temporary directory removed afterwards unless GOCACHE is set.
#
# Needs: go. When the local go is older than the module's go.mod asks for, the toolchain
# named by TOFU_GOTOOLCHAIN (default go1.27.3) is fetched through the Go module proxy.
# Exit codes: 0 built or found; 2 no go toolchain; 3 the module proxy refused a download (the module and the
# error are printed); 1 anything else (e.g. the build failed).
#
# Cost (measured for v1.12.6 on 2 cores shared with other builds): about 45 s to download
# 1.9 GB of modules, then 8.5 min of CPU (7.5 min wall at load 6, 18 min at load 11; about
# 4.5 min on 2 idle cores), 1.7 GB of memory, 1.8 GB of build cache while building; results:
# a 110 MB tofu and a 50 MB test provider.
set -euo pipefail

command -v go >/dev/null || { echo "build-tofu: go not found" >&2; exit 2; }

VERSION="${TOFU_VERSION:-v1.12.6}"
TOOLCHAIN="${TOFU_GOTOOLCHAIN:-go1.27.3}"
MODULE="github.com/opentofu/opentofu"
CACHE="${PLANGATE_CACHE:-$HOME/.cache/plangate}"
BIN="$CACHE/bin"
OUT="$BIN/tofu-${VERSION#v}"
LINK="$BIN/tofu"
PLUGIN_DIR="$CACHE/tofu-plugins/registry.opentofu.org/hashicorp/simple/0.0.1/$(go env GOOS)_$(go env GOARCH)"
PLUGIN="$PLUGIN_DIR/terraform-provider-simple"


# The version a tofu binary reports, or nothing.
tofu_version() {
  [ -x "$1" ] || return 0
  TF_CLI_CONFIG_FILE=/dev/null "$1" version -json 2>/dev/null |
    sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -n1
}

have_tofu=no
[ "$(tofu_version "$LINK")" = "${VERSION#v}" ] && have_tofu=yes
if [ "$have_tofu" = yes ] && [ -x "$PLUGIN" ]; then
  echo "$LINK"
  exit 0
fi

mkdir -p "$BIN" "$CACHE/go"
export GOMODCACHE="${GOMODCACHE:-$CACHE/go/mod}"
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0
LOG="$(mktemp)"
SCRATCH="$(mktemp -d)"
if [ -z "${GOCACHE:-}" ]; then
  GOCACHE="$(mktemp -d "$CACHE/go/build.XXXXXX")"
  export GOCACHE
  # shellcheck disable=SC2064
  trap "rm -rf '$LOG' '$SCRATCH' '$GOCACHE'" EXIT
else
  export GOCACHE
  # shellcheck disable=SC2064
  trap "rm -rf '$LOG' '$SCRATCH'" EXIT
fi

# A download the proxy refused: name the module and the error, exit 3.
refused() {
  echo "build-tofu: module download refused: $1" >&2
  sed 's/^/build-tofu:   /' "$LOG" >&2
  exit 3
}

echo "build-tofu: downloading $MODULE@$VERSION" >&2
# From an empty directory outside any module, with the local toolchain: only the target
# module matters here.
cd "$SCRATCH"
if ! GOTOOLCHAIN=local go mod download -json "$MODULE@$VERSION" >"$LOG" 2>&1; then
  refused "$MODULE@$VERSION"
fi
MODDIR="$(sed -n 's/^[[:space:]]*"Dir": *"\([^"]*\)".*/\1/p' "$LOG" | head -n1)"
if [ -z "$MODDIR" ] || [ ! -f "$MODDIR/go.mod" ]; then
  refused "$MODULE@$VERSION (no module directory in the answer)"
fi
cd "$MODDIR"

# The local go when it is new enough for go.mod's `go` line, else the named toolchain
# (or a newer one, if go.mod asks for more).
need="$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' go.mod | head -n1)"
have="$(GOTOOLCHAIN=local go env GOVERSION | sed 's/^go//')"
if [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" = "$need" ]; then
  export GOTOOLCHAIN=local
else
  export GOTOOLCHAIN="${TOOLCHAIN}+auto"
  if ! go version >"$LOG" 2>&1; then
    refused "golang.org/toolchain ($TOOLCHAIN, for go $need in $MODULE@$VERSION's go.mod)"
  fi
fi
echo "build-tofu: $(go version) (module wants go ${need:-?})" >&2

if ! go mod download >"$LOG" 2>&1; then
  # The first module@version named in go's error lines is the one it could not fetch.
  mod="$(grep -m1 -oE '[A-Za-z0-9.-]+\.[A-Za-z]+/[^ :@]+@[^ :]+' "$LOG" || true)"
  refused "${mod:-a dependency of $MODULE@$VERSION}"
fi

if [ "$have_tofu" = no ]; then
  echo "build-tofu: building ./cmd/tofu (several minutes)" >&2
  go build -trimpath -ldflags "-s -w -X $MODULE/version.dev=no" -o "$OUT.tmp" ./cmd/tofu
  mv -f "$OUT.tmp" "$OUT"
  ln -sfn "$(basename "$OUT")" "$LINK"
fi
echo "build-tofu: building the test provider ./internal/provider-simple-v6/main" >&2
mkdir -p "$PLUGIN_DIR"
go build -trimpath -ldflags "-s -w" -o "$PLUGIN.tmp" ./internal/provider-simple-v6/main
mv -f "$PLUGIN.tmp" "$PLUGIN"

got="$(tofu_version "$LINK")"
if [ "$got" != "${VERSION#v}" ]; then
  echo "build-tofu: the built binary reports version '$got', wanted ${VERSION#v}" >&2
  exit 1
fi
echo "$LINK"
