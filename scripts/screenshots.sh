#!/usr/bin/env bash
# The pictures of what plangate's users see, regenerated: the pull-request comment rendered as
# GitHub renders it, and the terminal report as an 80-column terminal shows it.
#
#   scripts/screenshots.sh                  the set the README shows, into docs/screenshots/
#   scripts/screenshots.sh [--out DIR] FILE.md ...
#                                           render these Markdown files (plangate's
#                                           `--format markdown` output, e.g. the comment of a
#                                           14-project pull request) to DIR/comment-NAME.png
#
# The comment: cmark-gfm (GitHub's own fork of cmark, through the PyPI package cmarkgfm) with
# GitHub's extensions (table, strikethrough, autolink, tagfilter, tasklist), raw HTML kept and
# then sanitised with GitHub's allowlist (scripts/render_gfm.py), styled with github-markdown-css
# (light) in a 760 px comment box, photographed by headless Chromium from Debian
# (scripts/chromium-png.sh). A comment with <details> gives two images: comment-NAME.png as
# GitHub first shows it (closed) and comment-NAME-open.png with every <details> open.
#
# The default set builds plangate (cargo build --release; CARGO_TARGET_DIR is honoured, or set
# PLANGATE_BIN to use a built binary), runs `plangate check --format markdown` on each example
# under examples/incidents/ with the arguments of tests/incidents.rs, and runs `plangate check`
# (incident 3) and `plangate rules` in tmux at 80x40 (scripts/terminal-capture.sh), keeping the
# captured text beside the PNGs (terminal-NAME.txt, .ansi).
#
# Downloads go to ${PLANGATE_CACHE:-$HOME/.cache/plangate}/screenshots/, never into the
# repository. Needs python3, npm, and (installed with apt-get when missing and root) chromium,
# fonts-liberation, fonts-noto-color-emoji, pngquant, optipng; tmux for the terminal captures.
set -euo pipefail

# Pinned versions of what is fetched.
CMARKGFM_VERSION=2025.10.22 # PyPI cmarkgfm: bindings to GitHub's cmark-gfm
CFFI_VERSION=2.1.1          # PyPI cffi, which cmarkgfm's binary module loads through
GITHUB_MARKDOWN_CSS_VERSION=5.9.0 # npm github-markdown-css: GitHub's Markdown stylesheet

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out_dir="$root/docs/screenshots"
cache="${PLANGATE_CACHE:-$HOME/.cache/plangate}/screenshots"

inputs=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) out_dir=$2; shift 2 ;;
    -h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) inputs+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"); shift ;;
  esac
done
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/screenshots.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- the renderer's dependencies, cached outside the repository -----------------------------

python_tag=$(python3 -c 'import sys; print("py%d%d" % sys.version_info[:2])')
python_dir="$cache/python-$python_tag-cmarkgfm-$CMARKGFM_VERSION-cffi-$CFFI_VERSION"
css_dir="$cache/npm-github-markdown-css-$GITHUB_MARKDOWN_CSS_VERSION"
css="$css_dir/node_modules/github-markdown-css/github-markdown-light.css"

install_python_packages() {
  [ -f "$python_dir/.complete" ] && return 0
  rm -rf "$python_dir.part"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --target "$python_dir.part" "cmarkgfm==$CMARKGFM_VERSION" "cffi==$CFFI_VERSION"
  touch "$python_dir.part/.complete"
  rm -rf "$python_dir"
  mv "$python_dir.part" "$python_dir"
}

install_stylesheet() {
  [ -f "$css" ] && return 0
  rm -rf "$css_dir.part"
  mkdir -p "$css_dir.part"
  npm install --silent --no-audit --no-fund --no-save --ignore-scripts \
    --prefix "$css_dir.part" "github-markdown-css@$GITHUB_MARKDOWN_CSS_VERSION" >&2
  rm -rf "$css_dir"
  mv "$css_dir.part" "$css_dir"
}

install_python_packages
install_stylesheet

# --- one Markdown comment -> one or two PNGs ----------------------------------------------

render_comment() { # MARKDOWN NAME
  local markdown=$1 name=$2 status=0
  rm -f "$out_dir/comment-$name.png" "$out_dir/comment-$name-open.png"
  PYTHONPATH="$python_dir" python3 "$here/render_gfm.py" --css "$css" \
    "$markdown" "$work/$name.html" "$work/$name-open.html" || status=$?
  case $status in
    0) "$here/chromium-png.sh" "$work/$name.html" "$out_dir/comment-$name.png"
       "$here/chromium-png.sh" "$work/$name-open.html" "$out_dir/comment-$name-open.png" ;;
    3) "$here/chromium-png.sh" "$work/$name.html" "$out_dir/comment-$name.png" ;; # no <details>
    *) echo "render_gfm.py failed on $markdown" >&2; exit 1 ;;
  esac
}

if [ ${#inputs[@]} -gt 0 ]; then
  for markdown in "${inputs[@]}"; do
    name=$(basename "$markdown")
    render_comment "$markdown" "${name%.*}"
  done
  exit 0
fi

# --- the default set -----------------------------------------------------------------------

if [ -n "${PLANGATE_BIN:-}" ]; then
  plangate=$PLANGATE_BIN
else
  (cd "$root" && cargo build --release --locked --quiet)
  plangate="${CARGO_TARGET_DIR:-$root/target}/release/plangate"
  case $plangate in /*) ;; *) plangate="$root/$plangate" ;; esac
fi
[ -x "$plangate" ] || { echo "no plangate binary at $plangate" >&2; exit 2; }

# No forge, no Atlantis, no declared intent from the caller's environment: only the arguments.
clean_env=(env -u GITHUB_ACTIONS -u GITHUB_TOKEN -u PLANGATE_GITHUB_TOKEN -u GITLAB_TOKEN
  -u PLANGATE_GITLAB_TOKEN -u ATLANTIS_TERRAFORM_VERSION -u PLANGATE_MODE
  -u PLANGATE_ALLOW_DESTROY_IN -u PROJECT_NAME -u REPO_REL_DIR -u WORKSPACE -u NO_COLOR)

comment_of_example() { # NAME EXAMPLE PROJECT [EXTRA ARGS...]
  local name=$1 example=$2 project=$3 status=0
  shift 3
  (cd "$root/examples/incidents/$example" &&
    "${clean_env[@]}" "$plangate" check --format markdown --comment off --plan plan.json \
      --atlantis atlantis.yaml --project "$project" "$@" >"$work/$name.md") || status=$?
  if [ "$status" -ge 2 ]; then
    echo "plangate could not evaluate $example (exit $status)" >&2
    exit 1
  fi
  render_comment "$work/$name.md" "$name"
}

# The arguments of tests/incidents.rs and the examples' READMEs.
comment_of_example incident-1 protected-namespace-pruned platform-staging
comment_of_example incident-2 namespace-renamed data-platform
comment_of_example incident-3 wrong-project-destroys-dev rosey-staging
comment_of_example incident-4 name-collision-replaces-prod tsdb-prod
comment_of_example incident-5 empty-collection-mass-delete tenants-prod
# The same plan with the destroy declared: a warning, not a block.
comment_of_example incident-5-declared empty-collection-mass-delete tenants-prod \
  --allow-destroy-in tenants-prod

# A pull request of 14 projects, two blocked: the comment tests/it/pr_comment_snapshots.rs makes
# and keeps as a snapshot (the insta header, up to the second `---` line, is left out).
snapshot="$root/tests/it/snapshots/it__pr_comment_snapshots__comment_fourteen_projects.snap"
[ -f "$snapshot" ] || { echo "no snapshot $snapshot: run cargo test pr_comment_snapshots" >&2; exit 1; }
awk 'n >= 2 { print } /^---$/ && n < 2 { n++ }' "$snapshot" >"$work/pull-request-14.md"
render_comment "$work/pull-request-14.md" pull-request-14

# The terminal report, in a real terminal at 80 columns, run as the README's quick start runs it.
PATH="$(dirname "$plangate"):$PATH"
export PATH
example=examples/incidents/wrong-project-destroys-dev
(cd "$root" && "${clean_env[@]}" "$here/terminal-capture.sh" \
  --png "$out_dir/terminal-incident-3.png" "$out_dir/terminal-incident-3" -- \
  plangate check --plan "$example/plan.json" --atlantis "$example/atlantis.yaml" \
  --project rosey-staging)
(cd "$root" && "${clean_env[@]}" "$here/terminal-capture.sh" \
  --png "$out_dir/terminal-rules.png" "$out_dir/terminal-rules" -- plangate rules)
