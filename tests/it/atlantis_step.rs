//! plangate as an Atlantis workflow `run` step: the binary runs with exactly the environment
//! Atlantis gives a step (env_clear + the Atlantis variables + PATH), in the project's `$DIR`,
//! with stdin held open as Atlantis does. The committed plans in
//! `tests/fixtures/atlantis-step/plans/` cover every mode without terraform; where terraform is
//! installed, a real `terraform init/plan -out` of the fixture repo runs in the plan stage and
//! plangate makes `$SHOWFILE` itself.
//!
//! The fixture repo carries an `atlantis.yaml` naming the project `app-staging` in
//! `envs/staging`: the tests pass whether or not plangate reads it, because `$PROJECT_NAME` names
//! the same project either way.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/atlantis-step");

struct Repo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    dir: PathBuf,
}

impl Repo {
    /// A copy of the fixture repository, with a `.git` so that it is its own repository root.
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        copy_dir(&Path::new(FIXTURE).join("repo"), &root);
        std::fs::create_dir_all(root.join(".git")).unwrap();
        let dir = root.join("envs/staging");
        Repo {
            _tmp: tmp,
            root,
            dir,
        }
    }

    fn planfile(&self) -> PathBuf {
        self.dir.join("app-staging-default.tfplan")
    }

    fn showfile(&self) -> PathBuf {
        self.dir.join("app-staging-default.json")
    }

    /// A committed plan as `$SHOWFILE`, newer than a (dummy) binary `$PLANFILE`.
    fn with_committed_plan(self, scenario: &str) -> Repo {
        std::fs::write(self.planfile(), b"PK\x03\x04 binary plan").unwrap();
        set_age(&self.planfile(), 60);
        std::fs::copy(plan_fixture(scenario), self.showfile()).unwrap();
        self
    }
}

fn plan_fixture(scenario: &str) -> PathBuf {
    Path::new(FIXTURE)
        .join("plans")
        .join(format!("{scenario}.json"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Make a file look `seconds` old.
fn set_age(path: &Path, seconds: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(seconds))
        .unwrap();
}

/// The variables Atlantis sets for a run step (plus PATH).
fn atlantis_env(repo: &Repo, path: &str, tf_version: &str) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("PROJECT_NAME", "app-staging"),
        ("REPO_REL_DIR", "envs/staging"),
        ("WORKSPACE", "default"),
        ("PULL_NUM", "12"),
        ("PULL_URL", "https://github.com/acme/infra/pull/12"),
        ("PULL_AUTHOR", "alice"),
        ("BASE_REPO_OWNER", "acme"),
        ("BASE_REPO_NAME", "infra"),
        ("HEAD_REPO_OWNER", "acme"),
        ("HEAD_REPO_NAME", "infra"),
        ("HEAD_BRANCH_NAME", "remove-cache"),
        ("BASE_BRANCH_NAME", "main"),
        ("HEAD_COMMIT", "0123456789abcdef0123456789abcdef01234567"),
        ("USER_NAME", "alice"),
        ("COMMENT_ARGS", ""),
        ("ATLANTIS_TERRAFORM_DISTRIBUTION", "terraform"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let d = |p: &Path| p.display().to_string();
    vars.push(("DIR".into(), d(&repo.dir)));
    vars.push(("PLANFILE".into(), d(&repo.planfile())));
    vars.push(("SHOWFILE".into(), d(&repo.showfile())));
    vars.push(("ATLANTIS_TERRAFORM_VERSION".into(), tf_version.into()));
    vars.push(("PATH".into(), path.into()));
    vars
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run `plangate check ARGS` as a step: cleared environment, cwd `$DIR`, stdin open and never
/// written (reading it would hang until the timeout).
fn step(repo: &Repo, env: &[(String, String)], args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plangate"))
        .arg("check")
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(&repo.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin_kept_open = child.stdin.take();
    wait(child)
}

fn wait(mut child: Child) -> Run {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout_pipe.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("plangate did not finish: is it reading stdin?");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// What Atlantis shows inside a ```diff block: prefixed lines, no Markdown, no `Plan:` line.
fn assert_atlantis_text(out: &str) {
    assert!(!out.trim().is_empty());
    for line in out.lines() {
        assert!(
            line.starts_with("- ")
                || line.starts_with("+ ")
                || line.starts_with("  ")
                || line.starts_with("FAIL"),
            "unexpected line prefix: {line:?}\n{out}"
        );
        assert!(
            !line
                .trim_start_matches(['-', '+', ' '])
                .starts_with("Plan:"),
            "{out}"
        );
        for markdown in ["```", "<details", "**", "](", "| ---", "#"] {
            assert!(
                !line.contains(markdown),
                "Markdown {markdown:?} in {line:?}"
            );
        }
    }
    assert!(
        out.lines().count() <= 13,
        "too long for Atlantis not to fold it:\n{out}"
    );
}

/// A passing policy check as Atlantis (v0.39 and later) reads it: not empty, not starting with
/// `FAIL`, no `N failures` and no `failures": [`; and names are left as they are.
fn assert_no_fail_word(out: &str) {
    assert!(
        !plangate::render::policy_check::reads_as_blocked(out),
        "a passing policy check reads as blocked:\n{out}"
    );
    assert!(!out.contains('\u{200B}'), "a name was altered:\n{out}");
}

// ---- committed plans: no terraform needed ----

#[test]
fn report_mode_blocks_and_deletes_the_planfile() {
    let repo = Repo::new().with_committed_plan("block");
    let run = step(
        &repo,
        &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
        &["--mode", "report"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        !repo.planfile().exists(),
        "a blocked plan must not stay applyable"
    );
    assert!(run.stderr.contains("deleted"), "{}", run.stderr);
    assert_atlantis_text(&run.stdout);
    assert!(run.stdout.starts_with("- plangate BLOCK"), "{}", run.stdout);
    assert!(run.stdout.contains("- deny cross-env-destroy: project app-staging (staging) would delete terraform_data.dev_cache[0]"), "{}", run.stdout);
}

#[test]
fn report_is_the_default_mode_and_atlantis_the_default_format_in_a_step() {
    let repo = Repo::new().with_committed_plan("block");
    let run = step(&repo, &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"), &[]);
    assert_eq!(run.code, 1);
    assert!(!repo.planfile().exists());
    assert_atlantis_text(&run.stdout);

    let repo = Repo::new().with_committed_plan("pass");
    let run = step(&repo, &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(repo.planfile().exists());
    assert!(run.stdout.starts_with("+ plangate PASS"), "{}", run.stdout);
    assert_atlantis_text(&run.stdout);
}

#[test]
fn report_mode_passes_warnings_and_keeps_the_planfile() {
    let repo = Repo::new().with_committed_plan("warn");
    let run = step(
        &repo,
        &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
        &["--mode", "report"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(repo.planfile().exists());
    assert!(
        run.stdout.contains("  warn untagged-destroy"),
        "{}",
        run.stdout
    );
    assert_atlantis_text(&run.stdout);
}

#[test]
fn enforce_mode_stops_the_apply_without_touching_the_plan() {
    let repo = Repo::new().with_committed_plan("block");
    let run = step(
        &repo,
        &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
        &["--mode", "enforce"],
    );
    assert_eq!(run.code, 1);
    assert_atlantis_text(&run.stdout);

    let repo = Repo::new().with_committed_plan("pass");
    let run = step(
        &repo,
        &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
        &["--mode", "enforce"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(repo.planfile().exists());
}

#[test]
fn policy_check_mode_says_fail_and_counts_failures_but_exits_zero() {
    let repo = Repo::new().with_committed_plan("block");
    let run = step(
        &repo,
        &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
        &["--mode", "policy-check"],
    );
    assert_eq!(
        run.code, 0,
        "policy owners approve with `atlantis approve_policies`"
    );
    let first = run.stdout.lines().next().unwrap();
    assert!(first.starts_with("FAIL"), "{first}");
    assert!(first.contains("1 failures"), "{first}");
    assert!(
        repo.planfile().exists(),
        "approve_policies must find the plan to apply"
    );
    assert_atlantis_text(&run.stdout);
}

#[test]
fn policy_check_mode_never_says_fail_when_passing() {
    for scenario in ["pass", "warn"] {
        let repo = Repo::new().with_committed_plan(scenario);
        let run = step(
            &repo,
            &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
            &["--mode", "policy-check"],
        );
        assert_eq!(run.code, 0);
        // The warn plan deletes terraform_data.failover_scratch: the name must be defanged.
        assert_no_fail_word(&run.stdout);
        assert_atlantis_text(&run.stdout);
    }
}

#[test]
fn unreadable_input_is_exit_2_in_report_and_enforce_and_fail_in_policy_check() {
    for (mode, code) in [("report", 2), ("enforce", 2), ("policy-check", 0)] {
        let repo = Repo::new();
        std::fs::write(repo.showfile(), "<html><body>502 Bad Gateway</body></html>").unwrap();
        let run = step(
            &repo,
            &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
            &["--mode", mode],
        );
        assert_eq!(run.code, code, "{mode}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("app-staging-default.json"),
            "{mode}: {}",
            run.stderr
        );
        if mode == "policy-check" {
            let first = run.stdout.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("FAIL") && first.contains("could not evaluate"),
                "{}",
                run.stdout
            );
        }
    }
}

#[test]
fn report_mode_deletes_a_plan_it_could_not_check() {
    let repo = Repo::new().with_committed_plan("block");
    std::fs::write(repo.showfile(), "").unwrap();
    let run = step(
        &repo,
        &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
        &["--mode", "report"],
    );
    assert_eq!(run.code, 2);
    assert!(!repo.planfile().exists());
}

/// A stand-in for the version-specific binary Atlantis installs: records its arguments, cwd
/// and stdin, and prints a committed plan.
fn fake_terraform(bin_dir: &Path, name: &str, scenario: &str, log: &Path) {
    std::fs::create_dir_all(bin_dir).unwrap();
    let script = format!(
        "#!/bin/sh\necho \"$@\" > '{log}'\npwd >> '{log}'\ncat >> '{log}'\ncat '{plan}'\n",
        log = log.display(),
        plan = plan_fixture(scenario).display()
    );
    let path = bin_dir.join(name);
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_stale_showfile_is_made_again_with_the_version_specific_binary() {
    let repo = Repo::new().with_committed_plan("pass");
    // The plan is newer than the JSON: the JSON is from an older plan and must not be trusted.
    set_age(&repo.showfile(), 120);
    let bin = repo.root.parent().unwrap().join("bin");
    let log = repo.root.parent().unwrap().join("show.log");
    fake_terraform(&bin, "terraform1.9.8", "block", &log);
    fake_terraform(
        &bin,
        "terraform",
        "pass",
        &repo.root.parent().unwrap().join("wrong.log"),
    );
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let run = step(
        &repo,
        &atlantis_env(&repo, &path, "1.9.8"),
        &["--mode", "enforce"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let logged = std::fs::read_to_string(&log).unwrap();
    let mut lines = logged.lines();
    assert_eq!(
        lines.next(),
        Some(format!("show -json -no-color {}", repo.planfile().display()).as_str())
    );
    assert_eq!(
        lines.next().map(PathBuf::from),
        Some(repo.dir.canonicalize().unwrap())
    );
    assert_eq!(
        lines.next(),
        None,
        "stdin must be empty, never the step's stdin"
    );
    assert_eq!(
        std::fs::read(repo.showfile()).unwrap(),
        std::fs::read(plan_fixture("block")).unwrap()
    );
}

#[test]
fn a_missing_showfile_without_terraform_says_how_to_fix_it() {
    let repo = Repo::new();
    std::fs::write(repo.planfile(), b"binary").unwrap();
    let run = step(
        &repo,
        &atlantis_env(&repo, "/nonexistent", "1.9.8"),
        &["--mode", "report"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("terraform1.9.8, terraform"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`show` step"), "{}", run.stderr);
}

#[test]
fn an_explicit_plan_still_wins_over_showfile() {
    let repo = Repo::new().with_committed_plan("block");
    let pass = plan_fixture("pass").display().to_string();
    let run = step(
        &repo,
        &atlantis_env(&repo, SYSTEM_PATH, "1.11.4"),
        &["--plan", &pass, "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("\"verdict\": \"pass\""));
}

// ---- a real terraform in the plan stage ----

fn terraform() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("terraform"))
                .find(|p| p.is_file())
        })
        .unwrap_or_default()
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()));
    if found.is_none() {
        eprintln!("skipped: terraform is not installed; the committed plans cover these cases");
    }
    found
}

fn terraform_run(tf: &Path, repo: &Repo, args: &[&str]) {
    let rc = repo.root.parent().unwrap().join("empty.tfrc");
    std::fs::write(&rc, "").unwrap();
    let out = Command::new(tf)
        .args(args)
        .current_dir(&repo.dir)
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("HOME", repo.root.parent().unwrap())
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The plan stage as Atlantis runs it: `init`, `plan -out $PLANFILE`, then plangate (which
/// makes `$SHOWFILE` itself with `terraform show -json`).
fn real_plan(tf: &Path, repo: &Repo, vars: &[&str]) {
    let planfile = repo.planfile().display().to_string();
    let mut args = vec!["plan", "-input=false", "-no-color", "-out", &planfile];
    for v in vars {
        args.extend(["-var", v]);
    }
    terraform_run(tf, repo, &args);
}

#[test]
fn real_terraform_plan_stage_in_every_mode() {
    let Some(tf) = terraform() else { return };
    let repo = Repo::new();
    terraform_run(&tf, &repo, &["init", "-input=false", "-no-color"]);
    terraform_run(
        &tf,
        &repo,
        &["apply", "-input=false", "-no-color", "-auto-approve"],
    );
    let env = atlantis_env(&repo, SYSTEM_PATH, "1.11.4");

    // report: a cross-environment delete is blocked and the planfile removed.
    real_plan(&tf, &repo, &["keep_dev_cache=false"]);
    let run = step(&repo, &env, &["--mode", "report"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(!repo.planfile().exists());
    assert!(repo.showfile().exists(), "plangate writes $SHOWFILE");
    assert_atlantis_text(&run.stdout);
    assert!(run.stdout.contains("cross-env-destroy"), "{}", run.stdout);

    // report: a create passes and the planfile stays.
    real_plan(&tf, &repo, &["add_worker=true"]);
    let run = step(&repo, &env, &["--mode", "report"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(repo.planfile().exists());
    assert_atlantis_text(&run.stdout);

    // enforce: $SHOWFILE is now older than the new plan, so it is made again; exit 1 stops the apply.
    real_plan(&tf, &repo, &["keep_dev_cache=false"]);
    let run = step(&repo, &env, &["--mode", "enforce"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(repo.planfile().exists());

    // policy-check: FAIL and N failures, exit 0; passing output never says fail.
    let run = step(&repo, &env, &["--mode", "policy-check"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("FAIL") && run.stdout.lines().next().unwrap().contains("1 failures"),
        "{}",
        run.stdout
    );
    real_plan(&tf, &repo, &["keep_scratch=false"]);
    let run = step(&repo, &env, &["--mode", "policy-check"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("untagged-destroy"), "{}", run.stdout);
    assert_no_fail_word(&run.stdout);
    assert_atlantis_text(&run.stdout);
}
