//! The `atlantis` format: plain text for an Atlantis run step, whose output lands inside a
//! ```` ```diff ```` block of Atlantis's own comment. What Atlantis (v0.36) wraps around it, as
//! measured by the end-to-end test: a failing plan-stage step becomes a "Plan Error" whose
//! first line is Atlantis's `running "..."` line, and any output of more than 12 lines is folded
//! away behind "Show Output". So the verdict comes first, then the blocking findings, and the
//! whole output stays at [`MAX_LINES`] lines of at most [`MAX_LINE_CHARS`] characters, wrapped
//! at spaces (a word longer than a line gets a line of its own). Blocking lines start with `-`
//! (red), passing ones with `+` (green), the rest with two spaces; continuation lines keep the
//! prefix and are indented further. No Markdown (it does not render there), and no line
//! Atlantis could take for Terraform's own `Plan:` summary.

use crate::model::finding::Finding;
use crate::model::level::Level;
use crate::report::{Counts, ProjectReport, Report, Verdict};

/// Lines in all: Atlantis folds step output longer than 12 and adds a line of its own.
pub const MAX_LINES: usize = 10;
/// Longest line, wrapped beyond.
pub const MAX_LINE_CHARS: usize = 120;
/// A single word longer than this (a hostile for_each key) is shortened, saying by how much.
const MAX_WORD_CHARS: usize = 240;

pub fn render(report: &Report, note: Option<&str>) -> String {
    let mut head = head(report, note);
    head.extend(approval_lines(report));
    let mut tail = Vec::new();
    if let [p] = report.projects.as_slice() {
        tail.push(line("  ", &footer(p)));
    }
    let room = MAX_LINES.saturating_sub(head.len() + tail.len()).max(3);
    let (shown, hidden) = findings_within(&report.findings, room);
    head.extend(shown);
    if !hidden.is_empty() {
        let deny = hidden.iter().filter(|f| f.level == Level::Deny).count();
        let prefix = if deny > 0 { "- " } else { "  " };
        head.push(line(
            prefix,
            &format!(
                "... {} more findings ({deny} deny, {} warn): the pull-request comment and the JSON report list them all",
                hidden.len(),
                hidden.len() - deny
            ),
        ));
    }
    head.extend(tail);
    head.concat()
}

/// Approved findings and the audit of approvals, at most [`MAX_APPROVAL_LINES`] of them.
fn approval_lines(report: &Report) -> Vec<String> {
    let all = super::approvals::plain_lines(report);
    let mut out: Vec<String> = all
        .iter()
        .take(MAX_APPROVAL_LINES)
        .map(|l| line("  ", l))
        .collect();
    if all.len() > MAX_APPROVAL_LINES {
        out.push(line(
            "  ",
            &format!(
                "... {} more about approvals: the pull-request comment lists them all",
                all.len() - MAX_APPROVAL_LINES
            ),
        ));
    }
    out
}

/// Lines about approvals the `atlantis` format shows before the findings.
const MAX_APPROVAL_LINES: usize = 3;

/// The verdict (with the project when there is one), what the command did about it, and a
/// line per project when there are several.
fn head(report: &Report, note: Option<&str>) -> Vec<String> {
    let deny = report.count(Level::Deny);
    let warn = report.count(Level::Warn);
    let mut out = Vec::new();
    let first = match report.projects.as_slice() {
        [p] => format!(
            "plangate {}{} {} ({}): {deny} deny, {warn} warn",
            verdict_word(report.verdict),
            approved(report),
            p.name,
            p.environment.as_deref().unwrap_or("unknown environment")
        ),
        _ => format!(
            "plangate {}{}: {deny} deny, {warn} warn",
            verdict_word(report.verdict),
            approved(report)
        ),
    };
    let first = match note {
        Some(note) => format!("{first}; {note}"),
        None => first,
    };
    out.push(line(verdict_prefix(report.verdict), &first));
    if report.projects.len() > 1 {
        for p in &report.projects {
            let env = p.environment.as_deref().unwrap_or("unknown environment");
            out.push(line(
                verdict_prefix(p.verdict),
                &format!(
                    "{} ({env}) {}: {}",
                    p.name,
                    report.verdict_label(Some(&p.name)),
                    counts(&p.counts)
                ),
            ));
        }
    }
    for p in &report.projects {
        out.extend(notes(p));
    }
    out
}

fn notes(p: &ProjectReport) -> Vec<String> {
    let mut out = Vec::new();
    if !p.complete {
        out.push(line(
            "  ",
            &format!(
                "{}: incomplete plan, only the changes shown were checked",
                p.name
            ),
        ));
    }
    for a in &p.destroy_actions {
        out.push(line(
            "  ",
            &format!(
                "{}: destroying {} runs {} ({})",
                p.name, a.resource, a.action, a.event
            ),
        ));
    }
    if p.drift > 0 {
        out.push(line(
            "  ",
            &format!(
                "{}: {} changes made outside Terraform (drift), not counted as planned",
                p.name, p.drift
            ),
        ));
    }
    out
}

/// As many findings (worst first, as the report sorts them) as fit in `room` lines, keeping one
/// line for saying how many more there are.
fn findings_within(findings: &[Finding], room: usize) -> (Vec<String>, &[Finding]) {
    let mut shown = Vec::new();
    let mut used = 0;
    for (i, f) in findings.iter().enumerate() {
        let text = finding_line(f);
        let lines = text.lines().count();
        let more_after = i + 1 < findings.len();
        let needed = lines + usize::from(more_after);
        if used + needed > room && !shown.is_empty() || used + lines > room {
            return (shown, &findings[i..]);
        }
        used += lines;
        shown.push(text);
    }
    (shown, &[])
}

fn finding_line(f: &Finding) -> String {
    let (prefix, level) = match f.level {
        Level::Deny => ("- ", "deny"),
        Level::Warn => ("  ", "warn"),
        Level::Info => ("  ", "info"),
        Level::Allow => ("  ", "allow"),
    };
    let where_ = match (&f.location, f.address.is_none()) {
        (Some(loc), true) => format!(" {loc}"),
        _ => String::new(),
    };
    let next = match (&f.next, f.level) {
        (Some(next), Level::Deny) => format!("; next: {next}"),
        _ => String::new(),
    };
    line(
        prefix,
        &format!("{level} {}{where_}: {}{next}", f.rule, f.message),
    )
}

/// Counts that are not zero, and the plan's hash prefix (what an approval names).
fn footer(p: &ProjectReport) -> String {
    let short: String = p.plan_sha256.chars().take(8).collect();
    format!("{} · plan {short}", counts(&p.counts))
}

/// Text made safe for the diff block (control characters escaped visibly, never passed
/// through), wrapped at spaces into lines of at most [`MAX_LINE_CHARS`], each line ending in a
/// newline. Continuation lines keep the prefix and are indented by four more spaces.
fn line(prefix: &str, text: &str) -> String {
    let clean = crate::text::visible(text);
    let mut out = String::new();
    let mut current = String::new();
    let indent = "    ";
    for word in clean.split(' ').filter(|w| !w.is_empty()) {
        let word = crate::text::clip(word, MAX_WORD_CHARS);
        let lead = if out.is_empty() { "" } else { indent };
        let width = prefix.len() + lead.len() + current.chars().count();
        let extra = usize::from(!current.is_empty()) + word.chars().count();
        if !current.is_empty() && width + extra > MAX_LINE_CHARS {
            out.push_str(&format!("{prefix}{lead}{current}\n"));
            current.clear();
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    let lead = if out.is_empty() { "" } else { indent };
    out.push_str(&format!("{prefix}{lead}{current}\n"));
    out
}

/// ` (approved)` after the verdict when approvals let the plan pass.
fn approved(report: &Report) -> &'static str {
    if report.verdict != Verdict::Block && report.is_approved(None) {
        " (approved)"
    } else {
        ""
    }
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

/// `1 delete, 2 update`: the counts that are not zero (`no changes` when none is).
fn counts(c: &Counts) -> String {
    let parts: Vec<String> = [
        (c.create, "create"),
        (c.update, "update"),
        (c.replace, "replace"),
        (c.replace_keep, "replace keeping the old object"),
        (c.delete, "delete"),
        (c.forget, "forget"),
        (c.moved, "move"),
        (c.import, "import"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn report(findings: Vec<Finding>) -> Report {
        Report::lint(&crate::pipeline::builtin_policy(), findings)
    }

    #[test]
    fn blocked_lines_are_red_and_warnings_neutral() {
        let out = render(
            &report(vec![
                Finding::new("cross-env-destroy", "would delete x"),
                Finding::new("untagged-destroy", "no tag").at_most(Level::Warn),
            ]),
            None,
        );
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
        let out = render(&report(findings), None);
        assert!(out.lines().count() <= MAX_LINES, "{out}");
        assert!(
            out.contains("... 32 more findings (32 deny, 0 warn)"),
            "{out}"
        );
    }

    #[test]
    fn plan_values_cannot_escape_the_diff_block() {
        let out = render(
            &report(vec![Finding::new(
                "cross-env-destroy",
                "tagged ```\n# Plan: 1 to add\r\n<b>x</b>\u{1b}[2K",
            )]),
            None,
        );
        assert!(out.lines().all(|l| !l.trim_start().starts_with("Plan:")));
        assert!(out
            .lines()
            .all(|l| !l.starts_with("```") && !l.starts_with("  ```")));
        assert!(!out.contains('\r') && !out.contains('\u{1b}'), "{out:?}");
        assert!(
            out.contains("\\n# Plan: 1 to add\\r\\n"),
            "escaped visibly: {out}"
        );
        assert_eq!(out.lines().count(), 2);
    }

    #[test]
    fn lines_wrap_at_spaces_and_never_cut_a_word() {
        let message = (0..60)
            .map(|i| format!("word{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let out = line("- ", &message);
        for l in out.lines() {
            assert!(l.chars().count() <= MAX_LINE_CHARS, "{l}");
            assert!(l.starts_with("- "), "{l}");
        }
        let words: Vec<&str> = out.split_whitespace().filter(|w| *w != "-").collect();
        assert_eq!(words.join(" "), message, "every word kept whole, in order");
        let long = format!("short {} tail", "x".repeat(150));
        let out = line("  ", &long);
        assert_eq!(
            out.lines().count(),
            3,
            "the long word gets a line of its own: {out}"
        );
        let huge = "k".repeat(200_000);
        let out = line("  ", &huge);
        assert!(
            out.len() < 400 && out.contains("more characters"),
            "{}",
            out.len()
        );
    }

    #[test]
    fn a_note_says_what_happened_to_the_plan() {
        let out = render(
            &report(vec![Finding::new("cross-env-destroy", "x")]),
            Some("the plan was deleted, nothing can be applied"),
        );
        assert!(out.starts_with(
            "- plangate BLOCK: 1 deny, 0 warn; the plan was deleted, nothing can be applied\n"
        ));
    }
}
