//! GitHub Actions step outputs (`$GITHUB_OUTPUT`): the verdict for the workflow to branch on.

use crate::model::level::Level;
use crate::report::{Report, Verdict};

/// `name=value` lines for `$GITHUB_OUTPUT`.
pub fn outputs(report: &Report) -> String {
    format!(
        "verdict={}\nblocked={}\ndeny={}\nwarn={}\napproved={}\n",
        report.verdict.as_str(),
        report.verdict == Verdict::Block,
        report.count(Level::Deny),
        report.count(Level::Warn),
        report.verdict != Verdict::Block && report.is_approved(None),
    )
}
