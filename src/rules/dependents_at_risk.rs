//! `dependents-at-risk`: a destroyed resource that something else still depends on (the blast
//! radius): a warning when the dependents are in the same project, a deny when one lives in
//! another project or environment.

use std::collections::BTreeMap;

use super::{Context, Rule};
use crate::model::dependents::Dependent;
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct DependentsAtRisk;

impl Rule for DependentsAtRisk {
    fn id(&self) -> RuleId {
        RuleId::new("dependents-at-risk")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix(
            "change what depends on it first (the dependents are listed), or have the destroy approved: declared intent does not excuse breaking another project",
        )
    }

    fn summary(&self) -> &'static str {
        "something that survives the plan depends on what it destroys (deny when in another project or environment)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A deleted or replaced resource that something else still depends on, and that something
survives the plan (it is not deleted itself): its blast radius.

- **Inside the plan**: resources whose configuration references it (`expressions` at any
  depth, through module inputs, module outputs and data sources), or names it in
  `depends_on` (its own or its module call's); and resources whose prior state records it in
  `depends_on`, which is all that is left when a block was removed (and the way a dependency
  through a `local` is seen). Instances are told apart: `aws_instance.web` referencing
  `aws_subnet.private[0]` does not depend on `aws_subnet.private[2]`, and a resource in
  `module.net["a"]` depends on what is in `module.net["a"]`, not `module.net["b"]`.
- **Across projects**: any resource of another project checked in the same run (`--plan
  P=PATH`, `--all-plans`), or of a `--context` file (a `terraform show -json` of another
  project's state, or its plan), whose prior values hold one of the destroyed resource's
  identities: `id`, `arn`, `self_link`, the values of `before_identity`, and the identity
  attributes protected-resource entries match (`name`, `bucket`, `identifier`...).
  Identities too short or too common to mean anything (`true`, `default`, numbers, fewer
  than 8 characters) are not searched for, and the report says how many were left out. A
  value is found only as a whole word (`vpc-0dev` does not match `vpc-0dev2`), anywhere in
  a string (an ARN inside a policy document counts).

The finding lists every dependent (`dependents` in JSON: project, address, and how it was
found: `reference`, `depends_on`, `prior_state depends_on` or `identity`), and the text and
Markdown reports show them as its blast radius.

## Why
Incident 3's second failure: the dev cluster destroyed by the staging project's plan had a
VPC peering to a Redis cluster of another project, whose route and peering accepter named the
dev VPC's peering connection. Nothing said so, and the broken peering took another day to
find. The report must name what depends on a destroyed resource before apply.

## Example
`aws_vpc_peering_connection.redis_peering would be deleted, and 2 resources still depend on
it (2 in redis-shared)`, with its blast radius: `redis-shared aws_route.to_dev (identity: id)`
and `redis-shared aws_vpc_peering_connection_accepter.dev (identity: id)`.

## Levels
`deny` when a dependent is in another project (or a `--context` file), or carries another
environment's tag; `warn` when all the dependents are in the project itself: Terraform will
update or fail on them in the same apply, but the reviewer should see them.

## Configure
```yaml
rules:
  dependents-at-risk: warn     # report the blast radius without blocking
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            let own = plan.project.name.as_str();
            for destroyed in &plan.destroyed {
                if destroyed.dependents.is_empty() {
                    continue;
                }
                let change = plan.change(destroyed);
                let elsewhere = destroyed
                    .dependents
                    .iter()
                    .any(|d| d.project != own || d.environment.is_some());
                let verb = if change.action.is_replace() {
                    "replaced"
                } else {
                    "deleted"
                };
                let mut finding = Finding::new(
                    self.id(),
                    format!(
                        "{} would be {verb}, and {}",
                        change.display_address(),
                        describe(own, &destroyed.dependents)
                    ),
                );
                if !elsewhere {
                    finding = finding.at_most(Level::Warn);
                }
                finding.dependents = destroyed.dependents.clone();
                out.push(
                    finding
                        .project(plan)
                        .address(change.address.to_string())
                        .action(change.action)
                        .resource_environment(
                            destroyed
                                .environment
                                .as_ref()
                                .map(|e| e.environment.as_str()),
                        ),
                );
            }
        }
    }
}

/// `2 resources still depend on it (1 in this project, 1 in redis-shared)`: the finding's
/// `dependents` name them.
fn describe(own: &str, dependents: &[Dependent]) -> String {
    let mut by_project: BTreeMap<&str, usize> = BTreeMap::new();
    for d in dependents {
        *by_project.entry(d.project.as_str()).or_default() += 1;
    }
    let n = dependents.len();
    let head = if n == 1 {
        "1 resource still depends on it".to_string()
    } else {
        format!("{n} resources still depend on it")
    };
    let parts: Vec<String> = by_project
        .iter()
        .map(|(project, count)| {
            let whose = if *project == own {
                "this project"
            } else {
                project
            };
            format!("{count} in {whose}")
        })
        .collect();
    format!("{head} ({})", parts.join(", "))
}
