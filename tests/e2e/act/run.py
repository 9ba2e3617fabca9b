#!/usr/bin/env python3
"""examples/github/plangate.yml and the repository's action.yml, run by a real Actions runner.

act (github.com/nektos/act, installed by scripts/e2e/install-act.sh) runs the example workflow
unchanged, in host mode (`-P ubuntu-latest=-self-hosted`: the steps run on this machine, no
container image), on a pull_request event, in a throwaway "infrastructure repository" whose
envs/staging and envs/production hold real Terraform state. Everything the workflow talks to
is on 127.0.0.1 (a random port, stopped at the end):

- the GitHub stand-in of the Atlantis end-to-end test (tests/e2e/atlantis/fake_github.py:
  GitHub Enterprise paths over TLS with a throwaway CA, $GITHUB_API_URL=https://127.0.0.1:PORT
  /api/v3): the pull request, its labels and comments, commit statuses. Every request is
  recorded; one it does not know is answered 404 and kept, and fails the test.
- the release download (PLANGATE_RELEASE_URL): plangate-VERSION-TARGET.tar.gz holding the
  plangate under test. The plangate action is a copy of this working tree's action.yml and
  scripts/ whose scripts/checksums.txt pins that tarball's sha256, so the Action installs
  plangate through its real install path (download, sha256 check, unpack), as it would at v0.

act maps `uses:` lines to local folders (--local-repository). Nothing reaches github.com, so
the third-party actions of the example are small stand-ins that this script writes:
- actions/checkout: not needed; act skips a checkout of the repository itself, whose working
  tree is already the workspace.
- hashicorp/setup-terraform: puts this machine's terraform on PATH (the real action downloads
  it). That terraform runs offline (no checkpoint calls); `terraform show -json` output goes
  through scripts/shape_plan.py, which makes the repository's fixtures: terraform_data
  resources become the provider resources they stand for (providers cannot be downloaded).
- actions/upload-artifact: copies the file it is given into a folder this script reads.

Two runs on one pull request, each with the whole matrix (app-staging, app-production):
1. envs/staging is examples/incidents/wrong-project-destroys-dev (a staging project whose
   state holds dev's cluster, and whose configuration removes it): blocked.
2. a new commit makes envs/staging that incident's clean/ neighbour (staging tears down what is
   tagged staging): passes, and the comments of run 1 are updated in place.
envs/production keeps its queue and lets go of a bucket without destroying it (a `removed`
block): a warning (state-forget) that does not fail the job, both times.

3. (opt-in, PLANGATE_E2E_SOURCE_BUILD=1: a release build in each job) the action at a ref
   whose scripts/checksums.txt pins nothing: a ::notice, then a cargo build of the action's
   own checkout, and the same verdicts.

Checked: act's exit status and the jobs' results (the block fails the job; act keeps one
result for a whole matrix, so each matrix job is also judged by its steps), the plangate
step's outputs as its action.yml maps them (verdict, blocked, report-path, pr-number,
head-sha), the job summary, the ::error/::warning annotations in act's log, the install (the
tarball fetched once per job, no source build), the comments and commit statuses on the
stand-in, and the report handed to upload-artifact.

Where it can, the script runs in a network namespace of its own with only loopback (see
isolate()), so nothing it starts can reach another host.

Usage: python3 tests/e2e/act/run.py
Environment: ACT (act binary; default $PLANGATE_CACHE/bin/act, then PATH, then
scripts/e2e/install-act.sh), PLANGATE_BIN (the plangate to serve; default: `cargo build
--locked`), TERRAFORM (default: terraform on PATH), PLANGATE_E2E_SOURCE_BUILD=1 (run 3; honours
CARGO_TARGET_DIR), PLANGATE_E2E_NETNS=off, PLANGATE_E2E_KEEP=1 keeps the temp folder.
Skips (exit 0, "skipped: ...") when act, terraform or openssl cannot be had.
"""

import hashlib
import http.server
import io
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXAMPLE = os.path.join(ROOT, "examples", "github", "plangate.yml")
INCIDENT = os.path.join(ROOT, "examples", "incidents", "wrong-project-destroys-dev")
OWNER, REPO, PR = "acme", "infra", 7
# Obviously fake; the stand-in accepts only this one.
TOKEN = "fake-token-for-the-act-e2e-test"
BOT = "github-actions[bot]"
ACT_DEADLINE = 900  # seconds for one act run


def cache_dir():
    return os.environ.get("PLANGATE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "plangate")


def skip(why):
    print(f"skipped: {why}")
    sys.exit(0)


def find_act():
    given = os.environ.get("ACT")
    if given:
        return given
    cached = os.path.join(cache_dir(), "bin", "act")
    if os.access(cached, os.X_OK):
        return cached
    on_path = shutil.which("act")
    if on_path:
        return on_path
    p = subprocess.run(
        ["bash", os.path.join(ROOT, "scripts", "e2e", "install-act.sh")],
        capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
    )
    if p.returncode == 3:
        skip("act cannot be installed: " + " ".join(p.stderr.split())[:500])
    if p.returncode != 0:
        raise SystemExit(f"scripts/e2e/install-act.sh failed (exit {p.returncode}):\n{p.stderr}")
    return p.stdout.strip()


def plangate_binary():
    given = os.environ.get("PLANGATE_BIN")
    if given:
        return given
    subprocess.run(["cargo", "build", "--locked", "--quiet", "--bin", "plangate"], cwd=ROOT, check=True, timeout=1800)
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, check=True, capture_output=True, timeout=60)
    return os.path.join(json.loads(meta.stdout)["target_directory"], "debug", "plangate")


def machine_target():
    return {
        ("Linux", "x86_64"): "x86_64-unknown-linux-musl",
        ("Linux", "aarch64"): "aarch64-unknown-linux-musl",
        ("Darwin", "x86_64"): "x86_64-apple-darwin",
        ("Darwin", "arm64"): "aarch64-apple-darwin",
    }[(os.uname().sysname, os.uname().machine)]


def action_default_version():
    """The default of action.yml's `version` input: what the example installs."""
    text = open(os.path.join(ROOT, "action.yml")).read()
    m = re.search(r'^  version:\n(?:    .*\n|      .*\n)*?    default: "?([^"\n]+)"?\n', text, re.M)
    assert m, "action.yml has no default version"
    return m.group(1)


def uses_refs():
    """owner/name -> ref, for every `uses:` line of the example."""
    refs = {}
    for m in re.finditer(r"^\s*(?:-\s*)?uses:\s*([\w.-]+/[\w.-]+)@([\w.-]+)", open(EXAMPLE).read(), re.M):
        refs[m.group(1)] = m.group(2)
    return refs


# --- the GitHub stand-in and the release download ------------------------------------------

# The GitHub stand-in of the Atlantis end-to-end test (GitHub Enterprise paths, over TLS with a
# throwaway CA), so that both end-to-end tests talk to one stand-in.
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e", "atlantis"))
import fake_github  # noqa: E402
from harness import make_certificates  # noqa: E402


class Release:
    """Release files on plain HTTP (127.0.0.1): the path of every request is recorded."""

    def __init__(self):
        self.files = {}
        self.requests = []
        release = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                release.requests.append(self.path)
                body = release.files.get(self.path)
                self.send_response(404 if body is None else 200)
                body = b"Not Found" if body is None else body
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class StandIn:
    """What the workflow talks to: the GitHub stand-in and the release download."""

    def __init__(self, tmp):
        self.ca, cert, key = make_certificates(pathlib.Path(tmp) / "tls")
        os.makedirs(os.path.join(tmp, "git"))
        self.gh = fake_github.FakeGitHub(os.path.join(tmp, "git"), str(cert), str(key), TOKEN, {})
        self.gh.bot_login = BOT  # the owner of the Actions token
        self.gh.start()
        self.release = Release()
        self.api_url = f"{self.gh.base_url}/api/v3"

    def open_pull(self, head):
        self.gh.add_pull(fake_github.PullRequest(
            f"{OWNER}/{REPO}", PR, "Remove the old staging cluster", "octocat", "feature", head,
            "main", "0" * 40, [("modified", "envs/staging/main.tf")]))

    def set_head(self, head):
        with self.gh.lock:
            self.gh.pulls[(f"{OWNER}/{REPO}", PR)].head_sha = head

    def comments(self):
        return [{"id": c["id"], "body": c["body"], "user": c["user"]} for c in self.gh.comments_of(f"{OWNER}/{REPO}", PR)]

    def statuses(self):
        with self.gh.lock:
            return [dict(s) for s in self.gh.statuses]

    def requests(self):
        """(method, path and query, status) of every API request so far."""
        with self.gh.lock:
            return list(self.gh.requests)

    def clear(self):
        with self.gh.lock:
            self.gh.requests.clear()
        self.release.requests.clear()

    def stop(self):
        self.gh.stop()
        self.release.stop()


# --- the repository the workflow runs in ---------------------------------------------------

def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def git(cwd, *args):
    env = {
        "PATH": os.environ["PATH"], "HOME": cwd,
        "GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
        "GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


class Terraform:
    """This machine's terraform, offline."""

    def __init__(self, binary, tmp):
        self.binary = binary
        self.rc = os.path.join(tmp, "empty.tfrc")
        write(self.rc, "")

    def env(self):
        return {"PATH": os.environ["PATH"], "HOME": os.path.dirname(self.rc), "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "TF_CLI_CONFIG_FILE": self.rc}

    def run(self, cwd, *args):
        p = subprocess.run([self.binary, *args], cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, f"terraform {' '.join(args)} in {cwd}: {p.stdout}{p.stderr}"

    def state_dir(self, dest, before, after_text, scratch):
        """dest/main.tf is after_text; dest/terraform.tfstate is what applying `before` made."""
        work = tempfile.mkdtemp(dir=scratch, prefix="apply.")
        write(os.path.join(work, "main.tf"), before)
        self.run(work, "init", "-input=false")
        self.run(work, "apply", "-input=false", "-auto-approve")
        os.makedirs(dest, exist_ok=True)
        for name in os.listdir(dest):
            if name.endswith(".tf") or name == "terraform.tfstate":
                os.remove(os.path.join(dest, name))
        shutil.copy2(os.path.join(work, "terraform.tfstate"), os.path.join(dest, "terraform.tfstate"))
        write(os.path.join(dest, "main.tf"), after_text)


PRODUCTION_BEFORE = """\
resource "terraform_data" "orders" {
  input = {
    type   = "aws_sqs_queue"
    values = { name = "orders-production", tags = { env = "production" }, tags_all = { env = "production" } }
  }
}

resource "terraform_data" "reports" {
  input = {
    type   = "aws_s3_bucket"
    values = { bucket = "acme-reports-production", tags = { env = "production" }, tags_all = { env = "production" } }
  }
}
"""

# Production keeps its queue and lets go of the bucket without destroying it (it moves to
# another state): nothing is destroyed, and plangate warns (state-forget).
PRODUCTION_AFTER = """\
resource "terraform_data" "orders" {
  input = {
    type   = "aws_sqs_queue"
    values = { name = "orders-production", tags = { env = "production" }, tags_all = { env = "production" } }
  }
}

removed {
  from = terraform_data.reports
  lifecycle {
    destroy = false
  }
}
"""


def read(path):
    with open(path) as f:
        return f.read()


def stand_ins(tmp, terraform, artifacts):
    """Local folders for the third-party actions of the example."""
    setup = os.path.join(tmp, "stand-ins", "setup-terraform")
    write(os.path.join(setup, "action.yml"), """\
name: setup-terraform (stand-in)
description: Puts this machine's terraform on PATH, as hashicorp/setup-terraform does after downloading one.
inputs:
  terraform_wrapper:
    description: only false is supported
    default: "true"
runs:
  using: composite
  steps:
    - shell: bash
      env:
        WRAPPER: ${{ inputs.terraform_wrapper }}
      run: |
        set -euo pipefail
        if [ "$WRAPPER" != "false" ]; then echo "::error::this stand-in has no wrapper"; exit 1; fi
        echo "$GITHUB_ACTION_PATH/bin" >> "$GITHUB_PATH"
""")
    write(os.path.join(setup, "bin", "empty.tfrc"), "")
    shutil.copy2(os.path.join(ROOT, "scripts", "shape_plan.py"), os.path.join(setup, "bin", "shape_plan.py"))
    write(os.path.join(setup, "bin", "terraform"), f"""\
#!/usr/bin/env bash
# terraform {terraform.binary}, offline; `show -json` output reshaped by plangate's
# scripts/shape_plan.py (terraform_data stands for provider resources).
set -euo pipefail
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE="$here/empty.tfrc"
if [ "${{1:-}}" = show ] && [ "${{2:-}}" = -json ]; then
  {terraform.binary} "$@" | python3 "$here/shape_plan.py"
else
  exec {terraform.binary} "$@"
fi
""", 0o755)
    upload = os.path.join(tmp, "stand-ins", "upload-artifact")
    write(os.path.join(upload, "action.yml"), f"""\
name: upload-artifact (stand-in)
description: Keeps the file it is given in {artifacts}/NAME/.
inputs:
  name:
    default: artifact
  path:
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      env:
        NAME: ${{{{ inputs.name }}}}
        FILE: ${{{{ inputs.path }}}}
      run: |
        set -euo pipefail
        mkdir -p "{artifacts}/$NAME"
        cp "$FILE" "{artifacts}/$NAME/"
""")
    return setup, upload


def copy_tracked(dest):
    """Every file git tracks in this working tree (its current content), as a checkout of the
    repository at a ref has them."""
    listed = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True, capture_output=True, timeout=60).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))


def action_copy(tmp, name, sums, source=False):
    """action.yml and scripts/ of this working tree, with scripts/checksums.txt holding `sums`;
    with source=True every tracked file, as in a checkout of the action at a tag."""
    dest = os.path.join(tmp, name)
    os.makedirs(dest)
    if source:
        copy_tracked(dest)
    else:
        shutil.copy2(os.path.join(ROOT, "action.yml"), dest)
        shutil.copytree(os.path.join(ROOT, "scripts"), os.path.join(dest, "scripts"))
    write(os.path.join(dest, "scripts", "checksums.txt"), sums)
    return dest


# --- act and its log -----------------------------------------------------------------------

class Run:
    def __init__(self, code, lines, raw):
        self.code = code
        self.entries = lines
        self.raw = raw

    def job(self, project):
        return [e for e in self.entries if (e.get("matrix") or {}).get("project", {}).get("name") == project]

    def matrix_result(self):
        """act keeps one result for a whole matrix (as `needs` sees it): the last one logged."""
        results = [e["jobResult"] for e in self.entries if "jobResult" in e]
        return results[-1] if results else None

    def file_outputs(self, project, *step_ids):
        """What a run: step wrote to $GITHUB_OUTPUT (act logs it after the step's result)."""
        return {e["name"]: e.get("arg", "") for e in self.job(project)
                if e.get("stepID") == list(step_ids) and e.get("command") == "set-output"}

    def outputs(self, project, *step_ids):
        """Outputs act set for the step with this id path while it ran: for ["plangate"], the
        outputs its action.yml maps. (After a composite step act also reads the runner's output
        file again, which still holds the last inner step's lines, and sets those on the outer
        step too; that is act's doing, so those later entries are not read here.)"""
        out = {}
        for e in self.job(project):
            if e.get("stepID") != list(step_ids):
                continue
            if "stepResult" in e and e.get("stage") == "Main":
                break
            if e.get("command") == "set-output":
                out[e["name"]] = e.get("arg", "")
        return out

    def commands(self, project, command):
        return [e.get("raw", "").rstrip("\r\n") for e in self.job(project) if e.get("command") == command]

    def summaries(self, project):
        """The job summary act logged after the plangate step."""
        return [e["content"] for e in self.job(project) if e.get("command") == "summary" and e.get("stepID") == ["plangate"]]

    def step_results(self, project):
        """(step name, result) of the job's own steps (not a composite's inner ones)."""
        return [(e.get("step"), e["stepResult"]) for e in self.job(project)
                if "stepResult" in e and e.get("stage") == "Main" and len(e.get("stepID") or []) == 1]


def run_act(act, workspace, event, refs, locals_, stand, tmp, artifacts_home, host_env=None):
    """act on the workspace; host_env is added to act's own environment, which host mode
    hands to the steps (the PATH has no cargo unless host_env gives one). The steps trust the
    stand-in's throwaway CA as a self-hosted runner of a GitHub Enterprise with its own CA
    would: SSL_CERT_FILE for plangate (rustls reads it), CURL_CA_BUNDLE for curl."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": artifacts_home,
        "XDG_CACHE_HOME": os.path.join(artifacts_home, ".cache"),
        "XDG_CONFIG_HOME": os.path.join(artifacts_home, ".config"),
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "ACT_DISABLE_VERSION_CHECK": "1",  # no call home
        "GITHUB_TOKEN": TOKEN,  # read by `-s GITHUB_TOKEN`, so it is masked in the log
        "SSL_CERT_FILE": str(stand.ca),
        "CURL_CA_BUNDLE": str(stand.ca),
        **(host_env or {}),
    }
    args = [
        act, "pull_request",
        "-W", ".github/workflows/plangate.yml",
        "-e", event,
        "-P", "ubuntu-latest=-self-hosted",
        "--json",
        "--no-cache-server",
        "--action-cache-path", os.path.join(tmp, "act-cache"),
        "--env", f"GITHUB_API_URL={stand.api_url}",
        "--env", f"GITHUB_SERVER_URL={stand.gh.base_url}",
        "--env", f"PLANGATE_RELEASE_URL={stand.release.url}/download",
        "-s", "GITHUB_TOKEN",
    ]
    for repo, path in locals_.items():
        args += ["--local-repository", f"{repo}@{refs[repo]}={path}"]
    proc = subprocess.Popen(args, cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        raw, _ = proc.communicate(timeout=ACT_DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"act did not finish in {ACT_DEADLINE}s")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = raw.decode("utf-8", "replace")
    entries = []
    for line in text.splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            pass
    return Run(proc.returncode, entries, text)


# --- the checks ----------------------------------------------------------------------------

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        try:
            fn()
        except Exception:
            self.failed += 1
            print(f"FAIL {name}")
            traceback.print_exc(file=sys.stdout)
        else:
            self.passed += 1
            print(f"ok   {name}")


def pr_marker(body):
    """The pull request a comment of plangate's is for (its first line), else None."""
    m = re.match(r"<!-- plangate:v2 (\{.*?\}) -->", body)
    return json.loads(m.group(1)).get("pr") if m else None


def sections(body):
    """The project sections of the pull request's comment: project -> (hidden state, body)."""
    out = {}
    for m in re.finditer(r"<!-- plangate:project (\{.*?\}) -->\n", body):
        state = json.loads(m.group(1))
        start = m.end()
        out[state["project"]] = (state, body[start:start + state["len"]])
    return out


def table_row(body, project):
    return next((line for line in body.splitlines() if line.startswith(f"| `{project}` |")), None)


def isolate(act, binary):
    """Run the rest of this script in a network namespace of its own, where only loopback
    exists: nothing it starts (act, terraform, plangate, curl) can reach another host. act
    itself asks the kernel for a route to 8.8.8.8 when it starts (a UDP connect that sends
    nothing), to pick its servers' default address; here that finds no route. Where no
    namespace can be made (no unshare, no privilege), the run goes on on the host's loopback."""
    if os.environ.get("PLANGATE_E2E_NETNS") == "inside":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
        print("     (in a network namespace with only loopback)")
        return
    unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    if os.environ.get("PLANGATE_E2E_NETNS") == "off" or not shutil.which("unshare") or not shutil.which("ip"):
        print("     (no network namespace: running on the host's loopback)")
        return
    probe = subprocess.run([*unshare, "ip", "link", "set", "lo", "up"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        print(f"     (no network namespace ({probe.stderr.strip()}): running on the host's loopback)")
        return
    env = {**os.environ, "PLANGATE_E2E_NETNS": "inside", "ACT": act, "PLANGATE_BIN": binary}
    p = subprocess.run([*unshare, sys.executable, os.path.abspath(__file__)], env=env, stdin=subprocess.DEVNULL)
    sys.exit(p.returncode)


def main():
    act = find_act()
    terraform_bin = os.environ.get("TERRAFORM") or shutil.which("terraform")
    if not terraform_bin:
        skip("terraform is not installed: the example workflow runs terraform plan")
    binary = os.path.abspath(plangate_binary())
    isolate(act, binary)
    version = action_default_version()
    refs = uses_refs()
    for needed in ("plangate/plangate", "actions/checkout", "hashicorp/setup-terraform", "actions/upload-artifact"):
        assert needed in refs, f"{EXAMPLE} has no `uses: {needed}@...`"

    if not shutil.which("openssl"):
        skip("openssl is not installed: the GitHub stand-in needs a throwaway certificate")
    tmp = tempfile.mkdtemp(prefix="plangate-act-e2e.")
    stand = None
    checks = Checks()
    try:
        stand = StandIn(tmp)
        target = machine_target()
        asset = f"plangate-{version}-{target}.tar.gz"
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(binary, arcname="plangate")
        archive = buf.getvalue()
        download = f"/download/v{version}/{asset}"
        stand.release.files[download] = archive
        plangate_action = action_copy(tmp, "plangate-action", f"{hashlib.sha256(archive).hexdigest()}  {asset}\n")
        artifacts = os.path.join(tmp, "artifacts")
        terraform = Terraform(terraform_bin, tmp)
        setup, upload = stand_ins(tmp, terraform, artifacts)
        locals_ = {"plangate/plangate": plangate_action, "hashicorp/setup-terraform": setup, "actions/upload-artifact": upload}

        # The infrastructure repository, at the pull request's first commit.
        ws = os.path.join(tmp, "infra")
        os.makedirs(ws)
        git(ws, "init", "-q", "-b", "main")
        git(ws, "remote", "add", "origin", f"https://github.com/{OWNER}/{REPO}.git")
        os.makedirs(os.path.join(ws, ".github", "workflows"))
        shutil.copy2(EXAMPLE, os.path.join(ws, ".github", "workflows", "plangate.yml"))
        write(os.path.join(ws, "README.md"), "Infrastructure of acme.\n")
        git(ws, "add", "-A")
        git(ws, "commit", "-q", "-m", "the base branch")
        # The pull request's branch. The base branch is there, as `fetch-depth: 0` gives it on
        # GitHub: plangate compares the repository's policy with its version there.
        git(ws, "checkout", "-q", "-b", "feature")
        terraform.state_dir(os.path.join(ws, "envs", "staging"), read(os.path.join(INCIDENT, "tf", "step1", "main.tf")),
                            read(os.path.join(INCIDENT, "tf", "config", "main.tf")), tmp)
        terraform.state_dir(os.path.join(ws, "envs", "production"), PRODUCTION_BEFORE, PRODUCTION_AFTER, tmp)
        git(ws, "add", "-A")
        git(ws, "commit", "-q", "-m", "staging: remove the old cluster")
        head1 = git(ws, "rev-parse", "HEAD")
        assert read(os.path.join(ws, ".github", "workflows", "plangate.yml")) == read(EXAMPLE)

        # The pull request, with someone else's comment, which plangate must leave alone.
        stand.open_pull(head1)
        human = stand.gh.add_comment(f"{OWNER}/{REPO}", PR, "octocat", "Looks fine to me, waiting for the plan.")

        def event(head):
            path = os.path.join(tmp, f"event-{head[:8]}.json")
            write(path, json.dumps({
                "action": "synchronize",
                "number": PR,
                "pull_request": {"number": PR, "head": {"sha": head, "ref": "feature"}, "base": {"sha": "0" * 40, "ref": "main"}},
                "repository": {"full_name": f"{OWNER}/{REPO}", "name": REPO, "owner": {"login": OWNER}},
            }))
            return path

        started = time.monotonic()
        run1 = run_act(act, ws, event(head1), refs, locals_, stand, tmp, os.path.join(tmp, "home"))
        print(f"     (act run 1 took {time.monotonic() - started:.0f}s, exit {run1.code})")
        with open(os.path.join(tmp, "act-run-1.log"), "w") as f:
            f.write(run1.raw)
        requests1 = stand.requests()
        downloads1 = list(stand.release.requests)
        with open(os.path.join(tmp, "requests-1.json"), "w") as f:
            json.dump(requests1, f, indent=1)

        def results1():
            assert run1.code != 0, f"act exited {run1.code}"
            assert run1.matrix_result() == "failure", run1.matrix_result()
            assert "Error: Job 'plan' failed" in run1.raw
            production = run1.step_results("app-production")
            assert len(production) == 6 and all(r == "success" for _, r in production), production
        checks.check("act fails the run: the blocked job fails, app-production's steps all pass", results1)

        def staging_steps():
            results = dict(run1.step_results("app-staging"))
            assert results.get("plangate") == "failure", run1.step_results("app-staging")
            assert results.get("terraform plan") == "success", results
            # always(): the status and the report still go out after the block.
            assert results.get("commit status") == "success", results
            assert results.get("keep the report") == "success", results
        checks.check("blocked job: plangate fails its step, the always() steps still run", staging_steps)

        def outputs1():
            o = run1.outputs("app-staging", "plangate")
            assert o.get("verdict") == "block" and o.get("blocked") == "true", o
            assert o.get("pr-number") == str(PR) and o.get("head-sha") == head1, o
            # The runner's temp folder is gone after the job; upload-artifact kept the report.
            kept = os.path.join(artifacts, "plangate-app-staging", os.path.basename(o["report-path"]))
            report = json.loads(read(kept))
            assert report["verdict"] == "block", report["verdict"]
            assert [p["name"] for p in report["projects"]] == ["app-staging"], report["projects"]
            p = run1.outputs("app-production", "plangate")
            assert p.get("verdict") == "warn" and p.get("blocked") == "false", p
            kept = os.path.join(artifacts, "plangate-app-production", os.path.basename(p["report-path"]))
            assert json.loads(read(kept))["verdict"] == "warn"
        checks.check("outputs verdict/blocked/report-path/pr-number/head-sha, report kept", outputs1)

        def install1():
            assert downloads1 == [download, download], f"the tarball was fetched as {downloads1}"
            for project in ("app-staging", "app-production"):
                notices = run1.commands(project, "notice")
                assert not [n for n in notices if "plangate install" in n], notices
                installed = run1.file_outputs(project, "plangate", "install").get("bin", "")
                assert installed.startswith(os.path.join(tmp, "act-cache")) and installed.endswith("/plangate-bin/plangate"), installed
                errors = [e for e in run1.commands(project, "error") if "plangate install" in e]
                assert not errors, errors
        checks.check("the action installed the pinned release from the loopback download", install1)

        def annotations1():
            errors = run1.commands("app-staging", "error")
            ours = [e for e in errors if e.startswith("::error title=plangate ")]
            assert ours, run1.commands("app-staging", "error")
            assert all(e.startswith("::error title=plangate cross-env-destroy (app-staging)::") for e in ours), ours
            text = "\n".join(ours)
            assert "aws_eks_cluster.cluster" in text, text
            assert "dev" in text, text
            assert not [w for w in run1.commands("app-staging", "warning") if w.startswith("::warning title=plangate")]
            assert not [e for e in run1.commands("app-production", "error") if e.startswith("::error title=plangate")]
            warnings = [w for w in run1.commands("app-production", "warning") if w.startswith("::warning title=plangate")]
            assert warnings == ["::warning title=plangate state-forget (app-production)::aws_s3_bucket.reports"
                                " would be removed from the state but keeps running, unmanaged"], warnings
        checks.check("annotations: ::error for each blocked destroy, ::warning for the forgotten bucket", annotations1)

        def summary1():
            staging = "\n".join(run1.summaries("app-staging"))
            assert "BLOCK" in staging and "cross-env-destroy" in staging, staging
            assert "aws_eks_cluster.cluster" in staging, staging
            production = "\n".join(run1.summaries("app-production"))
            assert "WARN" in production and "state-forget" in production and "BLOCK" not in production, production
        checks.check("the job summary is plangate's Markdown report", summary1)

        def comments1():
            comments = stand.comments()
            ours = [c for c in comments if pr_marker(c["body"]) == PR]
            assert len(ours) == 1, [c["body"][:80] for c in comments]
            assert ours[0]["user"] == BOT
            body = ours[0]["body"]
            by_project = sections(body)
            assert sorted(by_project) == ["app-production", "app-staging"], body
            state, staging = by_project["app-staging"]
            assert state["verdict"] == "block", state
            assert "cross-env-destroy" in staging and "aws_eks_cluster.cluster" in staging, staging
            assert by_project["app-production"][0]["verdict"] == "warn", by_project["app-production"]
            assert "| `app-staging` | staging | ⛔\u00a0block |" in body, body
            assert body.splitlines()[1].startswith("### ⛔ BLOCK · 1 of 2 projects blocked"), body
            assert comments[0] == {"id": human["id"], "body": "Looks fine to me, waiting for the plan.", "user": "octocat"}
            # The two jobs run at the same time: both may create the comment, then fold the
            # copies into one.
            posts = [r for r in requests1 if r[0] == "POST" and r[1].endswith(f"/issues/{PR}/comments")]
            assert 1 <= len(posts) <= 2, posts
            assert len(comments) == 2, [c["body"][:80] for c in comments]
            # Every request was known to the stand-in, carried the token and succeeded, but for
            # one race: both jobs may fold the same copy, and the second DELETE finds it gone
            # (404), which plangate takes as done (the one comment left is checked above).
            assert not stand.gh.unknown, stand.gh.unknown
            failed = [r for r in requests1 if r[2] >= 400
                      and not (r[0] == "DELETE" and "/issues/comments/" in r[1] and r[2] == 404)]
            assert not failed, failed
            assert TOKEN not in run1.raw, "the token is in act's log"
        checks.check("one comment for the pull request with a section per project, others' comments untouched", comments1)

        def statuses1():
            got = sorted((s["context"], s["state"], s["sha"]) for s in stand.statuses())
            assert got == [("plangate/app-production", "success", head1), ("plangate/app-staging", "failure", head1)], got
        checks.check("commit statuses from the example's status step", statuses1)

        # Run 2: a new commit on the pull request makes the staging plan the clean neighbour.
        clean = os.path.join(INCIDENT, "clean", "tf")
        terraform.state_dir(os.path.join(ws, "envs", "staging"), read(os.path.join(clean, "step1", "main.tf")),
                            read(os.path.join(clean, "config", "main.tf")), tmp)
        git(ws, "add", "-A")
        git(ws, "commit", "-q", "-m", "staging: tear down staging's own cluster")
        head2 = git(ws, "rev-parse", "HEAD")
        stand.set_head(head2)
        stand.clear()
        ids_before = [c["id"] for c in stand.comments() if pr_marker(c["body"]) == PR]
        staging_plan1 = next(sections(c["body"])["app-staging"][0]["plan_sha256"]
                             for c in stand.comments() if pr_marker(c["body"]) == PR)
        # Staging tears down its own cluster on purpose (a stateful delete), and says so.
        with stand.gh.lock:
            stand.gh.pulls[(f"{OWNER}/{REPO}", PR)].labels.append("plangate:destroy:app-staging")
        started = time.monotonic()
        run2 = run_act(act, ws, event(head2), refs, locals_, stand, tmp, os.path.join(tmp, "home"))
        print(f"     (act run 2 took {time.monotonic() - started:.0f}s, exit {run2.code})")
        with open(os.path.join(tmp, "act-run-2.log"), "w") as f:
            f.write(run2.raw)

        def run2_passes():
            assert run2.code == 0, f"act exited {run2.code}"
            assert run2.matrix_result() == "success", run2.matrix_result()
            for project in ("app-staging", "app-production"):
                results = run2.step_results(project)
                assert len(results) == 6 and all(r == "success" for _, r in results), (project, results)
            o = run2.outputs("app-staging", "plangate")
            assert o.get("verdict") in ("pass", "warn") and o.get("blocked") == "false", o
            assert o.get("head-sha") == head2, o
            assert not [e for e in run2.commands("app-staging", "error") if e.startswith("::error title=plangate")]
            staging = "\n".join(run2.summaries("app-staging"))
            assert "BLOCK" not in staging and o["verdict"].upper() in staging, staging
        checks.check("run 2: the clean plan passes, no error annotations", run2_passes)

        def run2_warnings_match_verdict():
            warnings = [w for w in run2.commands("app-staging", "warning") if w.startswith("::warning title=plangate ")]
            verdict = run2.outputs("app-staging", "plangate").get("verdict")
            assert (verdict == "warn") == bool(warnings), (verdict, warnings)
            for w in warnings:
                assert "(app-staging)::" in w, w
        checks.check("run 2: ::warning annotations exactly when the verdict is warn", run2_warnings_match_verdict)

        def comments2():
            comments = stand.comments()
            requests = stand.requests()
            ours = [c for c in comments if pr_marker(c["body"]) == PR]
            assert [c["id"] for c in ours] == ids_before, (ours, ids_before)
            body = ours[0]["body"]
            state, _ = sections(body)["app-staging"]
            assert state["verdict"] in ("pass", "warn") and state["counts"]["delete"] == 5, state
            assert state["plan_sha256"] != staging_plan1, "the comment still names run 1's plan"
            row = table_row(body, "app-staging")
            assert row and "⛔" not in row and "| 5 |" in row, row
            assert "BLOCK" not in body.splitlines()[1], body
            assert not [r for r in requests if r[0] == "POST" and r[1].endswith("/comments")], "a new comment instead of an update"
            assert [r for r in requests if r[0] == "PATCH"], "the comment was not updated"
            assert not stand.gh.unknown and all(r[2] < 400 for r in requests), (stand.gh.unknown, requests)
            assert len(comments) == 2
            got = sorted((s["context"], s["state"]) for s in stand.statuses() if s["sha"] == head2)
            assert got == [("plangate/app-production", "success"), ("plangate/app-staging", "success")], got
        checks.check("run 2: the comment is updated in place, statuses on the new head", comments2)

        # Run 3 (opt-in: a release build of plangate in each job): the action at a ref whose
        # scripts/checksums.txt pins nothing for its version builds its own checkout.
        if os.environ.get("PLANGATE_E2E_SOURCE_BUILD") != "1":
            print("skip run 3: skipped: the source-build fallback under act runs with PLANGATE_E2E_SOURCE_BUILD=1")
            return checks
        cargo = shutil.which("cargo")
        if cargo is None:
            print("skip run 3: skipped: cargo is not installed")
            return checks
        unpinned = action_copy(tmp, "plangate-action-unpinned", "# nothing pinned at this ref\n", source=True)
        stand.clear()
        host_env = {
            "PATH": f"{os.path.dirname(cargo)}:/usr/local/bin:/usr/bin:/bin",
            "CARGO_HOME": os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo")),
            "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", os.path.expanduser("~/.rustup")),
            "CARGO_NET_OFFLINE": "true",  # the crates come from cargo's cache: there is no network
        }
        if os.environ.get("CARGO_TARGET_DIR"):
            host_env["CARGO_TARGET_DIR"] = os.environ["CARGO_TARGET_DIR"]
        started = time.monotonic()
        run3 = run_act(act, ws, event(head2), refs, {**locals_, "plangate/plangate": unpinned}, stand, tmp,
                       os.path.join(tmp, "home"), host_env)
        print(f"     (act run 3 took {time.monotonic() - started:.0f}s, exit {run3.code})")
        with open(os.path.join(tmp, "act-run-3.log"), "w") as f:
            f.write(run3.raw)

        def run3_builds_with_a_notice():
            assert run3.code == 0, f"act exited {run3.code}"
            assert stand.release.requests == [], "a download without a pinned sum"
            for project in ("app-staging", "app-production"):
                notices = [n for n in run3.commands(project, "notice") if n.startswith("::notice title=plangate install::")]
                assert notices == [f"::notice title=plangate install::no sha256 for {asset} is pinned in scripts/checksums.txt:"
                                   " building plangate from source with cargo instead (this takes a few minutes)"], notices
                installed = run3.file_outputs(project, "plangate", "install").get("bin", "")
                assert installed.endswith("/plangate-bin/plangate"), installed
            assert run3.outputs("app-staging", "plangate").get("verdict") == "pass"
            assert run3.outputs("app-production", "plangate").get("verdict") == "warn"
        checks.check("run 3: nothing pinned: a ::notice, a source build, the same verdicts", run3_builds_with_a_notice)
        return checks
    finally:
        if stand is not None:
            stand.stop()
        if os.environ.get("PLANGATE_E2E_KEEP") == "1":
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    result = main()
    print(f"{result.passed} passed, {result.failed} failed")
    sys.exit(1 if result.failed else 0)
