//! `untagged-destroy`: a destroyed resource carries no environment signal.

use super::{Context, Rule};
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct UntaggedDestroy;

impl Rule for UntaggedDestroy {
    fn id(&self) -> RuleId {
        RuleId::new("untagged-destroy")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix("tag the resource with its environment (`env`)")
    }

    fn summary(&self) -> &'static str {
        "a destroyed resource carries no environment signal, so ownership cannot be verified"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A delete or replacement of a managed resource whose prior values hold no environment tag or
label, no environment attribute, no environment namespace and no environment word in its name.
plangate cannot check that it belongs to the project's environment.

## Why
`cross-env-destroy` can only protect what it can place. Incident 3's dev cluster was destroyed by
a staging teardown; resources without tags are exactly where such a mistake goes unseen. This
rule makes the blind spot visible, so teams tag what matters.

## Levels
`warn` by default. Set it to `deny` in accounts where every resource is expected to be tagged.

## Configure
```yaml
rules:
  untagged-destroy: deny
resource-environment:
  tag-keys: [env, Environment]
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            for destroyed in plan.destroyed.iter().filter(|d| d.environment.is_none()) {
                let change = plan.change(destroyed);
                out.push(
                    Finding::new(
                        self.id(),
                        format!(
                            "{} would be {} but carries no environment tag, label, namespace or listed account, so its owner cannot be verified",
                            change.display_address(),
                            if change.action.is_replace() { "replaced" } else { "deleted" }
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
