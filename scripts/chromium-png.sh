#!/usr/bin/env bash
# Screenshot a local HTML page with headless Chromium (Debian's `chromium` package), the window
# sized to the page: a first run (--dump-dom) reads the size the page wrote into
# <body data-size="WxH">, a second takes the screenshot at exactly that size.
#
#   scripts/chromium-png.sh PAGE.html OUT.png
#
# CHROMIUM names another binary (default: chromium). When chromium or the fonts are missing and
# we are root with apt-get, they are installed from Debian (PLANGATE_NO_APT=1 forbids it).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 PAGE.html OUT.png" >&2
  exit 2
fi
page=$1
out=$2
chromium=${CHROMIUM:-chromium}
# Emoji (the verdict marks), Helvetica/Arial metrics and a monospace font with box drawing;
# pngquant and optipng keep the committed PNGs small (used when present).
fonts=(fonts-liberation fonts-noto-color-emoji fonts-dejavu-core)
shrinkers=(pngquant optipng)

missing_packages() {
  local p
  command -v "$chromium" >/dev/null 2>&1 || echo chromium
  for p in "${fonts[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
  for p in "${shrinkers[@]}"; do
    command -v "$p" >/dev/null 2>&1 || echo "$p"
  done
}

ensure_chromium() {
  local missing
  missing=$(missing_packages | tr '\n' ' ')
  [ -z "${missing// /}" ] && return 0
  if [ "${PLANGATE_NO_APT:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing from Debian: $missing" >&2
    # shellcheck disable=SC2086 # a list of package names
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2 \
      || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends $missing >&2; } \
      || echo "$0: apt-get could not install all of: $missing" >&2
  fi
  if ! command -v "$chromium" >/dev/null 2>&1; then
    echo "$0: $chromium is not installed (Debian: apt-get install chromium)" >&2
    exit 2
  fi
}

ensure_chromium

work=$(mktemp -d "${TMPDIR:-/tmp}/chromium-png.XXXXXX")
trap 'rm -rf "$work"' EXIT

url="file://$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"

# Every run gets a new, empty profile and talks to nothing but the local file.
run_chromium() {
  local profile
  profile=$(mktemp -d "$work/profile.XXXXXX")
  timeout --kill-after=10 120 "$chromium" \
    --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --disable-extensions --hide-scrollbars \
    --force-device-scale-factor=1 --user-data-dir="$profile" "$@" 2>>"$work/chromium.log"
}

fail() {
  echo "$0: $1 ($page); chromium said:" >&2
  tail -n 20 "$work/chromium.log" >&2 || true
  exit 1
}

# The width is the page's own (it sets its body width); the height does not change the layout.
dom=$(run_chromium --window-size=1200,800 --dump-dom "$url") || fail "chromium --dump-dom failed"
size=$(printf '%s' "$dom" | grep -o 'data-size="[0-9]*x[0-9]*"' | head -n 1 | tr -dc '0-9x')
[ -n "$size" ] || fail "the page wrote no data-size"
width=${size%x*}
height=${size#*x}

mkdir -p "$(dirname "$out")"
rm -f "$out"
run_chromium --window-size="$width,$height" --virtual-time-budget=2000 \
  --screenshot="$out" "$url" >/dev/null || fail "chromium --screenshot failed"
[ -s "$out" ] || fail "no screenshot written"
# 256 colours are plenty for text on flat colours, and a third of the size.
if command -v pngquant >/dev/null 2>&1; then
  pngquant --quality=85-100 --speed 1 --strip --force --output "$out" -- "$out" \
    || echo "$0: pngquant left $out as it was" >&2
fi
if command -v optipng >/dev/null 2>&1; then
  optipng -quiet -o2 -strip all "$out"
fi
echo "$out (${width}x${height})"
