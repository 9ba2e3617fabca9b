//! The pull-request comment as reviewers see it: insta snapshots (tests/it/snapshots/) of
//! `--format markdown` for the five incident examples and for a pull request of 14 projects,
//! two of them blocked. `scripts/screenshots.sh` renders the same files as GitHub does.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn markdown(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plangate"))
        .current_dir(dir)
        .args(args)
        .args(["--format", "markdown", "--comment", "off"])
        .env_remove("PLANGATE_POLICY")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("ATLANTIS_TERRAFORM_VERSION")
        .output()
        .expect("run plangate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 Markdown"),
    )
}

/// The comment's first visible line and the table come before any section.
fn assert_layout(body: &str) {
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("<!-- plangate:v2 "), "{body}");
    assert!(lines[1].starts_with("### "), "the verdict line: {body}");
    let table = lines
        .iter()
        .position(|l| l.starts_with("| project |"))
        .unwrap();
    let section = lines
        .iter()
        .position(|l| l.starts_with("<!-- plangate:project "))
        .unwrap();
    assert!(table < section, "{body}");
}

fn incident(example: &str, project: &str) -> String {
    let dir = root().join("examples/incidents").join(example);
    let (code, body) = markdown(
        &dir,
        &[
            "check",
            "--plan",
            "plan.json",
            "--atlantis",
            "atlantis.yaml",
            "--project",
            project,
        ],
    );
    assert_eq!(code, 1, "{example} blocks");
    assert_layout(&body);
    assert!(body
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("### ⛔ BLOCK · 1 of 1 project blocked"));
    assert!(body.contains("> **Next:**"), "says what to do next: {body}");
    body
}

#[test]
fn incident_1_protected_namespace_pruned() {
    let body = incident("protected-namespace-pruned", "platform-staging");
    insta::assert_snapshot!("comment_incident_1", body);
}

#[test]
fn incident_2_namespace_renamed() {
    let body = incident("namespace-renamed", "data-platform");
    insta::assert_snapshot!("comment_incident_2", body);
}

#[test]
fn incident_3_wrong_project_destroys_dev() {
    let body = incident("wrong-project-destroys-dev", "rosey-staging");
    insta::assert_snapshot!("comment_incident_3", body);
}

/// Incident 3 with the Redis project's plan in the same pull request: the staging section shows
/// the blast radius, the Redis resources that hold the destroyed peering's id.
#[test]
fn incident_3_with_the_redis_project_shows_the_blast_radius() {
    let dir = root().join("examples/incidents/wrong-project-destroys-dev");
    let (code, body) = markdown(
        &dir,
        &[
            "check",
            "--atlantis",
            "atlantis.yaml",
            "--plan",
            "rosey-staging=plan.json",
            "--plan",
            "redis-shared=redis/plan.json",
        ],
    );
    assert_eq!(code, 1);
    assert_layout(&body);
    let section = body.find("### ⛔ `rosey-staging`").unwrap();
    let blast = body.find("#### Blast radius").expect("a blast radius part");
    assert!(blast > section, "inside the project's section: {body}");
    assert!(
        body.contains("`redis-shared` · `aws_route.to_dev` · identity: `id`"),
        "{body}"
    );
    insta::assert_snapshot!("comment_incident_3_blast_radius", body);
}

#[test]
fn incident_4_name_collision_replaces_prod() {
    let body = incident("name-collision-replaces-prod", "tsdb-prod");
    insta::assert_snapshot!("comment_incident_4", body);
}

#[test]
fn incident_5_empty_collection_mass_delete() {
    let body = incident("empty-collection-mass-delete", "tenants-prod");
    insta::assert_snapshot!("comment_incident_5", body);
}

/// A plan of `changes`: (address, type, action, the `env` tag; "" for none).
fn plan(changes: &[(&str, &str, &str, &str)]) -> String {
    let entries: Vec<String> = changes
        .iter()
        .map(|(address, ty, action, env)| {
            let name = address.rsplit('.').next().unwrap_or(address);
            if env.is_empty() {
                return format!(
                    r#"{{"address":"{address}","mode":"managed","type":"{ty}","name":"{name}","change":{{"actions":["{action}"],"before":{{}},"after":null}}}}"#
                );
            }
            let (actions, before, after) = match *action {
                "create" => (r#"["create"]"#, "null".to_string(), format!(r#"{{"tags":{{"env":"{env}"}}}}"#)),
                "update" => (
                    r#"["update"]"#,
                    format!(r#"{{"tags":{{"env":"{env}"}},"size":1}}"#),
                    format!(r#"{{"tags":{{"env":"{env}"}},"size":2}}"#),
                ),
                _ => (r#"["delete"]"#, format!(r#"{{"tags":{{"env":"{env}"}}}}"#), "null".to_string()),
            };
            format!(
                r#"{{"address":"{address}","mode":"managed","type":"{ty}","name":"{name}","provider_name":"registry.terraform.io/hashicorp/aws","change":{{"actions":{actions},"before":{before},"after":{after}}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.5","complete":true,"resource_changes":[{}]}}"#,
        entries.join(",")
    )
}

#[test]
fn a_pull_request_of_fourteen_projects_two_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let mut specs = Vec::new();
    let services = ["network", "eks", "redis", "rds", "iam", "dns", "logs"];
    for env in ["staging", "production"] {
        for service in services {
            let project = format!("{service}-{env}");
            let text = match project.as_str() {
                // The wrong project: staging's plan deletes what dev owns.
                "eks-staging" => plan(&[
                    ("aws_eks_cluster.main", "aws_eks_cluster", "delete", "dev"),
                    (
                        "aws_eks_node_group.workers",
                        "aws_eks_node_group",
                        "delete",
                        "dev",
                    ),
                    ("aws_iam_role.nodes", "aws_iam_role", "update", "staging"),
                ]),
                // A database deleted in production.
                "rds-production" => plan(&[
                    (
                        "aws_db_instance.orders",
                        "aws_db_instance",
                        "delete",
                        "production",
                    ),
                    (
                        "aws_db_parameter_group.orders",
                        "aws_db_parameter_group",
                        "update",
                        "production",
                    ),
                ]),
                // A warning: an untagged delete in staging.
                "logs-staging" => plan(&[(
                    "aws_cloudwatch_metric_alarm.errors",
                    "aws_cloudwatch_metric_alarm",
                    "delete",
                    "",
                )]),
                _ => plan(&[
                    (
                        &format!("aws_security_group.{service}"),
                        "aws_security_group",
                        "update",
                        env,
                    ),
                    (
                        &format!("aws_cloudwatch_log_group.{service}"),
                        "aws_cloudwatch_log_group",
                        "create",
                        env,
                    ),
                ]),
            };
            let path = dir.path().join(format!("{project}.json"));
            std::fs::write(&path, text).unwrap();
            specs.push(format!("{project}={}", path.display()));
        }
    }
    let mut args = vec!["check"];
    for spec in &specs {
        args.extend(["--plan", spec]);
    }
    let (code, body) = markdown(dir.path(), &args);
    assert_eq!(code, 1);
    assert_layout(&body);
    let rows: Vec<&str> = body.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), 14, "{body}");
    let blocked: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|r| r.contains("⛔\u{a0}block"))
        .collect();
    assert_eq!(blocked.len(), 2, "{body}");
    assert!(blocked
        .iter()
        .any(|r| r.starts_with("| `eks-staging` |") && r.contains("`cross-env-destroy`")));
    assert!(blocked
        .iter()
        .any(|r| r.starts_with("| `rds-production` |")));
    assert!(
        body.lines()
            .nth(1)
            .unwrap()
            .starts_with("### ⛔ BLOCK · 2 of 14 projects blocked · 4 to delete"),
        "{body}"
    );
    // Passing projects are a row each and nothing more: sections only for the three others.
    let shown = body
        .lines()
        .filter(|l| l.starts_with("### ") && l.contains(" · "))
        .count();
    assert_eq!(shown, 4, "the headline and three sections: {body}");
    insta::assert_snapshot!("comment_fourteen_projects", body);
}
