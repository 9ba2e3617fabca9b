//! Projects (an Atlantis project, or the one project of a local run) with their environments,
//! and a project's plan prepared for the rules.

use std::path::PathBuf;

use serde_json::Value;

use crate::input::atlantis::AtlantisProject;
use crate::input::plan::Plan;
use crate::input::policy::Policy;
use crate::model::change::ResourceChange;
use crate::model::environment::{EnvironmentOrigin, ProjectEnvironment, ResourceEnvironment};
use crate::Position;

/// One Terraform root module + workspace that a plan belongs to.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    /// The name as written in atlantis.yaml (`None` for unnamed projects).
    pub atlantis_name: Option<String>,
    pub dir: String,
    pub workspace: String,
    pub environment: ProjectEnvironment,
    /// Marked protected by the policy (by mapping or by its environment).
    pub protected: bool,
    /// Where the project is declared in atlantis.yaml, when it is.
    pub position: Option<Position>,
}

impl Project {
    /// Build a project and decide its environment: `--env`, then the policy's mapping, then
    /// inference from the name, dir and workspace.
    pub fn resolve(
        policy: &Policy,
        name: String,
        atlantis_name: Option<String>,
        dir: String,
        workspace: String,
        env_flag: Option<&str>,
    ) -> Project {
        let mapping = policy
            .projects
            .iter()
            .find(|m| m.matches(atlantis_name.as_deref().or(Some(&name)), &dir, &workspace));
        let environment = if let Some(env) = env_flag {
            let name = policy
                .environments
                .resolve_word(env)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| env.to_ascii_lowercase());
            ProjectEnvironment::Known {
                name,
                origin: EnvironmentOrigin::Flag,
            }
        } else if let Some(env) = mapping.and_then(|m| m.environment.clone()) {
            ProjectEnvironment::Known {
                name: env,
                origin: EnvironmentOrigin::Policy,
            }
        } else {
            ProjectEnvironment::infer(&policy.environments, Some(&name), &dir, &workspace)
        };
        let env_protected = environment
            .name()
            .and_then(|e| policy.environments.get(e))
            .is_some_and(|d| d.protected);
        Project {
            protected: mapping.is_some_and(|m| m.protected) || env_protected,
            name,
            atlantis_name,
            dir,
            workspace,
            environment,
            position: None,
        }
    }
}

impl Project {
    /// The project atlantis.yaml declares, with its environment resolved and its position kept.
    pub fn from_atlantis(
        policy: &Policy,
        declared: &AtlantisProject,
        env_flag: Option<&str>,
    ) -> Project {
        let mut project = Project::resolve(
            policy,
            declared.display_name(),
            declared.name.clone(),
            declared.dir.clone(),
            declared.workspace.clone(),
            env_flag,
        );
        project.position = Some(declared.position);
        project
    }
}

/// A resource the plan destroys (delete or replace), with its prior values read once.
#[derive(Debug)]
pub struct DestroyedResource {
    /// Index into the plan's `changes`.
    pub index: usize,
    pub before: Value,
    pub before_sensitive: Option<Value>,
    pub environment: Option<ResourceEnvironment>,
}

/// A project and its plan, as the rules see them.
#[derive(Debug)]
pub struct ProjectPlan<'a> {
    pub project: Project,
    pub plan: Plan<'a>,
    pub plan_path: PathBuf,
    pub plan_sha256: String,
    pub destroyed: Vec<DestroyedResource>,
}

impl<'a> ProjectPlan<'a> {
    pub fn new(
        project: Project,
        plan: Plan<'a>,
        plan_path: PathBuf,
        plan_sha256: String,
        policy: &Policy,
    ) -> ProjectPlan<'a> {
        let destroyed = plan
            .changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_managed() && c.action.destroys())
            .map(|(index, c)| {
                let before = parse_raw(c.before);
                let before_sensitive = c.before_sensitive.map(|v| parse_raw(Some(v)));
                let environment = policy.resource_environment.detect(
                    &policy.environments,
                    &before,
                    before_sensitive.as_ref(),
                );
                DestroyedResource {
                    index,
                    before,
                    before_sensitive,
                    environment,
                }
            })
            .collect();
        ProjectPlan {
            project,
            plan,
            plan_path,
            plan_sha256,
            destroyed,
        }
    }

    pub fn change(&self, destroyed: &DestroyedResource) -> &ResourceChange<'a> {
        &self.plan.changes[destroyed.index]
    }

    pub fn destroys_anything(&self) -> bool {
        !self.destroyed.is_empty()
    }
}

/// Prior values are JSON already validated by the plan parse; a value that still fails to
/// parse (it cannot, short of a bug) is treated as empty rather than aborting the check.
fn parse_raw(raw: Option<&serde_json::value::RawValue>) -> Value {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or(Value::Null)
}
