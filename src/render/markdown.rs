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
/// A name (address, project) longer than this is clipped in the comment.
const MAX_CODE_CHARS: usize = 300;

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
    let findings = findings_of(report, project.map(|p| p.name.as_str()));
    let deny: Vec<&Finding> = of_level(&findings, Level::Deny);
    let warn: Vec<&Finding> = of_level(&findings, Level::Warn);
    let head = head(report, project, &deny, &warn);
    let approvals = super::approvals::markdown(report, project.map(|p| p.name.as_str()));
    let tail = format!("{approvals}{}", tail(report, project));
    match body(&findings, budget.saturating_sub(head.len() + tail.len())) {
        Some(body) => format!("{head}{body}{tail}"),
        // Even one line per rule does not fit (absurdly long names): keep the verdict line.
        None => {
            let mut out = head;
            truncate(&mut out, budget.saturating_sub(200));
            out.push_str("\n\n> **Shortened to fit the comment size limit.** Only the verdict is shown; the full report is in the job log.\n");
            out
        }
    }
}

/// The findings that belong to a project's part of a comment: its own, and those about
/// atlantis.yaml or the policy (they concern every project). All of them without a project.
pub(super) fn findings_of<'r>(report: &'r Report, project: Option<&str>) -> Vec<&'r Finding> {
    report
        .findings
        .iter()
        .filter(|f| match (project, &f.project) {
            (Some(p), Some(name)) => name == p,
            (_, None) | (None, Some(_)) => true,
        })
        .collect()
}

pub(super) fn of_level<'r>(findings: &[&'r Finding], level: Level) -> Vec<&'r Finding> {
    findings
        .iter()
        .copied()
        .filter(|f| f.level == level)
        .collect()
}

/// Deny findings by environment, then warnings, then the affected resources collapsed, in at
/// most `budget` bytes: details are cut first, then warnings summarised, then deny findings
/// grouped with counts (never dropped). `None` when not even that fits.
pub(super) fn body(findings: &[&Finding], budget: usize) -> Option<String> {
    let deny: Vec<&Finding> = of_level(findings, Level::Deny);
    let warn: Vec<&Finding> = of_level(findings, Level::Warn);
    let details = detail_lines(findings);
    let warn_details = [Detail::Full, Detail::ByType, Detail::ByRule, Detail::Hidden];
    let warn_blocks: Vec<String> = warn_details
        .iter()
        .map(|d| warn_section(&warn, *d))
        .collect();
    let blast = blast_section(findings);
    let info = of_level(findings, Level::Info);
    let info_block = if info.is_empty() {
        String::new()
    } else {
        format!(
            "#### For the record: {}\n\n{}\n",
            findings_on(info.len(), instances(&info)),
            finding_lines(&info, Detail::Full)
        )
    };
    for deny_detail in [Detail::Full, Detail::ByType, Detail::ByRule] {
        let deny_block = deny_section(&deny, deny_detail);
        // The blast radius goes with the blocking findings' full lines.
        let blast_block = if deny_detail == Detail::Full {
            blast.as_str()
        } else {
            ""
        };
        for (warn_detail, warn_block) in warn_details.iter().copied().zip(&warn_blocks) {
            let summarised = deny_detail != Detail::Full || warn_detail != Detail::Full;
            // Informational lines go with the warnings' full lines.
            let info_block = if warn_detail == Detail::Full {
                info_block.as_str()
            } else {
                ""
            };
            let fixed = deny_block.len() + warn_block.len() + blast_block.len() + info_block.len();
            // Room for the details' frame and the note on what was cut.
            let reserve = 900;
            if fixed + reserve > budget {
                continue;
            }
            let room = budget - fixed - reserve;
            let (details_block, shown) = details_section(&details, room, findings, summarised);
            let cut = summarised || shown < details.len();
            let mut out = String::with_capacity(budget.min(1 << 16));
            out.push_str(&deny_block);
            out.push_str(warn_block);
            out.push_str(info_block);
            out.push_str(blast_block);
            if cut {
                let blast_cut = blast_block.is_empty() && !blast.is_empty();
                out.push_str(&cut_note(
                    deny_detail,
                    warn_detail,
                    shown,
                    details.len(),
                    blast_cut,
                ));
            }
            out.push_str(&details_block);
            return Some(out);
        }
    }
    None
}

fn head(
    report: &Report,
    project: Option<&ProjectReport>,
    deny: &[&Finding],
    warn: &[&Finding],
) -> String {
    let mut out = String::new();
    let verdict = project.map_or(report.verdict, |p| p.verdict);
    let approved =
        verdict != Verdict::Block && report.is_approved(project.map(|p| p.name.as_str()));
    let word = match approved {
        true => format!("{} (approved)", verdict_word(verdict)),
        false => verdict_word(verdict).to_string(),
    };
    if let Some(p) = project {
        let _ = writeln!(out, "{}", marker(&p.name, &p.plan_sha256));
        let env = match &p.environment {
            Some(env) => format!("environment **{}**", text(env)),
            None => "environment **unknown**".to_string(),
        };
        let _ = writeln!(
            out,
            "### {} · project {} · {env} · {} · {}",
            word,
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
    } else {
        let _ = writeln!(
            out,
            "### {} · plangate · {}\n",
            word,
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

/// `3 findings on 2 resources`, or `1 finding` when they name no resource.
pub(super) fn findings_on(findings: usize, resources: usize) -> String {
    let head = format!("{findings} {}", plural(findings, "finding", "findings"));
    match resources {
        0 => head,
        n => format!("{head} on {n} {}", plural(n, "resource", "resources")),
    }
}

/// How many distinct resource instances findings name (a project-wide finding names none).
pub(super) fn instances(findings: &[&Finding]) -> usize {
    let mut addresses: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for f in findings {
        if f.addresses.is_empty() {
            addresses.extend(f.address.as_deref());
        } else {
            addresses.extend(f.addresses.iter().map(String::as_str));
        }
    }
    addresses.len()
}

fn environment_key(f: &Finding) -> String {
    match (&f.resource_environment, &f.address) {
        (Some(env), _) => format!("Resources in **{}**", text(env)),
        (None, Some(_)) => "Resources with no environment signal".to_string(),
        (None, None) => "Project-wide".to_string(),
    }
}

fn deny_section(deny: &[&Finding], detail: Detail) -> String {
    if deny.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "#### Blocking: {}\n",
        findings_on(deny.len(), instances(deny))
    );
    let mut by_env: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in deny {
        by_env.entry(environment_key(f)).or_default().push(f);
    }
    for (env, group) in by_env {
        let _ = writeln!(out, "\n{env}\n");
        out.push_str(&finding_lines(&group, detail));
    }
    // What to do next, once for each way out the blocking findings have.
    let mut nexts: Vec<&str> = Vec::new();
    for f in deny {
        if let Some(next) = f.next.as_deref().filter(|n| !nexts.contains(n)) {
            nexts.push(next);
        }
    }
    if !nexts.is_empty() {
        out.push('\n');
    }
    for next in nexts {
        let _ = writeln!(out, "> **Next:** {}", inline(next));
    }
    out.push('\n');
    out
}

fn warn_section(warn: &[&Finding], detail: Detail) -> String {
    if warn.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "#### Warnings: {}\n\n",
        findings_on(warn.len(), instances(warn))
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

/// Dependents listed under one finding in the comment; the JSON report lists them all.
const MAX_DEPENDENTS: usize = 20;

/// "Blast radius": for each finding with dependents, what still depends on its resource, one
/// line per dependent with its project and how it was found.
fn blast_section(findings: &[&Finding]) -> String {
    let with: Vec<&&Finding> = findings
        .iter()
        .filter(|f| !f.dependents.is_empty())
        .collect();
    if with.is_empty() {
        return String::new();
    }
    let mut out = String::from("#### Blast radius\n\n");
    for f in with {
        let n = f.dependents.len();
        let _ = writeln!(
            out,
            "- {}{}: {n} {} on it",
            code(f.address.as_deref().unwrap_or_default()),
            f.action_label()
                .map(|a| format!(" ({})", text(a)))
                .unwrap_or_default(),
            plural(n, "resource still depends", "resources still depend")
        );
        for d in f.dependents.iter().take(MAX_DEPENDENTS) {
            let how = match &d.identity {
                Some(attribute) => format!("{}: {}", text(d.via.as_str()), code(attribute)),
                None => text(d.via.as_str()),
            };
            let _ = writeln!(
                out,
                "  - {} · {} · {how}",
                code(&d.project),
                code(&d.address)
            );
        }
        if n > MAX_DEPENDENTS {
            let _ = writeln!(
                out,
                "  - and {} more (the job log lists them all)",
                n - MAX_DEPENDENTS
            );
        }
    }
    out.push('\n');
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

/// One line per affected resource instance (with every rule that names it), worst first.
fn detail_lines(findings: &[&Finding]) -> Vec<String> {
    let mut by_address: BTreeMap<&str, (Level, Option<&'static str>, Vec<&str>)> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for f in findings {
        let addresses: Vec<&String> = if f.addresses.is_empty() {
            f.address.iter().collect()
        } else {
            f.addresses.iter().collect()
        };
        for address in addresses {
            let entry = by_address.entry(address).or_insert_with(|| {
                order.push(address);
                (f.level, f.action_label(), Vec::new())
            });
            entry.0 = entry.0.max(f.level);
            if !entry.2.contains(&f.rule.as_str()) {
                entry.2.push(f.rule.as_str());
            }
        }
    }
    order
        .iter()
        .map(|address| {
            let (level, action, rules) = &by_address[address];
            let action = action.map(|a| format!(" {}", text(a))).unwrap_or_default();
            let rules: Vec<String> = rules.iter().map(|r| code(r)).collect();
            format!(
                "- {}{action} · {} {}\n",
                code(address),
                level.as_str(),
                rules.join(", ")
            )
        })
        .collect()
}

/// The affected resources, collapsed; left out when they would only repeat the findings
/// (each finding names one resource, and there are no more resources than findings).
fn details_section(
    lines: &[String],
    room: usize,
    findings: &[&Finding],
    summarised: bool,
) -> (String, usize) {
    let adds_nothing =
        !summarised && findings.iter().all(|f| f.instances <= 1) && lines.len() <= findings.len();
    if lines.is_empty() || adds_nothing {
        return (String::new(), lines.len());
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

fn cut_note(deny: Detail, warn: Detail, shown: usize, total: usize, blast_cut: bool) -> String {
    let mut cuts = Vec::new();
    if blast_cut {
        cuts.push("the blast radius is not listed".to_string());
    }
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

/// Free text made inert without altering it: Markdown and HTML characters escaped, and words
/// with `@` or `#` in code spans, so that names never mention people or link issues.
pub fn text(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    // Control characters are shown as escapes (`\u{1b}`), never passed through or dropped.
    let shown = crate::text::visible(&spaced);
    let mut out = String::with_capacity(shown.len() + 8);
    for (i, word) in shown.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        // A word that could mention someone or link an issue (`@team`, `#12`, `org/repo#3`)
        // goes in a code span, where neither happens; it is shown exactly as it is. Closing
        // punctuation stays outside.
        let (word, after) = if word.contains(['@', '#']) {
            let core = word.trim_end_matches([',', '.', ';', ':', '!', '?', ')']);
            out.push_str(&code(core));
            ("", &word[core.len()..])
        } else {
            (word, "")
        };
        for c in word.chars().chain(after.chars()) {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }
    out
}

/// Our own text that marks names with backticks (`plangate:destroy:app`): each marked part a
/// code span, the rest [`text`]. Unbalanced backticks make it all text.
pub fn inline(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return text(s);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| match i % 2 {
            1 => code(part),
            _ => text(part),
        })
        .collect()
}

/// A code span that holds any text exactly: the fence is longer than any backtick run inside.
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
        .collect::<String>();
    // GitHub and GitLab link no mention or reference inside a code span: the name stays as
    // it is.
    let clean: String = crate::text::clip(&crate::text::visible(&clean), MAX_CODE_CHARS);
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
        // Words that could mention or link go in code spans; nothing invisible is inserted.
        assert_eq!(text("@octocat #12 <b>"), "`@octocat` `#12` &lt;b&gt;");
        assert!(!text("org/repo#3 @team").contains('\u{200D}'));
        assert_eq!(text("a_b*c"), "a\\_b\\*c");
    }

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(code("aws_instance.web"), "`aws_instance.web`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(
            code("x@y"),
            "`x@y`",
            "a code span mentions nobody: the name stays whole"
        );
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
