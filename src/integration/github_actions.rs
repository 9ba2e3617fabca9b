//! GitHub Actions facts for `action.yml`: the pull request number and head SHA from
//! `$GITHUB_EVENT_PATH`. The action's shell script reads them through the binary so that it
//! needs neither jq nor python. (Annotations and step outputs are formats: `render`.)

use std::path::Path;

use serde::Deserialize;

use crate::{Error, Result};

/// What the action needs from the event that started the workflow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventInfo {
    pub pr_number: Option<u64>,
    pub head_sha: Option<String>,
    pub repository: Option<String>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default)]
    pull_request: Option<RawPullRequest>,
    #[serde(default)]
    number: Option<u64>,
    /// Push events: the commit pushed.
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    repository: Option<RawRepository>,
}

#[derive(Deserialize)]
struct RawPullRequest {
    number: u64,
    #[serde(default)]
    head: Option<RawHead>,
}

#[derive(Deserialize)]
struct RawHead {
    #[serde(default)]
    sha: Option<String>,
}

#[derive(Deserialize)]
struct RawRepository {
    #[serde(default)]
    full_name: Option<String>,
}

/// Read `$GITHUB_EVENT_PATH`: the pull request's number and head SHA (`pull_request` and
/// `pull_request_target` events), or the pushed commit.
pub fn read_event(path: &Path) -> Result<EventInfo> {
    let bytes = crate::input::read_input_file(path)?;
    let raw: RawEvent = serde_json::from_slice(&bytes)
        .map_err(|e| Error::input(path, format!("is not a GitHub event payload: {e}")))?;
    let (pr_number, head_sha) = match raw.pull_request {
        Some(pr) => (Some(pr.number), pr.head.and_then(|h| h.sha)),
        None => (raw.number, raw.after),
    };
    Ok(EventInfo {
        pr_number,
        // Only hex survives: the script reads these lines back in shell.
        head_sha: head_sha.filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit())),
        repository: raw.repository.and_then(|r| r.full_name).filter(|n| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        }),
    })
}

/// `pr_number=`, `head_sha=`, `repository=` lines (empty when unknown).
pub fn event_lines(info: &EventInfo) -> String {
    format!(
        "pr_number={}\nhead_sha={}\nrepository={}\n",
        info.pr_number.map(|n| n.to_string()).unwrap_or_default(),
        info.head_sha.as_deref().unwrap_or(""),
        info.repository.as_deref().unwrap_or(""),
    )
}
