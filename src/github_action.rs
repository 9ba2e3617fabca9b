//! GitHub Actions plumbing for `action.yml`: workflow-command annotations for findings, step
//! outputs, and the pull request number and head SHA from `$GITHUB_EVENT_PATH`. The action's
//! shell script calls these through the binary so that it needs neither jq nor python.

use std::fmt::Write;
use std::path::Path;

use serde::Deserialize;

use crate::input::policy::Level;
use crate::report::{Finding, Report, Verdict};
use crate::{Error, Result};

/// GitHub shows at most this many error and this many warning annotations per step.
pub const MAX_ANNOTATIONS_PER_LEVEL: usize = 10;

/// `::error`/`::warning` lines for deny/warn findings (the first ten of each, deny first as the
/// report sorts them), then one `::notice` saying how many were left out.
pub fn annotations(report: &Report) -> String {
    let mut out = String::new();
    let mut left_out = (0usize, 0usize);
    for (level, command, skipped) in [
        (Level::Deny, "error", &mut left_out.0),
        (Level::Warn, "warning", &mut left_out.1),
    ] {
        let of_level: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.level == level)
            .collect();
        for f in of_level.iter().take(MAX_ANNOTATIONS_PER_LEVEL) {
            out.push_str(&annotation(command, f));
        }
        *skipped = of_level.len().saturating_sub(MAX_ANNOTATIONS_PER_LEVEL);
    }
    if left_out != (0, 0) {
        let _ = writeln!(
            out,
            "::notice title=plangate::{}",
            escape_data(&format!(
                "{} more errors and {} more warnings are not annotated: see the job summary",
                left_out.0, left_out.1
            ))
        );
    }
    out
}

fn annotation(command: &str, f: &Finding) -> String {
    let mut title = format!("plangate {}", f.rule);
    if let Some(project) = &f.project {
        let _ = write!(title, " ({project})");
    }
    let mut properties = Vec::new();
    if let Some((path, line)) = f
        .location
        .as_deref()
        .and_then(crate::render::sarif::split_location)
    {
        properties.push(format!("file={}", escape_property(path)));
        properties.push(format!("line={line}"));
    }
    properties.push(format!("title={}", escape_property(&title)));
    let mut message = f.message.clone();
    if f.addresses.len() > 1 {
        let _ = write!(message, "\n{}", f.addresses.join("\n"));
    }
    format!(
        "::{command} {}::{}\n",
        properties.join(","),
        escape_data(&message)
    )
}

/// Escape a workflow command's message: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command's property value: as data, plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `name=value` lines for `$GITHUB_OUTPUT`.
pub fn outputs(report: &Report) -> String {
    format!(
        "verdict={}\nblocked={}\ndeny={}\nwarn={}\n",
        report.verdict.as_str(),
        report.verdict == Verdict::Block,
        report.count(Level::Deny),
        report.count(Level::Warn),
    )
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::policy::Policy;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape_data("100%\r\nok"), "100%25%0D%0Aok");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn at_most_ten_of_each_level_then_a_notice() {
        let findings = (0..12)
            .map(|i| Finding::new("cross-env-destroy", format!("deny {i}")))
            .chain((0..3).map(|i| {
                Finding::new("untagged-destroy", format!("warn {i}")).at_most(Level::Warn)
            }))
            .collect();
        let report = Report::lint(&Policy::builtin(), findings);
        let out = annotations(&report);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::error ")).count(),
            10
        );
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::warning ")).count(),
            3
        );
        assert!(
            out.contains("::notice title=plangate::2 more errors and 0 more warnings"),
            "{out}"
        );
    }

    #[test]
    fn config_findings_point_at_their_file() {
        let report = Report::lint(
            &Policy::builtin(),
            vec![Finding::new("shared-state", "two projects, one state")
                .location("atlantis.yaml:7:5")],
        );
        assert_eq!(
            annotations(&report),
            "::error file=atlantis.yaml,line=7,title=plangate shared-state::two projects, one state\n"
        );
    }
}
