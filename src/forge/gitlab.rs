//! The GitLab merge-request note, through the REST API: our note for each project is found by its
//! marker and author and updated in place, or created. The project path is URL-encoded
//! (`group%2Fsubgroup%2Fproject`). Optionally a commit status `plangate/<project>`.

use serde_json::{json, Value};

use super::http::{encode_segment, Answer, Api, ApiSpec, Method};
use super::{ForgeError, GitLabTarget, Settings};
use crate::render::markdown;
use crate::report::{ProjectReport, Report, Verdict};

struct Session<'a> {
    api: Api,
    target: &'a GitLabTarget,
}

impl<'a> Session<'a> {
    fn open(target: &'a GitLabTarget, settings: &'a Settings) -> Result<Session<'a>, ForgeError> {
        let api = Api::new(ApiSpec {
            platform: "GitLab",
            token_hint: "PLANGATE_GITLAB_TOKEN or GITLAB_TOKEN (a token with the api scope)",
            api_url: &target.api_url,
            auth_header: "private-token",
            auth_value: target.token.expose().to_string(),
            extra_headers: &[],
            rate_limit_header: "ratelimit-remaining",
            timeout: settings.timeout,
            retry: settings.retry,
        })?;
        Ok(Session { api, target })
    }

    fn project_route(&self, rest: &str) -> String {
        self.api.path(&format!(
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
    ) -> Result<Answer, ForgeError> {
        self.api.call(method, path, body).await
    }

    async fn user_id(&self) -> Result<Option<u64>, ForgeError> {
        match self.call(Method::Get, &self.api.path("/user"), None).await {
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
) -> Result<Vec<String>, ForgeError> {
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
) -> Result<(), ForgeError> {
    let session = Session::open(target, settings)?;
    let me = session.user_id().await?;
    let notes = session
        .api
        .all_pages(session.mr_route("/notes?per_page=100&sort=asc&order_by=created_at"))
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
        Err(ForgeError::new(problems.join("; ")))
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

async fn upsert(session: &Session<'_>, ours: &[&Value], body: &str) -> Result<(), ForgeError> {
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

fn note_id(note: &Value) -> Result<u64, ForgeError> {
    note.get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ForgeError::new("GitLab listed a note without a numeric id"))
}

async fn status(session: &Session<'_>, project: &ProjectReport) -> Result<(), ForgeError> {
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
                .ok_or_else(|| ForgeError::new("GitLab's merge request has no head commit"))?
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
