//! End-to-end tests of the binary that need more than a command line and its output: the JSON
//! report's schema, files written or made on the fly, every input that must fail closed with
//! exit 2 and a one-line message naming the file. Cases that are only arguments, an exit code
//! and text on stdout/stderr are data: `tests/cmd/*.toml`, run by [`cases_in_tests_cmd`].

use std::path::{Path, PathBuf};

use crate::binary::{plangate, root, run};

const INCIDENT: &str = "examples/incidents/wrong-project-destroys-dev";

/// The `tests/cmd/*.toml` cases: each names its arguments, working directory, exit code and
/// what stdout/stderr must hold (`...` any lines, `[..]` anything within a line).
/// `TRYCMD=overwrite` rewrites the expected output; review the diff.
#[test]
fn cases_in_tests_cmd() {
    assert!(!cmd_cases().is_empty(), "no cases in tests/cmd");
    trycmd::TestCases::new()
        .register_bin("plangate", Path::new(env!("CARGO_BIN_EXE_plangate")))
        .case(root().join("tests/cmd/*.toml"));
}

/// Every case runs with a cleared environment: trycmd inherits the test's environment unless
/// a case says `env.inherit = false`, and variables such as `PROJECT_NAME`, `PLANFILE`,
/// `ATLANTIS_TERRAFORM_VERSION` or `GITHUB_ACTIONS` change what plangate does.
#[test]
fn every_cmd_case_clears_the_environment() {
    for case in cmd_cases() {
        let text = std::fs::read_to_string(&case).unwrap();
        assert!(
            text.lines().any(|l| l.trim() == "env.inherit = false"),
            "{}: needs `env.inherit = false`",
            case.display()
        );
    }
}

fn cmd_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("tests/cmd"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    cases
}

#[test]
fn json_report_follows_schema_version_1() {
    let dir = root().join(INCIDENT);
    let out = run(plangate(&dir).args([
        "check",
        "--format",
        "json",
        "--plan",
        "plan.json",
        "--atlantis",
        "atlantis.yaml",
        "--project",
        "rosey-staging",
    ]));
    assert_eq!(out.code, 1);
    let report = out.json();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "plangate");
    assert_eq!(report["verdict"], "block");
    let project = &report["projects"][0];
    for key in [
        "name",
        "dir",
        "workspace",
        "environment",
        "plan_sha256",
        "verdict",
        "counts",
    ] {
        assert!(project.get(key).is_some(), "project lacks {key}: {project}");
    }
    assert_eq!(project["name"], "rosey-staging");
    assert_eq!(project["environment"], "staging");
    assert_eq!(project["plan_sha256"].as_str().unwrap().len(), 64);
    for key in [
        "create", "update", "replace", "delete", "read", "forget", "no_op", "move", "import",
    ] {
        assert!(project["counts"][key].is_u64(), "counts lack {key}");
    }
    assert_eq!(project["counts"]["delete"], 5);
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        for key in [
            "rule",
            "level",
            "project",
            "address",
            "action",
            "resource_environment",
            "message",
        ] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
    }
    let cluster = findings
        .iter()
        .find(|f| f["address"] == "aws_eks_cluster.cluster")
        .unwrap();
    assert_eq!(cluster["rule"], "cross-env-destroy");
    assert_eq!(cluster["level"], "deny");
    assert_eq!(cluster["action"], "delete");
    assert_eq!(cluster["resource_environment"], "development");
    let nodes = findings
        .iter()
        .find(|f| f["address"] == "aws_eks_node_group.nodes[*]")
        .unwrap();
    assert_eq!(nodes["instances"], 3);
}

#[test]
fn output_is_deterministic() {
    let dir = root().join(INCIDENT);
    let args = [
        "check",
        "--format",
        "json",
        "--plan",
        "plan.json",
        "--project",
        "rosey-staging",
        "--atlantis",
        "atlantis.yaml",
    ];
    let a = run(plangate(&dir).args(args));
    let b = run(plangate(&dir).args(args));
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn output_option_writes_another_format_to_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report.json");
    let dir = root().join(INCIDENT);
    let out = run(plangate(&dir)
        .args([
            "check",
            "--plan",
            "plan.json",
            "--project",
            "rosey-staging",
            "--atlantis",
            "atlantis.yaml",
            "--output",
        ])
        .arg(format!("json={}", report.display())));
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("BLOCK"));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(written["verdict"], "block");
}

#[test]
fn several_projects_are_checked_together() {
    let r = root();
    let out = run(plangate(&r).args([
        "check",
        "--format",
        "json",
        "--atlantis",
        &format!("{INCIDENT}/atlantis.yaml"),
        "--plan",
        &format!("rosey-staging={INCIDENT}/plan.json"),
        "--plan",
        &format!("rosey-dev={INCIDENT}/plan.json"),
        // The dev project tears down its own cluster, a stateful resource: meant here.
        "--allow-destroy-in",
        "rosey-dev",
    ]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.json();
    let verdicts: Vec<(String, String)> = report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        verdicts.contains(&("rosey-staging".into(), "block".into())),
        "{verdicts:?}"
    );
    // One plan given to both projects: the same objects are in two states, so the dev
    // project, whose own teardown is declared, is blocked by shared-resource alone.
    assert!(
        verdicts.contains(&("rosey-dev".into(), "block".into())),
        "{verdicts:?}"
    );
    let dev_denies: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["project"] == "rosey-dev" && f["level"] == "deny")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        !dev_denies.is_empty() && dev_denies.iter().all(|r| *r == "shared-resource"),
        "{dev_denies:?}"
    );
}

fn good_plan() -> Vec<u8> {
    std::fs::read(root().join(INCIDENT).join("plan.json")).unwrap()
}

/// Every input DESIGN.md section 2 lists: exit 2, one line on stderr naming the file.
#[test]
fn every_fail_closed_input_exits_2_with_a_one_line_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = good_plan();
    let plan_text = String::from_utf8(plan.clone()).unwrap();
    let errored = plan_text.replacen("\"errored\": false", "\"errored\": true", 1);
    assert_ne!(errored, plan_text, "fixture plan must state errored: false");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.json", vec![], "is empty"),
        ("blank.json", b"\n\n  \n".to_vec(), "only whitespace"),
        ("html.json", b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head></html>".to_vec(), "HTML"),
        ("truncated.json", plan[..plan.len() / 2].to_vec(), "truncated"),
        ("binary.tfplan", b"PK\x03\x04\x14\x00\x08\x00\x08\x00tfplan".to_vec(), "terraform show -json"),
        ("state.json", br#"{"version":4,"terraform_version":"1.9.0","serial":7,"lineage":"abc","outputs":{},"resources":[]}"#.to_vec(), "state file"),
        ("shown-state.json", br#"{"format_version":"1.0","terraform_version":"1.9.0","values":{"root_module":{}}}"#.to_vec(), "of a state"),
        ("future.json", br#"{"format_version":"2.0","planned_values":{},"resource_changes":[]}"#.to_vec(), "format_version 2.0"),
        ("errored.json", errored.into_bytes(), "errored plan"),
        ("concatenated.json", [plan.clone(), plan.clone()].concat(), "concatenated"),
        ("wrapper.json", [b"[command]/home/runner/bin/terraform show -json tfplan\n".to_vec(), plan.clone(), b"\n::debug::exitcode: 0\n".to_vec()].concat(), "text before the JSON"),
        ("not-json.json", b"Error: Failed to load plugin schemas".to_vec(), "is not JSON"),
        ("array.json", b"[{\"format_version\":\"1.0\"}]".to_vec(), "JSON array"),
        ("no-version.json", br#"{"planned_values":{},"resource_changes":[]}"#.to_vec(), "no format_version"),
        ("bad-action.json", br#"{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":"a.b","mode":"managed","type":"a","name":"b","change":{"actions":["purge"]}}]}"#.to_vec(), "does not know"),
        ("invalid-utf8.json", b"{\"format_version\":\"1.2\",\"x\":\"\xff\xfe\xfd\"}".to_vec(), "not valid UTF-8"),
    ];
    for (name, bytes, reason) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = run(plangate(tmp.path()).args(["check", "--env", "staging", "--plan", name]));
        assert_eq!(
            out.code, 2,
            "{name}: expected exit 2, got {}: {}{}",
            out.code, out.stdout, out.stderr
        );
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "{name}: one line expected: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(name),
            "{name}: message must name the file: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(reason),
            "{name}: expected `{reason}` in: {}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "{name}: nothing on stdout: {}",
            out.stdout
        );
    }
}

#[test]
fn byte_order_marks_are_decoded_not_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = good_plan();
    let utf8_bom = [b"\xEF\xBB\xBF".to_vec(), plan.clone()].concat();
    let text = String::from_utf8(plan).unwrap();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    for (name, bytes) in [("bom8.json", utf8_bom), ("bom16.json", utf16)] {
        std::fs::write(tmp.path().join(name), bytes).unwrap();
        let out = run(plangate(tmp.path()).args(["check", "--env", "staging", "--plan", name]));
        assert_eq!(out.code, 1, "{name}: {}", out.stderr);
    }
}

#[test]
fn sensitive_values_never_reach_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    // A destroyed resource whose identifying attributes are all sensitive.
    let plan = r#"{"format_version":"1.2","planned_values":{},"resource_changes":[
      {"address":"aws_db_instance.db","mode":"managed","type":"aws_db_instance","name":"db",
       "change":{"actions":["delete"],
         "before":{"name":"db-dev-s3cr3t-name","password":"hunter2-pass","tags":{"env":"dev-s3cr3t-tag"}},
         "before_sensitive":{"name":true,"password":true,"tags":{"env":true}}}}]}"#;
    std::fs::write(tmp.path().join("plan.json"), plan).unwrap();
    for format in ["text", "json"] {
        let out = run(plangate(tmp.path()).args([
            "check",
            "--env",
            "staging",
            "--format",
            format,
            "--plan",
            "plan.json",
        ]));
        assert_eq!(out.code, 1, "{}", out.stderr);
        for secret in ["s3cr3t", "hunter2"] {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "{format} leaked {secret}: {}",
                out.stdout
            );
        }
        assert!(out.stdout.contains("(sensitive)"), "{}", out.stdout);
    }
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = plangate(&root())
        .args(["rules"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(status.code().is_some());
}

#[test]
fn policy_errors_point_at_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("plangate.yaml"),
        "rules:\n  cross-env-destroy: deny\n  untagged-destroi: warn\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("plan.json"), good_plan()).unwrap();
    let out = run(plangate(tmp.path()).args([
        "check",
        "--env",
        "staging",
        "--plan",
        "plan.json",
        "--policy",
        "plangate.yaml",
    ]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("plangate.yaml:3:"), "{}", out.stderr);
    assert!(out.stderr.contains("untagged-destroy"), "{}", out.stderr);
}

#[test]
fn policy_at_the_repository_root_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    std::fs::create_dir_all(tmp.path().join("envs/staging")).unwrap();
    std::fs::write(
        tmp.path().join("plangate.yaml"),
        "rules:\n  cross-env-destroy: warn\n  stateful-destroy: warn\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("envs/staging/plan.json"), good_plan()).unwrap();
    let out = run(plangate(&tmp.path().join("envs/staging")).args([
        "check",
        "--plan",
        "plan.json",
        "--format",
        "json",
    ]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(report["verdict"], "warn");
    // The local dir names the project and its environment.
    assert_eq!(report["projects"][0]["environment"], "staging");
}

#[test]
fn init_writes_a_starter_policy_that_lint_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    let out = run(plangate(tmp.path()).args(["init"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(tmp.path().join("plangate.yaml").is_file());
    let again = run(plangate(tmp.path()).args(["init"]));
    assert_eq!(again.code, 2, "must not overwrite");
    std::fs::create_dir_all(tmp.path().join("envs/staging")).unwrap();
    std::fs::write(
        tmp.path().join("atlantis.yaml"),
        "version: 3\nprojects:\n  - name: app-staging\n    dir: envs/staging\n",
    )
    .unwrap();
    let lint = run(plangate(tmp.path()).args(["lint"]));
    assert_eq!(lint.code, 0, "{}{}", lint.stdout, lint.stderr);
    assert!(lint.stdout.contains("PASS"), "{}", lint.stdout);
}

#[test]
fn lint_finds_the_atlantis_mistakes_in_the_corpus() {
    let Some(corpus) = crate::shared_corpus::dir("atlantis", "SOURCES.md") else {
        return;
    };
    // cloudposse/atmos: duplicate names and unknown keys, rejected with file:line.
    let out = run(plangate(&corpus).args(["lint", "cloudposse__atmos__atlantis.yaml"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .lines()
            .all(|l| l.contains("cloudposse__atmos__atlantis.yaml:")),
        "{}",
        out.stderr
    );
    // A clean multi-environment file lints without blocking.
    let out = run(plangate(&corpus).args([
        "lint",
        "--format",
        "json",
        "EzzioMoreira__terraform-atlantis__atlantis.yaml",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["level"] == "warn"));
}
