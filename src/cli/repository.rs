//! What `check` and `lint` find in the repository they run in: its root, its atlantis.yaml and
//! its policy file.

use std::path::{Path, PathBuf};

use crate::input::atlantis;
use crate::model::atlantis::AtlantisConfig;
use crate::model::policy::{Policy, PolicyReview};
use crate::pipeline::PolicySources;
use crate::{pipeline, Error, Result};

pub(super) fn current_dir() -> Result<PathBuf> {
    std::env::current_dir()
        .map_err(|e| Error::Usage(format!("cannot read the current directory: {e}")))
}

/// The atlantis.yaml given, else the one found from `cwd` up to the git root (if any).
pub(super) fn load_atlantis(explicit: Option<&Path>, cwd: &Path) -> Result<Option<AtlantisConfig>> {
    match explicit {
        Some(path) => atlantis::load(path).map(Some),
        None => atlantis::discover(cwd)
            .map(|p| atlantis::load(&p))
            .transpose(),
    }
}

/// The repository root: the nearest parent with `.git`, else the atlantis.yaml's dir, else cwd.
pub(super) fn repo_root(cwd: &Path, atlantis: Option<&AtlantisConfig>) -> PathBuf {
    if let Some(git) = cwd.ancestors().find(|d| d.join(".git").exists()) {
        return git.to_path_buf();
    }
    atlantis
        .and_then(|a| a.path.parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| cwd.to_path_buf())
}

/// Where the policy comes from: the trusted one given (`--policy`, `$PLANGATE_POLICY`), and
/// the repository's `plangate.yaml` or `.plangate.yaml` at its root.
pub(super) fn policy_sources(
    trusted: Option<&Path>,
    repository: Option<&Path>,
    root: &Path,
    base_ref: Option<String>,
) -> PolicySources {
    let repository = repository.map(Path::to_path_buf).or_else(|| {
        ["plangate.yaml", ".plangate.yaml"]
            .iter()
            .map(|name| root.join(name))
            .find(|candidate| candidate.is_file())
    });
    PolicySources {
        trusted: trusted.map(Path::to_path_buf),
        repository,
        root: root.to_path_buf(),
        base_ref,
    }
}

/// The policy in force and how it compares with the one it may only tighten.
pub(super) fn load_policy(sources: &PolicySources) -> Result<(Policy, PolicyReview)> {
    pipeline::resolve_policy(sources)
}

/// The branch a pull request merges into, as the CI or Atlantis names it.
pub(super) fn base_ref_from_env(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    [
        "BASE_BRANCH_NAME",
        "GITHUB_BASE_REF",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    ]
    .iter()
    .find_map(|k| env(k).filter(|v| !v.trim().is_empty()))
}
