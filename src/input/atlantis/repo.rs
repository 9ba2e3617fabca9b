//! The repo-level atlantis.yaml: top-level keys, projects, and Atlantis's checks across projects.

use std::collections::HashMap;

use super::names::*;
use super::*;
use crate::input::yaml::{join, quote, Kind, Node, Table};
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
                return config;
            }
        }
        let fields = match &root.kind {
            Kind::Map(_) => self
                .yaml
                .table(root, "", REPO_CFG_KEYS)
                .unwrap_or_else(Table::empty),
            Kind::Null => Table::empty(),
            _ => {
                self.yaml.error(
                    root.position,
                    format!(
                        "an atlantis.yaml must be a mapping with `version` and `projects`, found {}",
                        root.describe()
                    ),
                );
                return config;
            }
        };

        match fields.get("version") {
            None => self.yaml.error(
                root.position,
                "version: is required (2 or 3; plangate and current Atlantis expect 3)",
            ),
            Some(node) => {
                if let Some(version) = self.yaml.int(Some(node), "version") {
                    if version == 2 || version == 3 {
                        config.version = version as u32;
                    } else {
                        self.yaml.error(
                            node.position,
                            format!(
                                "version: only versions 2 and 3 are supported, found {version}"
                            ),
                        );
                    }
                }
            }
        }
        config.automerge = self.yaml.bool(fields.get("automerge"), "automerge");
        config.parallel_plan = self.yaml.bool(fields.get("parallel_plan"), "parallel_plan");
        config.parallel_apply = self
            .yaml
            .bool(fields.get("parallel_apply"), "parallel_apply");
        for key in [
            "delete_source_branch_on_merge",
            "abort_on_execution_order_fail",
        ] {
            self.yaml.bool(fields.get(key), key);
        }
        self.yaml
            .string(fields.get("emoji_reaction"), "emoji_reaction");
        self.yaml.string_list(
            fields.get("allowed_regexp_prefixes"),
            "allowed_regexp_prefixes",
        );
        self.yaml
            .string_list(fields.get("silence_pr_comments"), "silence_pr_comments");
        if let Some(node) = fields.get("repo_locks") {
            self.repo_locks(node, "repo_locks", false);
        }
        if let Some(node) = fields.get("autodiscover") {
            self.autodiscover(node, "autodiscover", false);
        }
        if let Some(node) = fields.get("policies") {
            self.policies(node, "policies");
        }
        if let Some(node) = fields.get("workflows") {
            config.workflow_definitions = self.workflows(node);
            config.workflows = config
                .workflow_definitions
                .iter()
                .map(|w| w.name.clone())
                .collect();
        }
        if let Some(node) = fields.get("projects") {
            match &node.kind {
                Kind::Seq(items) => {
                    for (index, item) in items.iter().enumerate() {
                        if let Some(project) = self.project(item, &format!("projects[{index}]")) {
                            config.projects.push(project);
                        }
                    }
                }
                _ => self.yaml.error(
                    node.position,
                    format!(
                        "projects: must be a list of projects, found {}",
                        node.describe()
                    ),
                ),
            }
        }
        self.check_project_names(&config.projects);
        config
    }

    pub(super) fn project(&mut self, node: &Node, label: &str) -> Option<AtlantisProject> {
        if node.is_null() {
            self.yaml.error(
                node.position,
                format!("{label}: empty project; `dir` is required"),
            );
            return None;
        }
        let fields = self.yaml.table(node, label, PROJECT_KEYS)?;
        let at = |key: &str| join(label, key);

        let name_node = fields.get("name");
        let name = self.yaml.string(name_node, &at("name"));
        let name_position = name_node.map(|n| n.position);
        if let (Some(name), Some(name_node)) = (&name, name_node) {
            if name.is_empty() {
                self.yaml.error(
                    name_node.position,
                    format!("{}: if set cannot be empty", at("name")),
                );
            } else if contains_glob(name) {
                self.yaml.error(
                    name_node.position,
                    format!(
                        "{}: cannot contain glob pattern characters ('*', '?', '['); glob \
                         expansion is only supported in the 'dir' field",
                        at("name")
                    ),
                );
            } else if !valid_project_name(name) {
                self.yaml.error(
                    name_node.position,
                    format!(
                        "{}: {} is not allowed: must contain only URL safe characters \
                         (letters, digits, '-', '_', '.', '~' and '/')",
                        at("name"),
                        quote(name)
                    ),
                );
            }
        }

        let dir_node = fields.get("dir");
        let raw_dir = self.yaml.string(dir_node, &at("dir"));
        let mut dir = String::new();
        match (&raw_dir, dir_node) {
            (Some(raw), Some(dir_node)) if !raw.is_empty() => {
                if raw.contains("..") {
                    self.yaml.error(
                        dir_node.position,
                        format!("{}: cannot contain '..'", at("dir")),
                    );
                } else if contains_glob(raw) {
                    if globset::GlobBuilder::new(raw)
                        .literal_separator(true)
                        .build()
                        .is_err()
                    {
                        self.yaml.error(
                            dir_node.position,
                            format!("{}: invalid glob pattern {}", at("dir"), quote(raw)),
                        );
                    }
                    if name.is_some() {
                        self.yaml.error(
                            name_position.unwrap_or(node.position),
                            format!(
                                "{}: cannot be used with glob patterns in 'dir'; glob patterns \
                                 expand to multiple projects which cannot share the same name",
                                at("name")
                            ),
                        );
                    }
                }
                dir = normalize_dir(raw);
            }
            (None, Some(_)) => {} // wrong type, already reported
            _ => self.yaml.error(
                node.position,
                format!("{label}: `dir` is required (use '.' for the repository root)"),
            ),
        }

        let mut workspace = DEFAULT_WORKSPACE.to_string();
        if let Some(ws_node) = fields.get("workspace") {
            if let Some(ws) = self.yaml.string(Some(ws_node), &at("workspace")) {
                if let Err(reason) = validate_workspace(&ws) {
                    self.yaml
                        .error(ws_node.position, format!("{}: {reason}", at("workspace")));
                }
                if !ws.is_empty() {
                    workspace = ws;
                }
            }
        }

        let branch = self.yaml.string(fields.get("branch"), &at("branch"));
        if let (Some(branch), Some(branch_node)) = (&branch, fields.get("branch")) {
            self.slash_regex(branch, branch_node.position, &at("branch"));
        }

        let terraform_distribution = self.yaml.string(
            fields.get("terraform_distribution"),
            &at("terraform_distribution"),
        );
        if let (Some(dist), Some(dist_node)) = (
            &terraform_distribution,
            fields.get("terraform_distribution"),
        ) {
            if dist != "terraform" && dist != "opentofu" {
                self.yaml.error(
                    dist_node.position,
                    format!(
                        "{}: {} is not a valid terraform_distribution, only 'terraform' and \
                         'opentofu' are supported",
                        at("terraform_distribution"),
                        quote(dist)
                    ),
                );
            }
        }

        let terraform_version = self
            .yaml
            .string(fields.get("terraform_version"), &at("terraform_version"));
        if let (Some(version), Some(version_node)) =
            (&terraform_version, fields.get("terraform_version"))
        {
            if !valid_version(version) {
                self.yaml.error(
                    version_node.position,
                    format!(
                        "{}: version {} could not be parsed (expected a version like 1.9.5 or \
                         v1.9.5)",
                        at("terraform_version"),
                        quote(version)
                    ),
                );
            }
        }

        let mut autoplan_enabled = None;
        let mut when_modified = Vec::new();
        if let Some(autoplan) = fields.get("autoplan") {
            let autoplan_label = at("autoplan");
            if let Some(autoplan_fields) =
                self.yaml
                    .table(autoplan, &autoplan_label, &["when_modified", "enabled"])
            {
                autoplan_enabled = self.yaml.bool(
                    autoplan_fields.get("enabled"),
                    &join(&autoplan_label, "enabled"),
                );
                when_modified = self.yaml.plain_list(
                    autoplan_fields.get("when_modified"),
                    &join(&autoplan_label, "when_modified"),
                );
            }
        }

        let plan_requirements = self.requirements(
            fields.get("plan_requirements"),
            &at("plan_requirements"),
            "plan_requirement",
        );
        let apply_requirements = self.requirements(
            fields.get("apply_requirements"),
            &at("apply_requirements"),
            "apply_requirement",
        );
        let import_requirements = self.requirements(
            fields.get("import_requirements"),
            &at("import_requirements"),
            "import_requirement",
        );
        let depends_on = self
            .yaml
            .plain_list(fields.get("depends_on"), &at("depends_on"));
        self.yaml.bool(
            fields.get("delete_source_branch_on_merge"),
            &at("delete_source_branch_on_merge"),
        );
        let repo_locking = self
            .yaml
            .bool(fields.get("repo_locking"), &at("repo_locking"));
        if let Some(locks) = fields.get("repo_locks") {
            self.repo_locks(locks, &at("repo_locks"), false);
        }
        let execution_order_group = self.yaml.int(
            fields.get("execution_order_group"),
            &at("execution_order_group"),
        );
        let policy_check = self
            .yaml
            .bool(fields.get("policy_check"), &at("policy_check"));
        let custom_policy_check = self.yaml.bool(
            fields.get("custom_policy_check"),
            &at("custom_policy_check"),
        );
        self.silence_pr_comments(
            fields.get("silence_pr_comments"),
            &at("silence_pr_comments"),
        );
        self.glob_file_match(&fields, label);
        let workflow = self.yaml.string(fields.get("workflow"), &at("workflow"));

        Some(AtlantisProject {
            name,
            dir,
            workspace,
            workflow,
            branch,
            terraform_version,
            terraform_distribution,
            execution_order_group,
            depends_on,
            autoplan_enabled,
            when_modified,
            apply_requirements,
            plan_requirements,
            import_requirements,
            custom_policy_check,
            policy_check,
            repo_locking,
            position: node.position,
            name_position,
        })
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
