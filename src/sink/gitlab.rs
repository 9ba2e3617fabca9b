//! The GitLab merge-request note, through reqwest: our note for each project is found by its
//! marker and author and updated in place, or created. The project path is URL-encoded
//! (`group%2Fsubgroup%2Fproject`). Optionally a commit status `plangate/<project>`.

use serde_json::{json, Value};

use super::http::{self, all_pages, call, encode_segment, ApiBase, Method, Reply, Transport};
use super::{GitLabTarget, Settings, SinkError};
use crate::render::markdown;
use crate::report::{ProjectReport, Report, Verdict};

struct GitLab {
    client: reqwest::Client,
    origin: String,
    token: reqwest::header::HeaderValue,
}

impl Transport for GitLab {
    fn platform(&self) -> &'static str {
        "GitLab"
    }

    fn token_hint(&self) -> &'static str {
        "PLANGATE_GITLAB_TOKEN or GITLAB_TOKEN (a token with the api scope)"
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let url = format!("{}{path}", self.origin);
        let method = match method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut request = self
            .client
            .request(method, url)
            .header("PRIVATE-TOKEN", self.token.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        // reqwest's errors may carry the URL, never the headers.
        let response = request.send().await.map_err(|e| describe(&e))?;
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
        let rate_limit_exhausted = header("ratelimit-remaining").as_deref() == Some("0");
        let body = response.text().await.map_err(|e| describe(&e))?;
        Ok(Reply {
            status,
            body,
            link,
            retry_after,
            rate_limit_exhausted,
        })
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    format!("{kind}: {}", e.without_url_ref())
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        use std::error::Error as _;
        let mut text = String::new();
        let mut source = self.source();
        while let Some(s) = source {
            text = s.to_string();
            source = s.source();
        }
        if text.is_empty() {
            "no detail".into()
        } else {
            text
        }
    }
}

struct Session<'a> {
    gitlab: GitLab,
    base: ApiBase,
    target: &'a GitLabTarget,
    settings: &'a Settings,
}

impl<'a> Session<'a> {
    fn open(target: &'a GitLabTarget, settings: &'a Settings) -> Result<Session<'a>, SinkError> {
        let base = ApiBase::parse(&target.api_url)?;
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("plangate/", env!("CARGO_PKG_VERSION")))
            // A redirect could carry the token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                SinkError::new(format!("cannot set up the GitLab client: {}", describe(&e)))
            })?;
        let mut token =
            reqwest::header::HeaderValue::from_str(target.token.expose()).map_err(|_| {
                SinkError::new("the GitLab token holds characters a header cannot carry")
            })?;
        token.set_sensitive(true);
        Ok(Session {
            gitlab: GitLab {
                client,
                origin: base.origin.clone(),
                token,
            },
            base,
            target,
            settings,
        })
    }

    fn project_route(&self, rest: &str) -> String {
        self.base.path(&format!(
            "/projects/{}{rest}",
            encode_segment(&self.target.project)
        ))
    }

    fn mr_route(&self, rest: &str) -> String {
        self.project_route(&format!("/merge_requests/{}{rest}", self.target.mr))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<http::Answer, SinkError> {
        call(&self.gitlab, &self.settings.retry, method, path, body).await
    }

    async fn user_id(&self) -> Result<Option<u64>, SinkError> {
        match self.call(Method::Get, &self.base.path("/user"), None).await {
            Ok(answer) => Ok(answer.json.get("id").and_then(Value::as_u64)),
            // Some tokens (a CI job token) cannot read /user: fall back to the marker alone.
            Err(e) if e.to_string().contains("403") => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The merge request's labels.
pub(crate) async fn labels(
    target: &GitLabTarget,
    settings: &Settings,
) -> Result<Vec<String>, SinkError> {
    let session = Session::open(target, settings)?;
    let mr = session
        .call(Method::Get, &session.mr_route(""), None)
        .await?;
    Ok(mr
        .json
        .get("labels")
        .and_then(Value::as_array)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|l| l.as_str().or_else(|| l.get("name").and_then(Value::as_str)))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

/// One note per project: updated when ours exists, else created.
pub(crate) async fn publish(
    report: &Report,
    target: &GitLabTarget,
    settings: &Settings,
) -> Result<(), SinkError> {
    let session = Session::open(target, settings)?;
    let me = session.user_id().await?;
    let notes = all_pages(
        &session.gitlab,
        &settings.retry,
        &session.base,
        session.mr_route("/notes?per_page=100&sort=asc&order_by=created_at"),
    )
    .await?;
    let mut problems = Vec::new();
    for project in &report.projects {
        let Some(body) = markdown::render_project(report, &project.name, settings.budget) else {
            continue;
        };
        let ours: Vec<&Value> = notes
            .iter()
            .filter(|n| is_ours(n, &project.name, me))
            .collect();
        if let Err(e) = upsert(&session, &ours, &body).await {
            problems.push(format!("{}: {e}", project.name));
            continue;
        }
        if settings.commit_status {
            if let Err(e) = status(&session, project).await {
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

fn is_ours(note: &Value, project: &str, me: Option<u64>) -> bool {
    if note.get("system").and_then(Value::as_bool) == Some(true) {
        return false;
    }
    let body = note.get("body").and_then(Value::as_str).unwrap_or_default();
    match markdown::parse_marker(body) {
        Some(marker) if marker.project == project => match me {
            Some(id) => note.pointer("/author/id").and_then(Value::as_u64) == Some(id),
            None => true,
        },
        _ => false,
    }
}

async fn upsert(session: &Session<'_>, ours: &[&Value], body: &str) -> Result<(), SinkError> {
    let payload = json!({ "body": body });
    let Some((keep, extra)) = ours.split_first() else {
        session
            .call(Method::Post, &session.mr_route("/notes"), Some(&payload))
            .await?;
        return Ok(());
    };
    if keep.get("body").and_then(Value::as_str) != Some(body) {
        let id = note_id(keep)?;
        session
            .call(
                Method::Put,
                &session.mr_route(&format!("/notes/{id}")),
                Some(&payload),
            )
            .await?;
    }
    for copy in extra {
        let id = note_id(copy)?;
        session
            .call(
                Method::Delete,
                &session.mr_route(&format!("/notes/{id}")),
                None,
            )
            .await?;
    }
    Ok(())
}

fn note_id(note: &Value) -> Result<u64, SinkError> {
    note.get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| SinkError::new("GitLab listed a note without a numeric id"))
}

async fn status(session: &Session<'_>, project: &ProjectReport) -> Result<(), SinkError> {
    let sha = match &session.target.head_sha {
        Some(sha) => sha.clone(),
        None => {
            let mr = session
                .call(Method::Get, &session.mr_route(""), None)
                .await?;
            mr.json
                .get("sha")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| SinkError::new("GitLab's merge request has no head commit"))?
        }
    };
    let state = match project.verdict {
        Verdict::Block => "failed",
        Verdict::Pass | Verdict::Warn => "success",
    };
    let payload = json!({
        "state": state,
        "name": format!("plangate/{}", project.name),
        "description": super::github::status_description(project),
    });
    session
        .call(
            Method::Post,
            &session.project_route(&format!("/statuses/{}", encode_segment(&sha))),
            Some(&payload),
        )
        .await
        .map(|_| ())
}
