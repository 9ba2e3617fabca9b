//! `shared-resource`: a destroyed object that another project (of the run, or a `--context`
//! file) also holds in its state (the same `id`, `arn`, `self_link` or identity): two states manage one object.

use super::{address_list, Context, Rule};
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct SharedResource;

impl Rule for SharedResource {
    fn id(&self) -> RuleId {
        RuleId::new("shared-resource")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix(
            "decide which project manages the object and drop it from the other's state (`terraform state rm`, or a `removed` block with `destroy = false`) before destroying it",
        )
    }

    fn summary(&self) -> &'static str {
        "a destroyed object is also in the state of another project (checked in the same run, or a context file)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A resource a plan deletes or replaces whose own identity (`id`, `arn`, `self_link`, or a value
of `before_identity`) is also the identity of a resource in the prior state of another project
checked in the same run (`--plan P=PATH ...`, `--all-plans`) or given as a `--context` file:
one cloud object managed by two states. Destroying it in one project pulls it from under the other. The other project's
resource is named, and found as the blast radius is: one pass over that plan's JSON.

## Why
Two Atlantis projects on one object is incident 4's shared state in another form (DESIGN 12):
a copy-pasted module, an import into a second project, a peering managed from both sides
(`aws_vpc_peering_connection` and its `_accepter`). Whichever applies first changes or deletes
what the other still believes it owns.

## Example
`aws_s3_bucket.artifacts would be deleted, but the same object (its id) is also in the state of
project ci-tools: ci-tools aws_s3_bucket.shared_artifacts; two states manage it`.

## Levels
`deny`. Only destroys are judged; an object merely present in two states is left to `plan`.

## Configure
```yaml
rules:
  shared-resource: warn
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            for destroyed in &plan.destroyed {
                if destroyed.shared.is_empty() {
                    continue;
                }
                let change = plan.change(destroyed);
                let verb = if change.action.is_replace() {
                    "replaced"
                } else {
                    "deleted"
                };
                let mut attributes: Vec<&str> = destroyed
                    .shared
                    .iter()
                    .filter_map(|d| d.identity.as_deref())
                    .collect();
                attributes.sort_unstable();
                attributes.dedup();
                let names: Vec<String> = destroyed
                    .shared
                    .iter()
                    .map(|d| format!("{} {}", d.project, d.address))
                    .collect();
                let finding = Finding::new(
                    self.id(),
                    format!(
                        "{} would be {verb}, but the same object (its {}) is also in the state of {}: {}; two states manage it",
                        change.display_address(),
                        attributes.join(", "),
                        if destroyed.shared.len() == 1 { "another project" } else { "other projects" },
                        address_list(names.iter().map(String::as_str), 5)
                    ),
                );
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
