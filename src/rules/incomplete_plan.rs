//! `incomplete-plan`: the plan is marked incomplete (`-target`, deferred changes).

use super::{Context, Rule};
use crate::model::finding::{Finding, RuleId};
use crate::model::level::Level;

pub struct IncompletePlan;

impl Rule for IncompletePlan {
    fn id(&self) -> RuleId {
        RuleId::new("incomplete-plan")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn summary(&self) -> &'static str {
        "the plan is incomplete (-target, deferred changes): only the changes shown were checked"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A plan with `"complete": false`: Terraform planned only part of the configuration, because of
`-target` or because some changes were deferred. plangate checks every change the plan shows,
but cannot vouch for the ones it does not.

## Why
Failing closed means saying what was not checked. A targeted plan that passes the gate must not
read as "the whole project is safe".

## Levels
`warn` by default; set `deny` to refuse targeted plans altogether.

## Configure
```yaml
rules:
  incomplete-plan: deny
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans.iter().filter(|p| p.plan.complete == Some(false)) {
            out.push(
                Finding::new(
                    self.id(),
                    format!(
                        "the plan of project {} is incomplete (-target or deferred changes): only the {} changes shown were checked",
                        plan.project.name,
                        plan.plan.changes.len()
                    ),
                )
                .project(plan),
            );
        }
    }
}
