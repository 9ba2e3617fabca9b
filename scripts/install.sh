#!/usr/bin/env bash
# Install plangate: `scripts/install.sh VERSION [DEST]`.
#
# Downloads the release tarball plangate-VERSION-TARGET.tar.gz for this machine, checks its
# sha256 against the sum pinned in checksums.txt beside this script, installs DEST/plangate and
# prints that path (and sets the step output `bin` in GitHub Actions).
#
# The trusted sums are the ones committed in this checkout (the tag or commit of plangate that
# the script comes from), never a SHA256SUMS downloaded from the release: a file fetched from
# the same place as the tarball would only prove that the two were uploaded together.
#
# A checksum that does not match is always a hard failure: nothing is installed. When no sum is
# pinned for this version and platform, or the pinned tarball cannot be downloaded, plangate is
# built from the source tree this script belongs to (`cargo install --locked --path ..`), with a
# notice; PLANGATE_SOURCE_FALLBACK=false turns that into a failure instead.
#
# Arguments, or the environment when absent:
#   VERSION  PLANGATE_VERSION   a release (0.1.0 or v0.1.0), or `source` to always build
#   DEST     PLANGATE_DEST      directory for the binary (default: $RUNNER_TEMP/plangate-bin in
#                               GitHub Actions, else $HOME/.local/bin)
# Environment:
#   PLANGATE_RELEASE_URL      download base (default below); the tarball is
#                             BASE/vVERSION/plangate-VERSION-TARGET.tar.gz
#   PLANGATE_SOURCE_FALLBACK  true (default) or false
#   PLANGATE_TARGET           the target triple to download (default: this machine's)
# Exit status: 0 installed, 1 failed (nothing installed), 2 usage.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sums="$here/checksums.txt"
default_base="https://github.com/plangate/plangate/releases/download"

# Messages go to stderr (stdout is the installed path). In GitHub Actions they are workflow
# commands, so that the notice or the error is shown on the run's page.
say() { # LEVEL MESSAGE
  if [ "${GITHUB_ACTIONS:-}" = "true" ]; then
    local m="$2"
    m="${m//'%'/%25}"
    m="${m//$'\r'/%0D}"
    m="${m//$'\n'/%0A}"
    echo "::$1 title=plangate install::$m" >&2
  else
    echo "plangate install: $1: $2" >&2
  fi
}
die() {
  say error "$1"
  exit "${2:-1}"
}

version="${1:-${PLANGATE_VERSION:-}}"
[ -n "$version" ] || die "usage: install.sh VERSION [DEST] (VERSION: a release such as 0.1.0, or source)" 2
version="${version#v}"
if [ "$version" != "source" ] && ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  die "version must look like 1.2.3 (or v1.2.3, or source), not: $version" 2
fi
if [ -n "${2:-}" ]; then
  dest="$2"
elif [ -n "${PLANGATE_DEST:-}" ]; then
  dest="$PLANGATE_DEST"
elif [ "${GITHUB_ACTIONS:-}" = "true" ] && [ -n "${RUNNER_TEMP:-}" ]; then
  dest="$RUNNER_TEMP/plangate-bin"
else
  dest="${HOME:?HOME or DEST is needed}/.local/bin"
fi
base="${PLANGATE_RELEASE_URL:-$default_base}"
base="${base%/}"
fallback="${PLANGATE_SOURCE_FALLBACK:-true}"
case "$fallback" in
  true | false) ;;
  *) die "PLANGATE_SOURCE_FALLBACK must be true or false, not: $fallback" 2 ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/plangate-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Put the verified binary in place: copied beside the destination, then renamed over it, so
# that DEST/plangate is never a half-written file.
install_bin() { # BINARY
  mkdir -p "$dest"
  local staged="$dest/.plangate.$$"
  cp "$1" "$staged"
  chmod 0755 "$staged"
  mv -f "$staged" "$dest/plangate"
  local bin
  bin="$(cd "$dest" && pwd)/plangate"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "bin=$bin" >> "$GITHUB_OUTPUT"
  fi
  echo "$bin"
  exit 0
}

target() {
  if [ -n "${PLANGATE_TARGET:-}" ]; then
    echo "$PLANGATE_TARGET"
    return
  fi
  case "$(uname -s):$(uname -m)" in
    Linux:x86_64 | Linux:amd64) echo x86_64-unknown-linux-musl ;;
    Linux:aarch64 | Linux:arm64) echo aarch64-unknown-linux-musl ;;
    Darwin:x86_64) echo x86_64-apple-darwin ;;
    Darwin:arm64 | Darwin:aarch64) echo aarch64-apple-darwin ;;
    *) return 1 ;;
  esac
}

sha256() {
  if command -v sha256sum > /dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# The sum pinned for ASSET: lines `SHA256  NAME` (sha256sum's format; `*NAME` accepted).
pinned_sum() { # ASSET
  [ -f "$sums" ] || return 0
  awk -v asset="$1" '
    /^[[:space:]]*#/ || NF == 0 { next }
    { name = $2; sub(/^\*/, "", name) }
    name == asset && $1 ~ /^[0-9a-f]+$/ && length($1) == 64 { print $1 }
  ' "$sums" | sort -u
}

# Sets `why` to curl's one-line reason when the download fails.
why=""
download() { # URL FILE
  if ! command -v curl > /dev/null; then
    why="curl is not installed"
    return 1
  fi
  if ! why="$(curl -fsSL --retry 2 --connect-timeout 15 --max-time 300 -o "$2" "$1" 2>&1)"; then
    why="$(printf '%s' "$why" | tr -s '\r\n' '  ')"
    return 1
  fi
}

from_source() { # WHY
  if [ "$fallback" != "true" ]; then
    die "$1, and PLANGATE_SOURCE_FALLBACK=false: not building from source"
  fi
  local root
  root="$(cd "$here/.." && pwd)"
  if ! [ -f "$root/Cargo.toml" ] || ! [ -d "$root/src" ]; then
    die "$1, and $root is not plangate's source tree to build from"
  fi
  if ! command -v cargo > /dev/null; then
    die "$1, and cargo is not installed to build plangate from source"
  fi
  say notice "$1: building plangate from source with cargo instead (this takes a few minutes)"
  cargo install --locked --quiet --path "$root" --root "$work/cargo" --bin plangate >&2 ||
    die "building plangate from source failed"
  install_bin "$work/cargo/bin/plangate"
}

if [ "$version" = "source" ]; then
  from_source "version source was asked for"
fi

if ! triple="$(target)"; then
  from_source "no release binary is built for $(uname -s) $(uname -m)"
fi
asset="plangate-$version-$triple.tar.gz"
pinned="$(pinned_sum "$asset")"
if [ -z "$pinned" ]; then
  from_source "no sha256 for $asset is pinned in scripts/checksums.txt"
fi
if [ "$(printf '%s\n' "$pinned" | wc -l)" -ne 1 ]; then
  die "scripts/checksums.txt pins more than one sha256 for $asset"
fi

url="$base/v$version/$asset"
if ! download "$url" "$work/$asset"; then
  from_source "could not download $url (${why% })"
fi
actual="$(sha256 "$work/$asset")"
if [ "$actual" != "$pinned" ]; then
  die "$asset from $url has sha256 $actual, but scripts/checksums.txt pins $pinned: refusing to install it"
fi

mkdir "$work/unpacked"
tar -xzf "$work/$asset" -C "$work/unpacked" plangate ||
  die "$asset does not hold a file named plangate"
if ! [ -f "$work/unpacked/plangate" ] || [ -L "$work/unpacked/plangate" ]; then
  die "plangate in $asset is not a regular file"
fi
chmod 0755 "$work/unpacked/plangate"
if [ -z "${PLANGATE_TARGET:-}" ] && ! "$work/unpacked/plangate" --version > /dev/null 2>&1; then
  die "the plangate from $asset does not run on this machine"
fi
install_bin "$work/unpacked/plangate"
