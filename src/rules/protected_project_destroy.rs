//! `protected-project-destroy`: a delete or replace in a protected project or environment.

use super::{address_list, Context, Rule};
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct ProtectedProjectDestroy;

impl Rule for ProtectedProjectDestroy {
    fn id(&self) -> RuleId {
        RuleId::new("protected-project-destroy")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Intent
    }

    fn summary(&self) -> &'static str {
        "any delete/replace in a project or environment marked protected, without declared intent"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
Any delete or replacement in a project the policy marks `protected: true`, or in a project whose
environment is marked protected, unless destroy intent was declared for that project or its
environment.

## Why
Incidents 1 and 3: the environments that matter most were destroyed by changes nobody meant to
make there. A protected project destroys nothing unless someone says, in the pull request, that
this is the point.

## Example
`project payments-prod (production) is protected and its plan would destroy 2 resources
(aws_db_instance.main, aws_s3_bucket.assets)`: blocked, until the pull request declares the
destroy with the label `plangate:destroy:payments-prod`.

## Levels
`deny` by default; `warn` for a project with declared intent (`--allow-destroy-in`,
`$PLANGATE_ALLOW_DESTROY_IN`, or a `plangate:destroy:<project-or-env>` pull-request label).

## Configure
```yaml
environments:
  production:
    aliases: [prod, prd, live]
    protected: true
projects:
  - name: "shared-network"
    protected: true
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx
            .plans
            .iter()
            .filter(|p| p.project.protected && p.destroys_anything())
        {
            let addresses = address_list(
                plan.destroyed
                    .iter()
                    .map(|d| plan.change(d).address.as_ref()),
                5,
            );
            let env = plan
                .project
                .environment
                .name()
                .unwrap_or("unknown environment");
            let mut finding = Finding::new(
                self.id(),
                format!(
                    "project {} ({env}) is protected and its plan would destroy {} ({addresses})",
                    plan.project.name,
                    crate::text::count(plan.destroyed.len(), "resource", "resources")
                ),
            )
            .project(plan);
            if ctx.intent.covers(ctx.policy, &plan.project) {
                finding.message.push_str(&format!(
                    "; destroy intent declared ({}), so a warning",
                    ctx.intent.describe()
                ));
                finding = finding.at_most(Level::Warn);
            }
            out.push(finding);
        }
    }
}
