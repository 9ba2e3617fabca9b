//! Declarative rule cases: every directory under `tests/fixtures/cases/<rule>/<case>/` holds an
//! `args` file (one argument per line; run in that directory) and `expected.json` (exit code and
//! the findings: rule, level, project, address, resource environment). Regenerate expectations
//! after a deliberate change with `PLANGATE_UPDATE_FIXTURES=1 cargo test --test it fixture_cases`
//! and review the diff.

use std::path::{Path, PathBuf};

use crate::binary::{plangate, root, run};
use serde_json::{json, Value};

fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let base = root().join("tests/fixtures/cases");
    for rule in std::fs::read_dir(&base).unwrap().flatten() {
        for case in std::fs::read_dir(rule.path()).unwrap().flatten() {
            if case.path().join("args").is_file() {
                out.push(case.path());
            }
        }
    }
    out.sort();
    out
}

fn summarise(report: &Value, code: i32) -> Value {
    let findings: Vec<Value> = report["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    json!({
                        "rule": f["rule"],
                        "level": f["level"],
                        "project": f["project"],
                        "address": f["address"],
                        "resource_environment": f["resource_environment"],
                        "instances": f["instances"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({ "exit": code, "verdict": report["verdict"], "findings": findings })
}

fn run_case(dir: &Path) -> Result<(), String> {
    let args: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let out = run(plangate(dir).args(&args).args(["--format", "json"]));
    if out.code == 2 {
        return Err(format!("exit 2: {}", out.stderr));
    }
    let actual = summarise(&out.json(), out.code);
    let expected_path = dir.join("expected.json");
    if std::env::var_os("PLANGATE_UPDATE_FIXTURES").is_some() {
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        std::fs::write(&expected_path, text).unwrap();
        return Ok(());
    }
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(&expected_path).map_err(|e| format!("expected.json: {e}"))?,
    )
    .map_err(|e| format!("expected.json: {e}"))?;
    if actual != expected {
        return Err(format!(
            "expected:\n{}\nactual:\n{}",
            serde_json::to_string_pretty(&expected).unwrap(),
            serde_json::to_string_pretty(&actual).unwrap()
        ));
    }
    Ok(())
}

#[test]
fn every_rule_case_gives_its_expected_findings() {
    let cases = cases();
    assert!(cases.len() >= 7, "only {} cases found", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| run_case(c).err().map(|e| format!("{}: {e}", c.display())))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_rule_has_cases() {
    let base = root().join("tests/fixtures/cases");
    for rule in plangate::rules::all() {
        assert!(
            base.join(rule.id().as_str()).is_dir(),
            "no fixture cases for {}",
            rule.id()
        );
    }
}
