//! From inputs to one report: read the plans, resolve each plan's project and environment, run
//! the rules and build the report. Also the policy as the rest of plangate loads it: the
//! reader handed the rules' catalog.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod blast;
mod moves;
mod project;
mod trust;

pub use trust::{resolve_policy, PolicySources};

use crate::input::context::{ContextSource, Located};
use crate::input::plan::PlanSource;
use crate::model::atlantis::{AtlantisConfig, DEFAULT_WORKSPACE};
use crate::model::dependents;
use crate::model::finding::Finding;
use crate::model::intent::DestroyIntent;
use crate::model::policy::{Policy, PolicyReview};
use crate::model::project::ProjectPlan;
use crate::report::Report;
use crate::rules::{self, Context};
use crate::{Error, Result};

/// The built-in default policy.
pub fn builtin_policy() -> Policy {
    crate::input::policy::builtin(&rules::catalog())
}

/// A policy file laid over the built-in default.
pub fn load_policy(path: &Path) -> Result<Policy> {
    crate::input::policy::load(path, &rules::catalog())
}

/// Policy text laid over the built-in default; `path` names it in messages.
pub fn parse_policy(text: &str, path: &Path) -> Result<Policy> {
    crate::input::policy::parse(text, path, &rules::catalog())
}

/// One `--plan` argument: `PATH`, or `PROJECT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanArg {
    pub project: Option<String>,
    pub path: PathBuf,
}

impl PlanArg {
    /// `PROJECT=PATH` splits at the first `=` unless the whole argument is an existing file.
    pub fn parse(arg: &str) -> PlanArg {
        if let Some((project, path)) = arg.split_once('=') {
            if !project.is_empty() && !path.is_empty() && !Path::new(arg).exists() {
                return PlanArg {
                    project: Some(project.to_string()),
                    path: PathBuf::from(path),
                };
            }
        }
        PlanArg {
            project: None,
            path: PathBuf::from(arg),
        }
    }
}

/// Everything `check` needs, already read and validated except the plans.
pub struct CheckRequest {
    pub plans: Vec<PlanArg>,
    /// `--context [NAME=]PATH`: other projects' states or plans, read only to find what
    /// depends on what the plans destroy.
    pub contexts: Vec<PlanArg>,
    pub atlantis: Option<AtlantisConfig>,
    pub policy: Policy,
    /// `--project` (or `$PROJECT_NAME`): the project of a single plan.
    pub project: Option<String>,
    /// `--dir`/`--workspace` (or `$REPO_REL_DIR`/`$WORKSPACE`): find the project by location.
    pub dir: Option<String>,
    pub workspace: Option<String>,
    /// `--env`: force the environment of the project(s).
    pub env: Option<String>,
    pub intent: DestroyIntent,
    /// How the policy compares with the one it may only tighten.
    pub review: PolicyReview,
    /// The directory a local run stands in, relative to the repository root: names the
    /// project when nothing else does.
    pub local_dir: String,
    /// The project's name for a local run with nothing else to name it.
    pub local_name: String,
}

/// An environment named on the command line must be one the policy knows.
pub fn check_environment_name(policy: &Policy, name: &str, flag: &str) -> Result<()> {
    if policy.environments.resolve_word(name).is_some() {
        return Ok(());
    }
    let words =
        policy.environments.defs.iter().flat_map(|d| {
            std::iter::once(d.name.as_str()).chain(d.aliases.iter().map(String::as_str))
        });
    let hint = crate::text::suggest(&name.to_ascii_lowercase(), words)
        .map(|w| format!("; did you mean `{w}`?"))
        .unwrap_or_default();
    Err(Error::Usage(format!(
        "{flag} {}: no such environment in the policy (known: {}){hint}",
        crate::text::printable(name),
        policy.environments.describe()
    )))
}

impl CheckRequest {
    /// `--workspace`, else Atlantis's default.
    pub(crate) fn workspace(&self) -> String {
        self.workspace
            .clone()
            .unwrap_or_else(|| DEFAULT_WORKSPACE.into())
    }
}

/// Read every plan, resolve its project, run the rules and build the report.
pub fn run(request: &CheckRequest) -> Result<Report> {
    if request.plans.is_empty() {
        return Err(Error::Usage(
            "no plan given: pass --plan PATH (the output of `terraform show -json PLANFILE`)"
                .into(),
        ));
    }
    if request.plans.len() > 1 {
        if let Some(unnamed) = request.plans.iter().find(|p| p.project.is_none()) {
            return Err(Error::Usage(format!(
                "several plans were given, so each needs its project: --plan PROJECT={}",
                unnamed.path.display()
            )));
        }
    }
    if let Some(env) = &request.env {
        check_environment_name(&request.policy, env, "--env")?;
    }
    let sources = request
        .plans
        .iter()
        .map(|arg| PlanSource::read(&arg.path))
        .collect::<Result<Vec<_>>>()?;

    // The --context files are read and parsed for their resources on a thread of their own
    // while the plans are parsed; an error in a plan is still the one reported first.
    let slots: Vec<OnceLock<ContextSource>> =
        request.contexts.iter().map(|_| OnceLock::new()).collect();
    let (plans, contexts) = std::thread::scope(|scope| {
        let reader = (!request.contexts.is_empty())
            .then(|| scope.spawn(|| read_contexts(&request.contexts, &slots)));
        let plans = prepare_plans(request, &sources);
        let contexts = match reader {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => Ok(Vec::new()),
        };
        (plans, contexts)
    });
    let mut plans = plans?;
    let contexts = contexts?;
    blast::across_projects(&mut plans, &sources, contexts)?;
    moves::between_projects(&mut plans);

    Ok(evaluate_reviewed(
        &request.policy,
        &request.review,
        request.atlantis.as_ref(),
        &request.intent,
        &plans,
    ))
}

/// Each plan parsed, its project resolved and its own dependents found, in the order given.
fn prepare_plans<'s>(
    request: &CheckRequest,
    sources: &'s [PlanSource],
) -> Result<Vec<ProjectPlan<'s>>> {
    let mut plans = Vec::with_capacity(sources.len());
    for (arg, source) in request.plans.iter().zip(sources) {
        let plan = source.parse()?;
        let project = project::resolve_project(request, arg)?;
        if plans
            .iter()
            .any(|p: &ProjectPlan<'_>| p.project.name == project.name)
        {
            return Err(Error::Usage(format!(
                "project {} is given more than one plan",
                project.name
            )));
        }
        let mut prepared = ProjectPlan::new(
            project,
            plan,
            arg.path.clone(),
            source.sha256().to_string(),
            &request.policy,
        )?;
        dependents_in_plan(&mut prepared)?;
        plans.push(prepared);
    }
    Ok(plans)
}

/// Each `--context` file read into its slot, with its resources and where their values are.
fn read_contexts<'s>(
    args: &[PlanArg],
    slots: &'s [OnceLock<ContextSource>],
) -> Result<Vec<(&'s ContextSource, Vec<Located<'s>>)>> {
    args.iter()
        .zip(slots)
        .map(|(arg, slot)| {
            let name = arg
                .project
                .clone()
                .unwrap_or_else(|| arg.path.display().to_string());
            let source = ContextSource::read(name, &arg.path)?;
            let source = slot.get_or_init(|| source);
            Ok((source, source.resources()?))
        })
        .collect()
}

/// What depends on each resource a plan destroys, inside that plan: its configuration's
/// references and `depends_on`, and its prior state's `depends_on`. Read only when the plan
/// destroys something.
pub fn dependents_in_plan(plan: &mut ProjectPlan<'_>) -> Result<()> {
    if plan.destroyed.is_empty() {
        return Ok(());
    }
    let edges = match plan.plan.configuration {
        Some(root) => crate::input::configuration::edges(root).map_err(|e| {
            Error::input(
                &plan.plan_path,
                // Serde's message may quote a value: only the position is said.
                format!(
                    "has an unreadable configuration (line {} column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?,
        None => Vec::new(),
    };
    let indexes: Vec<usize> = plan.destroyed.iter().map(|d| d.index).collect();
    let mut found = dependents::in_plan(&plan.project.name, &plan.plan, &edges, &indexes);
    for destroyed in &mut plan.destroyed {
        if let Some(list) = found.remove(&destroyed.index) {
            destroyed.dependents = list;
        }
    }
    Ok(())
}

/// Run every rule over prepared plans and build the report: the part of `check` after the
/// inputs are read.
pub fn evaluate(
    policy: &Policy,
    atlantis: Option<&AtlantisConfig>,
    intent: &DestroyIntent,
    plans: &[ProjectPlan<'_>],
) -> Report {
    evaluate_reviewed(policy, &PolicyReview::default(), atlantis, intent, plans)
}

/// [`evaluate`], with what is known about how the policy compares with the one it may only
/// tighten.
pub fn evaluate_reviewed(
    policy: &Policy,
    review: &PolicyReview,
    atlantis: Option<&AtlantisConfig>,
    intent: &DestroyIntent,
    plans: &[ProjectPlan<'_>],
) -> Report {
    let ctx = Context {
        policy,
        plans,
        atlantis,
        intent,
        review,
    };
    Report::build(policy, plans, rules::evaluate(&ctx))
}

/// The lint findings about atlantis.yaml and the policy alone (no plans), as a report.
/// `extra` are findings the caller already has (problems in the file itself).
pub fn lint(
    policy: &Policy,
    review: &PolicyReview,
    atlantis: Option<&AtlantisConfig>,
    extra: Vec<Finding>,
) -> Report {
    let intent = DestroyIntent::default();
    let ctx = Context {
        policy,
        plans: &[],
        atlantis,
        intent: &intent,
        review,
    };
    let mut findings = rules::lint(&ctx);
    findings.extend(extra);
    Report::lint(policy, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_args_split_project_and_path() {
        assert_eq!(
            PlanArg::parse("app-prod=plans/prod.json"),
            PlanArg {
                project: Some("app-prod".into()),
                path: "plans/prod.json".into()
            }
        );
        assert_eq!(PlanArg::parse("plan.json").project, None);
        assert_eq!(PlanArg::parse("-").path, PathBuf::from("-"));
    }
}
