//! Credentials written into a URL (`https://user:secret@host/...`) are never printed and never
//! sent, end to end: API URLs given as flags or variables, refused as invalid or used, and the
//! API URL plangate derives from Atlantis's `$PULL_URL`.

use std::process::Output;

use crate::loopback_forge::{
    plangate, write_plan, FakeServer, Flavor, Misbehaviour, BLOCKING_PLAN, BOT_LOGIN, TOKEN,
};

const SECRET: &str = "s3cr3t-in-url-77";

fn assert_secret_absent(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains(SECRET) && !text.contains(TOKEN),
            "a credential was printed:\n{stderr}"
        );
    }
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.json", BLOCKING_PLAN);
    let spec = format!("app-staging={}", plan.display());
    let mut all = vec!["check", "--plan", &spec, "--env", "staging"];
    all.extend_from_slice(args);
    plangate(dir.path(), &all, env)
}

#[test]
fn a_refused_api_url_never_shows_its_credentials() {
    let bad = format!("https://user:{SECRET}@host:notaport/");
    let github = ["--comment", "github", "--repo", "acme/infra", "--pr", "7"];
    let mut with_flag = github.to_vec();
    with_flag.extend(["--github-api-url", &bad]);
    let gitlab = ["--comment", "gitlab", "--repo", "acme/infra", "--pr", "7"];
    let mut gitlab_flag = gitlab.to_vec();
    gitlab_flag.extend(["--gitlab-api-url", &bad]);
    let runs = [
        run(&with_flag, &[("GITHUB_TOKEN", TOKEN)]),
        run(
            &github,
            &[("GITHUB_TOKEN", TOKEN), ("GITHUB_API_URL", &bad)],
        ),
        run(&gitlab_flag, &[("GITLAB_TOKEN", TOKEN)]),
        run(&gitlab, &[("GITLAB_TOKEN", TOKEN), ("CI_API_V4_URL", &bad)]),
    ];
    for out in &runs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "the verdict's code: {stderr}");
        assert!(
            stderr.contains("is not a URL") && stderr.contains("https://***@host:notaport/"),
            "says which URL, blanked: {stderr}"
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("BLOCK app-staging"));
        assert_secret_absent(out);
    }
}

#[test]
fn a_working_api_url_with_credentials_sends_and_prints_none() {
    let server = FakeServer::start(Flavor::GitHub);
    let api = format!("http://user:{SECRET}@127.0.0.1:{}/api/v3", server.port);
    let args = [
        "--comment",
        "github",
        "--repo",
        "acme/infra",
        "--pr",
        "7",
        "--github-api-url",
        &api,
    ];
    let posted = run(&args, &[("GITHUB_TOKEN", TOKEN)]);
    assert_eq!(posted.status.code(), Some(1));
    assert!(
        posted.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&posted.stderr)
    );
    assert!(server.comments().iter().any(|c| c.author == BOT_LOGIN));
    assert_secret_absent(&posted);
    // Failing, its messages do not show them either.
    server.misbehave(
        "",
        Misbehaviour::Always {
            status: 500,
            headers: Vec::new(),
            body: r#"{"message":"Server Error"}"#.into(),
        },
    );
    let failed = run(&args, &[("GITHUB_TOKEN", TOKEN)]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("answered 500"));
    assert_secret_absent(&failed);
    // Nothing sent carries them: no basic auth, not in any path or body.
    for r in server.requests() {
        let all = format!("{} {:?} {}", r.target, r.headers, r.body);
        assert!(!all.contains(SECRET), "sent: {all}");
        assert!(r.header("authorization") == Some(&format!("Bearer {TOKEN}")));
    }
}

#[test]
fn the_api_url_derived_from_pull_url_drops_its_credentials() {
    let server = FakeServer::start(Flavor::GitHub);
    let pull_url = format!(
        "http://user:{SECRET}@127.0.0.1:{}/acme/infra/pull/7",
        server.port
    );
    let atlantis = [
        ("ATLANTIS_TERRAFORM_VERSION", "1.9.0"),
        ("BASE_REPO_OWNER", "acme"),
        ("BASE_REPO_NAME", "infra"),
        ("PULL_NUM", "7"),
        ("PULL_URL", pull_url.as_str()),
        ("PROJECT_NAME", "app-staging"),
        ("GITHUB_TOKEN", TOKEN),
    ];
    let posted = run(&[], &atlantis);
    let stderr = String::from_utf8_lossy(&posted.stderr);
    assert_eq!(posted.status.code(), Some(1), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_secret_absent(&posted);
    // The Enterprise API beside the pull request: our fake.
    assert!(server.comments().iter().any(|c| c.author == BOT_LOGIN));
    assert!(server
        .requests()
        .iter()
        .all(|r| r.path().starts_with("/api/") && !format!("{:?}", r.headers).contains(SECRET)));
    // Giving up on it says nothing of them either.
    server.misbehave("", Misbehaviour::Silent);
    let gave_up = run(
        &[],
        &[atlantis.as_slice(), &[("PLANGATE_FORGE_TIMEOUT", "2")]].concat(),
    );
    let stderr = String::from_utf8_lossy(&gave_up.stderr);
    assert_eq!(gave_up.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("gave up on the pull-request comment after 2 s"),
        "{stderr}"
    );
    assert_secret_absent(&gave_up);
}
