//! Which policy is in force, and whether the pull request weakened it (DESIGN section 10).
//!
//! With a trusted policy (the operator's `--policy`/`$PLANGATE_POLICY`), the repository's
//! `plangate.yaml` is a layer over it whose relaxations are findings unless `repository-may:`
//! allows their kind. Without one, the repository's file is the policy, compared with its own
//! version at the merge base of the branch the pull request merges into.

use std::path::{Path, PathBuf};

use crate::input::{git, policy as reader};
use crate::model::approval::Approvers;
use crate::model::policy::{Policy, PolicyReview, Relaxation, RelaxationKind};
use crate::rules::{self, policy_weakened};
use crate::Result;

/// Where the policy comes from.
#[derive(Debug, Clone, Default)]
pub struct PolicySources {
    /// The operator's trusted policy (`--policy`, `$PLANGATE_POLICY`).
    pub trusted: Option<PathBuf>,
    /// The repository's `plangate.yaml` or `.plangate.yaml`, when the checkout has one.
    pub repository: Option<PathBuf>,
    /// The repository root (for git).
    pub root: PathBuf,
    /// The branch or commit the pull request merges into.
    pub base_ref: Option<String>,
}

/// Rules whose level only the trusted side (or the base version) sets: the layer under
/// review must not be able to silence the findings about itself.
const GUARD_RULES: [&str; 2] = ["policy-weakened", "policy-unverified"];

/// The policy in force and how it compares with the one it may only tighten.
pub fn resolve_policy(sources: &PolicySources) -> Result<(Policy, PolicyReview)> {
    match &sources.trusted {
        Some(trusted) => with_trusted(trusted, sources.repository.as_deref()),
        None => untrusted(sources),
    }
}

fn with_trusted(trusted: &Path, repository: Option<&Path>) -> Result<(Policy, PolicyReview)> {
    let base = super::load_policy(trusted)?;
    let Some(repository) = repository else {
        return Ok((base, PolicyReview::default()));
    };
    let text = reader::read(repository)?;
    let mut head = reader::layer_over(&base, &text, repository, &rules::catalog())?;
    let mut relaxations: Vec<Relaxation> = policy_weakened::relaxations(&base, &head)
        .into_iter()
        .filter(|r| !base.repository_may.contains(&r.kind))
        .collect();
    relaxations.extend(approver_relaxations(&base, &mut head));
    keep_guards(&base, &mut head);
    // What the repository may not do stays as the trusted policy says.
    head.repository_may = base.repository_may.clone();
    let review = PolicyReview {
        file: Some(repository.to_path_buf()),
        against: format!("the trusted policy {}", trusted.display()),
        relaxations,
        unverified: None,
        approvals_ignored: None,
    };
    Ok((head, review))
}

/// Only the trusted policy names approvers: a repository layer that lets more people approve,
/// or with fewer approvals, is a relaxation, and the trusted policy's approvers stay in force.
/// A layer that only narrows them (fewer approvers, more approvals) is a tightening and kept.
fn approver_relaxations(base: &Policy, head: &mut Policy) -> Vec<Relaxation> {
    let found: Vec<Relaxation> = head
        .approvers
        .relaxations_against(&base.approvers)
        .into_iter()
        .map(|what| Relaxation {
            kind: RelaxationKind::Trust,
            what: format!("{what} (only the trusted policy names approvers)"),
        })
        .collect();
    if !found.is_empty() {
        head.approvers = base.approvers.clone();
    }
    found
}

/// Without a trusted policy nobody can approve: a pull request could name its own approvers.
fn without_approvers(head: &mut Policy) -> Option<String> {
    if !head.approvers.any() {
        return None;
    }
    head.approvers = Approvers::default();
    let file = head
        .source
        .as_ref()
        .map_or("the policy".to_string(), |p| p.display().to_string());
    Some(format!(
        "approvals are ignored: {file} names approvers, but only a trusted policy (--policy or $PLANGATE_POLICY) may"
    ))
}

fn untrusted(sources: &PolicySources) -> Result<(Policy, PolicyReview)> {
    let mut head = match &sources.repository {
        Some(path) => super::load_policy(path)?,
        None => super::builtin_policy(),
    };
    let approvals_ignored = without_approvers(&mut head);
    let Some(base_ref) = &sources.base_ref else {
        let review = PolicyReview {
            approvals_ignored,
            ..PolicyReview::default()
        };
        return Ok((head, review));
    };
    let file_name = sources
        .repository
        .as_ref()
        .and_then(|p| git::path_in_repo(&sources.root, p))
        .unwrap_or_else(|| "plangate.yaml".to_string());
    let shown = sources
        .repository
        .clone()
        .unwrap_or_else(|| PathBuf::from(&file_name));
    let base = match base_policy(&sources.root, base_ref, &file_name) {
        Ok((base, commit)) => {
            let short: String = commit.chars().take(8).collect();
            (
                base,
                format!("its version at the merge base with {base_ref} ({short})"),
            )
        }
        Err(why) => {
            let review = PolicyReview {
                file: Some(shown),
                unverified: Some(format!(
                    "the policy was not compared with its version on {base_ref}: {why}; fetch the base branch (actions/checkout with fetch-depth: 0, or `git fetch origin {base_ref}`), pass --base-ref, or give a trusted policy with --policy"
                )),
                approvals_ignored,
                ..PolicyReview::default()
            };
            return Ok((head, review));
        }
    };
    let relaxations = policy_weakened::relaxations(&base.0, &head);
    keep_guards(&base.0, &mut head);
    let review = PolicyReview {
        file: Some(shown),
        relaxations,
        against: base.1,
        unverified: None,
        approvals_ignored,
    };
    Ok((head, review))
}

/// The policy at the merge base: the same file there (either name), else the built-in
/// default, which is what a repository without the file had.
fn base_policy(
    root: &Path,
    base_ref: &str,
    file: &str,
) -> std::result::Result<(Policy, String), String> {
    let commit = git::merge_base(root, base_ref).map_err(|e| e.0)?;
    let names = [file, "plangate.yaml", ".plangate.yaml"];
    for name in names {
        if let Some(text) = git::show(root, &commit, name).map_err(|e| e.0)? {
            let shown = PathBuf::from(format!("{name}@{base_ref}"));
            let policy = super::parse_policy(&text, &shown)
                .map_err(|e| format!("its version there is not a valid policy ({e})"))?;
            return Ok((policy, commit));
        }
    }
    Ok((super::builtin_policy(), commit))
}

fn keep_guards(base: &Policy, head: &mut Policy) {
    for id in GUARD_RULES {
        match base.rules.get(id) {
            Some(setting) => {
                head.rules.insert(id.to_string(), setting.clone());
            }
            None => {
                head.rules.remove(id);
            }
        }
    }
}
