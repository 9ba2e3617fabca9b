#!/usr/bin/env bash
# Install plangate for action.yml: the release binary of PLANGATE_VERSION for this runner,
# verified against the sha256 pinned in scripts/checksums.txt (not one downloaded beside the
# binary), else built from the action's own repository at the action's ref with
# `cargo install --locked`. Prints the binary's path and sets the step output `bin`.
#
# Environment: PLANGATE_VERSION (e.g. 0.1.0; "source" always builds), ACTION_REPOSITORY
# (owner/name), ACTION_REF (commit, tag or branch of the action), RUNNER_TEMP.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${PLANGATE_VERSION:-source}"
repo="${ACTION_REPOSITORY:?ACTION_REPOSITORY (owner/name) is needed}"
ref="${ACTION_REF:-}"
dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/plangate-bin"
mkdir -p "$dest"

done_with() {
  [ -n "${GITHUB_OUTPUT:-}" ] && echo "bin=$1" >> "$GITHUB_OUTPUT"
  echo "$1"
  exit 0
}

target() {
  local os arch
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$os:$arch" in
    Linux:x86_64) echo x86_64-unknown-linux-musl ;;
    Linux:aarch64 | Linux:arm64) echo aarch64-unknown-linux-musl ;;
    Darwin:x86_64) echo x86_64-apple-darwin ;;
    Darwin:arm64) echo aarch64-apple-darwin ;;
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

if [ "$version" != "source" ] && triple="$(target)"; then
  asset="plangate-$version-$triple.tar.gz"
  pinned="$(grep -E "^[0-9a-f]{64}  $asset\$" "$here/checksums.txt" 2> /dev/null | cut -d' ' -f1 || true)"
  if [ -n "$pinned" ]; then
    url="https://github.com/$repo/releases/download/v$version/$asset"
    if curl -fsSL --retry 3 -o "$dest/$asset" "$url"; then
      actual="$(sha256 "$dest/$asset")"
      if [ "$actual" != "$pinned" ]; then
        echo "::error title=plangate install::$asset has sha256 $actual, expected $pinned: refusing to run it" >&2
        exit 1
      fi
      tar -xzf "$dest/$asset" -C "$dest"
      chmod +x "$dest/plangate"
      done_with "$dest/plangate"
    fi
    echo "plangate: could not download $url; building from source" >&2
  else
    echo "plangate: no pinned checksum for $asset; building from source" >&2
  fi
fi

if [ -z "$ref" ]; then
  echo "::error title=plangate install::no release binary and no ACTION_REF to build from" >&2
  exit 1
fi
cargo install --git "https://github.com/$repo" --rev "$ref" --locked --root "$dest" plangate >&2
done_with "$dest/bin/plangate"
