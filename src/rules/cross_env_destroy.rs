//! `cross-env-destroy`: a project destroys a resource that belongs to another environment.

use super::{Context, Rule};
use crate::model::environment::SignalStrength;
use crate::model::finding::{Finding, RuleId};
use crate::model::level::Level;

pub struct CrossEnvDestroy;

impl Rule for CrossEnvDestroy {
    fn id(&self) -> RuleId {
        RuleId::new("cross-env-destroy")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn summary(&self) -> &'static str {
        "delete or replace of a resource whose environment differs from the project's"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A delete or a replacement (both orders) of a resource whose environment, read from its prior
values, differs from the environment of the Atlantis project whose plan destroys it. The
resource's environment comes from, strongest first: tag or label values under the configured
keys (`env`, `environment`, `Environment`, `Env`, `stage`) in `tags_all`, `tags`, `labels` and
Kubernetes `metadata[*].labels`; configured attribute paths; a Kubernetes namespace named after
an environment; and, as a weak signal, one environment token in the resource's name.

## Why
Incident 3: while tearing down staging, an engineer pasted the wrong Atlantis project name and
Terraform destroyed the dev cluster that lived in the same cloud account. A project mapped to one
environment must never destroy what is tagged for another.

## Example
`project rosey-staging (staging) would delete module.eks.aws_eks_cluster.this, which belongs to
development (tag env=dev)`: blocked.

## Levels
`deny` by default. A finding based only on the weak name signal is at most `warn`. Declared
destroy intent (`--allow-destroy-in`) never excuses this rule.

## Configure
```yaml
rules:
  cross-env-destroy: deny        # or warn / allow
resource-environment:
  tag-keys: [env, environment]   # which tag/label keys name the environment
  attributes: [labels.team_env]  # extra attribute paths
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            let Some(project_env) = plan.project.environment.name() else {
                continue;
            };
            for destroyed in &plan.destroyed {
                // With conflicting signals every reading counts: the stricter one is used.
                let Some(env) = destroyed
                    .environment
                    .as_ref()
                    .and_then(|e| e.readings().find(|r| r.environment != project_env))
                else {
                    continue;
                };
                let change = plan.change(destroyed);
                let mut message = format!(
                    "project {} ({project_env}) would {} {}, which belongs to {} ({})",
                    plan.project.name,
                    change.action.label(),
                    change.display_address(),
                    env.environment,
                    env.evidence
                );
                let mut finding = Finding::new(self.id(), String::new());
                if env.strength == SignalStrength::Weak {
                    message.push_str(": a weak signal, so a warning; tag the resource to be sure");
                    finding = finding.at_most(Level::Warn);
                }
                finding.message = message;
                out.push(
                    finding
                        .project(plan)
                        .address(change.address.to_string())
                        .action(change.action)
                        .resource_environment(Some(&env.environment)),
                );
            }
        }
    }
}
