//! The policy file (`plangate.yaml`): environments, project mappings, where a resource's
//! environment is read from, protected resources and per-rule levels and thresholds.
//!
//! Keys are kebab-case and strict. The file is validated in a second pass that collects every
//! problem (bad regex, bad glob, unknown rule id, unknown environment) with file:line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::error::{Diagnostic, Position};
use crate::model::environment::{EnvironmentDef, Environments, ResourceEnvironmentConfig};
use crate::{Error, Result};

/// The built-in default policy, shipped as `policies/default.yaml`.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.yaml");

/// A policy is a few KB; anything far larger is not one.
const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

/// The commented starter policy `plangate init` writes.
pub const STARTER_POLICY: &str = include_str!("../../policies/starter.yaml");

/// A rule's level: `deny` blocks, `warn` reports, `allow` silences.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    #[serde(default)]
    version: Option<Spanned<u32>>,
    #[serde(default)]
    environments: Option<BTreeMap<String, Spanned<RawEnvironment>>>,
    #[serde(default)]
    projects: Vec<Spanned<RawProjectMapping>>,
    #[serde(default)]
    resource_environment: Option<RawResourceEnvironment>,
    #[serde(default)]
    protected_resources: Vec<Spanned<RawProtectedResource>>,
    #[serde(default)]
    stateful_types: Vec<String>,
    #[serde(default)]
    rules: BTreeMap<String, Spanned<RuleSetting>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEnvironment {
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    protected: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawProjectMapping {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    dir: Option<Spanned<String>>,
    #[serde(default)]
    workspace: Option<String>,
    #[serde(default)]
    environment: Option<Spanned<String>>,
    #[serde(default)]
    protected: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawResourceEnvironment {
    #[serde(default)]
    tag_keys: Option<Vec<String>>,
    #[serde(default)]
    attributes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawProtectedResource {
    #[serde(default)]
    address: Option<Spanned<String>>,
    #[serde(default, rename = "type")]
    resource_type: Option<Spanned<String>>,
    #[serde(default)]
    attribute: Option<String>,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    identity: Option<Spanned<String>>,
    #[serde(default)]
    reason: Option<String>,
}

/// A rule's entry under `rules:`: either a bare level or a map of level and options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSetting {
    pub level: Option<Level>,
    pub options: RuleOptions,
}

/// Thresholds some rules take. Which rule accepts which option is checked in validation.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleOptions {
    #[serde(default)]
    pub level: Option<Level>,
    /// mass-deletion: block above this many deletes per project.
    #[serde(default)]
    pub max_deletes: Option<usize>,
    /// mass-deletion: block above this fraction of the resources the state holds.
    #[serde(default)]
    pub max_fraction: Option<f64>,
    /// mass-deletion: the fraction only applies when the state holds at least this many.
    #[serde(default)]
    pub min_state: Option<usize>,
    /// collection-collapse: the smallest collection that counts.
    #[serde(default)]
    pub min_instances: Option<usize>,
    /// collection-collapse: the share of instances deleted that counts as a collapse.
    #[serde(default)]
    pub min_fraction: Option<f64>,
    /// Per-environment overrides of the numeric options (stricter settings for production).
    #[serde(default)]
    pub environments: BTreeMap<String, RuleOptions>,
}

impl<'de> Deserialize<'de> for RuleSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SettingVisitor;
        impl<'de> Visitor<'de> for SettingVisitor {
            type Value = RuleSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a level (deny, warn, allow) or a map with `level` and options")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RuleSetting, E> {
                let level = match v {
                    "deny" => Level::Deny,
                    "warn" => Level::Warn,
                    "allow" => Level::Allow,
                    other => {
                        return Err(E::custom(format!(
                            "unknown level `{other}`, expected deny, warn or allow"
                        )))
                    }
                };
                Ok(RuleSetting {
                    level: Some(level),
                    options: RuleOptions::default(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RuleSetting, A::Error> {
                let options = RuleOptions::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RuleSetting {
                    level: options.level,
                    options,
                })
            }
        }
        deserializer.deserialize_any(SettingVisitor)
    }
}

/// How a project is tied to an environment by the policy. Every given matcher must match.
#[derive(Debug, Clone)]
pub struct ProjectMapping {
    pub name: Option<regex::Regex>,
    pub dir: Option<globset::GlobMatcher>,
    pub workspace: Option<String>,
    pub environment: Option<String>,
    pub protected: bool,
}

impl ProjectMapping {
    pub fn matches(&self, name: Option<&str>, dir: &str, workspace: &str) -> bool {
        let name_ok = match (&self.name, name) {
            (Some(re), Some(n)) => re.is_match(n),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let dir_ok = self
            .dir
            .as_ref()
            .is_none_or(|g| g.is_match(dir.trim_start_matches("./")));
        let ws_ok = self.workspace.as_ref().is_none_or(|w| w == workspace);
        name_ok && dir_ok && ws_ok
    }
}

/// One entry of `protected-resources`.
#[derive(Debug, Clone)]
pub enum ProtectedMatcher {
    /// A resource address glob (`module.db.aws_db_instance.*`).
    Address(globset::GlobMatcher),
    /// A resource type (glob) whose attribute has one of the values (globs).
    TypeAttribute {
        resource_type: globset::GlobMatcher,
        attribute: String,
        values: Vec<globset::GlobMatcher>,
    },
    /// A cloud identity (id, ARN, name, self_link) read from prior values (glob), so that
    /// protection follows the object when its block is renamed, moved or deleted.
    Identity(globset::GlobMatcher),
}

#[derive(Debug, Clone)]
pub struct ProtectedResource {
    pub matcher: ProtectedMatcher,
    /// The entry as written, shown in findings (`type kubernetes_namespace metadata.0.name=argocd`).
    pub description: String,
    pub reason: Option<String>,
}

/// Prior-value attributes that identify a cloud object whatever its Terraform address: what an
/// `identity:` entry is matched against.
pub const IDENTITY_ATTRIBUTES: [&str; 9] = [
    "arn",
    "id",
    "self_link",
    "name",
    "bucket",
    "identifier",
    "cluster_identifier",
    "cluster_name",
    "function_name",
];

impl ProtectedResource {
    /// The top-level prior-value attributes (`change.before`) matching this entry reads.
    pub fn prior_attributes(&self) -> Vec<&str> {
        match &self.matcher {
            ProtectedMatcher::Address(_) => Vec::new(),
            ProtectedMatcher::TypeAttribute { attribute, .. } => {
                let first = attribute.split('.').next().unwrap_or(attribute);
                // Objects inside a protected namespace are matched by their namespace.
                vec![first, "metadata", "namespace"]
            }
            ProtectedMatcher::Identity(_) => IDENTITY_ATTRIBUTES.to_vec(),
        }
    }
}

/// A validated policy: the built-in default with the user's file laid over it.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The user's file, if one was read.
    pub source: Option<PathBuf>,
    pub environments: Environments,
    pub projects: Vec<ProjectMapping>,
    pub resource_environment: ResourceEnvironmentConfig,
    pub protected_resources: Vec<ProtectedResource>,
    pub extra_stateful_types: Vec<String>,
    pub rules: BTreeMap<String, RuleSetting>,
}

impl Policy {
    /// The built-in default policy alone.
    pub fn builtin() -> Policy {
        // The default is shipped in the binary and covered by tests; failing here is a bug.
        Policy::from_layers(DEFAULT_POLICY, Path::new("policies/default.yaml"), None)
            .expect("the built-in policy is valid")
    }

    /// Read a user's policy file and lay it over the built-in default.
    pub fn load(path: &Path) -> Result<Policy> {
        let text = crate::input::read_text_file(path, MAX_POLICY_BYTES)?;
        let text = text.as_str();
        Policy::from_layers(
            DEFAULT_POLICY,
            Path::new("policies/default.yaml"),
            Some((text, path)),
        )
    }

    /// Parse a policy from text (the user's layer over the built-in default).
    pub fn parse(text: &str, path: &Path) -> Result<Policy> {
        Policy::from_layers(
            DEFAULT_POLICY,
            Path::new("policies/default.yaml"),
            Some((text, path)),
        )
    }

    fn from_layers(
        default: &str,
        default_path: &Path,
        user: Option<(&str, &Path)>,
    ) -> Result<Policy> {
        let base = parse_raw(default, default_path)?;
        let mut policy = Policy {
            source: None,
            environments: Environments { defs: Vec::new() },
            projects: Vec::new(),
            resource_environment: ResourceEnvironmentConfig {
                tag_keys: Vec::new(),
                attributes: Vec::new(),
            },
            protected_resources: Vec::new(),
            extra_stateful_types: Vec::new(),
            rules: BTreeMap::new(),
        };
        let mut diagnostics = Vec::new();
        policy.apply(base, default_path, &mut diagnostics);
        if let Some((text, path)) = user {
            if text.trim().is_empty() {
                return Err(Error::input(
                    path,
                    "is empty: remove it or run `plangate init`",
                ));
            }
            let raw = parse_raw(text, path)?;
            policy.source = Some(path.to_path_buf());
            policy.apply(raw, path, &mut diagnostics);
        }
        if diagnostics.is_empty() {
            Ok(policy)
        } else {
            Err(Error::Config(diagnostics))
        }
    }

    /// Lay one parsed layer over what is there: environments, tag keys and mappings given
    /// replace the previous ones; protected resources and stateful types add; rule settings
    /// merge per rule.
    fn apply(&mut self, raw: RawPolicy, path: &Path, diagnostics: &mut Vec<Diagnostic>) {
        let diag = |diagnostics: &mut Vec<Diagnostic>, at: Option<Position>, msg: String| {
            diagnostics.push(Diagnostic::new(path, at, msg))
        };
        if let Some(v) = &raw.version {
            if v.value != 1 {
                diag(
                    diagnostics,
                    Some(pos(&v.referenced)),
                    format!(
                        "version {} is not supported; this plangate reads policy version 1",
                        v.value
                    ),
                );
            }
        }
        if let Some(envs) = raw.environments {
            let mut defs = Vec::new();
            // Production first, then the declared order is not available from a map: keep
            // the built-in order for known names and append the rest alphabetically.
            for (name, env) in envs {
                let mut seen_words: Vec<&str> = Vec::new();
                for word in std::iter::once(name.as_str())
                    .chain(env.value.aliases.iter().map(String::as_str))
                {
                    if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphanumeric()) {
                        diag(diagnostics, Some(pos(&env.referenced)), format!("environment `{name}`: `{word}` must be a single word of letters and digits"));
                    }
                    seen_words.push(word);
                }
                defs.push(EnvironmentDef {
                    name: name.to_ascii_lowercase(),
                    aliases: env
                        .value
                        .aliases
                        .iter()
                        .map(|a| a.to_ascii_lowercase())
                        .collect(),
                    protected: env.value.protected,
                });
            }
            // One word may name only one environment.
            for (i, a) in defs.iter().enumerate() {
                for b in &defs[i + 1..] {
                    let words_a: Vec<&String> =
                        std::iter::once(&a.name).chain(&a.aliases).collect();
                    if let Some(w) = std::iter::once(&b.name)
                        .chain(&b.aliases)
                        .find(|w| words_a.contains(w))
                    {
                        diag(
                            diagnostics,
                            None,
                            format!("`{w}` names both environment `{}` and `{}`", a.name, b.name),
                        );
                    }
                }
            }
            self.environments = Environments { defs };
        }
        if !raw.projects.is_empty() {
            self.projects.clear();
        }
        for mapping in raw.projects {
            let at = Some(pos(&mapping.referenced));
            let m = mapping.value;
            let name = m.name.as_ref().and_then(|n| {
                let anchored = format!("^(?:{})$", n.value);
                regex::Regex::new(&anchored)
                    .map_err(|e| {
                        diag(
                            diagnostics,
                            Some(pos(&n.referenced)),
                            format!(
                                "projects: name `{}` is not a valid regex: {}",
                                n.value,
                                one_line(&e.to_string())
                            ),
                        )
                    })
                    .ok()
            });
            let dir = m.dir.as_ref().and_then(|d| {
                glob(&d.value)
                    .map_err(|e| {
                        diag(
                            diagnostics,
                            Some(pos(&d.referenced)),
                            format!("projects: dir `{}` is not a valid glob: {e}", d.value),
                        )
                    })
                    .ok()
            });
            if m.name.is_none() && m.dir.is_none() && m.workspace.is_none() {
                diag(
                    diagnostics,
                    at,
                    "projects: an entry needs at least one of name, dir, workspace".into(),
                );
            }
            if m.environment.is_none() && !m.protected {
                diag(
                    diagnostics,
                    at,
                    "projects: an entry needs `environment` or `protected: true`".into(),
                );
            }
            self.projects.push(ProjectMapping {
                name,
                dir,
                workspace: m.workspace,
                environment: m.environment.map(|e| e.value.to_ascii_lowercase()),
                protected: m.protected,
            });
            let _ = at;
        }
        if let Some(re) = raw.resource_environment {
            if let Some(keys) = re.tag_keys {
                self.resource_environment.tag_keys = keys;
            }
            if !re.attributes.is_empty() {
                self.resource_environment.attributes = re.attributes;
            }
        }
        for entry in raw.protected_resources {
            let at = Some(pos(&entry.referenced));
            match protected_matcher(entry.value) {
                Ok(p) => self.protected_resources.push(p),
                Err(msg) => diag(diagnostics, at, format!("protected-resources: {msg}")),
            }
        }
        self.extra_stateful_types.extend(raw.stateful_types);
        for (id, setting) in raw.rules {
            let at = Some(pos(&setting.referenced));
            match crate::rules::find(&id) {
                None => diag(
                    diagnostics,
                    at,
                    format!(
                        "rules: unknown rule id `{id}` (see `plangate rules`){}",
                        suggestion(&id)
                    ),
                ),
                Some(rule) => {
                    if let Err(msg) = check_options(rule.options(), &setting.value.options) {
                        diag(diagnostics, at, format!("rules: {id}: {msg}"));
                    }
                    let merged = self.rules.entry(id).or_default();
                    if setting.value.level.is_some() {
                        merged.level = setting.value.level;
                    }
                    merge_options(&mut merged.options, setting.value.options);
                }
            }
        }
        // Environment names used by mappings and rule overrides must exist.
        let known: Vec<String> = self
            .environments
            .defs
            .iter()
            .map(|d| d.name.clone())
            .collect();
        for mapping in &self.projects {
            if let Some(env) = &mapping.environment {
                if !known.contains(env) {
                    diag(diagnostics, None, format!("projects: environment `{env}` is not declared under environments (known: {})", known.join(", ")));
                }
            }
        }
    }

    /// The configured level of a rule, if the policy sets one.
    pub fn rule_level(&self, id: &str) -> Option<Level> {
        self.rules.get(id).and_then(|s| s.level)
    }

    /// A rule's options, with the environment's overrides applied.
    pub fn rule_options(&self, id: &str, environment: Option<&str>) -> RuleOptions {
        let Some(setting) = self.rules.get(id) else {
            return RuleOptions::default();
        };
        let mut options = setting.options.clone();
        if let Some(over) = environment.and_then(|e| setting.options.environments.get(e)) {
            merge_options(&mut options, over.clone());
        }
        options
    }
}

fn merge_options(into: &mut RuleOptions, from: RuleOptions) {
    if from.level.is_some() {
        into.level = from.level;
    }
    into.max_deletes = from.max_deletes.or(into.max_deletes);
    into.max_fraction = from.max_fraction.or(into.max_fraction);
    into.min_state = from.min_state.or(into.min_state);
    into.min_instances = from.min_instances.or(into.min_instances);
    into.min_fraction = from.min_fraction.or(into.min_fraction);
    for (env, o) in from.environments {
        merge_options(into.environments.entry(env).or_default(), o);
    }
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

fn protected_matcher(raw: RawProtectedResource) -> Result<ProtectedResource, String> {
    let reason = raw.reason.clone();
    let kinds = [
        raw.address.is_some(),
        raw.resource_type.is_some(),
        raw.identity.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if kinds != 1 {
        return Err("each entry needs exactly one of `address`, `type` (with `attribute` and `values`) or `identity`".into());
    }
    if let Some(address) = raw.address {
        return Ok(ProtectedResource {
            matcher: ProtectedMatcher::Address(glob(&address.value)?),
            description: format!("address {}", address.value),
            reason,
        });
    }
    if let Some(identity) = raw.identity {
        return Ok(ProtectedResource {
            matcher: ProtectedMatcher::Identity(glob(&identity.value)?),
            description: format!("identity {}", identity.value),
            reason,
        });
    }
    let resource_type = raw.resource_type.map(|t| t.value).unwrap_or_default();
    let attribute = raw.attribute.ok_or_else(|| {
        format!("type `{resource_type}` needs `attribute` (e.g. metadata.0.name) and `values`")
    })?;
    if raw.values.is_empty() {
        return Err(format!(
            "type `{resource_type}` needs a non-empty `values` list"
        ));
    }
    let values = raw
        .values
        .iter()
        .map(|v| glob(v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProtectedResource {
        description: format!(
            "type {resource_type} {attribute} in [{}]",
            raw.values.join(", ")
        ),
        matcher: ProtectedMatcher::TypeAttribute {
            resource_type: glob(&resource_type)?,
            attribute,
            values,
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

fn suggestion(id: &str) -> String {
    let best = crate::rules::all()
        .iter()
        .map(|r| (edit_distance(id, r.id()), r.id()))
        .min();
    match best {
        Some((d, name)) if d <= 3 => format!("; did you mean `{name}`?"),
        _ => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn pos(location: &serde_saphyr::Location) -> Position {
    Position {
        line: location.line() as usize,
        column: location.column() as usize,
    }
}

fn parse_raw(text: &str, path: &Path) -> Result<RawPolicy> {
    if text.trim().is_empty() {
        return Ok(RawPolicy::default());
    }
    crate::input::on_yaml_stack(|| {
        serde_saphyr::from_str_with_options::<RawPolicy>(text, yaml_options())
            .map_err(|e| Error::config(crate::input::atlantis::yaml_diagnostic(path, &e)))
    })
}

/// Limits for every YAML file plangate reads: small, hostile-input-proof budgets.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    let mut budget = options.budget.clone().unwrap_or_default();
    budget.max_aliases = 1_000;
    budget.max_depth = 32;
    budget.max_nodes = 1_000_000;
    options.budget = Some(budget);
    options
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy> {
        Policy::parse(text, Path::new("plangate.yaml"))
    }

    fn errors(text: &str) -> Vec<String> {
        match parse(text) {
            Err(Error::Config(d)) => d.iter().map(|d| d.to_string()).collect(),
            other => panic!("expected config errors, got {other:?}"),
        }
    }

    #[test]
    fn builtin_policy_is_valid_and_has_the_default_environments() {
        let p = Policy::builtin();
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
