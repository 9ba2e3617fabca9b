//! The rules. Each lives in its own file with its documentation; a rule reads the model and
//! pushes findings, and does no I/O and no formatting. Adding a rule is one file plus one line
//! in [`all`] and its fixture cases.

mod rule;
mod settings;

pub use rule::{Context, Rule};
pub use settings::catalog;

use crate::model::finding::{Finding, WayOut};
use crate::model::level::Level;
use crate::model::policy::{Policy, RuleOptions};
use crate::model::project::{Project, ProjectPlan};

mod apply_will_fail;
mod collection_collapse;
mod cross_env_destroy;
mod cross_env_target;
mod dependents_at_risk;
mod duplicate_project_name;
mod env_conflict;
mod incomplete_plan;
mod intent_mismatch;
mod mass_deletion;
mod missing_project_dir;
mod moved_between_projects;
mod policy_unverified;
pub mod policy_weakened;
mod protected_project_destroy;
mod protected_resource_destroy;
mod shared_resource;
mod shared_state;
mod state_forget;
mod stateful_destroy;
mod stateful_replace;
mod unknown_environment;
mod untagged_destroy;

/// Every rule, in the order `plangate rules` lists them.
pub fn all() -> &'static [&'static dyn Rule] {
    &[
        &cross_env_destroy::CrossEnvDestroy,
        &protected_project_destroy::ProtectedProjectDestroy,
        &protected_resource_destroy::ProtectedResourceDestroy,
        &stateful_replace::StatefulReplace,
        &stateful_destroy::StatefulDestroy,
        &cross_env_target::CrossEnvTarget,
        &mass_deletion::MassDeletion,
        &collection_collapse::CollectionCollapse,
        &dependents_at_risk::DependentsAtRisk,
        &shared_resource::SharedResource,
        &moved_between_projects::MovedBetweenProjects,
        &intent_mismatch::IntentMismatch,
        &unknown_environment::UnknownEnvironment,
        &untagged_destroy::UntaggedDestroy,
        &state_forget::StateForget,
        &incomplete_plan::IncompletePlan,
        &apply_will_fail::ApplyWillFail,
        &env_conflict::EnvConflict,
        &duplicate_project_name::DuplicateProjectName,
        &shared_state::SharedState,
        &missing_project_dir::MissingProjectDir,
        &policy_weakened::PolicyWeakened,
        &policy_unverified::PolicyUnverified,
    ]
}

pub fn find(id: &str) -> Option<&'static dyn Rule> {
    all().iter().copied().find(|r| r.id().as_str() == id)
}

/// Run every rule's `check` over the context. Each finding leaves at its rule's default level;
/// the report lays the policy's level over it.
pub fn evaluate(ctx: &Context<'_>) -> Vec<Finding> {
    // The rules share nothing but what they read: on large plans they run on every core.
    let changes: usize = ctx.plans.iter().map(|p| p.plan.changes.len()).sum();
    let threads = crate::parallel::threads_for(changes, CHANGES_PER_THREAD);
    let per_rule = crate::parallel::map(all(), threads, |rule| {
        let mut found = Vec::new();
        rule.check(ctx, &mut found);
        at_default_level(*rule, &mut found, ctx.plans);
        found
    });
    let mut out = concat(per_rule);
    drop_superseded(ctx.policy, &mut out);
    out
}

/// The lists one after the other, built in the largest of them: on a mass destroy one rule
/// finds nearly everything, and a fresh list would hold every finding twice at once.
fn concat(mut lists: Vec<Vec<Finding>>) -> Vec<Finding> {
    let total: usize = lists.iter().map(Vec::len).sum();
    let Some(largest) = (0..lists.len()).max_by_key(|&i| lists[i].len()) else {
        return Vec::new();
    };
    let mut out = std::mem::take(&mut lists[largest]);
    out.reserve(total - out.len());
    let before: Vec<Finding> = lists[..largest]
        .iter_mut()
        .flat_map(std::mem::take)
        .collect();
    out.splice(0..0, before);
    for list in &mut lists[largest + 1..] {
        out.append(list);
    }
    out
}

/// Resource changes worth running the rules on a second thread.
const CHANGES_PER_THREAD: usize = 5_000;

/// Findings that say nothing more than another rule's finding on the same resource: (the
/// rule, the rules whose finding supersedes it). A delete of a protected database is
/// `protected-resource-destroy`'s, not also `stateful-destroy`'s, whose way out (declared
/// intent) would contradict it.
const SUPERSEDED: &[(&str, &[&str])] = &[
    (
        "stateful-destroy",
        &["protected-resource-destroy", "cross-env-destroy"],
    ),
    ("cross-env-target", &["cross-env-destroy"]),
];

/// Leave out each superseded finding when a superseding one on the same project and address
/// ends at a level at least as high (after the policy's levels and caps), so that dropping it
/// never changes a verdict: lowering the superseding rule brings the other back.
fn drop_superseded(policy: &Policy, findings: &mut Vec<Finding>) {
    let level = |f: &Finding| {
        policy
            .rule_level(f.rule.as_str())
            .unwrap_or(f.level)
            .min(f.cap)
    };
    let mut strongest: std::collections::BTreeMap<(&str, &str, &str), Level> =
        std::collections::BTreeMap::new();
    for f in findings.iter() {
        if let (Some(project), Some(address)) = (&f.project, &f.address) {
            let key = (f.rule.as_str(), project.as_str(), address.as_str());
            let at = strongest.entry(key).or_insert(Level::Allow);
            *at = (*at).max(level(f));
        }
    }
    let superseded = |f: &Finding| {
        let (Some(project), Some(address)) = (&f.project, &f.address) else {
            return false;
        };
        let Some((_, by)) = SUPERSEDED.iter().find(|(rule, _)| f.rule.as_str() == *rule) else {
            return false;
        };
        by.iter().any(|rule| {
            strongest
                .get(&(*rule, project.as_str(), address.as_str()))
                .is_some_and(|l| *l >= level(f))
        })
    };
    let keep: Vec<bool> = findings.iter().map(|f| !superseded(f)).collect();
    let mut keep = keep.into_iter();
    findings.retain(|_| keep.next().unwrap_or(true));
}

fn at_default_level(rule: &dyn Rule, findings: &mut [Finding], plans: &[ProjectPlan<'_>]) {
    // A rule's findings come project by project: the step is worded once per project.
    let mut last: Option<(Option<String>, String)> = None;
    for f in findings {
        f.level = rule.default_level();
        let next = match &last {
            Some((project, next)) if *project == f.project => next.clone(),
            _ => {
                let sha = plans
                    .iter()
                    .find(|p| Some(p.project.name.as_str()) == f.project.as_deref())
                    .map(|p| crate::model::approval::sha8(&p.plan_sha256));
                let next = next_step_for(rule, f.project.as_deref(), sha);
                last = Some((f.project.clone(), next.clone()));
                next
            }
        };
        f.next = Some(next);
    }
}

/// What the author of a pull request can do about a finding of `rule` in `project`.
pub fn next_step(rule: &dyn Rule, project: Option<&str>) -> String {
    next_step_for(rule, project, None)
}

/// [`next_step`], naming the plan an approval would have to name when it is known.
pub fn next_step_for(rule: &dyn Rule, project: Option<&str>, sha8: Option<&str>) -> String {
    let target = project.unwrap_or("<project-or-environment>");
    match rule.way_out() {
        WayOut::Intent => format!(
            "if the destroy is meant, declare it: add the pull-request label `plangate:destroy:{target}` (locally `--allow-destroy-in {target}`)"
        ),
        // The same words for every rule, so that a report says it once.
        WayOut::Approval => format!(
            "declared intent does not excuse this: it needs an approval (an approver the trusted policy names comments `/plangate approve {} {} reason` on the pull request), or a change of the rule's level under `rules:` in the trusted policy",
            project.unwrap_or("PROJECT"),
            sha8.unwrap_or("SHA8")
        ),
        WayOut::Fix(text) => text.replace("{project}", target),
    }
}

/// Which numeric options apply to a project: the rule's settings with the project's
/// environment overrides, over the rule's defaults.
pub fn options_for(ctx: &Context<'_>, rule: &str, plan: &ProjectPlan<'_>) -> RuleOptions {
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
        let start = out.len();
        rule.lint(ctx, &mut out);
        at_default_level(*rule, &mut out[start..], ctx.plans);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_joined_in_order_inside_the_largest() {
        let list = |rule: &str, n: usize| -> Vec<Finding> {
            (0..n)
                .map(|i| Finding::new("mass-deletion", format!("{rule} {i}")))
                .collect()
        };
        for sizes in [
            vec![],
            vec![0, 0],
            vec![2, 5, 1],
            vec![5, 0, 3],
            vec![1, 2, 9],
        ] {
            let lists: Vec<Vec<Finding>> = sizes
                .iter()
                .enumerate()
                .map(|(r, &n)| list(&format!("r{r}"), n))
                .collect();
            let expected: Vec<String> = lists.iter().flatten().map(|f| f.message.clone()).collect();
            let largest = lists.iter().map(Vec::capacity).max().unwrap_or(0);
            let joined = concat(lists);
            let got: Vec<String> = joined.iter().map(|f| f.message.clone()).collect();
            assert_eq!(got, expected, "{sizes:?}");
            assert!(joined.capacity() >= largest, "{sizes:?}");
        }
    }

    #[test]
    fn address_lists_do_not_depend_on_plan_order() {
        let a = address_list(["b.x", "a.x", "c.x"].into_iter(), 2);
        let b = address_list(["c.x", "b.x", "a.x"].into_iter(), 2);
        assert_eq!(a, "a.x, b.x, and 1 more");
        assert_eq!(a, b);
    }

    fn on(rule: &'static str, address: &str, cap: Level) -> Finding {
        let mut f = Finding::new(rule, "x")
            .project_name("p")
            .address(address)
            .at_most(cap);
        f.level = find(rule).unwrap().default_level();
        f
    }

    fn kept(policy: &str, findings: Vec<Finding>) -> Vec<(&'static str, String)> {
        let policy = crate::pipeline::parse_policy(policy, std::path::Path::new("p.yaml")).unwrap();
        let mut findings = findings;
        drop_superseded(&policy, &mut findings);
        findings
            .into_iter()
            .map(|f| (f.rule.as_str(), f.address.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_finding_is_superseded_only_by_one_as_strong_on_the_same_resource() {
        let findings = || {
            vec![
                on("stateful-destroy", "aws_db_instance.a", Level::Deny),
                on(
                    "protected-resource-destroy",
                    "aws_db_instance.a",
                    Level::Deny,
                ),
                on("stateful-destroy", "aws_db_instance.b", Level::Deny),
                // A weak cross-env-destroy reading is a warning: it cannot stand for a deny.
                on("cross-env-destroy", "aws_db_instance.b", Level::Warn),
                // Under declared intent stateful-destroy is a warning: the weak one covers it.
                on("stateful-destroy", "aws_db_instance.c", Level::Warn),
                on("cross-env-destroy", "aws_db_instance.c", Level::Warn),
                on("cross-env-target", "aws_iam_role.d", Level::Deny),
                on("cross-env-destroy", "aws_iam_role.e", Level::Deny),
            ]
        };
        let kept_by_default = kept("version: 1\n", findings());
        let rules_on = |address: &str, kept: &[(&'static str, String)]| -> Vec<&'static str> {
            kept.iter()
                .filter(|(_, a)| a == address)
                .map(|(r, _)| *r)
                .collect()
        };
        assert_eq!(
            rules_on("aws_db_instance.a", &kept_by_default),
            ["protected-resource-destroy"]
        );
        assert_eq!(
            rules_on("aws_db_instance.b", &kept_by_default),
            ["stateful-destroy", "cross-env-destroy"]
        );
        assert_eq!(
            rules_on("aws_db_instance.c", &kept_by_default),
            ["cross-env-destroy"]
        );
        assert_eq!(
            rules_on("aws_iam_role.d", &kept_by_default),
            ["cross-env-target"]
        );
        // Lowering the superseding rule brings the other finding back.
        let lowered = kept("rules:\n  protected-resource-destroy: warn\n", findings());
        assert_eq!(
            rules_on("aws_db_instance.a", &lowered),
            ["stateful-destroy", "protected-resource-destroy"]
        );
    }

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in all() {
            let id = rule.id().as_str();
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
