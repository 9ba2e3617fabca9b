//! A pull request cannot weaken its own gate, end to end: each test builds a git repository
//! whose base branch `main` holds a policy, makes a pull-request branch that changes it, and
//! runs plangate there with `--base-ref main`; then the trusted-policy layer.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::binary::{plangate, run, Run};

/// The base branch's policy: something of every kind a pull request could relax.
const BASE: &str = "version: 1
environments:
  production:
    aliases: [prod]
    protected: true
  staging:
    aliases: [stg]
  development:
    aliases: [dev]
projects:
  - name: \"payments-.*\"
    environment: production
resource-environment:
  tag-keys: [env, Environment]
protected-resources:
  - address: \"module.db.*\"
stateful-types: [mongodbatlas_cluster]
rules:
  untagged-destroy: deny
  mass-deletion:
    max-deletes: 10
";

/// A plan that destroys nothing: only the policy change can block it.
const PLAN: &str = r#"{"format_version":"1.2","planned_values":{},"resource_changes":[
  {"address":"terraform_data.x","mode":"managed","type":"terraform_data","name":"x",
   "change":{"actions":["create"],"before":null}}]}"#;

struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Repo {
    /// `main` with `base` as its plangate.yaml (none when `None`), and a branch `pr` with
    /// `head` (deleted when `None`).
    fn new(base: Option<&str>, head: Option<&str>) -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q"]);
        std::fs::write(dir.join("plan.json"), PLAN).unwrap();
        if let Some(base) = base {
            std::fs::write(dir.join("plangate.yaml"), base).unwrap();
        }
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "base"]);
        git(&dir, &["checkout", "-qb", "pr"]);
        match head {
            Some(head) => std::fs::write(dir.join("plangate.yaml"), head).unwrap(),
            None => {
                let _ = std::fs::remove_file(dir.join("plangate.yaml"));
            }
        }
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "pr", "--allow-empty"]);
        Repo { _tmp: tmp, dir }
    }

    fn check(&self, extra: &[&str]) -> Run {
        run(plangate(&self.dir)
            .args([
                "check",
                "--plan",
                "plan.json",
                "--env",
                "staging",
                "--format",
                "json",
            ])
            .args(extra))
    }
}

/// The `policy-weakened` messages of a run.
fn weakened(out: &Run) -> Vec<String> {
    assert_ne!(out.code, 2, "{}", out.stderr);
    out.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "policy-weakened")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

fn changed(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

#[test]
fn each_kind_of_relaxation_blocks_naming_it() {
    let cases = [
        (
            format!("{BASE}  protected-project-destroy: allow\n"),
            "rules.protected-project-destroy: deny -> allow (relax-rules)",
        ),
        (
            changed("    max-deletes: 10\n", "    max-deletes: 100\n"),
            "rules.mass-deletion.max-deletes: 10 -> 100 (relax-thresholds)",
        ),
        (
            changed("  - address: \"module.db.*\"\n", ""),
            "protected-resources: removed address module.db.* (remove-protections)",
        ),
        (
            changed("    protected: true\n", ""),
            "environments.production: protected: true removed (remove-protections)",
        ),
        (
            changed(
                "stateful-types: [mongodbatlas_cluster]",
                "stateful-types: []",
            ),
            "stateful-types: removed mongodbatlas_cluster (remove-protections)",
        ),
        (
            changed("    aliases: [prod]", "    aliases: []"),
            "environments.production: alias prod removed (change-environments)",
        ),
        (
            changed("    environment: production", "    environment: staging"),
            "projects: mapping name \"payments-.*\": production -> staging (change-environments)",
        ),
        (
            changed("tag-keys: [env, Environment]", "tag-keys: [env]"),
            "resource-environment.tag-keys: Environment no longer read (change-environments)",
        ),
    ];
    for (head, what) in cases {
        let repo = Repo::new(Some(BASE), Some(&head));
        let out = repo.check(&["--base-ref", "main"]);
        assert_eq!(out.code, 1, "{what}: {}", out.stdout);
        let found = weakened(&out);
        assert_eq!(found.len(), 1, "{what}: {found:?}");
        assert!(found[0].starts_with(what), "{found:?}");
        assert!(found[0].contains("the merge base with main"), "{found:?}");
    }
}

#[test]
fn a_tightening_passes() {
    let head = changed("    max-deletes: 10\n", "    max-deletes: 3\n").replace(
        "untagged-destroy: deny",
        "untagged-destroy: deny\n  state-forget: deny",
    );
    let out = Repo::new(Some(BASE), Some(&head)).check(&["--base-ref", "main"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(weakened(&out).is_empty());
}

#[test]
fn the_layer_under_review_cannot_silence_the_finding_about_itself() {
    let head = format!("{BASE}  policy-weakened: allow\n  cross-env-destroy: allow\n");
    let out = Repo::new(Some(BASE), Some(&head)).check(&["--base-ref", "main"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(weakened(&out).len(), 2, "{:?}", weakened(&out));
}

#[test]
fn intent_never_excuses_a_weakened_policy() {
    let head = format!("{BASE}  cross-env-destroy: allow\n");
    let repo = Repo::new(Some(BASE), Some(&head));
    let out = repo.check(&["--base-ref", "main", "--allow-destroy-in", "staging"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
}

#[test]
fn a_new_file_is_compared_with_the_built_in_default() {
    // No plangate.yaml on main: the pull request's new file relaxes the built-in policy.
    let relaxing = "version: 1\nrules:\n  cross-env-destroy: warn\n";
    let out = Repo::new(None, Some(relaxing)).check(&["--base-ref", "main"]);
    assert_eq!(out.code, 1);
    assert!(weakened(&out)[0].starts_with("rules.cross-env-destroy: deny -> warn"));
    let tightening = "version: 1\nrules:\n  untagged-destroy: deny\n";
    assert_eq!(
        Repo::new(None, Some(tightening))
            .check(&["--base-ref", "main"])
            .code,
        0
    );
}

#[test]
fn deleting_the_file_is_compared_too() {
    let out = Repo::new(Some(BASE), None).check(&["--base-ref", "main"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let found = weakened(&out);
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("rules.untagged-destroy: deny -> warn")),
        "{found:?}"
    );
}

#[test]
fn an_unreadable_base_is_a_warning_with_the_fix() {
    let head = format!("{BASE}  cross-env-destroy: allow\n");
    let out = Repo::new(Some(BASE), Some(&head)).check(&["--base-ref", "no-such-branch"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report = out.json();
    let unverified = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "policy-unverified")
        .expect("policy-unverified");
    assert_eq!(unverified["level"], "warn");
    assert!(unverified["message"]
        .as_str()
        .unwrap()
        .contains("fetch-depth: 0"));
}

#[test]
fn base_ref_comes_from_the_ci_variables() {
    let head = format!("{BASE}  cross-env-destroy: allow\n");
    let repo = Repo::new(Some(BASE), Some(&head));
    for var in [
        "BASE_BRANCH_NAME",
        "GITHUB_BASE_REF",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    ] {
        let out = run(plangate(&repo.dir)
            .args([
                "check",
                "--plan",
                "plan.json",
                "--env",
                "staging",
                "--format",
                "json",
            ])
            .env(var, "main"));
        assert_eq!(out.code, 1, "{var}: {}", out.stdout);
        assert_eq!(weakened(&out).len(), 1, "{var}");
    }
}

#[test]
fn with_a_trusted_policy_the_repository_may_only_tighten() {
    let repo = Repo::new(
        None,
        Some("version: 1\nrules:\n  mass-deletion:\n    max-deletes: 100\n"),
    );
    let trusted = repo.dir.join("../trusted.yaml");
    std::fs::write(
        &trusted,
        "version: 1\nrules:\n  mass-deletion:\n    max-deletes: 10\n",
    )
    .unwrap();
    let trusted = trusted.to_str().unwrap();
    let out = repo.check(&["--policy", trusted]);
    assert_eq!(out.code, 1);
    let found = weakened(&out);
    assert!(
        found[0].contains("compared with the trusted policy"),
        "{found:?}"
    );
    // Through the environment, as an Atlantis server or CI workflow sets it.
    let out = run(plangate(&repo.dir)
        .args([
            "check",
            "--plan",
            "plan.json",
            "--env",
            "staging",
            "--format",
            "json",
        ])
        .env("PLANGATE_POLICY", trusted));
    assert_eq!(out.code, 1);
    // The operator may let repositories tune thresholds.
    std::fs::write(
        repo.dir.join("../trusted.yaml"),
        "version: 1\nrepository-may: [relax-thresholds]\nrules:\n  mass-deletion:\n    max-deletes: 10\n",
    )
    .unwrap();
    assert_eq!(repo.check(&["--policy", trusted]).code, 0);
}

/// Output that cannot be written is exit 2 in every mode, never a pass.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_exit_2_in_every_mode() {
    let dir = crate::binary::root().join("examples/incidents/wrong-project-destroys-dev");
    let full = || {
        std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let check = [
        "check",
        "--plan",
        "plan.json",
        "--atlantis",
        "atlantis.yaml",
        "--project",
    ];
    let cases: Vec<Vec<&str>> = vec![
        [&check[..], &["rosey-staging"]].concat(),
        [&check[..], &["rosey-staging", "--mode", "report"]].concat(),
        [&check[..], &["rosey-staging", "--mode", "enforce"]].concat(),
        [&check[..], &["rosey-staging", "--mode", "policy-check"]].concat(),
        [&check[..], &["rosey-staging", "--format", "json"]].concat(),
        vec!["rules"],
        vec!["explain", "cross-env-destroy"],
        vec!["lint", "atlantis.yaml"],
    ];
    for args in cases {
        let out = run(plangate(&dir).args(&args).stdout(full()));
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("cannot write"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // An --output file that cannot be written is exit 2 as well.
    let out = run(plangate(&dir)
        .args([&check[..], &["rosey-staging", "--output", "json=/dev/full"]].concat()));
    assert_eq!(out.code, 2, "{}", out.stderr);
}
