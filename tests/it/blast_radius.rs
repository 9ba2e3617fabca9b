//! The blast radius (DESIGN 13): what depends on what a plan destroys, inside the plan and
//! across projects, as `dependents-at-risk` reports it.

use crate::binary::{plangate, root, run};
use serde_json::Value;

fn check(args: &[&str]) -> (i32, Value) {
    let out = run(plangate(&root().join("tests/fixtures/plans"))
        .args(["check", "--format", "json"])
        .args(args));
    assert_ne!(out.code, 2, "{}", out.stderr);
    (out.code, out.json())
}

/// `(address, via)` of each dependent of the finding on `address`.
fn dependents(report: &Value, address: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "dependents-at-risk" && f["address"] == address)
        .flat_map(|f| f["dependents"].as_array().cloned().unwrap_or_default())
        .map(|d| {
            (
                d["address"].as_str().unwrap().to_string(),
                d["via"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn dependents_inside_a_plan_are_told_apart_by_instance_and_module() {
    let (code, report) = check(&["--plan", "dependents/plan.json", "--project", "net-staging"]);
    assert_eq!(code, 0, "same-project dependents only warn: {report}");
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, v)| (a.to_string(), v.to_string()))
            .collect()
    };
    // The replaced VPC: what references it (through the module's input too), what names it in
    // depends_on, and what only the prior state ties to it. The deleted third subnet is gone
    // and is no dependent.
    assert_eq!(
        dependents(&report, "aws_vpc.vpc"),
        pairs(&[
            ("aws_flow_log.flow_log", "prior_state depends_on"),
            ("aws_instance.web", "depends_on"),
            ("aws_route.route", "prior_state depends_on"),
            ("aws_subnet.subnet[0]", "reference"),
            ("aws_subnet.subnet[1]", "reference"),
            ("module.zone[\"a\"].aws_nat_gateway.nat", "reference"),
            ("module.zone[\"b\"].aws_nat_gateway.nat", "reference"),
        ])
    );
    // The instance references subnet[0] only: the deleted subnet[2] has no dependent, though
    // the prior state says the instance depends on `aws_subnet.subnet`.
    assert!(dependents(&report, "aws_subnet.subnet[2]").is_empty());
    // The removed gateway's block is gone: only the prior state knows the flow log used it.
    assert_eq!(
        dependents(&report, "aws_internet_gateway.legacy_gateway"),
        pairs(&[("aws_flow_log.flow_log", "prior_state depends_on")])
    );
}
