//! The rules. Each lives in its own file with its documentation; a rule reads the model and
//! pushes findings, and does no I/O and no formatting. Adding a rule is one file plus one line
//! in [`all`].

use crate::input::atlantis::AtlantisConfig;
use crate::input::policy::{Level, Policy};
use crate::model::project::{Project, ProjectPlan};
use crate::report::Finding;

mod collection_collapse;
mod cross_env_destroy;
mod duplicate_project_name;
mod env_conflict;
mod incomplete_plan;
mod intent_mismatch;
mod mass_deletion;
mod missing_project_dir;
mod protected_project_destroy;
mod protected_resource_destroy;
mod shared_state;
mod state_forget;
mod stateful_replace;
mod unknown_environment;
mod untagged_destroy;

/// Destroy intent declared for this run (`--allow-destroy-in`, `$PLANGATE_ALLOW_DESTROY_IN`,
/// pull-request labels): project names or environment names.
#[derive(Debug, Clone, Default)]
pub struct DestroyIntent {
    pub targets: Vec<String>,
}

impl DestroyIntent {
    pub fn is_declared(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Intent names this project, or its environment by name or alias.
    pub fn covers(&self, policy: &Policy, project: &Project) -> bool {
        self.targets.iter().any(|t| {
            t == &project.name
                || project.atlantis_name.as_deref() == Some(t.as_str())
                || match (
                    policy.environments.resolve_word(t),
                    project.environment.name(),
                ) {
                    (Some(def), Some(env)) => def.name == env,
                    (None, Some(env)) => t.eq_ignore_ascii_case(env),
                    _ => false,
                }
        })
    }

    pub fn describe(&self) -> String {
        self.targets.join(", ")
    }
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
    /// Runs on `check`: findings about the plans (and, for configuration rules, about the
    /// projects being checked).
    fn check(&self, _ctx: &Context<'_>, _out: &mut Vec<Finding>) {}
    /// Runs on `lint`: findings about atlantis.yaml and the policy alone, for every project.
    fn lint(&self, _ctx: &Context<'_>, _out: &mut Vec<Finding>) {}
}

/// Every rule, in the order `plangate rules` lists them.
pub fn all() -> &'static [&'static dyn Rule] {
    &[
        &cross_env_destroy::CrossEnvDestroy,
        &protected_project_destroy::ProtectedProjectDestroy,
        &protected_resource_destroy::ProtectedResourceDestroy,
        &stateful_replace::StatefulReplace,
        &mass_deletion::MassDeletion,
        &collection_collapse::CollectionCollapse,
        &intent_mismatch::IntentMismatch,
        &unknown_environment::UnknownEnvironment,
        &untagged_destroy::UntaggedDestroy,
        &state_forget::StateForget,
        &incomplete_plan::IncompletePlan,
        &env_conflict::EnvConflict,
        &duplicate_project_name::DuplicateProjectName,
        &shared_state::SharedState,
        &missing_project_dir::MissingProjectDir,
    ]
}

pub fn find(id: &str) -> Option<&'static dyn Rule> {
    all().iter().copied().find(|r| r.id() == id)
}

/// Run every rule's `check` over the context.
pub fn evaluate(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in all() {
        rule.check(ctx, &mut out);
    }
    out
}

/// Which numeric options apply to a project: the rule's settings with the project's
/// environment overrides, over the rule's defaults.
pub fn options_for(
    ctx: &Context<'_>,
    rule: &str,
    plan: &ProjectPlan<'_>,
) -> crate::input::policy::RuleOptions {
    ctx.policy
        .rule_options(rule, plan.project.environment.name())
}

/// Every project of atlantis.yaml as a [`Project`] with its environment resolved.
pub fn atlantis_projects(ctx: &Context<'_>) -> Vec<Project> {
    let Some(atlantis) = ctx.atlantis else {
        return Vec::new();
    };
    atlantis
        .projects
        .iter()
        .map(|p| Project::from_atlantis(ctx.policy, p, None))
        .collect()
}

/// A short list of addresses for messages: the first few in sorted order, then how many more.
/// Sorted, so that a report never depends on the order of the plan's `resource_changes`.
pub fn address_list<'s>(addresses: impl Iterator<Item = &'s str>, limit: usize) -> String {
    let mut all: Vec<&str> = addresses.collect();
    all.sort_unstable();
    if all.len() <= limit {
        all.join(", ")
    } else {
        format!(
            "{}, and {} more",
            all[..limit].join(", "),
            all.len() - limit
        )
    }
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
    fn address_lists_do_not_depend_on_plan_order() {
        let a = address_list(["b.x", "a.x", "c.x"].into_iter(), 2);
        let b = address_list(["c.x", "b.x", "a.x"].into_iter(), 2);
        assert_eq!(a, "a.x, b.x, and 1 more");
        assert_eq!(a, b);
    }

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in all() {
            let id = rule.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
            assert!(
                !rule.summary().is_empty() && !rule.summary().contains('\n'),
                "{id}"
            );
            for section in ["## What it catches", "## Why", "## Configure"] {
                assert!(rule.docs().contains(section), "{id} docs lack {section}");
            }
        }
    }
}
