#!/usr/bin/env python3
"""scripts/install.sh against a release served from a loopback HTTP server.

The server (127.0.0.1, a random port, stopped at the end) serves
vVERSION/plangate-VERSION-TARGET.tar.gz holding a real plangate binary. Each case runs the
script from a temporary copy of the repository's scripts/ (so that checksums.txt beside it can
pin the sum under test) and checks what it printed, what it installed and what it asked the
server for:

- the right sum installs a working binary, prints its path and sets the step output `bin`;
- a wrong sum fails with one line, installs nothing and leaves an older binary alone, and is
  never answered by building from source;
- a missing asset, or no pinned sum, fails as documented when the source fallback is off or
  cannot build, and builds the source tree with a ::notice when it can (the slow case: it runs
  `cargo install`; PLANGATE_E2E_SKIP_SOURCE_BUILD=1 skips it with a note);
- the same install with only busybox's tools (the Atlantis image is Alpine), when busybox is
  installed.

Usage: python3 tests/e2e/install/run.py
Environment: PLANGATE_BIN (the binary to serve; default: `cargo build --locked` of this
repository), CARGO_TARGET_DIR (honoured by both builds).
"""

import hashlib
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VERSION = "0.1.0"
TIMEOUT = 120  # seconds for one install (the source build has its own, longer deadline)
SOURCE_BUILD_TIMEOUT = 1800


def machine_target():
    """The target install.sh picks on this machine (it is only run on Linux and macOS)."""
    system, machine = os.uname().sysname, os.uname().machine
    table = {
        ("Linux", "x86_64"): "x86_64-unknown-linux-musl",
        ("Linux", "aarch64"): "aarch64-unknown-linux-musl",
        ("Darwin", "x86_64"): "x86_64-apple-darwin",
        ("Darwin", "arm64"): "aarch64-apple-darwin",
    }
    return table[(system, machine)]


TARGET = machine_target()
ASSET = f"plangate-{VERSION}-{TARGET}.tar.gz"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def plangate_binary():
    given = os.environ.get("PLANGATE_BIN")
    if given:
        return given
    subprocess.run(["cargo", "build", "--locked", "--quiet", "--bin", "plangate"], cwd=ROOT, check=True, timeout=SOURCE_BUILD_TIMEOUT)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, check=True, capture_output=True, timeout=60,
    )
    return os.path.join(json.loads(meta.stdout)["target_directory"], "debug", "plangate")


def tarball(binary_path):
    """A release tarball as release.yml makes it: one file, plangate, at the top."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(binary_path, arcname="plangate")
    return buf.getvalue()


class Release:
    """A loopback HTTP server holding release files; every request path is recorded."""

    def __init__(self):
        self.files = {}
        self.requests = []
        release = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                release.requests.append(self.path)
                body = release.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    body = b"Not Found"
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 5
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def copy_tracked(dest):
    """Every file git tracks in this working tree (its current content), as a checkout of the
    repository at a ref has them."""
    listed = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True, capture_output=True, timeout=60).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))


class Checkout:
    """A copy of scripts/install.sh with its own checksums.txt, as at a tagged commit."""

    def __init__(self, tmp, sums_text, source_tree=False):
        self.root = tempfile.mkdtemp(dir=tmp, prefix="checkout.")
        if source_tree:
            # What the source fallback builds: the whole checkout.
            copy_tracked(self.root)
        os.makedirs(os.path.join(self.root, "scripts"), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, "scripts", "install.sh"), os.path.join(self.root, "scripts", "install.sh"))
        with open(os.path.join(self.root, "scripts", "checksums.txt"), "w") as f:
            f.write(sums_text)
        self.script = os.path.join(self.root, "scripts", "install.sh")


def action_default_version():
    """The default of action.yml's `version` input."""
    text = open(os.path.join(ROOT, "action.yml")).read()
    m = re.search(r'^  version:\n(?:    .*\n|      .*\n)*?    default: "?([^"\n]+)"?\n', text, re.M)
    assert m, "action.yml has no default version"
    return m.group(1)


def sums_line(digest, asset=ASSET):
    return (
        "# sha256 of each release asset, in sha256sum format\n"
        f"{digest}  {asset}\n"
    )


def run_install(checkout, args, env_extra, path=None, timeout=TIMEOUT):
    env = {
        "PATH": path if path is not None else os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "TMPDIR": tempfile.gettempdir(),
    }
    for key in ("CARGO_HOME", "RUSTUP_HOME", "CARGO_TARGET_DIR", "RUSTUP_TOOLCHAIN"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(env_extra)
    return subprocess.run(
        ["bash", checkout.script, *args],
        env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def describe(p):
    return f"exit {p.returncode}\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}"


def nonblank_lines(text):
    return [line for line in text.splitlines() if line.strip()]


class Suite:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def case(self, name, fn):
        try:
            result = fn()
        except Exception:
            self.failed += 1
            print(f"FAIL {name}")
            traceback.print_exc(file=sys.stdout)
            return
        if isinstance(result, str) and result.startswith("skipped:"):
            self.skipped += 1
            print(f"skip {name}: {result}")
        else:
            self.passed += 1
            print(f"ok   {name}")


def main():
    binary = plangate_binary()
    with open(binary, "rb") as f:
        binary_bytes = f.read()
    expected_version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    archive = tarball(binary)
    right = sha256(archive)
    wrong = sha256(archive + b"tampered")
    tmp = tempfile.mkdtemp(prefix="plangate-install-e2e.")
    release = Release()
    asset_path = f"/v{VERSION}/{ASSET}"
    release.files[asset_path] = archive
    suite = Suite()
    base_env = {"PLANGATE_RELEASE_URL": release.url}

    def fresh_dest():
        return tempfile.mkdtemp(dir=tmp, prefix="dest.")

    def right_sum_installs():
        checkout = Checkout(tmp, sums_line(right))
        dest = fresh_dest()
        release.requests.clear()
        p = run_install(checkout, [VERSION, dest], base_env)
        assert p.returncode == 0, describe(p)
        installed = os.path.join(dest, "plangate")
        assert p.stdout.strip() == installed, describe(p)
        with open(installed, "rb") as f:
            assert f.read() == binary_bytes, "the installed file is not the served binary"
        assert os.access(installed, os.X_OK), "not executable"
        v = subprocess.run([installed, "--version"], capture_output=True, text=True, timeout=30)
        assert v.returncode == 0 and v.stdout.strip() == expected_version, v
        # A working binary: it checks one of the repository's example plans.
        example = os.path.join(ROOT, "examples", "incidents", "wrong-project-destroys-dev")
        check = subprocess.run(
            [installed, "check", "--plan", "plan.json", "--atlantis", "atlantis.yaml", "--project", "rosey-staging", "--comment", "off"],
            cwd=example, capture_output=True, text=True, timeout=60,
        )
        assert check.returncode == 1 and "cross-env-destroy" in check.stdout, describe(check)
        assert release.requests == [asset_path], release.requests
        assert sorted(os.listdir(dest)) == ["plangate"], os.listdir(dest)

    def v_prefix_and_actions_output():
        checkout = Checkout(tmp, sums_line(right))
        runner_temp = tempfile.mkdtemp(dir=tmp, prefix="runner-temp.")
        output = os.path.join(tmp, "github-output")
        p = run_install(checkout, [], {
            **base_env,
            "PLANGATE_VERSION": f"v{VERSION}",
            "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": runner_temp,
            "GITHUB_OUTPUT": output,
        })
        assert p.returncode == 0, describe(p)
        installed = os.path.join(runner_temp, "plangate-bin", "plangate")
        assert p.stdout.strip() == installed, describe(p)
        with open(output) as f:
            assert f.read() == f"bin={installed}\n"
        assert "::" not in p.stderr, describe(p)  # no notice: nothing was built

    def wrong_sum_fails_and_installs_nothing():
        checkout = Checkout(tmp, sums_line(wrong), source_tree=True)
        dest = fresh_dest()
        old = os.path.join(dest, "plangate")
        with open(old, "w") as f:
            f.write("older plangate\n")
        release.requests.clear()
        p = run_install(checkout, [VERSION, dest], base_env)
        assert p.returncode == 1, describe(p)
        lines = nonblank_lines(p.stderr)
        assert len(lines) == 1, describe(p)
        assert f"{ASSET} from {release.url}{asset_path} has sha256 {right}" in lines[0], lines[0]
        assert f"pins {wrong}: refusing to install it" in lines[0], lines[0]
        assert p.stdout == "", describe(p)
        assert sorted(os.listdir(dest)) == ["plangate"], os.listdir(dest)
        with open(old) as f:
            assert f.read() == "older plangate\n", "the older binary was replaced"
        assert release.requests == [asset_path], release.requests

    def wrong_sum_in_actions_is_one_error_command():
        checkout = Checkout(tmp, sums_line(wrong), source_tree=True)
        runner_temp = tempfile.mkdtemp(dir=tmp, prefix="runner-temp.")
        output = os.path.join(tmp, "github-output-wrong")
        p = run_install(checkout, [VERSION], {**base_env, "GITHUB_ACTIONS": "true", "RUNNER_TEMP": runner_temp, "GITHUB_OUTPUT": output})
        assert p.returncode == 1, describe(p)
        lines = nonblank_lines(p.stderr)
        assert len(lines) == 1 and lines[0].startswith("::error title=plangate install::"), describe(p)
        assert "refusing to install it" in lines[0]
        assert not os.path.exists(os.path.join(runner_temp, "plangate-bin", "plangate"))
        assert not os.path.exists(output) or open(output).read() == ""

    def missing_asset_without_fallback_fails():
        checkout = Checkout(tmp, sums_line(right, f"plangate-9.9.9-{TARGET}.tar.gz"))
        dest = fresh_dest()
        release.requests.clear()
        p = run_install(checkout, ["9.9.9", dest], {**base_env, "PLANGATE_SOURCE_FALLBACK": "false"})
        assert p.returncode == 1, describe(p)
        lines = nonblank_lines(p.stderr)
        assert len(lines) == 1, describe(p)
        assert f"could not download {release.url}/v9.9.9/plangate-9.9.9-{TARGET}.tar.gz" in lines[0], lines[0]
        assert "PLANGATE_SOURCE_FALLBACK=false" in lines[0], lines[0]
        assert os.listdir(dest) == [], os.listdir(dest)
        assert release.requests == [f"/v9.9.9/plangate-9.9.9-{TARGET}.tar.gz"], release.requests

    def no_pinned_sum_downloads_nothing():
        checkout = Checkout(tmp, "# no release pinned yet\n")
        dest = fresh_dest()
        release.requests.clear()
        p = run_install(checkout, [VERSION, dest], {**base_env, "PLANGATE_SOURCE_FALLBACK": "false"})
        assert p.returncode == 1, describe(p)
        assert f"no sha256 for {ASSET} is pinned in scripts/checksums.txt" in p.stderr, describe(p)
        assert release.requests == [], "nothing is downloaded without a pinned sum"
        assert os.listdir(dest) == []

    def fallback_without_cargo_says_so():
        checkout = Checkout(tmp, "", source_tree=True)
        dest = fresh_dest()
        # A PATH with what the script needs but no cargo.
        bindir = tempfile.mkdtemp(dir=tmp, prefix="nocargo.")
        for tool in ("bash", "uname", "mktemp", "rm", "awk", "sort", "dirname", "cat", "mkdir"):
            found = shutil.which(tool)
            assert found, tool
            os.symlink(found, os.path.join(bindir, tool))
        p = run_install(checkout, [VERSION, dest], base_env, path=bindir)
        assert p.returncode == 1, describe(p)
        assert "cargo is not installed to build plangate from source" in p.stderr, describe(p)
        assert os.listdir(dest) == []

    def fallback_outside_a_source_tree_says_so():
        checkout = Checkout(tmp, "")
        dest = fresh_dest()
        p = run_install(checkout, [VERSION, dest], base_env)
        assert p.returncode == 1, describe(p)
        assert "is not plangate's source tree to build from" in p.stderr, describe(p)
        assert os.listdir(dest) == []

    def usage_errors():
        checkout = Checkout(tmp, sums_line(right))
        p = run_install(checkout, [], base_env)
        assert p.returncode == 2 and "usage: install.sh VERSION [DEST]" in p.stderr, describe(p)
        p = run_install(checkout, ["1.2", fresh_dest()], base_env)
        assert p.returncode == 2 and "version must look like 1.2.3" in p.stderr, describe(p)

    def missing_asset_builds_from_source_with_a_notice():
        if os.environ.get("PLANGATE_E2E_SKIP_SOURCE_BUILD") == "1":
            return "skipped: PLANGATE_E2E_SKIP_SOURCE_BUILD=1 (the source build takes minutes)"
        if shutil.which("cargo") is None:
            return "skipped: cargo is not installed"
        checkout = Checkout(tmp, sums_line(right, f"plangate-9.9.9-{TARGET}.tar.gz"), source_tree=True)
        runner_temp = tempfile.mkdtemp(dir=tmp, prefix="runner-temp.")
        output = os.path.join(tmp, "github-output-source")
        started = time.monotonic()
        p = run_install(
            checkout, ["9.9.9"],
            {**base_env, "GITHUB_ACTIONS": "true", "RUNNER_TEMP": runner_temp, "GITHUB_OUTPUT": output},
            timeout=SOURCE_BUILD_TIMEOUT,
        )
        assert p.returncode == 0, describe(p)
        notices = [line for line in p.stderr.splitlines() if line.startswith("::notice title=plangate install::")]
        assert len(notices) == 1, describe(p)
        assert f"could not download {release.url}/v9.9.9/" in notices[0], notices[0]
        assert "building plangate from source with cargo instead" in notices[0], notices[0]
        installed = os.path.join(runner_temp, "plangate-bin", "plangate")
        assert p.stdout.strip() == installed, describe(p)
        v = subprocess.run([installed, "--version"], capture_output=True, text=True, timeout=30)
        assert v.returncode == 0 and v.stdout.strip() == expected_version, v
        with open(output) as f:
            assert f.read() == f"bin={installed}\n"
        print(f"     (source build took {time.monotonic() - started:.0f}s)")

    def busybox_path(busybox):
        """A PATH of busybox applets, plus bash and curl (which the Atlantis image adds)."""
        bindir = tempfile.mkdtemp(dir=tmp, prefix="busybox.")
        applets = ("sh", "uname", "mktemp", "rm", "awk", "sort", "wc", "dirname", "cat", "mkdir", "cut",
                   "sha256sum", "tar", "gzip", "cp", "chmod", "mv", "pwd")
        for applet in applets:
            os.symlink(busybox, os.path.join(bindir, applet))
        for tool in ("bash", "curl"):
            found = shutil.which(tool)
            assert found, tool
            os.symlink(found, os.path.join(bindir, tool))
        return bindir

    def busybox_tools_install():
        busybox = shutil.which("busybox")
        if busybox is None:
            return "skipped: busybox is not installed (apt-get install busybox)"
        bindir = busybox_path(busybox)
        checkout = Checkout(tmp, sums_line(right))
        dest = fresh_dest()
        p = run_install(checkout, [VERSION, dest], base_env, path=bindir)
        assert p.returncode == 0, describe(p)
        installed = os.path.join(dest, "plangate")
        with open(installed, "rb") as f:
            assert f.read() == binary_bytes
        checkout = Checkout(tmp, sums_line(wrong))
        p = run_install(checkout, [VERSION, fresh_dest()], base_env, path=bindir)
        assert p.returncode == 1 and "refusing to install it" in p.stderr, describe(p)

    def dockerfile_install_step():
        """examples/atlantis/Dockerfile's install step, run outside docker with busybox's tools."""
        text = open(os.path.join(ROOT, "examples", "atlantis", "Dockerfile")).read()
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        froms = [line.split(None, 1)[1] for line in lines if line.startswith("FROM ")]
        assert froms == ["ghcr.io/runatlantis/atlantis:v0.36.0 AS plangate", "ghcr.io/runatlantis/atlantis:v0.36.0"], froms
        arg = [line for line in lines if line.startswith("ARG PLANGATE_VERSION=")]
        assert arg == [f"ARG PLANGATE_VERSION={action_default_version()}"], (arg, action_default_version())
        copies = [line.split()[1:] for line in lines if line.startswith("COPY ") and "--from" not in line]
        assert copies == [["scripts/install.sh", "scripts/checksums.txt", "/tmp/plangate/scripts/"]], copies
        for source in copies[0][:-1]:
            assert os.path.isfile(os.path.join(ROOT, source)), source
        runs = [line[len("RUN "):] for line in lines if line.startswith("RUN ")]
        assert len(runs) == 2 and "/tmp/plangate/scripts/install.sh" in runs[0], runs
        final_copy = [line for line in lines if line.startswith("COPY --from=plangate ")]
        assert final_copy == ["COPY --from=plangate /opt/plangate/plangate /usr/local/bin/plangate"], final_copy
        busybox = shutil.which("busybox")
        if busybox is None:
            return "skipped: busybox is not installed, the install step was not run"
        bindir = busybox_path(busybox)
        for pinned, code in ((right, 0), (wrong, 1)):
            checkout = Checkout(tmp, sums_line(pinned))
            opt = tempfile.mkdtemp(dir=tmp, prefix="opt.")
            command = runs[0].replace("/tmp/plangate/", checkout.root + "/").replace("/opt/plangate", opt)
            env = {"PATH": bindir, "HOME": tmp, "TMPDIR": tmp, "PLANGATE_VERSION": VERSION, **base_env}
            p = subprocess.run([busybox, "sh", "-c", command], env=env, capture_output=True, text=True, timeout=TIMEOUT)
            assert p.returncode == code, describe(p)
            if code == 0:
                with open(os.path.join(opt, "plangate"), "rb") as f:
                    assert f.read() == binary_bytes
                v = subprocess.run([os.path.join(opt, "plangate"), "--version"], capture_output=True, text=True, timeout=30)
                assert v.returncode == 0, v
            else:
                assert os.listdir(opt) == [] and "refusing to install it" in p.stderr, describe(p)

    try:
        suite.case("the right sum installs a working binary", right_sum_installs)
        suite.case("v-prefixed version from the environment, in Actions: the step output bin", v_prefix_and_actions_output)
        suite.case("a wrong sum fails with one line and installs nothing", wrong_sum_fails_and_installs_nothing)
        suite.case("a wrong sum in Actions is one ::error and no fallback", wrong_sum_in_actions_is_one_error_command)
        suite.case("a missing asset fails when the source fallback is off", missing_asset_without_fallback_fails)
        suite.case("no pinned sum: nothing is downloaded", no_pinned_sum_downloads_nothing)
        suite.case("the source fallback without cargo fails and says why", fallback_without_cargo_says_so)
        suite.case("the source fallback outside a source tree fails and says why", fallback_outside_a_source_tree_says_so)
        suite.case("usage errors exit 2", usage_errors)
        suite.case("busybox's tools (as in the Alpine Atlantis image) install and verify", busybox_tools_install)
        suite.case("the Dockerfile recipe's install step, outside docker", dockerfile_install_step)
        suite.case("a missing asset builds from source with a ::notice", missing_asset_builds_from_source_with_a_notice)
    finally:
        release.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{suite.passed} passed, {suite.failed} failed, {suite.skipped} skipped")
    return 1 if suite.failed else 0


if __name__ == "__main__":
    sys.exit(main())
