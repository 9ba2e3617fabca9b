//! `plangate lint [ATLANTIS_YAML]`: atlantis.yaml and the policy alone, no plan.

use std::path::PathBuf;

use clap::Args;

use super::output::{stdout_style, write_stdout};
use super::repository::{current_dir, load_policy, policy_sources, repo_root};
use super::{exit_code, Outcome};
use crate::input::atlantis;
use crate::model::finding::{Finding, Location};
use crate::render::{self, Format};
use crate::{pipeline, Error, Result};

#[derive(Args, Debug)]
pub struct LintArgs {
    /// The atlantis.yaml to check (default: found in the current dir or its parents)
    pub atlantis: Option<PathBuf>,
    /// The operator's trusted policy (default: plangate.yaml or .plangate.yaml at the repository root)
    #[arg(long, env = "PLANGATE_POLICY", value_name = "PATH")]
    pub policy: Option<PathBuf>,
    /// The repository's own policy file (default: plangate.yaml or .plangate.yaml at the repository root)
    #[arg(long, value_name = "PATH")]
    pub repo_policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub(super) fn run(args: LintArgs) -> Result<i32> {
    let cwd = current_dir()?;
    let path = match args.atlantis {
        Some(path) => path,
        None => atlantis::discover(&cwd).ok_or_else(|| {
            Error::Usage(
                "no atlantis.yaml found in this directory or its parents: pass its path".into(),
            )
        })?,
    };
    // Problems Atlantis rejects that are also lint rules (duplicate names, unnamed projects on
    // one state) are reported as findings; any other problem means the file cannot be linted.
    let mut file_findings = Vec::new();
    let atlantis = match atlantis::load(&path) {
        Ok(config) => Some(config),
        Err(Error::Config(diagnostics)) if diagnostics.iter().all(|d| d.rule.is_some()) => {
            for d in diagnostics {
                let Some(rule) = d.rule.and_then(crate::rules::find) else {
                    continue;
                };
                let location = Location::File {
                    path: d.path.clone(),
                    line: d.position.map(|p| p.line),
                };
                let mut finding = Finding::new(rule.id(), d.message).location(location);
                finding.level = rule.default_level();
                file_findings.push(finding);
            }
            None
        }
        Err(e) => return Err(e),
    };
    let root = repo_root(&cwd, atlantis.as_ref());
    let sources = policy_sources(
        args.policy.as_deref(),
        args.repo_policy.as_deref(),
        &root,
        None,
    );
    let (policy, review) = load_policy(&sources)?;
    let report = pipeline::lint(&policy, &review, atlantis.as_ref(), file_findings);
    write_stdout(&render::render(args.format, &report, &stdout_style()))?;
    Ok(exit_code(None, Ok(Outcome::Report(&report))))
}
