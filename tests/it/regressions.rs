//! Every input kept in `tests/regressions/<target>/` (crashes found by `bench/fuzz.sh`) goes
//! through the path its fuzz target drives, and must be read or refused: never a panic.

use std::path::{Path, PathBuf};

use plangate::input::plan::PlanSource;
use plangate::model::intent::DestroyIntent;
use plangate::model::project::{Project, ProjectPlan};
use plangate::pipeline;
use plangate::render::{self, Format, Style};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The plan fuzz target's path: decode, parse, model, rules, report, every renderer.
fn check_plan_bytes(path: &Path, bytes: Vec<u8>) {
    let source = match PlanSource::from_bytes(path, bytes) {
        Ok(source) => source,
        Err(e) => return assert!(!e.to_string().contains('\n'), "{e}"),
    };
    let plan = match source.parse() {
        Ok(plan) => plan,
        Err(e) => return assert!(!e.to_string().contains('\n'), "{e}"),
    };
    let policy = pipeline::builtin_policy();
    let project = Project::resolve(
        &policy,
        "app-staging".into(),
        Some("app-staging".into()),
        "envs/staging".into(),
        "default".into(),
        None,
    );
    let prepared = ProjectPlan::new(
        project,
        plan,
        path.to_path_buf(),
        source.sha256().to_string(),
        &policy,
    );
    let plans = match prepared {
        Ok(plan) => vec![plan],
        Err(e) => return assert!(!e.to_string().contains('\n'), "{e}"),
    };
    let report = pipeline::evaluate(&policy, None, &DestroyIntent::default(), &plans);
    for format in [Format::Text, Format::Json] {
        let _ = render::render(format, &report, &Style::default());
    }
}

#[test]
fn kept_plan_inputs_never_panic() {
    for path in inputs("plan") {
        let bytes = std::fs::read(&path).unwrap();
        check_plan_bytes(&path, bytes);
    }
}

#[test]
fn kept_policy_inputs_never_panic() {
    for path in inputs("policy") {
        let bytes = std::fs::read(&path).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = pipeline::parse_policy(text, &path).map_err(|e| e.to_string());
        }
    }
}

#[test]
fn the_shared_corpus_plans_never_panic() {
    // Real plans (and the corpus's robustness cases) beside the repository, when present.
    let Some(corpus) = crate::shared_corpus::dir("plans", "INDEX.json") else {
        return;
    };
    let mut stack = vec![corpus];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).unwrap();
                check_plan_bytes(&path, bytes);
            }
        }
    }
}
