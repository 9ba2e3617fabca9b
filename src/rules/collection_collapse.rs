//! `collection-collapse`: all (or nearly all) instances of one `for_each`/`count` resource are
//! deleted because their keys left the collection: the collection is probably empty.

use std::collections::BTreeMap;

use super::{options_for, Context, Rule};
use crate::model::change::Action;
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct CollectionCollapse;

pub const DEFAULT_MIN_INSTANCES: usize = 3;
pub const DEFAULT_MIN_FRACTION: f64 = 0.9;

const COLLAPSE_REASONS: [&str; 3] = [
    "delete_because_each_key",
    "delete_because_count_index",
    "delete_because_no_module",
];

impl Rule for CollectionCollapse {
    fn id(&self) -> RuleId {
        RuleId::new("collection-collapse")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Intent
    }

    fn summary(&self) -> &'static str {
        "all or nearly all instances of one for_each/count resource deleted: one finding, not thirty"
    }

    fn options(&self) -> &'static [&'static str] {
        &["min-instances", "min-fraction"]
    }

    fn option_defaults(&self) -> &'static [(&'static str, f64)] {
        &[
            ("min-instances", DEFAULT_MIN_INSTANCES as f64),
            ("min-fraction", DEFAULT_MIN_FRACTION),
        ]
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
One `for_each` or `count` resource (or a module called with `for_each`/`count`) whose instances
are deleted, all or nearly all of them, because their keys left the collection
(`delete_because_each_key`, `delete_because_count_index`, `delete_because_no_module`). It is
reported once, as "collapsed 30 -> 0", because the thirty deletions share one cause: the
collection feeding the resource is probably empty.

## Why
Incident 5: during SCM maintenance an API returned an HTML page with status 200, a generator read
it as zero repositories, and the controller deleted every tenant's applications. In Terraform the
same failure is a `for_each` over data that came back empty.

## Levels
`deny` by default; `warn` for a project with declared destroy intent. Small collections (fewer
than `min-instances`, default 3) and partial shrinks (less than `min-fraction`, default 0.9, of the
instances) are not reported.

## Configure
```yaml
rules:
  collection-collapse:
    min-instances: 3
    min-fraction: 0.9
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            let options = options_for(ctx, self.id().as_str(), plan);
            let min_instances = options.min_instances.unwrap_or(DEFAULT_MIN_INSTANCES);
            let min_fraction = options.min_fraction.unwrap_or(DEFAULT_MIN_FRACTION);
            // Per address pattern: (instances before the plan, instances deleted by a key/index).
            let mut collections: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
            let mut reasons: BTreeMap<String, &str> = BTreeMap::new();
            for change in plan
                .plan
                .changes
                .iter()
                .filter(|c| c.is_managed() && c.deposed.is_none())
            {
                if !change.address.contains('[') || change.action == Action::Create {
                    continue;
                }
                let pattern = change.address_pattern();
                let entry = collections.entry(pattern.clone()).or_default();
                entry.0 += 1;
                if change.action == Action::Delete {
                    if let Some(reason) = change
                        .action_reason
                        .as_deref()
                        .filter(|r| COLLAPSE_REASONS.contains(r))
                    {
                        entry.1.push(change.address.to_string());
                        reasons.insert(pattern, reason);
                    }
                }
            }
            for (pattern, (before, instances)) in collections {
                let deleted = instances.len();
                if deleted == 0 || before < min_instances {
                    continue;
                }
                if (deleted as f64) / (before as f64) < min_fraction {
                    continue;
                }
                let after = before - deleted;
                let cause = match reasons.get(&pattern).copied() {
                    Some("delete_because_count_index") => "its count",
                    Some("delete_because_no_module") => "the module's for_each/count",
                    _ => "the for_each collection feeding it",
                };
                let mut finding = Finding::new(
                    self.id(),
                    format!(
                        "{pattern} collapsed {before} -> {after}: {deleted} instances deleted because {cause} lost its keys; {cause} is probably empty (an upstream error read as \"nothing\"?)"
                    ),
                )
                .project(plan)
                .address(pattern)
                .action(Action::Delete);
                finding.instances = deleted;
                finding.addresses = instances;
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
}
