//! The repo-level atlantis.yaml: top-level keys, projects, and Atlantis's checks across projects.

use std::collections::HashMap;

use super::names::*;
use super::*;
use crate::error::Position;
use crate::input::yaml::{join, quote, Kind, Node, Scope, Table};
use crate::model::atlantis::*;

impl Checker<'_> {
    pub(super) fn repo_config(&mut self, root: &Node) -> AtlantisConfig {
        let mut config = AtlantisConfig {
            path: self.yaml.path.to_path_buf(),
            version: 0,
            projects: Vec::new(),
            workflows: Vec::new(),
            parallel_plan: None,
            automerge: None,
            parallel_apply: None,
            workflow_definitions: Vec::new(),
        };
        let Some(fields) = self.repo_root(root) else {
            return config;
        };
        config.version = self.repo_version(&fields, root);
        config.automerge = self.yaml.bool(fields.get("automerge"), "automerge");
        config.parallel_plan = self.yaml.bool(fields.get("parallel_plan"), "parallel_plan");
        config.parallel_apply = self
            .yaml
            .bool(fields.get("parallel_apply"), "parallel_apply");
        self.repo_settings(&fields);
        if let Some(node) = fields.get("workflows") {
            config.workflow_definitions = self.workflows(node);
            config.workflows = config
                .workflow_definitions
                .iter()
                .map(|w| w.name.clone())
                .collect();
        }
        if let Some(node) = fields.get("projects") {
            config.projects = self.projects(node);
        }
        self.check_project_names(&config.projects);
        if config.version == 2 {
            self.legacy_run_commands(&config.workflow_definitions);
        }
        config
    }

    /// Version 2 files have their plan and apply `run` commands split like a shell
    /// (`applyLegacyShellParsing`): a command shlex cannot split makes Atlantis refuse the file.
    fn legacy_run_commands(&mut self, workflows: &[Workflow]) {
        for workflow in workflows {
            for stage in workflow
                .stages
                .iter()
                .filter(|s| s.name == "plan" || s.name == "apply")
            {
                for (i, step) in stage.steps.iter().enumerate() {
                    let Some(command) = step.command.as_deref().filter(|_| step.kind == "run")
                    else {
                        continue;
                    };
                    if let Some(problem) = shlex_problem(command) {
                        self.yaml.error(
                            step.position,
                            format!(
                                "workflows.{}.{}.steps[{i}].run: unable to parse {}: {problem} (a version 2 file splits run commands like a shell: balance the quotes, or use version: 3)",
                                workflow.name,
                                stage.name,
                                quote(command)
                            ),
                        );
                    }
                }
            }
        }
    }

    /// The top-level mapping; `None` when the document is something else (reported), such
    /// as a server-side repos.yaml.
    fn repo_root<'n>(&mut self, root: &'n Node) -> Option<Table<'n>> {
        if let Kind::Map(entries) = &root.kind {
            let repos_key = entries
                .iter()
                .find(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == "repos"));
            if let Some((key, _)) = repos_key {
                self.yaml.error(
                    key.position,
                    "this is a server-side repos.yaml (top-level `repos:`), not a repo-level \
                     atlantis.yaml; give the atlantis.yaml at the root of the Terraform repository",
                );
                return None;
            }
        }
        match &root.kind {
            Kind::Map(_) => Some(
                self.yaml
                    .table(root, "", REPO_CFG_KEYS)
                    .unwrap_or_else(Table::empty),
            ),
            Kind::Null => Some(Table::empty()),
            _ => {
                self.yaml.error(
                    root.position,
                    format!(
                        "an atlantis.yaml must be a mapping with `version` and `projects`, found {}",
                        root.describe()
                    ),
                );
                None
            }
        }
    }

    /// `version`: required, 2 or 3 (0 when it is not).
    fn repo_version(&mut self, fields: &Table<'_>, root: &Node) -> u32 {
        let Some(node) = fields.get("version") else {
            self.yaml.error(
                root.position,
                "version: is required (2 or 3; plangate and current Atlantis expect 3)",
            );
            return 0;
        };
        match self.yaml.int(Some(node), "version") {
            Some(version @ (2 | 3)) => version as u32,
            Some(version) => {
                self.yaml.error(
                    node.position,
                    format!("version: only versions 2 and 3 are supported, found {version}"),
                );
                0
            }
            None => 0,
        }
    }

    /// Top-level keys plangate only validates.
    fn repo_settings(&mut self, fields: &Table<'_>) {
        for key in [
            "delete_source_branch_on_merge",
            "abort_on_execution_order_fail",
        ] {
            self.yaml.bool(fields.get(key), key);
        }
        self.yaml
            .string(fields.get("emoji_reaction"), "emoji_reaction");
        for key in ["allowed_regexp_prefixes", "silence_pr_comments"] {
            self.yaml.string_list(fields.get(key), key);
        }
        if let Some(node) = fields.get("repo_locks") {
            self.repo_locks(node, "repo_locks", false);
        }
        if let Some(node) = fields.get("autodiscover") {
            self.autodiscover(node, "autodiscover", false);
        }
        if let Some(node) = fields.get("policies") {
            self.policies(node, "policies");
        }
    }

    fn projects(&mut self, node: &Node) -> Vec<AtlantisProject> {
        let Kind::Seq(items) = &node.kind else {
            self.yaml.error(
                node.position,
                format!(
                    "projects: must be a list of projects, found {}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.project(item, &format!("projects[{index}]")))
            .collect()
    }

    pub(super) fn project(&mut self, node: &Node, label: &str) -> Option<AtlantisProject> {
        if node.is_null() {
            self.yaml.error(
                node.position,
                format!("{label}: empty project; `dir` is required"),
            );
            return None;
        }
        let s = self.yaml.scope(node, label, PROJECT_KEYS)?;
        let (name, name_position) = self.project_name(&s);
        let dir = self.project_dir(&s, node, name_position.filter(|_| name.is_some()));
        let workspace = self.project_workspace(&s);
        let branch = self.yaml.string_at(&s, "branch");
        if let (Some(branch), Some(branch_node)) = (&branch, s.get("branch")) {
            self.slash_regex(branch, branch_node.position, &s.label("branch"));
        }
        let terraform_distribution = self.terraform_distribution(&s);
        let terraform_version = self.terraform_version(&s);
        let (autoplan_enabled, when_modified) = self.autoplan(&s);
        let requirements = |checker: &mut Self, key: &str| {
            checker.requirements(s.get(key), &s.label(key), key.trim_end_matches('s'))
        };
        let plan_requirements = requirements(self, "plan_requirements");
        let apply_requirements = requirements(self, "apply_requirements");
        let import_requirements = requirements(self, "import_requirements");
        self.yaml.bool_at(&s, "delete_source_branch_on_merge");
        if let Some(locks) = s.get("repo_locks") {
            self.repo_locks(locks, &s.label("repo_locks"), false);
        }
        self.silence_pr_comments(
            s.get("silence_pr_comments"),
            &s.label("silence_pr_comments"),
        );
        self.glob_file_match(&s.table, label);
        Some(AtlantisProject {
            name,
            dir,
            workspace,
            workflow: self.yaml.string_at(&s, "workflow"),
            branch,
            terraform_version,
            terraform_distribution,
            execution_order_group: self.yaml.int_at(&s, "execution_order_group"),
            depends_on: self.yaml.list_at(&s, "depends_on"),
            autoplan_enabled,
            when_modified,
            apply_requirements,
            plan_requirements,
            import_requirements,
            custom_policy_check: self.yaml.bool_at(&s, "custom_policy_check"),
            policy_check: self.yaml.bool_at(&s, "policy_check"),
            repo_locking: self.yaml.bool_at(&s, "repo_locking"),
            position: node.position,
            name_position,
        })
    }

    /// A project's `name`, checked as Atlantis checks it, and where it is written.
    fn project_name(&mut self, s: &Scope<'_>) -> (Option<String>, Option<Position>) {
        let name_node = s.get("name");
        let name = self.yaml.string_at(s, "name");
        let (Some(text), Some(at)) = (&name, name_node.map(|n| n.position)) else {
            return (name, name_node.map(|n| n.position));
        };
        let label = s.label("name");
        if text.is_empty() {
            self.yaml
                .error(at, format!("{label}: if set cannot be empty"));
        } else if contains_glob(text) {
            self.yaml.error(
                at,
                format!(
                    "{label}: cannot contain glob pattern characters ('*', '?', '['); glob \
                     expansion is only supported in the 'dir' field"
                ),
            );
        } else if !valid_project_name(text) {
            self.yaml.error(
                at,
                format!(
                    "{label}: {} is not allowed: must contain only URL safe characters \
                     (letters, digits, '-', '_', '.', '~' and '/')",
                    quote(text)
                ),
            );
        }
        (name, Some(at))
    }

    /// A project's `dir`, normalised as Atlantis does; `named` is where the project's name
    /// is written, when it has one (a glob `dir` cannot have a name).
    fn project_dir(&mut self, s: &Scope<'_>, node: &Node, named: Option<Position>) -> String {
        let dir_node = s.get("dir");
        let label = s.label("dir");
        match (self.yaml.string_at(s, "dir"), dir_node) {
            (Some(raw), Some(dir_node)) if !raw.is_empty() => {
                if raw.contains("..") {
                    self.yaml
                        .error(dir_node.position, format!("{label}: cannot contain '..'"));
                } else if contains_glob(&raw) {
                    if globset::GlobBuilder::new(&raw)
                        .literal_separator(true)
                        .build()
                        .is_err()
                    {
                        self.yaml.error(
                            dir_node.position,
                            format!("{label}: invalid glob pattern {}", quote(&raw)),
                        );
                    }
                    if let Some(at) = named {
                        self.yaml.error(
                            at,
                            format!(
                                "{}: cannot be used with glob patterns in 'dir'; glob patterns \
                                 expand to multiple projects which cannot share the same name",
                                s.label("name")
                            ),
                        );
                    }
                }
                normalize_dir(&raw)
            }
            (None, Some(_)) => String::new(), // wrong type, already reported
            _ => {
                self.yaml.error(
                    node.position,
                    format!(
                        "{}: `dir` is required (use '.' for the repository root)",
                        s.label
                    ),
                );
                String::new()
            }
        }
    }

    fn project_workspace(&mut self, s: &Scope<'_>) -> String {
        let (Some(ws_node), Some(ws)) = (s.get("workspace"), self.yaml.string_at(s, "workspace"))
        else {
            return DEFAULT_WORKSPACE.to_string();
        };
        if let Err(reason) = validate_workspace(&ws) {
            self.yaml.error(
                ws_node.position,
                format!("{}: {reason}", s.label("workspace")),
            );
        }
        if ws.is_empty() {
            DEFAULT_WORKSPACE.to_string()
        } else {
            ws
        }
    }

    fn terraform_distribution(&mut self, s: &Scope<'_>) -> Option<String> {
        let dist = self.yaml.string_at(s, "terraform_distribution")?;
        if dist != "terraform" && dist != "opentofu" {
            let at = s
                .get("terraform_distribution")
                .map_or(Position { line: 0, column: 0 }, |n| n.position);
            self.yaml.error(
                at,
                format!(
                    "{}: {} is not a valid terraform_distribution, only 'terraform' and \
                     'opentofu' are supported",
                    s.label("terraform_distribution"),
                    quote(&dist)
                ),
            );
        }
        Some(dist)
    }

    fn terraform_version(&mut self, s: &Scope<'_>) -> Option<String> {
        let version = self.yaml.string_at(s, "terraform_version")?;
        if !valid_version(&version) {
            let at = s
                .get("terraform_version")
                .map_or(Position { line: 0, column: 0 }, |n| n.position);
            self.yaml.error(
                at,
                format!(
                    "{}: version {} could not be parsed (expected a version like 1.9.5 or \
                     v1.9.5)",
                    s.label("terraform_version"),
                    quote(&version)
                ),
            );
        }
        Some(version)
    }

    /// `autoplan: {enabled, when_modified}`.
    fn autoplan(&mut self, s: &Scope<'_>) -> (Option<bool>, Vec<String>) {
        let Some(autoplan) = s.get("autoplan") else {
            return (None, Vec::new());
        };
        let Some(a) = self.yaml.scope(
            autoplan,
            &s.label("autoplan"),
            &["when_modified", "enabled"],
        ) else {
            return (None, Vec::new());
        };
        (
            self.yaml.bool_at(&a, "enabled"),
            self.yaml.list_at(&a, "when_modified"),
        )
    }

    /// `glob_file_match` (newer Atlantis): basename patterns used when `dir` is a glob.
    pub(super) fn glob_file_match(&mut self, fields: &Table, label: &str) {
        let key = join(label, "glob_file_match");
        for (pattern, at) in self.yaml.string_list(fields.get("glob_file_match"), &key) {
            if pattern.is_empty() || pattern.contains('/') {
                self.yaml.error(
                    at,
                    format!(
                        "{key}: {} must be a non-empty file name pattern without '/'",
                        quote(&pattern)
                    ),
                );
            }
        }
    }

    /// Atlantis's `validateProjectNames`, except that projects pinned to different `branch`
    /// regexes are not compared (Atlantis drops non-matching ones before this check).
    pub(super) fn check_project_names(&mut self, projects: &[AtlantisProject]) {
        let mut by_name: HashMap<&str, Vec<&AtlantisProject>> = HashMap::new();
        for project in projects {
            let Some(name) = &project.name else {
                continue;
            };
            let earlier = by_name.entry(name.as_str()).or_default();
            if let Some(first) = earlier.iter().find(|p| p.may_meet(project)) {
                self.yaml.error(
                    project.name_position.unwrap_or(project.position),
                    format!(
                        "found two or more projects with name {}; project names must be unique \
                         (first at line {})",
                        quote(name),
                        first.name_position.unwrap_or(first.position).line
                    ),
                );
                self.yaml.tag_last("duplicate-project-name");
            }
            earlier.push(project);
        }
        let mut by_state: HashMap<(&str, &str), Vec<&AtlantisProject>> = HashMap::new();
        for project in projects {
            if project.dir.is_empty() || contains_glob(&project.dir) {
                continue;
            }
            let key = (project.dir.as_str(), project.workspace.as_str());
            let earlier = by_state.entry(key).or_default();
            if project.name.is_none() {
                if let Some(first) = earlier.iter().find(|p| p.may_meet(project)) {
                    self.yaml.error(
                        project.position,
                        format!(
                            "there are two or more projects with dir: {} workspace: {} that are \
                             not all named; they must have a 'name' key so they can be targeted \
                             separately (other project at line {})",
                            quote(&project.dir),
                            quote(&project.workspace),
                            first.position.line
                        ),
                    );
                    self.yaml.tag_last("shared-state");
                }
            }
            earlier.push(project);
        }
    }
}
