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
