//! `moved-between-projects`: a delete in one project that another project of the run creates
//! again: the object changes hands. Reported for the record, and not counted as a loss.

use super::{Context, Rule};
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct MovedBetweenProjects;

impl Rule for MovedBetweenProjects {
    fn id(&self) -> RuleId {
        RuleId::new("moved-between-projects")
    }

    fn default_level(&self) -> Level {
        Level::Info
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix("nothing to do if the move is meant; otherwise keep the resource where it was")
    }

    fn summary(&self) -> &'static str {
        "a delete in one project is created again by another project of the run (a move, not a loss)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A plain delete in one project whose object another project checked in the same run creates:
the same resource type and the same `id`, `arn`, `self_link`, `name`, `bucket`, `identifier`,
`cluster_identifier`, `cluster_name` or `function_name` (a value of at least 8 characters).
That is a resource moving between projects (a module split, a component handed to another
team), not a loss: it is reported at level `info` and is not counted toward `mass-deletion`.
The other rules still judge the delete itself (the object is destroyed and created anew unless
it is moved with `terraform state mv`/`removed` and `import` blocks).

## Why
DESIGN 12: when several projects of one pull request are checked together, a refactoring that
moves fifty resources from one project to another must not read as a mass deletion, and the
reviewer should see where each one goes.

## Example
`aws_s3_bucket.logs is deleted here and created in project logging-prod as
aws_s3_bucket.logs (same bucket): a move between projects`.

## Levels
`info`: never a warning or a block by itself. A policy may raise it (`warn`, `deny`) or
silence it (`allow`).

## Configure
```yaml
rules:
  moved-between-projects: warn
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            for (index, to) in &plan.moved_out {
                let change = &plan.plan.changes[*index];
                out.push(
                    Finding::new(
                        self.id(),
                        format!(
                            "{} is deleted here and created in project {} as {} (same {}): a move between projects, not counted toward mass-deletion",
                            change.display_address(),
                            to.project,
                            to.address,
                            to.attribute
                        ),
                    )
                    .project(plan)
                    .address(change.address.to_string())
                    .action(change.action),
                );
            }
        }
    }
}
