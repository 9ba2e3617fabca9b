//! The GitHub Action's logic, `scripts/action.sh`, run directly (there is no Actions runner
//! here) with a fake `$GITHUB_EVENT_PATH`, `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`, and the
//! freshly built binary as `$PLANGATE_BIN`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn fixture(name: &str) -> String {
    format!("{ROOT}/tests/fixtures/atlantis-step/plans/{name}.json")
}

fn policy() -> String {
    format!("{ROOT}/tests/fixtures/atlantis-step/repo/plangate.yaml")
}

struct Action {
    tmp: tempfile::TempDir,
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: HashMap<String, String>,
    summary: String,
}

impl Action {
    fn new() -> Action {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("event.json"),
            r#"{"action": "synchronize", "number": 12,
                "pull_request": {"number": 12, "head": {"sha": "0123456789abcdef0123456789abcdef01234567"}},
                "repository": {"full_name": "acme/infra"}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(tmp.path().join("runner-temp")).unwrap();
        Action { tmp }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn run(&self, inputs: &[(&str, &str)]) -> Outcome {
        let out = Command::new("bash")
            .arg(format!("{ROOT}/scripts/action.sh"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PLANGATE_BIN", env!("CARGO_BIN_EXE_plangate"))
            .env("GITHUB_EVENT_PATH", self.path("event.json"))
            .env("GITHUB_OUTPUT", self.path("output"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary"))
            .env("GITHUB_REPOSITORY", "acme/infra")
            .env("GITHUB_ACTIONS", "true")
            .env("RUNNER_TEMP", self.path("runner-temp"))
            .env("INPUT_COMMENT", "false")
            .envs(inputs.iter().copied())
            .current_dir(self.tmp.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let outputs = std::fs::read_to_string(self.path("output"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs,
            summary: std::fs::read_to_string(self.path("summary")).unwrap_or_default(),
        }
    }
}

fn plans(spec: &str) -> Vec<(&'static str, String)> {
    vec![
        ("INPUT_PLANS", spec.to_string()),
        ("INPUT_POLICY", policy()),
    ]
}

fn run(action: &Action, inputs: Vec<(&str, String)>) -> Outcome {
    let pairs: Vec<(&str, &str)> = inputs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    action.run(&pairs)
}

#[test]
fn a_blocked_plan_fails_the_step_with_outputs_annotations_and_summary() {
    let action = Action::new();
    let o = run(&action, plans(&format!("app-staging={}", fixture("block"))));
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.outputs["verdict"], "block");
    assert_eq!(o.outputs["blocked"], "true");
    assert_eq!(o.outputs["pr-number"], "12");
    assert_eq!(
        o.outputs["head-sha"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    let report = std::fs::read_to_string(&o.outputs["report-path"]).unwrap();
    assert!(report.contains("\"verdict\": \"block\""), "{report}");
    let errors: Vec<&str> = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", o.stdout);
    assert!(
        errors[0].starts_with("::error title=plangate cross-env-destroy (app-staging)::project app-staging (staging) would delete terraform_data.dev_cache[0]"),
        "{}",
        errors[0]
    );
    assert!(o.summary.contains("BLOCK"), "{}", o.summary);
}

#[test]
fn fail_on_decides_which_verdict_fails_the_step() {
    let cases = [
        ("block", "block", 1),
        ("never", "block", 0),
        ("block", "warn", 0),
        ("warn", "warn", 1),
        ("warn", "pass", 0),
    ];
    for (fail_on, scenario, code) in cases {
        let action = Action::new();
        let mut inputs = plans(&format!("app-staging={}", fixture(scenario)));
        inputs.push(("INPUT_FAIL_ON", fail_on.to_string()));
        let o = run(&action, inputs);
        assert_eq!(
            o.code, code,
            "fail-on {fail_on} with a {scenario} plan: {}{}",
            o.stdout, o.stderr
        );
        assert_eq!(o.outputs["verdict"], scenario);
        assert_eq!(o.outputs["blocked"], (scenario == "block").to_string());
        if scenario == "warn" {
            assert_eq!(
                o.stdout
                    .lines()
                    .filter(|l| l.starts_with("::warning "))
                    .count(),
                1,
                "{}",
                o.stdout
            );
        }
    }
}

#[test]
fn unreadable_plans_fail_the_step_even_with_fail_on_never() {
    let action = Action::new();
    let html = action.path("plan.json");
    std::fs::write(&html, "<html>502 Bad Gateway</html>").unwrap();
    let mut inputs = plans(&html.display().to_string());
    inputs.push(("INPUT_FAIL_ON", "never".into()));
    let o = run(&action, inputs);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.outputs["verdict"], "error");
    assert_eq!(o.outputs["blocked"], "true");
    assert!(
        o.stdout
            .contains("::error title=plangate could not evaluate::"),
        "{}",
        o.stdout
    );
    assert!(o.summary.contains("could not evaluate"), "{}", o.summary);
}

#[test]
fn a_bad_fail_on_value_is_refused() {
    let action = Action::new();
    let mut inputs = plans(&fixture("pass"));
    inputs.push(("INPUT_FAIL_ON", "sometimes".into()));
    assert_eq!(run(&action, inputs).code, 2);
}

/// A plan whose addresses and project name hold every character workflow commands escape.
fn awkward_plan(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture("block")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    let changes = plan["resource_changes"].as_array_mut().unwrap();
    let deleted = changes
        .iter()
        .find(|c| c["change"]["actions"][0] == "delete")
        .unwrap()
        .clone();
    changes.clear();
    for key in ["50%", "a,b:c"] {
        let mut c = deleted.clone();
        c["address"] = format!("terraform_data.cache[\"{key}\"]").into();
        c["index"] = key.into();
        changes.push(c);
    }
    let path = dir.join("awkward.json");
    std::fs::write(&path, serde_json::to_string(&plan).unwrap()).unwrap();
    path
}

#[test]
fn annotation_text_and_properties_are_escaped() {
    let action = Action::new();
    let plan = awkward_plan(action.tmp.path());
    let o = run(
        &action,
        plans(&format!("app:staging,eu={}", plan.display())),
    );
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let error = o
        .stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap();
    let (properties, message) = error
        .trim_start_matches("::error ")
        .split_once("::")
        .unwrap();
    assert_eq!(
        properties,
        "title=plangate cross-env-destroy (app%3Astaging%2Ceu)"
    );
    // Two instances grouped: the message lists both addresses on their own lines.
    assert!(
        message.contains("%0Aterraform_data.cache[\"50%25\"]"),
        "{message}"
    );
    assert!(
        message.contains("terraform_data.cache[\"a,b:c\"]"),
        "{message}"
    );
    assert!(
        !message.contains('\n') && !message.contains("50%\""),
        "{message}"
    );
}

#[test]
fn more_than_ten_findings_of_a_level_are_not_all_annotated() {
    let action = Action::new();
    let mut inputs = Vec::new();
    let mut spec = Vec::new();
    // Twelve projects given one plan: each has a cross-env-destroy and a shared-resource error
    // (the same objects in twelve states), 24 in all.
    for i in 0..12 {
        spec.push(format!("app-staging-{i}={}", fixture("block")));
    }
    inputs.push(("INPUT_PLANS", spec.join("\n")));
    inputs.push(("INPUT_POLICY", policy()));
    let o = run(&action, inputs);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert_eq!(
        o.stdout
            .lines()
            .filter(|l| l.starts_with("::error "))
            .count(),
        10
    );
    assert!(
        o.stdout.contains("::notice title=plangate::14 more errors"),
        "{}",
        o.stdout
    );
}

#[test]
fn the_event_gives_the_pull_request_and_head_sha() {
    let action = Action::new();
    let out = Command::new(env!("CARGO_BIN_EXE_plangate"))
        .args([
            "github-event",
            &action.path("event.json").display().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pr_number=12\nhead_sha=0123456789abcdef0123456789abcdef01234567\nrepository=acme/infra\n"
    );
    std::fs::write(
        action.path("push.json"),
        r#"{"after": "abc123", "ref": "refs/heads/main"}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_plangate"))
        .args([
            "github-event",
            &action.path("push.json").display().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pr_number=\nhead_sha=abc123\nrepository=\n"
    );
}
