//! Approvals read from the pull request (DESIGN section 14): every comment (every page), the
//! pull request's author and base branch, then for each approval still standing whether its
//! author is an approver, asked of the forge: a listed user, a member of a listed team
//! (GitHub `GET /orgs/{org}/teams/{team}/memberships/{user}`, state `active`; GitLab
//! `GET /groups/{group}/members/all/{user_id}`), or a CODEOWNERS owner of the project's dir in
//! the base branch (GitHub's contents API, GitLab's files API, `ref` the base branch). A
//! lookup that fails (403, 5xx after its retries, the forge time running out) shows nothing:
//! the approval does not count, and the audit list says why. What the answers mean is decided
//! in `model::approval`; here is only the asking.

use base64::Engine as _;
use serde_json::Value;

use super::budget::Clock;
use super::http::{encode_segment, Method};
use super::{github, gitlab, ForgeError, GitHubTarget, GitLabTarget, Settings, Target};
use crate::input::codeowners;
use crate::model::approval::{
    self, ApprovalNote, ApprovalReview, ApprovalSubject, Approvers, Candidate, PrComment, Standing,
};

/// The approvals of the pull request for these projects. `Err` when the comments or the pull
/// request itself could not be read: then nothing is approved.
pub fn read(
    settings: &Settings,
    approvers: &Approvers,
    subjects: &[ApprovalSubject],
) -> Result<ApprovalReview, ForgeError> {
    let Some(target) = &settings.pull_request else {
        return Ok(ApprovalReview {
            approvals: Vec::new(),
            notes: vec![ApprovalNote::ignored(
                "approvals are not read: no pull request and token are known (--repo, --pr and a token)",
            )],
        });
    };
    super::block_on(settings, "the approvals", |clock| async move {
        match target {
            Target::GitHub(t) => {
                let forge = GitHubDirectory::open(t, settings, clock).await?;
                review(&forge, approvers, subjects).await
            }
            Target::GitLab(t) => {
                let forge = GitLabDirectory::open(t, settings, clock).await?;
                review(&forge, approvers, subjects).await
            }
        }
    })
    .map_err(|e| ForgeError::new(settings.scrub(&format!("approvals not read: {e}"))))
}

/// What one forge answers about a pull request and its people.
trait Directory {
    fn pr_author(&self) -> Option<&str>;
    fn comments(&self) -> &[PrComment];
    /// Whether the user is an active member of the team; `Err` when that cannot be told.
    async fn member(
        &self,
        team: &str,
        user: &str,
        user_id: Option<u64>,
    ) -> Result<bool, ForgeError>;
    /// The CODEOWNERS file of the base branch, if it has one.
    async fn codeowners(&self) -> Result<Option<String>, ForgeError>;
}

async fn review(
    forge: &impl Directory,
    approvers: &Approvers,
    subjects: &[ApprovalSubject],
) -> Result<ApprovalReview, ForgeError> {
    let (candidates, notes) = approval::screen(forge.comments(), forge.pr_author(), subjects);
    let mut codeowners: Option<Result<Option<String>, String>> = None;
    let mut judged = Vec::new();
    for c in candidates {
        let standing = standing(forge, approvers, &c, &mut codeowners).await;
        judged.push((c, standing));
    }
    Ok(approval::tally(judged, approvers, notes))
}

/// Whether the candidate's author is an approver, and how that was shown or why it could not be.
async fn standing(
    forge: &impl Directory,
    approvers: &Approvers,
    c: &Candidate,
    codeowners: &mut Option<Result<Option<String>, String>>,
) -> Standing {
    if approvers.lists_user(&c.by) {
        return Standing::Approver("listed under approvers.users".into());
    }
    let mut failures = Vec::new();
    let mut checked = vec!["not listed under approvers.users".to_string()];
    for team in &approvers.teams {
        match forge.member(team, &c.by, c.by_id).await {
            Ok(true) => return Standing::Approver(format!("member of {team}")),
            Ok(false) => checked.push(format!("not a member of {team}")),
            Err(e) => failures.push(format!("team {team}: {e}")),
        }
    }
    if approvers.codeowners {
        if codeowners.is_none() {
            *codeowners = Some(forge.codeowners().await.map_err(|e| e.to_string()));
        }
        match codeowners.as_ref() {
            Some(Ok(Some(text))) => {
                let owners = codeowners::owners_of(text, &c.subject.dir);
                for owner in owners.iter().filter(|o| !o.contains('@')) {
                    if !owner.contains('/') && owner.eq_ignore_ascii_case(&c.by) {
                        return Standing::Approver(format!(
                            "CODEOWNERS owner of {}",
                            c.subject.dir
                        ));
                    }
                    if owner.contains('/') {
                        match forge.member(owner, &c.by, c.by_id).await {
                            Ok(true) => {
                                return Standing::Approver(format!(
                                    "member of {owner}, CODEOWNERS owner of {}",
                                    c.subject.dir
                                ))
                            }
                            Ok(false) => {}
                            Err(e) => failures.push(format!("CODEOWNERS team {owner}: {e}")),
                        }
                    }
                }
                checked.push(format!("not a CODEOWNERS owner of {}", c.subject.dir));
            }
            Some(Ok(None)) => checked.push("the base branch has no CODEOWNERS file".into()),
            Some(Err(e)) => failures.push(format!("CODEOWNERS: {e}")),
            None => {}
        }
    }
    match failures.is_empty() {
        true => Standing::NotApprover(checked.join(", ")),
        false => Standing::Unknown(failures.join("; ")),
    }
}

/// A forge answer that says "no such thing" rather than "cannot tell".
fn not_found(e: &ForgeError) -> bool {
    e.status() == Some(404) && !e.is_out_of_time()
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A file's content as the contents and files APIs give it (base64, with line breaks).
fn decode_content(file: &Value) -> Result<String, ForgeError> {
    let encoded: String = text(file, "/content")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| ForgeError::new("the CODEOWNERS file did not come as base64"))?;
    String::from_utf8(bytes).map_err(|_| ForgeError::new("the CODEOWNERS file is not UTF-8"))
}

/// Comments plangate wrote carry its marker: they are never read as commands.
fn ours(body: &str) -> bool {
    body.trim_start().starts_with("<!-- plangate:")
}

struct GitHubDirectory<'a> {
    session: github::Session<'a>,
    author: Option<String>,
    base: Option<String>,
    comments: Vec<PrComment>,
}

impl<'a> GitHubDirectory<'a> {
    async fn open(
        target: &'a GitHubTarget,
        settings: &'a Settings,
        clock: Clock,
    ) -> Result<GitHubDirectory<'a>, ForgeError> {
        let session = github::Session::open(target, settings, clock)?;
        let pr = session
            .call(
                Method::Get,
                &session.repo_route(&format!("/pulls/{}", target.pr)),
                None,
            )
            .await?;
        let path = session.repo_route(&format!("/issues/{}/comments?per_page=100", target.pr));
        let comments = session
            .pages(path)
            .await?
            .iter()
            .filter_map(|c| {
                let body = text(c, "/body").unwrap_or_default();
                let created_at = text(c, "/created_at")?;
                Some(PrComment {
                    id: c.get("id").and_then(Value::as_u64)?,
                    author: text(c, "/user/login")?,
                    author_id: None,
                    edited: text(c, "/updated_at").as_deref() != Some(created_at.as_str()),
                    created_at,
                    body,
                })
            })
            .filter(|c| !ours(&c.body))
            .collect();
        Ok(GitHubDirectory {
            author: text(&pr.json, "/user/login"),
            base: text(&pr.json, "/base/ref"),
            session,
            comments,
        })
    }
}

impl Directory for GitHubDirectory<'_> {
    fn pr_author(&self) -> Option<&str> {
        self.author.as_deref()
    }

    fn comments(&self) -> &[PrComment] {
        &self.comments
    }

    async fn member(&self, team: &str, user: &str, _: Option<u64>) -> Result<bool, ForgeError> {
        let (org, slug) = team.split_once('/').unwrap_or((team, ""));
        let path = self.session.api.path(&format!(
            "/orgs/{}/teams/{}/memberships/{}",
            encode_segment(org),
            encode_segment(slug),
            encode_segment(user)
        ));
        match self.session.call(Method::Get, &path, None).await {
            Ok(answer) => Ok(text(&answer.json, "/state").as_deref() == Some("active")),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn codeowners(&self) -> Result<Option<String>, ForgeError> {
        let base = self
            .base
            .as_deref()
            .ok_or_else(|| ForgeError::new("the pull request names no base branch"))?;
        for file in [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] {
            let path = self
                .session
                .repo_route(&format!("/contents/{file}?ref={}", encode_segment(base)));
            match self.session.call(Method::Get, &path, None).await {
                Ok(answer) => return decode_content(&answer.json).map(Some),
                Err(e) if not_found(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}

struct GitLabDirectory<'a> {
    session: gitlab::Session<'a>,
    author: Option<String>,
    base: Option<String>,
    comments: Vec<PrComment>,
}

impl<'a> GitLabDirectory<'a> {
    async fn open(
        target: &'a GitLabTarget,
        settings: &'a Settings,
        clock: Clock,
    ) -> Result<GitLabDirectory<'a>, ForgeError> {
        let session = gitlab::Session::open(target, settings, clock)?;
        let mr = session
            .call(Method::Get, &session.mr_route(""), None)
            .await?;
        let notes = session
            .api
            .all_pages(session.mr_route("/notes?per_page=100&sort=asc&order_by=created_at"))
            .await?;
        let comments = notes
            .iter()
            .filter(|n| n.get("system").and_then(Value::as_bool) != Some(true))
            .filter_map(|n| {
                let created_at = text(n, "/created_at")?;
                let edited = n.get("last_edited_at").is_some_and(|v| !v.is_null())
                    || text(n, "/updated_at").as_deref() != Some(created_at.as_str());
                Some(PrComment {
                    id: n.get("id").and_then(Value::as_u64)?,
                    author: text(n, "/author/username")?,
                    author_id: n.pointer("/author/id").and_then(Value::as_u64),
                    edited,
                    created_at,
                    body: text(n, "/body").unwrap_or_default(),
                })
            })
            .filter(|c| !ours(&c.body))
            .collect();
        Ok(GitLabDirectory {
            author: text(&mr.json, "/author/username"),
            base: text(&mr.json, "/target_branch"),
            session,
            comments,
        })
    }
}

impl Directory for GitLabDirectory<'_> {
    fn pr_author(&self) -> Option<&str> {
        self.author.as_deref()
    }

    fn comments(&self) -> &[PrComment] {
        &self.comments
    }

    async fn member(&self, group: &str, _: &str, id: Option<u64>) -> Result<bool, ForgeError> {
        let id = id.ok_or_else(|| ForgeError::new("GitLab gave the note's author no user id"))?;
        let path = self.session.api.path(&format!(
            "/groups/{}/members/all/{id}",
            encode_segment(group)
        ));
        match self.session.call(Method::Get, &path, None).await {
            Ok(answer) => Ok(text(&answer.json, "/state").as_deref() == Some("active")),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn codeowners(&self) -> Result<Option<String>, ForgeError> {
        let base = self
            .base
            .as_deref()
            .ok_or_else(|| ForgeError::new("the merge request names no target branch"))?;
        for file in ["CODEOWNERS", ".gitlab/CODEOWNERS", "docs/CODEOWNERS"] {
            let path = self.session.project_route(&format!(
                "/repository/files/{}?ref={}",
                encode_segment(file),
                encode_segment(base)
            ));
            match self.session.call(Method::Get, &path, None).await {
                Ok(answer) => return decode_content(&answer.json).map(Some),
                Err(e) if not_found(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}
