//! The server-side repos.yaml: `repos:` entries, hooks, metrics and external stores.

use super::*;
use crate::input::yaml::{join, quote, Kind, Node, Table};
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
                return config;
            }
        }
        let fields = match &root.kind {
            Kind::Null => Table::empty(),
            Kind::Map(_) => self
                .yaml
                .table(root, "", GLOBAL_CFG_KEYS)
                .unwrap_or_else(Table::empty),
            _ => {
                self.yaml.error(
                    root.position,
                    format!(
                        "a repos.yaml must be a mapping with `repos`, found {}",
                        root.describe()
                    ),
                );
                return config;
            }
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
            match &node.kind {
                Kind::Seq(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let label = format!("repos[{index}]");
                        if let Some(repo) = self.server_repo(item, &label, &config.workflows) {
                            config.repos.push(repo);
                        }
                    }
                }
                _ => self.yaml.error(
                    node.position,
                    format!("repos: must be a list, found {}", node.describe()),
                ),
            }
        }
        config
    }

    pub(super) fn server_repo(
        &mut self,
        node: &Node,
        label: &str,
        workflows: &[String],
    ) -> Option<ServerRepo> {
        let fields = match self.yaml.table(node, label, SERVER_REPO_KEYS) {
            Some(fields) => fields,
            None => {
                if node.is_null() {
                    self.yaml.error(
                        node.position,
                        format!("{label}: empty repo entry; `id` is required"),
                    );
                }
                return None;
            }
        };
        let at = |key: &str| join(label, key);
        let id_node = fields.get("id");
        let id = self.yaml.string(id_node, &at("id")).unwrap_or_default();
        let wrong_type = id_node.is_some_and(|n| n.scalar_text().is_none());
        if id.is_empty() {
            if !wrong_type {
                self.yaml
                    .error(node.position, format!("{label}: `id` is required"));
            }
        } else if id.starts_with('/') && id.ends_with('/') {
            let at_id = fields.get("id").map_or(node.position, |n| n.position);
            self.slash_regex(&id, at_id, &at("id"));
        }
        let branch = self.yaml.string(fields.get("branch"), &at("branch"));
        if let (Some(branch), Some(branch_node)) = (&branch, fields.get("branch")) {
            if !branch.is_empty() {
                self.slash_regex(branch, branch_node.position, &at("branch"));
            }
        }
        let repo_config_file = self
            .yaml
            .string(fields.get("repo_config_file"), &at("repo_config_file"));
        if let (Some(file), Some(file_node)) = (&repo_config_file, fields.get("repo_config_file")) {
            if file.starts_with('/') {
                self.yaml.error(
                    file_node.position,
                    format!(
                        "{}: must not start with a slash '/'",
                        at("repo_config_file")
                    ),
                );
            } else if file.contains("../") || file.contains("..\\") {
                self.yaml.error(
                    file_node.position,
                    format!(
                        "{}: must not contain parent directory path like '../'",
                        at("repo_config_file")
                    ),
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
        let pre_workflow_hooks =
            self.hooks(fields.get("pre_workflow_hooks"), &at("pre_workflow_hooks"));
        let post_workflow_hooks = self.hooks(
            fields.get("post_workflow_hooks"),
            &at("post_workflow_hooks"),
        );

        let workflow = self.yaml.string(fields.get("workflow"), &at("workflow"));
        if let (Some(name), Some(workflow_node)) = (&workflow, fields.get("workflow")) {
            if name != "default" && !workflows.contains(name) {
                self.yaml.error(
                    workflow_node.position,
                    format!(
                        "{}: workflow {} is not defined",
                        at("workflow"),
                        quote(name)
                    ),
                );
            }
        }
        let allowed_workflows = self
            .yaml
            .string_list(fields.get("allowed_workflows"), &at("allowed_workflows"));
        for (name, position) in &allowed_workflows {
            if name != "default" && !workflows.contains(name) {
                self.yaml.error(
                    *position,
                    format!(
                        "{}: workflow {} is not defined",
                        at("allowed_workflows"),
                        quote(name)
                    ),
                );
            }
        }
        let allowed_overrides = self
            .yaml
            .string_list(fields.get("allowed_overrides"), &at("allowed_overrides"));
        for (name, position) in &allowed_overrides {
            if !OVERRIDES.contains(&name.as_str()) {
                self.yaml.error(
                    *position,
                    format!(
                        "{}: {} is not a valid override, only {} are supported",
                        at("allowed_overrides"),
                        quote(name),
                        OVERRIDES.join(", ")
                    ),
                );
            }
        }
        let allow_custom_workflows = self.yaml.bool(
            fields.get("allow_custom_workflows"),
            &at("allow_custom_workflows"),
        );
        for key in ["delete_source_branch_on_merge", "repo_locking"] {
            self.yaml.bool(fields.get(key), &at(key));
        }
        if let Some(locks) = fields.get("repo_locks") {
            self.repo_locks(locks, &at("repo_locks"), true);
        }
        let policy_check = self
            .yaml
            .bool(fields.get("policy_check"), &at("policy_check"));
        let custom_policy_check = self.yaml.bool(
            fields.get("custom_policy_check"),
            &at("custom_policy_check"),
        );
        if let Some(autodiscover) = fields.get("autodiscover") {
            self.autodiscover(autodiscover, &at("autodiscover"), true);
        }
        self.silence_pr_comments(
            fields.get("silence_pr_comments"),
            &at("silence_pr_comments"),
        );

        Some(ServerRepo {
            id,
            position: node.position,
            branch,
            repo_config_file,
            workflow,
            allowed_overrides: allowed_overrides.into_iter().map(|(s, _)| s).collect(),
            allowed_workflows: allowed_workflows.into_iter().map(|(s, _)| s).collect(),
            allow_custom_workflows,
            plan_requirements,
            apply_requirements,
            import_requirements,
            policy_check,
            custom_policy_check,
            pre_workflow_hooks,
            post_workflow_hooks,
        })
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
