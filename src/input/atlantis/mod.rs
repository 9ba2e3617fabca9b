//! Reader for the repo-level `atlantis.yaml`, validated the way Atlantis validates it (strict
//! keys, `version` 2 or 3, unique project names, ...), and for the server-side `repos.yaml`
//! (the shipped examples and the corpus are checked with it). Every problem becomes a
//! [`Diagnostic`](crate::error::Diagnostic) with file:line; all of them are collected before the
//! file is rejected.
//!
//! The YAML is read into the positioned tree of [`crate::input::yaml`], then checked against the
//! schema of Atlantis's `server/core/config/raw` package: [`repo`] for atlantis.yaml, [`server`]
//! for repos.yaml, [`workflows`] and [`sections`] for what both share, [`names`] for Atlantis's
//! value rules.

mod names;
mod repo;
mod sections;
mod server;
mod workflows;

use std::fs;
use std::path::{Path, PathBuf};

use crate::input::yaml;
use crate::model::atlantis::{AtlantisConfig, ReposConfig};

/// Largest configuration file read; real ones are a few hundred KiB at most.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads and validates the atlantis.yaml at `path`.
///
/// A missing, unreadable, non-UTF-8 or empty file is an [`Error::Input`](crate::Error::Input);
/// everything Atlantis would reject is an [`Error::Config`](crate::Error::Config) with one
/// diagnostic per problem.
pub fn load(path: &Path) -> crate::Result<AtlantisConfig> {
    let text = crate::input::read_text_file(path, MAX_FILE_BYTES)?;
    parse(&text, path)
}

/// Reads and validates a server-side repos.yaml at `path`.
pub fn load_repos_yaml(path: &Path) -> crate::Result<ReposConfig> {
    let text = crate::input::read_text_file(path, MAX_FILE_BYTES)?;
    parse_repos_yaml(&text, path)
}

/// Validates the text of a repo-level atlantis.yaml; `path` names it in diagnostics.
pub fn parse(source: &str, path: &Path) -> crate::Result<AtlantisConfig> {
    let root = yaml::read_tree(source, path)?;
    let mut checker = Checker::new(path);
    let config = checker.repo_config(&root);
    checker.yaml.finish(config)
}

/// Validates the text of a server-side repos.yaml (`repos:`, `workflows:`, `policies:`...).
pub fn parse_repos_yaml(source: &str, path: &Path) -> crate::Result<ReposConfig> {
    let root = yaml::read_tree(source, path)?;
    let mut checker = Checker::new(path);
    let config = checker.global_config(&root);
    checker.yaml.finish(config)
}

/// Locates the atlantis.yaml for a working dir: `atlantis.yaml` in `start` or one of its
/// parents, stopping at the git root (a dir containing `.git`) or the filesystem root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = if start.as_os_str().is_empty() {
        Path::new(".")
    } else {
        start
    };
    let here = start.join("atlantis.yaml");
    if here.is_file() {
        return Some(here);
    }
    if start.join(".git").exists() {
        return None;
    }
    // Resolved, so that `..` in `start` walks up the real tree.
    let absolute = fs::canonicalize(start)
        .or_else(|_| std::path::absolute(start))
        .ok()?;
    let mut dir = absolute.parent();
    while let Some(current) = dir {
        let candidate = current.join("atlantis.yaml");
        if candidate.is_file() {
            return Some(candidate);
        }
        if current.join(".git").exists() {
            return None;
        }
        dir = current.parent();
    }
    None
}

/// Walks one Atlantis file; the decoders live in the submodules, one `impl` block each.
struct Checker<'a> {
    yaml: yaml::Checker<'a>,
}

impl<'a> Checker<'a> {
    fn new(path: &'a Path) -> Self {
        Checker {
            yaml: yaml::Checker::new(path, "Atlantis"),
        }
    }
}

pub(super) const REPO_CFG_KEYS: &[&str] = &[
    "version",
    "projects",
    "workflows",
    "policies",
    "autodiscover",
    "automerge",
    "parallel_apply",
    "parallel_plan",
    "delete_source_branch_on_merge",
    "emoji_reaction",
    "allowed_regexp_prefixes",
    "abort_on_execution_order_fail",
    "repo_locks",
    "silence_pr_comments",
];

pub(super) const PROJECT_KEYS: &[&str] = &[
    "name",
    "branch",
    "dir",
    "workspace",
    "workflow",
    "terraform_distribution",
    "terraform_version",
    "autoplan",
    "plan_requirements",
    "apply_requirements",
    "import_requirements",
    "depends_on",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "execution_order_group",
    "policy_check",
    "custom_policy_check",
    "silence_pr_comments",
    "glob_file_match",
];

pub(super) const GLOBAL_CFG_KEYS: &[&str] = &[
    "repos",
    "workflows",
    "policies",
    "metrics",
    "team_authz",
    "external_stores",
];

pub(super) const SERVER_REPO_KEYS: &[&str] = &[
    "id",
    "branch",
    "repo_config_file",
    "plan_requirements",
    "apply_requirements",
    "import_requirements",
    "pre_workflow_hooks",
    "workflow",
    "post_workflow_hooks",
    "allowed_workflows",
    "allowed_overrides",
    "allow_custom_workflows",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "policy_check",
    "custom_policy_check",
    "autodiscover",
    "silence_pr_comments",
];

pub(super) const STAGE_NAMES: &[&str] = &["plan", "apply", "policy_check", "import", "state_rm"];

/// Step names Atlantis accepts as a bare string (its `validStepName`).
pub(super) const STEP_NAMES: &[&str] = &[
    "init",
    "plan",
    "apply",
    "env",
    "multienv",
    "show",
    "policy_check",
    "import",
    "state_rm",
];

/// Built-in steps that take `{extra_args: [...]}`.
pub(super) const BUILTIN_STEPS: &[&str] = &[
    "init",
    "plan",
    "apply",
    "show",
    "policy_check",
    "import",
    "state_rm",
];

pub(super) const REQUIREMENTS: &[&str] = &["approved", "mergeable", "undiverged"];

pub(super) const OVERRIDES: &[&str] = &[
    "plan_requirements",
    "apply_requirements",
    "import_requirements",
    "workflow",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "policy_check",
    "custom_policy_check",
    "silence_pr_comments",
];

#[cfg(test)]
mod tests;
