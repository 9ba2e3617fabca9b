#!/usr/bin/env python3
"""plangate inside a real Atlantis server, end to end.

    python3 tests/e2e/atlantis/run.py --plangate target/release/plangate [--atlantis PATH]
                                      [--capture] [--keep] [--only SCENARIO ...]

Starts Atlantis (scripts/e2e/install-atlantis.sh installs the pinned release) against a GitHub
Enterprise stand-in (fake_github.py: TLS with a throwaway CA, the REST and GraphQL calls
Atlantis and plangate make, git clones through git http-backend), with a fresh repository of
terraform_data projects (app-staging, app-dev) and the server config from examples/atlantis/
as shipped. It sends signed pull-request webhooks and `atlantis ...` comments and checks the
comments, commit statuses and Terraform state that result.

Everything runs in a private network namespace that has only a loopback interface (Atlantis
binds every interface; in the namespace that is 127.0.0.1 alone). Every wait has a deadline;
every process is stopped at the end, by process group, and the temporary directory removed.

Prints `skipped: ...` and exits 0 when Atlantis, terraform/tofu, openssl, git or git
http-backend is missing, or no network namespace can be made. Exits 1 when a scenario fails,
2 on bad arguments. With --capture, writes the Markdown of the comments posted in each scenario
to tests/e2e/atlantis/captured/ (temporary paths and ports replaced by fixed placeholders).
"""

import argparse
import ctypes
import fcntl
import hashlib
import hmac
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fake_github  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
EXAMPLES = REPO_ROOT / "examples" / "atlantis"
CAPTURED = HERE / "captured"

# Obviously fake credentials: they only ever reach the stand-in.
TOKEN = "fake-ghe-token-for-the-e2e-test"
WEBHOOK_SECRET = "fake-webhook-secret-for-the-e2e-test"
OWNER = "acme"
AUTHOR = "dev-alice"          # opens the pull requests; not a policy owner
REVIEWER = "reviewer-carol"   # approves them (apply requirement `approved`)
ONCALL = "oncall-bob"         # in the team that owns the policy check
TEAMS = {AUTHOR: ["developers"], REVIEWER: ["developers"], ONCALL: ["platform-oncall"]}

PLAN_DEADLINE = 180     # seconds for one Atlantis command (clone, init, plan, plangate)
START_DEADLINE = 60     # seconds for Atlantis to answer /healthz
TOTAL_DEADLINE = 540    # seconds for the whole run


class Skip(Exception):
    pass


class Failure(Exception):
    pass


class BadArguments(Exception):
    pass


# --- the machine ---------------------------------------------------------------------------

def enter_loopback_only_network():
    """Move this process into a new network namespace and bring its loopback up. Root can do
    it directly; others through a user namespace that maps them to root."""
    libc = ctypes.CDLL(None, use_errno=True)
    clone_newnet, clone_newuser = 0x40000000, 0x10000000
    if libc.unshare(clone_newnet) != 0:
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(clone_newuser | clone_newnet) != 0:
            raise Skip("cannot make a network namespace to keep Atlantis on loopback "
                       f"({os.strerror(ctypes.get_errno())})")
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, ifreq))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))  # SIOCSIFFLAGS UP


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, cwd=None, env=None, timeout=120, check=True):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    if check and proc.returncode != 0:
        raise Failure(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n"
                      f"{proc.stdout}{proc.stderr}")
    return proc


def find_tools(args):
    cache = Path(os.environ.get("PLANGATE_CACHE") or Path.home() / ".cache" / "plangate")
    plangate = Path(args.plangate).resolve()
    if not (plangate.is_file() and os.access(plangate, os.X_OK)):
        raise BadArguments(f"--plangate {args.plangate}: not an executable file")
    if args.atlantis:
        atlantis = Path(args.atlantis).resolve()
        if not (atlantis.is_file() and os.access(atlantis, os.X_OK)):
            raise BadArguments(f"--atlantis {args.atlantis}: not an executable file")
    else:
        found = cache / "bin" / "atlantis"
        atlantis = found if found.is_file() else shutil.which("atlantis")
        if not atlantis:
            raise Skip("no atlantis binary (install it with scripts/e2e/install-atlantis.sh, "
                       "or pass --atlantis PATH)")
        atlantis = Path(atlantis)
    terraform = shutil.which("terraform")
    if terraform:
        tf = ("terraform", Path(terraform))
    else:
        tofu = shutil.which("tofu") or (cache / "bin" / "tofu")
        if not Path(tofu).is_file():
            raise Skip("neither terraform nor tofu is on PATH (nor $PLANGATE_CACHE/bin/tofu)")
        tf = ("opentofu", Path(tofu))
    for tool in ("openssl", "git"):
        if not shutil.which(tool):
            raise Skip(f"no {tool} on PATH")
    if not os.access(fake_github.GIT_HTTP_BACKEND, os.X_OK):
        raise Skip(f"no {fake_github.GIT_HTTP_BACKEND} (Debian package git)")
    return plangate, atlantis, tf


def make_certificates(d):
    """A throwaway CA and a certificate for 127.0.0.1 signed by it."""
    d.mkdir()
    ca_key, ca, key, csr, cert = (d / n for n in ("ca.key", "ca.pem", "server.key",
                                                  "server.csr", "server.pem"))
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
         "-out", ca, "-days", "2", "-subj", "/CN=plangate e2e throwaway CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1"])
    ext = d / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial",
         str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-out", cert,
         "-extfile", ext])
    return ca, cert, key


# --- the repository -----------------------------------------------------------------------

def project_tf(state_dir, project, resources):
    lines = [f"# {project}: terraform_data resources stand for the project's infrastructure;",
             "# `input.env` says which environment each object belongs to.",
             "terraform {", '  backend "local" {', f'    path = "{state_dir}/{project}.tfstate"',
             "  }", "}", ""]
    for name, (label, env, note) in resources.items():
        if note:
            lines.append(f"# {note}")
        lines += [f'resource "terraform_data" "{name}" {{',
                  f'  input = {{ name = "{label}", env = "{env}" }}', "}", ""]
    return "\n".join(lines)


STAGING = {
    "app": ("app-staging", "staging", None),
    "queue": ("jobs-staging", "staging", None),
    "peering": ("peering-dev-to-shared", "dev",
                "Copied here from envs/dev when the peering was set up: the object is dev's."),
}
DEV = {"app": ("app-dev", "dev", None)}


class Repository:
    """acme/infra-MODE: a bare repository the stand-in serves, and a work tree to commit in."""

    def __init__(self, root, mode, git_env):
        self.name = f"{OWNER}/infra-{mode}"
        self.bare = root / "git" / f"{self.name}.git"
        self.work = root / "work" / mode
        self.state = root / "state" / mode
        self.env = git_env
        self.state.mkdir(parents=True)
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        run(["git", "init", "-q", "--bare", "-b", "main", self.bare], env=git_env)
        run(["git", "init", "-q", "-b", "main", self.work], env=git_env)
        run(["git", "remote", "add", "origin", self.bare], cwd=self.work, env=git_env)

    def git(self, *args):
        return run(["git", *args], cwd=self.work, env=self.env).stdout.strip()

    def write(self, files):
        for rel, text in files.items():
            path = self.work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def commit(self, message, branch):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "-f", "origin", f"HEAD:refs/heads/{branch}")
        return self.git("rev-parse", "HEAD")

    def base(self, mode):
        self.write({
            ".gitignore": ".terraform/\n.terraform.lock.hcl\n*.tfplan\n",
            "atlantis.yaml": (EXAMPLES / mode / "atlantis.yaml").read_text(),
            "envs/staging/main.tf": project_tf(self.state, "app-staging", STAGING),
            "envs/dev/main.tf": project_tf(self.state, "app-dev", DEV),
        })
        return self.commit("Two projects: app-staging and app-dev", "main")

    def branch(self, name, files, message):
        """A pull-request branch off main: (head sha, changed files)."""
        self.git("checkout", "-q", "-B", name, "main")
        self.write(files)
        sha = self.commit(message, name)
        changed = self.git("diff", "--name-status", "main", sha).splitlines()
        self.git("checkout", "-q", "main")
        return sha, [tuple(line.split("\t", 1)) for line in changed]

    def state_addresses(self, project):
        path = self.state / f"{project}.tfstate"
        if not path.exists():
            return set()
        state = json.loads(path.read_text())
        return {f"{r['type']}.{r['name']}" for r in state.get("resources", [])
                if r.get("mode") == "managed"}


# --- one run -------------------------------------------------------------------------------

class Harness:
    def __init__(self, args, plangate, atlantis, tf):
        self.args = args
        self.plangate = plangate
        self.atlantis = atlantis
        self.tf_distribution, self.tf = tf
        self.root = Path(tempfile.mkdtemp(prefix="plangate-atlantis-e2e-"))
        self.deadline = time.monotonic() + TOTAL_DEADLINE
        self.processes = []
        self.passed = []
        self.failed = []
        self.captures = {}
        self.measurements = []
        self.gh = None

    # -- setup --
    def setup(self):
        bin_dir = self.root / "bin"
        bin_dir.mkdir()
        (bin_dir / "plangate").symlink_to(self.plangate)
        tf_name = "tofu" if self.tf_distribution == "opentofu" else "terraform"
        (bin_dir / tf_name).symlink_to(self.tf)
        self.tf_name = tf_name
        home = self.root / "home"
        home.mkdir()
        ca, cert, key = make_certificates(self.root / "tls")
        self.ca = ca
        git_dir = os.path.dirname(shutil.which("git"))
        path = os.pathsep.join(dict.fromkeys([str(bin_dir), git_dir, "/usr/local/bin",
                                              "/usr/bin", "/bin"]))
        # What every program started here sees; nothing of the caller's environment leaks in
        # (no GITHUB_TOKEN, no proxies, no terraform settings).
        self.base_env = {
            "PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(self.root),
            "CHECKPOINT_DISABLE": "1",
            # Go (Atlantis) and rustls-native-certs (plangate) read SSL_CERT_FILE; Debian's git
            # is built with GnuTLS and reads GIT_SSL_CAINFO.
            "SSL_CERT_FILE": str(ca), "GIT_SSL_CAINFO": str(ca),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "plangate e2e", "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
            "GIT_COMMITTER_NAME": "plangate e2e", "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
        }
        self.gh = fake_github.FakeGitHub(str(self.root / "git"), str(cert), str(key), TOKEN,
                                         TEAMS).start()

    def cleanup(self):
        for proc in self.processes:
            stop_process_group(proc)
        if self.gh:
            self.gh.stop()
        if self.args.keep:
            print(f"kept: {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def left(self, limit):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Failure(f"the whole run took longer than {TOTAL_DEADLINE} s")
        return time.monotonic() + min(limit, left)

    # -- terraform outside Atlantis --
    def tf_env(self):
        return {**self.base_env, "TF_IN_AUTOMATION": "1"}

    def apply_base(self, repo):
        for project in ("staging", "dev"):
            d = repo.work / "envs" / project
            run([self.tf_name, "init", "-input=false", "-no-color"], cwd=d, env=self.tf_env())
            run([self.tf_name, "apply", "-input=false", "-auto-approve", "-no-color"], cwd=d,
                env=self.tf_env())

    def preflight(self, repo, branch, project, dir_, policy, expect):
        """The verdict the current plangate gives this branch's plan, outside Atlantis."""
        tree = self.root / "preflight" / f"{repo.name}-{branch}"
        run(["git", "clone", "-q", "-b", branch, str(repo.bare), str(tree)], env=self.base_env)
        d = tree / dir_
        run([self.tf_name, "init", "-input=false", "-no-color"], cwd=d, env=self.tf_env())
        run([self.tf_name, "plan", "-input=false", "-no-color", "-lock=false",
             "-out=preflight.tfplan"], cwd=d, env=self.tf_env())
        show = run([self.tf_name, "show", "-json", "preflight.tfplan"], cwd=d,
                   env=self.tf_env())
        (d / "preflight.json").write_text(show.stdout)
        out = run([str(self.plangate), "check", "--plan", "preflight.json", "--project",
                   project, "--policy", str(policy), "--format", "json", "--comment", "off"],
                  cwd=d, env=self.base_env, check=False)
        if out.returncode not in (0, 1):
            raise Failure(f"plangate could not check the {branch} plan (exit {out.returncode}):"
                          f"\n{out.stderr}")
        report = json.loads(out.stdout)
        rules = sorted({f["rule"] for f in report["findings"] if f["level"] == "deny"})
        got = (report["verdict"], rules)
        if got != expect:
            raise Failure(f"preflight: plangate gives the {branch} plan of {project} {got}, "
                          f"the scenario needs {expect}")
        shutil.rmtree(tree)

    def server_flags(self, mode, without=()):
        """The flags examples/atlantis/MODE/README.md gives for `atlantis server`, less those
        that name the site (host, user, URL, allowlist of repositories), which this run sets
        itself; --repo-config points at the example's repos.yaml."""
        return readme_server_flags(EXAMPLES / mode / "README.md", EXAMPLES / mode / "repos.yaml",
                                   without)

    # -- Atlantis --
    def start_atlantis(self, mode, flags, policy=True):
        port = free_port()
        data = self.root / f"atlantis-{mode}"
        data.mkdir()
        env = {**self.base_env,
               "ATLANTIS_GH_TOKEN": TOKEN,
               "ATLANTIS_GH_WEBHOOK_SECRET": WEBHOOK_SECRET}
        # Each server has its own copy of the operator's policy, so that one scenario's change
        # to it never reaches another.
        policy_file = self.root / f"policy-{mode}.yaml"
        shutil.copyfile(HERE / "trusted-policy.yaml", policy_file)
        if policy:
            env["PLANGATE_POLICY"] = str(policy_file)
        cmd = [str(self.atlantis), "server",
               "--port", str(port),
               "--atlantis-url", f"http://127.0.0.1:{port}",
               "--data-dir", str(data),
               "--gh-hostname", self.gh.host,
               "--gh-user", "atlantis-bot",
               "--repo-allowlist", f"127.0.0.1/{OWNER}/*",
               "--default-tf-distribution", self.tf_distribution,
               "--log-level", "debug",
               *flags]
        log = open(self.root / f"atlantis-{mode}.log", "w")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=data)
        proc.log_path = log.name
        log.close()
        self.processes.append(proc)
        deadline = self.left(START_DEADLINE)
        while True:
            if proc.poll() is not None:
                raise Failure(f"atlantis exited {proc.returncode} at start:\n"
                              f"{tail(proc.log_path)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                raise Failure(f"atlantis did not answer /healthz in {START_DEADLINE} s:\n"
                              f"{tail(proc.log_path)}")
            time.sleep(0.3)
        return Atlantis(self, proc, port, data, policy_file)


SITE_FLAGS = {"--gh-hostname", "--gh-user", "--repo-allowlist", "--atlantis-url", "--port",
              "--data-dir", "--gh-token", "--gh-webhook-secret"}


def readme_server_flags(readme, repo_config, without=()):
    text = readme.read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    command = next((b for b in blocks if b.lstrip().startswith("atlantis server")), None)
    if command is None:
        raise Failure(f"{readme}: no ```sh block with `atlantis server`")
    words = shlex.split(command.replace("\\\n", " "))[2:]
    flags, i = [], 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--"):
            raise Failure(f"{readme}: `{word}` in the atlantis server command is not a flag")
        name, eq, value = word.partition("=")
        if not eq and i + 1 < len(words) and not words[i + 1].startswith("--"):
            value, eq, i = words[i + 1], "=", i + 1
        i += 1
        if name in SITE_FLAGS or name in without:
            continue
        if name == "--repo-config":
            if Path(value).name != "repos.yaml":
                raise Failure(f"{readme}: --repo-config {value} is not the example's repos.yaml")
            value = str(repo_config)
        flags.append(f"{name}={value}" if eq else name)
    if not any(f.startswith("--repo-config=") for f in flags):
        raise Failure(f"{readme}: the atlantis server command has no --repo-config")
    return flags


def tail(path, lines=40):
    """The end of a log, without Atlantis's once-a-second metrics lines."""
    text = [line for line in Path(path).read_text(errors="replace").splitlines()
            if '"caller":"metrics/' not in line]
    return "\n".join(text[-lines:])


def stop_process_group(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left of the group (terraform, plangate, git started by Atlantis).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


class Atlantis:
    """One running server and the pull requests sent to it."""

    def __init__(self, harness, proc, port, data, policy):
        self.h = harness
        self.policy = policy
        self.proc = proc
        self.port = port
        self.data = data
        self.gh = harness.gh

    def stop(self):
        stop_process_group(self.proc)

    def webhook(self, event, payload):
        body = json.dumps(payload).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/events", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-GitHub-Event": event,
                     "X-GitHub-Delivery": f"e2e-{time.monotonic_ns()}",
                     "X-Hub-Signature-256": f"sha256={signature}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def open_pull(self, repo, number, branch, sha, files, title):
        pull = fake_github.PullRequest(repo.name, number, title, AUTHOR, branch, sha, "main",
                                       repo.git("rev-parse", "main"),
                                       [(status_word(s), f) for s, f in files])
        pull.reviews = [REVIEWER]
        self.gh.add_pull(pull)
        mark = self.mark(repo.name, number)
        payload = {"action": "opened", "number": number,
                   "pull_request": self.gh._pull_json(pull),
                   "repository": self.gh._repo_json(repo.name),
                   "sender": self.gh._user_json(AUTHOR)}
        status, body = self.webhook("pull_request", payload)
        if status != 200:
            raise Failure(f"atlantis answered the pull_request webhook {status}: {body}")
        return mark

    def comment(self, repo, number, user, text):
        """A person comments on the pull request; GitHub sends Atlantis the webhook."""
        mark = self.mark(repo.name, number)
        c = self.gh.add_comment(repo.name, number, user, text)
        pull = self.gh.pulls[(repo.name, number)]
        payload = {"action": "created",
                   "issue": {"number": number, "title": pull.title,
                             "user": self.gh._user_json(pull.author),
                             "pull_request": {"url": f"{self.gh.base_url}/api/v3/repos/"
                                                     f"{repo.name}/pulls/{number}"}},
                   "comment": self.gh._comment_json(c),
                   "repository": self.gh._repo_json(repo.name),
                   "sender": self.gh._user_json(user)}
        status, body = self.webhook("issue_comment", payload)
        if status != 200:
            raise Failure(f"atlantis answered the issue_comment webhook {status}: {body}")
        return mark

    def mark(self, repo, number):
        """Where the pull request's comments and statuses stand now."""
        with self.gh.lock:
            return (len(self.gh.comments), len(self.gh.statuses))

    def reply(self, repo, number, mark, starts, limit=PLAN_DEADLINE):
        """The next comment Atlantis (not plangate) posts after `mark` whose body starts with
        one of `starts`."""
        starts = (starts,) if isinstance(starts, str) else starts

        def found():
            for c in self.gh.comments[mark[0]:]:
                if (c["repo"] == repo.name and c["pr"] == number and c["user"] == "atlantis-bot"
                        and "<!-- plangate:" not in c["body"]
                        and c["body"].lstrip().startswith(starts)):
                    return dict(c)
            return None

        try:
            return self.gh.wait_for(found, self.h.left(limit),
                                    f"an Atlantis comment starting with {starts!r}")
        except TimeoutError as e:
            raise Failure(f"{e}; comments so far:\n{self.dump(repo, number, mark)}\n"
                          f"atlantis log:\n{tail(self.proc.log_path)}") from None

    def status(self, repo, sha, mark, context, limit=PLAN_DEADLINE):
        """The status Atlantis sets for `context` when a command is done, after `mark`: not the
        "... in progress..." it sets first. It sets it after writing its database, so the next
        command sees this one's results. (Done can still be `pending`: "0/1 projects applied
        successfully.")"""
        def found():
            for s in reversed(self.gh.statuses[mark[1]:]):
                if s["repo"] == repo.name and s["sha"] == sha and s["context"] == context:
                    done = not (s["description"] or "").endswith("in progress...")
                    return s if done else None
            return None

        try:
            return self.gh.wait_for(found, self.h.left(limit), f"commit status {context}")
        except TimeoutError as e:
            raise Failure(f"{e}; statuses: {self.gh.statuses_of(repo.name, sha)}") from None

    def plangate_comment(self, repo, number):
        for c in self.gh.comments_of(repo.name, number):
            if "<!-- plangate:" in c["body"]:
                return c
        return None

    def dump(self, repo, number, mark=(0, 0)):
        return "\n---\n".join(f"[{c['user']}] {c['body'][:1500]}"
                              for c in self.gh.comments[mark[0]:]
                              if c["repo"] == repo.name and c["pr"] == number) or "(none)"

    def planfiles(self, repo, number, dir_):
        d = self.data / "repos" / repo.name / str(number) / "default" / dir_
        return sorted(p.name for p in d.glob("*.tfplan")) if d.is_dir() else []


def status_word(letter):
    return {"A": "added", "M": "modified", "D": "removed"}.get(letter[:1], "modified")


# --- checks --------------------------------------------------------------------------------

def expect(condition, message, body=None):
    if not condition:
        raise Failure(message + (f"\n--- comment ---\n{body}" if body is not None else ""))


def measure(harness, label, body):
    """Where plangate's verdict sits in what Atlantis posted: line number, folded or not, and
    the longest line of the step output. Printed, and kept for the captured/ README."""
    lines = body.splitlines()
    # `- plangate BLOCK: ...`, `FAIL plangate ...` (step output) or `### ⛔ BLOCK · ...`
    # (plangate's own comment).
    verdict_line = re.compile(r"^[-+] plangate (BLOCK|PASS)|^FAIL plangate|^#+ \W* (BLOCK|PASS) ")
    verdict = next((i for i, l in enumerate(lines) if verdict_line.search(l)), None)
    folded = verdict is not None and any(
        "<details>" in l for l in lines[:verdict]) and not any(
        "</details>" in l for l in lines[:verdict])
    step = []
    for l in lines[verdict:] if verdict is not None else []:
        if not l.strip() or l.startswith("```"):
            break
        step.append(l)
    longest = max((len(l) for l in step), default=0)
    fence = next((i for i, l in enumerate(lines) if l.startswith("```")), None)
    first = (f", first line in the code block {len(lines[fence + 1])} chars"
             if fence is not None and fence + 1 < len(lines) else "")
    row = (f"{label}: verdict on line {verdict + 1 if verdict is not None else '-'} of "
           f"{len(lines)}, {'folded (Show Output)' if folded else 'visible'}, "
           f"longest plangate line {longest} chars{first}")
    harness.measurements.append(row)
    print(f"  measured: {row}")


def scenario(fn):
    fn.scenario = fn.__name__.removeprefix("scenario_").replace("_", "-")
    return fn


class Scenarios:
    def __init__(self, h):
        self.h = h

    def capture(self, name, body):
        self.h.captures[name] = body

    # ---------------------------------------------------------------------- report mode --
    @scenario
    def scenario_report(self):
        """report mode (a) a blocked plan and (d) a clean plan, and (e) pull requests that try
        to pick a workflow without plangate."""
        h = self.h
        repo = Repository(h.root, "report", h.base_env)
        repo.base("report")
        h.apply_base(repo)
        blocked_sha, blocked_files = repo.branch(
            "remove-peering",
            {"envs/staging/main.tf": project_tf(repo.state, "app-staging",
                                                {k: v for k, v in STAGING.items()
                                                 if k != "peering"})},
            "staging: remove the peering block")
        clean_sha, clean_files = repo.branch(
            "add-dev-cache",
            {"envs/dev/main.tf": project_tf(repo.state, "app-dev",
                                            {**DEV, "cache": ("cache-dev", "dev", None)})},
            "dev: add a cache")
        h.preflight(repo, "remove-peering", "app-staging", "envs/staging", HERE /
                    "trusted-policy.yaml", ("block", ["cross-env-destroy"]))
        h.preflight(repo, "add-dev-cache", "app-dev", "envs/dev", HERE / "trusted-policy.yaml",
                    ("pass", []))
        atlantis = h.start_atlantis("report", h.server_flags("report"))
        try:
            self.report_blocked(atlantis, repo, blocked_sha, blocked_files)
            self.report_clean(atlantis, repo, clean_sha, clean_files)
            self.report_no_escape(atlantis, repo)
        finally:
            atlantis.stop()

    def report_blocked(self, atlantis, repo, sha, files):
        h = self.h
        mark = atlantis.open_pull(repo, 1, "remove-peering", sha, files,
                                  "staging: remove the peering block")
        plan = atlantis.reply(repo, 1, mark, "Ran Plan")
        status = atlantis.status(repo, sha, mark, "atlantis/plan")
        body = plan["body"]
        self.capture("report-blocked-plan", body)
        measure(h, "report mode, blocked plan (Atlantis comment)", body)
        expect("**Plan Error**" in body, "the blocked plan is not a Plan Error", body)
        expect("plangate BLOCK" in body and "cross-env-destroy" in body
               and "terraform_data.peering" in body,
               "the plan comment does not show plangate's verdict and finding", body)
        expect(status["state"] == "failure", f"atlantis/plan is {status['state']}, not failure")
        expect(atlantis.planfiles(repo, 1, "envs/staging") == [],
               "the blocked plan file is still in Atlantis's working directory: "
               f"{atlantis.planfiles(repo, 1, 'envs/staging')}")
        own = atlantis.plangate_comment(repo, 1)
        expect(own is not None, "plangate posted no comment of its own (ATLANTIS_GH_TOKEN)",
               atlantis.dump(repo, 1))
        self.capture("report-blocked-plangate-comment", own["body"])
        measure(h, "report mode, blocked plan (plangate's own comment)", own["body"])
        expect("cross-env-destroy" in own["body"], "plangate's comment lacks the finding",
               own["body"])
        h.passed.append("report: a blocked plan shows plangate's verdict, fails atlantis/plan, "
                        "and its plan file is gone")

        mark = atlantis.comment(repo, 1, AUTHOR, "atlantis apply")
        apply = atlantis.reply(repo, 1, mark, ("Ran Apply", "**Apply", "```"))
        status = atlantis.status(repo, sha, mark, "atlantis/apply")
        expect(status["state"] != "success" and status["description"].startswith("0/1 "),
               f"atlantis/apply says {status['state']}: {status['description']}")
        self.capture("report-blocked-apply", apply["body"])
        expect("Apply complete" not in apply["body"], "Atlantis applied a blocked plan",
               apply["body"])
        expect("terraform_data.peering" in repo.state_addresses("app-staging"),
               "terraform_data.peering is gone from staging's state: the blocked plan was "
               "applied")
        h.passed.append("report: `atlantis apply` after a blocked plan applies nothing")

    def report_clean(self, atlantis, repo, sha, files):
        h = self.h
        mark = atlantis.open_pull(repo, 2, "add-dev-cache", sha, files, "dev: add a cache")
        plan = atlantis.reply(repo, 2, mark, "Ran Plan")
        status = atlantis.status(repo, sha, mark, "atlantis/plan")
        body = plan["body"]
        self.capture("report-clean-plan", body)
        measure(h, "report mode, clean plan (Atlantis comment)", body)
        expect("plangate PASS" in body and "Plan: 1 to add, 0 to change, 0 to destroy" in body,
               "the clean plan comment lacks the plan or plangate's PASS", body)
        expect(status["state"] == "success", f"atlantis/plan is {status['state']}")
        expect("terraform_data.cache" not in repo.state_addresses("app-dev"),
               "the cache exists before the apply")
        mark = atlantis.comment(repo, 2, AUTHOR, "atlantis apply")
        apply = atlantis.reply(repo, 2, mark, "Ran Apply")
        atlantis.status(repo, sha, mark, "atlantis/apply")
        self.capture("report-clean-apply", apply["body"])
        expect("Apply complete! Resources: 1 added, 0 changed, 0 destroyed." in apply["body"],
               "the clean plan was not applied", apply["body"])
        expect("terraform_data.cache" in repo.state_addresses("app-dev"),
               "terraform_data.cache is not in dev's state after the apply")
        h.passed.append("report: a clean plan passes and `atlantis apply` applies it")

    def report_no_escape(self, atlantis, repo):
        """A pull request cannot run its plans without plangate: naming the built-in default
        workflow, or defining its own, makes Atlantis refuse the repository config."""
        h = self.h
        example = (EXAMPLES / "report" / "atlantis.yaml").read_text()
        tf = {"envs/staging/main.tf": project_tf(repo.state, "app-staging",
                                                 {k: v for k, v in STAGING.items()
                                                  if k != "peering"})}
        attempts = [
            (3, "use-default-workflow", example.replace("workflow: plangate-report",
                                                        "workflow: default"),
             "workflow 'default' is not allowed for this repo"),
            (4, "own-workflow", example.replace("workflow: plangate-report", "workflow: quick")
             + "workflows:\n  quick:\n    plan:\n      steps: [init, plan]\n",
             "repo config not allowed to define custom workflows"),
        ]
        for number, branch, config, refusal in attempts:
            expect(config != example, f"{branch}: the example atlantis.yaml did not change")
            sha, files = repo.branch(branch, {"atlantis.yaml": config, **tf},
                                     f"{branch}: plan without the gate")
            mark = atlantis.open_pull(repo, number, branch, sha, files, branch)
            reply = atlantis.reply(repo, number, mark, ("Ran Plan", "**Plan", "```", "**Error"))
            atlantis.status(repo, sha, mark, "atlantis/plan")
            self.capture(f"report-refused-{branch}", reply["body"])
            expect(refusal in reply["body"], f"{branch}: Atlantis did not refuse the config",
                   reply["body"])
            expect(atlantis.planfiles(repo, number, "envs/staging") == [],
                   f"{branch}: a plan was made")
        h.passed.append("report: a pull request naming `workflow: default` or defining its own "
                        "workflow is refused by Atlantis")

    @scenario
    def scenario_report_misconfigured(self):
        """A server whose PLANGATE_POLICY is unset: plangate cannot even start its check, the
        plan fails, and the plan Terraform wrote must not be applied either."""
        h = self.h
        repo = Repository(h.root, "report-misconfigured", h.base_env)
        repo.base("report")
        h.apply_base(repo)
        sha, files = repo.branch(
            "remove-peering",
            {"envs/staging/main.tf": project_tf(repo.state, "app-staging",
                                                {k: v for k, v in STAGING.items()
                                                 if k != "peering"})},
            "staging: remove the peering block")
        atlantis = h.start_atlantis("report-misconfigured", h.server_flags("report"),
                                    policy=False)
        try:
            mark = atlantis.open_pull(repo, 1, "remove-peering", sha, files,
                                      "staging: remove the peering block")
            plan = atlantis.reply(repo, 1, mark, "Ran Plan")
            status = atlantis.status(repo, sha, mark, "atlantis/plan")
            self.capture("report-misconfigured-plan", plan["body"])
            expect("**Plan Error**" in plan["body"] and status["state"] == "failure",
                   "a plan plangate could not check did not fail", plan["body"])
            expect(atlantis.planfiles(repo, 1, "envs/staging") == [],
                   "the unchecked plan file is still in Atlantis's working directory: "
                   f"{atlantis.planfiles(repo, 1, 'envs/staging')}")
            mark = atlantis.comment(repo, 1, AUTHOR, "atlantis apply")
            apply = atlantis.reply(repo, 1, mark, ("Ran Apply", "**Apply", "```"))
            atlantis.status(repo, sha, mark, "atlantis/apply")
            self.capture("report-misconfigured-apply", apply["body"])
            expect("terraform_data.peering" in repo.state_addresses("app-staging"),
                   "the plan plangate never checked was applied", apply["body"])
            h.passed.append("report without PLANGATE_POLICY: the plan fails and nothing is "
                            "applied")
        finally:
            atlantis.stop()

    # --------------------------------------------------------------------- enforce mode --
    @scenario
    def scenario_enforce(self):
        """(b) The plan passes at plan time; the operator tightens the trusted policy (a change
        freeze on staging) before `atlantis apply`; the apply-stage re-check refuses. With the
        destroy declared by a pull-request label the same plan applies: the refusal was the
        re-check's, and labels reach it."""
        h = self.h
        repo = Repository(h.root, "enforce", h.base_env)
        repo.base("enforce")
        h.apply_base(repo)
        sha, files = repo.branch(
            "retire-queue",
            {"envs/staging/main.tf": project_tf(repo.state, "app-staging",
                                                {k: v for k, v in STAGING.items()
                                                 if k != "queue"})},
            "staging: retire the jobs queue")
        h.preflight(repo, "retire-queue", "app-staging", "envs/staging",
                    HERE / "trusted-policy.yaml", ("pass", []))
        h.preflight(repo, "retire-queue", "app-staging", "envs/staging",
                    HERE / "trusted-policy-freeze.yaml", ("block", ["protected-project-destroy"]))
        atlantis = h.start_atlantis("enforce", h.server_flags("enforce"))
        try:
            mark = atlantis.open_pull(repo, 1, "retire-queue", sha, files,
                                      "staging: retire the jobs queue")
            plan = atlantis.reply(repo, 1, mark, "Ran Plan")
            status = atlantis.status(repo, sha, mark, "atlantis/plan")
            self.capture("enforce-plan", plan["body"])
            measure(h, "enforce mode, passing plan (Atlantis comment)", plan["body"])
            expect("plangate PASS" in plan["body"]
                   and "Plan: 0 to add, 0 to change, 1 to destroy" in plan["body"],
                   "the plan comment lacks the plan or plangate's PASS", plan["body"])
            expect(status["state"] == "success", f"atlantis/plan is {status['state']}")
            h.passed.append("enforce: the plan passes plangate at plan time")

            shutil.copyfile(HERE / "trusted-policy-freeze.yaml", atlantis.policy)
            mark = atlantis.comment(repo, 1, AUTHOR, "atlantis apply")
            refused = atlantis.reply(repo, 1, mark, "Ran Apply")
            status = atlantis.status(repo, sha, mark, "atlantis/apply")
            self.capture("enforce-apply-refused", refused["body"])
            measure(h, "enforce mode, refused apply (Atlantis comment)", refused["body"])
            expect("**Apply Error**" in refused["body"]
                   and "protected-project-destroy" in refused["body"],
                   "the apply was not refused by plangate's re-check", refused["body"])
            expect("Apply complete" not in refused["body"], "the plan was applied",
                   refused["body"])
            expect(status["state"] == "failure", f"atlantis/apply is {status['state']}")
            expect("terraform_data.queue" in repo.state_addresses("app-staging"),
                   "terraform_data.queue was destroyed despite the refusal")
            h.passed.append("enforce: after the policy is tightened, the apply-stage re-check "
                            "refuses and nothing is destroyed")

            # The freeze stays; the pull request declares the destroy with a label, which
            # plangate reads from the pull request (with ATLANTIS_GH_TOKEN) at apply time.
            with h.gh.lock:
                h.gh.pulls[(repo.name, 1)].labels.append("plangate:destroy:app-staging")
            mark = atlantis.comment(repo, 1, AUTHOR, "atlantis apply")
            applied = atlantis.reply(repo, 1, mark, "Ran Apply")
            atlantis.status(repo, sha, mark, "atlantis/apply")
            self.capture("enforce-apply", applied["body"])
            expect("Apply complete! Resources: 0 added, 0 changed, 1 destroyed."
                   in applied["body"], "the plan did not apply with the destroy declared",
                   applied["body"])
            expect("terraform_data.queue" not in repo.state_addresses("app-staging"),
                   "terraform_data.queue is still in the state after the apply")
            h.passed.append("enforce: with the label plangate:destroy:app-staging the same plan "
                            "applies")
        finally:
            atlantis.stop()

    # ---------------------------------------------------------------- policy-check mode --
    @scenario
    def scenario_policy_check(self):
        """(c) A blocked plan fails the policy check; apply is refused; a developer cannot
        approve; a policy owner can, and then the plan applies."""
        h = self.h
        repo = Repository(h.root, "policy-check", h.base_env)
        repo.base("policy-check")
        h.apply_base(repo)
        sha, files = repo.branch(
            "remove-peering",
            {"envs/staging/main.tf": project_tf(repo.state, "app-staging",
                                                {k: v for k, v in STAGING.items()
                                                 if k != "peering"})},
            "staging: remove the peering block")
        h.preflight(repo, "remove-peering", "app-staging", "envs/staging",
                    HERE / "trusted-policy.yaml", ("block", ["cross-env-destroy"]))
        atlantis = h.start_atlantis("policy-check", h.server_flags("policy-check"))
        try:
            mark = atlantis.open_pull(repo, 1, "remove-peering", sha, files,
                                      "staging: remove the peering block")
            plan = atlantis.reply(repo, 1, mark, "Ran Plan")
            self.capture("policy-check-plan", plan["body"])
            check = atlantis.reply(repo, 1, mark, "Ran Policy Check")
            status = atlantis.status(repo, sha, mark, "atlantis/policy_check")
            self.capture("policy-check-failed", check["body"])
            measure(h, "policy-check mode, failed check (Atlantis comment)", check["body"])
            expect("FAIL plangate blocked this plan: 1 failures" in check["body"]
                   and "cross-env-destroy" in check["body"],
                   "the policy check comment lacks plangate's FAIL line and finding",
                   check["body"])
            expect("policy set: Custom: requires: 1 approval(s), have: 0." in check["body"],
                   "Atlantis does not ask for an approval", check["body"])
            expect(status["state"] == "failure", f"atlantis/policy_check is {status['state']}")
            h.passed.append("policy-check: a blocked plan fails the Atlantis policy check")

            mark = atlantis.comment(repo, 1, AUTHOR, "atlantis apply")
            refused = atlantis.reply(repo, 1, mark, "Ran Apply")
            atlantis.status(repo, sha, mark, "atlantis/apply")
            self.capture("policy-check-apply-refused", refused["body"])
            expect("All policies must pass for project before running apply." in
                   refused["body"], "the apply was not refused for the failed check",
                   refused["body"])
            expect("terraform_data.peering" in repo.state_addresses("app-staging"),
                   "the peering was destroyed before any approval")
            h.passed.append("policy-check: `atlantis apply` is refused while the check fails")

            mark = atlantis.comment(repo, 1, AUTHOR, "atlantis approve_policies")
            denied = atlantis.reply(repo, 1, mark, ("```", "Ran Approve Policies"))
            self.capture("policy-check-approve-denied", denied["body"])
            expect("does not have permissions to execute 'approve_policies' command"
                   in denied["body"], "a developer could approve the failed check",
                   denied["body"])
            h.passed.append("policy-check: the author, not a policy owner, cannot approve")

            mark = atlantis.comment(repo, 1, ONCALL, "atlantis approve_policies")
            approved = atlantis.reply(repo, 1, mark, ("Approved Policies", "Ran Approve Policies"))
            # Atlantis comments first and records the approval after: the status comes last.
            cleared = atlantis.status(repo, sha, mark, "atlantis/policy_check")
            self.capture("policy-check-approved", approved["body"])
            expect(cleared["state"] == "success",
                   f"atlantis/policy_check is {cleared['state']} after the approval")
            expect(approved["body"].startswith("Approved Policies for 1 projects"),
                   "the policy owner's approval did not count", approved["body"])

            mark = atlantis.comment(repo, 1, AUTHOR, "atlantis apply")
            applied = atlantis.reply(repo, 1, mark, "Ran Apply")
            atlantis.status(repo, sha, mark, "atlantis/apply")
            self.capture("policy-check-apply", applied["body"])
            expect("Apply complete! Resources: 0 added, 0 changed, 1 destroyed."
                   in applied["body"], "the approved plan did not apply", applied["body"])
            expect("terraform_data.peering" not in repo.state_addresses("app-staging"),
                   "the peering is still in the state after the approved apply")
            h.passed.append("policy-check: after a policy owner's approve_policies the plan "
                            "applies")
        finally:
            atlantis.stop()

    @scenario
    def scenario_policy_check_misconfigured(self):
        """A policy-check server whose PLANGATE_POLICY is unset: plangate cannot start its
        check; the plan must still need a policy owner's approval."""
        h = self.h
        repo = Repository(h.root, "policy-check-misconfigured", h.base_env)
        repo.base("policy-check")
        h.apply_base(repo)
        sha, files = repo.branch(
            "remove-peering",
            {"envs/staging/main.tf": project_tf(repo.state, "app-staging",
                                                {k: v for k, v in STAGING.items()
                                                 if k != "peering"})},
            "staging: remove the peering block")
        atlantis = h.start_atlantis("policy-check-misconfigured",
                                    h.server_flags("policy-check"), policy=False)
        try:
            mark = atlantis.open_pull(repo, 1, "remove-peering", sha, files,
                                      "staging: remove the peering block")
            atlantis.reply(repo, 1, mark, "Ran Plan")
            check = atlantis.reply(repo, 1, mark, "Ran Policy Check")
            status = atlantis.status(repo, sha, mark, "atlantis/policy_check")
            self.capture("policy-check-misconfigured-failed", check["body"])
            expect(status["state"] == "failure", f"atlantis/policy_check is {status['state']}",
                   check["body"])
            mark = atlantis.comment(repo, 1, AUTHOR, "atlantis apply")
            apply = atlantis.reply(repo, 1, mark, "Ran Apply")
            atlantis.status(repo, sha, mark, "atlantis/apply")
            self.capture("policy-check-misconfigured-apply-refused", apply["body"])
            expect("terraform_data.peering" in repo.state_addresses("app-staging"),
                   "the plan plangate never checked was applied", apply["body"])
            h.passed.append("policy-check without PLANGATE_POLICY: the check fails and the plan "
                            "is not applied")
        finally:
            atlantis.stop()

    @scenario
    def scenario_policy_check_off(self):
        """The policy-check config on a server started without --enable-policy-checks: the
        policy_check stage never runs, so plangate never sees the plan; the apply-stage guard
        refuses to apply it."""
        h = self.h
        repo = Repository(h.root, "policy-check-off", h.base_env)
        repo.base("policy-check")
        h.apply_base(repo)
        sha, files = repo.branch(
            "remove-peering",
            {"envs/staging/main.tf": project_tf(repo.state, "app-staging",
                                                {k: v for k, v in STAGING.items()
                                                 if k != "peering"})},
            "staging: remove the peering block")
        atlantis = h.start_atlantis(
            "policy-check-off", h.server_flags("policy-check", without={"--enable-policy-checks"}))
        try:
            mark = atlantis.open_pull(repo, 1, "remove-peering", sha, files,
                                      "staging: remove the peering block")
            plan = atlantis.reply(repo, 1, mark, "Ran Plan")
            atlantis.status(repo, sha, mark, "atlantis/plan")
            self.capture("policy-check-off-plan", plan["body"])
            expect("plangate" not in plan["body"], "plangate ran in the plan stage", plan["body"])
            mark = atlantis.comment(repo, 1, AUTHOR, "atlantis apply")
            refused = atlantis.reply(repo, 1, mark, "Ran Apply")
            atlantis.status(repo, sha, mark, "atlantis/apply")
            self.capture("policy-check-off-apply-refused", refused["body"])
            expect("plangate never checked this plan" in refused["body"],
                   "the apply guard did not refuse the unchecked plan", refused["body"])
            expect("terraform_data.peering" in repo.state_addresses("app-staging"),
                   "the unchecked plan was applied")
            h.passed.append("policy-check without --enable-policy-checks: the unchecked plan "
                            "is not applied")
        finally:
            atlantis.stop()


SCENARIOS = [Scenarios.scenario_report, Scenarios.scenario_report_misconfigured,
             Scenarios.scenario_enforce,
             Scenarios.scenario_policy_check, Scenarios.scenario_policy_check_misconfigured,
             Scenarios.scenario_policy_check_off]


# --- captured comments ---------------------------------------------------------------------

def normalise(h, text):
    text = text.replace(str(h.root), "/tmp/plangate-atlantis-e2e")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return text


def write_captures(h):
    CAPTURED.mkdir(exist_ok=True)
    for name, body in sorted(h.captures.items()):
        (CAPTURED / f"{name}.md").write_text(normalise(h, body).rstrip("\n") + "\n")
    print(f"captured {len(h.captures)} comments in {CAPTURED.relative_to(REPO_ROOT)}/")


# --- main ----------------------------------------------------------------------------------

def interrupted(signum, frame):
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plangate", required=True, help="a built plangate binary")
    parser.add_argument("--atlantis", help="the atlantis binary (default: "
                        "$PLANGATE_CACHE/bin/atlantis, else PATH)")
    parser.add_argument("--capture", action="store_true",
                        help="write the comments posted to tests/e2e/atlantis/captured/")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--only", action="append", default=[],
                        choices=[s.scenario for s in SCENARIOS], help="run only these")
    args = parser.parse_args()

    # SIGTERM (CI's time limit) unwinds through the finally blocks like Ctrl-C.
    signal.signal(signal.SIGTERM, interrupted)
    try:
        tools = find_tools(args)
        enter_loopback_only_network()
    except Skip as e:
        print(f"skipped: {e}")
        return 0
    except BadArguments as e:
        print(f"run.py: {e}", file=sys.stderr)
        return 2

    h = Harness(args, *tools)
    print(f"atlantis e2e: {tools[1]} ({h.tf_distribution} {h.tf}), plangate {tools[0]}")
    started = time.monotonic()
    try:
        h.setup()
        scenarios = Scenarios(h)
        for fn in SCENARIOS:
            if args.only and fn.scenario not in args.only:
                continue
            print(f"== {fn.scenario}: {fn.__doc__.split('.')[0].strip()}")
            before = len(h.passed)
            try:
                fn(scenarios)
            except Failure as e:
                h.failed.append(f"{fn.scenario}: {e}")
                print(f"FAILED {fn.scenario}: {e}")
            for line in h.passed[before:]:
                print(f"  ok: {line}")
        if h.gh.unknown:
            print("note: calls the stand-in does not serve: " + ", ".join(sorted(set(
                h.gh.unknown))))
        if args.capture and not h.failed:
            write_captures(h)
    except KeyboardInterrupt:
        h.failed.append("interrupted")
    finally:
        h.cleanup()
    print(f"atlantis e2e: {time.monotonic() - started:.0f} s")
    print(f"{len(h.passed)} passed, {len(h.failed)} failed")
    return 1 if h.failed else 0


if __name__ == "__main__":
    sys.exit(main())
