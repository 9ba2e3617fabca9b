//! Reader for the policy file (`plangate.yaml`): environments, project mappings, where a
//! resource's environment is read from, protected resources, stateful types and per-rule levels
//! and thresholds, laid over the built-in default (`policies/default.yaml`).
//!
//! Keys are kebab-case and strict. The file goes through the same YAML layer as atlantis.yaml,
//! so every problem (unknown key, wrong type, bad regex or glob, unknown rule id or option,
//! unknown environment) is collected with file:line before the policy is refused. Rule ids
//! and options come from the catalog the caller hands over (the rules floor owns it).

use std::path::Path;

use crate::error::Position;
use crate::input::yaml::{self, join, Kind, Node, Table};
use crate::model::environment::{EnvironmentDef, Environments};
use crate::model::level::Level;
use crate::model::policy::{
    Policy, ProjectMapping, ProtectedMatcher, ProtectedResource, RelaxationKind, RuleOptions,
    RuleSetting, RuleSpec,
};
use crate::text::one_line;
use crate::{Error, Result};

/// The built-in default policy, shipped as `policies/default.yaml`.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.yaml");

/// The commented starter policy `plangate init` writes.
pub const STARTER_POLICY: &str = include_str!("../../policies/starter.yaml");

/// A policy is a few KB; anything far larger is not one.
const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

const DEFAULT_PATH: &str = "policies/default.yaml";

const TOP_KEYS: &[&str] = &[
    "version",
    "repository-may",
    "environments",
    "projects",
    "resource-environment",
    "protected-resources",
    "stateful-types",
    "rules",
    "approvers",
];
const ENVIRONMENT_KEYS: &[&str] = &["aliases", "protected", "accounts"];
const MAPPING_KEYS: &[&str] = &["name", "dir", "workspace", "environment", "protected"];
const RESOURCE_ENVIRONMENT_KEYS: &[&str] = &["tag-keys", "attributes"];
const PROTECTED_KEYS: &[&str] = &[
    "address",
    "type",
    "attribute",
    "values",
    "identity",
    "reason",
];
const OPTION_KEYS: &[&str] = &[
    "level",
    "max-deletes",
    "max-fraction",
    "min-state",
    "min-instances",
    "min-fraction",
    "environments",
];

/// The built-in default policy alone.
pub fn builtin(catalog: &[RuleSpec]) -> Policy {
    // The default is shipped in the binary and covered by tests; failing here is a bug.
    from_layers(catalog, None).expect("the built-in policy is valid")
}

/// Read a user's policy file and lay it over the built-in default.
pub fn load(path: &Path, catalog: &[RuleSpec]) -> Result<Policy> {
    parse(&read(path)?, path, catalog)
}

/// Parse a policy from text (the user's layer over the built-in default).
pub fn parse(text: &str, path: &Path, catalog: &[RuleSpec]) -> Result<Policy> {
    from_layers(catalog, Some((text, path)))
}

/// Lay one more file over a policy already read (the repository's layer over a trusted
/// policy). `text` is the file's content; `path` names it in messages.
pub fn layer_over(
    policy: &Policy,
    text: &str,
    path: &Path,
    catalog: &[RuleSpec],
) -> Result<Policy> {
    let mut layered = policy.clone();
    if text.trim().is_empty() {
        return Err(Error::input(
            path,
            "is empty: remove it or run `plangate init`",
        ));
    }
    let tree = yaml::read_tree(text, path)?;
    let mut reader = Reader::new(path, catalog);
    layered.source = Some(path.to_path_buf());
    reader.layer(&mut layered, &tree);
    reader.yaml.finish(())?;
    Ok(layered)
}

/// Read a policy file's text, with the size cap every policy has.
pub fn read(path: &Path) -> Result<String> {
    crate::input::read_text_file(path, MAX_POLICY_BYTES)
}

fn from_layers(catalog: &[RuleSpec], user: Option<(&str, &Path)>) -> Result<Policy> {
    let mut policy = Policy::empty();
    let default_path = Path::new(DEFAULT_PATH);
    let mut reader = Reader::new(default_path, catalog);
    let tree = yaml::read_tree(DEFAULT_POLICY, default_path)?;
    reader.layer(&mut policy, &tree);
    reader.yaml.finish(())?;
    match user {
        Some((text, path)) => layer_over(&policy, text, path, catalog),
        None => Ok(policy),
    }
}

/// An environment as read, where its name is written, and its accounts with theirs.
type DeclaredEnvironment = (EnvironmentDef, Position, Vec<(String, Position)>);

/// Walks one policy layer and lays it over what is there: environments, tag keys and mappings
/// given replace the previous ones; protected resources and stateful types add; rule settings
/// merge per rule.
struct Reader<'a> {
    yaml: yaml::Checker<'a>,
    catalog: &'a [RuleSpec],
}

impl<'a> Reader<'a> {
    fn new(path: &'a Path, catalog: &'a [RuleSpec]) -> Self {
        Reader {
            yaml: yaml::Checker::new(path, "plangate"),
            catalog,
        }
    }

    fn layer(&mut self, policy: &mut Policy, root: &Node) {
        if matches!(root.kind, Kind::Null) {
            return;
        }
        let Some(top) = self.yaml.table(root, "", TOP_KEYS) else {
            return;
        };
        if let Some(node) = top.get("version") {
            if let Some(v) = self.yaml.int(Some(node), "version") {
                if v != 1 {
                    self.yaml.error(
                        node.position,
                        format!(
                            "version {v} is not supported; this plangate reads policy version 1"
                        ),
                    );
                }
            }
        }
        if let Some(node) = top.get("environments") {
            policy.environments = self.environments(node);
            policy.resource_environment.read_accounts = policy.environments.has_accounts();
        }
        for (word, at) in self
            .yaml
            .string_list(top.get("repository-may"), "repository-may")
        {
            match RelaxationKind::parse(&word) {
                Some(kind) if !policy.repository_may.contains(&kind) => {
                    policy.repository_may.push(kind)
                }
                Some(_) => {}
                None => self.yaml.error(
                    at,
                    format!(
                        "repository-may: `{word}` is not a kind of relaxation (known: {})",
                        RelaxationKind::GRANTABLE
                            .map(RelaxationKind::as_str)
                            .join(", ")
                    ),
                ),
            }
        }
        if let Some(node) = top.get("projects") {
            let mappings = self.projects(node);
            if !mappings.is_empty() {
                policy.projects = mappings;
            }
        }
        if let Some(node) = top.get("resource-environment") {
            self.resource_environment(node, policy);
        }
        if let Some(node) = top.get("protected-resources") {
            for (index, item) in self.items(node, "protected-resources").iter().enumerate() {
                let label = format!("protected-resources[{index}]");
                if let Some(p) = self.protected_resource(item, &label) {
                    policy.protected_resources.push(p);
                }
            }
        }
        let stateful = self
            .yaml
            .plain_list(top.get("stateful-types"), "stateful-types");
        policy.extra_stateful_types.extend(stateful);
        if let Some(node) = top.get("rules") {
            self.rules(node, policy);
        }
        if let Some(node) = top.get("approvers") {
            policy.approvers =
                crate::input::approvers::read(&mut self.yaml, node, &policy.environments);
        }
        self.known_environments(policy, &top);
    }

    /// The entries of a list (a missing or wrong-typed one is reported and gives none).
    fn items<'n>(&mut self, node: &'n Node, label: &str) -> &'n [Node] {
        match &node.kind {
            Kind::Seq(items) => items,
            _ => {
                self.yaml.error(
                    node.position,
                    format!("{label}: must be a list, found {}", node.describe()),
                );
                &[]
            }
        }
    }

    fn environments(&mut self, node: &Node) -> Environments {
        let mut defs: Vec<DeclaredEnvironment> = Vec::new();
        let Kind::Map(entries) = &node.kind else {
            self.yaml.error(
                node.position,
                format!("environments: must be a mapping, found {}", node.describe()),
            );
            return Environments { defs: Vec::new() };
        };
        for (key, value) in entries {
            let Some(name) = key.scalar_text() else {
                self.yaml
                    .error(key.position, "environments: names must be words");
                continue;
            };
            let label = format!("environments.{name}");
            let fields = self
                .yaml
                .table(value, &label, ENVIRONMENT_KEYS)
                .unwrap_or_else(Table::empty);
            let aliases = self
                .yaml
                .plain_list(fields.get("aliases"), &join(&label, "aliases"));
            let protected = self
                .yaml
                .bool(fields.get("protected"), &join(&label, "protected"))
                .unwrap_or(false);
            let accounts = self.accounts(fields.get("accounts"), &join(&label, "accounts"));
            for word in std::iter::once(name.as_str()).chain(aliases.iter().map(String::as_str)) {
                if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphanumeric()) {
                    self.yaml.error(
                        key.position,
                        format!("environment `{name}`: `{word}` must be a single word of letters and digits"),
                    );
                }
            }
            defs.push((
                EnvironmentDef {
                    name: name.to_ascii_lowercase(),
                    aliases: aliases.iter().map(|a| a.to_ascii_lowercase()).collect(),
                    protected,
                    accounts: accounts.iter().map(|(a, _)| a.clone()).collect(),
                },
                key.position,
                accounts,
            ));
        }
        // One word may name only one environment.
        for (i, (a, _, _)) in defs.iter().enumerate() {
            for (b, at, _) in &defs[i + 1..] {
                let words_a: Vec<&String> = std::iter::once(&a.name).chain(&a.aliases).collect();
                if let Some(w) = std::iter::once(&b.name)
                    .chain(&b.aliases)
                    .find(|w| words_a.contains(w))
                {
                    self.yaml.error(
                        *at,
                        format!("`{w}` names both environment `{}` and `{}`", a.name, b.name),
                    );
                }
            }
        }
        self.accounts_in_one_environment(&defs);
        let mut defs: Vec<EnvironmentDef> = defs.into_iter().map(|(d, _, _)| d).collect();
        defs.sort_by(|a, b| a.name.cmp(&b.name));
        Environments { defs }
    }

    /// An environment's `accounts:`: account IDs, project IDs, subscription IDs or context
    /// names, each a single word (YAML numbers keep their digits: `012345678901`). One listed
    /// twice is kept once.
    fn accounts(&mut self, node: Option<&Node>, label: &str) -> Vec<(String, Position)> {
        let mut accounts: Vec<(String, Position)> = Vec::new();
        for (account, at) in self.yaml.string_list(node, label) {
            if account.is_empty() || account.chars().any(|c| c.is_whitespace() || c.is_control()) {
                self.yaml.error(
                    at,
                    format!(
                        "{label}: `{}` is not an account: write an AWS account ID, a GCP project ID, an Azure subscription ID or a Kubernetes context name",
                        crate::text::printable(&account)
                    ),
                );
            } else if !accounts
                .iter()
                .any(|(a, _)| a.eq_ignore_ascii_case(&account))
            {
                accounts.push((account, at));
            }
        }
        accounts
    }

    /// An account belongs to one environment: listed under two, it is an error naming both.
    fn accounts_in_one_environment(&mut self, defs: &[DeclaredEnvironment]) {
        for (i, (a, _, _)) in defs.iter().enumerate() {
            for (b, _, listed) in &defs[i + 1..] {
                for (account, at) in listed {
                    if a.accounts.iter().any(|x| x.eq_ignore_ascii_case(account)) {
                        self.yaml.error(
                            *at,
                            format!(
                                "account `{account}` is listed under both environment `{}` and `{}`: an account belongs to one environment",
                                a.name.to_ascii_lowercase(),
                                b.name.to_ascii_lowercase()
                            ),
                        );
                    }
                }
            }
        }
    }

    fn projects(&mut self, node: &Node) -> Vec<ProjectMapping> {
        let mut mappings = Vec::new();
        for (index, item) in self.items(node, "projects").iter().enumerate() {
            let label = format!("projects[{index}]");
            let Some(m) = self.yaml.table(item, &label, MAPPING_KEYS) else {
                continue;
            };
            let name = m.get("name").and_then(|n| {
                let text = self.yaml.string(Some(n), &join(&label, "name"))?;
                regex::Regex::new(&format!("^(?:{text})$"))
                    .map_err(|e| {
                        self.yaml.error(
                            n.position,
                            format!(
                                "projects: name `{text}` is not a valid regex: {}",
                                one_line(&e.to_string())
                            ),
                        )
                    })
                    .ok()
            });
            let dir = m.get("dir").and_then(|d| {
                let text = self.yaml.string(Some(d), &join(&label, "dir"))?;
                glob(&text)
                    .map_err(|e| {
                        self.yaml.error(
                            d.position,
                            format!("projects: dir `{text}` is not a valid glob: {e}"),
                        )
                    })
                    .ok()
            });
            let workspace = self
                .yaml
                .string(m.get("workspace"), &join(&label, "workspace"));
            let environment = self
                .yaml
                .string(m.get("environment"), &join(&label, "environment"));
            let protected = self
                .yaml
                .bool(m.get("protected"), &join(&label, "protected"))
                .unwrap_or(false);
            if !m.has("name") && !m.has("dir") && !m.has("workspace") {
                self.yaml.error(
                    item.position,
                    "projects: an entry needs at least one of name, dir, workspace",
                );
            }
            if environment.is_none() && !protected {
                self.yaml.error(
                    item.position,
                    "projects: an entry needs `environment` or `protected: true`",
                );
            }
            let description = mapping_description(&m);
            mappings.push(ProjectMapping {
                description,
                name,
                dir,
                workspace,
                environment: environment.map(|e| e.to_ascii_lowercase()),
                protected,
            });
        }
        mappings
    }

    fn resource_environment(&mut self, node: &Node, policy: &mut Policy) {
        let label = "resource-environment";
        let Some(fields) = self.yaml.table(node, label, RESOURCE_ENVIRONMENT_KEYS) else {
            return;
        };
        if fields.get("tag-keys").is_some() {
            policy.resource_environment.tag_keys = self
                .yaml
                .plain_list(fields.get("tag-keys"), &join(label, "tag-keys"));
        }
        let attributes = self
            .yaml
            .plain_list(fields.get("attributes"), &join(label, "attributes"));
        if !attributes.is_empty() {
            policy.resource_environment.attributes = attributes;
        }
    }

    fn protected_resource(&mut self, node: &Node, label: &str) -> Option<ProtectedResource> {
        let fields = self.yaml.table(node, label, PROTECTED_KEYS)?;
        let text =
            |reader: &mut Self, key: &str| reader.yaml.string(fields.get(key), &join(label, key));
        let address = text(self, "address");
        let resource_type = text(self, "type");
        let attribute = text(self, "attribute");
        let identity = text(self, "identity");
        let reason = text(self, "reason");
        let values = self
            .yaml
            .plain_list(fields.get("values"), &join(label, "values"));
        let built = protected_matcher(address, resource_type, attribute, values, identity, reason);
        match built {
            Ok(p) => Some(p),
            Err(msg) => {
                self.yaml
                    .error(node.position, format!("protected-resources: {msg}"));
                None
            }
        }
    }

    fn rules(&mut self, node: &Node, policy: &mut Policy) {
        let Kind::Map(entries) = &node.kind else {
            self.yaml.error(
                node.position,
                format!("rules: must be a mapping, found {}", node.describe()),
            );
            return;
        };
        for (key, value) in entries {
            let Some(id) = key.scalar_text() else {
                self.yaml.error(key.position, "rules: rule ids are words");
                continue;
            };
            let Some(spec) = self.catalog.iter().find(|r| r.id == id) else {
                let hint = crate::text::suggest(&id, self.catalog.iter().map(|r| r.id))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                self.yaml.error(
                    key.position,
                    format!("rules: unknown rule id `{id}` (see `plangate rules`){hint}"),
                );
                continue;
            };
            let Some(setting) =
                self.rule_setting(value, &format!("rules.{id}"), &policy.environments)
            else {
                continue;
            };
            if let Err(msg) = check_options(spec.options, &setting.options) {
                self.yaml
                    .error(value.position, format!("rules: {id}: {msg}"));
            }
            let merged = policy.rules.entry(id).or_default();
            if setting.level.is_some() {
                merged.level = setting.level;
            }
            merged.options.merge(setting.options);
        }
    }

    /// A bare level, or a map of `level` and options.
    fn rule_setting(
        &mut self,
        node: &Node,
        label: &str,
        envs: &Environments,
    ) -> Option<RuleSetting> {
        if let Kind::Str(word) = &node.kind {
            return match Level::parse(word) {
                Some(level) => Some(RuleSetting {
                    level: Some(level),
                    options: RuleOptions::default(),
                }),
                None => {
                    self.yaml.error(
                        node.position,
                        format!("{label}: unknown level `{word}`, expected deny, warn or allow"),
                    );
                    None
                }
            };
        }
        if !matches!(node.kind, Kind::Map(_)) {
            self.yaml.error(
                node.position,
                format!(
                    "{label}: must be a level (deny, warn, allow) or a map with `level` and options, found {}",
                    node.describe()
                ),
            );
            return None;
        }
        let options = self.rule_options(node, label, Some(envs))?;
        Some(RuleSetting {
            level: options.level,
            options,
        })
    }

    /// A rule's options; `envs` are the environments its `environments:` overrides may name
    /// (by name or alias; kept under the name). Overrides take no overrides of their own.
    fn rule_options(
        &mut self,
        node: &Node,
        label: &str,
        envs: Option<&Environments>,
    ) -> Option<RuleOptions> {
        let fields = self.yaml.table(node, label, OPTION_KEYS)?;
        let mut options = RuleOptions::default();
        if let Some(level) = fields.get("level") {
            let word = self.yaml.string(Some(level), &join(label, "level"))?;
            match Level::parse(&word) {
                Some(l) => options.level = Some(l),
                None => self.yaml.error(
                    level.position,
                    format!("{label}: unknown level `{word}`, expected deny, warn or allow"),
                ),
            }
        }
        options.max_deletes = self.count(fields.get("max-deletes"), &join(label, "max-deletes"));
        options.min_state = self.count(fields.get("min-state"), &join(label, "min-state"));
        options.min_instances =
            self.count(fields.get("min-instances"), &join(label, "min-instances"));
        options.max_fraction = self
            .yaml
            .number(fields.get("max-fraction"), &join(label, "max-fraction"));
        options.min_fraction = self
            .yaml
            .number(fields.get("min-fraction"), &join(label, "min-fraction"));
        if let Some(node) = fields.get("environments") {
            options.environments =
                self.environment_overrides(node, &join(label, "environments"), envs);
        }
        Some(options)
    }

    /// `environments:` under a rule: options per environment, keyed by the environment's name.
    fn environment_overrides(
        &mut self,
        node: &Node,
        label: &str,
        envs: Option<&Environments>,
    ) -> std::collections::BTreeMap<String, RuleOptions> {
        let mut overrides = std::collections::BTreeMap::new();
        let Kind::Map(entries) = &node.kind else {
            self.yaml.error(
                node.position,
                format!("{label}: must be a mapping, found {}", node.describe()),
            );
            return overrides;
        };
        let Some(envs) = envs else {
            self.yaml
                .error(node.position, format!("{label}: overrides cannot nest"));
            return overrides;
        };
        for (key, value) in entries {
            let Some(word) = key.scalar_text() else {
                continue;
            };
            let Some(def) = envs.resolve_word(&word) else {
                self.yaml.error(
                    key.position,
                    format!(
                        "{label}: `{word}` is not an environment of the policy (known: {})",
                        envs.describe()
                    ),
                );
                continue;
            };
            let name = def.name.clone();
            if let Some(o) = self.rule_options(value, &join(label, &word), None) {
                overrides.insert(name, o);
            }
        }
        overrides
    }

    /// A non-negative whole number.
    fn count(&mut self, node: Option<&Node>, label: &str) -> Option<usize> {
        let n = self.yaml.int(node, label)?;
        match usize::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                if let Some(node) = node {
                    self.yaml
                        .error(node.position, format!("{label}: must not be negative"));
                }
                None
            }
        }
    }

    /// Environments named by mappings must be declared by the layers read so far (by name or
    /// alias); they are kept under the environment's name.
    fn known_environments(&mut self, policy: &mut Policy, top: &Table<'_>) {
        let at = top
            .get("projects")
            .or(top.get("environments"))
            .map_or(Position { line: 0, column: 0 }, |n| n.position);
        for mapping in &mut policy.projects {
            let Some(env) = &mapping.environment else {
                continue;
            };
            match policy.environments.resolve_word(env) {
                Some(def) => mapping.environment = Some(def.name.clone()),
                None => self.yaml.error(
                    at,
                    format!(
                        "projects: environment `{env}` is not declared under environments (known: {})",
                        policy.environments.describe()
                    ),
                ),
            }
        }
    }
}

/// A mapping's matchers as written: `name "payments-.*" dir "envs/**"`.
fn mapping_description(m: &Table<'_>) -> String {
    ["name", "dir", "workspace"]
        .iter()
        .filter_map(|k| {
            m.get(k)
                .and_then(Node::scalar_text)
                .map(|v| format!("{k} {v:?}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which option names a rule accepts; anything else set for it is an error.
fn check_options(accepted: &[&str], options: &RuleOptions) -> Result<(), String> {
    let mut set = Vec::new();
    let mut collect = |o: &RuleOptions| {
        for (name, present) in [
            ("max-deletes", o.max_deletes.is_some()),
            ("max-fraction", o.max_fraction.is_some()),
            ("min-state", o.min_state.is_some()),
            ("min-instances", o.min_instances.is_some()),
            ("min-fraction", o.min_fraction.is_some()),
        ] {
            if present && !set.contains(&name) {
                set.push(name);
            }
        }
    };
    collect(options);
    for o in options.environments.values() {
        collect(o);
        if o.level.is_some() {
            return Err("`level` cannot be set per environment".into());
        }
    }
    if !options.environments.is_empty() && accepted.is_empty() {
        set.push("environments");
    }
    for fraction in [options.max_fraction, options.min_fraction]
        .into_iter()
        .flatten()
    {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(format!("fractions are between 0 and 1, not {fraction}"));
        }
    }
    match set.iter().find(|o| !accepted.contains(o)) {
        None => Ok(()),
        Some(bad) if accepted.is_empty() => Err(format!("takes no option `{bad}`, only `level`")),
        Some(bad) => Err(format!(
            "unknown option `{bad}` (accepted: level, {})",
            accepted.join(", ")
        )),
    }
}

fn protected_matcher(
    address: Option<String>,
    resource_type: Option<String>,
    attribute: Option<String>,
    values: Vec<String>,
    identity: Option<String>,
    reason: Option<String>,
) -> Result<ProtectedResource, String> {
    let kinds = [
        address.is_some(),
        resource_type.is_some(),
        identity.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if kinds != 1 {
        return Err("each entry needs exactly one of `address`, `type` (with `attribute` and `values`) or `identity`".into());
    }
    if let Some(address) = address {
        return Ok(ProtectedResource {
            matcher: ProtectedMatcher::Address(glob(&address)?),
            description: format!("address {address}"),
            reason,
        });
    }
    if let Some(identity) = identity {
        return Ok(ProtectedResource {
            matcher: ProtectedMatcher::Identity(glob(&identity)?),
            description: format!("identity {identity}"),
            reason,
        });
    }
    let resource_type = resource_type.unwrap_or_default();
    let attribute = attribute.ok_or_else(|| {
        format!("type `{resource_type}` needs `attribute` (e.g. metadata.0.name) and `values`")
    })?;
    if values.is_empty() {
        return Err(format!(
            "type `{resource_type}` needs a non-empty `values` list"
        ));
    }
    let matchers = values
        .iter()
        .map(|v| glob(v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProtectedResource {
        description: format!(
            "type {resource_type} {attribute} in [{}]",
            values.join(", ")
        ),
        matcher: ProtectedMatcher::TypeAttribute {
            resource_type: glob(&resource_type)?,
            attribute,
            values: matchers,
        },
        reason,
    })
}

/// Globs match whole strings; `*` does not stop at `/` or `.` (addresses and ARNs are not paths).
pub fn glob(pattern: &str) -> Result<globset::GlobMatcher, String> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("`{pattern}` is not a valid glob: {}", e.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy> {
        super::parse(text, Path::new("plangate.yaml"), &crate::rules::catalog())
    }

    fn errors(text: &str) -> Vec<String> {
        match parse(text) {
            Err(Error::Config(d)) => d.iter().map(|d| d.to_string()).collect(),
            other => panic!("expected config errors, got {other:?}"),
        }
    }

    #[test]
    fn builtin_policy_is_valid_and_has_the_default_environments() {
        let p = builtin(&crate::rules::catalog());
        let names: Vec<&str> = p
            .environments
            .defs
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        for n in ["production", "staging", "development", "test", "sandbox"] {
            assert!(names.contains(&n), "{names:?}");
        }
        assert_eq!(
            p.environments.resolve_word("prd").unwrap().name,
            "production"
        );
        assert!(p
            .resource_environment
            .tag_keys
            .contains(&"Environment".to_string()));
        assert!(!p.protected_resources.is_empty());
    }

    #[test]
    fn the_starter_policy_is_valid() {
        let p = parse(STARTER_POLICY).unwrap();
        assert!(p.environments.get("production").unwrap().protected);
        assert_eq!(
            p.rule_options("mass-deletion", Some("production"))
                .max_deletes,
            Some(5)
        );
        assert_eq!(
            p.rule_options("mass-deletion", Some("staging")).max_deletes,
            Some(20)
        );
    }

    #[test]
    fn the_starters_accounts_example_is_valid_uncommented() {
        assert!(STARTER_POLICY.contains("    # accounts: ["));
        let p = parse(&STARTER_POLICY.replace("    # accounts: [", "    accounts: [")).unwrap();
        let env_of = |a: &str| {
            p.environments
                .account_environment(a)
                .map(|d| d.name.clone())
        };
        assert_eq!(env_of("111122223333").as_deref(), Some("production"));
        assert_eq!(env_of("orders-staging").as_deref(), Some("staging"));
    }

    #[test]
    fn unknown_keys_point_at_their_line() {
        let e = errors("environments:\n  production:\n    aliases: [prod]\n    colour: red\n");
        assert!(e[0].starts_with("plangate.yaml:4:5: "), "{e:?}");
        assert!(e[0].contains("colour"), "{e:?}");
    }

    #[test]
    fn bad_regex_and_unknown_rule_are_collected_together() {
        let e = errors("projects:\n  - name: \"prod-(\"\n    environment: production\nrules:\n  cross-env-destory: deny\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e.iter()
                .any(|m| m.starts_with("plangate.yaml:2:") && m.contains("not a valid regex")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m.starts_with("plangate.yaml:5:")
                && m.contains("did you mean `cross-env-destroy`")),
            "{e:?}"
        );
    }

    #[test]
    fn levels_are_bare_words_or_maps() {
        let p = parse("rules:\n  untagged-destroy: deny\n  incomplete-plan:\n    level: allow\n")
            .unwrap();
        assert_eq!(p.rule_level("untagged-destroy"), Some(Level::Deny));
        assert_eq!(p.rule_level("incomplete-plan"), Some(Level::Allow));
        let e = errors("rules:\n  untagged-destroy: block\n");
        assert!(e[0].contains("unknown level"), "{e:?}");
    }

    #[test]
    fn user_environments_replace_the_defaults() {
        let p = parse("environments:\n  prod:\n    aliases: [production, live]\n  nonprod:\n    aliases: [dev, stg]\n").unwrap();
        assert_eq!(p.environments.defs.len(), 2);
        assert_eq!(p.environments.resolve_word("stg").unwrap().name, "nonprod");
    }

    #[test]
    fn mapping_to_an_undeclared_environment_is_an_error() {
        let e = errors("projects:\n  - dir: \"envs/perf/**\"\n    environment: perf\n");
        assert!(e[0].contains("not declared"), "{e:?}");
    }

    #[test]
    fn environments_list_their_accounts() {
        let p = parse("environments:\n  production:\n    aliases: [prod]\n    accounts: [\"111122223333\", 012345678901, orders-prod, orders-prod]\n  staging:\n    accounts: [arn:aws:eks:eu-west-1:444455556666:cluster/stg]\n").unwrap();
        let prod = p.environments.get("production").unwrap();
        assert_eq!(
            prod.accounts,
            ["111122223333", "012345678901", "orders-prod"]
        );
        assert_eq!(
            p.environments
                .account_environment("444455556666")
                .map(|d| d.name.as_str()),
            None,
            "a context ARN is matched whole, not by its account"
        );
        assert!(p
            .environments
            .account_environment("arn:aws:eks:eu-west-1:444455556666:cluster/stg")
            .is_some());
        // Their attributes are read from prior values only when some environment lists one.
        assert!(p.resource_environment.prior_attributes().contains(&"arn"));
        let none = builtin(&crate::rules::catalog());
        assert!(!none.environments.has_accounts());
        assert!(!none
            .resource_environment
            .prior_attributes()
            .contains(&"owner_id"));
    }

    #[test]
    fn an_account_under_two_environments_is_an_error_naming_both() {
        let e = errors("environments:\n  production:\n    accounts: [\"111122223333\"]\n  staging:\n    accounts:\n      - \"444455556666\"\n      - \"111122223333\"\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("plangate.yaml:7:"), "{e:?}");
        assert!(
            e[0].contains("`111122223333`")
                && e[0].contains("`production`")
                && e[0].contains("`staging`"),
            "{e:?}"
        );
        let e = errors("environments:\n  production:\n    accounts: [\"a b\", \"\"]\n    protected: yes-please\n");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e.iter().all(|m| m.starts_with("plangate.yaml:")), "{e:?}");
        let e = errors("environments:\n  production:\n    accounts: \"111122223333\"\n");
        assert!(e[0].contains("must be a list"), "{e:?}");
    }

    #[test]
    fn an_empty_policy_file_is_an_error() {
        assert!(matches!(parse("  \n"), Err(Error::Input { .. })));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("rules:\n  x: {}{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn alias_bombs_fail_fast() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        let started = std::time::Instant::now();
        assert!(parse(&bomb).is_err());
        assert!(started.elapsed().as_secs() < 5);
    }
}
