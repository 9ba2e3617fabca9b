//! GitHub Actions workflow commands: `::error`/`::warning` annotations for deny/warn findings.

use std::fmt::Write;

use crate::model::finding::{Finding, Location};
use crate::model::level::Level;
use crate::report::Report;
use crate::text::{clip, visible};

/// Instance addresses listed in one annotation; the job summary has them all.
const MAX_ADDRESSES: usize = 50;

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
    for notice in super::approvals::notices(report) {
        let _ = writeln!(
            out,
            "::notice title=plangate approval::{}",
            escape_data(&notice)
        );
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
        let _ = write!(title, " ({})", visible(project));
    }
    let mut properties = Vec::new();
    if let Some((path, Some(line))) = f.location.as_ref().and_then(Location::file) {
        properties.push(format!(
            "file={}",
            escape_property(&path.display().to_string())
        ));
        properties.push(format!("line={line}"));
    }
    properties.push(format!("title={}", escape_property(&title)));
    // Names are shown with their control characters escaped: a for_each key holding a newline
    // or an escape sequence cannot start a workflow command of its own or repaint the log.
    let mut message = clip(&visible(&f.message), 1_000);
    if let (Some(next), Level::Deny) = (&f.next, f.level) {
        let _ = write!(message, "\nNext: {next}");
    }
    if f.addresses.len() > 1 {
        for address in f.addresses.iter().take(MAX_ADDRESSES) {
            let _ = write!(message, "\n{}", clip(&visible(address), 300));
        }
        if f.addresses.len() > MAX_ADDRESSES {
            let _ = write!(
                message,
                "\n... and {} more",
                f.addresses.len() - MAX_ADDRESSES
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let report = Report::lint(&crate::pipeline::builtin_policy(), findings);
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
            &crate::pipeline::builtin_policy(),
            vec![Finding::new("shared-state", "two projects, one state")
                .location(Location::file_line("atlantis.yaml", 7))],
        );
        assert_eq!(
            annotations(&report),
            "::error file=atlantis.yaml,line=7,title=plangate shared-state::two projects, one state\n"
        );
    }
}
