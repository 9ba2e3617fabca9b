//! The one comment per pull request against the loopback forge: many projects' runs at the same
//! time (as Atlantis runs them) leave one comment with a row for every project, on GitHub and
//! on GitLab; a project's new run changes only its own row and section.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::loopback_forge::{
    plangate_within, write_plan, Comment, FakeServer, Flavor, BLOCKING_PLAN, BOT_LOGIN,
    PASSING_PLAN, TOKEN,
};

/// Rounds of the race test: `PLANGATE_RACE_ROUNDS` (default 50).
fn rounds() -> usize {
    std::env::var("PLANGATE_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

fn run(server: &FakeServer, flavor: Flavor, dir: &Path, project: &str, plan: &Path) -> Output {
    let spec = format!("{project}={}", plan.display());
    let (api_flag, api, platform, repo, pr, token) = match flavor {
        Flavor::GitHub => (
            "--github-api-url",
            server.github_api(),
            "github",
            "acme/infra",
            "7",
            "GITHUB_TOKEN",
        ),
        Flavor::GitLab => (
            "--gitlab-api-url",
            server.gitlab_api(),
            "gitlab",
            "acme/platform/infra",
            "5",
            "GITLAB_TOKEN",
        ),
    };
    let args = [
        "check",
        "--plan",
        &spec,
        "--env",
        "staging",
        "--comment",
        platform,
        "--repo",
        repo,
        "--pr",
        pr,
        api_flag,
        &api,
    ];
    let env = [
        ("PLANGATE_HTTP_BACKOFF_MS", "0"),
        ("PLANGATE_COMMENT_SETTLE_MS", "100"),
        (token, TOKEN),
    ];
    plangate_within(dir, &args, &env, Duration::from_secs(120)).0
}

fn ours(server: &FakeServer) -> Vec<Comment> {
    server
        .comments()
        .into_iter()
        .filter(|c| c.author == BOT_LOGIN)
        .collect()
}

/// Project `app-NN` blocks when NN is a multiple of `every`.
fn project(i: usize) -> String {
    format!("app-{i:02}")
}

fn plans(dir: &Path, n: usize, blocked: impl Fn(usize) -> bool) -> Vec<std::path::PathBuf> {
    (0..n)
        .map(|i| {
            let text = if blocked(i) {
                BLOCKING_PLAN
            } else {
                PASSING_PLAN
            };
            write_plan(dir, &format!("{}.json", project(i)), text)
        })
        .collect()
}

/// Every project's run at once; each exits as its plan says.
fn all_at_once(
    server: &FakeServer,
    flavor: Flavor,
    dir: &Path,
    plans: &[std::path::PathBuf],
    blocked: &(dyn Fn(usize) -> bool + Sync),
) {
    std::thread::scope(|scope| {
        let runs: Vec<_> = plans
            .iter()
            .enumerate()
            .map(|(i, plan)| scope.spawn(move || (i, run(server, flavor, dir, &project(i), plan))))
            .collect();
        for r in runs {
            let (i, out) = r.join().expect("a run's thread");
            let want = if blocked(i) { 1 } else { 0 };
            assert_eq!(
                out.status.code(),
                Some(want),
                "{}: {}",
                project(i),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stderr.is_empty(),
                "{}: {}",
                project(i),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
}

/// The one comment has a correct row for each of `n` projects.
fn assert_rows(server: &FakeServer, n: usize, blocked: impl Fn(usize) -> bool, round: usize) {
    let comments = ours(server);
    assert_eq!(comments.len(), 1, "round {round}: one comment");
    let body = &comments[0].body;
    let rows = body
        .lines()
        .filter(|l| l.starts_with("| `app-"))
        .collect::<Vec<_>>();
    assert_eq!(rows.len(), n, "round {round}: a row per project\n{body}");
    for i in 0..n {
        let verdict = if blocked(i) {
            "⛔\u{a0}block"
        } else {
            "✅\u{a0}pass"
        };
        let row = format!("| `{}` | staging | {verdict} |", project(i));
        assert!(
            rows.iter().any(|r| r.starts_with(&row)),
            "round {round}: no `{row}` in\n{body}"
        );
    }
    let blocked_n = (0..n).filter(|&i| blocked(i)).count();
    assert!(
        body.contains(&format!(
            "### ⛔ BLOCK · {blocked_n} of {n} projects blocked"
        )),
        "{body}"
    );
}

fn race(flavor: Flavor) {
    let n = 20;
    let blocked = |i: usize| i % 4 == 1;
    let dir = tempfile::tempdir().unwrap();
    let plans = plans(dir.path(), n, blocked);
    for round in 0..rounds() {
        let server = FakeServer::start(flavor);
        all_at_once(&server, flavor, dir.path(), &plans, &blocked);
        assert_rows(&server, n, blocked, round);
    }
}

#[test]
fn twenty_projects_at_once_leave_one_github_comment_with_twenty_rows() {
    race(Flavor::GitHub);
}

#[test]
fn twenty_projects_at_once_leave_one_gitlab_note_with_twenty_rows() {
    race(Flavor::GitLab);
}

/// The sections of a comment, by project.
fn sections(body: &str) -> Vec<(String, String)> {
    body.split("<!-- plangate:project ")
        .skip(1)
        .map(|s| {
            let project = s
                .split("\"project\":\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_default()
                .to_string();
            let section = s.split("<!-- plangate:end -->").next().unwrap_or_default();
            // What a reader sees: the section without its hidden state (which holds the time
            // it was written).
            let shown = section.split_once(" -->\n").map_or("", |(_, b)| b);
            (project, shown.to_string())
        })
        .collect()
}

#[test]
fn a_new_run_of_one_project_changes_only_its_row_and_section() {
    let n = 14;
    let blocked = |i: usize| i == 3 || i == 9;
    let dir = tempfile::tempdir().unwrap();
    let plans = plans(dir.path(), n, blocked);
    let server = FakeServer::start(Flavor::GitHub);
    all_at_once(&server, Flavor::GitHub, dir.path(), &plans, &blocked);
    assert_rows(&server, n, blocked, 0);
    let before = ours(&server)[0].body.clone();

    // app-09 is fixed: its new plan passes. Only its row and its section change.
    write_plan(dir.path(), "app-09.json", PASSING_PLAN);
    let out = run(&server, Flavor::GitHub, dir.path(), "app-09", &plans[9]);
    assert_eq!(out.status.code(), Some(0));
    let fixed = |i: usize| i == 3;
    assert_rows(&server, n, fixed, 1);
    let after = ours(&server)[0].body.clone();
    let row = |body: &str, p: &str| {
        body.lines()
            .find(|l| l.starts_with(&format!("| `{p}` |")))
            .map(str::to_string)
    };
    for i in (0..n).filter(|&i| i != 9) {
        assert_eq!(row(&before, &project(i)), row(&after, &project(i)));
    }
    assert_ne!(row(&before, "app-09"), row(&after, "app-09"));
    let (old, new) = (sections(&before), sections(&after));
    let of = |s: &[(String, String)], p: &str| {
        s.iter()
            .find(|(name, _)| name == p)
            .map(|(_, body)| body.clone())
    };
    for i in (0..n).filter(|&i| i != 9) {
        assert_eq!(
            of(&old, &project(i)),
            of(&new, &project(i)),
            "{}",
            project(i)
        );
    }
    assert!(of(&old, "app-09").unwrap().contains("cross-env-destroy"));
    assert_eq!(
        of(&new, "app-09").as_deref(),
        Some(""),
        "a pass shows no section"
    );
}
