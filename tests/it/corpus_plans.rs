//! Conformance over the shared corpus of real plans (`../shared/corpus/plans/`): every plan is
//! read with the action counts `INDEX.json` records, or rejected for a stated reason; none
//! panics. Skipped, with a message, when the corpus is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plangate::input::plan::PlanSource;
use serde_json::Value;

fn corpus() -> Option<PathBuf> {
    crate::shared_corpus::dir("plans", "INDEX.json")
}

type Counts = BTreeMap<String, u64>;

fn action_counts(source: &PlanSource) -> Result<(Counts, Counts), String> {
    let plan = source.parse().map_err(|e| e.to_string())?;
    let mut actions = BTreeMap::new();
    for c in &plan.changes {
        *actions
            .entry(c.action.terraform_list().to_string())
            .or_insert(0) += 1;
    }
    let mut drift = BTreeMap::new();
    for d in &plan.drift {
        *drift
            .entry(d.action.terraform_list().to_string())
            .or_insert(0) += 1;
    }
    Ok((actions, drift))
}

fn expected(map: Option<&Value>) -> BTreeMap<String, u64> {
    map.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// Files the corpus marks as robustness cases, with what plangate must say about each.
fn robustness_expectation(path: &str) -> Option<&'static str> {
    if path.contains("tfplan_win_utf16") {
        None // UTF-16 with a BOM is decoded and read like any plan.
    } else if path.contains("plan_with_terraform_wrapper") {
        Some("text before the JSON")
    } else if path.contains("terraform-json/testdata/invalid") {
        Some("two documents concatenated")
    } else if path.contains("plan_vpc_endpoint") {
        Some("no format_version")
    } else {
        Some("")
    }
}

#[test]
fn every_corpus_plan_is_read_or_rejected_for_a_reason() {
    let Some(dir) = corpus() else { return };
    let index: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("INDEX.json")).unwrap()).unwrap();
    assert!(
        index.len() >= 130,
        "INDEX.json lists only {} plans",
        index.len()
    );
    let mut read = 0;
    let mut rejected = 0;
    for entry in &index {
        let rel = entry["path"].as_str().unwrap();
        let path = dir.join(rel);
        let source = PlanSource::read(&path);
        let outcome = source
            .map_err(|e| e.to_string())
            .and_then(|s| action_counts(&s));
        let robustness = entry["kind"] == "robustness";
        let errored = entry["errored"] == Value::Bool(true);
        match (
            robustness.then(|| robustness_expectation(rel)).flatten(),
            errored,
        ) {
            (Some(reason), _) => {
                let err = outcome.expect_err(&format!("{rel} must be rejected"));
                assert!(err.contains(reason), "{rel}: {err}");
                assert!(
                    err.contains(&*path.to_string_lossy()),
                    "{rel}: error must name the file: {err}"
                );
                rejected += 1;
            }
            (None, true) => {
                let err = outcome.expect_err(&format!("{rel} is errored and must be rejected"));
                assert!(err.contains("errored plan"), "{rel}: {err}");
                rejected += 1;
            }
            (None, false) => {
                let (actions, drift) = outcome.unwrap_or_else(|e| panic!("{rel}: {e}"));
                assert_eq!(
                    actions,
                    expected(entry.get("actions")),
                    "{rel}: action counts"
                );
                assert_eq!(
                    drift,
                    expected(entry.get("drift_actions")),
                    "{rel}: drift counts"
                );
                read += 1;
            }
        }
    }
    eprintln!("corpus: {read} plans read, {rejected} rejected as expected");
    assert!(read >= 120);
}

#[test]
fn corpus_plans_pass_through_the_whole_gate_without_panicking() {
    let Some(dir) = corpus() else { return };
    let exe = env!("CARGO_BIN_EXE_plangate");
    let mut files = Vec::new();
    collect_json(&dir, &mut files);
    for path in files.iter().filter(|p| !p.ends_with("INDEX.json")) {
        let out = std::process::Command::new(exe)
            .args(["check", "--env", "staging", "--format", "json", "--plan"])
            .arg(path)
            .output()
            .unwrap();
        let code = out.status.code().expect("plangate was killed by a signal");
        assert!(matches!(code, 0..=2), "{}: exit {code}", path.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", path.display());
        if code == 2 {
            assert_eq!(
                stderr.lines().count(),
                1,
                "{}: one-line error expected: {stderr}",
                path.display()
            );
        } else {
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(report["schema_version"], 1);
        }
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_json(&p, out);
        } else if p.extension().is_some_and(|e| e == "json")
            && !p.ends_with("terraform-version.json")
        {
            out.push(p);
        }
    }
}
