//! Real programs where the machine has them: Atlantis (installed by
//! `scripts/e2e/install-atlantis.sh` into the plangate cache) driving plangate end to end, a
//! real Actions runner (act, `scripts/e2e/install-act.sh`) running the Action and the example
//! workflow, `scripts/install.sh` against a loopback release server, and OpenTofu (built by
//! `scripts/build-tofu.sh`) writing a plan plangate reads. A program that is not there is a
//! visible skip; once it is there, its failures fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `$PLANGATE_CACHE/bin/NAME` (default cache `~/.cache/plangate`), when it exists.
fn cached(name: &str) -> Option<PathBuf> {
    let cache = std::env::var_os("PLANGATE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/plangate")))?;
    let path = cache.join("bin").join(name);
    path.is_file().then_some(path)
}

fn skip(why: &str) {
    let _ = writeln!(std::io::stderr().lock(), "skipped: {why}");
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run a harness script; its own output is shown when it fails. The plangate it uses is the
/// one this test binary was built with.
fn harness(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) {
    let out = Command::new("python3")
        .args(args)
        .current_dir(root())
        .env("PLANGATE_BIN", env!("CARGO_BIN_EXE_plangate"))
        .envs(env.iter().copied())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The harness's own skip notes reach the terminal too.
    for line in stdout.lines().chain(stderr.lines()) {
        if line.starts_with("skipped:") {
            skip(line.trim_start_matches("skipped:").trim());
        }
    }
    assert!(out.status.success(), "{stdout}\n{stderr}");
}

#[test]
fn plangate_inside_a_real_atlantis() {
    let Some(atlantis) = cached("atlantis") else {
        return skip("Atlantis is not installed (scripts/e2e/install-atlantis.sh)");
    };
    harness(
        &[
            "tests/e2e/atlantis/run.py".as_ref(),
            "--plangate".as_ref(),
            env!("CARGO_BIN_EXE_plangate").as_ref(),
            "--atlantis".as_ref(),
            atlantis.as_os_str(),
        ],
        &[],
    );
}

#[test]
fn the_action_and_the_example_workflow_in_a_real_runner() {
    let Some(act) = cached("act") else {
        return skip("act is not installed (scripts/e2e/install-act.sh)");
    };
    let act = act.to_string_lossy().to_string();
    harness(&["tests/e2e/act/run.py".as_ref()], &[("ACT", act.as_str())]);
}

/// The source-build fallback is left out here (a release build takes minutes); the harness
/// runs it when asked without that variable.
#[test]
fn install_sh_verifies_what_it_downloads() {
    harness(
        &["tests/e2e/install/run.py".as_ref()],
        &[("PLANGATE_E2E_SKIP_SOURCE_BUILD", "1")],
    );
}

/// A plan OpenTofu writes now, of the `opentofu-plain` fixture's configuration, is read with the
/// counts that fixture's `expected.json` states.
#[test]
fn a_plan_written_by_a_real_tofu_is_read() {
    let Some(tofu) = cached("tofu") else {
        return skip("tofu is not built (scripts/build-tofu.sh)");
    };
    let case = root().join("tests/fixtures/plans/opentofu-plain/tf");
    let work = tempfile::tempdir().unwrap();
    let run = |dir: &Path, args: &[&str]| {
        let out = Command::new(&tofu)
            .args(args)
            .current_dir(dir)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .output()
            .expect("tofu runs");
        assert!(
            out.status.success(),
            "tofu {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let step = |name: &str| {
        let dir = work.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(case.join(name).join("main.tf"), dir.join("main.tf")).unwrap();
        dir
    };
    // Apply the first configuration, then plan the second against its state.
    let first = step("step1");
    run(&first, &["init", "-input=false"]);
    run(&first, &["apply", "-auto-approve", "-input=false"]);
    let plan_dir = if case.join("config").is_dir() {
        "config"
    } else {
        "step2"
    };
    let second = step(plan_dir);
    std::fs::copy(
        first.join("terraform.tfstate"),
        second.join("terraform.tfstate"),
    )
    .unwrap();
    run(&second, &["init", "-input=false"]);
    run(&second, &["plan", "-input=false", "-out=plan.tfplan"]);
    let json = run(&second, &["show", "-json", "plan.tfplan"]);
    let plan = second.join("plan.json");
    std::fs::write(&plan, json).unwrap();
    let out = crate::binary::run(crate::binary::plangate(&second).args([
        "check",
        "--plan",
        "plan.json",
        "--env",
        "staging",
        "--format",
        "json",
    ]));
    assert_ne!(out.code, 2, "{}", out.stderr);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/plans/opentofu-plain/expected.json"))
            .unwrap(),
    )
    .unwrap();
    let counts = &out.json()["projects"][0]["counts"];
    for (key, want) in expected["counts"].as_object().unwrap() {
        assert_eq!(&counts[key], want, "count {key}: {counts}");
    }
}
