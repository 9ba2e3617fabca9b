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
to tests/e2e/atlantis/captured/ (temporary paths, ports, resource ids and plan hashes
replaced by fixed placeholders). README.md beside this file lists the scenarios.
"""

import argparse
import re
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import harness  # noqa: E402  (after the line above)
from harness import CAPTURED, REPO_ROOT, BadArguments, Failure, Harness, Skip  # noqa: E402
from scenarios import SCENARIOS, Scenarios  # noqa: E402


# --- captured comments ---------------------------------------------------------------------

def normalise(h, text):
    """What changes from run to run: the temporary directory, the ports, terraform_data ids
    (random UUIDs) and so the plan's hash, and the time the comment was written."""
    text = text.replace(str(h.root), "/tmp/plangate-atlantis-e2e")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                  "00000000-0000-0000-0000-000000000000", text)
    text = re.sub(r'("plan_sha256":")[0-9a-f]{64}"', r'\g<1>' + "0" * 64 + '"', text)
    text = re.sub(r"(plan sha256 `)[0-9a-f]{12}`", r"\g<1>" + "0" * 12 + "`", text)
    # The plan column of the pull request's comment, the atlantis format's `plan XXXXXXXX`,
    # and when each section was written.
    text = re.sub(r"\| `[0-9a-f]{8}` \|$", "| `00000000` |", text, flags=re.M)
    text = re.sub(r"(· plan )[0-9a-f]{8}\b", r"\g<1>" + "0" * 8, text)
    # The approval command a way out names: `/plangate approve PROJECT SHA8 reason`.
    text = re.sub(r"(/plangate approve \S+ )[0-9a-f]{8}\b", r"\g<1>" + "0" * 8, text)
    text = re.sub(r'("written":)\d+', r"\g<1>0", text)
    return text


def write_captures(h, complete):
    CAPTURED.mkdir(exist_ok=True)
    if complete:  # every scenario ran: what none of them posted any more goes
        for old in CAPTURED.glob("*.md"):
            if old.stem not in h.captures and old.name != "README.md":
                old.unlink()
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
        tools = harness.find_tools(args)
        harness.enter_loopback_only_network()
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
            write_captures(h, complete=not args.only)
    except KeyboardInterrupt:
        h.failed.append("interrupted")
    finally:
        h.cleanup()
    print(f"atlantis e2e: {time.monotonic() - started:.0f} s")
    print(f"{len(h.passed)} passed, {len(h.failed)} failed")
    return 1 if h.failed else 0


if __name__ == "__main__":
    sys.exit(main())
