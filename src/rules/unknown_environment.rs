//! `unknown-environment`: the project's environment cannot be determined.

use super::{Context, Rule};
use crate::model::environment::ProjectEnvironment;
use crate::model::finding::{Finding, Location, RuleId, WayOut};
use crate::model::level::Level;

pub struct UnknownEnvironment;

impl Rule for UnknownEnvironment {
    fn id(&self) -> RuleId {
        RuleId::new("unknown-environment")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix("map the project to its environment in plangate.yaml `projects:`, or name it after its environment")
    }

    fn summary(&self) -> &'static str {
        "the project's environment cannot be determined (deny if the plan destroys anything, else warn)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A project whose environment plangate cannot tell: no `--env`, no mapping in the policy, and no
environment word in its name, its dir's path segments or its workspace; or signals that disagree
(the name says staging, the dir says dev), which is never settled by guessing.

## Why
Every other environment rule needs to know where a project deploys. A gate that quietly passes
projects it cannot place is the gap incident 3 went through: in a huge atlantis.yaml, the project
that destroyed dev was one nobody could tell the environment of at a glance.

## Levels
`deny` when the plan destroys or replaces anything, otherwise `warn`: creating and updating in an
unknown environment is reported but not blocked.

## Configure
Name the environment in the project (`app-prod`, `envs/stg/app`, workspace `dev`), map it in the
policy, or pass `--env`:
```yaml
projects:
  - name: "payments-.*"
    environment: production
rules:
  unknown-environment: warn
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            let why = match &plan.project.environment {
                ProjectEnvironment::Known { .. } => continue,
                ProjectEnvironment::Unknown => format!(
                    "the environment of project {} cannot be determined: no environment word in its name, dir ({}) or workspace ({}); map it in plangate.yaml or pass --env",
                    plan.project.name, plan.project.dir, plan.project.workspace
                ),
                ProjectEnvironment::Conflicting(signals) => {
                    let said: Vec<String> = signals.iter().map(ToString::to_string).collect();
                    format!(
                        "the environment of project {} is ambiguous: {}; map it in plangate.yaml or pass --env",
                        plan.project.name,
                        said.join(", ")
                    )
                }
            };
            let mut finding = Finding::new(self.id(), why).project(plan);
            if !plan.destroys_anything() {
                finding = finding.at_most(Level::Warn);
            } else {
                finding.message.push_str(&format!(
                    " (the plan destroys {}, so this blocks)",
                    crate::text::count(plan.destroyed.len(), "resource", "resources")
                ));
            }
            out.push(finding);
        }
    }

    fn lint(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for project in super::atlantis_projects(ctx) {
            if project.environment != ProjectEnvironment::Unknown {
                continue;
            }
            let mut f = Finding::new(
                self.id(),
                format!(
                    "the environment of project {} cannot be determined from its name, dir ({}) or workspace ({}): its destroys would be blocked; map it in plangate.yaml",
                    project.name, project.dir, project.workspace
                ),
            )
            .project_name(&project.name)
            .at_most(Level::Warn);
            if let (Some(a), Some(p)) = (ctx.atlantis, project.position) {
                f = f.location(Location::file_line(&a.path, p.line));
            }
            out.push(f);
        }
    }
}
