//! What `check` and `lint` find in the repository they run in: its root, its atlantis.yaml and
//! its policy file.

use std::path::{Path, PathBuf};

use crate::input::atlantis;
use crate::model::atlantis::AtlantisConfig;
use crate::model::policy::Policy;
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

/// `--policy`, else `plangate.yaml` or `.plangate.yaml` at the repository root, else the
/// built-in policy.
pub(super) fn load_policy(explicit: Option<&Path>, root: &Path) -> Result<Policy> {
    if let Some(path) = explicit {
        return pipeline::load_policy(path);
    }
    for name in ["plangate.yaml", ".plangate.yaml"] {
        let candidate = root.join(name);
        if candidate.is_file() {
            return pipeline::load_policy(&candidate);
        }
    }
    Ok(pipeline::builtin_policy())
}
