//! Approvals end to end (DESIGN section 14): the binary against the fake GitHub and GitLab on
//! 127.0.0.1, with a trusted policy naming approvers. A valid approval by an approver turns a
//! blocked plan into "pass (approved)"; every hostile case leaves it blocked, and the report
//! says why.

use serde_json::Value;

use crate::loopback_forge::{plangate, write_plan, FakeServer, Flavor, Misbehaviour, TOKEN};

/// Two cross-environment deletes (deny) and nothing else: approved, it passes.
const PLAN: &str = r#"{"format_version":"1.2","terraform_version":"1.9.0","complete":true,
 "resource_changes":[
  {"address":"aws_instance.web[0]","mode":"managed","type":"aws_instance","name":"web","index":0,"change":{"actions":["delete"],"before":{"tags":{"env":"dev"}},"after":null}},
  {"address":"aws_instance.web[1]","mode":"managed","type":"aws_instance","name":"web","index":1,"change":{"actions":["delete"],"before":{"tags":{"env":"dev"}},"after":null}}
 ]}"#;

/// Another plan of the same project: one more delete.
const OTHER_PLAN: &str = r#"{"format_version":"1.2","terraform_version":"1.9.0","complete":true,
 "resource_changes":[
  {"address":"aws_instance.web[0]","mode":"managed","type":"aws_instance","name":"web","index":0,"change":{"actions":["delete"],"before":{"tags":{"env":"dev"}},"after":null}},
  {"address":"aws_instance.web[1]","mode":"managed","type":"aws_instance","name":"web","index":1,"change":{"actions":["delete"],"before":{"tags":{"env":"dev"}},"after":null}},
  {"address":"aws_instance.web[2]","mode":"managed","type":"aws_instance","name":"web","index":2,"change":{"actions":["delete"],"before":{"tags":{"env":"dev"}},"after":null}}
 ]}"#;

const TRUSTED: &str = "version: 1
approvers:
  users: [dave]
  teams: [acme/sre]
  codeowners: true
";

struct Setup {
    server: FakeServer,
    flavor: Flavor,
    dir: tempfile::TempDir,
}

struct Run {
    code: Option<i32>,
    json: Value,
    stderr: String,
}

impl Run {
    fn notes(&self) -> String {
        self.json["approval_notes"].to_string()
    }

    fn assert_blocked(&self, why: &str) {
        assert_eq!(self.code, Some(1), "{}\n{}", self.json, self.stderr);
        assert_eq!(self.json["verdict"], "block");
        assert!(self.json.get("approvals").is_none(), "{}", self.json);
        assert!(
            self.notes().contains(why) || self.stderr.contains(why),
            "expected {why:?} in {}\n{}",
            self.notes(),
            self.stderr
        );
        assert!(!self.stderr.contains(TOKEN) && !self.json.to_string().contains(TOKEN));
    }
}

impl Setup {
    fn new(flavor: Flavor) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("trusted.yaml"), TRUSTED).unwrap();
        write_plan(dir.path(), "plan.json", PLAN);
        write_plan(dir.path(), "other.json", OTHER_PLAN);
        Setup {
            server: FakeServer::start(flavor),
            flavor,
            dir,
        }
    }

    /// The first 8 hex digits of a plan file's sha256.
    fn sha8(&self, file: &str) -> String {
        let bytes = std::fs::read(self.dir.path().join(file)).unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
        hex::encode(digest.as_ref())[..8].to_string()
    }

    fn approve(&self, by: &str) -> u64 {
        let body = format!(
            "/plangate approve app-staging {} planned teardown",
            self.sha8("plan.json")
        );
        self.server.add_comment(by, &body)
    }

    fn check(&self, plan: &str, extra: &[&str]) -> Run {
        let spec = format!("app-staging={}", self.dir.path().join(plan).display());
        let api = match self.flavor {
            Flavor::GitHub => self.server.github_api(),
            Flavor::GitLab => self.server.gitlab_api(),
        };
        let (repo, pr, api_flag, token) = match self.flavor {
            Flavor::GitHub => ("acme/infra", "7", "--github-api-url", "GITHUB_TOKEN"),
            Flavor::GitLab => (
                "acme/platform/infra",
                "7",
                "--gitlab-api-url",
                "GITLAB_TOKEN",
            ),
        };
        let mut args = vec![
            "check", "--plan", &spec, "--env", "staging", "--format", "json", "--repo", repo,
            "--pr", pr, api_flag, &api,
        ];
        args.extend_from_slice(extra);
        let out = plangate(self.dir.path(), &args, &[(token, TOKEN)]);
        Run {
            code: out.status.code(),
            json: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    fn trusted(&self, plan: &str) -> Run {
        self.check(plan, &["--policy", "trusted.yaml"])
    }
}

fn both(test: impl Fn(Setup)) {
    for flavor in [Flavor::GitHub, Flavor::GitLab] {
        test(Setup::new(flavor));
    }
}

#[test]
fn a_listed_approver_turns_the_block_into_pass_approved() {
    both(|s| {
        let before = s.trusted("plan.json");
        assert_eq!(before.code, Some(1), "{}", before.stderr);
        let next = before.json["findings"][0]["next"]
            .as_str()
            .unwrap_or_default();
        assert!(
            next.contains(&format!(
                "/plangate approve app-staging {}",
                s.sha8("plan.json")
            )),
            "{next}"
        );
        s.approve("dave");
        let after = s.trusted("plan.json");
        assert_eq!(after.code, Some(0), "{}\n{}", after.json, after.stderr);
        assert_eq!(after.json["verdict"], "pass");
        let a = &after.json["approvals"][0];
        assert_eq!(a["by"], "dave");
        assert_eq!(a["project"], "app-staging");
        assert_eq!(a["reason"], "planned teardown");
        assert_eq!(a["rules"], serde_json::json!(["cross-env-destroy"]));
        assert!(a["plan_sha256"]
            .as_str()
            .unwrap()
            .starts_with(&s.sha8("plan.json")));
        assert_eq!(after.json["findings"], serde_json::json!([]));
        assert_eq!(
            after.json["approved_findings"][0]["approved_by"][0]["by"],
            "dave"
        );
    });
}

#[test]
fn every_format_says_pass_approved() {
    let s = Setup::new(Flavor::GitHub);
    s.approve("dave");
    for (format, needle) in [
        ("text", "PASS (approved)"),
        ("atlantis", "PASS (approved)"),
        ("markdown", "✅ PASS (approved)"),
        ("sarif", "\"suppressions\""),
        (
            "github-annotations",
            "::notice title=plangate approval::approved",
        ),
    ] {
        let spec = format!("app-staging={}", s.dir.path().join("plan.json").display());
        let api = s.server.github_api();
        let out = plangate(
            s.dir.path(),
            &[
                "check",
                "--plan",
                &spec,
                "--env",
                "staging",
                "--format",
                format,
                "--repo",
                "acme/infra",
                "--pr",
                "7",
                "--github-api-url",
                &api,
                "--policy",
                "trusted.yaml",
            ],
            &[("GITHUB_TOKEN", TOKEN)],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{format}: {stdout}");
        assert!(stdout.contains(needle), "{format}: {stdout}");
        assert!(stdout.contains("dave"), "{format}: {stdout}");
    }
}

#[test]
fn the_pull_request_author_cannot_approve() {
    both(|s| {
        s.approve("alice");
        s.trusted("plan.json")
            .assert_blocked("wrote the pull request");
    });
}

#[test]
fn a_non_member_cannot_approve() {
    both(|s| {
        s.approve("mallory");
        s.trusted("plan.json")
            .assert_blocked("mallory is not an approver");
    });
}

#[test]
fn an_approval_of_another_plan_is_stale() {
    both(|s| {
        s.server.add_comment(
            "dave",
            "/plangate approve app-staging deadbeef looked at the old one",
        );
        s.trusted("plan.json")
            .assert_blocked("approves plan deadbeef");
    });
}

#[test]
fn an_edited_approval_does_not_count() {
    both(|s| {
        let id = s.approve("dave");
        s.server.state.lock().unwrap().edited.push(id);
        s.trusted("plan.json").assert_blocked("edited");
    });
}

#[test]
fn a_quoted_approval_is_no_approval() {
    both(|s| {
        let sha = s.sha8("plan.json");
        s.server.add_comment(
            "dave",
            &format!("Should I?\n> /plangate approve app-staging {sha} x\n```\n/plangate approve app-staging {sha}\n```\n"),
        );
        let run = s.trusted("plan.json");
        assert_eq!(run.code, Some(1), "{}", run.json);
        assert!(run.json.get("approval_notes").is_none(), "{}", run.json);
    });
}

#[test]
fn an_approval_on_another_pull_request_does_not_count() {
    both(|s| {
        let sha = s.sha8("plan.json");
        s.server.state.lock().unwrap().elsewhere.push((
            8,
            crate::loopback_forge::Comment {
                id: 5000,
                author: "dave".into(),
                body: format!("/plangate approve app-staging {sha} wrong PR"),
            },
        ));
        let run = s.trusted("plan.json");
        assert_eq!(run.code, Some(1), "{}", run.json);
        assert!(run.json.get("approvals").is_none());
    });
}

#[test]
fn a_team_member_approves_and_a_failing_lookup_counts_for_nothing() {
    both(|s| {
        s.server.state.lock().unwrap().members.push((
            "acme/sre".into(),
            "erin".into(),
            "active".into(),
        ));
        s.approve("erin");
        let ok = s.trusted("plan.json");
        assert_eq!(ok.code, Some(0), "{}\n{}", ok.json, ok.stderr);
        assert!(ok.notes().contains("member of acme/sre"), "{}", ok.notes());
        let route = match s.flavor {
            Flavor::GitHub => "/memberships/",
            Flavor::GitLab => "/members/all/",
        };
        for status in [403, 502] {
            s.server.state.lock().unwrap().misbehave = vec![(
                route.into(),
                Misbehaviour::Always {
                    status,
                    headers: Vec::new(),
                    body: r#"{"message":"nope"}"#.into(),
                },
            )];
            let run = s.trusted("plan.json");
            run.assert_blocked("could not be checked as an approver");
            assert!(run.notes().contains(&status.to_string()), "{}", run.notes());
        }
    });
}

#[test]
fn a_pending_team_invitation_is_not_membership() {
    let s = Setup::new(Flavor::GitHub);
    s.server.state.lock().unwrap().members.push((
        "acme/sre".into(),
        "erin".into(),
        "pending".into(),
    ));
    s.approve("erin");
    s.trusted("plan.json")
        .assert_blocked("not a member of acme/sre");
}

#[test]
fn codeowners_of_the_base_branch_approve() {
    both(|s| {
        s.server.state.lock().unwrap().codeowners = Some("# owners\n* @frank\n".into());
        s.approve("frank");
        let run = s.trusted("plan.json");
        assert_eq!(run.code, Some(0), "{}\n{}", run.json, run.stderr);
        assert!(run.notes().contains("CODEOWNERS owner"), "{}", run.notes());
        s.approve("gina");
        assert!(s
            .trusted("plan.json")
            .notes()
            .contains("not a CODEOWNERS owner"));
    });
}

#[test]
fn a_revoked_approval_no_longer_counts() {
    both(|s| {
        s.approve("dave");
        s.server.add_comment("dave", "/plangate revoke app-staging");
        s.trusted("plan.json")
            .assert_blocked("dave revoked their approval");
    });
}

#[test]
fn enforce_refuses_a_plan_other_than_the_approved_one() {
    both(|s| {
        s.approve("dave");
        let approved = s.check(
            "plan.json",
            &["--policy", "trusted.yaml", "--mode", "enforce"],
        );
        assert_eq!(approved.code, Some(0), "{}", approved.stderr);
        let other = s.check(
            "other.json",
            &["--policy", "trusted.yaml", "--mode", "enforce"],
        );
        other.assert_blocked("not the current plan");
    });
}

#[test]
fn two_distinct_approvals_where_the_environment_needs_two() {
    let s = Setup::new(Flavor::GitHub);
    let policy = format!("{TRUSTED}  required:\n    staging: 2\n");
    std::fs::write(s.dir.path().join("trusted.yaml"), policy).unwrap();
    s.approve("dave");
    s.approve("dave");
    s.trusted("plan.json")
        .assert_blocked("1 of 2 distinct approvals");
    s.server.state.lock().unwrap().members.push((
        "acme/sre".into(),
        "erin".into(),
        "active".into(),
    ));
    s.approve("erin");
    let run = s.trusted("plan.json");
    assert_eq!(run.code, Some(0), "{}", run.json);
    assert_eq!(run.json["approvals"].as_array().map(Vec::len), Some(2));
}

#[test]
fn the_repository_cannot_name_approvers() {
    let s = Setup::new(Flavor::GitHub);
    std::fs::write(
        s.dir.path().join("repo.yaml"),
        "version: 1\napprovers:\n  users: [dave, mallory]\n",
    )
    .unwrap();
    s.approve("mallory");
    let layered = s.check(
        "plan.json",
        &["--policy", "trusted.yaml", "--repo-policy", "repo.yaml"],
    );
    assert_eq!(layered.code, Some(1));
    let findings = layered.json["findings"].to_string();
    assert!(
        findings.contains("policy-weakened") && findings.contains("mallory added"),
        "{findings}"
    );
    assert!(
        layered.notes().contains("mallory is not an approver"),
        "{}",
        layered.notes()
    );
    // Without a trusted policy, approvers are ignored with a warning.
    s.approve("dave");
    let untrusted = s.check("plan.json", &["--repo-policy", "repo.yaml"]);
    untrusted.assert_blocked("only a trusted policy");
}

#[test]
fn policy_check_mode_leaves_approving_to_atlantis() {
    let s = Setup::new(Flavor::GitHub);
    s.approve("dave");
    let run = s.check(
        "plan.json",
        &["--policy", "trusted.yaml", "--mode", "policy-check"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = s.server.requests();
    assert!(
        requests.iter().all(|r| !r.path().contains("/comments")),
        "comments are not read in policy-check mode"
    );
}

#[test]
fn the_action_reads_approvals_of_its_pull_request() {
    let s = Setup::new(Flavor::GitHub);
    s.approve("dave");
    let event = s.dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request":{"number":7,"head":{"sha":"feedface"}}}"#,
    )
    .unwrap();
    let spec = format!("app-staging={}", s.dir.path().join("plan.json").display());
    let api = s.server.github_api();
    let event = event.display().to_string();
    let out = plangate(
        s.dir.path(),
        &[
            "check",
            "--plan",
            &spec,
            "--env",
            "staging",
            "--policy",
            "trusted.yaml",
            "--format",
            "github-annotations",
            "--comment",
            "off",
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/infra"),
            ("GITHUB_EVENT_PATH", &event),
            ("GITHUB_API_URL", &api),
            ("GITHUB_TOKEN", TOKEN),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("approved by dave"), "{stdout}");
}

#[test]
fn atlantis_keeps_an_approvable_plan_only_when_asked_and_enforce_decides() {
    let s = Setup::new(Flavor::GitHub);
    let planfile = s.dir.path().join("default.tfplan");
    let showfile = s.dir.path().join("plan.json").display().to_string();
    let api = s.server.github_api();
    let run = |extra: &[&str]| {
        std::fs::write(&planfile, "binary plan").unwrap();
        // The plan JSON is newer than the plan file: plangate reads it as it is.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&showfile, PLAN).unwrap();
        let planfile = planfile.display().to_string();
        let mut args = vec![
            "check",
            "--env",
            "staging",
            "--policy",
            "trusted.yaml",
            "--github-api-url",
            &api,
        ];
        args.extend_from_slice(extra);
        plangate(
            s.dir.path(),
            &args,
            &[
                ("ATLANTIS_TERRAFORM_VERSION", "1.9.0"),
                ("PROJECT_NAME", "app-staging"),
                ("PLANFILE", &planfile),
                ("SHOWFILE", &showfile),
                ("PULL_URL", "https://github.com/acme/infra/pull/7"),
                ("BASE_REPO_OWNER", "acme"),
                ("BASE_REPO_NAME", "infra"),
                ("PULL_NUM", "7"),
                ("GITHUB_TOKEN", TOKEN),
            ],
        )
    };
    let deleted = run(&["--mode", "report"]);
    assert_eq!(deleted.status.code(), Some(1));
    assert!(!planfile.exists(), "a blocked plan is deleted by default");
    let kept = run(&["--mode", "report", "--keep-plan-for-approval"]);
    assert_eq!(kept.status.code(), Some(1));
    assert!(planfile.exists(), "kept for an approval");
    assert!(String::from_utf8_lossy(&kept.stdout).contains("kept for an approval"));
    let refused = run(&["--mode", "enforce"]);
    assert_eq!(refused.status.code(), Some(1), "not approved yet");
    s.approve("dave");
    let applied = run(&["--mode", "enforce"]);
    let stdout = String::from_utf8_lossy(&applied.stdout);
    assert_eq!(applied.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASS (approved)"), "{stdout}");
}

/// What a reviewer reads once a plan is approved: the comment's section with the approved
/// findings and the audit list, and the terminal report.
#[test]
fn the_approved_comment_and_terminal_report() {
    let s = Setup::new(Flavor::GitHub);
    s.server.add_comment(
        "mallory",
        "/plangate approve app-staging 00000000 an old plan",
    );
    s.approve("dave");
    let spec = format!("app-staging={}", s.dir.path().join("plan.json").display());
    let api = s.server.github_api();
    let render = |format: &str| {
        let out = plangate(
            s.dir.path(),
            &[
                "check",
                "--plan",
                &spec,
                "--env",
                "staging",
                "--format",
                format,
                "--repo",
                "acme/infra",
                "--pr",
                "7",
                "--github-api-url",
                &api,
                "--policy",
                "trusted.yaml",
            ],
            &[("GITHUB_TOKEN", TOKEN)],
        );
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let markdown = render("markdown");
    assert!(
        markdown
            .lines()
            .all(|l| !l.trim_start().starts_with("/plangate")),
        "no line of the comment reads as a command:\n{markdown}"
    );
    insta::assert_snapshot!("approved_comment", markdown);
    insta::assert_snapshot!("approved_terminal", render("text"));
}

#[test]
fn a_team_lookup_that_never_answers_counts_for_nothing_within_the_forge_time() {
    let s = Setup::new(Flavor::GitHub);
    s.server.misbehave("/memberships/", Misbehaviour::Silent);
    s.approve("erin");
    let started = std::time::Instant::now();
    let run = s.check(
        "plan.json",
        &["--policy", "trusted.yaml", "--forge-timeout", "2"],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    run.assert_blocked("erin could not be checked");
    assert!(run.notes().contains("memberships"), "{}", run.notes());
}
