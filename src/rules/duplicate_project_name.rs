//! `duplicate-project-name`: two projects in atlantis.yaml share one name.
//!
//! Atlantis rejects such a file, so `check` refuses it (exit 2) while reading atlantis.yaml;
//! `lint` reports each duplicate as this rule's finding, with file:line.

use super::Rule;
use crate::model::finding::RuleId;
use crate::model::level::Level;

pub struct DuplicateProjectName;

impl Rule for DuplicateProjectName {
    fn id(&self) -> RuleId {
        RuleId::new("duplicate-project-name")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn summary(&self) -> &'static str {
        "atlantis.yaml: two projects with one name"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
Two projects in atlantis.yaml with the same `name` (Atlantis compares only projects that can
meet: ones pinned to different `branch` regexes are not compared). `plangate lint` reports each
duplicate with the line of both; `plangate check` refuses the file, as Atlantis does.

## Why
Incident 3 (d): in an oversized atlantis.yaml, `atlantis apply -p NAME` must name exactly one
project. A copy-pasted block with an unchanged name is how a command meant for one environment
reaches another.

## Levels
`deny`. The file is invalid for Atlantis itself.

## Configure
Rename one of the projects. `rules: {duplicate-project-name: warn}` only changes how `lint`
reports it.
"#
    }
}
