//! `apply-will-fail`: the plan deletes a resource whose deletion protection is on.

use serde_json::Value;

use super::{Context, Rule};
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;
use crate::model::project::DELETION_PROTECTION;

pub struct ApplyWillFail;

impl Rule for ApplyWillFail {
    fn id(&self) -> RuleId {
        RuleId::new("apply-will-fail")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix(
            "turn the deletion protection off in a change of its own first, or keep the resource",
        )
    }

    fn summary(&self) -> &'static str {
        "a delete or replace of a resource whose deletion protection is on: the apply stops halfway"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A delete, or a replacement in either order, of a resource whose prior values have
`deletion_protection`, `enable_deletion_protection` or `deletion_protection_enabled` set to
`true` (RDS and Aurora, load balancers, GCP SQL instances and clusters, DynamoDB tables...). The
provider refuses that delete when the apply reaches it, after other resources in the same apply
may already be gone.

## Why
Incident 4: data survived only because volumes were set to be retained. A deletion-protection flag
is the owner saying "not this one"; a plan that deletes it anyway either needs the flag turned off
first, in its own change, or is a mistake. Either way, finding out halfway through an apply is the
worst time.

## Levels
`warn` by default: the provider itself will stop the delete. Make it `deny` to refuse such plans.

## Configure
```yaml
rules:
  apply-will-fail: deny
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            for destroyed in &plan.destroyed {
                let Some(attribute) = DELETION_PROTECTION
                    .iter()
                    .find(|k| destroyed.kept.get(&[**k]) == Some(&Value::Bool(true)))
                else {
                    continue;
                };
                let change = plan.change(destroyed);
                out.push(
                    Finding::new(
                        self.id(),
                        format!(
                            "{} would be {}d, but its {attribute} is true: the provider will refuse, and the apply stops after what came before it; turn {attribute} off in a change of its own first",
                            change.display_address(),
                            if change.action.is_replace() { "replace" } else { "delete" }
                        ),
                    )
                    .project(plan)
                    .address(change.address.to_string())
                    .action(change.action)
                    .resource_environment(
                        destroyed.environment.as_ref().map(|e| e.environment.as_str()),
                    ),
                );
            }
        }
    }
}
