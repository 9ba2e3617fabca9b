//! The `sarif` format: SARIF 2.1.0 for code-scanning tools, one result per finding. Plan
//! findings carry the resource address as a logical location; findings about a configuration
//! file (`atlantis.yaml:12:3`) also carry a physical location.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::model::finding::{Finding, Location};
use crate::model::level::Level;
use crate::report::Report;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(report: &Report) -> String {
    let ids: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let rules: Vec<Value> = ids
        .iter()
        .map(|id| {
            let mut rule = json!({"id": id, "name": id});
            if let Some(r) = crate::rules::find(id) {
                rule["shortDescription"] = json!({"text": r.summary()});
                rule["fullDescription"] = json!({"text": r.summary()});
                rule["help"] = json!({"text": r.docs(), "markdown": r.docs()});
                rule["defaultConfiguration"] = json!({"level": level(r.default_level())});
            }
            rule
        })
        .collect();
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, ids.iter().position(|id| *id == f.rule.as_str())))
        .collect();
    results.extend(super::approvals::sarif_results(report));
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules,
            }},
            "results": results,
        }],
    });
    // Serialising a `Value` cannot fail.
    super::json::to_json(&doc).unwrap_or_default()
}

fn result(f: &Finding, rule_index: Option<usize>) -> Value {
    let mut location = json!({});
    if let Some(address) = &f.address {
        location["logicalLocations"] = json!([{
            "name": address,
            "fullyQualifiedName": match &f.project {
                Some(p) => format!("{p}/{address}"),
                None => address.clone(),
            },
            "kind": "resource",
        }]);
    }
    if let Some((path, Some(line))) = f.location.as_ref().and_then(Location::file) {
        location["physicalLocation"] = json!({
            "artifactLocation": {"uri": path.display().to_string()},
            "region": {"startLine": line},
        });
    }
    let mut result = json!({
        "ruleId": f.rule,
        "level": level(f.level),
        "message": {"text": match (&f.next, f.level) {
            (Some(next), Level::Deny) => format!("{} Next: {next}.", f.message),
            _ => f.message.clone(),
        }},
        "properties": {
            "project": f.project,
            "action": f.action_label(),
            "resourceEnvironment": f.resource_environment,
            "instances": f.instances,
            "next": f.next,
        },
    });
    if let Some(i) = rule_index {
        result["ruleIndex"] = json!(i);
    }
    if location.as_object().is_some_and(|o| !o.is_empty()) {
        result["locations"] = json!([location]);
    }
    result
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow | Level::Info => "note",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_result_per_finding_with_levels_and_locations() {
        let report = Report::lint(
            &crate::pipeline::builtin_policy(),
            vec![
                Finding::new("cross-env-destroy", "would delete x")
                    .project_name("app")
                    .address("aws_s3_bucket.x"),
                Finding::new("untagged-destroy", "no tag")
                    .at_most(Level::Warn)
                    .location(Location::file_line("atlantis.yaml", 12)),
            ],
        );
        let doc: Value = serde_json::from_str(&render(&report)).unwrap();
        assert_eq!(doc["version"], "2.1.0");
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["ruleId"], "cross-env-destroy");
        assert_eq!(results[0]["level"], "error");
        assert_eq!(
            results[0]["locations"][0]["logicalLocations"][0]["name"],
            "aws_s3_bucket.x"
        );
        assert_eq!(results[1]["level"], "warning");
        let physical = &results[1]["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "atlantis.yaml");
        assert_eq!(physical["region"]["startLine"], 12);
        let rules = doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        assert_eq!(
            rules[results[1]["ruleIndex"].as_u64().unwrap() as usize]["id"],
            "untagged-destroy"
        );
    }
}
