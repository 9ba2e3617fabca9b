//! The rules. Each lives in its own file with its documentation; a rule reads the model and
//! pushes findings, and does no I/O and no formatting. Adding a rule is one file plus one line
//! in [`all`].

use crate::input::atlantis::AtlantisConfig;
use crate::input::policy::{Level, Policy};
use crate::model::project::ProjectPlan;
use crate::report::Finding;

mod cross_env_destroy;
mod incomplete_plan;
mod unknown_environment;
mod untagged_destroy;

/// Destroy intent declared for this run (`--allow-destroy-in`, `$PLANGATE_ALLOW_DESTROY_IN`,
/// pull-request labels): project names or environment names.
#[derive(Debug, Clone, Default)]
pub struct DestroyIntent {
    pub targets: Vec<String>,
}

/// Everything a rule may look at.
pub struct Context<'a> {
    pub policy: &'a Policy,
    pub plans: &'a [ProjectPlan<'a>],
    pub atlantis: Option<&'a AtlantisConfig>,
    pub intent: &'a DestroyIntent,
}

/// A check with a stable kebab-case id and its own documentation.
pub trait Rule: Sync {
    fn id(&self) -> &'static str;
    fn default_level(&self) -> Level;
    /// One line for `plangate rules`.
    fn summary(&self) -> &'static str;
    /// The full Markdown documentation for `plangate explain` and the README: what it
    /// catches, why (the incident), an example, how to configure or silence it.
    fn docs(&self) -> &'static str;
    /// Option names the rule accepts under `rules.<id>` besides `level`.
    fn options(&self) -> &'static [&'static str] {
        &[]
    }
    /// Runs on `check` (with plans).
    fn check(&self, _ctx: &Context<'_>, _out: &mut Vec<Finding>) {}
    /// Runs on `lint` and `check`: findings about atlantis.yaml and the policy alone.
    fn lint(&self, _ctx: &Context<'_>, _out: &mut Vec<Finding>) {}
}

/// Every rule, in the order `plangate rules` lists them.
pub fn all() -> &'static [&'static dyn Rule] {
    &[
        &cross_env_destroy::CrossEnvDestroy,
        &unknown_environment::UnknownEnvironment,
        &untagged_destroy::UntaggedDestroy,
        &incomplete_plan::IncompletePlan,
    ]
}

pub fn find(id: &str) -> Option<&'static dyn Rule> {
    all().iter().copied().find(|r| r.id() == id)
}

/// Run every rule's `check` and `lint` over the context.
pub fn evaluate(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in all() {
        rule.lint(ctx, &mut out);
        rule.check(ctx, &mut out);
    }
    out
}

/// Run only the lint part (no plans).
pub fn lint(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in all() {
        rule.lint(ctx, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in all() {
            let id = rule.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(id.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{id}");
            assert!(!rule.summary().is_empty() && !rule.summary().contains('\n'), "{id}");
            for section in ["## What it catches", "## Why", "## Configure"] {
                assert!(rule.docs().contains(section), "{id} docs lack {section}");
            }
        }
    }
}
