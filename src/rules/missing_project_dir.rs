//! `missing-project-dir`: an atlantis.yaml project whose dir does not exist in the repository.

use super::{Context, Rule};
use crate::model::finding::{Finding, Location, RuleId};
use crate::model::level::Level;

pub struct MissingProjectDir;

impl Rule for MissingProjectDir {
    fn id(&self) -> RuleId {
        RuleId::new("missing-project-dir")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn summary(&self) -> &'static str {
        "atlantis.yaml: a project's dir does not exist (lint only)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A project in atlantis.yaml whose `dir` (relative to the file) does not exist. Glob dirs are not
checked. Only `plangate lint` runs it.

## Why
Incident 3 (d): oversized atlantis.yaml files collect stale projects. A project pointing at a dir
that was moved or deleted is dead weight at best; at worst the name survives and is the one an
engineer copies.

## Levels
`warn` by default.

## Configure
```yaml
rules:
  missing-project-dir: deny
```
"#
    }

    fn lint(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(atlantis) = ctx.atlantis else {
            return;
        };
        let base = atlantis.path.parent().unwrap_or(std::path::Path::new("."));
        for project in &atlantis.projects {
            if project.dir.contains(['*', '?', '[']) || base.join(&project.dir).is_dir() {
                continue;
            }
            out.push(
                Finding::new(
                    self.id(),
                    format!(
                        "project {} points at dir {}, which does not exist",
                        project.display_name(),
                        project.dir
                    ),
                )
                .project_name(&project.display_name())
                .location(Location::file_line(&atlantis.path, project.position.line)),
            );
        }
    }
}
