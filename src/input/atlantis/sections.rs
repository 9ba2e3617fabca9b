//! Sections atlantis.yaml and repos.yaml share: requirements, `branch` regexes, `repo_locks`,
//! `autodiscover`, `policies`.

use super::names::*;
use super::*;
use crate::error::Position;
use crate::input::yaml::{join, quote, Kind, Node};

impl Checker<'_> {
    pub(super) fn requirements(
        &mut self,
        node: Option<&Node>,
        label: &str,
        kind: &str,
    ) -> Vec<String> {
        let values = self.yaml.string_list(node, label);
        for (value, at) in &values {
            if !REQUIREMENTS.contains(&value.as_str()) {
                self.yaml.error(
                    *at,
                    format!(
                        "{label}: {} is not a valid {kind}, only \"approved\", \"mergeable\" and \
                         \"undiverged\" are supported",
                        quote(value)
                    ),
                );
            }
        }
        values.into_iter().map(|(s, _)| s).collect()
    }

    pub(super) fn silence_pr_comments(&mut self, node: Option<&Node>, label: &str) {
        for (value, at) in self.yaml.string_list(node, label) {
            if value != "plan" && value != "apply" {
                self.yaml.error(
                    at,
                    format!(
                        "{label}: value {} is not supported, supported values are [plan, apply]",
                        quote(&value)
                    ),
                );
            }
        }
    }

    /// A `/regex/` value (project or repo `branch`, regex repo `id`).
    pub(super) fn slash_regex(&mut self, value: &str, at: Position, label: &str) {
        let inner = value
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'));
        let Some(inner) = inner else {
            self.yaml.error(
                at,
                format!(
                    "{label}: regex must begin and end with a slash '/', found {}",
                    quote(value)
                ),
            );
            return;
        };
        if let Err(e) = regex::Regex::new(inner) {
            self.yaml.error(
                at,
                format!(
                    "{label}: {value} is not a valid regex: {}",
                    regex_reason(&e)
                ),
            );
        }
    }

    pub(super) fn repo_locks(&mut self, node: &Node, label: &str, check_mode: bool) {
        if let Some(fields) = self.yaml.table(node, label, &["mode"]) {
            let mode_label = join(label, "mode");
            if let Some(mode) = self.yaml.string(fields.get("mode"), &mode_label) {
                if check_mode && !["disabled", "on_plan", "on_apply"].contains(&mode.as_str()) {
                    self.yaml.error(
                        fields.get("mode").map_or(node.position, |n| n.position),
                        format!(
                            "{mode_label}: must be one of disabled, on_plan, on_apply, found {}",
                            quote(&mode)
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn autodiscover(&mut self, node: &Node, label: &str, check_values: bool) {
        let Some(fields) = self.yaml.table(node, label, &["mode", "ignore_paths"]) else {
            return;
        };
        let mode_label = join(label, "mode");
        if let Some(mode) = self.yaml.string(fields.get("mode"), &mode_label) {
            if check_values && !["auto", "disabled", "enabled"].contains(&mode.as_str()) {
                self.yaml.error(
                    fields.get("mode").map_or(node.position, |n| n.position),
                    format!(
                        "{mode_label}: must be one of auto, disabled, enabled, found {}",
                        quote(&mode)
                    ),
                );
            }
        }
        let paths_label = join(label, "ignore_paths");
        for (pattern, at) in self
            .yaml
            .string_list(fields.get("ignore_paths"), &paths_label)
        {
            if check_values && pattern.starts_with('/') {
                self.yaml.error(
                    at,
                    format!("{paths_label}: pattern must not begin with a slash '/'"),
                );
            }
        }
    }

    /// `policies:` (the same schema in atlantis.yaml and repos.yaml); returns policy set names.
    pub(super) fn policies(&mut self, node: &Node, label: &str) -> Vec<String> {
        let keys = [
            "conftest_version",
            "owners",
            "policy_sets",
            "sticky_policy_approvals",
            "policy_item_regex",
            "approve_count",
        ];
        let Some(fields) = self.yaml.table(node, label, &keys) else {
            return Vec::new();
        };
        self.yaml.string(
            fields.get("conftest_version"),
            &join(label, "conftest_version"),
        );
        if let Some(owners) = fields.get("owners") {
            self.owners(owners, &join(label, "owners"));
        }
        self.yaml.bool(
            fields.get("sticky_policy_approvals"),
            &join(label, "sticky_policy_approvals"),
        );
        self.yaml.string(
            fields.get("policy_item_regex"),
            &join(label, "policy_item_regex"),
        );
        self.yaml
            .int(fields.get("approve_count"), &join(label, "approve_count"));
        let mut names = Vec::new();
        if let Some(sets) = fields.get("policy_sets") {
            let sets_label = join(label, "policy_sets");
            let Kind::Seq(items) = &sets.kind else {
                self.yaml.error(
                    sets.position,
                    format!("{sets_label}: must be a list, found {}", sets.describe()),
                );
                return names;
            };
            let set_keys = [
                "path",
                "source",
                "name",
                "owners",
                "approve_count",
                "sticky_policy_approvals",
                "policy_item_regex",
                "prevent_self_approve",
            ];
            for (index, item) in items.iter().enumerate() {
                let item_label = format!("{sets_label}[{index}]");
                let Some(set) = self.yaml.table(item, &item_label, &set_keys) else {
                    continue;
                };
                for key in ["path", "source", "policy_item_regex"] {
                    self.yaml.string(set.get(key), &join(&item_label, key));
                }
                if let Some(name) = self
                    .yaml
                    .string(set.get("name"), &join(&item_label, "name"))
                {
                    names.push(name);
                }
                if let Some(owners) = set.get("owners") {
                    self.owners(owners, &join(&item_label, "owners"));
                }
                self.yaml.int(
                    set.get("approve_count"),
                    &join(&item_label, "approve_count"),
                );
                for key in ["sticky_policy_approvals", "prevent_self_approve"] {
                    self.yaml.bool(set.get(key), &join(&item_label, key));
                }
            }
        }
        names
    }

    pub(super) fn owners(&mut self, node: &Node, label: &str) {
        if let Some(fields) = self.yaml.table(node, label, &["users", "teams"]) {
            self.yaml
                .string_list(fields.get("users"), &join(label, "users"));
            self.yaml
                .string_list(fields.get("teams"), &join(label, "teams"));
        }
    }
}
