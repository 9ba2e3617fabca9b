//! The `atlantis` format: plain text for an Atlantis run step, whose output lands inside a
//! ```` ```diff ```` block of the pull-request comment. Blocking lines start with `-` (red),
//! passing lines with `+` (green), everything else with two spaces. No Markdown (it does not
//! render there), no line Atlantis could take for Terraform's own `Plan:` summary, and few enough
//! lines that Atlantis does not fold the output away.

use std::fmt::Write;

use crate::model::finding::Finding;
use crate::model::level::Level;
use crate::report::{Counts, Report, Verdict};

/// Atlantis folds step output longer than this many lines into a collapsed section.
pub const MAX_LINES: usize = 12;
/// Longest line kept; the rest is cut with `...`.
const MAX_LINE_CHARS: usize = 300;

pub fn render(report: &Report) -> String {
    let mut head = Vec::new();
    let deny = report.count(Level::Deny);
    let warn = report.count(Level::Warn);
    head.push(line(
        verdict_prefix(report.verdict),
        &format!(
            "plangate {}: {deny} deny, {warn} warn",
            verdict_word(report.verdict)
        ),
    ));
    let mut notes = Vec::new();
    for p in &report.projects {
        let env = p.environment.as_deref().unwrap_or("unknown environment");
        head.push(line(
            verdict_prefix(p.verdict),
            &format!(
                "{} ({env}) {}: {}",
                p.name,
                p.verdict.as_str(),
                counts(&p.counts)
            ),
        ));
        if !p.complete {
            notes.push(line(
                "  ",
                &format!(
                    "{}: incomplete plan, only the changes shown were checked",
                    p.name
                ),
            ));
        }
        for a in &p.destroy_actions {
            notes.push(line(
                "  ",
                &format!(
                    "{}: destroying {} runs {} ({})",
                    p.name, a.resource, a.action, a.event
                ),
            ));
        }
        if p.drift > 0 {
            notes.push(line(
                "  ",
                &format!(
                    "{}: {} changes made outside Terraform (drift), not counted as planned",
                    p.name, p.drift
                ),
            ));
        }
    }

    // Findings get what the head and notes leave, and never fewer than three lines.
    let fixed = head.len() + notes.len();
    let mut budget = MAX_LINES.saturating_sub(fixed).max(3);
    if report.findings.len() > budget {
        budget -= 1; // room for the "more" line
    }
    let shown = &report.findings[..report.findings.len().min(budget)];
    let hidden = &report.findings[shown.len()..];

    let mut out = String::new();
    for l in head {
        out.push_str(&l);
    }
    for f in shown {
        out.push_str(&finding_line(f));
    }
    if !hidden.is_empty() {
        let hidden_deny = hidden.iter().filter(|f| f.level == Level::Deny).count();
        let hidden_warn = hidden.len() - hidden_deny;
        let prefix = if hidden_deny > 0 { "- " } else { "  " };
        out.push_str(&line(
            prefix,
            &format!(
                "... and {} more findings ({hidden_deny} deny, {hidden_warn} warn): run plangate check --format text to see them all",
                hidden.len()
            ),
        ));
    }
    for l in notes {
        out.push_str(&l);
    }
    out
}

fn finding_line(f: &Finding) -> String {
    let (prefix, level) = match f.level {
        Level::Deny => ("- ", "deny"),
        Level::Warn => ("  ", "warn"),
        Level::Allow => ("  ", "allow"),
    };
    let where_ = match (&f.location, f.address.is_none()) {
        (Some(loc), true) => format!(" {loc}"),
        _ => String::new(),
    };
    line(
        prefix,
        &format!("{level} {}{where_}: {}", f.rule, f.message),
    )
}

/// One output line: the prefix, then the text made safe for a ```` ```diff ```` block.
fn line(prefix: &str, text: &str) -> String {
    let mut clean: String = text
        .chars()
        .map(|c| match c {
            // A backtick fence would end the diff block and let plan values write Markdown.
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if clean.chars().count() > MAX_LINE_CHARS {
        clean = clean.chars().take(MAX_LINE_CHARS - 3).collect::<String>() + "...";
    }
    let mut out = String::with_capacity(prefix.len() + clean.len() + 1);
    let _ = writeln!(out, "{prefix}{}", clean.trim_end());
    out
}

fn verdict_prefix(v: Verdict) -> &'static str {
    match v {
        Verdict::Block => "- ",
        Verdict::Pass | Verdict::Warn => "+ ",
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Warn => "PASS with warnings",
        Verdict::Block => "BLOCK",
    }
}

fn counts(c: &Counts) -> String {
    let mut parts = vec![
        format!("{} to create", c.create),
        format!("{} to update", c.update),
        format!("{} to replace", c.replace),
        format!("{} to delete", c.delete),
    ];
    for (n, label) in [
        (c.replace_keep, "to replace keeping the old"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn report(findings: Vec<Finding>) -> Report {
        Report::lint(&crate::pipeline::builtin_policy(), findings)
    }

    #[test]
    fn blocked_lines_are_red_and_warnings_neutral() {
        let out = render(&report(vec![
            Finding::new("cross-env-destroy", "would delete x"),
            Finding::new("untagged-destroy", "no tag").at_most(Level::Warn),
        ]));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "- plangate BLOCK: 1 deny, 1 warn");
        assert_eq!(lines[1], "- deny cross-env-destroy: would delete x");
        assert_eq!(lines[2], "  warn untagged-destroy: no tag");
    }

    #[test]
    fn long_reports_are_capped_and_say_how_many_more() {
        let findings = (0..40)
            .map(|i| Finding::new("cross-env-destroy", format!("msg {i}")))
            .collect();
        let out = render(&report(findings));
        assert!(out.lines().count() <= MAX_LINES, "{out}");
        assert!(out.contains("more findings (30 deny, 0 warn)"), "{out}");
    }

    #[test]
    fn plan_values_cannot_escape_the_diff_block() {
        let out = render(&report(vec![Finding::new(
            "cross-env-destroy",
            "tagged ```\n# Plan: 1 to add\r\n<b>x</b>",
        )]));
        assert!(!out.contains('`'));
        assert!(out.lines().all(|l| !l.trim_start().starts_with("Plan:")));
        assert_eq!(out.lines().count(), 2);
    }
}
