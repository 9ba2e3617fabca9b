//! `stateful-destroy`: a plain delete of a resource that holds state (a database, bucket,
//! volume, cluster...), without declared intent.

use super::stateful_replace::{reason_meaning, StatefulTypes};
use super::{Context, Rule};
use crate::model::change::Action;
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;

pub struct StatefulDestroy;

impl Rule for StatefulDestroy {
    fn id(&self) -> RuleId {
        RuleId::new("stateful-destroy")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Intent
    }

    fn summary(&self) -> &'static str {
        "plain delete of a stateful resource (database, bucket, volume, cluster...) without declared intent"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A plain delete (`["delete"]`) of a resource whose type holds state: the `stateful-replace` list
(databases, clusters, volumes and disks, buckets, file systems, queues and topics, key vaults
and KMS keys, DNS zones, persistent volume claims, namespaces), with the types the policy adds
under `stateful-types`. Its tags do not matter: an untagged `aws_db_instance` is blocked as
surely as one tagged for the project's own environment. A replacement is `stateful-replace`'s.

When destroy intent is declared for the project or its environment (`--allow-destroy-in`,
`$PLANGATE_ALLOW_DESTROY_IN`, or a `plangate:destroy:<project-or-env>` pull-request label), the
finding is a warning.

A delete that a stricter finding on the same resource already blocks is not reported twice:
when `protected-resource-destroy` or `cross-env-destroy` names the same resource at a level at
least as high (intent excuses neither), this finding is left out. `protected-project-destroy`
is about the whole project and the same intent lifts both, so both are shown.

## Why
Deleting a database, bucket, volume or cluster is a decision, not a side effect (DESIGN 13a).
Incident 3's dev cluster was deleted by a plan nobody meant to run; before this rule, a delete of
`aws_db_instance.primary` in a staging project only warned (`untagged-destroy`) when the
database carried no tag.

## Example
`aws_db_instance.primary would be deleted (its resource block was removed): a stateful
resource, and its data goes with it`: blocked until the pull request declares the intent with
the label `plangate:destroy:orders-staging`.

## Levels
`deny` by default; `warn` when intent is declared for the project or its environment.

## Configure
```yaml
stateful-types: ["aws_lightsail_database", "mongodbatlas_*"]   # also read by stateful-replace
rules:
  stateful-destroy: deny
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let stateful = StatefulTypes::of(ctx.policy);
        for plan in ctx.plans {
            let intent = ctx.intent.covers(ctx.policy, &plan.project);
            for destroyed in &plan.destroyed {
                let change = plan.change(destroyed);
                if change.action != Action::Delete || !stateful.matches(&change.resource_type) {
                    continue;
                }
                let mut message = format!("{} would be deleted", change.display_address());
                if let Some(reason) = change.action_reason.as_deref() {
                    message.push_str(&format!(" ({})", reason_meaning(reason)));
                }
                message.push_str(": a stateful resource, and its data goes with it");
                let mut finding = Finding::new(self.id(), String::new());
                if intent {
                    message.push_str(&format!(
                        "; destroy intent declared ({}), so a warning",
                        ctx.intent.describe()
                    ));
                    finding = finding.at_most(Level::Warn);
                }
                finding.message = message;
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
