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

use crate::integration::atlantis::{AtlantisMode, AtlantisStep};
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(e),
    };
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

/// Arguments that do not parse. Inside an Atlantis step they fail closed the way the mode
/// fails: `report` deletes `$PLANFILE` (Atlantis applies any plan file it finds), and
/// `policy-check` prints a `FAIL` line and exits 0 (a non-zero exit there is recorded as an
/// error, which `atlantis apply` does not stop at).
fn argument_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return 0;
    }
    let args: Vec<String> = std::env::args().collect();
    let step = AtlantisStep::from_env(|name| std::env::var(name).ok());
    let is_check = args.get(1).is_some_and(|a| a == "check");
    if let (true, Some(step)) = (is_check, step) {
        let mode = mode_in_args(&args)
            .or_else(|| std::env::var("PLANGATE_MODE").ok())
            .unwrap_or_else(|| "report".into());
        let error = Error::Usage(crate::text::one_line(&e.to_string()));
        match mode.as_str() {
            "policy-check" => {
                let out = crate::render::policy_check::policy_check_output(Err(&error), "");
                return match output::write_stdout(&out) {
                    Ok(()) => 0,
                    Err(_) => EXIT_ERROR,
                };
            }
            "report" => {
                if let Ok(Some(plan)) = step.delete_planfile() {
                    eprintln!(
                        "plangate: deleted {} so that this plan cannot be applied",
                        plan.display()
                    );
                }
            }
            _ => {}
        }
    }
    let _ = e.print();
    EXIT_ERROR
}

/// The value of `--mode` among raw arguments.
fn mode_in_args(args: &[String]) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--mode=")
            .map(str::to_string)
            .or_else(|| (a == "--mode").then(|| args.get(i + 1).cloned()).flatten())
    })
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
