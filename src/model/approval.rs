//! Approvals (DESIGN section 14): who the trusted policy names as approvers, the
//! `/plangate approve PROJECT SHA8 [reason]` and `/plangate revoke PROJECT` commands of
//! pull-request comments, and how the comments of one pull request become the approvals
//! that count. Pure: the forge reads the comments and asks who belongs to which team; this
//! decides what that means.

use std::collections::BTreeMap;

use serde::Serialize;

/// `approvers:` of the trusted policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approvers {
    /// Logins (GitHub) or usernames (GitLab), compared without regard to case.
    pub users: Vec<String>,
    /// `org/team` (GitHub team slug) or a GitLab group path.
    pub teams: Vec<String>,
    /// The CODEOWNERS owners of the project's dir, read from the base branch.
    pub codeowners: bool,
    /// Distinct approvals needed per environment (by its name); 1 elsewhere.
    pub required: BTreeMap<String, usize>,
}

impl Approvers {
    /// Whether anyone at all can approve.
    pub fn any(&self) -> bool {
        !self.users.is_empty() || !self.teams.is_empty() || self.codeowners
    }

    /// How many distinct approvals a project of `environment` needs.
    pub fn required_for(&self, environment: Option<&str>) -> usize {
        environment
            .and_then(|e| self.required.get(e))
            .copied()
            .unwrap_or(1)
            .max(1)
    }

    pub fn lists_user(&self, login: &str) -> bool {
        self.users.iter().any(|u| u.eq_ignore_ascii_case(login))
    }

    /// Every way `self` lets more people approve, or with fewer approvals, than `base`
    /// (`approvers.users: bob added`). Anything else is a tightening.
    pub fn relaxations_against(&self, base: &Approvers) -> Vec<String> {
        let mut out = Vec::new();
        for user in self.users.iter().filter(|u| !base.lists_user(u)) {
            out.push(format!("approvers.users: {user} added"));
        }
        for team in &self.teams {
            if !base.teams.iter().any(|t| t.eq_ignore_ascii_case(team)) {
                out.push(format!("approvers.teams: {team} added"));
            }
        }
        if self.codeowners && !base.codeowners {
            out.push("approvers.codeowners: true added".into());
        }
        let envs = base.required.keys().chain(self.required.keys());
        let mut seen = Vec::new();
        for env in envs {
            if seen.contains(&env) {
                continue;
            }
            seen.push(env);
            let (was, now) = (base.required_for(Some(env)), self.required_for(Some(env)));
            if now < was {
                out.push(format!("approvers.required.{env}: {was} -> {now}"));
            }
        }
        out
    }
}

/// A command found in a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Approve {
        project: String,
        sha: String,
        reason: Option<String>,
    },
    Revoke {
        project: String,
    },
    /// `/plangate approve` without a project and a hash.
    Malformed(String),
}

/// The commands of a comment: lines that start with `/plangate approve` or `/plangate revoke`
/// (up to three spaces before it), outside fenced code blocks. A quoted line (`> /plangate
/// ...`) or one indented as code is not a command.
pub fn commands(body: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let mut fence: Option<&str> = None;
    for line in body.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let text = line.trim();
        if indent < 4 {
            for mark in ["```", "~~~"] {
                if text.starts_with(mark) {
                    fence = match fence {
                        Some(open) if open == mark => None,
                        None => Some(mark),
                        other => other,
                    };
                }
            }
        }
        if fence.is_some() || indent >= 4 || line.starts_with('\t') {
            continue;
        }
        if let Some(command) = command(text) {
            out.push(command);
        }
    }
    out
}

fn command(line: &str) -> Option<Command> {
    let mut words = line.split_whitespace();
    if words.next() != Some("/plangate") {
        return None;
    }
    let verb = words.next()?;
    let rest: Vec<&str> = words.collect();
    match verb {
        "approve" => match rest.as_slice() {
            [project, sha, reason @ ..] => Some(Command::Approve {
                project: project.to_string(),
                sha: sha.to_ascii_lowercase(),
                reason: (!reason.is_empty()).then(|| reason.join(" ")),
            }),
            _ => Some(Command::Malformed(line.to_string())),
        },
        "revoke" => match rest.as_slice() {
            [project, ..] => Some(Command::Revoke {
                project: project.to_string(),
            }),
            _ => Some(Command::Malformed(line.to_string())),
        },
        _ => None,
    }
}

/// One pull-request comment as the forge gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrComment {
    pub id: u64,
    /// The author's login (GitHub) or username (GitLab).
    pub author: String,
    /// GitLab's numeric user id (group membership is asked by it).
    pub author_id: Option<u64>,
    /// ISO 8601, as the forge wrote it.
    pub created_at: String,
    /// The forge says the comment was changed after it was written.
    pub edited: bool,
    pub body: String,
}

/// A project whose plan can be approved: its name, plan hash, environment and dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSubject {
    pub project: String,
    pub plan_sha256: String,
    pub environment: Option<String>,
    pub dir: String,
}

/// An approval that counts: it is in the JSON report's `approvals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub project: String,
    pub plan_sha256: String,
    pub by: String,
    pub at: String,
    pub reason: Option<String>,
    /// The rules of the deny findings it approves (filled in by the report).
    pub rules: Vec<String>,
}

/// What became of one command, for the audit list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteStatus {
    /// A valid approval by an approver.
    Accepted,
    /// A valid approval by an approver, but fewer than the environment needs.
    Pending,
    /// It names another plan than the current one.
    Stale,
    /// It does not count: the reason says why.
    Rejected,
    /// Its author could not be checked (a lookup failed): it does not count.
    Unchecked,
    /// Withdrawn by its author.
    Revoked,
    /// Approvals are not read (no trusted policy, policy-check mode).
    Ignored,
}

impl NoteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteStatus::Accepted => "approved",
            NoteStatus::Pending => "pending",
            NoteStatus::Stale => "stale",
            NoteStatus::Rejected => "rejected",
            NoteStatus::Unchecked => "not checked",
            NoteStatus::Revoked => "revoked",
            NoteStatus::Ignored => "ignored",
        }
    }
}

/// One line of the audit list: a command and what became of it, or a note about approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalNote {
    pub project: Option<String>,
    pub by: Option<String>,
    pub at: Option<String>,
    pub status: NoteStatus,
    pub detail: String,
}

impl ApprovalNote {
    pub fn ignored(detail: impl Into<String>) -> ApprovalNote {
        ApprovalNote {
            project: None,
            by: None,
            at: None,
            status: NoteStatus::Ignored,
            detail: detail.into(),
        }
    }
}

/// What the comments of a pull request come to: the approvals that count, per project
/// (only for projects with as many distinct approvers as they need), and the audit list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalReview {
    pub approvals: Vec<Approval>,
    pub notes: Vec<ApprovalNote>,
}

/// An approval that passed every check that needs no forge: its author must still be shown
/// to be an approver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub subject: ApprovalSubject,
    pub by: String,
    pub by_id: Option<u64>,
    pub at: String,
    pub reason: Option<String>,
}

/// Whether a candidate's author is an approver, as the forge found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// An approver, and how that was shown (`listed`, `member of acme/sre`).
    Approver(String),
    /// Not an approver: what was checked.
    NotApprover(String),
    /// A lookup failed, so it could not be shown: why.
    Unknown(String),
}

/// The commands of the comments, in the order written, checked against the pull request's
/// author and the current plans. Returns the approvals still standing (not revoked by their
/// author later) and the notes about the others.
pub fn screen(
    comments: &[PrComment],
    pr_author: Option<&str>,
    subjects: &[ApprovalSubject],
) -> (Vec<Candidate>, Vec<ApprovalNote>) {
    let mut ordered: Vec<&PrComment> = comments.iter().collect();
    ordered.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let mut live: Vec<Candidate> = Vec::new();
    let mut notes = Vec::new();
    for c in ordered {
        for cmd in commands(&c.body) {
            let note = |project: &str, status, detail: String| ApprovalNote {
                project: Some(project.to_string()),
                by: Some(c.author.clone()),
                at: Some(c.created_at.clone()),
                status,
                detail,
            };
            match cmd {
                Command::Revoke { project } if !subjects.iter().any(|s| s.project == project) => {}
                Command::Revoke { project } => {
                    let before = live.len();
                    live.retain(|k| {
                        !(k.subject.project == project && k.by.eq_ignore_ascii_case(&c.author))
                    });
                    let detail = match before - live.len() {
                        0 => format!("{} revoked (no approval of theirs was standing)", c.author),
                        _ => format!("{} revoked their approval", c.author),
                    };
                    notes.push(note(&project, NoteStatus::Revoked, detail));
                }
                Command::Malformed(line) => notes.push(ApprovalNote {
                    project: None,
                    ..note(
                        "",
                        NoteStatus::Rejected,
                        format!(
                            "`{}`: write `/plangate approve PROJECT SHA8 reason`",
                            crate::text::one_line(&line)
                        ),
                    )
                }),
                // Another project's approval is that project's run to judge (in Atlantis each
                // project's step runs on its own).
                Command::Approve { project, .. }
                    if !subjects.iter().any(|s| s.project == project) => {}
                Command::Approve {
                    project,
                    sha,
                    reason,
                } => match judge(c, pr_author, subjects, &project, &sha) {
                    Ok(subject) => {
                        live.retain(|k| {
                            !(k.subject.project == project && k.by.eq_ignore_ascii_case(&c.author))
                        });
                        live.push(Candidate {
                            subject: subject.clone(),
                            by: c.author.clone(),
                            by_id: c.author_id,
                            at: c.created_at.clone(),
                            reason,
                        });
                    }
                    Err((status, detail)) => notes.push(note(&project, status, detail)),
                },
            }
        }
    }
    (live, notes)
}

/// The checks of one approval that need no forge.
fn judge<'s>(
    c: &PrComment,
    pr_author: Option<&str>,
    subjects: &'s [ApprovalSubject],
    project: &str,
    sha: &str,
) -> Result<&'s ApprovalSubject, (NoteStatus, String)> {
    let rejected = |why: String| Err((NoteStatus::Rejected, why));
    let Some(subject) = subjects.iter().find(|s| s.project == project) else {
        return rejected(format!(
            "names project {project}, which is not checked here"
        ));
    };
    if c.edited {
        return rejected(format!(
            "the comment by {} was edited after it was written; an edited approval does not count, write a new one",
            c.author
        ));
    }
    match pr_author {
        Some(author) if author.eq_ignore_ascii_case(&c.author) => {
            return rejected(format!(
                "{} wrote the pull request and cannot approve it",
                c.author
            ));
        }
        None => {
            return rejected(
                "the pull request's author could not be read, so no approval can be checked".into(),
            );
        }
        Some(_) => {}
    }
    let valid_hex = sha.len() >= 8 && sha.chars().all(|ch| ch.is_ascii_hexdigit());
    if !valid_hex {
        return rejected(format!(
            "`{}` is not a plan hash: write its first 8 hex digits ({})",
            crate::text::printable(sha),
            sha8(&subject.plan_sha256)
        ));
    }
    if !subject.plan_sha256.starts_with(sha) {
        return Err((
            NoteStatus::Stale,
            format!(
                "approves plan {}, not the current plan {}: a new plan needs a new approval",
                &sha[..8],
                sha8(&subject.plan_sha256)
            ),
        ));
    }
    Ok(subject)
}

/// The first 8 hex digits of a plan's sha256, as comments name it.
pub fn sha8(sha256: &str) -> &str {
    sha256.get(..8).unwrap_or(sha256)
}

/// Count distinct approvers per project against what its environment needs.
pub fn tally(
    judged: Vec<(Candidate, Standing)>,
    approvers: &Approvers,
    mut notes: Vec<ApprovalNote>,
) -> ApprovalReview {
    let mut by_project: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for (c, standing) in judged {
        let note = |status, detail: String| ApprovalNote {
            project: Some(c.subject.project.clone()),
            by: Some(c.by.clone()),
            at: Some(c.at.clone()),
            status,
            detail,
        };
        match standing {
            Standing::Approver(how) => {
                notes.push(note(
                    NoteStatus::Accepted,
                    format!(
                        "{} approved plan {} ({how}){}",
                        c.by,
                        sha8(&c.subject.plan_sha256),
                        c.reason
                            .as_deref()
                            .map(|r| format!(": {}", crate::text::one_line(r)))
                            .unwrap_or_default()
                    ),
                ));
                by_project
                    .entry(c.subject.project.clone())
                    .or_default()
                    .push(c);
            }
            Standing::NotApprover(what) => notes.push(note(
                NoteStatus::Rejected,
                format!("{} is not an approver ({what})", c.by),
            )),
            Standing::Unknown(why) => notes.push(note(
                NoteStatus::Unchecked,
                format!(
                    "{} could not be checked as an approver, so the approval does not count: {why}",
                    c.by
                ),
            )),
        }
    }
    let mut approvals = Vec::new();
    for (project, found) in by_project {
        let needed = approvers.required_for(found[0].subject.environment.as_deref());
        if found.len() < needed {
            for n in notes.iter_mut().filter(|n| {
                n.project.as_deref() == Some(project.as_str()) && n.status == NoteStatus::Accepted
            }) {
                n.status = NoteStatus::Pending;
                n.detail = format!(
                    "{}; {} of {needed} distinct approvals, the plan stays blocked",
                    n.detail,
                    found.len()
                );
            }
            continue;
        }
        approvals.extend(found.into_iter().map(|c| Approval {
            project: c.subject.project,
            plan_sha256: c.subject.plan_sha256,
            by: c.by,
            at: c.at,
            reason: c.reason,
            rules: Vec::new(),
        }));
    }
    ApprovalReview { approvals, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123abcd4567ef890123abcd4567ef890123abcd4567ef890123abcd4567ef89";

    fn comment(id: u64, author: &str, body: &str) -> PrComment {
        PrComment {
            id,
            author: author.into(),
            author_id: None,
            created_at: format!("2026-12-02T08:00:{id:02}Z"),
            edited: false,
            body: body.into(),
        }
    }

    fn subjects() -> Vec<ApprovalSubject> {
        vec![ApprovalSubject {
            project: "app-prod".into(),
            plan_sha256: SHA.into(),
            environment: Some("production".into()),
            dir: "envs/prod".into(),
        }]
    }

    #[test]
    fn commands_start_a_line_outside_quotes_and_code() {
        let body = "LGTM\n/plangate approve app-prod 0123ABCD planned teardown\n> /plangate approve app-prod 0123abcd quoted\n```\n/plangate approve app-prod 0123abcd in code\n```\n    /plangate approve app-prod 0123abcd indented\n  /plangate revoke app-prod\nsee /plangate approve x y\n/plangate approve\n";
        assert_eq!(
            commands(body),
            vec![
                Command::Approve {
                    project: "app-prod".into(),
                    sha: "0123abcd".into(),
                    reason: Some("planned teardown".into())
                },
                Command::Revoke {
                    project: "app-prod".into()
                },
                Command::Malformed("/plangate approve".into()),
            ]
        );
    }

    #[test]
    fn screening_rejects_author_edits_and_other_hashes() {
        let mut edited = comment(3, "carol", "/plangate approve app-prod 0123abcd");
        edited.edited = true;
        let comments = vec![
            comment(1, "alice", "/plangate approve app-prod 0123abcd mine"),
            comment(2, "bob", "/plangate approve app-prod ffffffff old plan"),
            edited,
            comment(4, "dave", "/plangate approve app-prod 0123abcd ok"),
            comment(5, "erin", "/plangate approve app-prod 0123abcd ok"),
            comment(6, "erin", "/plangate revoke app-prod"),
            comment(
                7,
                "dave",
                "/plangate approve other-project 0123abcd not ours",
            ),
        ];
        let (live, notes) = screen(&comments, Some("Alice"), &subjects());
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].by, "dave");
        let statuses: Vec<NoteStatus> = notes.iter().map(|n| n.status).collect();
        assert_eq!(
            statuses,
            [
                NoteStatus::Rejected,
                NoteStatus::Stale,
                NoteStatus::Rejected,
                NoteStatus::Revoked
            ]
        );
        assert!(notes[0].detail.contains("wrote the pull request"));
        assert!(notes[1].detail.contains("ffffffff") && notes[1].detail.contains("0123abcd"));
        assert!(notes[2].detail.contains("edited"));
    }

    #[test]
    fn distinct_approvers_are_counted_against_the_environment() {
        let approvers = Approvers {
            users: vec!["dave".into(), "erin".into()],
            required: [("production".to_string(), 2)].into(),
            ..Approvers::default()
        };
        let candidate = |by: &str| Candidate {
            subject: subjects()[0].clone(),
            by: by.into(),
            by_id: None,
            at: "t".into(),
            reason: None,
        };
        let one = tally(
            vec![(candidate("dave"), Standing::Approver("listed".into()))],
            &approvers,
            Vec::new(),
        );
        assert!(one.approvals.is_empty());
        assert_eq!(one.notes[0].status, NoteStatus::Pending);
        assert!(one.notes[0].detail.contains("1 of 2"));
        let two = tally(
            vec![
                (candidate("dave"), Standing::Approver("listed".into())),
                (candidate("erin"), Standing::Approver("listed".into())),
                (candidate("zed"), Standing::Unknown("403".into())),
            ],
            &approvers,
            Vec::new(),
        );
        assert_eq!(two.approvals.len(), 2);
        assert_eq!(two.notes[2].status, NoteStatus::Unchecked);
    }

    #[test]
    fn adding_approvers_or_lowering_required_is_a_relaxation() {
        let base = Approvers {
            users: vec!["alice".into()],
            required: [("production".to_string(), 2)].into(),
            ..Approvers::default()
        };
        let head = Approvers {
            users: vec!["Alice".into(), "mallory".into()],
            codeowners: true,
            ..Approvers::default()
        };
        assert_eq!(
            head.relaxations_against(&base),
            [
                "approvers.users: mallory added",
                "approvers.codeowners: true added",
                "approvers.required.production: 2 -> 1"
            ]
        );
        assert!(base.relaxations_against(&base).is_empty());
    }
}
