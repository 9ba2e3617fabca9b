//! Running as an Atlantis workflow `run` step: the step's environment, the plan JSON behind
//! `$SHOWFILE` (made with `terraform show -json` when missing or stale), the three integration
//! modes and what each does to `$PLANFILE` (DESIGN.md section 6). What each mode prints is
//! `render`'s; its exit code the command line's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::input::process::{self, RunProblem};
use crate::{Error, Result};

/// How `check` behaves inside Atlantis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AtlantisMode {
    /// Plan stage: print, exit 1 on block and delete `$PLANFILE` so it cannot be applied.
    Report,
    /// First step of the apply stage: re-check; exit 1 stops the apply.
    Enforce,
    /// `custom_policy_check: true`: always exit 0; the first line says `FAIL` when blocked, and
    /// `atlantis approve_policies` by the policy owners is the override.
    PolicyCheck,
}

/// Which code host a pull request lives on, from `$PULL_URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcsKind {
    GitHub,
    GitLab,
    Other,
}

/// The pull request's host, as `$PULL_URL` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestHost {
    pub kind: VcsKind,
    /// `https://github.com`, `https://gitlab.example.com:8443`.
    pub base_url: String,
    pub host: String,
}

impl PullRequestHost {
    /// Tell GitHub from GitLab by the URL's shape (`/pull/N`, `/-/merge_requests/N`), then by
    /// the host name, so self-hosted instances on any name are recognised.
    pub fn from_pull_url(url: &str) -> Option<PullRequestHost> {
        let (scheme, rest) = url.split_once("://")?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        // Drop any user info: it is never printed.
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        if authority.is_empty() {
            return None;
        }
        let host = authority
            .split(':')
            .next()
            .unwrap_or(authority)
            .to_ascii_lowercase();
        let path = format!("/{path}");
        let kind = if path.contains("/-/merge_requests/") {
            VcsKind::GitLab
        } else if path.contains("/pull/") {
            VcsKind::GitHub
        } else if host.contains("gitlab") {
            VcsKind::GitLab
        } else if host.contains("github") {
            VcsKind::GitHub
        } else {
            VcsKind::Other
        };
        Some(PullRequestHost {
            kind,
            base_url: format!("{scheme}://{authority}"),
            host,
        })
    }

    /// The REST API base: `https://api.github.com`, GitHub Enterprise's `/api/v3`, GitLab's
    /// `/api/v4`.
    pub fn api_url(&self) -> Option<String> {
        match self.kind {
            VcsKind::GitHub if self.host == "github.com" => Some("https://api.github.com".into()),
            VcsKind::GitHub => Some(format!("{}/api/v3", self.base_url)),
            VcsKind::GitLab => Some(format!("{}/api/v4", self.base_url)),
            VcsKind::Other => None,
        }
    }
}

/// The environment Atlantis gives a `run` step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtlantisStep {
    pub project_name: Option<String>,
    /// Absolute path of the project's directory: the step runs there.
    pub dir: Option<PathBuf>,
    pub repo_rel_dir: Option<String>,
    pub workspace: Option<String>,
    pub planfile: Option<PathBuf>,
    pub showfile: Option<PathBuf>,
    pub pull_num: Option<u64>,
    pub pull_url: Option<String>,
    pub base_repo_owner: Option<String>,
    pub base_repo_name: Option<String>,
    pub head_commit: Option<String>,
    pub user_name: Option<String>,
    /// `atlantis plan -- ARGS`, unescaped. Shown, never used as destroy intent: anyone who can
    /// comment could write it, while intent must come from the PR's labels or the workflow.
    pub comment_args: Vec<String>,
    pub terraform_version: Option<String>,
    /// `terraform` or `opentofu`.
    pub terraform_distribution: Option<String>,
}

impl AtlantisStep {
    /// Read the step's environment; `None` outside Atlantis (no `$PLANFILE`, `$SHOWFILE` or
    /// `$ATLANTIS_TERRAFORM_VERSION`).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Option<AtlantisStep> {
        let get = |name: &str| var(name).filter(|v| !v.is_empty());
        let step = AtlantisStep {
            project_name: get("PROJECT_NAME"),
            dir: get("DIR").map(PathBuf::from),
            repo_rel_dir: get("REPO_REL_DIR"),
            workspace: get("WORKSPACE"),
            planfile: get("PLANFILE").map(PathBuf::from),
            showfile: get("SHOWFILE").map(PathBuf::from),
            pull_num: get("PULL_NUM").and_then(|n| n.trim().parse().ok()),
            pull_url: get("PULL_URL"),
            base_repo_owner: get("BASE_REPO_OWNER"),
            base_repo_name: get("BASE_REPO_NAME"),
            head_commit: get("HEAD_COMMIT"),
            user_name: get("USER_NAME"),
            comment_args: get("COMMENT_ARGS")
                .map(|a| split_comment_args(&a))
                .unwrap_or_default(),
            terraform_version: get("ATLANTIS_TERRAFORM_VERSION"),
            terraform_distribution: get("ATLANTIS_TERRAFORM_DISTRIBUTION"),
        };
        let in_atlantis =
            step.planfile.is_some() || step.showfile.is_some() || step.terraform_version.is_some();
        in_atlantis.then_some(step)
    }

    pub fn pull_request_host(&self) -> Option<PullRequestHost> {
        self.pull_url
            .as_deref()
            .and_then(PullRequestHost::from_pull_url)
    }

    /// `OWNER/NAME` of the base repository.
    pub fn repo(&self) -> Option<String> {
        Some(format!(
            "{}/{}",
            self.base_repo_owner.as_ref()?,
            self.base_repo_name.as_ref()?
        ))
    }

    /// The plan JSON to check: `$SHOWFILE` when it is at least as new as `$PLANFILE`, else made
    /// now with `show -json $PLANFILE` (run in `$DIR`, stopped after `deadline`) and written to
    /// `$SHOWFILE`.
    pub fn plan_json(
        &self,
        path_var: Option<&std::ffi::OsStr>,
        deadline: Duration,
    ) -> Result<PathBuf> {
        let planfile = self.planfile.as_ref().map(|p| self.absolute(p));
        let showfile = self.showfile.as_ref().map(|p| self.absolute(p));
        match (planfile, showfile) {
            (None, None) => Err(Error::Usage(
                "neither $PLANFILE nor $SHOWFILE is set: pass --plan PATH".into(),
            )),
            (None, Some(show)) => Ok(show),
            (Some(plan), showfile) => {
                let showfile = showfile.unwrap_or_else(|| plan.with_extension("json"));
                if is_fresh(&showfile, &plan)? {
                    return Ok(showfile);
                }
                let binary = self.terraform_binary(path_var)?;
                write_show_json(&binary, &plan, &showfile, self.dir.as_deref(), deadline)?;
                Ok(showfile)
            }
        }
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        match &self.dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// Binary names to try, in order: the version-specific name Atlantis installs
    /// (`terraform1.9.8`, `tofu1.8.0`), then the plain name.
    pub fn terraform_candidates(&self) -> Vec<String> {
        let base = match self
            .terraform_distribution
            .as_deref()
            .map(str::to_ascii_lowercase)
        {
            Some(d) if d == "opentofu" || d == "tofu" => "tofu",
            _ => "terraform",
        };
        let mut names = Vec::new();
        if let Some(version) = &self.terraform_version {
            let version = version.trim().trim_start_matches('v');
            if !version.is_empty() {
                names.push(format!("{base}{version}"));
            }
        }
        names.push(base.to_string());
        names
    }

    fn terraform_binary(&self, path_var: Option<&std::ffi::OsStr>) -> Result<PathBuf> {
        let candidates = self.terraform_candidates();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        candidates
            .iter()
            .find_map(|name| path_var.and_then(|p| which::which_in(name, Some(p), &cwd).ok()))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "$SHOWFILE is missing or older than $PLANFILE, and none of {} is in PATH to run `show -json`: add a `show` step before plangate",
                    candidates.join(", ")
                ))
            })
    }

    /// Remove `$PLANFILE` so that no Atlantis version can apply a blocked plan. A plan that is
    /// already gone is fine.
    pub fn delete_planfile(&self) -> std::io::Result<Option<PathBuf>> {
        let Some(plan) = self.planfile.as_ref().map(|p| self.absolute(p)) else {
            return Ok(None);
        };
        match std::fs::remove_file(&plan) {
            Ok(()) => Ok(Some(plan)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `$SHOWFILE` exists and is not older than the plan it was made from.
fn is_fresh(show: &Path, plan: &Path) -> Result<bool> {
    let Ok(show_meta) = std::fs::metadata(show) else {
        return Ok(false);
    };
    let plan_meta = match std::fs::metadata(plan) {
        Ok(m) => m,
        // No binary plan to regenerate from: the JSON is all there is.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(Error::input(plan, format!("cannot be read: {e}"))),
    };
    match (show_meta.modified(), plan_meta.modified()) {
        (Ok(show_time), Ok(plan_time)) => Ok(show_time >= plan_time),
        _ => Ok(false),
    }
}

/// Run `BINARY show -json PLAN` in `dir` and write its output to `show` (through a temporary
/// file, so a failed run never leaves half a document behind). Stdin is closed: Atlantis keeps
/// the step's stdin open and nothing may wait on it.
fn write_show_json(
    binary: &Path,
    plan: &Path,
    show: &Path,
    dir: Option<&Path>,
    deadline: Duration,
) -> Result<()> {
    let mut command = Command::new(binary);
    command.args(["show", "-json", "-no-color"]).arg(plan);
    if let Some(dir) = dir.filter(|d| d.is_dir()) {
        command.current_dir(dir);
    }
    let output = process::run(&mut command, deadline).map_err(|e| match e {
        RunProblem::TimedOut(_) => Error::input(
            plan,
            format!(
                "`{} show -json` {e}: raise --show-timeout if the plan is that large",
                binary.display()
            ),
        ),
        other => Error::input(binary, other.to_string()),
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .map(|l| l.trim_start_matches(['│', '╷', '╵', ' ']).trim_end())
            .filter(|l| !l.is_empty())
            .collect();
        let reason = lines
            .iter()
            .find(|l| l.starts_with("Error:"))
            .or(lines.first())
            .copied()
            .unwrap_or("no error output");
        return Err(Error::input(
            plan,
            format!(
                "`{} show -json` failed ({}): {reason}",
                binary.display(),
                output.status
            ),
        ));
    }
    write_atomically(show, &output.stdout)
}

/// Write through a temporary file beside `path`, renamed into place only when complete.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut tmp| {
        tmp.write_all(bytes)?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    });
    written.map_err(|e| Error::input(path, format!("cannot be written: {e}")))
}

/// The name Atlantis gives a project's plan JSON (`$SHOWFILE`) in its dir:
/// `<name>-<workspace>.json` with `/` in the name written `::`, or `<workspace>.json` for a
/// project without a name (`ProjectContext.GetShowResultFileName`).
pub fn showfile_name(project: Option<&str>, workspace: &str) -> String {
    match project {
        Some(name) => format!("{}-{workspace}.json", name.replace('/', "::")),
        None => format!("{workspace}.json"),
    }
}

/// Split `$COMMENT_ARGS`: Atlantis escapes every character with `\` and separates arguments
/// with unescaped commas.
pub fn split_comment_args(raw: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ',' => args.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if !current.is_empty() || !args.is_empty() {
        args.push(current);
    }
    args.retain(|a| !a.is_empty());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn outside_atlantis_there_is_no_step() {
        assert_eq!(AtlantisStep::from_env(env(&[("PROJECT_NAME", "x")])), None);
    }

    #[test]
    fn reads_the_run_step_environment() {
        let step = AtlantisStep::from_env(env(&[
            ("PROJECT_NAME", "app-staging"),
            ("DIR", "/atlantis/repos/o/r/12/default/envs/staging"),
            ("REPO_REL_DIR", "envs/staging"),
            ("WORKSPACE", "default"),
            ("PLANFILE", "/x/default.tfplan"),
            ("SHOWFILE", "/x/default.json"),
            ("PULL_NUM", "12"),
            ("PULL_URL", "https://github.com/acme/infra/pull/12"),
            ("BASE_REPO_OWNER", "acme"),
            ("BASE_REPO_NAME", "infra"),
            ("COMMENT_ARGS", "\\-\\t\\a\\r,\\x\\,y"),
            ("ATLANTIS_TERRAFORM_VERSION", "1.9.8"),
        ]))
        .unwrap();
        assert_eq!(step.pull_num, Some(12));
        assert_eq!(step.repo().as_deref(), Some("acme/infra"));
        assert_eq!(step.comment_args, vec!["-tar", "x,y"]);
        assert_eq!(
            step.terraform_candidates(),
            vec!["terraform1.9.8", "terraform"]
        );
        assert_eq!(step.pull_request_host().unwrap().kind, VcsKind::GitHub);
    }

    #[test]
    fn opentofu_binaries_are_named_tofu() {
        let step = AtlantisStep {
            terraform_version: Some("v1.8.2".into()),
            terraform_distribution: Some("opentofu".into()),
            ..AtlantisStep::default()
        };
        assert_eq!(step.terraform_candidates(), vec!["tofu1.8.2", "tofu"]);
    }

    #[test]
    fn pull_urls_tell_the_host() {
        let gh = PullRequestHost::from_pull_url("https://github.com/acme/infra/pull/3").unwrap();
        assert_eq!(gh.api_url().as_deref(), Some("https://api.github.com"));
        let ghe =
            PullRequestHost::from_pull_url("https://git.corp.example/acme/infra/pull/3").unwrap();
        assert_eq!(ghe.kind, VcsKind::GitHub);
        assert_eq!(
            ghe.api_url().as_deref(),
            Some("https://git.corp.example/api/v3")
        );
        let gl = PullRequestHost::from_pull_url(
            "https://code.example.com:8443/group/sub/infra/-/merge_requests/7",
        )
        .unwrap();
        assert_eq!(gl.kind, VcsKind::GitLab);
        assert_eq!(gl.host, "code.example.com");
        assert_eq!(
            gl.api_url().as_deref(),
            Some("https://code.example.com:8443/api/v4")
        );
        let other =
            PullRequestHost::from_pull_url("https://bitbucket.org/a/b/pull-requests/1").unwrap();
        assert_eq!(other.kind, VcsKind::Other);
        assert_eq!(PullRequestHost::from_pull_url("not a url"), None);
    }

    #[test]
    fn showfiles_are_named_as_atlantis_names_them() {
        assert_eq!(
            showfile_name(Some("app/staging"), "default"),
            "app::staging-default.json"
        );
        assert_eq!(showfile_name(None, "blue"), "blue.json");
    }

    #[test]
    fn comment_args_split_on_unescaped_commas() {
        assert_eq!(split_comment_args(""), Vec::<String>::new());
        assert_eq!(
            split_comment_args("\\-\\-\\v\\a\\r,\\a\\=\\1"),
            vec!["--var", "a=1"]
        );
    }
}
