#!/usr/bin/env bash
# Run a command in a real terminal (a detached tmux session, 80x40, TERM=xterm-256color, so the
# program sees a terminal and colours its output) and capture what the screen shows.
#
#   scripts/terminal-capture.sh [--cols N] [--rows N] [--timeout S] [--png PNG] [--title T] \
#     OUT -- COMMAND [ARG...]
#
# Writes OUT.ansi (tmux capture-pane -p -e: with the colour escapes) and OUT.txt (-p: plain),
# scrollback included, trailing blank rows dropped; the first line is "$ COMMAND ..." as typed.
# With --png, also renders OUT.ansi to PNG (scripts/ansi_to_html.py, then headless Chromium via
# scripts/chromium-png.sh). Prints the command's exit status; exits 124 when it did not finish
# within --timeout seconds (default 60; what it had shown is still captured), 0 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cols=80
rows=40
timeout_s=60
png=
title=

usage() {
  sed -n '5,6p' "$0" | sed 's/^# *//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
    --cols) cols=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --png) png=$2; shift 2 ;;
    --title) title=$2; shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) [ -z "${out:-}" ] || usage; out=$1; shift ;;
  esac
done
if [ -z "${out:-}" ] || [ $# -eq 0 ]; then usage; fi
command -v tmux >/dev/null || { echo "$0: tmux is not installed (apt-get install tmux)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/terminal-capture.XXXXXX")
socket="$work/tmux.sock"
# A private tmux server: stopping it stops only what this script started.
cleanup() {
  tmux -S "$socket" kill-server >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/tmux.conf" <<EOF
set -g default-terminal xterm-256color
set -g status off
set -g history-limit 50000
set -g default-size ${cols}x${rows}
EOF

# Inside the pane: show the command as typed, run it, record its status, then keep the pane
# (and so the screen) alive until the capture is taken.
cat >"$work/run.sh" <<'EOF'
status_file=$1
shift
unset NO_COLOR
line='$'
for arg in "$@"; do
  case $arg in
    '' | *[!A-Za-z0-9_./=:,@%+-]*) line="$line '${arg//"'"/"'\\''"}'" ;;
    *) line="$line $arg" ;;
  esac
done
printf '%s\n' "$line"
"$@"
printf '%s' "$?" >"$status_file.part"
mv "$status_file.part" "$status_file"
exec sleep 3600
EOF

shell_command=$(printf '%q ' bash "$work/run.sh" "$work/status" "$@")
tmux -S "$socket" -f "$work/tmux.conf" new-session -d -s capture -x "$cols" -y "$rows" \
  -c "$PWD" "$shell_command"

# The deadline counts polls of 0.2 s: $SECONDS ticks in whole seconds.
polls_left=$((timeout_s * 5))
timed_out=0
until [ -f "$work/status" ]; do
  if ! tmux -S "$socket" has-session -t capture 2>/dev/null; then
    echo "$0: the tmux session ended before the command did" >&2
    exit 1
  fi
  if [ "$polls_left" -le 0 ]; then
    timed_out=1
    break
  fi
  polls_left=$((polls_left - 1))
  sleep 0.2
done

capture() { tmux -S "$socket" capture-pane -p -S - -E - -t capture "$@"; }
# The program's last bytes may still be on their way to tmux: capture until two agree.
previous=
for _ in $(seq 1 20); do
  current=$(capture -e)
  [ "$current" = "$previous" ] && break
  previous=$current
  sleep 0.2
done

# Blank rows below the output are the unused part of the screen, not output.
drop_trailing_blank_rows() {
  awk '/^(\033\[[0-9;]*m)*[[:space:]]*$/ { blank = blank $0 "\n"; next }
       { printf "%s%s\n", blank, $0; blank = "" }'
}
mkdir -p "$(dirname "$out")"
printf '%s\n' "$current" | drop_trailing_blank_rows >"$out.ansi"
capture | drop_trailing_blank_rows >"$out.txt"

if [ -n "$png" ]; then
  [ -n "$title" ] || title="$* (${cols}x${rows})"
  python3 "$here/ansi_to_html.py" --cols "$cols" --rows "$rows" --title "$title" \
    "$out.ansi" "$work/screen.html"
  "$here/chromium-png.sh" "$work/screen.html" "$png" >/dev/null
fi

if [ "$timed_out" = 1 ]; then
  echo "$0: '$*' did not finish within ${timeout_s}s; captured what it had shown" >&2
  exit 124
fi
echo "$out.ansi $out.txt${png:+ $png}: '$*' exited with status $(cat "$work/status")"
