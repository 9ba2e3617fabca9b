//! `intent-mismatch`: destroy intent was declared for one project or environment, and the plan
//! destroys in another.

use super::{address_list, Context, Rule};
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct IntentMismatch;

impl Rule for IntentMismatch {
    fn id(&self) -> RuleId {
        RuleId::new("intent-mismatch")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix("label the project that destroys (`plangate:destroy:{project}`) if that is meant, or remove its destroys")
    }

    fn summary(&self) -> &'static str {
        "destroy intent was declared for another project/environment than the one this plan destroys in"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
Destroy intent was declared (`--allow-destroy-in`, `$PLANGATE_ALLOW_DESTROY_IN`, or a
`plangate:destroy:<project-or-env>` pull-request label), but a project that it names neither by
project nor by environment destroys or replaces resources. The finding names both: what the
intent was for, and where the destroy happens.

## Why
Incident 3: the engineer meant to tear down staging and pasted the dev project's name. Saying what
you mean to destroy is cheap; a destroy anywhere else in the same pull request is then a mistake
the gate can see.

Intent that names no project plangate knows (in atlantis.yaml or among the plans checked) and
no environment (by name or alias) declares nothing: a typo such as `prodution` would otherwise
look like a declaration. That is reported too, as a warning naming the known environments.

## Levels
`deny` by default. Only applies when some intent was declared. Intent that names nothing known
is at most `warn`.

## Configure
```yaml
rules:
  intent-mismatch: deny
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        if !ctx.intent.is_declared() {
            return;
        }
        for target in unknown_targets(ctx) {
            out.push(
                Finding::new(
                    self.id(),
                    format!(
                        "destroy intent `{target}` names no project or environment plangate knows, so it declares nothing (environments: {})",
                        ctx.policy.environments.describe()
                    ),
                )
                .at_most(Level::Warn),
            );
        }
        for plan in ctx.plans.iter().filter(|p| p.destroys_anything()) {
            if ctx.intent.covers(ctx.policy, &plan.project) {
                continue;
            }
            let env = plan
                .project
                .environment
                .name()
                .unwrap_or("unknown environment");
            out.push(
                Finding::new(
                    self.id(),
                    format!(
                        "destroy intent was declared for {}, but project {} ({env}) would destroy {} ({})",
                        ctx.intent.describe(),
                        plan.project.name,
                        crate::text::count(plan.destroyed.len(), "resource", "resources"),
                        address_list(plan.destroyed.iter().map(|d| plan.change(d).address.as_ref()), 5)
                    ),
                )
                .project(plan),
            );
        }
    }
}

/// Intent targets that name no known project (checked now, or in atlantis.yaml) and no
/// environment.
fn unknown_targets<'c>(ctx: &Context<'c>) -> Vec<&'c str> {
    let known_project = |t: &str| {
        ctx.plans
            .iter()
            .any(|p| p.project.name == t || p.project.atlantis_name.as_deref() == Some(t))
            || ctx.atlantis.is_some_and(|a| {
                a.projects
                    .iter()
                    .any(|p| p.name.as_deref() == Some(t) || p.display_name() == t)
            })
    };
    ctx.intent
        .targets
        .iter()
        .map(String::as_str)
        .filter(|t| ctx.policy.environments.resolve_word(t).is_none() && !known_project(t))
        .collect()
}
