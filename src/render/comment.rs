//! The pull-request comment (DESIGN section 12): one per pull request, found again by the
//! marker `<!-- plangate:v2 {"pr":N} -->`. It starts with one verdict line for the whole pull
//! request, then a table with a row per project, then a section per blocked or warning project
//! (deny findings first, grouped by environment, details collapsed), then a footer.
//!
//! Each project's section carries its own hidden state (`<!-- plangate:project {...} -->`,
//! with the body's length, so that no name inside the body can end it early). A run of one
//! project [`merge`]s its sections into the comment as it finds it: the other projects' sections
//! are kept as they are, and the head and the table are rendered again from every section's
//! state. The forge writes the result and reads it back (another project's run may write at
//! the same time).
//!
//! The whole comment stays within a size budget: the details of every section go first, then
//! warning sections become one line, then blocking sections their summary with counts; a deny
//! finding is never dropped.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::markdown::{self, code, text};
use crate::model::level::Level;
use crate::report::{Counts, Report, Verdict};

const MARKER_PREFIX: &str = "<!-- plangate:v2 ";
const SECTION_PREFIX: &str = "<!-- plangate:project ";
const SECTION_END: &str = "<!-- plangate:end -->";
const MARKER_SUFFIX: &str = " -->";

/// What a section says of its project, kept hidden in the comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionState {
    pub project: String,
    pub plan_sha256: String,
    pub verdict: Verdict,
    #[serde(default)]
    pub environment: Option<String>,
    /// Only the actions the plan has are written.
    #[serde(default, serialize_with = "nonzero_counts")]
    pub counts: Counts,
    /// The rules that block it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// One line per blocking rule with counts: what the section shrinks to for lack of room.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub summary: Vec<String>,
    /// The length of the section's body in bytes.
    #[serde(default)]
    pub len: usize,
    /// When the forge wrote it (milliseconds since 1970; 0 when never posted): of two sections
    /// of one project, the later one is kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub written: u64,
    /// Approvals let it pass: its deny findings are approved (DESIGN section 14).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approved: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The counts without the zeros: they are read back with every missing action at 0.
fn nonzero_counts<S: serde::Serializer>(counts: &Counts, s: S) -> Result<S::Ok, S::Error> {
    let all = serde_json::to_value(counts).map_err(serde::ser::Error::custom)?;
    let nonzero: serde_json::Map<String, serde_json::Value> = all
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, n)| n.as_u64() != Some(0))
        .map(|(k, n)| (k.clone(), n.clone()))
        .collect();
    nonzero.serialize(s)
}

/// One project's part of the comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub state: SectionState,
    pub body: String,
}

/// What a comment holds: its pull request and its sections, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub pr: Option<u64>,
    pub sections: Vec<Section>,
}

#[derive(Serialize, Deserialize)]
struct Marker {
    pr: Option<u64>,
}

/// The comment for the projects of one report.
pub fn render(report: &Report, pr: Option<u64>, budget: usize) -> String {
    assemble(pr, sections(report), report.tool.version, budget)
}

/// This report's sections, one per project.
pub fn sections(report: &Report) -> Vec<Section> {
    report
        .projects
        .iter()
        .map(|p| {
            let findings = markdown::findings_of(report, Some(&p.name));
            let deny = markdown::of_level(&findings, Level::Deny);
            let mut rules: Vec<String> = deny.iter().map(|f| f.rule.as_str().to_string()).collect();
            rules.sort();
            rules.dedup();
            let approvals = super::approvals::markdown(report, Some(&p.name));
            let body = if p.verdict == Verdict::Pass && approvals.is_empty() {
                String::new()
            } else {
                format!(
                    "{}{approvals}",
                    section_body(p, report.is_approved(Some(&p.name)), &findings)
                )
            };
            let summary = rules
                .iter()
                .map(|rule| {
                    let of_rule: Vec<_> = deny
                        .iter()
                        .copied()
                        .filter(|f| f.rule.as_str() == rule)
                        .collect();
                    format!(
                        "{}: {}",
                        code(rule),
                        markdown::findings_on(of_rule.len(), markdown::instances(&of_rule))
                    )
                })
                .collect();
            Section {
                state: SectionState {
                    project: p.name.clone(),
                    plan_sha256: p.plan_sha256.clone(),
                    verdict: p.verdict,
                    environment: p.environment.clone(),
                    counts: p.counts,
                    rules,
                    summary,
                    len: body.len(),
                    written: 0,
                    approved: report.is_approved(Some(&p.name)) && p.verdict != Verdict::Block,
                },
                body,
            }
        })
        .collect()
}

fn section_body(
    p: &crate::report::ProjectReport,
    approved: bool,
    findings: &[&crate::model::finding::Finding],
) -> String {
    let sha: String = p.plan_sha256.chars().take(8).collect();
    let mut out = format!(
        "### {}{} {} · {} · {} · plan {}\n\n",
        verdict_mark(p.verdict),
        if approved && p.verdict != Verdict::Block {
            " approved"
        } else {
            ""
        },
        code(&p.name),
        text(p.environment.as_deref().unwrap_or("unknown environment")),
        destroys(&p.counts),
        code(&sha)
    );
    if !p.complete {
        out.push_str("> **Incomplete plan** (`-target` or deferred changes): only the changes shown were checked.\n\n");
    }
    for note in &p.notes {
        let _ = writeln!(out, "> Note: {}\n", text(note));
    }
    for a in &p.destroy_actions {
        let _ = writeln!(
            out,
            "> Destroying {} runs {} ({}).\n",
            code(&a.resource),
            code(&a.action),
            text(&a.event)
        );
    }
    match markdown::body(findings, markdown::DEFAULT_BUDGET / 2) {
        Some(body) => out.push_str(&body),
        None => out.push_str("Too long to show: the job log has the findings.\n\n"),
    }
    out
}

/// Lay `mine` over the comment as it is now (`None`: there is none yet): sections of other
/// projects are kept, in their order; a project's new section replaces its old one.
pub fn merge(
    existing: Option<&str>,
    mine: Vec<Section>,
    pr: Option<u64>,
    version: &str,
    budget: usize,
) -> String {
    let mut sections: Vec<Section> = existing
        .and_then(parse)
        .map(|p| p.sections)
        .unwrap_or_default();
    for section in mine {
        match sections
            .iter_mut()
            .find(|s| s.state.project == section.state.project)
        {
            Some(old) => *old = section,
            None => sections.push(section),
        }
    }
    assemble(pr, sections, version, budget)
}

/// The marker that starts a comment of ours, if `body` starts with one.
pub fn parse_marker(body: &str) -> Option<Option<u64>> {
    let rest = body.trim_start().strip_prefix(MARKER_PREFIX)?;
    let end = rest.find(MARKER_SUFFIX)?;
    serde_json::from_str::<Marker>(&rest[..end])
        .ok()
        .map(|m| m.pr)
}

/// A comment's pull request and sections; `None` when it does not start with our marker.
/// Sections that cannot be read are dropped (they are made again by their project's next run).
pub fn parse(body: &str) -> Option<Parsed> {
    let pr = parse_marker(body)?;
    let mut sections = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(SECTION_PREFIX) {
        let after = &rest[start + SECTION_PREFIX.len()..];
        let Some(end) = after.find(MARKER_SUFFIX) else {
            break;
        };
        let Ok(state) = serde_json::from_str::<SectionState>(&after[..end]) else {
            rest = &after[end..];
            continue;
        };
        let content = after[end + MARKER_SUFFIX.len()..]
            .strip_prefix('\n')
            .unwrap_or("");
        let Some(body) = content.get(..state.len) else {
            break;
        };
        if !content[state.len..].starts_with(SECTION_END) {
            rest = &after[end..];
            continue;
        }
        rest = &content[state.len + SECTION_END.len()..];
        sections.push(Section {
            body: body.to_string(),
            state,
        });
    }
    Some(Parsed { pr, sections })
}

/// The whole comment from its sections, within `budget` bytes.
pub fn assemble(
    pr: Option<u64>,
    mut sections: Vec<Section>,
    version: &str,
    budget: usize,
) -> String {
    sections.sort_by(|a, b| {
        b.state
            .verdict
            .cmp(&a.state.verdict)
            .then_with(|| a.state.project.cmp(&b.state.project))
    });
    for shrink in [
        Shrink::None,
        Shrink::Details,
        Shrink::Warnings,
        Shrink::Summaries,
    ] {
        let shrunk: Vec<Section> = sections.iter().map(|s| shrink.apply(s)).collect();
        let out = compose(pr, &shrunk, version, shrink);
        if out.len() <= budget || shrink == Shrink::Summaries {
            return out;
        }
    }
    unreachable!("the last shrink returns")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shrink {
    None,
    /// Every section's `<details>` left out.
    Details,
    /// And warning sections reduced to one line.
    Warnings,
    /// And blocking sections reduced to their counts per rule.
    Summaries,
}

impl Shrink {
    fn apply(self, s: &Section) -> Section {
        let mut body = s.body.clone();
        if self != Shrink::None {
            body = without_details(&body);
        }
        let head = body.lines().next().unwrap_or_default().to_string();
        match (self, s.state.verdict) {
            (Shrink::Warnings | Shrink::Summaries, Verdict::Warn) => {
                body = format!("{head}\n\nWarnings only; the job log lists them.\n\n");
            }
            (Shrink::Summaries, Verdict::Block) => {
                body = format!("{head}\n\n");
                for line in &s.state.summary {
                    let _ = writeln!(body, "- {line}");
                }
                body.push('\n');
            }
            _ => {}
        }
        let mut state = s.state.clone();
        state.len = body.len();
        Section { state, body }
    }
}

fn without_details(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("<details>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</details>\n") {
            Some(end) => rest = &rest[start + end + "</details>\n".len()..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn compose(pr: Option<u64>, sections: &[Section], version: &str, shrink: Shrink) -> String {
    let mut out = String::new();
    let marker = serde_json::to_string(&Marker { pr }).unwrap_or_else(|_| "{}".into());
    let _ = writeln!(out, "{MARKER_PREFIX}{marker}{MARKER_SUFFIX}");
    let states: Vec<&SectionState> = sections.iter().map(|s| &s.state).collect();
    out.push_str(&headline(&states));
    out.push_str(&table(&states));
    if shrink != Shrink::None {
        out.push_str("\n> **Shortened to fit the comment size limit:** every blocking finding is counted; the job log has the full report.\n");
    }
    for s in sections {
        let state = serde_json::to_string(&s.state)
            .unwrap_or_default()
            .replace('<', "\\u003c")
            .replace('>', "\\u003e");
        let _ = write!(
            out,
            "\n{SECTION_PREFIX}{state}{MARKER_SUFFIX}\n{}{SECTION_END}\n",
            s.body
        );
    }
    // The hashes approvals name; beyond the first 30 projects, in the hidden state only.
    let plans: Vec<String> = states
        .iter()
        .take(30)
        .map(|s| {
            let sha: String = s.plan_sha256.chars().take(8).collect();
            format!("{} {}", code(&s.project), code(&sha))
        })
        .collect();
    let _ = writeln!(
        out,
        "\n<sub>plans (sha256): {} · plangate {} · one comment for the whole pull request, updated by every project's run</sub>",
        plans.join(", ") + &more(states.len().saturating_sub(30)),
        text(version)
    );
    out
}

fn more(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(" and {n} more"),
    }
}

/// `⛔ BLOCK · 2 of 14 projects blocked · 37 to delete`.
fn headline(states: &[&SectionState]) -> String {
    let verdict = states
        .iter()
        .map(|s| s.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    let n = states.len();
    let of = |v: Verdict| states.iter().filter(|s| s.verdict == v).count();
    let projects = match verdict {
        Verdict::Block => format!(
            "{} of {n} {} blocked",
            of(Verdict::Block),
            plural(n, "project", "projects")
        ),
        Verdict::Warn => format!(
            "{} of {n} {} with warnings",
            of(Verdict::Warn),
            plural(n, "project", "projects")
        ),
        Verdict::Pass => format!("{n} {} pass", plural(n, "project", "projects")),
    };
    let deleted: usize = states.iter().map(|s| s.counts.delete).sum();
    let replaced: usize = states.iter().map(|s| s.counts.replace).sum();
    let approved = verdict != Verdict::Block && states.iter().any(|s| s.approved);
    let mut line = format!(
        "### {}{} · {projects}",
        verdict_word(verdict),
        if approved { " (approved)" } else { "" }
    );
    if deleted > 0 {
        let _ = write!(line, " · {deleted} to delete");
    }
    if replaced > 0 {
        let _ = write!(line, " · {replaced} to replace");
    }
    line.push_str("\n\n");
    line
}

/// A count column of the table: its name and what it counts.
type Column = (&'static str, fn(&Counts) -> usize);

/// A row per project; a count column only when some project has such changes.
fn table(states: &[&SectionState]) -> String {
    let columns: [Column; 4] = [
        ("delete", |c| c.delete),
        ("replace", |c| c.replace),
        ("update", |c| c.update),
        ("create", |c| c.create),
    ];
    let shown: Vec<_> = columns
        .iter()
        .filter(|(_, get)| states.iter().any(|s| get(&s.counts) > 0))
        .collect();
    let mut out = String::from("| project | env | verdict |");
    let mut rule = String::from("|---|---|---|");
    for (name, _) in &shown {
        let _ = write!(out, " {name} |");
        rule.push_str("---:|");
    }
    out.push_str(" blocking rules |\n");
    rule.push_str("---|\n");
    out.push_str(&rule);
    for s in states {
        // A no-break space: the verdict never wraps in a narrow column.
        let _ = write!(
            out,
            "| {} | {} | {}\u{a0}{}{} |",
            code(&s.project),
            text(s.environment.as_deref().unwrap_or("unknown")),
            verdict_mark(s.verdict),
            s.verdict.as_str(),
            if s.approved { "\u{a0}(approved)" } else { "" }
        );
        for (_, get) in &shown {
            let n = get(&s.counts);
            if n > 0 {
                let _ = write!(out, " {n} |");
            } else {
                out.push_str(" |");
            }
        }
        let rules: Vec<String> = s.rules.iter().map(|r| code(r)).collect();
        let _ = writeln!(out, " {} |", rules.join(" "));
    }
    out
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅ PASS",
        Verdict::Warn => "⚠️ WARN",
        Verdict::Block => "⛔ BLOCK",
    }
}

fn verdict_mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Warn => "⚠️",
        Verdict::Block => "⛔",
    }
}

/// `5 to delete, 1 to replace`, or `no destroys`.
fn destroys(c: &Counts) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (c.delete, "to delete"),
        (c.replace, "to replace"),
        (c.replace_keep, "to replace keeping the old object"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if parts.is_empty() {
        "no destroys".into()
    } else {
        parts.join(", ")
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::finding::Finding;
    use crate::report::ProjectReport;

    fn project(name: &str, verdict: Verdict, delete: usize) -> ProjectReport {
        ProjectReport {
            name: name.into(),
            dir: name.into(),
            workspace: "default".into(),
            environment: Some("staging".into()),
            plan_sha256: format!("{:0>64}", name.len()),
            verdict,
            counts: Counts {
                delete,
                ..Counts::default()
            },
            plan: "plan.json".into(),
            terraform_version: None,
            complete: true,
            drift: 0,
            destroy_actions: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn report(projects: Vec<ProjectReport>, findings: Vec<Finding>) -> Report {
        let mut r = Report::lint(&crate::pipeline::builtin_policy(), findings);
        r.verdict = projects
            .iter()
            .map(|p| p.verdict)
            .max()
            .unwrap_or(Verdict::Pass);
        r.projects = projects;
        r
    }

    fn blocked(name: &str, address: &str) -> Report {
        let f = Finding::new("cross-env-destroy", format!("would delete {address}"))
            .project_name(name)
            .address(address);
        report(vec![project(name, Verdict::Block, 1)], vec![f])
    }

    #[test]
    fn one_comment_keeps_every_project_and_replaces_a_project_s_own_section() {
        let a = render(&blocked("app-a", "x.a"), Some(7), 60_000);
        let b_report = report(vec![project("app-b", Verdict::Pass, 0)], vec![]);
        let both = merge(Some(&a), sections(&b_report), Some(7), "0.1.0", 60_000);
        let parsed = parse(&both).unwrap();
        assert_eq!(parsed.pr, Some(7));
        let names: Vec<&str> = parsed
            .sections
            .iter()
            .map(|s| s.state.project.as_str())
            .collect();
        assert_eq!(names, ["app-a", "app-b"], "blocked first");
        assert!(
            both.contains("### ⛔ BLOCK · 1 of 2 projects blocked · 1 to delete"),
            "{both}"
        );
        // app-a's next run passes: only its row and section change.
        let a_passes = report(vec![project("app-a", Verdict::Pass, 0)], vec![]);
        let again = merge(Some(&both), sections(&a_passes), Some(7), "0.1.0", 60_000);
        assert!(again.contains("### ✅ PASS · 2 projects pass"), "{again}");
        assert!(!again.contains("x.a"), "the old section is gone: {again}");
        assert_eq!(parse(&again).unwrap().sections.len(), 2);
    }

    #[test]
    fn a_name_cannot_end_a_section_or_fake_one() {
        let nasty =
            "x[\"<!-- plangate:end --><!-- plangate:project {\\\"project\\\":\\\"evil\\\"} -->\"]";
        let comment = render(&blocked("app-a", nasty), None, 60_000);
        let parsed = parse(&comment).unwrap();
        assert_eq!(parsed.sections.len(), 1, "{comment}");
        assert_eq!(parsed.sections[0].state.project, "app-a");
        let merged = merge(Some(&comment), Vec::new(), None, "0.1.0", 60_000);
        assert_eq!(
            merged, comment,
            "a comment read and written again is unchanged"
        );
    }

    #[test]
    fn the_table_has_no_empty_count_columns_and_counts_are_singular_or_plural() {
        let comment = render(&blocked("app-a", "x.a"), None, 60_000);
        let header = comment
            .lines()
            .find(|l| l.starts_with("| project"))
            .unwrap();
        assert_eq!(
            header,
            "| project | env | verdict | delete | blocking rules |"
        );
        let sha = "0".repeat(8);
        assert!(
            comment.contains(&format!("· 1 to delete · plan `{sha}`")),
            "the section names its plan: {comment}"
        );
        assert!(
            comment.contains(&format!("plans (sha256): `app-a` `{sha}`")),
            "{comment}"
        );
        assert!(comment.contains("1 of 1 project blocked · 1 to delete"));
        assert!(
            comment.contains("Blocking: 1 finding on 1 resource"),
            "{comment}"
        );
    }

    #[test]
    fn a_tight_budget_shrinks_sections_but_keeps_every_blocking_rule() {
        let mut findings = Vec::new();
        for i in 0..400 {
            findings.push(
                Finding::new(
                    "cross-env-destroy",
                    format!("would delete aws_instance.r{i} of a team with a long name"),
                )
                .project_name("app-a")
                .address(format!("aws_instance.r{i}")),
            );
        }
        findings.push(Finding::new("mass-deletion", "400 deletes").project_name("app-a"));
        let r = report(vec![project("app-a", Verdict::Block, 400)], findings);
        let comment = render(&r, None, 4_000);
        assert!(
            comment.len() <= 4_000 || comment.contains("Shortened"),
            "{}",
            comment.len()
        );
        assert!(comment.contains("Shortened to fit"), "{comment}");
        for rule in ["cross-env-destroy", "mass-deletion"] {
            assert!(
                comment.contains(&format!("`{rule}`")),
                "{rule} kept: {comment}"
            );
        }
        assert!(
            comment.contains("400 findings on 400 resources"),
            "{comment}"
        );
        assert_eq!(parse(&comment).unwrap().sections.len(), 1);
    }
}
