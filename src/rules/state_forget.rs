//! `state-forget`: resources dropped from state without being destroyed.

use super::{Context, Rule};
use crate::model::change::Action;
use crate::model::finding::{Finding, RuleId};
use crate::model::level::Level;

pub struct StateForget;

impl Rule for StateForget {
    fn id(&self) -> RuleId {
        RuleId::new("state-forget")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn summary(&self) -> &'static str {
        "resources dropped from state without destroy: they keep running unmanaged"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A `forget` action (a `removed` block with `lifecycle { destroy = false }`), or a replacement
whose old object is forgotten instead of destroyed (`["create","forget"]`). The object keeps
running, and costing, but no Terraform configuration manages it any more.

## Why
Forgetting is the safe way to hand an object to another state, and a quiet way to leak one. It is
also how incident 1's secrets, environment variable and IAM bindings ended up known only to an
old deployment: things that exist outside any managed configuration are found too late.

## Levels
`warn` by default.

## Configure
```yaml
rules:
  state-forget: allow     # when moving resources between states is routine
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            for change in plan.plan.changes.iter().filter(|c| c.action.forgets()) {
                out.push(
                    Finding::new(
                        self.id(),
                        if change.action == Action::ReplaceForget {
                            format!(
                                "{} would be replaced by a new object while the old one is removed from the state and keeps running, unmanaged",
                                change.display_address()
                            )
                        } else {
                            format!(
                                "{} would be removed from the state but keeps running, unmanaged",
                                change.display_address()
                            )
                        },
                    )
                    .project(plan)
                    .address(change.address.to_string())
                    .action(change.action),
                );
            }
        }
    }
}
