//! Custom workflows: stages and their steps (built-in, `run`, `env`, `multienv`).

use super::names::*;
use super::*;
use crate::error::Position;
use crate::input::yaml::{join, quote, Kind, Node, Table};
use crate::model::atlantis::*;

impl Checker<'_> {
    pub(super) fn workflows(&mut self, node: &Node) -> Vec<Workflow> {
        let Kind::Map(entries) = &node.kind else {
            self.yaml.error(
                node.position,
                format!(
                    "workflows: must be a mapping of workflow names to workflows, found {}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        let mut workflows = Vec::new();
        for (key, value) in entries {
            let Some(name) = key.scalar_text() else {
                self.yaml.error(
                    key.position,
                    format!(
                        "workflows: a workflow name must be a string, found {}",
                        key.describe()
                    ),
                );
                continue;
            };
            let label = format!("workflows.{name}");
            let mut workflow = Workflow {
                name,
                position: key.position,
                stages: Vec::new(),
            };
            if let Some(fields) = self.yaml.table(value, &label, STAGE_NAMES) {
                for (stage_name, stage_key, stage_node) in &fields.entries {
                    let stage_label = join(&label, stage_name);
                    let mut stage = Stage {
                        name: (*stage_name).to_string(),
                        position: stage_key.position,
                        steps: Vec::new(),
                    };
                    if let Some(stage_fields) =
                        self.yaml.table(stage_node, &stage_label, &["steps"])
                    {
                        if let Some(steps) = stage_fields.get("steps") {
                            stage.steps = self.steps(steps, &join(&stage_label, "steps"));
                        }
                    }
                    workflow.stages.push(stage);
                }
            }
            workflows.push(workflow);
        }
        workflows
    }

    pub(super) fn steps(&mut self, node: &Node, label: &str) -> Vec<Step> {
        let Kind::Seq(items) = &node.kind else {
            self.yaml.error(
                node.position,
                format!(
                    "{label}: must be a list of steps, found {}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.step(item, &format!("{label}[{index}]")))
            .collect()
    }

    /// One step, accepted in the shapes Atlantis's `raw.Step` decodes: a bare step name, a
    /// `run`/`multienv` string, a built-in with `extra_args`, or `env`/`run`/`multienv` with a
    /// mapping of options.
    pub(super) fn step(&mut self, node: &Node, label: &str) -> Option<Step> {
        let mut step = Step {
            kind: String::new(),
            command: None,
            extra_args: Vec::new(),
            env_name: None,
            env_value: None,
            position: node.position,
        };
        let entries = match &node.kind {
            Kind::Map(entries) => entries,
            Kind::Null => {
                self.yaml
                    .error(node.position, format!("{label}: step element is empty"));
                return None;
            }
            Kind::Seq(_) => {
                self.yaml.error(
                    node.position,
                    format!(
                        "{label}: a step must be a step name or a one-key mapping, found a list"
                    ),
                );
                return None;
            }
            _ => {
                let name = node.scalar_text().unwrap_or_default();
                if !STEP_NAMES.contains(&name.as_str()) {
                    self.yaml.error(
                        node.position,
                        format!(
                            "{label}: {} is not a valid step type, maybe you omitted the 'run' key",
                            quote(&name)
                        ),
                    );
                    return None;
                }
                step.kind = name;
                return Some(step);
            }
        };
        let (key, value) = self.single_entry(entries, node, label)?;
        let kind = key.scalar_text().unwrap_or_default();
        self.step_value(key, value, label, &kind, &mut step)?;
        step.kind = kind;
        Some(step)
    }

    /// The one key of a step mapping (`- run: ...`); more or fewer are reported.
    fn single_entry<'n>(
        &mut self,
        entries: &'n [(Node, Node)],
        node: &Node,
        label: &str,
    ) -> Option<(&'n Node, &'n Node)> {
        if let [(key, value)] = entries {
            return Some((key, value));
        }
        if entries.is_empty() {
            self.yaml
                .error(node.position, format!("{label}: step element is empty"));
        } else {
            let keys: Vec<String> = entries
                .iter()
                .map(|(k, _)| k.scalar_text().unwrap_or_else(|| k.describe()))
                .collect();
            self.yaml.error(
                node.position,
                format!(
                    "{label}: step element can only contain a single key, found {}: {}",
                    keys.len(),
                    keys.join(",")
                ),
            );
        }
        None
    }

    /// What a step key holds: a built-in's `extra_args`, a command step's options, or a
    /// `run`/`multienv` command string.
    fn step_value(
        &mut self,
        key: &Node,
        value: &Node,
        label: &str,
        kind: &str,
        step: &mut Step,
    ) -> Option<()> {
        let step_label = join(label, kind);
        match &value.kind {
            Kind::Map(_) if BUILTIN_STEPS.contains(&kind) => {
                let fields = self.builtin_step_args(value, &step_label, kind)?;
                step.extra_args = self
                    .yaml
                    .plain_list(fields.get("extra_args"), &join(&step_label, "extra_args"));
            }
            Kind::Map(_) if ["run", "env", "multienv"].contains(&kind) => {
                self.command_step(value, &step_label, kind, step)?;
            }
            Kind::Map(_) => {
                self.yaml.error(
                    key.position,
                    format!("{label}: {} is not a valid step type", quote(kind)),
                );
                return None;
            }
            Kind::Seq(_) => {
                self.yaml.error(
                    value.position,
                    format!("{step_label}: must be a command string or a mapping, found a list"),
                );
                return None;
            }
            _ if kind != "run" && kind != "multienv" => {
                let hint = if BUILTIN_STEPS.contains(&kind) {
                    format!("; write `- {kind}` or `- {kind}: {{extra_args: [...]}}`")
                } else {
                    String::new()
                };
                self.yaml.error(
                    key.position,
                    format!(
                        "{label}: {} is not a valid step type for a string value (only run and \
                         multienv take a command string){hint}",
                        quote(kind)
                    ),
                );
                return None;
            }
            _ => step.command = Some(value.scalar_text().unwrap_or_default()),
        }
        Some(())
    }

    pub(super) fn builtin_step_args<'n>(
        &mut self,
        value: &'n Node,
        label: &str,
        kind: &str,
    ) -> Option<Table<'n>> {
        let Kind::Map(entries) = &value.kind else {
            return None;
        };
        let mut ok = true;
        for (key, _) in entries {
            let name = key.scalar_text().unwrap_or_else(|| key.describe());
            if name != "extra_args" {
                self.yaml.error(
                    key.position,
                    format!(
                        "{label}: built-in steps only support a single extra_args key, found {} \
                         in step {kind}",
                        quote(&name)
                    ),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        self.yaml.table(value, label, &["extra_args"])
    }

    pub(super) fn command_step(
        &mut self,
        value: &Node,
        label: &str,
        kind: &str,
        step: &mut Step,
    ) -> Option<()> {
        let known: &[&str] = match kind {
            "env" => &["name", "command", "value", "shell", "shellArgs"],
            "multienv" => &["command", "output", "shell", "shellArgs"],
            _ => &["command", "output", "shell", "shellArgs"],
        };
        let before = self.yaml.problems();
        let fields = self.yaml.table(value, label, known)?;
        for key in ["name", "command", "value", "shell"] {
            if let Some(node) = fields.get(key) {
                if node.scalar_text().is_none() {
                    self.yaml.error(
                        node.position,
                        format!(
                            "{}: must be a string, found {}",
                            join(label, key),
                            node.describe()
                        ),
                    );
                }
            }
        }
        if fields.has("shell") && !fields.has("command") {
            self.yaml.error(
                value.position,
                format!(
                    "{label}: workflow steps only support \"shell\" key in combination with \
                     \"command\" key"
                ),
            );
        }
        if fields.has("shellArgs") && !fields.has("shell") {
            self.yaml.error(
                value.position,
                format!(
                    "{label}: workflow steps only support \"shellArgs\" key in combination with \
                     \"shell\" key"
                ),
            );
        }
        if let Some(args) = fields.get("shellArgs") {
            if args.scalar_text().is_none() {
                self.yaml.string_list(Some(args), &join(label, "shellArgs"));
            }
        }
        step.command = fields.get("command").and_then(Node::scalar_text);
        self.command_step_keys(&fields, value, label, kind, step);
        (self.yaml.problems() == before).then_some(())
    }

    /// What `env` steps need (`name`, one of `value`/`command`) and what `run`/`multienv`
    /// steps need (`command`, a valid `output`).
    fn command_step_keys(
        &mut self,
        fields: &Table<'_>,
        value: &Node,
        label: &str,
        kind: &str,
        step: &mut Step,
    ) {
        match kind {
            "env" => {
                step.env_name = fields.get("name").and_then(Node::scalar_text);
                step.env_value = fields.get("value").and_then(Node::scalar_text);
                if step.env_name.is_none() {
                    self.yaml.error(
                        value.position,
                        format!("{label}: env steps must have a \"name\" key set"),
                    );
                }
                if fields.has("value") && fields.has("command") {
                    self.yaml.error(
                        value.position,
                        format!(
                            "{label}: env steps only support one of the \"value\" or \"command\" \
                             keys, found both"
                        ),
                    );
                }
            }
            _ => {
                if step.command.is_none() {
                    self.yaml.error(
                        value.position,
                        format!(
                            "{label}: {} step must have a \"command\" key set",
                            quote(kind)
                        ),
                    );
                }
                if let Some(output) = fields.get("output") {
                    self.step_output(output, &join(label, "output"), kind);
                }
            }
        }
    }

    pub(super) fn step_output(&mut self, node: &Node, label: &str, kind: &str) {
        let allowed: &[&str] = if kind == "run" {
            &["show", "hide", "strip_refreshing"]
        } else {
            &["show", "hide"]
        };
        let check = |checker: &mut Self, value: &str, at: Position| {
            if !allowed.contains(&value) {
                checker.yaml.error(
                    at,
                    format!(
                        "{label}: {} step output must be one of {}{}, found {}",
                        kind,
                        allowed.join(", "),
                        if kind == "run" {
                            " or filter_regex"
                        } else {
                            ""
                        },
                        quote(value)
                    ),
                );
            }
        };
        match &node.kind {
            Kind::Seq(items) if kind == "run" => {
                for item in items {
                    match &item.kind {
                        Kind::Map(entries) => {
                            for (key, value) in entries {
                                let name = key.scalar_text().unwrap_or_default();
                                if name != "filter_regex" {
                                    check(self, &name, key.position);
                                    continue;
                                }
                                let patterns = match value.scalar_text() {
                                    Some(p) => vec![(p, value.position)],
                                    None => self
                                        .yaml
                                        .string_list(Some(value), &join(label, "filter_regex")),
                                };
                                for (pattern, at) in patterns {
                                    if let Err(e) = regex::Regex::new(&pattern) {
                                        self.yaml.error(
                                            at,
                                            format!(
                                                "{label}: filter_regex {} is not a valid regex: {}",
                                                quote(&pattern),
                                                regex_reason(&e)
                                            ),
                                        );
                                    }
                                }
                            }
                        }
                        _ => match item.scalar_text() {
                            Some(text) => check(self, &text, item.position),
                            None => self.yaml.error(
                                item.position,
                                format!(
                                    "{label}: must be a string or a filter_regex mapping, found {}",
                                    item.describe()
                                ),
                            ),
                        },
                    }
                }
            }
            _ => match node.scalar_text() {
                Some(text) => check(self, &text, node.position),
                None => self.yaml.error(
                    node.position,
                    format!("{label}: must be a string, found {}", node.describe()),
                ),
            },
        }
    }
}
