//! Each incident in INCIDENTS.md has an example under `examples/incidents/` whose plan the gate
//! blocks with the rule meant for it. These tests keep them blocked.

use crate::binary::{plangate, root, run};

fn check(example: &str, project: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let dir = root().join("examples/incidents").join(example);
    let out = run(plangate(&dir)
        .args([
            "check",
            "--format",
            "json",
            "--plan",
            "plan.json",
            "--atlantis",
            "atlantis.yaml",
            "--project",
            project,
        ])
        .args(extra));
    assert_ne!(out.code, 2, "{example}: {}", out.stderr);
    (out.code, out.json())
}

fn denied_rules(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "deny")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn incident_1_protected_namespace_pruned() {
    let (code, report) = check("protected-namespace-pruned", "platform-staging", &[]);
    assert_eq!(code, 1);
    let namespace = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == "protected-resource-destroy"
                && f["address"] == "kubernetes_namespace_v1.namespace"
        })
        .expect("the production namespace itself is reported");
    assert!(
        namespace["message"]
            .as_str()
            .unwrap()
            .contains("production"),
        "{namespace}"
    );
    assert!(denied_rules(&report).contains(&"cross-env-destroy".to_string()));
}

#[test]
fn incident_2_namespace_renamed() {
    let (code, report) = check("namespace-renamed", "data-platform", &[]);
    assert_eq!(code, 1);
    let rules = denied_rules(&report);
    assert!(
        rules.contains(&"protected-resource-destroy".to_string()),
        "{rules:?}"
    );
    let replace = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "stateful-replace")
        .unwrap();
    assert!(
        replace["message"]
            .as_str()
            .unwrap()
            .contains("metadata[0].name"),
        "{replace}"
    );
}

#[test]
fn incident_3_wrong_project_destroys_dev() {
    let (code, report) = check("wrong-project-destroys-dev", "rosey-staging", &[]);
    assert_eq!(code, 1);
    assert!(denied_rules(&report)
        .iter()
        .all(|r| r == "cross-env-destroy"));
    let peering = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == "aws_vpc_peering_connection.redis_peering");
    assert!(peering.is_some(), "the peering must be named");
    // Declared intent for staging while the dev project destroys: intent-mismatch.
    let (code, report) = check(
        "wrong-project-destroys-dev",
        "rosey-dev",
        &["--allow-destroy-in", "staging"],
    );
    assert_eq!(code, 1);
    let mismatch = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "intent-mismatch")
        .unwrap();
    let message = mismatch["message"].as_str().unwrap();
    assert!(
        message.contains("staging") && message.contains("rosey-dev"),
        "{message}"
    );
    // The clean neighbour, staging tearing down its own cluster, deletes a stateful resource
    // (the EKS cluster): blocked by stateful-destroy alone until the intent is declared, then
    // it passes with that warning.
    let dir = root().join("examples/incidents/wrong-project-destroys-dev");
    let clean = |extra: &[&str]| {
        let out = run(plangate(&dir)
            .args([
                "check",
                "--format",
                "json",
                "--plan",
                "clean/plan.json",
                "--atlantis",
                "atlantis.yaml",
                "--project",
                "rosey-staging",
            ])
            .args(extra));
        (out.code, out.json())
    };
    let (code, report) = clean(&[]);
    assert_eq!(code, 1);
    assert_eq!(denied_rules(&report), ["stateful-destroy"]);
    assert_eq!(
        report["findings"][0]["address"], "aws_eks_cluster.cluster",
        "{report}"
    );
    let (code, report) = clean(&["--allow-destroy-in", "staging"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"], "warn");
    assert!(denied_rules(&report).is_empty());
}

/// Incident 3's second failure: the Redis project's route and peering accepter name the
/// peering connection the staging plan destroys. Whether the Redis state comes as a context
/// file or as the Redis project's own plan in the same pull request, the report names both and
/// blocks.
#[test]
fn incident_3_names_the_redis_peering_that_depends_on_the_destroyed_one() {
    let plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/incidents/wrong-project-destroys-dev/plan.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let peering_id = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rc| rc["address"] == "aws_vpc_peering_connection.redis_peering")
        .map(|rc| rc["change"]["before"]["id"].as_str().unwrap().to_string())
        .unwrap();
    let redis = std::fs::read_to_string(
        root().join("examples/incidents/wrong-project-destroys-dev/redis/state.json"),
    )
    .unwrap();
    assert!(
        redis.contains(&peering_id),
        "the Redis state names the peering the plan destroys"
    );
    let dir = root().join("examples/incidents/wrong-project-destroys-dev");
    let with = |args: &[&str]| {
        let out = run(plangate(&dir)
            .args(["check", "--format", "json", "--atlantis", "atlantis.yaml"])
            .args(args));
        assert_ne!(out.code, 2, "{}", out.stderr);
        (out.code, out.json())
    };
    for args in [
        &[
            "--plan",
            "plan.json",
            "--project",
            "rosey-staging",
            "--context",
            "redis-shared=redis/state.json",
        ][..],
        &[
            "--plan",
            "rosey-staging=plan.json",
            "--plan",
            "redis-shared=redis/plan.json",
        ][..],
    ] {
        let (code, report) = with(args);
        assert_eq!(code, 1, "{args:?}");
        let finding = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "dependents-at-risk")
            .unwrap_or_else(|| panic!("{args:?}: no dependents-at-risk finding: {report}"));
        assert_eq!(finding["level"], "deny");
        assert_eq!(
            finding["address"],
            "aws_vpc_peering_connection.redis_peering"
        );
        let named: Vec<(&str, &str, &str)> = finding["dependents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["project"].as_str().unwrap(),
                    d["address"].as_str().unwrap(),
                    d["via"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            named,
            [
                ("redis-shared", "aws_route.to_dev", "identity"),
                (
                    "redis-shared",
                    "aws_vpc_peering_connection_accepter.dev",
                    "identity"
                ),
            ],
            "{args:?}"
        );
    }
}

#[test]
fn a_context_file_that_is_no_state_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("examples/incidents/wrong-project-destroys-dev/plan.json");
    for (name, text) in [
        ("empty.json", ""),
        ("html.json", "<html><body>502</body></html>"),
        (
            "truncated.json",
            "{\"format_version\":\"1.0\",\"values\":{\"root_module\":{",
        ),
        ("other.json", "{\"hello\":1}"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
        let out = run(plangate(dir.path()).args([
            "check",
            "--plan",
            plan.to_str().unwrap(),
            "--project",
            "rosey-staging",
            "--context",
            name,
        ]));
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: {}", out.stderr);
        assert!(
            lines[0].contains(name) && lines[0].contains("--context"),
            "{name}: {}",
            lines[0]
        );
    }
}

#[test]
fn incident_4_name_collision_replaces_prod() {
    let (code, report) = check("name-collision-replaces-prod", "tsdb-prod", &[]);
    assert_eq!(code, 1);
    // tsdb-prod is a production project, and production is protected by default: the replace is
    // also a destroy in a protected project.
    assert_eq!(
        denied_rules(&report),
        vec![
            "protected-project-destroy".to_string(),
            "stateful-replace".to_string()
        ]
    );
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "stateful-replace")
        .unwrap();
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("forced by identifier"),
        "{f}"
    );
}

#[test]
fn incident_5_empty_collection_mass_delete() {
    let (code, report) = check("empty-collection-mass-delete", "tenants-prod", &[]);
    assert_eq!(code, 1);
    let collapse: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "collection-collapse")
        .collect();
    assert_eq!(collapse.len(), 1, "one finding, not thirty");
    assert!(collapse[0]["message"]
        .as_str()
        .unwrap()
        .contains("collapsed 30 -> 0"));
    assert!(denied_rules(&report).contains(&"mass-deletion".to_string()));
    // Declared intent for the project softens both to warnings.
    let (code, report) = check(
        "empty-collection-mass-delete",
        "tenants-prod",
        &["--allow-destroy-in", "tenants-prod"],
    );
    assert_eq!(code, 0, "{report}");
}

#[test]
fn every_incident_has_an_example() {
    let dirs = std::fs::read_dir(root().join("examples/incidents"))
        .unwrap()
        .count();
    assert_eq!(dirs, 5);
}
