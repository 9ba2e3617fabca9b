//! The GitHub pull-request comment, through the REST API: our comment for each project is found
//! by its marker (on every page of comments) and by its author, then updated in place or
//! created; extra copies left by an interrupted run are removed. Optionally a commit status
//! `plangate/<project>` per project. Works against any base URL (GitHub Enterprise, tests).

use serde_json::{json, Value};

use super::http::{encode_segment, Answer, Api, ApiSpec, Method};
use super::{ForgeError, GitHubTarget, Settings};
use crate::render::markdown;
use crate::report::{ProjectReport, Report, Verdict};

struct Session<'a> {
    api: Api,
    target: &'a GitHubTarget,
}

impl<'a> Session<'a> {
    fn open(target: &'a GitHubTarget, settings: &'a Settings) -> Result<Session<'a>, ForgeError> {
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
        })?;
        Ok(Session { api, target })
    }

    fn repo_route(&self, rest: &str) -> String {
        self.api.path(&format!(
            "/repos/{}/{}{rest}",
            encode_segment(&self.target.owner),
            encode_segment(&self.target.repo)
        ))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ForgeError> {
        self.api.call(method, path, body).await
    }

    async fn pages(&self, path: String) -> Result<Vec<Value>, ForgeError> {
        self.api.all_pages(path).await
    }

    /// Who our comments are written by; `None` when the token cannot tell (then the marker
    /// at the start of the body is the only test).
    async fn login(&self) -> Result<Option<String>, ForgeError> {
        match self.call(Method::Get, &self.api.path("/user"), None).await {
            Ok(answer) => Ok(answer
                .json
                .get("login")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| self.target.fallback_login.clone())),
            // The Actions token may not read /user; a bad token fails on the next call anyway.
            Err(e) if e.to_string().contains("403") => Ok(self.target.fallback_login.clone()),
            Err(e) => Err(e),
        }
    }
}

/// The names of the pull request's labels.
pub(crate) async fn labels(
    target: &GitHubTarget,
    settings: &Settings,
) -> Result<Vec<String>, ForgeError> {
    let session = Session::open(target, settings)?;
    let path = session.repo_route(&format!("/issues/{}/labels?per_page=100", target.pr));
    let labels = session.pages(path).await?;
    Ok(labels
        .iter()
        .filter_map(|l| l.get("name").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// One comment per project: updated when ours exists, else created.
pub(crate) async fn publish(
    report: &Report,
    target: &GitHubTarget,
    settings: &Settings,
) -> Result<(), ForgeError> {
    let session = Session::open(target, settings)?;
    let login = session.login().await?;
    let comments = session
        .pages(session.repo_route(&format!("/issues/{}/comments?per_page=100", target.pr)))
        .await?;
    let mut problems = Vec::new();
    for project in &report.projects {
        let Some(body) = markdown::render_project(report, &project.name, settings.budget) else {
            continue;
        };
        let ours: Vec<&Value> = comments
            .iter()
            .filter(|c| is_ours(c, &project.name, login.as_deref()))
            .collect();
        let result = upsert(&session, &ours, &body).await;
        let url = match result {
            Ok(url) => url,
            Err(e) => {
                problems.push(format!("{}: {e}", project.name));
                continue;
            }
        };
        if settings.commit_status {
            if let Err(e) = status(&session, project, url.as_deref()).await {
                problems.push(format!("{}: commit status: {e}", project.name));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ForgeError::new(problems.join("; ")))
    }
}

/// A comment is ours when it starts with the marker of this project and, when we know who we
/// are, was written by us: a person quoting or copying our comment is left alone.
fn is_ours(comment: &Value, project: &str, login: Option<&str>) -> bool {
    let body = comment
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(marker) = markdown::parse_marker(body) else {
        return false;
    };
    if marker.project != project {
        return false;
    }
    match login {
        Some(login) => comment.pointer("/user/login").and_then(Value::as_str) == Some(login),
        None => true,
    }
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
