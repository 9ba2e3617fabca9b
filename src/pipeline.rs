//! From inputs to one report: read the plans, resolve each plan's project and environment, run
//! the rules and build the report. Also the policy as the rest of plangate loads it: the
//! reader handed the rules' catalog.

use std::path::{Path, PathBuf};

use crate::input::plan::PlanSource;
use crate::model::atlantis::{normalize_dir, AtlantisConfig, AtlantisProject, DEFAULT_WORKSPACE};
use crate::model::finding::Finding;
use crate::model::intent::DestroyIntent;
use crate::model::policy::Policy;
use crate::model::project::{Project, ProjectPlan};
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
    fn workspace(&self) -> String {
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

    let mut plans = Vec::with_capacity(sources.len());
    for (arg, source) in request.plans.iter().zip(&sources) {
        let plan = source.parse()?;
        let project = resolve_project(request, arg)?;
        if plans
            .iter()
            .any(|p: &ProjectPlan<'_>| p.project.name == project.name)
        {
            return Err(Error::Usage(format!(
                "project {} is given more than one plan",
                project.name
            )));
        }
        plans.push(ProjectPlan::new(
            project,
            plan,
            arg.path.clone(),
            source.sha256().to_string(),
            &request.policy,
        )?);
    }

    Ok(evaluate(
        &request.policy,
        request.atlantis.as_ref(),
        &request.intent,
        &plans,
    ))
}

/// Run every rule over prepared plans and build the report: the part of `check` after the
/// inputs are read.
pub fn evaluate(
    policy: &Policy,
    atlantis: Option<&AtlantisConfig>,
    intent: &DestroyIntent,
    plans: &[ProjectPlan<'_>],
) -> Report {
    let ctx = Context {
        policy,
        plans,
        atlantis,
        intent,
    };
    Report::build(policy, plans, rules::evaluate(&ctx))
}

/// The lint findings about atlantis.yaml and the policy alone (no plans), as a report.
/// `extra` are findings the caller already has (problems in the file itself).
pub fn lint(policy: &Policy, atlantis: Option<&AtlantisConfig>, extra: Vec<Finding>) -> Report {
    let intent = DestroyIntent::default();
    let ctx = Context {
        policy,
        plans: &[],
        atlantis,
        intent: &intent,
    };
    let mut findings = rules::lint(&ctx);
    findings.extend(extra);
    Report::lint(policy, findings)
}

fn resolve_project(request: &CheckRequest, arg: &PlanArg) -> Result<Project> {
    let name = arg.project.clone().or_else(|| request.project.clone());
    if let Some(name) = name {
        return project_by_name(request, name);
    }
    if let Some(dir) = &request.dir {
        return project_by_dir(request, dir);
    }
    let from_atlantis =
        |p: &AtlantisProject| Project::from_atlantis(&request.policy, p, request.env.as_deref());
    match &request.atlantis {
        Some(atlantis) if atlantis.projects.len() == 1 => Ok(from_atlantis(&atlantis.projects[0])),
        Some(atlantis) if !atlantis.projects.is_empty() => {
            let known: Vec<String> = atlantis.projects.iter().map(|p| p.display_name()).collect();
            Err(Error::Usage(format!(
                "cannot tell which project of {} the plan {} belongs to: pass --project NAME or --plan NAME={} (projects: {})",
                atlantis.path.display(),
                arg.path.display(),
                arg.path.display(),
                preview(&known)
            )))
        }
        _ => Ok(Project::resolve(
            &request.policy,
            request.local_name.clone(),
            None,
            request.local_dir.clone(),
            request.workspace(),
            request.env.as_deref(),
        )),
    }
}

/// `--project NAME` (or `--plan NAME=PATH`): the atlantis.yaml project of that name, or a
/// project of that name where there is no atlantis.yaml.
fn project_by_name(request: &CheckRequest, name: String) -> Result<Project> {
    let policy = &request.policy;
    let env = request.env.as_deref();
    let Some(atlantis) = &request.atlantis else {
        let dir = request
            .dir
            .clone()
            .unwrap_or_else(|| request.local_dir.clone());
        return Ok(Project::resolve(
            policy,
            name.clone(),
            Some(name),
            dir,
            request.workspace(),
            env,
        ));
    };
    if let Some(p) = atlantis
        .find_by_name(&name)
        .or_else(|| atlantis.projects.iter().find(|p| p.display_name() == name))
    {
        return Ok(Project::from_atlantis(policy, p, env));
    }
    let known: Vec<String> = atlantis.projects.iter().map(|p| p.display_name()).collect();
    Err(Error::Usage(format!(
        "project {name} is not in {} (it has: {})",
        atlantis.path.display(),
        preview(&known)
    )))
}

/// `--dir`/`--workspace`: the one atlantis.yaml project there, else a project named after the
/// dir (Atlantis autodiscovers projects that atlantis.yaml does not list).
fn project_by_dir(request: &CheckRequest, dir: &str) -> Result<Project> {
    let policy = &request.policy;
    let env = request.env.as_deref();
    let dir = normalize_dir(dir);
    let workspace = request.workspace();
    if let Some(atlantis) = &request.atlantis {
        let found = atlantis.find_by_dir_workspace(&dir, &workspace);
        match found.as_slice() {
            [one] => return Ok(Project::from_atlantis(policy, one, env)),
            [] => {}
            many => {
                let names: Vec<String> = many.iter().map(|p| p.display_name()).collect();
                return Err(Error::Usage(format!(
                    "dir {dir} workspace {workspace} matches several projects ({}): pass --project",
                    names.join(", ")
                )));
            }
        }
    }
    let name = if workspace == DEFAULT_WORKSPACE {
        dir.clone()
    } else {
        format!("{dir}:{workspace}")
    };
    Ok(Project::resolve(policy, name, None, dir, workspace, env))
}

fn preview(names: &[String]) -> String {
    if names.len() > 12 {
        format!("{}, … {} in all", names[..12].join(", "), names.len())
    } else {
        names.join(", ")
    }
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
