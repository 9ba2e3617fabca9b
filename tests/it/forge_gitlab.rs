//! The GitLab merge-request note end to end: the binary against a fake GitLab on 127.0.0.1.

use crate::loopback_forge::{
    plangate, write_plan, FakeServer, Flavor, BLOCKING_PLAN, BOT_LOGIN, GITLAB_PROJECT,
    PASSING_PLAN, TOKEN,
};

fn check(
    server: &FakeServer,
    dir: &std::path::Path,
    plan: &str,
    extra: &[&str],
) -> std::process::Output {
    let api = server.gitlab_api();
    let mut args = vec![
        "check",
        "--plan",
        plan,
        "--env",
        "staging",
        "--comment",
        "gitlab",
        "--repo",
        "acme/platform/infra",
        "--pr",
        "5",
        "--gitlab-api-url",
        &api,
    ];
    args.extend_from_slice(extra);
    plangate(dir, &args, &[("GITLAB_TOKEN", TOKEN)])
}

fn our_notes(server: &FakeServer) -> Vec<crate::loopback_forge::Comment> {
    server
        .comments()
        .into_iter()
        .filter(|c| c.author == BOT_LOGIN && c.body.starts_with("<!-- plangate:v"))
        .collect()
}

#[test]
fn notes_are_created_then_updated_in_place() {
    let server = FakeServer::start(Flavor::GitLab);
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4 {
        server.add_comment("alice", &format!("comment {i}"));
    }
    let copied = "<!-- plangate:v1 {\"project\":\"app-staging\",\"plan_sha256\":\"0\"} -->\npasted";
    let theirs = server.add_comment("mallory", copied);
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());

    let first = check(&server, dir.path(), &spec, &[]);
    assert_eq!(first.status.code(), Some(1));
    assert!(
        first.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let notes = our_notes(&server);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].body.contains("⛔ BLOCK"));

    write_plan(dir.path(), "plan.json", PASSING_PLAN);
    let second = check(&server, dir.path(), &spec, &[]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let now = our_notes(&server);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].id, notes[0].id);
    assert!(now[0].body.contains("✅ PASS"));
    assert_eq!(
        server
            .comments()
            .iter()
            .find(|c| c.id == theirs)
            .map(|c| c.body.as_str()),
        Some(copied)
    );

    let requests = server.requests();
    // Subgroups: the project path is one encoded segment.
    assert!(requests
        .iter()
        .filter(|r| r.path().contains("/projects/"))
        .all(|r| r
            .path()
            .starts_with(&format!("/api/v4/projects/{GITLAB_PROJECT}/"))));
    assert!(requests.iter().any(|r| r.method == "PUT"));
    assert!(requests
        .iter()
        .all(|r| r.header("private-token") == Some(TOKEN)));
}

#[test]
fn labels_statuses_and_retries() {
    let server = FakeServer::start(Flavor::GitLab);
    let dir = tempfile::tempdir().unwrap();
    server.state.lock().unwrap().labels = vec!["plangate:destroy:app-staging".into()];
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    server.queue(503, "text/plain", "unavailable");
    let out = check(&server, dir.path(), &spec, &["--commit-status"]);
    // Intent never excuses a cross-environment destroy: still blocked.
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let statuses = server.state.lock().unwrap().statuses.clone();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["name"], "plangate/app-staging");
    assert_eq!(statuses[0]["state"], "failed");
    assert_eq!(statuses[0]["sha"], "c0ffee");
}

#[test]
fn forbidden_and_html_are_reported_without_the_token() {
    let server = FakeServer::start(Flavor::GitLab);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", PASSING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    for _ in 0..10 {
        server.queue(
            200,
            "text/html",
            "<html><body>GitLab is not responding</body></html>",
        );
    }
    let out = check(&server, dir.path(), &spec, &[]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not JSON"), "{stderr}");
    assert!(!stderr.contains(TOKEN));

    server.state.lock().unwrap().canned.clear();
    for _ in 0..10 {
        server.queue(403, "application/json", r#"{"message":"403 Forbidden"}"#);
    }
    let out = check(&server, dir.path(), &spec, &[]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("403 Forbidden") && stderr.contains("GITLAB_TOKEN"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN) && !String::from_utf8_lossy(&out.stdout).contains(TOKEN));
    assert!(our_notes(&server).is_empty());
}
