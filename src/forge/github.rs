//! The GitHub pull-request comment, through the REST API: our comment for each project is found
//! by its marker (on every page of comments) and by its author, then updated in place or
//! created; extra copies left by an interrupted run are removed. Optionally a commit status
//! `plangate/<project>` per project. Works against any base URL (GitHub Enterprise, tests).
//!
//! Which comments are ours: those whose author's login is exactly the token's own, asked of
//! `GET /user` (personal and OAuth tokens) or, where that is refused (GitHub App installation
//! tokens, the Actions token), of the GraphQL `viewer` (which names the app's bot,
//! `<app>[bot]`, or `github-actions[bot]`); in GitHub Actions, where both are refused,
//! `github-actions[bot]`. The marker alone never makes a comment ours, and neither does being
//! written by some app's bot: any installed app can post a copy of our marker. When the
//! author cannot be known, nothing is edited or deleted; a new comment is created and a warning
//! says why.

use serde_json::{json, Value};

use super::budget::Clock;
use super::http::{encode_segment, Answer, Api, ApiSpec, Method};
use super::pr_comment::{self, Store, Written};
use super::{CommentScope, ForgeError, GitHubTarget, Settings};
use crate::render::markdown;
use crate::report::{ProjectReport, Report, Verdict};

pub(super) struct Session<'a> {
    pub(super) api: Api,
    target: &'a GitHubTarget,
}

impl<'a> Session<'a> {
    pub(super) fn open(
        target: &'a GitHubTarget,
        settings: &'a Settings,
        clock: Clock,
    ) -> Result<Session<'a>, ForgeError> {
        let api = Api::new(ApiSpec {
            platform: "GitHub",
            token_hint: "PLANGATE_GITHUB_TOKEN or GITHUB_TOKEN",
            api_url: &target.api_url,
            auth_header: "authorization",
            auth_value: format!("Bearer {}", target.token.expose()),
            extra_headers: &[
                ("accept", "application/vnd.github+json"),
                ("x-github-api-version", "2022-11-28"),
            ],
            rate_limit_header: "x-ratelimit-remaining",
            timeout: settings.timeout,
            retry: settings.retry,
            clock,
        })?;
        Ok(Session { api, target })
    }

    pub(super) fn repo_route(&self, rest: &str) -> String {
        self.api.path(&format!(
            "/repos/{}/{}{rest}",
            encode_segment(&self.target.owner),
            encode_segment(&self.target.repo)
        ))
    }

    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ForgeError> {
        self.api.call(method, path, body).await
    }

    pub(super) async fn pages(&self, path: String) -> Result<Vec<Value>, ForgeError> {
        self.api.all_pages(path).await
    }

    /// The login our comments are written by; `None` when the token cannot tell (then no
    /// comment is ours). See the module's documentation for the order asked in.
    async fn login(&self) -> Result<Option<String>, ForgeError> {
        match self.call(Method::Get, &self.api.path("/user"), None).await {
            Ok(answer) => {
                if let Some(login) = login_of(answer.json.get("login")) {
                    return Ok(Some(login));
                }
            }
            Err(e) if refused(&e) => {}
            Err(e) => return Err(e),
        }
        let query = json!({ "query": "query { viewer { login } }" });
        match self
            .call(Method::Post, &self.api.graphql_path(), Some(&query))
            .await
        {
            Ok(answer) => {
                if let Some(login) = login_of(answer.json.pointer("/data/viewer/login")) {
                    return Ok(Some(login));
                }
            }
            Err(e) if refused(&e) => {}
            Err(e) => return Err(e),
        }
        Ok(self.target.fallback_login.clone())
    }
}

/// A login as GitHub spells them: not empty, no spaces.
fn login_of(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(char::is_whitespace))
        .map(str::to_string)
}

/// The token may not ask who it is (403), or the endpoint is not there (404).
fn refused(e: &ForgeError) -> bool {
    matches!(e.status(), Some(403 | 404)) && !e.is_out_of_time()
}

/// The names of the pull request's labels.
pub(crate) async fn labels(
    target: &GitHubTarget,
    settings: &Settings,
    clock: Clock,
) -> Result<Vec<String>, ForgeError> {
    let session = Session::open(target, settings, clock)?;
    let path = session.repo_route(&format!("/issues/{}/labels?per_page=100", target.pr));
    let labels = session.pages(path).await?;
    Ok(labels
        .iter()
        .filter_map(|l| l.get("name").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// Our comments, for the one comment per pull request.
struct Comments<'s, 'a> {
    session: &'s Session<'a>,
    login: String,
}

impl Store for Comments<'_, '_> {
    async fn ours(&self) -> Result<Vec<Written>, ForgeError> {
        let path = self.session.repo_route(&format!(
            "/issues/{}/comments?per_page=100",
            self.session.target.pr
        ));
        let comments = self.session.pages(path).await?;
        let mut ours = Vec::new();
        for c in comments
            .iter()
            .filter(|c| c.pointer("/user/login").and_then(Value::as_str) == Some(&self.login))
        {
            ours.push(written(c)?);
        }
        Ok(ours)
    }

    async fn create(&self, body: &str) -> Result<Written, ForgeError> {
        let path = self
            .session
            .repo_route(&format!("/issues/{}/comments", self.session.target.pr));
        let created = self
            .session
            .call(Method::Post, &path, Some(&json!({ "body": body })))
            .await?;
        written(&created.json)
    }

    async fn update(&self, id: u64, body: &str) -> Result<Option<String>, ForgeError> {
        let path = self.session.repo_route(&format!("/issues/comments/{id}"));
        let updated = self
            .session
            .call(Method::Patch, &path, Some(&json!({ "body": body })))
            .await?;
        Ok(html_url(&updated.json))
    }

    async fn delete(&self, id: u64) -> Result<(), ForgeError> {
        let path = self.session.repo_route(&format!("/issues/comments/{id}"));
        match self.session.call(Method::Delete, &path, None).await {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

fn written(comment: &Value) -> Result<Written, ForgeError> {
    Ok(Written {
        id: comment_id(comment)?,
        body: comment
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        url: html_url(comment),
    })
}

/// Post the report: one comment for the pull request (`--comment-scope pr`, the default) or
/// one per project. Returns what the run should be warned of although it was posted.
pub(crate) async fn publish(
    report: &Report,
    target: &GitHubTarget,
    settings: &Settings,
    clock: Clock,
) -> Result<Vec<String>, ForgeError> {
    let session = Session::open(target, settings, clock.clone())?;
    let login = session.login().await?;
    if settings.scope == CommentScope::Project {
        return per_project(report, &session, login, settings).await;
    }
    let Some(login) = login else {
        let store = Comments {
            session: &session,
            login: String::new(),
        };
        let url = pr_comment::create_only(&store, report, target.pr, settings).await?;
        statuses(report, &session, url.as_deref(), settings).await?;
        return Ok(vec![UNKNOWN_AUTHOR.to_string()]);
    };
    let store = Comments {
        session: &session,
        login,
    };
    let url = pr_comment::publish(&store, report, target.pr, settings, &clock).await?;
    statuses(report, &session, url.as_deref(), settings).await?;
    Ok(Vec::new())
}

/// A commit status per project, when asked for.
async fn statuses(
    report: &Report,
    session: &Session<'_>,
    url: Option<&str>,
    settings: &Settings,
) -> Result<(), ForgeError> {
    if !settings.commit_status {
        return Ok(());
    }
    let mut problems = Vec::new();
    for project in &report.projects {
        match status(session, project, url).await {
            Err(e) if e.is_out_of_time() => return Err(e),
            Err(e) => problems.push(format!("{}: commit status: {e}", project.name)),
            Ok(()) => {}
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ForgeError::new(problems.join("; "))),
    }
}

/// One comment per project (`--comment-scope project`): updated when ours exists, else
/// created.
async fn per_project(
    report: &Report,
    session: &Session<'_>,
    login: Option<String>,
    settings: &Settings,
) -> Result<Vec<String>, ForgeError> {
    let target = session.target;
    let comments = match &login {
        Some(_) => {
            session
                .pages(session.repo_route(&format!("/issues/{}/comments?per_page=100", target.pr)))
                .await?
        }
        // Nothing could be ours: no need to read them.
        None => Vec::new(),
    };
    let mut problems = Vec::new();
    for project in &report.projects {
        let Some(body) = markdown::render_project(report, &project.name, settings.budget) else {
            continue;
        };
        let ours: Vec<&Value> = match login.as_deref() {
            Some(login) => comments
                .iter()
                .filter(|c| is_ours(c, &project.name, login))
                .collect(),
            None => Vec::new(),
        };
        let url = match upsert(session, &ours, &body).await {
            Ok(url) => url,
            Err(e) if e.is_out_of_time() => return Err(e),
            Err(e) => {
                problems.push(format!("{}: {e}", project.name));
                continue;
            }
        };
        if settings.commit_status {
            match status(session, project, url.as_deref()).await {
                Err(e) if e.is_out_of_time() => return Err(e),
                Err(e) => problems.push(format!("{}: commit status: {e}", project.name)),
                Ok(()) => {}
            }
        }
    }
    if !problems.is_empty() {
        return Err(ForgeError::new(problems.join("; ")));
    }
    Ok(match login {
        Some(_) => Vec::new(),
        None => vec![UNKNOWN_AUTHOR.to_string()],
    })
}

/// The warning when the token cannot say who it is.
const UNKNOWN_AUTHOR: &str = "pull-request comment: GitHub does not tell this token who it is (GET /user and the GraphQL viewer were refused), so plangate cannot recognise its own comments: it created a new one and edited or deleted none; a token that may read its own user lets it update the comment in place";

/// A comment is ours when it starts with the marker of this project and was written by the
/// token's own login: a person or another app quoting or copying our comment is left alone.
fn is_ours(comment: &Value, project: &str, login: &str) -> bool {
    let body = comment
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(marker) = markdown::parse_marker(body) else {
        return false;
    };
    marker.project == project
        && comment.pointer("/user/login").and_then(Value::as_str) == Some(login)
}

/// Update the oldest of our comments (deleting any copies), or create one. Returns its URL.
async fn upsert(
    session: &Session<'_>,
    ours: &[&Value],
    body: &str,
) -> Result<Option<String>, ForgeError> {
    let payload = json!({ "body": body });
    let Some((keep, extra)) = ours.split_first() else {
        let created = session
            .call(
                Method::Post,
                &session.repo_route(&format!("/issues/{}/comments", session.target.pr)),
                Some(&payload),
            )
            .await?;
        return Ok(html_url(&created.json));
    };
    let id = comment_id(keep)?;
    let unchanged = keep.get("body").and_then(Value::as_str) == Some(body);
    let url = if unchanged {
        html_url(keep)
    } else {
        let updated = session
            .call(
                Method::Patch,
                &session.repo_route(&format!("/issues/comments/{id}")),
                Some(&payload),
            )
            .await?;
        html_url(&updated.json)
    };
    for copy in extra {
        let id = comment_id(copy)?;
        session
            .call(
                Method::Delete,
                &session.repo_route(&format!("/issues/comments/{id}")),
                None,
            )
            .await?;
    }
    Ok(url)
}

fn comment_id(comment: &Value) -> Result<u64, ForgeError> {
    comment
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ForgeError::new("GitHub listed a comment without a numeric id"))
}

fn html_url(comment: &Value) -> Option<String> {
    comment
        .get("html_url")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `plangate/<project>` on the head commit: success unless blocked.
async fn status(
    session: &Session<'_>,
    project: &ProjectReport,
    target_url: Option<&str>,
) -> Result<(), ForgeError> {
    let sha = match &session.target.head_sha {
        Some(sha) => sha.clone(),
        None => {
            let pr = session
                .call(
                    Method::Get,
                    &session.repo_route(&format!("/pulls/{}", session.target.pr)),
                    None,
                )
                .await?;
            pr.json
                .pointer("/head/sha")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ForgeError::new("GitHub's pull request has no head commit"))?
        }
    };
    let state = match project.verdict {
        Verdict::Block => "failure",
        Verdict::Pass | Verdict::Warn => "success",
    };
    let mut payload = json!({
        "state": state,
        "context": format!("plangate/{}", project.name),
        "description": status_description(project),
    });
    if let Some(url) = target_url {
        payload["target_url"] = Value::String(url.to_string());
    }
    session
        .call(
            Method::Post,
            &session.repo_route(&format!("/statuses/{}", encode_segment(&sha))),
            Some(&payload),
        )
        .await
        .map(|_| ())
}

/// GitHub keeps 140 characters of a status description.
pub(crate) fn status_description(project: &ProjectReport) -> String {
    let c = &project.counts;
    let text = format!(
        "{}: {} to delete, {} to replace ({})",
        project.verdict.as_str().to_uppercase(),
        c.delete,
        c.replace,
        project
            .environment
            .as_deref()
            .unwrap_or("unknown environment")
    );
    text.chars().take(140).collect()
}
