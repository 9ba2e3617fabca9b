//! The code hosts: GitHub (and GitHub Enterprise) and GitLab. plangate reads the pull
//! request's labels (declared destroy intent) and writes the pull-request comment and commit
//! statuses there. (The GitHub Action writes the step summary from `--output markdown=PATH`,
//! so it is not written here twice.) This is the only async code of the crate: each call
//! builds a small tokio runtime of its own, so the core stays sync. Nothing here changes the
//! verdict or the exit code; failures come back as one-line errors. A forge is one file here.
//! All the forge work of a run shares one time budget (`--forge-timeout`, [`budget`]): a forge
//! that never answers costs that much and no more.

pub mod approvals;
pub mod budget;
pub mod github;
pub mod gitlab;
pub mod http;
mod pr_comment;
mod redact;

use std::fmt;
use std::time::Duration;

use crate::report::Report;
use budget::{seconds, Clock};
pub use budget::{TimeBudget, DEFAULT_FORGE_TIMEOUT};
pub use http::RetryPolicy;
pub use pr_comment::Settle;

/// What the command line says about the pull request and its comment.
#[derive(Debug, Clone, Default)]
pub struct CommentArgs {
    /// `--comment`: post or update the pull-request comment (default: auto in Atlantis and
    /// GitHub Actions, else off).
    pub comment: Option<CommentMode>,
    /// `--repo`: the repository of the pull request (GitLab: the project path).
    pub repo: Option<String>,
    /// `--pr`: the pull request (GitLab: merge request IID).
    pub pr: Option<u64>,
    pub github_api_url: Option<String>,
    pub gitlab_api_url: Option<String>,
    /// `--commit-status`: also set `plangate/<project>` on the head commit.
    pub commit_status: bool,
    /// `--forge-timeout`: seconds all the forge work of the run may take together (default 60).
    pub forge_timeout: Option<u64>,
    /// `--comment-scope`: one comment for the pull request (default) or one per project.
    pub scope: CommentScope,
}

/// How many comments a pull request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CommentScope {
    /// One comment for the whole pull request, a section per project (`plangate:v2`)
    #[default]
    Pr,
    /// One comment per project (`plangate:v1`)
    Project,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CommentMode {
    Github,
    Gitlab,
    Auto,
    Off,
}

/// A problem talking to the forge, as one line without any credential in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeError {
    message: String,
    /// The HTTP status of the answer that was refused, if one was.
    status: Option<u16>,
    /// The run's forge time ran out.
    out_of_time: bool,
}

impl ForgeError {
    pub fn new(message: impl Into<String>) -> ForgeError {
        ForgeError {
            message: message.into(),
            status: None,
            out_of_time: false,
        }
    }

    pub(crate) fn out_of_time(message: impl Into<String>) -> ForgeError {
        ForgeError {
            out_of_time: true,
            ..ForgeError::new(message)
        }
    }

    pub(crate) fn with_status(self, status: u16) -> ForgeError {
        ForgeError {
            status: Some(status),
            ..self
        }
    }

    /// The HTTP status the forge refused with (403, 404, ...).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Whether the run's forge time (`--forge-timeout`) ran out.
    pub fn is_out_of_time(&self) -> bool {
        self.out_of_time
    }
}

impl fmt::Display for ForgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ForgeError {}

/// A credential: never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The pull request on GitHub (or GitHub Enterprise).
#[derive(Debug, Clone)]
pub struct GitHubTarget {
    pub api_url: String,
    pub owner: String,
    pub repo: String,
    pub pr: u64,
    pub token: Token,
    /// The commit a status goes on; looked up from the pull request when unknown.
    pub head_sha: Option<String>,
    /// The login our comments are written by when the token cannot say (`GET /user` is
    /// refused to the Actions token): `github-actions[bot]` in Actions.
    pub fallback_login: Option<String>,
}

/// The merge request on GitLab.
#[derive(Debug, Clone)]
pub struct GitLabTarget {
    pub api_url: String,
    /// `group/subgroup/project` or a numeric id.
    pub project: String,
    pub mr: u64,
    pub token: Token,
    pub head_sha: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Target {
    GitHub(GitHubTarget),
    GitLab(GitLabTarget),
}

/// Everything the forge code needs, read once from the options and the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the comment goes (`--comment`).
    pub target: Option<Target>,
    /// The pull request whose labels declare intent: known whenever a pull request and a token
    /// are, whatever `--comment` says.
    pub pull_request: Option<Target>,
    /// Why an explicitly requested comment cannot be posted (reported by [`publish`]).
    pub problem: Option<String>,
    pub commit_status: bool,
    pub retry: RetryPolicy,
    /// Per request, all of it (connecting, waiting, reading the body).
    pub timeout: Duration,
    /// All the forge work of the run together: labels, comment, statuses.
    pub forge_time: TimeBudget,
    /// Size budget of one comment, in bytes.
    pub budget: usize,
    pub scope: CommentScope,
    /// How long a run waits before it reads the pull-request comment back.
    pub settle: Settle,
}

impl Default for Settings {
    /// Nothing to post.
    fn default() -> Self {
        Settings {
            target: None,
            pull_request: None,
            problem: None,
            commit_status: false,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            forge_time: TimeBudget::default(),
            budget: crate::render::markdown::DEFAULT_BUDGET,
            scope: CommentScope::Pr,
            settle: Settle::default(),
        }
    }
}

impl Settings {
    /// Settings from the options and the process environment.
    pub fn from_env(args: &CommentArgs) -> Settings {
        Settings::resolve(args, &|key| {
            std::env::var(key).ok().filter(|v| !v.is_empty())
        })
    }

    /// Settings from the options and an environment given as a lookup (tests pass a map).
    pub fn resolve(args: &CommentArgs, env: &dyn Fn(&str) -> Option<String>) -> Settings {
        let mut retry = RetryPolicy::default();
        if let Some(ms) = env("PLANGATE_HTTP_BACKOFF_MS").and_then(|v| v.parse::<u64>().ok()) {
            retry.base = Duration::from_millis(ms);
        }
        let forge_time = args
            .forge_timeout
            .map_or(DEFAULT_FORGE_TIMEOUT, Duration::from_secs);
        let mut settings = Settings {
            commit_status: args.commit_status,
            retry,
            forge_time: TimeBudget::new(forge_time),
            scope: args.scope,
            settle: Settle::from_env(env),
            ..Settings::default()
        };
        let in_ci = env("ATLANTIS_TERRAFORM_VERSION").is_some() || env("GITHUB_ACTIONS").is_some();
        let mode = args.comment.unwrap_or(if in_ci {
            CommentMode::Auto
        } else {
            CommentMode::Off
        });
        let explicit = |mode: CommentMode| match mode {
            CommentMode::Github => Some(github_target(args, env).map(Target::GitHub)),
            CommentMode::Gitlab => Some(gitlab_target(args, env).map(Target::GitLab)),
            CommentMode::Auto | CommentMode::Off => None,
        };
        let detected = || match detect_platform(args, env) {
            Some(Platform::GitLab) => Some(gitlab_target(args, env).map(Target::GitLab)),
            Some(Platform::GitHub) => Some(github_target(args, env).map(Target::GitHub)),
            None => None,
        };
        // Labels are read from the pull request whenever one and a token are known.
        settings.pull_request = explicit(mode).or_else(detected).and_then(Result::ok);
        let resolved = match mode {
            CommentMode::Off => return settings,
            CommentMode::Github | CommentMode::Gitlab => explicit(mode),
            CommentMode::Auto => detected(),
        };
        match resolved {
            Some(Ok(target)) => settings.target = Some(target),
            // `auto` posts only when it finds a pull request and a token; otherwise it is quiet.
            Some(Err(why)) if mode != CommentMode::Auto => settings.problem = Some(why),
            Some(Err(_)) | None => {}
        }
        settings
    }

    fn tokens(&self) -> Vec<&str> {
        [&self.target, &self.pull_request]
            .into_iter()
            .flatten()
            .map(|t| match t {
                Target::GitHub(t) => t.token.expose(),
                Target::GitLab(t) => t.token.expose(),
            })
            .collect()
    }

    /// A message with every credential blanked out, whatever produced it: the tokens, and
    /// the user information of any URL in it.
    fn scrub(&self, message: &str) -> String {
        let mut out = redact::redact_urls(message);
        for token in self.tokens() {
            if token.len() >= 4 {
                out = out.replace(token, "***");
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    GitHub,
    GitLab,
}

fn detect_platform(args: &CommentArgs, env: &dyn Fn(&str) -> Option<String>) -> Option<Platform> {
    if let Some(url) = env("PULL_URL") {
        if url.contains("/-/merge_requests/") || url.contains("/merge_requests/") {
            return Some(Platform::GitLab);
        }
        if url.contains("/pull/") {
            return Some(Platform::GitHub);
        }
        // Bitbucket, Azure DevOps: no comment of ours there.
        return None;
    }
    if env("GITHUB_ACTIONS").is_some() {
        return Some(Platform::GitHub);
    }
    if env("GITLAB_CI").is_some() {
        return Some(Platform::GitLab);
    }
    // A local run that names the pull request: the token says where it lives.
    if args.pr.is_some() {
        if first(env, GITHUB_TOKENS).is_some() {
            return Some(Platform::GitHub);
        }
        if first(env, GITLAB_TOKENS).is_some() {
            return Some(Platform::GitLab);
        }
    }
    None
}

/// Where a GitHub token is read from, first found wins.
pub const GITHUB_TOKENS: &[&str] = &["PLANGATE_GITHUB_TOKEN", "GITHUB_TOKEN", "ATLANTIS_GH_TOKEN"];
/// Where a GitLab token is read from, first found wins.
pub const GITLAB_TOKENS: &[&str] = &[
    "PLANGATE_GITLAB_TOKEN",
    "GITLAB_TOKEN",
    "ATLANTIS_GITLAB_TOKEN",
];

fn first(env: &dyn Fn(&str) -> Option<String>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| env(k))
}

/// `OWNER/NAME` from `--repo`, Atlantis, or Actions.
fn repository(args: &CommentArgs, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    args.repo
        .clone()
        .or_else(|| match (env("BASE_REPO_OWNER"), env("BASE_REPO_NAME")) {
            (Some(owner), Some(name)) => Some(format!("{owner}/{name}")),
            _ => env("GITHUB_REPOSITORY").or_else(|| env("CI_PROJECT_PATH")),
        })
}

/// What the GitHub Actions event file says: the pull request number and head commit.
fn actions_event(env: &dyn Fn(&str) -> Option<String>) -> (Option<u64>, Option<String>) {
    let Some(path) = env("GITHUB_EVENT_PATH") else {
        return (None, None);
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        return (None, None);
    };
    let Ok(event) = serde_json::from_str::<serde_json::Value>(&text) else {
        return (None, None);
    };
    let pr = event.get("pull_request");
    let number = pr
        .and_then(|p| p.get("number"))
        .or_else(|| {
            event
                .get("issue")
                .filter(|i| i.get("pull_request").is_some())
                .and_then(|i| i.get("number"))
        })
        .and_then(serde_json::Value::as_u64);
    let sha = pr
        .and_then(|p| p.pointer("/head/sha"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    (number, sha)
}

fn github_target(
    args: &CommentArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<GitHubTarget, String> {
    let (event_pr, event_sha) = actions_event(env);
    let repo = repository(args, env)
        .ok_or("no repository: pass --repo OWNER/NAME (or run in Atlantis or GitHub Actions)")?;
    let (owner, name) = repo
        .split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| format!("--repo {repo}: expected OWNER/NAME"))?;
    let pr = match args.pr {
        Some(n) => n,
        None => match env("PULL_NUM") {
            Some(n) => n
                .trim()
                .parse()
                .map_err(|_| format!("PULL_NUM={n} is not a number"))?,
            None => {
                event_pr.ok_or("no pull request: pass --pr N (or run on a pull_request event)")?
            }
        },
    };
    let token = first(env, GITHUB_TOKENS)
        .ok_or("no GitHub token: set PLANGATE_GITHUB_TOKEN, GITHUB_TOKEN or ATLANTIS_GH_TOKEN")?;
    let api_url = args
        .github_api_url
        .as_deref()
        .map(redact::redact_url)
        .or_else(|| env("GITHUB_API_URL").as_deref().map(redact::redact_url))
        .or_else(|| enterprise_api_from_pull_url(env))
        .unwrap_or_else(|| "https://api.github.com".into());
    Ok(GitHubTarget {
        api_url,
        owner: owner.to_string(),
        repo: name.to_string(),
        pr,
        token: Token::new(token),
        head_sha: env("HEAD_COMMIT").or(event_sha),
        fallback_login: env("GITHUB_ACTIONS").map(|_| "github-actions[bot]".to_string()),
    })
}

/// Atlantis on GitHub Enterprise: `https://HOST/owner/repo/pull/1` -> `https://HOST/api/v3`.
fn enterprise_api_from_pull_url(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let url = reqwest::Url::parse(&env("PULL_URL")?).ok()?;
    let host = url.host_str()?;
    if host == "github.com" || host == "www.github.com" {
        return None;
    }
    Some(format!("{}/api/v3", url.origin().ascii_serialization()))
}

fn gitlab_target(
    args: &CommentArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<GitLabTarget, String> {
    let project = repository(args, env)
        .ok_or("no GitLab project: pass --repo GROUP/PROJECT (or run in Atlantis or GitLab CI)")?;
    let mr = match args.pr {
        Some(n) => n,
        None => {
            let raw = first(env, &["PULL_NUM", "CI_MERGE_REQUEST_IID"])
                .ok_or("no merge request: pass --pr N (the merge request IID)")?;
            raw.trim()
                .parse()
                .map_err(|_| format!("merge request {raw} is not a number"))?
        }
    };
    let token = first(env, GITLAB_TOKENS).ok_or(
        "no GitLab token: set PLANGATE_GITLAB_TOKEN, GITLAB_TOKEN or ATLANTIS_GITLAB_TOKEN",
    )?;
    let api_url = args
        .gitlab_api_url
        .as_deref()
        .map(redact::redact_url)
        .or_else(|| env("CI_API_V4_URL").as_deref().map(redact::redact_url))
        .or_else(|| {
            let url = reqwest::Url::parse(&env("PULL_URL")?).ok()?;
            Some(format!("{}/api/v4", url.origin().ascii_serialization()))
        })
        .ok_or("no GitLab API URL: pass --gitlab-api-url https://HOST/api/v4")?;
    Ok(GitLabTarget {
        api_url,
        project,
        mr,
        token: Token::new(token),
        head_sha: first(env, &["HEAD_COMMIT", "CI_COMMIT_SHA"]),
    })
}

/// The label prefix that declares destroy intent on a pull request.
pub const DESTROY_LABEL_PREFIX: &str = "plangate:destroy:";

/// Destroy intent from the pull request's labels `plangate:destroy:<project-or-env>`. Empty
/// when no pull request or no token is known; read before the rules run. Labels that cannot be
/// read (in time) declare nothing: intent only softens, so missing it fails closed.
pub fn destroy_labels(settings: &Settings) -> Result<Vec<String>, ForgeError> {
    let Some(target) = &settings.pull_request else {
        return Ok(Vec::new());
    };
    let labels = block_on(settings, "the pull-request labels", |clock| async move {
        match target {
            Target::GitHub(t) => github::labels(t, settings, clock).await,
            Target::GitLab(t) => gitlab::labels(t, settings, clock).await,
        }
    })
    .map_err(|e| {
        let message = if e.is_out_of_time() {
            format!("{e}; no destroy intent is taken from labels")
        } else {
            format!("pull-request labels not read: {e}")
        };
        ForgeError::new(settings.scrub(&message))
    })?;
    Ok(intent_from_labels(&labels))
}

/// `plangate:destroy:rosey-staging` -> `rosey-staging`.
pub fn intent_from_labels(labels: &[String]) -> Vec<String> {
    labels
        .iter()
        .filter_map(|l| l.trim().strip_prefix(DESTROY_LABEL_PREFIX))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Post the report: the pull request's one comment (or one per project with
/// `--comment-scope project`), created or updated in place, and commit statuses if asked. Every problem is returned as one line; the caller has already written the report
/// to stdout and its `--output` files, so nothing is lost because of one.
pub fn publish(report: &Report, settings: &Settings) -> Result<(), ForgeError> {
    let mut problems = Vec::new();
    if let Some(problem) = &settings.problem {
        problems.push(format!("pull-request comment not posted: {problem}"));
    }
    if let Some(target) = &settings.target {
        if !report.projects.is_empty() {
            let result = block_on(settings, "the pull-request comment", |clock| async move {
                match target {
                    Target::GitHub(t) => github::publish(report, t, settings, clock).await,
                    Target::GitLab(t) => gitlab::publish(report, t, settings, clock).await,
                }
            });
            match result {
                Ok(notes) => problems.extend(notes),
                Err(e) if e.is_out_of_time() => problems.push(e.to_string()),
                Err(e) => problems.push(format!("pull-request comment not posted: {e}")),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ForgeError::new(settings.scrub(&problems.join("; "))))
    }
}

/// Run one piece of forge work on a runtime of its own, within what is left of the run's
/// forge time. Running out is said as "gave up on WHAT after N s: what it was doing".
fn block_on<T, F, Fut>(settings: &Settings, what: &str, work: F) -> Result<T, ForgeError>
where
    F: FnOnce(Clock) -> Fut,
    Fut: std::future::Future<Output = Result<T, ForgeError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| ForgeError::new(format!("cannot start the HTTP runtime: {e}")))?;
    let clock = settings.forge_time.start();
    let result = runtime.block_on(async {
        if clock.left().is_zero() {
            return Err(ForgeError::out_of_time(
                "the forge time of this run was already spent (see --forge-timeout)",
            ));
        }
        // The requests keep to the deadline themselves (and say what timed out); this is the
        // backstop, a moment later, for anything that does not.
        let backstop = clock.deadline() + Duration::from_millis(250);
        match tokio::time::timeout_at(backstop, work(clock.clone())).await {
            Ok(result) => result,
            Err(_) => Err(ForgeError::out_of_time(
                clock
                    .last_doing()
                    .unwrap_or_else(|| "no answer in time".into()),
            )),
        }
    });
    clock.finish();
    // A name lookup still running on a blocking thread must not hold the process.
    runtime.shutdown_background();
    let total = seconds(settings.forge_time.total());
    result.map_err(|e| match e.is_out_of_time() {
        // The time ran out.
        true if settings.forge_time.remaining().is_zero() => {
            ForgeError::out_of_time(format!("gave up on {what} after {total}: {e}"))
        }
        // The next try would not have fitted in what was left.
        true => ForgeError::out_of_time(format!(
            "gave up on {what} early, within the {total} of --forge-timeout: {e}"
        )),
        false => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings(args: &CommentArgs, vars: &[(&str, &str)]) -> Settings {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(args, &|k| map.get(k).cloned())
    }

    #[test]
    fn off_locally_auto_in_atlantis() {
        let s = settings(&CommentArgs::default(), &[("GITHUB_TOKEN", "t0ken")]);
        assert!(s.target.is_none() && s.problem.is_none());
        let s = settings(
            &CommentArgs::default(),
            &[
                ("ATLANTIS_TERRAFORM_VERSION", "1.9.0"),
                ("BASE_REPO_OWNER", "acme"),
                ("BASE_REPO_NAME", "infra"),
                ("PULL_NUM", "7"),
                ("PULL_URL", "https://github.com/acme/infra/pull/7"),
                ("HEAD_COMMIT", "abc123"),
                ("GITHUB_TOKEN", "t0ken"),
            ],
        );
        let Some(Target::GitHub(t)) = s.target else {
            panic!("no GitHub target")
        };
        assert_eq!(
            (t.owner.as_str(), t.repo.as_str(), t.pr),
            ("acme", "infra", 7)
        );
        assert_eq!(t.api_url, "https://api.github.com");
        assert_eq!(t.head_sha.as_deref(), Some("abc123"));
    }

    #[test]
    fn auto_without_a_token_is_quiet_but_explicit_says_why() {
        let vars = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/infra"),
        ];
        let s = settings(&CommentArgs::default(), &vars);
        assert!(s.target.is_none() && s.problem.is_none());
        let args = CommentArgs {
            comment: Some(CommentMode::Github),
            pr: Some(3),
            ..Default::default()
        };
        let s = settings(&args, &vars);
        assert!(s.problem.unwrap().contains("no GitHub token"));
    }

    #[test]
    fn atlantis_on_enterprise_and_gitlab() {
        let s = settings(
            &CommentArgs::default(),
            &[
                ("ATLANTIS_TERRAFORM_VERSION", "1.9.0"),
                ("BASE_REPO_OWNER", "acme"),
                ("BASE_REPO_NAME", "infra"),
                ("PULL_NUM", "7"),
                ("PULL_URL", "https://ghe.acme.io/acme/infra/pull/7"),
                ("GITHUB_TOKEN", "t0ken"),
            ],
        );
        let Some(Target::GitHub(t)) = s.target else {
            panic!("no GitHub target")
        };
        assert_eq!(t.api_url, "https://ghe.acme.io/api/v3");
        let s = settings(
            &CommentArgs::default(),
            &[
                ("ATLANTIS_TERRAFORM_VERSION", "1.9.0"),
                ("BASE_REPO_OWNER", "acme/platform"),
                ("BASE_REPO_NAME", "infra"),
                ("PULL_NUM", "12"),
                (
                    "PULL_URL",
                    "https://gitlab.acme.io/acme/platform/infra/-/merge_requests/12",
                ),
                ("GITLAB_TOKEN", "glpat"),
            ],
        );
        let Some(Target::GitLab(t)) = s.target else {
            panic!("no GitLab target")
        };
        assert_eq!(t.project, "acme/platform/infra");
        assert_eq!(t.api_url, "https://gitlab.acme.io/api/v4");
        assert_eq!(t.mr, 12);
    }

    #[test]
    fn labels_are_read_with_commenting_off() {
        let off = CommentArgs {
            comment: Some(CommentMode::Off),
            ..Default::default()
        };
        let s = settings(
            &off,
            &[
                ("ATLANTIS_TERRAFORM_VERSION", "1.9.0"),
                ("BASE_REPO_OWNER", "acme"),
                ("BASE_REPO_NAME", "infra"),
                ("PULL_NUM", "7"),
                ("PULL_URL", "https://github.com/acme/infra/pull/7"),
                ("ATLANTIS_GH_TOKEN", "t0ken"),
            ],
        );
        assert!(s.target.is_none(), "nothing is posted");
        assert!(matches!(s.pull_request, Some(Target::GitHub(ref t)) if t.pr == 7));
        let local = CommentArgs {
            repo: Some("acme/infra".into()),
            pr: Some(3),
            ..Default::default()
        };
        let s = settings(
            &local,
            &[
                ("GITLAB_TOKEN", "glpat"),
                ("CI_API_V4_URL", "https://gl.example/api/v4"),
            ],
        );
        assert!(s.target.is_none());
        assert!(matches!(s.pull_request, Some(Target::GitLab(ref t)) if t.mr == 3));
        let s = settings(&CommentArgs::default(), &[("GITHUB_TOKEN", "t0ken")]);
        assert!(s.pull_request.is_none(), "no pull request named");
    }

    #[test]
    fn labels_declare_intent() {
        let labels = vec![
            "bug".to_string(),
            "plangate:destroy:staging".into(),
            "plangate:destroy:".into(),
        ];
        assert_eq!(intent_from_labels(&labels), vec!["staging".to_string()]);
    }

    #[test]
    fn tokens_never_print() {
        let t = Token::new("s3cret");
        assert_eq!(format!("{t:?}"), "Token(***)");
        let s = settings(
            &CommentArgs {
                comment: Some(CommentMode::Github),
                repo: Some("a/b".into()),
                pr: Some(1),
                ..Default::default()
            },
            &[("GITHUB_TOKEN", "s3cret")],
        );
        assert!(!format!("{s:?}").contains("s3cret"));
        assert_eq!(s.scrub("x s3cret y"), "x *** y");
        assert_eq!(s.scrub("at https://u:pw@h/x"), "at https://***@h/x");
    }

    #[test]
    fn credentials_in_api_urls_are_never_kept() {
        let args = CommentArgs {
            comment: Some(CommentMode::Github),
            repo: Some("a/b".into()),
            pr: Some(1),
            github_api_url: Some("https://user:s3cr3t@ghe.example/api/v3".into()),
            ..Default::default()
        };
        let s = settings(&args, &[("GITHUB_TOKEN", "t0ken")]);
        assert!(!format!("{s:?}").contains("s3cr3t"));
        let Some(Target::GitHub(t)) = s.target else {
            panic!("no GitHub target")
        };
        assert_eq!(t.api_url, "https://***@ghe.example/api/v3");
        let s = settings(
            &CommentArgs {
                comment: Some(CommentMode::Gitlab),
                repo: Some("a/b".into()),
                pr: Some(1),
                ..Default::default()
            },
            &[
                ("GITLAB_TOKEN", "glpat"),
                ("CI_API_V4_URL", "https://ci:s3cr3t@gl.example:x/api/v4"),
            ],
        );
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }

    #[test]
    fn the_forge_time_is_configured() {
        let s = settings(&CommentArgs::default(), &[]);
        assert_eq!(s.forge_time.total(), Duration::from_secs(60));
        let args = CommentArgs {
            forge_timeout: Some(3),
            ..Default::default()
        };
        assert_eq!(
            settings(&args, &[]).forge_time.total(),
            Duration::from_secs(3)
        );
    }
}
