//! The server-side repos.yaml: `repos:` entries, hooks, metrics and external stores.

use super::*;
use crate::input::yaml::{join, quote, Kind, Node, Scope, Table};
use crate::model::atlantis::*;

impl Checker<'_> {
    pub(super) fn global_config(&mut self, root: &Node) -> ReposConfig {
        let mut config = ReposConfig {
            path: self.yaml.path.to_path_buf(),
            repos: Vec::new(),
            workflows: Vec::new(),
            workflow_definitions: Vec::new(),
            has_policies: false,
            policy_sets: Vec::new(),
        };
        let Some(fields) = self.global_root(root) else {
            return config;
        };
        if let Some(node) = fields.get("workflows") {
            config.workflow_definitions = self.workflows(node);
            config.workflows = config
                .workflow_definitions
                .iter()
                .map(|w| w.name.clone())
                .collect();
        }
        if let Some(node) = fields.get("policies") {
            config.has_policies = true;
            config.policy_sets = self.policies(node, "policies");
        }
        if let Some(node) = fields.get("metrics") {
            self.metrics(node);
        }
        if let Some(node) = fields.get("team_authz") {
            if let Some(authz) = self.yaml.table(node, "team_authz", &["command", "args"]) {
                self.yaml.string(authz.get("command"), "team_authz.command");
                self.yaml.string_list(authz.get("args"), "team_authz.args");
            }
        }
        if let Some(node) = fields.get("external_stores") {
            self.external_stores(node);
        }
        if let Some(node) = fields.get("repos") {
            config.repos = self.server_repos(node, &config.workflows);
        }
        config
    }

    /// The top-level mapping; `None` when the document is something else (reported), such
    /// as a repo-level atlantis.yaml.
    fn global_root<'n>(&mut self, root: &'n Node) -> Option<Table<'n>> {
        if let Kind::Map(entries) = &root.kind {
            let repo_level = entries.iter().find(
                |(k, _)| matches!(&k.kind, Kind::Str(s) if s == "version" || s == "projects"),
            );
            let has_repos = entries
                .iter()
                .any(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == "repos"));
            if let (Some((key, _)), false) = (repo_level, has_repos) {
                self.yaml.error(
                    key.position,
                    "this is a repo-level atlantis.yaml (top-level `version`/`projects`), not a \
                     server-side repos.yaml",
                );
                return None;
            }
        }
        match &root.kind {
            Kind::Null => Some(Table::empty()),
            Kind::Map(_) => Some(
                self.yaml
                    .table(root, "", GLOBAL_CFG_KEYS)
                    .unwrap_or_else(Table::empty),
            ),
            _ => {
                self.yaml.error(
                    root.position,
                    format!(
                        "a repos.yaml must be a mapping with `repos`, found {}",
                        root.describe()
                    ),
                );
                None
            }
        }
    }

    fn server_repos(&mut self, node: &Node, workflows: &[String]) -> Vec<ServerRepo> {
        let Kind::Seq(items) = &node.kind else {
            self.yaml.error(
                node.position,
                format!("repos: must be a list, found {}", node.describe()),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| {
                self.server_repo(item, &format!("repos[{index}]"), workflows)
            })
            .collect()
    }

    pub(super) fn server_repo(
        &mut self,
        node: &Node,
        label: &str,
        workflows: &[String],
    ) -> Option<ServerRepo> {
        let Some(s) = self.yaml.scope(node, label, SERVER_REPO_KEYS) else {
            if node.is_null() {
                self.yaml.error(
                    node.position,
                    format!("{label}: empty repo entry; `id` is required"),
                );
            }
            return None;
        };
        let id = self.server_repo_id(&s, node);
        let branch = self.yaml.string_at(&s, "branch");
        if let (Some(branch), Some(branch_node)) = (&branch, s.get("branch")) {
            if !branch.is_empty() {
                self.slash_regex(branch, branch_node.position, &s.label("branch"));
            }
        }
        let repo_config_file = self.repo_config_file(&s);
        let requirements = |checker: &mut Self, key: &str| {
            checker.requirements(s.get(key), &s.label(key), key.trim_end_matches('s'))
        };
        let plan_requirements = requirements(self, "plan_requirements");
        let apply_requirements = requirements(self, "apply_requirements");
        let import_requirements = requirements(self, "import_requirements");
        let pre_workflow_hooks =
            self.hooks(s.get("pre_workflow_hooks"), &s.label("pre_workflow_hooks"));
        let post_workflow_hooks = self.hooks(
            s.get("post_workflow_hooks"),
            &s.label("post_workflow_hooks"),
        );
        let (workflow, allowed_workflows, allowed_overrides) =
            self.server_repo_workflows(&s, workflows);
        for key in ["delete_source_branch_on_merge", "repo_locking"] {
            self.yaml.bool_at(&s, key);
        }
        if let Some(locks) = s.get("repo_locks") {
            self.repo_locks(locks, &s.label("repo_locks"), true);
        }
        if let Some(autodiscover) = s.get("autodiscover") {
            self.autodiscover(autodiscover, &s.label("autodiscover"), true);
        }
        self.silence_pr_comments(
            s.get("silence_pr_comments"),
            &s.label("silence_pr_comments"),
        );
        Some(ServerRepo {
            id,
            position: node.position,
            branch,
            repo_config_file,
            workflow,
            allowed_overrides,
            allowed_workflows,
            allow_custom_workflows: self.yaml.bool_at(&s, "allow_custom_workflows"),
            plan_requirements,
            apply_requirements,
            import_requirements,
            policy_check: self.yaml.bool_at(&s, "policy_check"),
            custom_policy_check: self.yaml.bool_at(&s, "custom_policy_check"),
            pre_workflow_hooks,
            post_workflow_hooks,
        })
    }

    /// A repo entry's `id`: required; an exact repo or a `/regex/`.
    fn server_repo_id(&mut self, s: &Scope<'_>, node: &Node) -> String {
        let id_node = s.get("id");
        let id = self.yaml.string_at(s, "id").unwrap_or_default();
        let wrong_type = id_node.is_some_and(|n| n.scalar_text().is_none());
        if id.is_empty() {
            if !wrong_type {
                self.yaml
                    .error(node.position, format!("{}: `id` is required", s.label));
            }
        } else if id.starts_with('/') && id.ends_with('/') {
            let at_id = id_node.map_or(node.position, |n| n.position);
            self.slash_regex(&id, at_id, &s.label("id"));
        }
        id
    }

    /// `repo_config_file`: a path inside the repository.
    fn repo_config_file(&mut self, s: &Scope<'_>) -> Option<String> {
        let file = self.yaml.string_at(s, "repo_config_file")?;
        let at = s.get("repo_config_file").map(|n| n.position)?;
        let label = s.label("repo_config_file");
        if file.starts_with('/') {
            self.yaml
                .error(at, format!("{label}: must not start with a slash '/'"));
        } else if file.contains("../") || file.contains("..\\") {
            self.yaml.error(
                at,
                format!("{label}: must not contain parent directory path like '../'"),
            );
        }
        Some(file)
    }

    /// `workflow`, `allowed_workflows` (both must name defined workflows) and
    /// `allowed_overrides` (known keys only).
    fn server_repo_workflows(
        &mut self,
        s: &Scope<'_>,
        workflows: &[String],
    ) -> (Option<String>, Vec<String>, Vec<String>) {
        let defined = |name: &str| name == "default" || workflows.iter().any(|w| w == name);
        let workflow = self.yaml.string_at(s, "workflow");
        if let (Some(name), Some(workflow_node)) = (&workflow, s.get("workflow")) {
            if !defined(name) {
                self.yaml.error(
                    workflow_node.position,
                    format!(
                        "{}: workflow {} is not defined",
                        s.label("workflow"),
                        quote(name)
                    ),
                );
            }
        }
        let allowed_workflows = self.yaml.positioned_list_at(s, "allowed_workflows");
        for (name, position) in &allowed_workflows {
            if !defined(name) {
                self.yaml.error(
                    *position,
                    format!(
                        "{}: workflow {} is not defined",
                        s.label("allowed_workflows"),
                        quote(name)
                    ),
                );
            }
        }
        let allowed_overrides = self.yaml.positioned_list_at(s, "allowed_overrides");
        for (name, position) in &allowed_overrides {
            if !OVERRIDES.contains(&name.as_str()) {
                self.yaml.error(
                    *position,
                    format!(
                        "{}: {} is not a valid override, only {} are supported",
                        s.label("allowed_overrides"),
                        quote(name),
                        OVERRIDES.join(", ")
                    ),
                );
            }
        }
        let names = |list: Vec<(String, crate::error::Position)>| {
            list.into_iter().map(|(s, _)| s).collect()
        };
        (workflow, names(allowed_workflows), names(allowed_overrides))
    }

    /// Workflow hooks decode as string-to-string mappings (`run`, `description`, `shell`,
    /// `shellArgs`, `commands`); Atlantis does not restrict their keys.
    pub(super) fn hooks(&mut self, node: Option<&Node>, label: &str) -> Vec<WorkflowHook> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Kind::Seq(items) = &node.kind else {
            self.yaml.error(
                node.position,
                format!(
                    "{label}: must be a list of hooks, found {}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        let mut hooks = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let item_label = format!("{label}[{index}]");
            let Kind::Map(entries) = &item.kind else {
                self.yaml.error(
                    item.position,
                    format!(
                        "{item_label}: a hook must be a mapping like `run: command`, found {}",
                        item.describe()
                    ),
                );
                continue;
            };
            let mut hook = WorkflowHook {
                run: None,
                description: None,
                shell: None,
                position: item.position,
            };
            for (key, value) in entries {
                let name = key.scalar_text().unwrap_or_default();
                let text = match &value.kind {
                    Kind::Null => Some(String::new()),
                    _ => value.scalar_text(),
                };
                let Some(text) = text else {
                    self.yaml.error(
                        value.position,
                        format!(
                            "{}: must be a string, found {}",
                            join(&item_label, &name),
                            value.describe()
                        ),
                    );
                    continue;
                };
                match name.as_str() {
                    "run" => hook.run = Some(text),
                    "description" => hook.description = Some(text),
                    "shell" => hook.shell = Some(text),
                    _ => {}
                }
            }
            hooks.push(hook);
        }
        hooks
    }

    pub(super) fn metrics(&mut self, node: &Node) {
        let Some(fields) = self.yaml.table(node, "metrics", &["statsd", "prometheus"]) else {
            return;
        };
        if let Some(statsd) = fields.get("statsd") {
            if let Some(statsd_fields) =
                self.yaml.table(statsd, "metrics.statsd", &["host", "port"])
            {
                let host = self
                    .yaml
                    .string(statsd_fields.get("host"), "metrics.statsd.host");
                let port = self
                    .yaml
                    .string(statsd_fields.get("port"), "metrics.statsd.port");
                if host.as_deref().unwrap_or("").is_empty() {
                    self.yaml
                        .error(statsd.position, "metrics.statsd.host: cannot be blank");
                }
                match port.as_deref() {
                    None | Some("") => self
                        .yaml
                        .error(statsd.position, "metrics.statsd.port: cannot be blank"),
                    Some(p) if p.parse::<i64>().is_err() => self.yaml.error(
                        statsd_fields
                            .get("port")
                            .map_or(statsd.position, |n| n.position),
                        format!(
                            "metrics.statsd.port: must be an integer, found {}",
                            quote(p)
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        if let Some(prometheus) = fields.get("prometheus") {
            if let Some(prom) = self
                .yaml
                .table(prometheus, "metrics.prometheus", &["endpoint"])
            {
                let endpoint = self
                    .yaml
                    .string(prom.get("endpoint"), "metrics.prometheus.endpoint");
                if endpoint.as_deref().unwrap_or("").is_empty() {
                    self.yaml.error(
                        prometheus.position,
                        "metrics.prometheus.endpoint: cannot be blank",
                    );
                }
            }
        }
    }

    pub(super) fn external_stores(&mut self, node: &Node) {
        let Some(fields) = self.yaml.table(node, "external_stores", &["plan_store"]) else {
            return;
        };
        let Some(store) = fields.get("plan_store") else {
            return;
        };
        let label = "external_stores.plan_store";
        let Some(store_fields) = self.yaml.table(store, label, &["type", "s3"]) else {
            return;
        };
        let kind = self
            .yaml
            .string(store_fields.get("type"), "external_stores.plan_store.type");
        let s3_keys = [
            "bucket",
            "region",
            "prefix",
            "endpoint",
            "force_path_style",
            "profile",
        ];
        let mut bucket = None;
        let mut region = None;
        if let Some(s3) = store_fields.get("s3") {
            if let Some(s3_fields) = self
                .yaml
                .table(s3, "external_stores.plan_store.s3", &s3_keys)
            {
                bucket = self.yaml.string(
                    s3_fields.get("bucket"),
                    "external_stores.plan_store.s3.bucket",
                );
                region = self.yaml.string(
                    s3_fields.get("region"),
                    "external_stores.plan_store.s3.region",
                );
                for key in ["prefix", "endpoint", "profile"] {
                    self.yaml.string(
                        s3_fields.get(key),
                        &format!("external_stores.plan_store.s3.{key}"),
                    );
                }
                self.yaml.bool(
                    s3_fields.get("force_path_style"),
                    "external_stores.plan_store.s3.force_path_style",
                );
            }
        }
        match kind.as_deref() {
            None | Some("") => {}
            Some("s3") => {
                if bucket.as_deref().unwrap_or("").is_empty() {
                    self.yaml.error(store.position, "external_stores.plan_store.s3.bucket is required when type is 's3'");
                }
                if region.as_deref().unwrap_or("").is_empty() {
                    self.yaml.error(store.position, "external_stores.plan_store.s3.region is required when type is 's3'");
                }
            }
            Some(other) => self.yaml.error(
                store_fields.get("type").map_or(store.position, |n| n.position),
                format!(
                    "external_stores.plan_store.type: unsupported plan store type {}: only 's3' is supported",
                    quote(other)
                ),
            ),
        }
    }
}
