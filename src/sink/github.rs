//! The GitHub pull-request comment, through octocrab: our comment for each project is found
//! by its marker (on every page of comments) and by its author, then updated in place or
//! created; extra copies left by an interrupted run are removed. Optionally a commit status
//! `plangate/<project>` per project. Works against any base URL (GitHub Enterprise, tests).

use octocrab::Octocrab;
use serde_json::{json, Value};

use super::http::{self, all_pages, call, encode_segment, ApiBase, Method, Reply, Transport};
use super::{GitHubTarget, Settings, SinkError};
use crate::render::markdown;
use crate::report::{Report, Verdict};

struct GitHub {
    client: Octocrab,
}

impl Transport for GitHub {
    fn platform(&self) -> &'static str {
        "GitHub"
    }

    fn token_hint(&self) -> &'static str {
        "PLANGATE_GITHUB_TOKEN or GITHUB_TOKEN"
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        // A relative path: octocrab joins it to the base URL and only then adds the token.
        let path = path.to_string();
        let response = match method {
            Method::Get => self.client._get(path).await,
            Method::Post => self.client._post(path, body).await,
            Method::Patch => self.client._patch(path, body).await,
            Method::Put => self.client._put(path, body).await,
            Method::Delete => self.client._delete(path, body).await,
        }
        .map_err(describe_octocrab_error)?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let link = header("link");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(std::time::Duration::from_secs);
        let rate_limit_exhausted = header("x-ratelimit-remaining").as_deref() == Some("0");
        let body = self
            .client
            .body_to_string(response)
            .await
            .map_err(describe_octocrab_error)?;
        Ok(Reply {
            status,
            body,
            link,
            retry_after,
            rate_limit_exhausted,
        })
    }
}

/// octocrab's errors name the failing layer; keep the first line, which carries no header.
fn describe_octocrab_error(e: octocrab::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("request failed").to_string();
    if line.is_empty() {
        "request failed".into()
    } else {
        line
    }
}

struct Session<'a> {
    github: GitHub,
    base: ApiBase,
    target: &'a GitHubTarget,
    settings: &'a Settings,
}

impl<'a> Session<'a> {
    fn open(target: &'a GitHubTarget, settings: &'a Settings) -> Result<Session<'a>, SinkError> {
        let base = ApiBase::parse(&target.api_url)?;
        let client = Octocrab::builder()
            .base_uri(format!("{}{}", base.origin, base.prefix))
            .map_err(|e| SinkError::new(format!("GitHub API URL {}: {e}", target.api_url)))?
            .personal_token(target.token.expose().to_string())
            .set_connect_timeout(Some(settings.timeout))
            .set_read_timeout(Some(settings.timeout))
            .set_write_timeout(Some(settings.timeout))
            .build()
            .map_err(|e| {
                SinkError::new(format!(
                    "cannot set up the GitHub client: {}",
                    describe_octocrab_error(e)
                ))
            })?;
        Ok(Session {
            github: GitHub { client },
            base,
            target,
            settings,
        })
    }

    fn repo_route(&self, rest: &str) -> String {
        self.base.path(&format!(
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
    ) -> Result<http::Answer, SinkError> {
        call(&self.github, &self.settings.retry, method, path, body).await
    }

    async fn pages(&self, path: String) -> Result<Vec<Value>, SinkError> {
        all_pages(&self.github, &self.settings.retry, &self.base, path).await
    }

    /// Who our comments are written by; `None` when the token cannot tell (then the marker
    /// at the start of the body is the only test).
    async fn login(&self) -> Result<Option<String>, SinkError> {
        match self.call(Method::Get, &self.base.path("/user"), None).await {
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
) -> Result<Vec<String>, SinkError> {
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
) -> Result<(), SinkError> {
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
        Err(SinkError::new(problems.join("; ")))
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
) -> Result<Option<String>, SinkError> {
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

fn comment_id(comment: &Value) -> Result<u64, SinkError> {
    comment
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| SinkError::new("GitHub listed a comment without a numeric id"))
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
    project: &crate::report::ProjectReport,
    target_url: Option<&str>,
) -> Result<(), SinkError> {
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
                .ok_or_else(|| SinkError::new("GitHub's pull request has no head commit"))?
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
pub(crate) fn status_description(project: &crate::report::ProjectReport) -> String {
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
