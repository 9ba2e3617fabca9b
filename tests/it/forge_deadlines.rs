//! Every wait on the forge has a deadline, whatever the peer does: the binary against a fake
//! forge on 127.0.0.1 that never answers, dribbles a body one byte a second, asks to be retried
//! in an hour, or fails forever. The run gives up within its forge budget
//! (`--forge-timeout` / `$PLANGATE_FORGE_TIMEOUT`) plus a margin for starting the process and
//! running the rules; the report is printed and the exit code is the verdict's.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::loopback_forge::{
    plangate_within, write_plan, FakeServer, Flavor, Misbehaviour, BLOCKING_PLAN, BOT_LOGIN, TOKEN,
};

/// The forge budget of these runs, in seconds.
const BUDGET: u64 = 3;
/// What a run may take beyond its forge budget: starting the binary, the rules, the output,
/// a loaded machine.
const MARGIN: Duration = Duration::from_secs(4);
/// Long enough that a run ignoring the budget is seen failing rather than hanging the suite.
const KILL_AFTER: Duration = Duration::from_secs(60);

fn budget_env() -> String {
    BUDGET.to_string()
}

/// `check` of the blocking plan, commenting on GitHub or GitLab, with `env` added.
fn check(
    server: &FakeServer,
    flavor: Flavor,
    dir: &Path,
    plan: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, Duration) {
    let plan_path = write_plan(dir, "plan.json", plan);
    let spec = format!("app-staging={}", plan_path.display());
    let (api, mut args) = match flavor {
        Flavor::GitHub => (
            server.github_api(),
            vec!["--comment", "github", "--repo", "acme/infra", "--pr", "7"],
        ),
        Flavor::GitLab => (
            server.gitlab_api(),
            vec![
                "--comment",
                "gitlab",
                "--repo",
                "acme/platform/infra",
                "--pr",
                "5",
            ],
        ),
    };
    let api_flag = match flavor {
        Flavor::GitHub => "--github-api-url",
        Flavor::GitLab => "--gitlab-api-url",
    };
    let mut all = vec!["check", "--plan", &spec, "--env", "staging"];
    all.append(&mut args);
    all.extend([api_flag, api.as_str()]);
    all.extend_from_slice(extra);
    let token_var = match flavor {
        Flavor::GitHub => "GITHUB_TOKEN",
        Flavor::GitLab => "GITLAB_TOKEN",
    };
    // The comment is read back at once: these tests time the waits of the requests.
    let mut vars = vec![(token_var, TOKEN), ("PLANGATE_COMMENT_SETTLE_MS", "0")];
    vars.extend_from_slice(env);
    plangate_within(dir, &all, &vars, KILL_AFTER)
}

/// The run ended within the budget, printed the blocking report, exited with the verdict's
/// code, said only warnings, and never the token. Returns stderr.
fn assert_within_budget(out: &Output, took: Duration, budget: u64) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        took < Duration::from_secs(budget) + MARGIN,
        "took {took:?} with a forge budget of {budget} s:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "the verdict's code:\n{stderr}");
    assert!(
        stdout.contains("BLOCK app-staging"),
        "the report: {stdout}\n{stderr}"
    );
    assert!(
        stderr.lines().all(|l| l.starts_with("plangate: warning: ")),
        "{stderr}"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "token leaked:\n{stderr}"
    );
    stderr
}

/// The time ran out on the comment.
fn gave_up_on_the_comment(stderr: &str, budget: u64) -> bool {
    stderr.contains(&format!(
        "plangate: warning: gave up on the pull-request comment after {budget} s: "
    ))
}

#[test]
fn a_forge_that_never_answers_costs_at_most_the_budget() {
    let server = FakeServer::start(Flavor::GitHub);
    server.misbehave("", Misbehaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let budget = budget_env();
    let (out, took) = check(
        &server,
        Flavor::GitHub,
        dir.path(),
        BLOCKING_PLAN,
        &[],
        &[("PLANGATE_FORGE_TIMEOUT", &budget)],
    );
    let stderr = assert_within_budget(&out, took, BUDGET);
    // The labels took all the time; the comment then gives up at once.
    assert!(
        stderr.contains("gave up on the pull-request labels after 3 s: GET /api/v3/repos/acme/infra/issues/7/labels")
            && stderr.contains("no destroy intent is taken from labels"),
        "{stderr}"
    );
    assert!(gave_up_on_the_comment(&stderr, BUDGET), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
}

#[test]
fn a_comment_that_never_gets_an_answer_is_one_warning() {
    let server = FakeServer::start(Flavor::GitHub);
    server.misbehave("/comments", Misbehaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let budget = budget_env();
    let (out, took) = check(
        &server,
        Flavor::GitHub,
        dir.path(),
        BLOCKING_PLAN,
        &[],
        &[("PLANGATE_FORGE_TIMEOUT", &budget)],
    );
    let stderr = assert_within_budget(&out, took, BUDGET);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "plangate: warning: gave up on the pull-request comment after 3 s: GET /api/v3/repos/acme/infra/issues/7/comments: "
        ),
        "{stderr}"
    );
    assert!(server.comments().is_empty());
}

#[test]
fn a_body_dribbled_one_byte_a_second_cannot_stretch_the_run() {
    let server = FakeServer::start(Flavor::GitHub);
    server.misbehave(
        "",
        Misbehaviour::Dribble {
            every: Duration::from_secs(1),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    // The flag this time, not the variable.
    let (out, took) = check(
        &server,
        Flavor::GitHub,
        dir.path(),
        BLOCKING_PLAN,
        &["--forge-timeout", "3"],
        &[],
    );
    let stderr = assert_within_budget(&out, took, BUDGET);
    assert!(gave_up_on_the_comment(&stderr, BUDGET), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn retry_after_an_hour_gives_up_within_the_budget() {
    let server = FakeServer::start(Flavor::GitHub);
    server.misbehave(
        "",
        Misbehaviour::Always {
            status: 429,
            headers: vec![("Retry-After".into(), "3600".into())],
            body: r#"{"message":"API rate limit exceeded"}"#.into(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let (out, took) = check(
        &server,
        Flavor::GitHub,
        dir.path(),
        BLOCKING_PLAN,
        &[],
        &[
            ("PLANGATE_FORGE_TIMEOUT", "5"),
            ("PLANGATE_HTTP_BACKOFF_MS", "1000"),
        ],
    );
    let stderr = assert_within_budget(&out, took, 5);
    // Waiting the 10 s it may would not fit in 5: it gives up at once, and says why.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        stderr.contains("plangate: warning: gave up on the pull-request comment early, within the 5 s of --forge-timeout: GitHub rate limit hit (429) on GET /api/v3/user; the next try, in 10 s (the server asked for 3600 s, more than plangate waits), would come after the"),
        "{stderr}"
    );
}

#[test]
fn retry_after_is_honoured_up_to_ten_seconds() {
    let server = FakeServer::start(Flavor::GitHub);
    // Once, on the first request (the labels); then the forge answers.
    server.queue_with_headers(
        429,
        &[("Retry-After", "3600")],
        r#"{"message":"API rate limit exceeded"}"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let (out, took) = check(
        &server,
        Flavor::GitHub,
        dir.path(),
        BLOCKING_PLAN,
        &[],
        &[("PLANGATE_HTTP_BACKOFF_MS", "1000")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    // It waited (the cap, not the backoff's one second) and not for the hour, nor 30 s.
    assert!(
        took >= Duration::from_millis(9_500) && took < Duration::from_secs(10) + MARGIN,
        "took {took:?}"
    );
    let ours: Vec<_> = server
        .comments()
        .into_iter()
        .filter(|c| c.author == BOT_LOGIN)
        .collect();
    assert_eq!(ours.len(), 1, "posted after the wait");
}

#[test]
fn endless_server_errors_end_within_the_budget() {
    let server = FakeServer::start(Flavor::GitHub);
    server.misbehave(
        "",
        Misbehaviour::Always {
            status: 500,
            headers: Vec::new(),
            body: r#"{"message":"Server Error"}"#.into(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let budget = budget_env();
    let (out, took) = check(
        &server,
        Flavor::GitHub,
        dir.path(),
        BLOCKING_PLAN,
        &[],
        &[
            ("PLANGATE_FORGE_TIMEOUT", &budget),
            ("PLANGATE_HTTP_BACKOFF_MS", "1000"),
        ],
    );
    let stderr = assert_within_budget(&out, took, BUDGET);
    // Backing off 1 s, then 2 s: the next wait no longer fits, so it stops there.
    assert!(
        stderr.contains(
            "plangate: warning: gave up on the pull-request comment early, within the 3 s of --forge-timeout: GitHub answered 500 on GET /api/v3/user; the next try, in "
        ),
        "{stderr}"
    );
}

#[test]
fn a_gitlab_that_never_answers_costs_at_most_the_budget() {
    let server = FakeServer::start(Flavor::GitLab);
    server.misbehave("", Misbehaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let budget = budget_env();
    let (out, took) = check(
        &server,
        Flavor::GitLab,
        dir.path(),
        BLOCKING_PLAN,
        &["--commit-status"],
        &[("PLANGATE_FORGE_TIMEOUT", &budget)],
    );
    let stderr = assert_within_budget(&out, took, BUDGET);
    assert!(gave_up_on_the_comment(&stderr, BUDGET), "{stderr}");
    assert!(server.state.lock().unwrap().statuses.is_empty());
}

/// 25 deletes in staging: `mass-deletion` blocks them unless destroy intent is declared.
fn mass_deletion_plan() -> String {
    let changes: Vec<serde_json::Value> = (0..25)
        .map(|i| {
            serde_json::json!({"address": format!("aws_instance.web[{i}]"), "mode": "managed",
                "type": "aws_instance", "name": "web", "index": i,
                "change": {"actions": ["delete"], "before": {"tags": {"env": "staging"}}, "after": null}})
        })
        .collect();
    serde_json::json!({"format_version": "1.2", "terraform_version": "1.9.0", "complete": true,
        "resource_changes": changes})
    .to_string()
}

#[test]
fn labels_not_read_in_time_declare_no_intent() {
    let plan = mass_deletion_plan();
    let budget = budget_env();
    let env = [("PLANGATE_FORGE_TIMEOUT", budget.as_str())];
    // Read in time, the label softens the block to a warning: exit 0.
    let server = FakeServer::start(Flavor::GitHub);
    server.state.lock().unwrap().labels = vec!["plangate:destroy:app-staging".into()];
    let dir = tempfile::tempdir().unwrap();
    let (read, _) = check(&server, Flavor::GitHub, dir.path(), &plan, &[], &env);
    let stderr = String::from_utf8_lossy(&read.stderr);
    assert_eq!(read.status.code(), Some(0), "{stderr}");
    assert!(String::from_utf8_lossy(&read.stdout).contains("WARN app-staging"));
    // Not read in time: no intent, the block stands.
    server.misbehave("/labels", Misbehaviour::Silent);
    let (late, took) = check(&server, Flavor::GitHub, dir.path(), &plan, &[], &env);
    let stderr = assert_within_budget(&late, took, BUDGET);
    assert!(
        stderr.contains("gave up on the pull-request labels after 3 s")
            && stderr.contains("no destroy intent is taken from labels"),
        "{stderr}"
    );
}
