//! plangate edits and deletes only the comments it wrote, end to end against the fake forge:
//! a comment is ours by its author (the token's own login or user id), never by its marker
//! alone; when the token cannot say who it is, plangate only creates.

use std::process::Output;

use crate::loopback_forge::{
    plangate, write_plan, Comment, FakeServer, Flavor, BLOCKING_PLAN, BOT_LOGIN, TOKEN,
};

/// The marker of the pull request's comment, on GitHub (pull request 7) and GitLab (5).
const MARKER: &str = "<!-- plangate:v2 {\"pr\":7} -->\n";
const GL_MARKER: &str = "<!-- plangate:v2 {\"pr\":5} -->\n";

fn github_check(server: &FakeServer, env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    let api = server.github_api();
    let mut vars = vec![("GITHUB_TOKEN", TOKEN)];
    vars.extend_from_slice(env);
    plangate(
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
        ],
        &vars,
    )
}

fn gitlab_check(server: &FakeServer) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    let api = server.gitlab_api();
    plangate(
        dir.path(),
        &[
            "check",
            "--plan",
            &spec,
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
        ],
        &[("GITLAB_TOKEN", TOKEN)],
    )
}

fn comment(server: &FakeServer, id: u64) -> Option<Comment> {
    server.comments().into_iter().find(|c| c.id == id)
}

fn methods(server: &FakeServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect()
}

fn no_edits(server: &FakeServer) -> bool {
    server
        .requests()
        .iter()
        .all(|r| !matches!(r.method.as_str(), "PATCH" | "PUT" | "DELETE"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn github_without_an_identity_edits_and_deletes_nothing() {
    let server = FakeServer::start(Flavor::GitHub);
    {
        let mut s = server.state.lock().unwrap();
        s.user_refused = true;
        s.viewer = None;
    }
    let theirs_body = format!("{MARKER}a copy by hand");
    let theirs = server.add_comment("mallory", &theirs_body);
    let old_body = format!("{MARKER}an older run");
    let old = server.add_comment(BOT_LOGIN, &old_body);
    let out = github_check(&server, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(no_edits(&server), "{:?}", methods(&server));
    assert_eq!(comment(&server, theirs).unwrap().body, theirs_body);
    assert_eq!(comment(&server, old).unwrap().body, old_body);
    let created: Vec<Comment> = server
        .comments()
        .into_iter()
        .filter(|c| c.id != theirs && c.id != old)
        .collect();
    assert_eq!(created.len(), 1, "only created");
    assert!(created[0].body.contains("⛔ BLOCK"));
    // Said once, as one warning.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("plangate: warning: ")
            && err.contains("cannot recognise its own comments")
            && err.contains("edited or deleted none"),
        "{err}"
    );
    assert!(!err.contains(TOKEN));
}

#[test]
fn an_app_token_knows_its_comment_from_the_graphql_viewer() {
    let server = FakeServer::start(Flavor::GitHub);
    let app = "plangate-app[bot]";
    {
        let mut s = server.state.lock().unwrap();
        s.user_refused = true;
        s.viewer = Some(app.into());
        s.me = app.into();
    }
    // Another app's bot and a person, both carrying our marker, come first.
    let bot_body = format!("{MARKER}quoted by another app");
    let other_bot = server.add_comment("other-app[bot]", &bot_body);
    let person_body = format!("{MARKER}pasted");
    let person = server.add_comment("mallory", &person_body);
    let ours = server.add_comment(app, &format!("{MARKER}old"));
    let out = github_check(&server, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(comment(&server, other_bot).unwrap().body, bot_body);
    assert_eq!(comment(&server, person).unwrap().body, person_body);
    assert!(comment(&server, ours).unwrap().body.contains("⛔ BLOCK"));
    assert_eq!(server.comments().len(), 3, "updated in place");
    let calls = methods(&server);
    assert!(
        calls.contains(&"POST /api/graphql".to_string())
            && calls.contains(&format!(
                "PATCH /api/v3/repos/acme/infra/issues/comments/{ours}"
            ))
            && !calls.iter().any(|c| c.starts_with("DELETE")),
        "{calls:?}"
    );
}

#[test]
fn in_actions_the_actions_bot_is_ours_when_the_token_cannot_say() {
    let server = FakeServer::start(Flavor::GitHub);
    let actions = "github-actions[bot]";
    {
        let mut s = server.state.lock().unwrap();
        s.user_refused = true;
        s.viewer = None;
        s.me = actions.into();
    }
    let person_body = format!("{MARKER}pasted");
    let person = server.add_comment("mallory", &person_body);
    let ours = server.add_comment(actions, &format!("{MARKER}old"));
    let out = github_check(&server, &[("GITHUB_ACTIONS", "true")]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(comment(&server, person).unwrap().body, person_body);
    assert!(comment(&server, ours).unwrap().body.contains("⛔ BLOCK"));
    assert_eq!(server.comments().len(), 2);
}

#[test]
fn with_an_identity_our_comment_is_updated_and_only_our_copies_removed() {
    let server = FakeServer::start(Flavor::GitHub);
    let person_body = format!("{MARKER}pasted before ours");
    let person = server.add_comment("mallory", &person_body);
    let ours = server.add_comment(BOT_LOGIN, &format!("{MARKER}old"));
    let copy = server.add_comment(BOT_LOGIN, &format!("{MARKER}old copy"));
    let out = github_check(&server, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(comment(&server, person).unwrap().body, person_body);
    assert!(comment(&server, ours).unwrap().body.contains("⛔ BLOCK"));
    assert!(
        comment(&server, copy).is_none(),
        "our own copy is folded in"
    );
    let calls = methods(&server);
    assert!(
        !calls.iter().any(|c| c.starts_with("POST")),
        "nothing created: {calls:?}"
    );
}

#[test]
fn a_gitlab_token_that_cannot_read_its_user_only_creates() {
    let server = FakeServer::start(Flavor::GitLab);
    server.state.lock().unwrap().user_refused = true;
    let theirs_body = format!("{GL_MARKER}pasted");
    let theirs = server.add_comment("mallory", &theirs_body);
    let old_body = format!("{GL_MARKER}an older run");
    let old = server.add_comment(BOT_LOGIN, &old_body);
    let out = gitlab_check(&server);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(no_edits(&server), "{:?}", methods(&server));
    assert_eq!(comment(&server, theirs).unwrap().body, theirs_body);
    assert_eq!(comment(&server, old).unwrap().body, old_body);
    assert_eq!(server.comments().len(), 3, "one note created");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot recognise its own notes") && err.contains("edited or deleted none"),
        "{err}"
    );
}

#[test]
fn a_gitlab_token_that_knows_its_user_updates_its_own_note_only() {
    let server = FakeServer::start(Flavor::GitLab);
    let theirs_body = format!("{GL_MARKER}pasted before ours");
    let theirs = server.add_comment("mallory", &theirs_body);
    let ours = server.add_comment(BOT_LOGIN, &format!("{GL_MARKER}old"));
    let copy = server.add_comment(BOT_LOGIN, &format!("{GL_MARKER}old copy"));
    let out = gitlab_check(&server);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(comment(&server, theirs).unwrap().body, theirs_body);
    assert!(comment(&server, ours).unwrap().body.contains("⛔ BLOCK"));
    assert!(
        comment(&server, copy).is_none(),
        "our own copy is folded in"
    );
    assert!(!methods(&server).iter().any(|c| c.starts_with("POST")));
}
