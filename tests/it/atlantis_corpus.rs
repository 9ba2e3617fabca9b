//! Runs every real-world file of `../shared/corpus/atlantis/` through the atlantis.yaml or
//! repos.yaml reader and checks the outcome against the corpus's `SOURCES.md` notes: files
//! noted as having UNKNOWN keys, INVALID YAML or DUPLICATE project names must be rejected with
//! positioned diagnostics; the others must load with the noted number of projects.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use plangate::input::atlantis::{load, load_repos_yaml};
use plangate::{Diagnostic, Error};

/// Files whose notes expect a clean load but that real Atlantis rejects, with the reason and a
/// text the diagnostics must contain. The notes were generated from key lists only, so they
/// cannot see value checks.
const REJECTED_BY_ATLANTIS: &[(&str, &str)] = &[
    // A template placeholder: `terraform_version: <TERRAFORM_VERSION>`. Atlantis validates
    // terraform_version with hashicorp/go-version's NewVersion (raw.VersionValidator in
    // server/core/config/raw/raw.go), which cannot parse it, so Atlantis rejects the file.
    (
        "CloudGeometry__cg-devx-wl-gitops-template__atlantis.yaml",
        "version \"<TERRAFORM_VERSION>\" could not be parsed",
    ),
];

#[derive(Debug)]
enum Expectation {
    /// Rejected; every listed text must appear in some diagnostic.
    Rejected(Vec<String>),
    Loads {
        projects: usize,
        workflows: Option<usize>,
    },
    LoadsRepos {
        repos: usize,
        workflows: Option<usize>,
        policies: Option<bool>,
    },
}

struct Row {
    file: String,
    notes: String,
}

/// The rows of SOURCES.md's table: `| # | repo | path | commit | where | local file | notes |`.
fn rows(sources: &str) -> Vec<Row> {
    sources
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            if cells.len() < 7 || cells[0].trim().parse::<u32>().is_err() {
                return None;
            }
            Some(Row {
                file: cells[5].trim().trim_matches('`').to_string(),
                notes: cells[6..].join("|").trim().to_string(),
            })
        })
        .collect()
}

/// The number after `key=` in the notes (`projects=25`), if present.
fn count(notes: &str, key: &str) -> Option<usize> {
    let start = notes.find(&format!("{key}="))? + key.len() + 1;
    let digits: String = notes[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Key names after each `UNKNOWN ... keys...: a,b` in the notes.
fn unknown_keys(notes: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for part in notes.split("UNKNOWN").skip(1) {
        let Some((_, rest)) = part.split_once(':') else {
            continue;
        };
        let list = rest.split(';').next().unwrap_or("");
        keys.extend(
            list.split(',')
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty()),
        );
    }
    keys
}

fn expectation(row: &Row) -> Expectation {
    if let Some((_, reason)) = REJECTED_BY_ATLANTIS.iter().find(|(f, _)| *f == row.file) {
        return Expectation::Rejected(vec![(*reason).to_string()]);
    }
    let notes = &row.notes;
    if notes.contains("UNKNOWN") || notes.contains("INVALID YAML") || notes.contains("DUPLICATE") {
        let mut texts: Vec<String> = unknown_keys(notes)
            .into_iter()
            .map(|k| format!("unknown key `{k}`"))
            .collect();
        if notes.contains("INVALID YAML") {
            texts.push("invalid YAML".to_string());
        }
        if notes.contains("DUPLICATE project names") {
            texts.push("found two or more projects with name".to_string());
        }
        return Expectation::Rejected(texts);
    }
    if row.file.ends_with("__repos.yaml") {
        return Expectation::LoadsRepos {
            repos: count(notes, "repos").unwrap_or(0),
            workflows: count(notes, "workflows"),
            policies: if notes.contains("policies=yes") {
                Some(true)
            } else if notes.contains("policies=no") {
                Some(false)
            } else {
                None
            },
        };
    }
    Expectation::Loads {
        projects: count(notes, "projects").unwrap_or(0),
        workflows: count(notes, "workflows"),
    }
}

fn check_rejection(
    diagnostics: &[Diagnostic],
    texts: &[String],
    path: &Path,
) -> Result<(), String> {
    if diagnostics.is_empty() {
        return Err("rejected without any diagnostic".to_string());
    }
    for d in diagnostics {
        if d.position.is_none_or(|p| p.line == 0) {
            return Err(format!("diagnostic without a line: {d}"));
        }
        if d.message.contains('\n') {
            return Err(format!("multi-line diagnostic: {d:?}"));
        }
        if d.path != path {
            return Err(format!("diagnostic names another file: {d}"));
        }
    }
    for text in texts {
        if !diagnostics
            .iter()
            .any(|d| d.message.contains(text.as_str()))
        {
            let all: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            return Err(format!("no diagnostic mentions {text:?}; got {all:#?}"));
        }
    }
    Ok(())
}

/// What a file loaded as: projects (atlantis.yaml) or repos (repos.yaml), and so on.
struct Loaded {
    entries: usize,
    workflows: usize,
    policies: Option<bool>,
}

fn load_any(path: &Path) -> plangate::Result<Loaded> {
    if path.to_string_lossy().ends_with("__repos.yaml") {
        load_repos_yaml(path).map(|c| Loaded {
            entries: c.repos.len(),
            workflows: c.workflows.len(),
            policies: Some(c.has_policies),
        })
    } else {
        load(path).map(|c| Loaded {
            entries: c.projects.len(),
            workflows: c.workflows.len(),
            policies: None,
        })
    }
}

fn check(path: &Path, expected: &Expectation) -> Result<String, String> {
    let (loaded, workflows, policies) = match (expected, load_any(path)) {
        (Expectation::Rejected(texts), Err(Error::Config(diagnostics))) => {
            check_rejection(&diagnostics, texts, path)?;
            return Ok(format!("rejected ({} diagnostics)", diagnostics.len()));
        }
        (Expectation::Rejected(_), Ok(_)) => {
            return Err("loaded, but Atlantis rejects it".to_string())
        }
        (_, Err(e)) => return Err(format!("expected to load, got: {e}")),
        (
            Expectation::Loads {
                projects,
                workflows,
            },
            Ok(loaded),
        ) => {
            if loaded.entries != *projects {
                return Err(format!("{} projects, notes say {projects}", loaded.entries));
            }
            (loaded, *workflows, None)
        }
        (
            Expectation::LoadsRepos {
                repos,
                workflows,
                policies,
            },
            Ok(loaded),
        ) => {
            if loaded.entries != *repos {
                return Err(format!("{} repos, notes say {repos}", loaded.entries));
            }
            (loaded, *workflows, *policies)
        }
    };
    if workflows.is_some_and(|w| w != loaded.workflows) {
        return Err(format!(
            "{} workflows, notes say {workflows:?}",
            loaded.workflows
        ));
    }
    if policies.is_some() && policies != loaded.policies {
        return Err(format!(
            "policies {:?}, notes say {policies:?}",
            loaded.policies
        ));
    }
    Ok(format!(
        "{} entries, {} workflows",
        loaded.entries, loaded.workflows
    ))
}

#[test]
fn corpus_matches_what_atlantis_accepts() {
    let Some(dir) = crate::shared_corpus::dir("atlantis", "SOURCES.md") else {
        return;
    };
    let sources = fs::read_to_string(dir.join("SOURCES.md")).unwrap();
    let rows = rows(&sources);
    assert!(!rows.is_empty(), "no rows parsed from SOURCES.md");

    let mut failures = Vec::new();
    let mut files: Vec<String> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".yaml"))
            .collect(),
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    };
    files.sort();
    for file in &files {
        if !rows.iter().any(|r| &r.file == file) {
            failures.push(format!("{file}: not listed in SOURCES.md"));
        }
    }

    let mut rejected = 0;
    for row in &rows {
        let path = dir.join(&row.file);
        if !path.is_file() {
            failures.push(format!("{}: listed in SOURCES.md but missing", row.file));
            continue;
        }
        let expected = expectation(row);
        if matches!(expected, Expectation::Rejected(_)) {
            rejected += 1;
        }
        match catch_unwind(AssertUnwindSafe(|| check(&path, &expected))) {
            Ok(Ok(summary)) => eprintln!("ok   {}: {summary}", row.file),
            Ok(Err(problem)) => failures.push(format!("{}: {problem}", row.file)),
            Err(_) => failures.push(format!("{}: panicked", row.file)),
        }
    }
    eprintln!(
        "{} corpus files checked, {rejected} expected to be rejected",
        rows.len()
    );
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn notes_parsing() {
    let row = Row {
        file: "x__atlantis.yaml".to_string(),
        notes: "version=3, projects=2 (2 named), workspaces=2 [dev, prod], workflows=0; UNKNOWN \
                project keys: workspace_auto_destroy; UNKNOWN top-level keys (Atlantis strict \
                decode rejects): repo_config,foo"
            .to_string(),
    };
    assert_eq!(
        unknown_keys(&row.notes),
        ["workspace_auto_destroy", "repo_config", "foo"]
    );
    assert_eq!(count(&row.notes, "projects"), Some(2));
    assert!(matches!(expectation(&row), Expectation::Rejected(texts) if texts.len() == 3));
}
