//! The GitLab merge-request note, through the REST API: our note for each project is found by its
//! marker and author and updated in place, or created. The project path is URL-encoded
//! (`group%2Fsubgroup%2Fproject`). Optionally a commit status `plangate/<project>`.
//!
//! A note is ours when its author's id is the token's own user's (`GET /user`). A token that
//! cannot read `/user` (a CI job token) cannot recognise its notes: then nothing is edited or
//! deleted, a new note is created, and a warning says why.

use serde_json::{json, Value};

use super::budget::Clock;
use super::http::{encode_segment, Answer, Api, ApiSpec, Method};
use super::pr_comment::{self, Store, Written};
use super::{CommentScope, ForgeError, GitLabTarget, Settings};
use crate::render::markdown;
use crate::report::{ProjectReport, Report, Verdict};

pub(super) struct Session<'a> {
    pub(super) api: Api,
    target: &'a GitLabTarget,
}

impl<'a> Session<'a> {
    pub(super) fn open(
        target: &'a GitLabTarget,
        settings: &'a Settings,
        clock: Clock,
    ) -> Result<Session<'a>, ForgeError> {
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
            clock,
        })?;
        Ok(Session { api, target })
    }

    pub(super) fn project_route(&self, rest: &str) -> String {
        self.api.path(&format!(
            "/projects/{}{rest}",
            encode_segment(&self.target.project)
        ))
    }

    pub(super) fn mr_route(&self, rest: &str) -> String {
        self.project_route(&format!("/merge_requests/{}{rest}", self.target.mr))
    }

    pub(super) async fn call(
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
            // Some tokens (a CI job token) cannot read /user: then no note is ours.
            Err(e) if matches!(e.status(), Some(403 | 404)) && !e.is_out_of_time() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The merge request's labels.
pub(crate) async fn labels(
    target: &GitLabTarget,
    settings: &Settings,
    clock: Clock,
) -> Result<Vec<String>, ForgeError> {
    let session = Session::open(target, settings, clock)?;
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

/// Our notes, for the one note per merge request.
struct Notes<'s, 'a> {
    session: &'s Session<'a>,
    me: Option<u64>,
}

impl Store for Notes<'_, '_> {
    async fn ours(&self) -> Result<Vec<Written>, ForgeError> {
        let Some(me) = self.me else {
            return Ok(Vec::new());
        };
        let notes = self
            .session
            .api
            .all_pages(
                self.session
                    .mr_route("/notes?per_page=100&sort=asc&order_by=created_at"),
            )
            .await?;
        let mut ours = Vec::new();
        for n in notes.iter().filter(|n| {
            n.get("system").and_then(Value::as_bool) != Some(true)
                && n.pointer("/author/id").and_then(Value::as_u64) == Some(me)
        }) {
            ours.push(written(n)?);
        }
        Ok(ours)
    }

    async fn create(&self, body: &str) -> Result<Written, ForgeError> {
        let created = self
            .session
            .call(
                Method::Post,
                &self.session.mr_route("/notes"),
                Some(&json!({ "body": body })),
            )
            .await?;
        written(&created.json)
    }

    async fn update(&self, id: u64, body: &str) -> Result<Option<String>, ForgeError> {
        self.session
            .call(
                Method::Put,
                &self.session.mr_route(&format!("/notes/{id}")),
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(None)
    }

    async fn delete(&self, id: u64) -> Result<(), ForgeError> {
        let path = self.session.mr_route(&format!("/notes/{id}"));
        match self.session.call(Method::Delete, &path, None).await {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

fn written(note: &Value) -> Result<Written, ForgeError> {
    Ok(Written {
        id: note_id(note)?,
        body: note
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        url: None,
    })
}

/// Post the report: one note for the merge request (`--comment-scope pr`, the default) or one
/// per project. Returns what the run should be warned of although it was posted.
pub(crate) async fn publish(
    report: &Report,
    target: &GitLabTarget,
    settings: &Settings,
    clock: Clock,
) -> Result<Vec<String>, ForgeError> {
    let session = Session::open(target, settings, clock.clone())?;
    let me = session.user_id().await?;
    if settings.scope == CommentScope::Project {
        return per_project(report, &session, me, settings).await;
    }
    let store = Notes {
        session: &session,
        me,
    };
    match me {
        Some(_) => pr_comment::publish(&store, report, target.mr, settings, &clock).await?,
        None => pr_comment::create_only(&store, report, target.mr, settings).await?,
    };
    if settings.commit_status {
        let mut problems = Vec::new();
        for project in &report.projects {
            match status(&session, project).await {
                Err(e) if e.is_out_of_time() => return Err(e),
                Err(e) => problems.push(format!("{}: commit status: {e}", project.name)),
                Ok(()) => {}
            }
        }
        if !problems.is_empty() {
            return Err(ForgeError::new(problems.join("; ")));
        }
    }
    Ok(match me {
        Some(_) => Vec::new(),
        None => vec![UNKNOWN_AUTHOR.to_string()],
    })
}

/// One note per project (`--comment-scope project`): updated when ours exists, else created.
async fn per_project(
    report: &Report,
    session: &Session<'_>,
    me: Option<u64>,
    settings: &Settings,
) -> Result<Vec<String>, ForgeError> {
    let notes = match me {
        Some(_) => {
            session
                .api
                .all_pages(session.mr_route("/notes?per_page=100&sort=asc&order_by=created_at"))
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
        let ours: Vec<&Value> = match me {
            Some(me) => notes
                .iter()
                .filter(|n| is_ours(n, &project.name, me))
                .collect(),
            None => Vec::new(),
        };
        match upsert(session, &ours, &body).await {
            Err(e) if e.is_out_of_time() => return Err(e),
            Err(e) => {
                problems.push(format!("{}: {e}", project.name));
                continue;
            }
            Ok(()) => {}
        }
        if settings.commit_status {
            match status(session, project).await {
                Err(e) if e.is_out_of_time() => return Err(e),
                Err(e) => problems.push(format!("{}: commit status: {e}", project.name)),
                Ok(()) => {}
            }
        }
    }
    if !problems.is_empty() {
        return Err(ForgeError::new(problems.join("; ")));
    }
    Ok(match me {
        Some(_) => Vec::new(),
        None => vec![UNKNOWN_AUTHOR.to_string()],
    })
}

/// The warning when the token cannot say who it is.
const UNKNOWN_AUTHOR: &str = "merge-request note: this GitLab token may not read GET /user (a CI job token?), so plangate cannot recognise its own notes: it created a new one and edited or deleted none; a project, group or personal access token lets it update the note in place";

/// Ours: the marker of this project at the start, written by the token's own user.
fn is_ours(note: &Value, project: &str, me: u64) -> bool {
    if note.get("system").and_then(Value::as_bool) == Some(true) {
        return false;
    }
    let body = note.get("body").and_then(Value::as_str).unwrap_or_default();
    match markdown::parse_marker(body) {
        Some(marker) if marker.project == project => {
            note.pointer("/author/id").and_then(Value::as_u64) == Some(me)
        }
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
