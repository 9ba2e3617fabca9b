"""The pieces of the Atlantis end-to-end test: the machine (a loopback-only network, a throwaway
CA, tools), the test repository, one Atlantis server and what it posts, and the checks.
run.py runs the scenarios (scenarios.py) with them."""

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
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import fake_github

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

    def webhook(self, event, payload, secret=WEBHOOK_SECRET):
        body = json.dumps(payload).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
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
