//! What every format says about approvals (DESIGN section 14): the deny findings approvals let
//! through, each with who approved it, when and why, and the audit list of every approval and
//! revocation read from the pull request (accepted, pending, stale, rejected and why). The
//! formats call these; none of their own code changes for approvals but the verdict's word.
//!
//! No line any of these write starts with `/plangate`: the comment plangate writes is never
//! read back as a command.

use std::fmt::Write;

use serde_json::{json, Value};

use super::markdown::{code, inline, text};
use crate::model::approval::{ApprovalNote, NoteStatus};
use crate::report::{ApprovedFinding, Report};
use crate::text::{clip, visible};

/// The approved findings of `project` (every one when `None`).
pub fn approved_of<'r>(report: &'r Report, project: Option<&str>) -> Vec<&'r ApprovedFinding> {
    report
        .approval
        .approved_findings
        .iter()
        .filter(|a| project.is_none() || a.finding.project.as_deref() == project)
        .collect()
}

/// The audit notes of `project` (with `None`, all of them), and those about no project.
pub fn notes_of<'r>(report: &'r Report, project: Option<&str>) -> Vec<&'r ApprovalNote> {
    report
        .approval
        .approval_notes
        .iter()
        .filter(|n| project.is_none() || n.project.is_none() || n.project.as_deref() == project)
        .collect()
}

/// `approved  cross-env-destroy  aws_db_instance.db (delete) in app-prod`, then who approved it.
fn finding_line(a: &ApprovedFinding) -> String {
    let f = &a.finding;
    let mut line = format!("approved  {}", f.rule);
    if let Some(address) = &f.address {
        let _ = write!(line, "  {}", clip(&visible(address), 300));
    }
    if let Some(action) = f.action_label() {
        let _ = write!(line, " ({action})");
    }
    if let Some(project) = &f.project {
        let _ = write!(line, " in {}", visible(project));
    }
    let _ = write!(line, ": {}", visible(&a.approved_text()));
    line
}

/// `approval stale: app-prod by bob at ...: approves plan ...`.
fn note_line(n: &ApprovalNote) -> String {
    let mut line = format!("approval {}", n.status.as_str());
    if let Some(project) = &n.project {
        let _ = write!(line, " ({})", visible(project));
    }
    if let Some(at) = &n.at {
        let _ = write!(line, " at {}", visible(at));
    }
    let _ = write!(line, ": {}", visible(&n.detail));
    line
}

/// Plain lines for the text and `atlantis` formats: approved findings, then the audit.
pub fn plain_lines(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = approved_of(report, None)
        .into_iter()
        .map(finding_line)
        .collect();
    out.extend(notes_of(report, None).into_iter().map(note_line));
    out
}

/// The Markdown of a project's approvals (or the whole report's): the approved findings and
/// the audit list. Empty when there is nothing to say.
pub fn markdown(report: &Report, project: Option<&str>) -> String {
    let approved = approved_of(report, project);
    let notes = notes_of(report, project);
    let mut out = String::new();
    if !approved.is_empty() {
        let _ = writeln!(
            out,
            "**✅ Approved** (these deny findings do not block this plan):\n"
        );
        for a in &approved {
            let f = &a.finding;
            let mut line = format!("- {}", code(f.rule.as_str()));
            if let Some(address) = &f.address {
                let _ = write!(line, " {}", code(address));
            }
            if let Some(action) = f.action_label() {
                let _ = write!(line, " ({action})");
            }
            let who: Vec<String> = a
                .approved_by
                .iter()
                .map(|b| {
                    let why = b
                        .reason
                        .as_deref()
                        .map(|r| format!(": {}", text(r)))
                        .unwrap_or_default();
                    format!("{} at {}{why}", code(&b.by), text(&b.at))
                })
                .collect();
            let _ = writeln!(line, " — approved by {}", who.join("; "));
            out.push_str(&line);
        }
        out.push('\n');
    }
    if !notes.is_empty() {
        out.push_str("<details><summary>Approvals and revocations</summary>\n\n");
        for n in &notes {
            let who = n.by.as_deref().map(code).unwrap_or_default();
            let at = n.at.as_deref().map(text).unwrap_or_default();
            let _ = writeln!(
                out,
                "- **{}** {who} {at}: {}",
                n.status.as_str(),
                inline(&n.detail)
            );
        }
        out.push_str("\n</details>\n\n");
    }
    out
}

/// SARIF results for approved findings: the finding, suppressed by its approval.
pub fn sarif_results(report: &Report) -> Vec<Value> {
    approved_of(report, None)
        .into_iter()
        .map(|a| {
            let f = &a.finding;
            json!({
                "ruleId": f.rule,
                "level": "error",
                "message": {"text": format!("{} ({})", f.message, a.approved_text())},
                "properties": {
                    "project": f.project,
                    "action": f.action_label(),
                    "instances": f.instances,
                },
                "suppressions": a.approved_by.iter().map(|b| json!({
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!(
                        "approved by {} at {}{}",
                        b.by,
                        b.at,
                        b.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
                    ),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `::notice` lines for GitHub Actions: one per approved finding and per rejected approval.
pub fn notices(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = approved_of(report, None)
        .into_iter()
        .map(finding_line)
        .collect();
    out.extend(
        notes_of(report, None)
            .into_iter()
            .filter(|n| n.status != NoteStatus::Accepted)
            .map(note_line),
    );
    out
}
