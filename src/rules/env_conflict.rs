//! `env-conflict`: a project's name, dir and workspace name different environments.

use super::{Context, Rule};
use crate::model::environment::ProjectEnvironment;
use crate::model::finding::{Finding, Location, RuleId, WayOut};
use crate::model::level::Level;
use crate::model::project::Project;

pub struct EnvConflict;

impl EnvConflict {
    fn finding(&self, project: &Project) -> Option<Finding> {
        let ProjectEnvironment::Conflicting(signals) = &project.environment else {
            return None;
        };
        let said: Vec<String> = signals.iter().map(ToString::to_string).collect();
        let mut f = Finding::new(
            self.id(),
            format!(
                "project {} has conflicting environment signals: {}; rename it or map it in plangate.yaml",
                project.name,
                said.join(", ")
            ),
        )
        .project_name(&project.name);
        if let Some(p) = project.position {
            f = f.location(Location::Line(p.line));
        }
        Some(f)
    }
}

impl Rule for EnvConflict {
    fn id(&self) -> RuleId {
        RuleId::new("env-conflict")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix("make the names, dirs, workspaces or tags agree, or map the project in plangate.yaml `projects:`")
    }

    fn summary(&self) -> &'static str {
        "a project's environment signals disagree (name, dir, workspace), or a resource's (tags, account)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
An Atlantis project whose name, dir path segments and workspace name different environments:
`name: app-staging` with `dir: envs/dev/app`. plangate does not guess which one is right.

Also a destroyed resource whose own signals disagree (`env=prod` and `Environment=dev` on one
resource, in `tags`, `tags_all`, labels or a namespace), or whose tag disagrees with the account
it lives in (an account the policy lists under another environment, read from its ARN, IDs,
`owner_id` or project): the finding names every reading, and the other rules judge the resource
by each of them, so the stricter one decides.

## Why
Incident 3: in a huge atlantis.yaml, a project whose name and location disagree is exactly the
one an engineer copies by mistake. The disagreement itself is the bug to fix.

## Levels
`deny` by default, in `plangate lint` for every project and in `plangate check` for the
projects checked.

## Configure
Fix the name or dir, or settle it in the policy:
```yaml
projects:
  - name: "app-staging"
    environment: staging
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            if let Some(f) = self.finding(&plan.project) {
                out.push(f.project(plan));
            }
            for destroyed in &plan.destroyed {
                let Some(env) = destroyed
                    .environment
                    .as_ref()
                    .filter(|e| !e.conflicts.is_empty())
                else {
                    continue;
                };
                let change = plan.change(destroyed);
                let readings: Vec<String> = env
                    .readings()
                    .map(|r| format!("{} ({})", r.environment, r.evidence))
                    .collect();
                let fix = if env.from_account() {
                    "its tags disagree with the account it lives in and need fixing"
                } else {
                    "the tags need fixing"
                };
                out.push(
                    Finding::new(
                        self.id(),
                        format!(
                            "{} carries signals of different environments: {}; it is judged by each, and {fix}",
                            change.display_address(),
                            readings.join(", ")
                        ),
                    )
                    .project(plan)
                    .address(change.address.to_string())
                    .action(change.action),
                );
            }
        }
    }

    fn lint(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for project in super::atlantis_projects(ctx) {
            if let Some(mut f) = self.finding(&project) {
                if let (Some(a), Some(p)) = (ctx.atlantis, project.position) {
                    f.location = Some(Location::file_line(&a.path, p.line));
                }
                out.push(f);
            }
        }
    }
}
