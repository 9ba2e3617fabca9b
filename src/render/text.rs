//! The terminal report: a verdict per project, a table of findings, a closing verdict line.

use std::fmt::Write;

use anstyle::AnsiColor;
use comfy_table::{presets, Cell, ContentArrangement, Table};

use crate::model::finding::Finding;
use crate::model::level::Level;
use crate::report::{Counts, Report, Verdict};

pub fn render(report: &Report, color: bool) -> String {
    let mut out = String::new();
    for project in &report.projects {
        let env = project
            .environment
            .as_deref()
            .unwrap_or("unknown environment");
        let _ = writeln!(
            out,
            "{} {} ({env}) {}",
            verdict_word(project.verdict, color),
            project.name,
            counts_line(&project.counts)
        );
        if !project.complete {
            let _ = writeln!(
                out,
                "  note: incomplete plan; only the changes shown were checked"
            );
        }
        if project.drift > 0 {
            let _ = writeln!(
                out,
                "  note: {} changes made outside Terraform (drift) were not counted as planned",
                project.drift
            );
        }
        for a in &project.destroy_actions {
            let _ = writeln!(
                out,
                "  note: destroying {} runs {} ({})",
                a.resource, a.action, a.event
            );
        }
    }
    if !report.findings.is_empty() {
        if !report.projects.is_empty() {
            out.push('\n');
        }
        out.push_str(&findings_table(&report.findings, color));
        out.push('\n');
    }
    let deny = report.count(Level::Deny);
    let warn = report.count(Level::Warn);
    let _ = writeln!(
        out,
        "\nplangate: {} ({deny} deny, {warn} warn)",
        verdict_word(report.verdict, color)
    );
    out
}

fn findings_table(findings: &[Finding], color: bool) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["level", "rule", "project", "resource", "message"]);
    if !color {
        // Not a terminal: a fixed width keeps logs readable and output deterministic.
        table.set_width(160);
    }
    for f in findings {
        let resource = match (&f.address, &f.location) {
            (Some(a), _) => a.clone(),
            (None, Some(l)) => l.to_string(),
            (None, None) => String::new(),
        };
        table.add_row(vec![
            Cell::new(level_word(f.level, color)),
            Cell::new(f.rule.as_str()),
            Cell::new(f.project.as_deref().unwrap_or("")),
            Cell::new(resource),
            Cell::new(&f.message),
        ]);
    }
    table.to_string()
}

fn counts_line(c: &Counts) -> String {
    let mut parts = vec![
        format!("{} create", c.create),
        format!("{} update", c.update),
        format!("{} replace", c.replace),
        format!("{} delete", c.delete),
    ];
    for (n, label) in [
        (c.replace_keep, "replace-keep"),
        (c.forget, "forget"),
        (c.moved, "move"),
        (c.import, "import"),
        (c.read, "read"),
        (c.ephemeral, "ephemeral"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    format!("[{}]", parts.join(", "))
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
        Level::Allow => "allow".to_string(),
    }
}
