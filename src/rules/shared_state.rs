//! `shared-state`: two projects in atlantis.yaml manage one dir + workspace, that is one state.

use super::{Context, Rule};
use crate::model::finding::{Finding, Location, RuleId};
use crate::model::level::Level;

pub struct SharedState;

impl SharedState {
    fn findings(&self, ctx: &Context<'_>, only: Option<&[String]>) -> Vec<Finding> {
        let Some(atlantis) = ctx.atlantis else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for group in atlantis.shared_states() {
            let names: Vec<String> = group.iter().map(|p| p.display_name()).collect();
            if let Some(only) = only {
                if !names.iter().any(|n| only.contains(n)) {
                    continue;
                }
            }
            let lines: Vec<String> = group.iter().map(|p| p.position.line.to_string()).collect();
            let first = group[0];
            let mut f = Finding::new(
                self.id(),
                format!(
                    "projects {} all manage dir {} workspace {}: one state managed twice, so a plan of one can destroy what the other created (lines {})",
                    names.join(", "),
                    first.dir,
                    first.workspace,
                    lines.join(", ")
                ),
            )
            .location(Location::file_line(&atlantis.path, first.position.line));
            if let Some(only) = only {
                if let Some(n) = names.iter().find(|n| only.contains(n)) {
                    f = f.project_name(n);
                }
            }
            out.push(f);
        }
        out
    }
}

impl Rule for SharedState {
    fn id(&self) -> RuleId {
        RuleId::new("shared-state")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn summary(&self) -> &'static str {
        "atlantis.yaml: two projects on one dir+workspace (one state managed twice)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
Two or more projects in atlantis.yaml with the same `dir` and `workspace`: they plan and apply
against one Terraform state. When they are not all named Atlantis rejects the file itself (and
`check` refuses it); when they are named Atlantis accepts it, and plangate reports it, in `lint`
for every such group and in `check` when a checked project is part of one.

## Why
Incident 4: two definitions of one object, and the last one won. Two projects on one state are
two definitions of everything in it; a plan from one can replace or delete what the other
manages.

## Levels
`deny` by default.

## Configure
Give each project its own dir or workspace. `rules: {shared-state: warn}` if two projects on one
state are deliberate (for example different `terraform_version`s during an upgrade).
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let names: Vec<String> = ctx.plans.iter().map(|p| p.project.name.clone()).collect();
        out.extend(self.findings(ctx, Some(&names)));
    }

    fn lint(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        out.extend(self.findings(ctx, None));
    }
}
