//! The command line: one file per command, and the one place exit codes are decided
//! ([`exit_code`]). `main.rs` only calls [`main`].

mod check;
mod github_event;
mod init;
mod lint;
mod output;
mod repository;
mod rules;

use std::io::Write;

use clap::{Parser, Subcommand};

use crate::integration::atlantis::AtlantisMode;
use crate::report::{Report, Verdict};
use crate::Error;

pub use check::CheckArgs;
pub use lint::LintArgs;

/// Exit code when plangate could not evaluate (bad arguments, unreadable or invalid input).
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "plangate",
    version,
    about = "A safety gate for Terraform and OpenTofu plans: blocks destroys that reach into another environment, protected resources, or look like accidents.",
    after_help = "Exit codes: 0 pass (warnings allowed), 1 blocked, 2 could not evaluate."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate one or more plans (the main job)
    Check(Box<CheckArgs>),
    /// Check atlantis.yaml and the policy alone; no plan needed
    Lint(LintArgs),
    /// List every rule: id, default level, summary
    Rules,
    /// Show a rule's full documentation
    Explain {
        /// The rule id, e.g. cross-env-destroy
        rule: String,
    },
    /// Write a commented starter policy (plangate.yaml)
    Init {
        /// Where to write it
        #[arg(default_value = "plangate.yaml")]
        path: std::path::PathBuf,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
    /// Plumbing for action.yml: print the pull request number and head SHA of a GitHub event
    #[command(hide = true)]
    GithubEvent {
        #[arg(env = "GITHUB_EVENT_PATH")]
        path: std::path::PathBuf,
    },
}

/// Parse the arguments, run the command and return the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check(args) => check::run(*args),
        Command::Lint(args) => lint::run(args),
        Command::Rules => rules::list(),
        Command::Explain { rule } => rules::explain(&rule),
        Command::Init { path, force } => init::run(&path, force),
        Command::GithubEvent { path } => github_event::run(&path),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            report_error(&e);
            EXIT_ERROR
        }
    }
}

/// Every way a command can end, for [`exit_code`].
pub(crate) enum Outcome<'r> {
    /// A report: `check` and `lint`.
    Report(&'r Report),
    /// A command that only prints (`rules`, `explain`, `init`).
    Done,
}

/// The exit code of every command: the one place it is decided. 0 pass (warnings allowed), 1
/// blocked, 2 could not evaluate. `--mode policy-check` always exits 0 because Atlantis reads
/// its verdict from the output (`FAIL ...`), and a non-zero exit there would be an error that
/// `atlantis approve_policies` cannot override.
pub(crate) fn exit_code(mode: Option<AtlantisMode>, outcome: Result<Outcome<'_>, &Error>) -> i32 {
    match (mode, outcome) {
        (Some(AtlantisMode::PolicyCheck), _) => 0,
        (_, Ok(Outcome::Report(report))) => match report.verdict {
            Verdict::Block => 1,
            Verdict::Pass | Verdict::Warn => 0,
        },
        (_, Ok(Outcome::Done)) => 0,
        (_, Err(_)) => EXIT_ERROR,
    }
}

pub(crate) fn report_error(e: &Error) {
    let mut stderr = std::io::stderr().lock();
    match e {
        Error::Config(diagnostics) if diagnostics.len() > 1 => {
            for d in diagnostics {
                let _ = writeln!(stderr, "plangate: error: {d}");
            }
        }
        other => {
            let _ = writeln!(stderr, "plangate: error: {other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_and_modes_give_the_exit_code() {
        let report = |verdict| Report {
            verdict,
            ..crate::report::Report::lint(&crate::pipeline::builtin_policy(), Vec::new())
        };
        let block = report(Verdict::Block);
        let warn = report(Verdict::Warn);
        let err = Error::Usage("x".into());
        assert_eq!(exit_code(None, Ok(Outcome::Report(&block))), 1);
        assert_eq!(exit_code(None, Ok(Outcome::Report(&warn))), 0);
        assert_eq!(exit_code(None, Err(&err)), 2);
        assert_eq!(exit_code(None, Ok(Outcome::Done)), 0);
        for outcome in [Ok(Outcome::Report(&block)), Err(&err)] {
            assert_eq!(exit_code(Some(AtlantisMode::PolicyCheck), outcome), 0);
        }
        assert_eq!(
            exit_code(Some(AtlantisMode::Enforce), Ok(Outcome::Report(&block))),
            1
        );
    }
}
