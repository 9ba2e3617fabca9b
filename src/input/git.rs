//! What plangate reads from git: the merge base of the checkout with the branch a pull request
//! merges into, and a file as it was there (the repository's policy before the pull request).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::input::process;

/// git answers these in milliseconds; a minute means it is stuck (a lock, a network mount).
const GIT_DEADLINE: Duration = Duration::from_secs(60);

/// Why git could not answer, in words for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitProblem(pub String);

fn git(repo: &Path, args: &[&str]) -> Result<String, GitProblem> {
    let mut command = Command::new("git");
    command.arg("-C").arg(repo).args(args);
    let done = process::run(&mut command, GIT_DEADLINE)
        .map_err(|e| GitProblem(format!("git {}: {e}", args.join(" "))))?;
    if !done.status.success() {
        let stderr = String::from_utf8_lossy(&done.stderr);
        return Err(GitProblem(format!(
            "git {} failed: {}",
            args.join(" "),
            crate::text::one_line(&stderr)
        )));
    }
    String::from_utf8(done.stdout)
        .map_err(|_| GitProblem("git printed bytes that are not UTF-8".into()))
}

/// The merge base of `HEAD` with `reference`: tried as given, then as `origin/<reference>`
/// (CI checkouts rarely have the base branch as a local branch).
pub fn merge_base(repo: &Path, reference: &str) -> Result<String, GitProblem> {
    let mut last = GitProblem(format!("no commit named {reference}"));
    for candidate in [reference.to_string(), format!("origin/{reference}")] {
        let rev = format!("{candidate}^{{commit}}");
        if git(repo, &["rev-parse", "--verify", "--quiet", &rev]).is_err() {
            continue;
        }
        match git(repo, &["merge-base", "HEAD", &candidate]) {
            Ok(out) => return Ok(out.trim().to_string()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A file's text at a commit; `None` when the file did not exist there.
pub fn show(repo: &Path, commit: &str, path: &str) -> Result<Option<String>, GitProblem> {
    let listed = git(repo, &["ls-tree", "--name-only", commit, "--", path])?;
    if listed.trim().is_empty() {
        return Ok(None);
    }
    git(repo, &["show", &format!("{commit}:{path}")]).map(Some)
}

/// The path of `file` relative to the repository root, as git names it.
pub fn path_in_repo(repo: &Path, file: &Path) -> Option<String> {
    let root = std::fs::canonicalize(repo).ok()?;
    let file = std::fs::canonicalize(file).ok()?;
    let rel = file.strip_prefix(root).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}
