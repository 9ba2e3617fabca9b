//! `mass-deletion`: a project's plan deletes many resources, or most of what its state holds.

use super::{address_list, options_for, Context, Rule};
use crate::model::change::Action;
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct MassDeletion;

pub const DEFAULT_MAX_DELETES: usize = 20;
pub const DEFAULT_MAX_FRACTION: f64 = 0.5;
pub const DEFAULT_MIN_STATE: usize = 10;

impl Rule for MassDeletion {
    fn id(&self) -> RuleId {
        RuleId::new("mass-deletion")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Intent
    }

    fn summary(&self) -> &'static str {
        "per project, deletes above a count (20) or a fraction of the state (50% of at least 10)"
    }

    fn options(&self) -> &'static [&'static str] {
        &["max-deletes", "max-fraction", "min-state"]
    }

    fn option_defaults(&self) -> &'static [(&'static str, f64)] {
        &[
            ("max-deletes", DEFAULT_MAX_DELETES as f64),
            ("max-fraction", DEFAULT_MAX_FRACTION),
            ("min-state", DEFAULT_MIN_STATE as f64),
        ]
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A project whose plan deletes more than `max-deletes` resources (default 20), or more than
`max-fraction` (default 0.5) of the managed resources its state holds when the state holds at
least `min-state` (default 10). Replacements are not counted here (other rules judge them); a
plan whose configuration lost all its resources is a full deletion and counts as one. A delete
that another project checked in the same run creates again (a move between projects, reported
by `moved-between-projects`) is not counted.

## Why
Incident 5: an upstream API answered with an HTML page, a generator read it as "zero
repositories", and every tenant's applications were deleted across 30 clusters. A plan that
deletes most of what exists is almost never what anybody meant.

## Levels
`deny` by default; `warn` for a project with declared destroy intent (`--allow-destroy-in`).

## Configure
```yaml
rules:
  mass-deletion:
    max-deletes: 20
    max-fraction: 0.5
    min-state: 10
    environments:            # stricter where it matters
      production:
        max-deletes: 5
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            let options = options_for(ctx, self.id().as_str(), plan);
            let max_deletes = options.max_deletes.unwrap_or(DEFAULT_MAX_DELETES);
            let max_fraction = options.max_fraction.unwrap_or(DEFAULT_MAX_FRACTION);
            let min_state = options.min_state.unwrap_or(DEFAULT_MIN_STATE);
            let deletes: Vec<&str> = plan
                .plan
                .changes
                .iter()
                .enumerate()
                // A move to another project of the run is no loss (`moved-between-projects`).
                .filter(|(i, _)| !plan.moved_out.contains_key(i))
                .map(|(_, c)| c)
                .filter(|c| c.is_managed() && c.action == Action::Delete && c.deposed.is_none())
                .map(|c| c.address.as_ref())
                .collect();
            if deletes.is_empty() {
                continue;
            }
            let state = plan.plan.state_resource_count().max(deletes.len());
            let fraction = deletes.len() as f64 / state as f64;
            let over_count = deletes.len() > max_deletes;
            let over_fraction = state >= min_state && fraction > max_fraction;
            if !over_count && !over_fraction {
                continue;
            }
            let why = if over_count {
                format!("more than {max_deletes}")
            } else {
                format!("more than {:.0}% of the state", max_fraction * 100.0)
            };
            let mut finding = Finding::new(
                self.id(),
                format!(
                    "project {} would delete {} of the {state} resources its state holds ({:.0}%; {why}): {}",
                    plan.project.name,
                    deletes.len(),
                    fraction * 100.0,
                    address_list(deletes.iter().copied(), 5)
                ),
            )
            .project(plan)
            .action(Action::Delete);
            finding.instances = deletes.len();
            if ctx.intent.covers(ctx.policy, &plan.project) {
                finding.message.push_str(&format!(
                    "; destroy intent declared ({})",
                    ctx.intent.describe()
                ));
                finding = finding.at_most(Level::Warn);
            }
            out.push(finding);
        }
    }
}
