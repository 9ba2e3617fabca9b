//! The data of a repo-level `atlantis.yaml` (and of a server-side `repos.yaml`) as Atlantis
//! reads it: projects, workflows and their steps. `input::atlantis` builds it, validated the way
//! Atlantis validates it.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::error::Position;

/// The workspace Atlantis uses when a project sets none.
pub const DEFAULT_WORKSPACE: &str = "default";

/// A validated repo-level `atlantis.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtlantisConfig {
    pub path: PathBuf,
    pub version: u32,
    pub projects: Vec<AtlantisProject>,
    /// Names of the workflows the file defines (in file order).
    pub workflows: Vec<String>,
    pub parallel_plan: Option<bool>,
    pub automerge: Option<bool>,
    pub parallel_apply: Option<bool>,
    /// The workflows the file defines, with their steps.
    pub workflow_definitions: Vec<Workflow>,
}

/// One entry of `projects:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtlantisProject {
    pub name: Option<String>,
    /// Normalised like Atlantis does (`filepath.Clean("./" + dir)`): `.`, `envs/prod`.
    pub dir: String,
    /// `default` when unset or empty.
    pub workspace: String,
    pub workflow: Option<String>,
    pub branch: Option<String>,
    pub terraform_version: Option<String>,
    pub terraform_distribution: Option<String>,
    pub execution_order_group: Option<i64>,
    pub depends_on: Vec<String>,
    pub autoplan_enabled: Option<bool>,
    /// Empty when not set (Atlantis then watches its default Terraform file patterns).
    pub when_modified: Vec<String>,
    pub apply_requirements: Vec<String>,
    pub plan_requirements: Vec<String>,
    pub import_requirements: Vec<String>,
    pub custom_policy_check: Option<bool>,
    pub policy_check: Option<bool>,
    pub repo_locking: Option<bool>,
    /// Where the project's entry starts.
    pub position: Position,
    /// Where its `name` value sits, when it has one.
    pub name_position: Option<Position>,
}

impl AtlantisProject {
    /// The name a person would use for the project: its name, else its dir (with
    /// `:workspace` appended when the workspace is not `default`).
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None if self.workspace == DEFAULT_WORKSPACE => self.dir.clone(),
            None => format!("{}:{}", self.dir, self.workspace),
        }
    }

    /// Whether the two projects can both be active for one pull request. Atlantis drops the
    /// projects whose `branch` regex does not match the base branch before it checks names, so
    /// projects pinned to different branch regexes never meet.
    pub fn may_meet(&self, other: &AtlantisProject) -> bool {
        match (&self.branch, &other.branch) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

impl AtlantisConfig {
    /// The first project with this name.
    pub fn find_by_name(&self, name: &str) -> Option<&AtlantisProject> {
        self.projects
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
    }

    /// Every project on this dir and workspace; `dir` is normalised as project dirs are, an
    /// empty workspace means `default`. A project whose `dir` is a glob (which Atlantis expands
    /// into one project per matching directory) matches the directories its pattern covers.
    pub fn find_by_dir_workspace(&self, dir: &str, workspace: &str) -> Vec<&AtlantisProject> {
        let dir = normalize_dir(dir);
        let workspace = if workspace.is_empty() {
            DEFAULT_WORKSPACE
        } else {
            workspace
        };
        self.projects
            .iter()
            .filter(|p| p.workspace == workspace)
            .filter(|p| p.dir == dir || (contains_glob(&p.dir) && glob_matches(&p.dir, &dir)))
            .collect()
    }

    /// Projects that share one dir+workspace, i.e. one Terraform state managed twice. Atlantis
    /// accepts this when the projects are named (every one after the first); each group is in
    /// file order. Projects pinned to different `branch` regexes are not grouped: they never
    /// plan for the same pull request.
    pub fn shared_states(&self) -> Vec<Vec<&AtlantisProject>> {
        let mut index: HashMap<(&str, &str, Option<String>), usize> = HashMap::new();
        let mut groups: Vec<Vec<&AtlantisProject>> = Vec::new();
        for project in &self.projects {
            if contains_glob(&project.dir) {
                continue;
            }
            // Projects whose workflows pick different backends keep different states, as
            // Atlantis's custom-workflow documentation recommends for one dir and workspace.
            let key = (
                project.dir.as_str(),
                project.workspace.as_str(),
                self.backend_selection(project),
            );
            match index.get(&key) {
                Some(&i) => groups[i].push(project),
                None => {
                    index.insert(key, groups.len());
                    groups.push(vec![project]);
                }
            }
        }
        groups
            .into_iter()
            .filter_map(|members| {
                let sharing: Vec<&AtlantisProject> = members
                    .iter()
                    .enumerate()
                    .filter(|(i, a)| {
                        members
                            .iter()
                            .enumerate()
                            .any(|(j, b)| *i != j && a.may_meet(b))
                    })
                    .map(|(_, p)| *p)
                    .collect();
                (sharing.len() > 1).then_some(sharing)
            })
            .collect()
    }

    /// What the project's workflow (when this file defines it) does to choose its backend in
    /// the plan stage: `init` extra args with `-backend-config`, `env` steps setting
    /// `TF_DATA_DIR`/`TF_CLI_ARGS*`, `run` steps that pass `-backend-config` or set
    /// `TF_DATA_DIR`. `None` when nothing visible selects one.
    pub fn backend_selection(&self, project: &AtlantisProject) -> Option<String> {
        let workflow = self.workflow(project.workflow.as_deref()?)?;
        let stage = workflow.stage("plan")?;
        let mut parts = Vec::new();
        for step in &stage.steps {
            match step.kind.as_str() {
                "init" => parts.extend(
                    step.extra_args
                        .iter()
                        .filter(|a| a.contains("backend-config") || a.starts_with("-chdir"))
                        .cloned(),
                ),
                "env" => {
                    let name = step.env_name.as_deref().unwrap_or_default();
                    if name == "TF_DATA_DIR" || name.starts_with("TF_CLI_ARGS") {
                        let value = step.env_value.as_deref().or(step.command.as_deref());
                        parts.push(format!("{name}={}", value.unwrap_or_default()));
                    }
                }
                "run" | "multienv" => {
                    let command = step.command.as_deref().unwrap_or_default();
                    if command.contains("backend-config") || command.contains("TF_DATA_DIR") {
                        parts.push(command.to_string());
                    }
                }
                _ => {}
            }
        }
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    /// The workflow of this name defined in the file.
    pub fn workflow(&self, name: &str) -> Option<&Workflow> {
        self.workflow_definitions.iter().find(|w| w.name == name)
    }
}

/// A custom workflow (`workflows:` in atlantis.yaml or repos.yaml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub name: String,
    pub position: Position,
    /// The stages the workflow sets, in file order (`plan`, `apply`, `policy_check`, `import`,
    /// `state_rm`); a stage not listed runs Atlantis's default steps.
    pub stages: Vec<Stage>,
}

impl Workflow {
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }
}

/// One stage of a workflow and its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    pub position: Position,
    pub steps: Vec<Step>,
}

/// One workflow step: a built-in (`init`, `plan`, `show`...) or `run`/`env`/`multienv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The step type: `init`, `plan`, `apply`, `show`, `policy_check`, `import`, `state_rm`,
    /// `run`, `env` or `multienv`.
    pub kind: String,
    /// The shell command of a `run`/`multienv` step, or of an `env` step's `command`.
    pub command: Option<String>,
    /// `extra_args` of a built-in step.
    pub extra_args: Vec<String>,
    /// The variable an `env` step sets, and the value it sets it to (`value:`).
    pub env_name: Option<String>,
    pub env_value: Option<String>,
    pub position: Position,
}

/// A validated server-side `repos.yaml` (light: what plangate's examples and checks need).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReposConfig {
    pub path: PathBuf,
    pub repos: Vec<ServerRepo>,
    /// Names of the workflows the file defines (in file order).
    pub workflows: Vec<String>,
    pub workflow_definitions: Vec<Workflow>,
    /// Whether the file has a `policies:` section.
    pub has_policies: bool,
    /// Names of the policy sets under `policies.policy_sets`.
    pub policy_sets: Vec<String>,
}

impl ReposConfig {
    pub fn workflow(&self, name: &str) -> Option<&Workflow> {
        self.workflow_definitions.iter().find(|w| w.name == name)
    }
}

/// One entry of `repos:` in a server-side `repos.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRepo {
    /// An exact repo id (`github.com/org/repo`) or a `/regex/`.
    pub id: String,
    pub position: Position,
    pub branch: Option<String>,
    pub repo_config_file: Option<String>,
    pub workflow: Option<String>,
    pub allowed_overrides: Vec<String>,
    pub allowed_workflows: Vec<String>,
    pub allow_custom_workflows: Option<bool>,
    pub plan_requirements: Vec<String>,
    pub apply_requirements: Vec<String>,
    pub import_requirements: Vec<String>,
    pub policy_check: Option<bool>,
    pub custom_policy_check: Option<bool>,
    pub pre_workflow_hooks: Vec<WorkflowHook>,
    pub post_workflow_hooks: Vec<WorkflowHook>,
}

/// A `pre_workflow_hooks`/`post_workflow_hooks` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowHook {
    pub run: Option<String>,
    pub description: Option<String>,
    pub shell: Option<String>,
    pub position: Position,
}

/// `filepath.Clean("./" + dir)` as Atlantis applies it to project dirs: no `./` prefix, no
/// trailing or doubled slashes, `.` for the repository root.
pub fn normalize_dir(dir: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(parts.last(), Some(last) if *last != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Whether a project dir (or name) holds glob characters.
pub fn contains_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Whether `dir` is one of the directories a glob project dir expands to (`*` stays within
/// one path segment, `**` crosses them, as in the doublestar patterns Atlantis uses).
pub fn glob_matches(pattern: &str, dir: &str) -> bool {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .is_ok_and(|glob| glob.compile_matcher().is_match(dir))
}
