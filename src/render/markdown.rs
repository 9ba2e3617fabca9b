//! The Markdown report: the pull-request comment (GitHub, GitLab), `--format markdown` and the
//! GitHub step summary. One section per project, led by a hidden marker that finds the comment
//! again, then a verdict line that needs no expanding, deny findings by environment, warnings,
//! counts, and the affected resources collapsed. A hard size budget keeps every section under
//! the comment limit: details are cut first, deny findings are never dropped (only grouped with
//! counts), and the section says what was cut.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::change::address_pattern;
use crate::model::finding::Finding;
use crate::model::level::Level;
use crate::report::{Counts, ProjectReport, Report, Verdict};

/// GitHub refuses comments over 65,536 characters; GitLab notes allow 1,000,000.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// What one section may take, in bytes (never fewer than characters): room under the limit.
pub const DEFAULT_BUDGET: usize = 60_000;

const MARKER_PREFIX: &str = "<!-- plangate:v1 ";
const MARKER_SUFFIX: &str = " -->";
/// A single message longer than this is clipped in the comment (the terminal shows it whole).
const MESSAGE_LIMIT: usize = 600;

/// The whole report: every project's section (exactly what would be posted), one after another.
pub fn render(report: &Report) -> String {
    if report.projects.is_empty() {
        return render_section(report, None, DEFAULT_BUDGET);
    }
    report
        .projects
        .iter()
        .map(|p| render_section(report, Some(p), DEFAULT_BUDGET))
        .collect::<Vec<_>>()
        .join("\n---\n\n")
}

/// The comment for one project, at most `budget` bytes; `None` if the report has no such project.
pub fn render_project(report: &Report, project: &str, budget: usize) -> Option<String> {
    let p = report.projects.iter().find(|p| p.name == project)?;
    Some(render_section(report, Some(p), budget))
}

/// The hidden first line of a project's comment.
pub fn marker(project: &str, plan_sha256: &str) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let json = format!(
        "{{\"project\":{},\"plan_sha256\":{}}}",
        quote(project),
        quote(plan_sha256)
    );
    // `<` and `>` never appear raw, so a name cannot close the HTML comment early.
    let json = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('@', "\\u0040")
        .replace('#', "\\u0023");
    format!("{MARKER_PREFIX}{json}{MARKER_SUFFIX}")
}

/// What a marker says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Marker {
    pub project: String,
    pub plan_sha256: String,
}

/// The marker that starts a comment body. A marker elsewhere (quoted, pasted) does not count.
pub fn parse_marker(body: &str) -> Option<Marker> {
    let rest = body.trim_start().strip_prefix(MARKER_PREFIX)?;
    let end = rest.find(MARKER_SUFFIX)?;
    serde_json::from_str(&rest[..end]).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// One line per finding.
    Full,
    /// One line per rule, resource type and action, with counts.
    ByType,
    /// One line per rule, with counts.
    ByRule,
    /// Only the total (warnings only).
    Hidden,
}

fn render_section(report: &Report, project: Option<&ProjectReport>, budget: usize) -> String {
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| match (project, &f.project) {
            (Some(p), Some(name)) => *name == p.name,
            // Findings about atlantis.yaml or the policy belong to every project's comment.
            (_, None) => true,
            (None, Some(_)) => true,
        })
        .collect();
    let deny: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.level == Level::Deny)
        .collect();
    let warn: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.level == Level::Warn)
        .collect();

    let head = head(report, project, &deny, &warn);
    let tail = tail(report, project);
    let details = detail_lines(&findings);

    let warn_details = [Detail::Full, Detail::ByType, Detail::ByRule, Detail::Hidden];
    let warn_blocks: Vec<String> = warn_details
        .iter()
        .map(|d| warn_section(&warn, *d))
        .collect();
    for deny_detail in [Detail::Full, Detail::ByType, Detail::ByRule] {
        let deny_block = deny_section(&deny, deny_detail);
        for (warn_detail, warn_block) in warn_details.iter().copied().zip(&warn_blocks) {
            let summarised = deny_detail != Detail::Full || warn_detail != Detail::Full;
            let fixed = head.len() + deny_block.len() + warn_block.len() + tail.len();
            // Room for the details' frame and the note on what was cut.
            let reserve = 900;
            if fixed + reserve > budget {
                continue;
            }
            let room = budget - fixed - reserve;
            let (details_block, shown) = details_section(&details, room);
            let cut = summarised || shown < details.len();
            let mut out = String::with_capacity(budget);
            out.push_str(&head);
            out.push_str(&deny_block);
            out.push_str(warn_block);
            if cut {
                out.push_str(&cut_note(deny_detail, warn_detail, shown, details.len()));
            }
            out.push_str(&details_block);
            out.push_str(&tail);
            return out;
        }
    }
    // Even one line per rule does not fit (absurdly long names): keep the verdict line.
    let mut out = head;
    truncate(&mut out, budget.saturating_sub(200));
    out.push_str("\n\n> **Shortened to fit the comment size limit.** Only the verdict is shown; the full report is in the job log.\n");
    out
}

fn head(
    report: &Report,
    project: Option<&ProjectReport>,
    deny: &[&Finding],
    warn: &[&Finding],
) -> String {
    let mut out = String::new();
    let verdict = project.map_or(report.verdict, |p| p.verdict);
    if let Some(p) = project {
        let _ = writeln!(out, "{}", marker(&p.name, &p.plan_sha256));
        let env = match &p.environment {
            Some(env) => format!("environment **{}**", text(env)),
            None => "environment **unknown**".to_string(),
        };
        let _ = writeln!(
            out,
            "### {} · project {} · {env} · {} · {}",
            verdict_word(verdict),
            code(&p.name),
            counts_line(&p.counts),
            levels_line(deny.len(), warn.len())
        );
        out.push('\n');
        if !p.complete {
            out.push_str("> **Incomplete plan** (`-target` or deferred changes): only the changes shown were checked.\n\n");
        }
        if p.drift > 0 {
            let _ = writeln!(
                out,
                "> {} changes made outside Terraform (drift) are not planned actions and were not counted.\n",
                p.drift
            );
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
    } else {
        let _ = writeln!(
            out,
            "### {} · plangate · {}\n",
            verdict_word(verdict),
            levels_line(deny.len(), warn.len())
        );
    }
    out
}

fn tail(report: &Report, project: Option<&ProjectReport>) -> String {
    let mut out = String::new();
    if let Some(p) = project {
        let c = &p.counts;
        out.push_str(
            "\n| create | update | replace | delete | forget | move | import | read | no-op |\n",
        );
        out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.create, c.update, c.replace, c.delete, c.forget, c.moved, c.import, c.read, c.no_op
        );
        let short_sha: String = p.plan_sha256.chars().take(12).collect();
        let tf = p
            .terraform_version
            .as_deref()
            .map(|v| format!(" · Terraform {}", text(v)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n<sub>{} {} · plan sha256 {}{tf} · this comment is updated on every run</sub>",
            report.tool.name,
            report.tool.version,
            code(&short_sha)
        );
    } else {
        let _ = writeln!(
            out,
            "\n<sub>{} {}</sub>",
            report.tool.name, report.tool.version
        );
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

fn counts_line(c: &Counts) -> String {
    let mut parts = vec![
        format!("{} to delete", c.delete),
        format!("{} to replace", c.replace),
        format!("{} to update", c.update),
        format!("{} to create", c.create),
    ];
    for (n, label) in [
        (c.forget, "to forget"),
        (c.moved, "moved"),
        (c.import, "to import"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    parts.join(", ")
}

fn levels_line(deny: usize, warn: usize) -> String {
    format!("{deny} deny, {warn} warn")
}

/// How many resource instances findings stand for.
fn instances(findings: &[&Finding]) -> usize {
    findings.iter().map(|f| f.instances.max(1)).sum()
}

fn environment_key(f: &Finding) -> String {
    match (&f.resource_environment, &f.address) {
        (Some(env), _) => format!("Resources in **{}**", text(env)),
        (None, Some(_)) => "Resources with no environment signal".to_string(),
        (None, None) => "Project and configuration".to_string(),
    }
}

fn deny_section(deny: &[&Finding], detail: Detail) -> String {
    if deny.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "#### Blocking: {} {} on {} {}\n",
        deny.len(),
        plural(deny.len(), "finding", "findings"),
        instances(deny),
        plural(instances(deny), "resource", "resources")
    );
    let mut by_env: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in deny {
        by_env.entry(environment_key(f)).or_default().push(f);
    }
    for (env, group) in by_env {
        let _ = writeln!(out, "\n{env}\n");
        out.push_str(&finding_lines(&group, detail));
    }
    out.push('\n');
    out
}

fn warn_section(warn: &[&Finding], detail: Detail) -> String {
    if warn.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "#### Warnings: {} {} on {} {}\n\n",
        warn.len(),
        plural(warn.len(), "finding", "findings"),
        instances(warn),
        plural(instances(warn), "resource", "resources")
    );
    if detail == Detail::Hidden {
        out.push_str("Not listed here for lack of room: see the job log.\n\n");
        return out;
    }
    out.push_str(&finding_lines(warn, detail));
    out.push('\n');
    out
}

fn finding_lines(findings: &[&Finding], detail: Detail) -> String {
    let mut out = String::new();
    match detail {
        Detail::Full => {
            for f in findings {
                out.push_str("- ");
                out.push_str(&code(f.rule.as_str()));
                if let Some(address) = &f.address {
                    out.push_str(" · ");
                    out.push_str(&code(address));
                    if f.instances > 1 {
                        let _ = write!(out, " ×{}", f.instances);
                    }
                } else if let Some(location) = &f.location {
                    out.push_str(" · ");
                    out.push_str(&code(&location.to_string()));
                }
                if let Some(action) = f.action_label() {
                    let _ = write!(out, " ({})", text(action));
                }
                out.push_str(": ");
                out.push_str(&text(&clip(&f.message, MESSAGE_LIMIT)));
                out.push('\n');
            }
        }
        Detail::ByType | Detail::ByRule | Detail::Hidden => {
            // (rule, resource type, action) -> (findings, instances)
            let mut groups: BTreeMap<(String, String, String), (usize, usize)> = BTreeMap::new();
            for f in findings {
                let (kind, action) = if detail == Detail::ByType {
                    (
                        f.address.as_deref().map(resource_type).unwrap_or_default(),
                        f.action_label().unwrap_or_default().to_string(),
                    )
                } else {
                    (String::new(), String::new())
                };
                let entry = groups
                    .entry((f.rule.as_str().to_string(), kind, action))
                    .or_default();
                entry.0 += 1;
                entry.1 += f.instances.max(1);
            }
            for ((rule, kind, action), (n, resources)) in groups {
                out.push_str("- ");
                out.push_str(&code(&rule));
                if !kind.is_empty() {
                    out.push_str(" · ");
                    out.push_str(&code(&kind));
                }
                if !action.is_empty() {
                    let _ = write!(out, " ({})", text(&action));
                }
                let _ = writeln!(
                    out,
                    ": {n} {} on {resources} {}",
                    plural(n, "finding", "findings"),
                    plural(resources, "resource", "resources")
                );
            }
        }
    }
    out
}

/// The resource type of an address: `module.a.aws_instance.web[0]` -> `aws_instance`.
fn resource_type(address: &str) -> String {
    let pattern = address_pattern(address);
    let parts: Vec<&str> = pattern.split('.').collect();
    match parts.as_slice() {
        [.., "data", kind, _] => format!("data.{kind}"),
        [.., kind, _] => (*kind).to_string(),
        _ => pattern.clone(),
    }
}

/// One line per affected resource instance, worst level first.
fn detail_lines(findings: &[&Finding]) -> Vec<String> {
    let mut lines = Vec::new();
    for f in findings {
        let addresses: Vec<&String> = if f.addresses.is_empty() {
            f.address.iter().collect()
        } else {
            f.addresses.iter().collect()
        };
        for address in addresses {
            let action = f
                .action_label()
                .map(|a| format!(" {}", text(a)))
                .unwrap_or_default();
            lines.push(format!(
                "- {}{action} · {} {}\n",
                code(address),
                f.level.as_str(),
                code(f.rule.as_str())
            ));
        }
    }
    lines
}

fn details_section(lines: &[String], room: usize) -> (String, usize) {
    if lines.is_empty() {
        return (String::new(), 0);
    }
    let mut body = String::new();
    let mut shown = 0;
    for line in lines {
        if body.len() + line.len() > room {
            break;
        }
        body.push_str(line);
        shown += 1;
    }
    if shown == 0 {
        return (String::new(), 0);
    }
    let summary = if shown < lines.len() {
        format!("Affected resources ({shown} of {} shown)", lines.len())
    } else {
        format!("Affected resources ({})", lines.len())
    };
    (
        format!("<details><summary>{summary}</summary>\n\n{body}\n</details>\n"),
        shown,
    )
}

fn cut_note(deny: Detail, warn: Detail, shown: usize, total: usize) -> String {
    let mut cuts = Vec::new();
    if shown < total {
        cuts.push(format!(
            "the resource list shows {shown} of {total} entries"
        ));
    }
    match warn {
        Detail::Full => {}
        Detail::ByType => cuts.push("warnings are summarised by resource type".into()),
        Detail::ByRule => cuts.push("warnings are summarised by rule".into()),
        Detail::Hidden => cuts.push("warnings are not listed".into()),
    }
    match deny {
        Detail::Full | Detail::Hidden => {}
        Detail::ByType => {
            cuts.push("blocking findings are grouped by resource type, with counts".into())
        }
        Detail::ByRule => cuts.push("blocking findings are grouped by rule, with counts".into()),
    }
    format!(
        "> **Shortened to fit the comment size limit:** {}. Every blocking finding is counted above; the job log has the full report.\n\n",
        cuts.join("; ")
    )
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut out = s.to_string();
    truncate(&mut out, max);
    out.push('…');
    out
}

/// Cut at a character boundary at or below `max` bytes.
fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

/// Free text made inert: Markdown and HTML characters escaped, and a zero-width joiner after `@`
/// and `#` so that names never mention people or link issues.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '@' | '#' => {
                out.push(c);
                out.push('\u{200D}');
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A code span that holds any text: the fence is longer than any backtick run inside, and
/// `@`/`#` get a zero-width joiner so no renderer turns them into mentions or references.
pub fn code(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !c.is_control())
        .flat_map(|c| {
            let zwj = (c == '@' || c == '#').then_some('\u{200D}');
            std::iter::once(c).chain(zwj)
        })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in clean.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || clean.starts_with(' ') || clean.ends_with(' ') {
        format!("{fence} {clean} {fence}")
    } else {
        format!("{fence}{clean}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_cannot_be_closed_early() {
        let m = marker("app-->prod <x>", "abc");
        assert!(!m["<!--".len()..m.len() - 3].contains("-->"));
        assert_eq!(
            parse_marker(&format!("{m}\nbody")),
            Some(Marker {
                project: "app-->prod <x>".into(),
                plan_sha256: "abc".into()
            })
        );
        assert_eq!(parse_marker(&format!("> {m}")), None);
        assert_eq!(parse_marker("<!-- plangate:v1 not json -->"), None);
    }

    #[test]
    fn text_is_inert() {
        assert_eq!(
            text("@octocat #12 <b>"),
            "@\u{200D}octocat #\u{200D}12 &lt;b&gt;"
        );
        assert_eq!(text("a_b*c"), "a\\_b\\*c");
    }

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(code("aws_instance.web"), "`aws_instance.web`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("x@y"), "`x@\u{200D}y`");
    }

    #[test]
    fn resource_types_come_from_addresses() {
        assert_eq!(
            resource_type("module.a[\"x.y\"].aws_instance.web[0]"),
            "aws_instance"
        );
        assert_eq!(resource_type("data.aws_ami.ubuntu"), "data.aws_ami");
        assert_eq!(resource_type("aws_s3_bucket.logs"), "aws_s3_bucket");
    }
}
