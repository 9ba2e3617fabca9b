//! A value marked sensitive anywhere above it (`before_sensitive`: a whole `tags` map, a nested
//! block, a list element) is never printed, in any format: not as a tag value, not where the
//! provider repeats it unmarked (`tags_all`, `effective_labels`), not as the attribute a
//! protected-resource entry matched, not as a namespace name, not as a key of `replace_paths`.

use crate::binary::{plangate, run};

/// Each place holds a different secret, so a leak says where it came from.
const PLAN: &str = r#"{"format_version":"1.2","planned_values":{},"resource_changes":[
  {"address":"aws_s3_bucket.logs","mode":"managed","type":"aws_s3_bucket","name":"logs",
   "change":{"actions":["delete"],
     "before":{"bucket":"logs","tags":{"env":"dev-SECRET1"},"tags_all":{"env":"dev-SECRET1"}},
     "before_sensitive":{"tags":true,"tags_all":{}}}},
  {"address":"google_sql_database_instance.db","mode":"managed","type":"google_sql_database_instance","name":"db",
   "change":{"actions":["delete"],
     "before":{"name":"SECRET2-db","labels":{"env":"SECRET3"},"effective_labels":{"env":"SECRET3"}},
     "before_sensitive":{"name":true,"labels":{"env":true}}}},
  {"address":"kubernetes_config_map.cfg","mode":"managed","type":"kubernetes_config_map","name":"cfg",
   "change":{"actions":["delete"],
     "before":{"metadata":[{"name":"cfg","namespace":"prod-SECRET4","labels":{}}],"data":{}},
     "before_sensitive":{"metadata":[{"namespace":true}]}}},
  {"address":"aws_db_instance.main","mode":"managed","type":"aws_db_instance","name":"main",
   "action_reason":"replace_because_cannot_update",
   "change":{"actions":["delete","create"],
     "before":{"identifier":"main","tags":{"SECRET5-key":"x","env":"staging"}},
     "before_sensitive":{"tags":true},
     "replace_paths":[["tags","SECRET5-key"]]}}
]}"#;

const POLICY: &str = r#"version: 1
protected-resources:
  - type: google_sql_database_instance
    attribute: name
    values: ["*-db"]
  - type: "kubernetes_namespace"
    attribute: metadata.0.name
    values: ["prod-*"]
"#;

#[test]
fn no_planted_secret_reaches_any_format() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("plan.json"), PLAN).unwrap();
    std::fs::write(tmp.path().join("policy.yaml"), POLICY).unwrap();
    let base = [
        "check",
        "--plan",
        "plan.json",
        "--project",
        "app-staging",
        "--env",
        "staging",
        "--policy",
        "policy.yaml",
    ];
    let mut runs = Vec::new();
    for format in [
        "text",
        "json",
        "markdown",
        "atlantis",
        "sarif",
        "github-annotations",
    ] {
        runs.push((
            format,
            run(plangate(tmp.path()).args(base).args(["--format", format])),
        ));
    }
    runs.push((
        "policy-check",
        run(plangate(tmp.path())
            .args(base)
            .args(["--mode", "policy-check"])),
    ));
    for (format, out) in &runs {
        assert_ne!(out.code, 2, "{format}: {}", out.stderr);
        for n in 1..=5 {
            let secret = format!("SECRET{n}");
            assert!(
                !out.stdout.contains(&secret) && !out.stderr.contains(&secret),
                "{format} printed {secret}:\n{}{}",
                out.stdout,
                out.stderr
            );
        }
    }
    // The secrets still decided: the rules saw the values they could not show.
    let json = &runs[1].1.json();
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in [
        "cross-env-destroy",
        "protected-resource-destroy",
        "stateful-replace",
    ] {
        assert!(rules.contains(&rule), "{rule} missing: {rules:?}");
    }
}

/// A for_each key may hold any string. Its control characters reach no format raw: nothing can
/// repaint a terminal line, forge a workflow command or break a line of the Atlantis output.
#[test]
fn control_characters_in_names_are_escaped_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let key = "a\\r\\u001b[2K\\u001b]0;owned\\u0007\\n::error::forged\\u009b\\u202e";
    let plan = format!(
        r#"{{"format_version":"1.2","planned_values":{{}},"resource_changes":[
      {{"address":"aws_instance.web[\"{key}\"]","mode":"managed","type":"aws_instance","name":"web","index":"x",
       "change":{{"actions":["delete"],"before":{{"tags":{{"env":"dev"}}}}}}}}]}}"#
    );
    std::fs::write(tmp.path().join("plan.json"), plan).unwrap();
    for format in [
        "text",
        "json",
        "markdown",
        "atlantis",
        "sarif",
        "github-annotations",
    ] {
        let out = run(plangate(tmp.path()).args([
            "check",
            "--plan",
            "plan.json",
            "--env",
            "staging",
            "--format",
            format,
        ]));
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        let raw = out
            .stdout
            .chars()
            .find(|c| (c.is_control() && *c != '\n') || *c == '\u{202e}');
        assert_eq!(
            raw, None,
            "{format} passed a control character through:\n{:?}",
            out.stdout
        );
        if format == "github-annotations" {
            assert!(
                out.stdout
                    .lines()
                    .all(|l| !l.starts_with("::error::forged")),
                "a forged annotation:\n{}",
                out.stdout
            );
        }
        if matches!(format, "json" | "sarif") {
            serde_json::from_str::<serde_json::Value>(&out.stdout).expect("valid JSON");
        }
    }
}

/// A 200,000-character for_each key: every human-facing format shows a bounded part of it (the
/// JSON report keeps it whole).
#[test]
fn a_very_long_name_is_folded_in_human_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let key = "k".repeat(200_000);
    let plan = format!(
        r#"{{"format_version":"1.2","planned_values":{{}},"resource_changes":[
      {{"address":"aws_instance.web[\"{key}\"]","mode":"managed","type":"aws_instance","name":"web","index":"x",
       "change":{{"actions":["delete"],"before":{{"tags":{{"env":"dev"}}}}}}}}]}}"#
    );
    std::fs::write(tmp.path().join("plan.json"), plan).unwrap();
    for (format, limit) in [
        ("text", 12_000),
        ("atlantis", 4_000),
        ("markdown", 64_000),
        ("github-annotations", 4_000),
    ] {
        let out = run(plangate(tmp.path()).args([
            "check",
            "--plan",
            "plan.json",
            "--env",
            "staging",
            "--format",
            format,
        ]));
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert!(
            out.stdout.len() < limit,
            "{format}: {} bytes",
            out.stdout.len()
        );
        assert!(
            out.stdout.contains("…("),
            "{format} says it folded the name"
        );
    }
    let out = run(plangate(tmp.path()).args([
        "check",
        "--plan",
        "plan.json",
        "--env",
        "staging",
        "--format",
        "json",
    ]));
    assert!(
        out.stdout.contains(&key),
        "the JSON report keeps the name whole"
    );
}
