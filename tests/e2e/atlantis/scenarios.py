"""The scenarios of the Atlantis end-to-end test, one method each: what a person does in the
pull request, and what must (and must not) follow."""

import shutil

from harness import (AUTHOR, EXAMPLES, HERE, ONCALL, STAGING, DEV, Repository, expect, measure,
                     project_tf)


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
        # Atlantis checks the webhook signature: one signed with another secret is refused.
        code, _ = atlantis.webhook("pull_request", {"action": "opened", "number": 1},
                                   secret="not-the-webhook-secret")
        expect(code == 400, f"Atlantis answered a webhook with a wrong signature {code}")
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

        mark = atlantis.comment(repo, 1, AUTHOR, "atlantis plan -p app-staging")
        replan = atlantis.reply(repo, 1, mark, "Ran Plan")
        status = atlantis.status(repo, sha, mark, "atlantis/plan")
        expect("plangate BLOCK" in replan["body"] and status["state"] == "failure"
               and atlantis.planfiles(repo, 1, "envs/staging") == [],
               "`atlantis plan` by comment did not block the same plan", replan["body"])
        h.passed.append("report: `atlantis plan` by comment blocks the same plan again")

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
            own = atlantis.plangate_comment(repo, 1)
            expect(own is not None and "cross-env-destroy" in own["body"],
                   "plangate posted no comment of its own", atlantis.dump(repo, 1))
            self.capture("policy-check-plangate-comment", own["body"])
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

            clean_sha, clean_files = repo.branch(
                "add-dev-cache",
                {"envs/dev/main.tf": project_tf(repo.state, "app-dev",
                                                {**DEV, "cache": ("cache-dev", "dev", None)})},
                "dev: add a cache")
            mark = atlantis.open_pull(repo, 2, "add-dev-cache", clean_sha, clean_files,
                                      "dev: add a cache")
            check = atlantis.reply(repo, 2, mark, "Ran Policy Check")
            status = atlantis.status(repo, clean_sha, mark, "atlantis/policy_check")
            self.capture("policy-check-passed", check["body"])
            measure(h, "policy-check mode, passing check (Atlantis comment)", check["body"])
            expect(status["state"] == "success" and "plangate PASS" in check["body"],
                   f"a clean plan did not pass the policy check ({status['state']})",
                   check["body"])
            mark = atlantis.comment(repo, 2, AUTHOR, "atlantis apply")
            applied = atlantis.reply(repo, 2, mark, "Ran Apply")
            atlantis.status(repo, clean_sha, mark, "atlantis/apply")
            expect("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
                   in applied["body"], "the clean plan was not applied", applied["body"])
            h.passed.append("policy-check: a clean plan passes the check and applies without "
                            "an approval")
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
