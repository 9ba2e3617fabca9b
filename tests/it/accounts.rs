//! Environments from cloud accounts (DESIGN 13a) end to end: a staging project whose provider
//! targets production's account is blocked, an untagged database delete is blocked unless its
//! intent is declared, a listed account decides an untagged resource's environment, and an
//! account read from a sensitive value is neither used nor shown.

use crate::binary::{plangate, root, run};
use plangate::model::account::account_in_values;
use serde_json::Value;

const POLICY: &str = "tests/fixtures/policies/accounts.yaml";

fn check(plan: &str, project: &str, extra: &[&str]) -> (i32, Value) {
    let out = run(plangate(&root())
        .args([
            "check",
            "--format",
            "json",
            "--plan",
            plan,
            "--project",
            project,
        ])
        .args(extra));
    assert_ne!(out.code, 2, "{}", out.stderr);
    (out.code, out.json())
}

fn findings<'r>(report: &'r Value, rule: &str) -> Vec<&'r Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn a_staging_project_whose_provider_targets_production_is_blocked() {
    let plan = "tests/fixtures/plans/provider-targets/plan.json";
    let (code, report) = check(plan, "orders-staging", &["--policy", POLICY]);
    assert_eq!(code, 1);
    let targets = findings(&report, "cross-env-target");
    let aws = targets
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("provider aws "))
        .expect("the aws provider's finding");
    assert_eq!(aws["level"], "deny");
    assert_eq!(aws["resource_environment"], "production");
    let message = aws["message"].as_str().unwrap();
    for part in [
        "account 111122223333 of production",
        "assume_role.role_arn",
        "aws_s3_bucket.exports",
        "aws_sqs_queue.jobs",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    // Declared intent does not excuse it.
    let (code, report) = check(
        plan,
        "orders-staging",
        &["--policy", POLICY, "--allow-destroy-in", "orders-staging"],
    );
    assert_eq!(code, 1);
    assert!(findings(&report, "cross-env-target")
        .iter()
        .any(|f| f["level"] == "deny"));
    // In the production project the AWS and Kubernetes targets are its own; its google
    // provider works in staging's project, where it changes nothing: a warning only.
    let (_, report) = check(plan, "orders-prod", &["--policy", POLICY]);
    let targets = findings(&report, "cross-env-target");
    assert_eq!(targets.len(), 1, "{report}");
    assert_eq!(targets[0]["level"], "warn");
    assert!(targets[0]["message"]
        .as_str()
        .unwrap()
        .contains("provider google targets account orders-staging of staging"));
    // Without accounts in the policy, nothing says where the provider works.
    let (_, report) = check(plan, "orders-staging", &[]);
    assert!(findings(&report, "cross-env-target").is_empty());
}

#[test]
fn an_untagged_database_delete_is_blocked_unless_intent_is_declared() {
    let plan = "tests/fixtures/plans/accounts/plan.json";
    let (code, report) = check(plan, "orders-staging", &[]);
    assert_eq!(code, 1);
    let db = findings(&report, "stateful-destroy")
        .into_iter()
        .find(|f| f["address"] == "aws_db_instance.primary")
        .expect("the database is named");
    assert_eq!(db["level"], "deny");
    assert!(db["next"]
        .as_str()
        .unwrap()
        .contains("plangate:destroy:orders-staging"));
    let (code, report) = check(
        plan,
        "orders-staging",
        &["--allow-destroy-in", "orders-staging"],
    );
    assert_eq!(code, 0, "{report}");
    assert!(findings(&report, "stateful-destroy")
        .iter()
        .all(|f| f["level"] == "warn"));
    // Intent for another project declares nothing here.
    let (code, report) = check(
        plan,
        "orders-staging",
        &["--allow-destroy-in", "orders-dev"],
    );
    assert_eq!(code, 1);
    assert!(findings(&report, "stateful-destroy")
        .iter()
        .all(|f| f["level"] == "deny"));
}

#[test]
fn a_listed_account_decides_an_untagged_resources_environment() {
    let plan = "tests/fixtures/plans/accounts/plan.json";
    let (_, before) = check(plan, "orders-staging", &[]);
    let (_, after) = check(plan, "orders-staging", &["--policy", POLICY]);
    let untagged = |r: &Value| -> Vec<String> {
        findings(r, "untagged-destroy")
            .iter()
            .map(|f| f["address"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        untagged(&before),
        [
            "aws_db_instance.primary",
            "aws_secretsmanager_secret.token",
            "aws_vpc.main",
            "google_compute_disk.scratch"
        ]
    );
    // The database is production's by its ARN, the VPC and the disk staging's by their
    // owner_id and self_link; the secret's ARN is sensitive, so it is still untagged.
    assert_eq!(untagged(&after), ["aws_secretsmanager_secret.token"]);
    let db = findings(&after, "cross-env-destroy")
        .into_iter()
        .find(|f| f["address"] == "aws_db_instance.primary")
        .expect("the database is another environment's");
    assert_eq!(db["resource_environment"], "production");
    assert!(db["message"]
        .as_str()
        .unwrap()
        .contains("account 111122223333 in its arn"));
    // The queue is tagged staging but lives in production's account: env-conflict.
    let conflict = findings(&after, "env-conflict");
    assert_eq!(conflict.len(), 1);
    assert_eq!(conflict[0]["address"], "aws_sqs_queue.events");
}

#[test]
fn an_account_in_a_sensitive_value_is_neither_used_nor_shown() {
    let sensitive_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-token";
    let plan = root().join("tests/fixtures/plans/accounts/plan.json");
    assert!(std::fs::read_to_string(&plan)
        .unwrap()
        .contains(sensitive_arn));
    for format in ["text", "json", "markdown", "sarif", "atlantis"] {
        let out = run(plangate(&root()).args([
            "check",
            "--plan",
            plan.to_str().unwrap(),
            "--project",
            "orders-staging",
            "--policy",
            POLICY,
            "--format",
            format,
        ]));
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert!(
            !out.stdout.contains(sensitive_arn) && !out.stdout.contains("secret:orders-token"),
            "{format}"
        );
    }
}

/// On the shared corpus's real plans: wherever a resource's own `arn` holds an account, that
/// is the account read (it is read first), and every account read is literally in the values.
#[test]
fn accounts_are_read_from_the_corpus_plans_real_values() {
    let Some(dir) = crate::shared_corpus::dir("plans", "INDEX.json") else {
        return;
    };
    let mut files = Vec::new();
    let mut dirs = vec![dir];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    let mut from_arn = 0;
    let mut found = 0;
    for file in files {
        let Ok(plan) = serde_json::from_slice::<Value>(&std::fs::read(&file).unwrap()) else {
            continue;
        };
        for change in plan["resource_changes"].as_array().into_iter().flatten() {
            for side in ["before", "after"] {
                let values = &change["change"][side];
                let marks = &change["change"][format!("{side}_sensitive")];
                let Some(account) = account_in_values(values, Some(marks)) else {
                    continue;
                };
                found += 1;
                assert!(
                    values.to_string().contains(&account.id),
                    "{}",
                    file.display()
                );
                let arn = values["arn"].as_str().unwrap_or_default();
                let fields: Vec<&str> = arn.split(':').collect();
                if fields.len() > 5
                    && fields[4].len() == 12
                    && fields[4].bytes().all(|b| b.is_ascii_digit())
                {
                    from_arn += 1;
                    assert_eq!((account.id.as_str(), account.source), (fields[4], "arn"));
                }
            }
        }
    }
    // About 60 values in the corpus carry an account, most of them in an ARN.
    assert!(
        found >= 40 && from_arn >= 30,
        "found {found}, from an ARN {from_arn}"
    );
}
