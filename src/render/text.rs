//! The terminal report: a verdict line per project, then each finding as a short block (its
//! level, rule and resource on one line, the message and what to do next wrapped beneath), then
//! a closing verdict line. Lines are wrapped at words to the width given (the terminal's, or a
//! fixed one when the output is not a terminal); colour codes never count as width. Rule ids
//! and names are never split. A report with very many findings shows the first ones and says
//! how many more there are.

use std::fmt::Write;

use anstyle::AnsiColor;

use crate::model::finding::Finding;
use crate::model::level::Level;
use crate::report::{Counts, Report, Verdict};
use crate::text::{clip, visible};

/// Longest text of one finding's message: wrapping costs grow with it.
const MAX_CELL_CHARS: usize = 600;
/// Findings shown in full; the rest are counted. (Every one is in `--format json`.)
pub const MAX_FINDINGS: usize = 200;
/// Indentation of a finding's message under its first line.
const INDENT: &str = "      ";

pub fn render(report: &Report, color: bool, width: usize) -> String {
    let width = width.max(40);
    let mut out = String::new();
    for project in &report.projects {
        let approved = report.is_approved(Some(&project.name));
        out.push_str(&project_lines(project, approved, color, width));
    }
    if !report.findings.is_empty() {
        if !report.projects.is_empty() {
            out.push('\n');
        }
        let one_project = report.projects.len() == 1;
        let mut said: Vec<&str> = Vec::new();
        for f in report.findings.iter().take(MAX_FINDINGS) {
            // What to do next is said once for each way out, at its first finding.
            let next = f
                .next
                .as_deref()
                .filter(|n| f.level == Level::Deny && !said.contains(n));
            if let Some(next) = next {
                said.push(next);
            }
            out.push_str(&finding_block(f, next, color, width, one_project));
        }
        if report.findings.len() > MAX_FINDINGS {
            let hidden = &report.findings[MAX_FINDINGS..];
            let deny = hidden.iter().filter(|f| f.level == Level::Deny).count();
            let _ = writeln!(
                out,
                "... and {} more findings ({deny} deny, {} warn): `--format json` lists them all",
                hidden.len(),
                hidden.len() - deny
            );
        }
    }
    let deny = report.count(Level::Deny);
    let warn = report.count(Level::Warn);
    if report.findings.is_empty() {
        out.push('\n');
    }
    let approvals = super::approvals::plain_lines(report);
    for line in &approvals {
        out.push_str(&wrap(line, width, INDENT));
    }
    if !approvals.is_empty() {
        out.push('\n');
    }
    let approved = match report.approval.approved_findings.len() {
        0 => String::new(),
        n => format!(", {n} approved"),
    };
    let _ = writeln!(
        out,
        "plangate: {}{} ({deny} deny, {warn} warn{approved})",
        verdict_word(report.verdict, color),
        approved_suffix(report.is_approved(None) && report.verdict != Verdict::Block)
    );
    out
}

fn approved_suffix(approved: bool) -> &'static str {
    if approved {
        " (approved)"
    } else {
        ""
    }
}

fn project_lines(
    project: &crate::report::ProjectReport,
    approved: bool,
    color: bool,
    width: usize,
) -> String {
    let env = project
        .environment
        .as_deref()
        .unwrap_or("unknown environment");
    let mut out = format!(
        "{}{} {}\n",
        verdict_word(project.verdict, color),
        approved_suffix(approved && project.verdict != Verdict::Block),
        wrap(
            &format!(
                "{} ({env}): {}",
                visible(&project.name),
                counts_line(&project.counts)
            ),
            width.saturating_sub(6),
            INDENT
        )
        .trim_end()
    );
    let mut notes = Vec::new();
    if !project.complete {
        notes.push("incomplete plan; only the changes shown were checked".to_string());
    }
    if project.drift > 0 {
        notes.push(format!(
            "{} changes made outside Terraform (drift) were not counted as planned",
            project.drift
        ));
    }
    for a in &project.destroy_actions {
        notes.push(format!(
            "destroying {} runs {} ({})",
            visible(&a.resource),
            visible(&a.action),
            a.event
        ));
    }
    notes.extend(project.notes.iter().map(|n| visible(n)));
    for note in notes {
        out.push_str(&wrap(&format!("  note: {note}"), width, INDENT));
    }
    out
}

/// `deny  cross-env-destroy  aws_eks_cluster.cluster (delete)`, then the message and, for a
/// blocking finding, what to do next, wrapped and indented.
fn finding_block(
    f: &Finding,
    next: Option<&str>,
    color: bool,
    width: usize,
    one_project: bool,
) -> String {
    let mut head = f.rule.as_str().to_string();
    match (&f.address, &f.location) {
        (Some(a), _) => {
            let _ = write!(head, "  {}", clip(&visible(a), MAX_CELL_CHARS));
        }
        (None, Some(l)) => {
            let _ = write!(head, "  {}", visible(&l.to_string()));
        }
        (None, None) => {}
    }
    if let Some(action) = f.action_label() {
        let _ = write!(head, " ({action})");
    }
    if let (Some(project), false) = (&f.project, one_project) {
        let _ = write!(head, " in {}", visible(project));
    }
    let mut out = String::new();
    // The level word is padded to one width; its colour is added after wrapping.
    let first = wrap(&format!("{} {head}", f.level.as_str()), width, INDENT);
    let level = f.level.as_str();
    out.push_str(&first.replacen(level, &level_word(f.level, color), 1));
    out.push_str(&wrap(
        &format!("{INDENT}{}", clip(&visible(&f.message), MAX_CELL_CHARS)),
        width,
        INDENT,
    ));
    out.push_str(&blast_radius(f, width));
    if let Some(next) = next {
        out.push_str(&wrap(&format!("{INDENT}→ {next}"), width, INDENT));
    }
    out.push('\n');
    out
}

/// Dependents shown under one finding; `--format json` lists them all.
const MAX_DEPENDENTS: usize = 12;
/// Indentation of the dependents under a finding's "Blast radius" line.
const DEPENDENT_INDENT: &str = "          ";

/// The finding's dependents: one line each, `project  address (how it was found)`.
fn blast_radius(f: &Finding, width: usize) -> String {
    if f.dependents.is_empty() {
        return String::new();
    }
    let n = f.dependents.len();
    let mut out = format!("{INDENT}Blast radius:\n");
    for d in f.dependents.iter().take(MAX_DEPENDENTS) {
        let how = match &d.identity {
            Some(attribute) => format!("{}: {}", d.via.as_str(), visible(attribute)),
            None => d.via.as_str().to_string(),
        };
        let line = format!(
            "{INDENT}  {} {} ({how})",
            clip(&visible(&d.project), MAX_CELL_CHARS),
            clip(&visible(&d.address), MAX_CELL_CHARS)
        );
        out.push_str(&wrap(&line, width, DEPENDENT_INDENT));
    }
    if n > MAX_DEPENDENTS {
        let _ = writeln!(
            out,
            "{INDENT}  ... and {} more (`--format json` lists them all)",
            n - MAX_DEPENDENTS
        );
    }
    out
}

/// `text` wrapped at spaces into lines of at most `width` characters (a word longer than that
/// gets a line of its own), continuation lines indented by `indent`; each line ends in `\n`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let leading: String = text.chars().take_while(|c| *c == ' ').collect();
    let mut out = String::new();
    let mut line = leading.clone();
    let mut line_len = leading.chars().count();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if !empty && line_len + 1 + len > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            line_len = indent.chars().count();
            empty = true;
        }
        if !empty {
            line.push(' ');
            line_len += 1;
        }
        line.push_str(word);
        line_len += len;
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

fn counts_line(c: &Counts) -> String {
    let parts: Vec<String> = [
        (c.delete, "delete"),
        (c.replace, "replace"),
        (c.replace_keep, "replace-keep"),
        (c.update, "update"),
        (c.create, "create"),
        (c.forget, "forget"),
        (c.moved, "move"),
        (c.import, "import"),
        (c.read, "read"),
        (c.ephemeral, "ephemeral"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, label)| format!("{n} {label}"))
    .collect();
    if parts.is_empty() {
        "no changes".into()
    } else {
        parts.join(", ")
    }
}

fn paint(text: &str, ink: AnsiColor, bold: bool, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let mut ansi = anstyle::Style::new().fg_color(Some(ink.into()));
    if bold {
        ansi = ansi.bold();
    }
    format!("{}{text}{}", ansi.render(), ansi.render_reset())
}

fn verdict_word(v: Verdict, color: bool) -> String {
    match v {
        Verdict::Pass => paint("PASS", AnsiColor::Green, true, color),
        Verdict::Warn => paint("WARN", AnsiColor::Yellow, true, color),
        Verdict::Block => paint("BLOCK", AnsiColor::Red, true, color),
    }
}

fn level_word(l: Level, color: bool) -> String {
    match l {
        Level::Deny => paint("deny", AnsiColor::Red, false, color),
        Level::Warn => paint("warn", AnsiColor::Yellow, false, color),
        Level::Info => paint("info", AnsiColor::Blue, false, color),
        Level::Allow => "allow".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn report() -> Report {
        let findings = vec![
            Finding::new(
                "cross-env-destroy",
                "project rosey-staging (staging) would delete aws_eks_node_group.nodes[*], which belongs to development (tag env=dev; 3 instances)",
            )
            .project_name("rosey-staging")
            .address("aws_eks_node_group.nodes[*]"),
            Finding::new("untagged-destroy", "no tag").at_most(Level::Warn),
        ];
        let mut r = Report::lint(&crate::pipeline::builtin_policy(), findings);
        r.findings[0].next = Some("declared intent does not excuse this".into());
        r.findings[0].dependents = (0..MAX_DEPENDENTS + 2)
            .map(|i| crate::model::dependents::Dependent {
                project: "redis-shared".into(),
                address: format!("aws_vpc_peering_connection_accepter.dev_{i}"),
                via: crate::model::dependents::Via::Identity,
                identity: Some("id".into()),
                environment: None,
            })
            .collect();
        r
    }

    #[test]
    fn the_blast_radius_is_listed_under_its_finding() {
        let out = render(&report(), false, 80);
        let blast = out.find("Blast radius:").expect("a blast radius part");
        assert!(blast > out.find("cross-env-destroy").unwrap());
        assert!(
            out.contains("redis-shared aws_vpc_peering_connection_accepter.dev_0 (identity: id)"),
            "{out}"
        );
        assert!(out.contains("... and 2 more"), "{out}");
    }

    #[test]
    fn lines_fit_the_width_and_no_word_is_split() {
        for width in [60, 80, 120] {
            for color in [false, true] {
                let out = render(&report(), color, width);
                for line in strip(&out).lines() {
                    assert!(line.chars().count() <= width, "{width}: {line:?}");
                }
                let plain = strip(&out);
                assert!(
                    plain.contains("cross-env-destroy"),
                    "rule ids are whole: {plain}"
                );
                assert!(
                    plain.contains("aws_eks_node_group.nodes[*]"),
                    "names are whole"
                );
                assert!(plain.contains("→ declared intent does not excuse this"));
            }
        }
    }

    #[test]
    fn colour_never_counts_as_width() {
        let plain = render(&report(), false, 80);
        let coloured = strip(&render(&report(), true, 80));
        assert_eq!(plain, coloured);
    }

    #[test]
    fn many_findings_say_how_many_more() {
        let findings = (0..MAX_FINDINGS + 50)
            .map(|i| Finding::new("cross-env-destroy", format!("msg {i}")))
            .collect();
        let r = Report::lint(&crate::pipeline::builtin_policy(), findings);
        let out = render(&r, false, 80);
        assert!(
            out.contains("... and 50 more findings (50 deny, 0 warn)"),
            "{out}"
        );
    }

    #[test]
    fn wrap_keeps_words_whole() {
        let out = wrap("aaa bbb ccc ddd", 8, "  ");
        assert_eq!(out, "aaa bbb\n  ccc\n  ddd\n");
        assert_eq!(
            wrap("averyveryverylongword x", 5, " "),
            "averyveryverylongword\n x\n"
        );
    }
}
