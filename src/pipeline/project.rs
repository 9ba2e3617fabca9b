//! Which project a plan belongs to: `--project`, `--dir`/`--workspace`, the only project of
//! atlantis.yaml, or the directory a local run stands in.

use super::CheckRequest;
use super::PlanArg;
use crate::model::atlantis::{normalize_dir, AtlantisProject, DEFAULT_WORKSPACE};
use crate::model::project::Project;
use crate::{Error, Result};

pub(super) fn resolve_project(request: &CheckRequest, arg: &PlanArg) -> Result<Project> {
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
