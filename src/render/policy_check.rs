//! What `--mode policy-check` prints for Atlantis's custom policy check, which reads the
//! verdict from the step's output rather than its exit code.
//!
//! Atlantis (v0.39 and later, `server/events/project_command_runner.go`) fails a custom policy
//! check whose output is empty, starts with `FAIL`, or matches `[1-9][0-9]* failure` or
//! `failures": [`. So a blocked plan's output starts with `FAIL` and states `N failures`, and a
//! passing one is never empty and never matches. Names are never altered to get there: when a
//! passing report's own text would match (a resource named `db-1 failure`), its findings are
//! left out of this output and only the counts are printed.

use crate::model::level::Level;
use crate::report::{Report, Verdict};
use crate::text::one_line;
use crate::Error;

pub fn policy_check_output(outcome: std::result::Result<&Report, &Error>, body: &str) -> String {
    match outcome {
        Ok(report) if report.verdict == Verdict::Block => {
            let n = report.count(Level::Deny);
            // Always `N failures`, even for one: Atlantis and scripts match these words.
            format!("FAIL plangate blocked this plan: {n} failures\n{body}")
        }
        Ok(report) => passing(report, body),
        Err(e) => format!(
            "FAIL plangate could not evaluate this plan: 1 failures\n- {}\n",
            one_line(&e.to_string())
        ),
    }
}

fn passing(report: &Report, body: &str) -> String {
    if !body.trim().is_empty() && !reads_as_blocked(body) {
        return body.to_string();
    }
    let counts = format!(
        "plangate {}: {} deny, {} warn",
        report.verdict.as_str(),
        report.count(Level::Deny),
        report.count(Level::Warn)
    );
    if body.trim().is_empty() {
        format!("{counts}\n")
    } else {
        format!(
            "{counts}. The findings are left out here because a name in them would read as a \
             blocked check to Atlantis; the pull-request comment and the JSON report list them.\n"
        )
    }
}

/// Whether Atlantis would read this output as a failed policy check.
pub fn reads_as_blocked(output: &str) -> bool {
    if output.trim().is_empty() || output.trim_start().starts_with("FAIL") {
        return true;
    }
    if output.contains("failures\": [") {
        return true;
    }
    // `[1-9][0-9]* failure`: a non-zero digit, more digits, a space, "failure".
    output.match_indices(" failure").any(|(i, _)| {
        let digits: Vec<u8> = output.as_bytes()[..i]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .copied()
            .collect();
        digits.iter().any(|d| *d != b'0')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::finding::Finding;

    fn report(findings: Vec<Finding>) -> Report {
        Report::lint(&crate::pipeline::builtin_policy(), findings)
    }

    #[test]
    fn atlantis_reading_of_outputs() {
        for blocked in [
            "",
            "  \n",
            "FAIL x",
            "  FAIL x",
            "2 failures",
            "10 failures",
            "x 1 failure y",
            "x 01 failure",
            "{\"failures\": [",
        ] {
            assert!(reads_as_blocked(blocked), "{blocked:?}");
        }
        for passing in [
            "0 failures",
            "plangate pass: 0 deny",
            "a failure",
            "failover_db",
            "FAILs later",
        ] {
            let starts = passing.starts_with("FAIL");
            assert_eq!(reads_as_blocked(passing), starts, "{passing:?}");
        }
    }

    #[test]
    fn blocked_starts_with_fail_and_counts_failures_with_names_untouched() {
        let r = report(vec![
            Finding::new("cross-env-destroy", "x").address("aws_db_instance.failover_db")
        ]);
        let out = policy_check_output(Ok(&r), "- deny aws_db_instance.failover_db\n");
        assert!(
            out.starts_with("FAIL plangate blocked this plan: 1 failures\n"),
            "{out}"
        );
        assert!(out.contains("aws_db_instance.failover_db"), "{out}");
        assert!(reads_as_blocked(&out));
    }

    #[test]
    fn passing_output_is_never_empty_and_never_reads_as_blocked() {
        let warn = Finding::new("untagged-destroy", "x").at_most(Level::Warn);
        let r = report(vec![warn]);
        for body in [
            "",
            "  warn untagged-destroy aws_instance.db-1 failure: no tag\n",
        ] {
            let out = policy_check_output(Ok(&r), body);
            assert!(!out.trim().is_empty());
            assert!(!reads_as_blocked(&out), "{out}");
            assert!(out.starts_with("plangate warn: 0 deny, 1 warn"), "{out}");
            assert!(
                !out.contains("db-1"),
                "the name is left out, not altered: {out}"
            );
        }
        let body = "  warn untagged-destroy aws_instance.failover_db: no tag\n";
        assert_eq!(
            policy_check_output(Ok(&r), body),
            body,
            "names stay as they are"
        );
    }

    #[test]
    fn an_error_is_a_failure() {
        let out = policy_check_output(Err(&Error::Usage("bad\ninput".into())), "");
        assert!(
            out.starts_with("FAIL plangate could not evaluate this plan: 1 failures\n- bad input")
        );
        assert!(reads_as_blocked(&out));
    }
}
