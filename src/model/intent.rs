//! Declared destroy intent: which projects or environments this run means to destroy in.

use crate::model::policy::Policy;
use crate::model::project::Project;

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
