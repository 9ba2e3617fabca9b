//! The GitHub comment end to end: the binary against a fake GitHub Enterprise on 127.0.0.1.

use crate::loopback_forge::{
    plangate, write_plan, FakeServer, Flavor, BLOCKING_PLAN, BOT_LOGIN, PASSING_PLAN, TOKEN,
};

fn check(
    server: &FakeServer,
    dir: &std::path::Path,
    plan: &str,
    extra: &[&str],
) -> std::process::Output {
    let api = server.github_api();
    let mut args = vec![
        "check",
        "--plan",
        plan,
        "--env",
        "staging",
        "--comment",
        "github",
        "--repo",
        "acme/infra",
        "--pr",
        "7",
        "--github-api-url",
        &api,
    ];
    args.extend_from_slice(extra);
    plangate(dir, &args, &[("GITHUB_TOKEN", TOKEN)])
}

fn plangate_comments(server: &FakeServer) -> Vec<crate::loopback_forge::Comment> {
    server
        .comments()
        .into_iter()
        .filter(|c| c.author == BOT_LOGIN && c.body.starts_with("<!-- plangate:v"))
        .collect()
}

fn assert_no_token(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "token leaked:\n{stderr}"
    );
}

#[test]
fn first_run_creates_second_run_updates_the_same_comment() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    // Enough comments by others to need several pages.
    for i in 0..5 {
        server.add_comment("alice", &format!("looks good {i}"));
    }
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());

    let first = check(&server, dir.path(), &spec, &[]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        first.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let ours = plangate_comments(&server);
    assert_eq!(ours.len(), 1);
    assert!(ours[0].body.contains("⛔ BLOCK"));
    assert!(ours[0]
        .body
        .contains(r#"{"project":"app-staging","plan_sha256":""#));
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1);
    // Every page was read, every time: the comment list spans three pages of two.
    let pages: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path().ends_with("/issues/7/comments"))
        .map(|r| r.target.clone())
        .collect();
    assert!(
        pages.len() >= 3 && pages.len().is_multiple_of(3),
        "whole listings only: {pages:?}"
    );
    assert!(pages.iter().any(|t| t.contains("page=3")), "{pages:?}");

    // The same PR, a new plan: the comment is updated, not duplicated.
    server.clear_requests();
    write_plan(dir.path(), "plan.json", PASSING_PLAN);
    let second = check(&server, dir.path(), &spec, &[]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let ours_now = plangate_comments(&server);
    assert_eq!(ours_now.len(), 1);
    assert_eq!(ours_now[0].id, ours[0].id);
    assert!(ours_now[0].body.contains("✅ PASS"));
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert!(
        methods.contains(&"PATCH".to_string()) && !methods.contains(&"POST".to_string()),
        "{methods:?}"
    );
    assert!(server
        .requests()
        .iter()
        .all(|r| r.path().starts_with("/api/v3/")
            && r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
}

#[test]
fn a_similar_comment_by_someone_else_is_left_alone() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    let copied =
        "<!-- plangate:v1 {\"project\":\"app-staging\",\"plan_sha256\":\"0\"} -->\ncopied by hand";
    let theirs = server.add_comment("mallory", copied);
    let out = check(&server, dir.path(), &spec, &[]);
    assert_eq!(out.status.code(), Some(1));
    let all = server.comments();
    assert_eq!(
        all.iter().find(|c| c.id == theirs).map(|c| c.body.as_str()),
        Some(copied)
    );
    assert_eq!(plangate_comments(&server).len(), 1);
}

#[test]
fn server_errors_are_retried() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    server.queue(500, "application/json", r#"{"message":"Server Error"}"#);
    server.queue(502, "text/html", "<html>bad gateway</html>");
    let out = check(&server, dir.path(), &spec, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(plangate_comments(&server).len(), 1);
}

#[test]
fn forbidden_says_why_and_keeps_the_exit_code_and_the_report() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    let summary = dir.path().join("summary.md");
    for _ in 0..10 {
        server.queue(
            403,
            "application/json",
            r#"{"message":"Resource not accessible by integration"}"#,
        );
    }
    let api = server.github_api();
    let out = plangate(
        dir.path(),
        &[
            "check",
            "--plan",
            &spec,
            "--env",
            "staging",
            "--comment",
            "github",
            "--repo",
            "acme/infra",
            "--pr",
            "7",
            "--github-api-url",
            &api,
            "--output",
            &format!("markdown={}", summary.display()),
        ],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("403 Forbidden") && stderr.contains("forks"),
        "{stderr}"
    );
    assert!(
        stderr.lines().all(|l| l.starts_with("plangate: warning: ")),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("BLOCK"));
    let summary = std::fs::read_to_string(summary).unwrap();
    assert!(summary.contains("⛔ BLOCK"));
    assert_no_token(&out);
}

#[test]
fn bad_credentials_and_outages_never_show_the_token() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", PASSING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    let api = server.github_api();
    let args = [
        "check",
        "--plan",
        &spec,
        "--comment",
        "github",
        "--repo",
        "acme/infra",
        "--pr",
        "7",
        "--github-api-url",
        &api,
    ];

    let wrong = plangate(
        dir.path(),
        &args,
        &[("GITHUB_TOKEN", "wrong-token-value-123")],
    );
    assert_eq!(wrong.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("GITHUB_TOKEN"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-token-value-123"));

    for _ in 0..10 {
        server.queue(
            500,
            "application/json",
            &format!(r#"{{"message":"echo {TOKEN}"}}"#),
        );
    }
    let down = plangate(dir.path(), &args, &[("GITHUB_TOKEN", TOKEN)]);
    assert_eq!(down.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&down.stderr).contains("gave up after"));
    assert_no_token(&down);
}

#[test]
fn an_html_page_with_status_200_is_an_error() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    for _ in 0..10 {
        server.queue(
            200,
            "text/html",
            "<!DOCTYPE html><html><body>Sign in</body></html>",
        );
    }
    let out = check(&server, dir.path(), &spec, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not JSON") && stderr.contains("HTML"),
        "{stderr}"
    );
    assert!(plangate_comments(&server).is_empty());
}

#[test]
fn labels_declare_destroy_intent_and_statuses_are_set() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", PASSING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    server.state.lock().unwrap().labels = vec![
        "infra".into(),
        "plangate:destroy:staging".into(),
        "plangate:destroy:app-staging".into(),
    ];
    let out = check(
        &server,
        dir.path(),
        &spec,
        &["--commit-status", "--format", "json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = server.requests();
    let label_read = requests
        .iter()
        .position(|r| r.path().ends_with("/issues/7/labels"));
    let comment_read = requests
        .iter()
        .position(|r| r.path().ends_with("/issues/7/comments"));
    assert!(
        label_read.is_some() && label_read < comment_read,
        "labels are read before the check"
    );
    let statuses = server.state.lock().unwrap().statuses.clone();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["context"], "plangate/app-staging");
    assert_eq!(statuses[0]["state"], "success");
    assert_eq!(statuses[0]["sha"], "feedface");
}

#[test]
fn auto_posts_only_with_a_pull_request_and_a_token() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", PASSING_PLAN);
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request":{"number":7,"head":{"sha":"abc"}}}"#,
    )
    .unwrap();
    let spec = format!("app-staging={}", plan.display());
    let api = server.github_api();
    let base = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/infra"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", api.as_str()),
    ];
    // No token: nothing posted, nothing said.
    let quiet = plangate(dir.path(), &["check", "--plan", &spec], &base);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    assert!(server.requests().is_empty());
    // With a token: posted.
    let mut env = base.to_vec();
    env.push(("GITHUB_TOKEN", TOKEN));
    let posted = plangate(dir.path(), &["check", "--plan", &spec], &env);
    assert_eq!(
        posted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&posted.stderr)
    );
    assert_eq!(plangate_comments(&server).len(), 1);
}

#[test]
fn copies_left_by_an_interrupted_run_are_folded_into_one() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    let old = "<!-- plangate:v1 {\"project\":\"app-staging\",\"plan_sha256\":\"0\"} -->\nold";
    let other =
        "<!-- plangate:v1 {\"project\":\"app-prod\",\"plan_sha256\":\"0\"} -->\nother project";
    let keep = server.add_comment(BOT_LOGIN, old);
    server.add_comment(BOT_LOGIN, old);
    let prod = server.add_comment(BOT_LOGIN, other);
    let args = ["--comment-scope", "project", "--format", "markdown"];
    let out = check(&server, dir.path(), &spec, &args);
    assert_eq!(out.status.code(), Some(1));
    let ours = plangate_comments(&server);
    assert_eq!(ours.len(), 2, "one per project");
    let staging = ours.iter().find(|c| c.id == keep).unwrap();
    assert!(staging.body.starts_with("<!-- plangate:v1 "));
    assert!(staging.body.contains("cross-env-destroy"));
    assert!(ours.iter().any(|c| c.id == prod && c.body == other));
}

#[test]
fn the_pull_request_comment_replaces_the_per_project_comments_of_its_projects() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    let old = "<!-- plangate:v1 {\"project\":\"app-staging\",\"plan_sha256\":\"0\"} -->\nold";
    let other =
        "<!-- plangate:v1 {\"project\":\"app-prod\",\"plan_sha256\":\"0\"} -->\nother project";
    server.add_comment(BOT_LOGIN, old);
    let prod = server.add_comment(BOT_LOGIN, other);
    let out = check(&server, dir.path(), &spec, &[]);
    assert_eq!(out.status.code(), Some(1));
    let ours = plangate_comments(&server);
    assert_eq!(ours.len(), 2, "{ours:?}");
    // app-prod was not checked by this run: its own comment stays until its run.
    assert!(ours.iter().any(|c| c.id == prod && c.body == other));
    let v2 = ours
        .iter()
        .find(|c| c.body.starts_with("<!-- plangate:v2 {\"pr\":7} -->"))
        .expect("the pull request's comment");
    assert!(
        v2.body
            .contains("| `app-staging` | staging | ⛔\u{a0}block |"),
        "{}",
        v2.body
    );
}

#[test]
fn labels_are_read_with_commenting_off_and_nothing_is_posted() {
    let server = FakeServer::start(Flavor::GitHub);
    let dir = tempfile::tempdir().unwrap();
    // A production project deleting its own resource: protected, unless the destroy is
    // declared.
    let plan = write_plan(
        dir.path(),
        "plan.json",
        r#"{"format_version":"1.2","terraform_version":"1.9.0","complete":true,
 "resource_changes":[{"address":"aws_sqs_queue.jobs","mode":"managed","type":"aws_sqs_queue","name":"jobs",
  "change":{"actions":["delete"],"before":{"tags":{"env":"production"}},"after":null}}]}"#,
    );
    let spec = format!("app-production={}", plan.display());
    let api = server.github_api();
    let args = [
        "check",
        "--plan",
        &spec,
        "--comment",
        "off",
        "--repo",
        "acme/infra",
        "--pr",
        "7",
        "--github-api-url",
        &api,
    ];
    let env = [("GITHUB_TOKEN", TOKEN)];
    let undeclared = plangate(dir.path(), &args, &env);
    assert_eq!(
        undeclared.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&undeclared.stdout)
    );
    server.state.lock().unwrap().labels = vec!["plangate:destroy:app-production".into()];
    let declared = plangate(dir.path(), &args, &env);
    assert_eq!(
        declared.status.code(),
        Some(0),
        "the label declares the destroy: {}",
        String::from_utf8_lossy(&declared.stdout)
    );
    let requests = server.requests();
    assert!(requests
        .iter()
        .any(|r| r.method == "GET" && r.path().ends_with("/issues/7/labels")));
    assert!(
        requests.iter().all(|r| r.method == "GET"),
        "nothing posted with --comment off: {:?}",
        requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path()))
            .collect::<Vec<_>>()
    );
    assert!(server.comments().is_empty());
}
