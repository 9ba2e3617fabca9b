//! Environments: their names, aliases and cloud accounts, which environment a project deploys
//! to, and which environment an existing resource belongs to (read from its prior values).

use std::fmt;

use serde_json::Value;

use crate::model::account::{account_in_values, ACCOUNT_ATTRIBUTES};

/// One environment with the words that name it (`production`: prod, prd, live).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentDef {
    pub name: String,
    pub aliases: Vec<String>,
    /// Every project in a protected environment is protected (protected-project-destroy).
    pub protected: bool,
    /// Cloud accounts that belong to it: AWS account IDs, GCP project IDs, Azure subscription
    /// IDs, Kubernetes cluster or context names (DESIGN 13a). A resource found in one of them
    /// belongs to this environment, whatever its tags say.
    pub accounts: Vec<String>,
}

/// The environments a policy knows, in the order they were declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environments {
    pub defs: Vec<EnvironmentDef>,
}

impl Environments {
    /// The environment a single word names, case-insensitively (`PRD` -> production).
    pub fn resolve_word(&self, word: &str) -> Option<&EnvironmentDef> {
        let w = word.to_ascii_lowercase();
        self.defs.iter().find(|d| {
            d.name.eq_ignore_ascii_case(&w) || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(&w))
        })
    }

    /// `production (prod, prd, live), staging (stage, stg), ...` for messages.
    pub fn describe(&self) -> String {
        self.defs
            .iter()
            .map(|d| {
                if d.aliases.is_empty() {
                    d.name.clone()
                } else {
                    format!("{} ({})", d.name, d.aliases.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn get(&self, name: &str) -> Option<&EnvironmentDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// The environment that lists an account, compared without regard to case (subscription
    /// GUIDs are written both ways). An EKS context is the cluster's ARN: its AWS account
    /// counts when the context itself is not listed.
    pub fn account_environment(&self, account: &str) -> Option<&EnvironmentDef> {
        let listed = |id: &str| {
            self.defs
                .iter()
                .find(|d| d.accounts.iter().any(|a| a.eq_ignore_ascii_case(id)))
        };
        listed(account).or_else(|| crate::model::account::arn_account(account).and_then(listed))
    }

    /// Whether any environment lists accounts: without them, no account is a signal.
    pub fn has_accounts(&self) -> bool {
        self.defs.iter().any(|d| !d.accounts.is_empty())
    }

    /// Every listed account with its environment's name, in declaration order.
    pub fn accounts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.defs.iter().flat_map(|d| {
            d.accounts
                .iter()
                .map(move |a| (a.as_str(), d.name.as_str()))
        })
    }

    /// Environments named by the tokens of a free-form string (`rosey-dev`, `envs/stg/eks`,
    /// `prod2`). A prefix word (`pre`, `non`) belongs to the word after it: `pre-prod` is the
    /// word `preprod` (staging in the built-in policy), `non-prod` the word `nonprod` (none),
    /// never production.
    pub fn in_tokens(&self, text: &str) -> Vec<(String, &EnvironmentDef)> {
        let mut found: Vec<(String, &EnvironmentDef)> = Vec::new();
        let tokens: Vec<&str> = tokens(text).collect();
        let mut i = 0;
        while i < tokens.len() {
            let mut token = tokens[i].to_string();
            if PREFIX_WORDS.iter().any(|p| token.eq_ignore_ascii_case(p)) && i + 1 < tokens.len() {
                token.push_str(tokens[i + 1]);
                i += 1;
            }
            i += 1;
            let def = self.resolve_word(&token).or_else(|| {
                let trimmed = token.trim_end_matches(|c: char| c.is_ascii_digit());
                (!trimmed.is_empty() && trimmed != token)
                    .then(|| self.resolve_word(trimmed))
                    .flatten()
            });
            if let Some(def) = def {
                if !found.iter().any(|(_, d)| d.name == def.name) {
                    found.push((token, def));
                }
            }
        }
        found
    }

    /// The environment a tag/label value names: the whole value first (`production`), then its
    /// tokens when they name exactly one environment (`prod-eu-1`). A value naming no known
    /// environment is still an environment (`env=perf`), compared by its lower-cased text.
    pub fn classify_value(&self, value: &str) -> Option<String> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        if let Some(def) = self.resolve_word(value) {
            return Some(def.name.clone());
        }
        let found = self.in_tokens(value);
        if found.len() == 1 {
            return Some(found[0].1.name.clone());
        }
        Some(value.to_ascii_lowercase())
    }
}

/// Words that change the meaning of the word after them: read together with it.
const PREFIX_WORDS: [&str; 2] = ["pre", "non"];

fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
}

/// Where a project's environment signal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SignalSource {
    Name,
    Dir,
    Workspace,
}

impl fmt::Display for SignalSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignalSource::Name => "name",
            SignalSource::Dir => "dir",
            SignalSource::Workspace => "workspace",
        })
    }
}

/// One hint at a project's environment: `dir` token `stg` means `staging`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentSignal {
    pub source: SignalSource,
    pub token: String,
    pub environment: String,
}

impl fmt::Display for EnvironmentSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} says {} ({})",
            self.source, self.environment, self.token
        )
    }
}

/// How a project's environment was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvironmentOrigin {
    /// `--env` on the command line.
    Flag,
    /// The policy's explicit project mapping.
    Policy,
    /// Tokens of the project's name, dir or workspace.
    Inferred(Vec<EnvironmentSignal>),
}

/// The environment a project deploys to, or why it is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectEnvironment {
    Known {
        name: String,
        origin: EnvironmentOrigin,
    },
    /// The name, dir and workspace point at different environments: a finding, not a guess.
    Conflicting(Vec<EnvironmentSignal>),
    Unknown,
}

impl ProjectEnvironment {
    pub fn name(&self) -> Option<&str> {
        match self {
            ProjectEnvironment::Known { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Infer from the project's name, dir segments and workspace.
    pub fn infer(envs: &Environments, name: Option<&str>, dir: &str, workspace: &str) -> Self {
        let mut signals = Vec::new();
        let mut add = |source: SignalSource, text: &str| {
            for (token, def) in envs.in_tokens(text) {
                signals.push(EnvironmentSignal {
                    source,
                    token,
                    environment: def.name.clone(),
                });
            }
        };
        if let Some(name) = name {
            add(SignalSource::Name, name);
        }
        add(SignalSource::Dir, dir);
        if workspace != crate::model::atlantis::DEFAULT_WORKSPACE {
            add(SignalSource::Workspace, workspace);
        }
        match signals.first() {
            None => ProjectEnvironment::Unknown,
            Some(first) => {
                if signals.iter().all(|s| s.environment == first.environment) {
                    ProjectEnvironment::Known {
                        name: first.environment.clone(),
                        origin: EnvironmentOrigin::Inferred(signals),
                    }
                } else {
                    ProjectEnvironment::Conflicting(signals)
                }
            }
        }
    }
}

/// How much a resource's environment signal can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SignalStrength {
    /// A token in the resource's name: enough to warn, never to block.
    Weak,
    /// An account the policy lists, a tag, label, configured attribute or namespace.
    Strong,
}

/// The environment an existing resource belongs to, and the evidence shown to people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceEnvironment {
    pub environment: String,
    pub strength: SignalStrength,
    /// `account 111122223333 in its arn`, `tag env=dev`, `namespace dev`, `name token prod`;
    /// sensitive values are never included.
    pub evidence: String,
    /// Other strong signals that name other environments (`tag env=prod` beside
    /// `tag Environment=dev`): an `env-conflict`, and every reading is checked.
    pub conflicts: Vec<ResourceEnvironment>,
}

impl ResourceEnvironment {
    /// Every reading of the resource's environment, the first one first.
    pub fn readings(&self) -> impl Iterator<Item = &ResourceEnvironment> {
        std::iter::once(self).chain(&self.conflicts)
    }

    /// Read from the account the resource lives in (an account the policy lists).
    pub fn from_account(&self) -> bool {
        self.evidence.starts_with(ACCOUNT_EVIDENCE)
    }
}

/// Which prior-value attributes say what environment a resource belongs to.
#[derive(Debug, Clone)]
pub struct ResourceEnvironmentConfig {
    /// Tag/label keys (`env`, `environment`, `Environment`, `Env`, `stage` by default).
    pub tag_keys: Vec<String>,
    /// Extra attribute paths (`labels.team_env`, `metadata.0.annotations.env`).
    pub attributes: Vec<String>,
    /// Whether a resource's account attributes are read: only when an environment of the
    /// policy lists accounts (the policy reader sets it from `environments`).
    pub read_accounts: bool,
}

/// Maps of tags and labels, in the order they are read. Providers repeat `tags` in
/// `tags_all` and `labels` in `effective_labels`/`terraform_labels` (GCP's provider default
/// labels), so a key marked sensitive in one is sensitive in its siblings too.
const TAG_MAPS: [&str; 5] = [
    "tags_all",
    "tags",
    "labels",
    "effective_labels",
    "terraform_labels",
];
const TAG_FAMILIES: [&[&str]; 2] = [
    &["tags", "tags_all"],
    &["labels", "effective_labels", "terraform_labels"],
];

/// Where `kubernetes_manifest` keeps its object (`manifest` as configured, `object` as read).
const MANIFEST_ATTRIBUTES: [&str; 2] = ["manifest", "object"];
const NAME_ATTRIBUTES: [&str; 7] = [
    "name",
    "bucket",
    "identifier",
    "cluster_name",
    "cluster_identifier",
    "function_name",
    "db_name",
];

/// Attributes whose presence alone (not their value) tells a Kubernetes namespace from a
/// workload.
pub const WORKLOAD_ATTRIBUTES: [&str; 4] = ["spec", "data", "binary_data", "rule"];

impl ResourceEnvironmentConfig {
    /// The top-level prior-value attributes whose values [`Self::detect`] reads (it also checks
    /// whether [`WORKLOAD_ATTRIBUTES`] are present).
    pub fn prior_attributes(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = TAG_MAPS.to_vec();
        if self.read_accounts {
            keys.extend(ACCOUNT_ATTRIBUTES);
        }
        keys.extend(["metadata", "namespace"]);
        keys.extend(MANIFEST_ATTRIBUTES);
        keys.extend(NAME_ATTRIBUTES);
        keys.extend(
            self.attributes
                .iter()
                .map(|a| a.split('.').next().unwrap_or(a)),
        );
        keys
    }

    /// Read a resource's environment from its prior values (`before`), strongest signal first:
    /// the account it lives in when the policy lists it, then tags and labels, configured
    /// attributes, a namespace, and last (weak) a name token. Every strong signal that names
    /// another environment than the first is kept as a conflict. `sensitive` is the matching
    /// `before_sensitive` tree: a value marked there is used to decide but never shown (and an
    /// account marked there is not read at all).
    pub fn detect(
        &self,
        envs: &Environments,
        before: &Value,
        sensitive: Option<&Value>,
    ) -> Option<ResourceEnvironment> {
        let mut tagged = self.label_signals(envs, before, sensitive);
        if tagged.is_empty() {
            tagged.extend(self.attribute_signal(envs, before, sensitive));
        }
        if tagged.is_empty() {
            tagged.extend(namespace_signal(envs, before, sensitive));
        }
        let account = account_signal(envs, before, sensitive);
        let mut readings = account.into_iter().chain(tagged);
        let Some(mut first) = readings.next() else {
            return name_signal(envs, before, sensitive);
        };
        for other in readings {
            let known = first.readings().any(|r| r.environment == other.environment);
            if !known {
                first.conflicts.push(other);
            }
        }
        Some(first)
    }

    /// First: tags and labels under the configured keys (matched whatever their case), then
    /// Kubernetes labels (`metadata[*].labels`, a manifest's `metadata.labels`); every one
    /// that names an environment, in reading order.
    fn label_signals(
        &self,
        envs: &Environments,
        before: &Value,
        sensitive: Option<&Value>,
    ) -> Vec<ResourceEnvironment> {
        let mut found = Vec::new();
        for map_name in TAG_MAPS {
            found.extend(self.tag_signals(envs, before, sensitive, &[map_name], map_name));
        }
        for (i, _) in array_items(before.get("metadata")).enumerate() {
            let idx = i.to_string();
            let path = ["metadata", idx.as_str(), "labels"];
            found.extend(self.tag_signals(envs, before, sensitive, &path, "label"));
        }
        for manifest in MANIFEST_ATTRIBUTES {
            let path = [manifest, "metadata", "labels"];
            found.extend(self.tag_signals(envs, before, sensitive, &path, "label"));
        }
        found
    }

    /// 2. Configured attribute paths.
    fn attribute_signal(
        &self,
        envs: &Environments,
        before: &Value,
        sensitive: Option<&Value>,
    ) -> Option<ResourceEnvironment> {
        for attr in &self.attributes {
            let path: Vec<&str> = attr.split('.').collect();
            if let Some(value) = lookup(before, &path).and_then(Value::as_str) {
                let mark = lookup_opt(sensitive, &path);
                if let Some(env) = named_environment(envs, value, mark) {
                    let shown = shown_value(value, mark);
                    return Some(strong(env, format!("{attr}={shown}")));
                }
            }
        }
        None
    }

    fn tag_signals(
        &self,
        envs: &Environments,
        before: &Value,
        sensitive: Option<&Value>,
        path: &[&str],
        label: &str,
    ) -> Vec<ResourceEnvironment> {
        // `tags` is a list of network tags on google_compute_instance: only maps count.
        let Some(map) = lookup(before, path).and_then(Value::as_object) else {
            return Vec::new();
        };
        let label = match label {
            "tags_all" => "tag",
            "effective_labels" | "terraform_labels" => "label",
            other => other.trim_end_matches('s'),
        };
        let mut found = Vec::new();
        for wanted in &self.tag_keys {
            for (key, value) in map.iter().filter(|(k, _)| k.eq_ignore_ascii_case(wanted)) {
                let Some(value) = value.as_str() else {
                    continue;
                };
                let mark = tag_mark(sensitive, path, key);
                let Some(env) = named_environment(envs, value, mark) else {
                    continue;
                };
                let shown = shown_value(value, mark);
                let key = crate::text::printable(key);
                if !found
                    .iter()
                    .any(|f: &ResourceEnvironment| f.environment == env)
                {
                    found.push(strong(env, format!("{label} {key}={shown}")));
                }
            }
        }
        found
    }
}

/// The sensitivity mark of a tag: its own, or that of the same key in a sibling map (a
/// sensitive `tags` entry stays sensitive when the provider repeats it in `tags_all`).
fn tag_mark<'v>(sensitive: Option<&'v Value>, path: &[&str], key: &str) -> Option<&'v Value> {
    let mut key_path: Vec<&str> = path.to_vec();
    key_path.push(key);
    let own = lookup_opt(sensitive, &key_path);
    if is_sensitive(own) || path.len() != 1 {
        return own;
    }
    let family = TAG_FAMILIES.iter().find(|f| f.contains(&path[0]));
    family
        .into_iter()
        .flat_map(|f| f.iter())
        .map(|sibling| lookup_opt(sensitive, &[sibling, key]))
        .find(|m| is_sensitive(*m))
        .unwrap_or(own)
}

const ACCOUNT_EVIDENCE: &str = "account ";

/// 0. The account the resource lives in, when an environment of the policy lists it.
///
/// It says where the object is, whatever its tags say.
fn account_signal(
    envs: &Environments,
    before: &Value,
    sensitive: Option<&Value>,
) -> Option<ResourceEnvironment> {
    if !envs.has_accounts() {
        return None;
    }
    let account = account_in_values(before, sensitive)?;
    let def = envs.account_environment(&account.id)?;
    Some(strong(
        def.name.clone(),
        format!(
            "{ACCOUNT_EVIDENCE}{} in its {}",
            crate::text::printable(&account.id),
            account.source
        ),
    ))
}

fn strong(environment: String, evidence: String) -> ResourceEnvironment {
    ResourceEnvironment {
        environment,
        strength: SignalStrength::Strong,
        evidence,
        conflicts: Vec::new(),
    }
}

/// 3. A Kubernetes namespace named after an environment.
fn namespace_signal(
    envs: &Environments,
    before: &Value,
    sensitive: Option<&Value>,
) -> Option<ResourceEnvironment> {
    let namespace_paths: [&[&str]; 5] = [
        &["metadata", "0", "namespace"],
        &["namespace"],
        &["manifest", "metadata", "namespace"],
        &["object", "metadata", "namespace"],
        &["metadata", "0", "name"],
    ];
    for (i, path) in namespace_paths.iter().enumerate() {
        // A namespace's own name only counts for namespace resources; elsewhere
        // `metadata.0.name` is just a name.
        if i == 4 && before.get("metadata").is_some() && !looks_like_namespace(before) {
            continue;
        }
        let Some(value) = lookup(before, path).and_then(Value::as_str) else {
            continue;
        };
        // Like a tag value: the whole name (`prod`), else its one environment word
        // (`payments-prod`); a namespace that names none (`apps`) is no signal.
        let found = envs.in_tokens(value);
        let def = envs
            .resolve_word(value)
            .or_else(|| (found.len() == 1).then(|| found[0].1));
        if let Some(def) = def {
            let shown = shown_value(value, lookup_opt(sensitive, path));
            return Some(strong(def.name.clone(), format!("namespace {shown}")));
        }
    }
    None
}

/// 4. Weak: one environment token in the resource's name or identifier.
fn name_signal(
    envs: &Environments,
    before: &Value,
    sensitive: Option<&Value>,
) -> Option<ResourceEnvironment> {
    let mut names: Vec<(Vec<&str>, &str)> = NAME_ATTRIBUTES
        .iter()
        .filter_map(|a| {
            before
                .get(*a)
                .and_then(Value::as_str)
                .map(|v| (vec![*a], v))
        })
        .collect();
    if let Some(v) = lookup(before, &["metadata", "0", "name"]).and_then(Value::as_str) {
        names.push((vec!["metadata", "0", "name"], v));
    }
    for (path, value) in names {
        let found = envs.in_tokens(value);
        if found.len() == 1 {
            let shown = if is_sensitive(lookup_opt(sensitive, &path)) {
                "(sensitive)".to_string()
            } else {
                format!("{} in {}", found[0].0, path.join("."))
            };
            return Some(ResourceEnvironment {
                environment: found[0].1.name.clone(),
                strength: SignalStrength::Weak,
                evidence: format!("name token {shown}"),
                conflicts: Vec::new(),
            });
        }
    }
    None
}

fn looks_like_namespace(before: &Value) -> bool {
    // A namespace's prior values hold metadata but no spec/data of a workload.
    before.get("metadata").is_some()
        && !WORKLOAD_ATTRIBUTES.iter().any(|k| before.get(*k).is_some())
}

fn array_items(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

/// Follow a dotted path through objects and arrays (`metadata.0.labels`).
pub fn lookup<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut current = value;
    for step in path {
        current = match current {
            Value::Object(map) => map.get(*step)?,
            Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn lookup_opt<'v>(value: Option<&'v Value>, path: &[&str]) -> Option<&'v Value> {
    value.and_then(|v| lookup_sensitive(v, path))
}

/// `before_sensitive` mirrors the value's shape, but a whole subtree may be marked `true`.
fn lookup_sensitive<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut current = value;
    for step in path {
        if current == &Value::Bool(true) {
            return Some(current);
        }
        current = match current {
            Value::Object(map) => map.get(*step)?,
            Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Whether the value at `path` of the prior values is sensitive, by its own mark or that of a
/// value enclosing it (`before_sensitive` marks a whole subtree with `true`).
pub fn sensitive_at(sensitive: &Value, path: &[&str]) -> bool {
    is_sensitive(lookup_opt(Some(sensitive), path))
}

fn is_sensitive(mark: Option<&Value>) -> bool {
    mark == Some(&Value::Bool(true))
}

/// The environment a tag or attribute value names. A value that names no declared environment
/// is an environment of its own, named by its text; when that text is sensitive it is named
/// `(sensitive)`: still different from every project's environment, never printed.
fn named_environment(envs: &Environments, value: &str, mark: Option<&Value>) -> Option<String> {
    let env = envs.classify_value(value)?;
    if is_sensitive(mark) && envs.get(&env).is_none() {
        return Some("(sensitive)".to_string());
    }
    Some(env)
}

fn shown_value(value: &str, mark: Option<&Value>) -> String {
    if is_sensitive(mark) {
        "(sensitive)".to_string()
    } else {
        crate::text::printable(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn defaults() -> Environments {
        let def = |name: &str, aliases: &[&str]| EnvironmentDef {
            name: name.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            protected: false,
            accounts: Vec::new(),
        };
        Environments {
            defs: vec![
                def("production", &["prod", "prd", "live"]),
                def("staging", &["stage", "stg", "preprod", "preproduction"]),
                def("development", &["dev"]),
                def("test", &["testing", "qa"]),
                def("sandbox", &["sbx"]),
            ],
        }
    }

    fn detect(before: Value, sensitive: Option<Value>) -> Option<ResourceEnvironment> {
        config().detect(&defaults(), &before, sensitive.as_ref())
    }

    #[test]
    fn tag_keys_match_whatever_their_case() {
        for key in ["ENV", "Stage", "ENVIRONMENT", "env"] {
            let found = detect(json!({"tags": {key: "prod"}}), None).unwrap();
            assert_eq!(found.environment, "production", "{key}");
        }
    }

    #[test]
    fn disagreeing_tags_are_a_conflict_judged_by_each_reading() {
        let found = detect(json!({"tags": {"env": "prod", "Environment": "dev"}}), None).unwrap();
        let readings: Vec<&str> = found.readings().map(|r| r.environment.as_str()).collect();
        assert_eq!(readings.len(), 2, "{found:?}");
        assert!(readings.contains(&"production") && readings.contains(&"development"));
        // The same environment twice (tags and tags_all) is no conflict.
        let same = detect(
            json!({"tags": {"env": "dev"}, "tags_all": {"env": "dev"}}),
            None,
        )
        .unwrap();
        assert!(same.conflicts.is_empty());
    }

    #[test]
    fn gcp_provider_default_labels_count() {
        for map in ["effective_labels", "terraform_labels"] {
            let found = detect(json!({map: {"env": "prod"}}), None).unwrap();
            assert_eq!(found.environment, "production", "{map}");
            assert_eq!(found.evidence, "label env=prod");
        }
    }

    #[test]
    fn a_sensitive_tag_stays_sensitive_where_the_provider_repeats_it() {
        let before =
            json!({"tags": {"env": "tenant-secret"}, "tags_all": {"env": "tenant-secret"}});
        let sensitive = json!({"tags": {"env": true}, "tags_all": {}});
        let found = detect(before, Some(sensitive)).unwrap();
        assert_eq!(found.evidence, "tag env=(sensitive)");
        assert!(!format!("{found:?}").contains("tenant-secret"));
        let labels = json!({"labels": {"env": "s3cr3t"}, "effective_labels": {"env": "s3cr3t"}});
        let marks = json!({"labels": true});
        let found = detect(labels, Some(marks)).unwrap();
        assert!(!format!("{found:?}").contains("s3cr3t"), "{found:?}");
    }

    #[test]
    fn manifest_namespaces_and_namespace_words() {
        let manifest =
            json!({"manifest": {"metadata": {"name": "cfg", "namespace": "payments-prod"}}});
        let found = detect(manifest, None).unwrap();
        assert_eq!(found.environment, "production");
        assert_eq!(found.evidence, "namespace payments-prod");
        let object = json!({"object": {"metadata": {"namespace": "dev"}}});
        assert_eq!(detect(object, None).unwrap().environment, "development");
        let plain = json!({"metadata": [{"name": "x", "namespace": "apps"}], "spec": []});
        assert_eq!(detect(plain, None), None);
        let labelled = json!({"manifest": {"metadata": {"labels": {"env": "stg"}}}});
        assert_eq!(detect(labelled, None).unwrap().environment, "staging");
    }

    #[test]
    fn pre_prod_is_not_production() {
        let envs = defaults();
        for word in ["pre-prod", "preprod", "pre-production", "PreProd"] {
            let found = envs.in_tokens(&format!("app-{word}"));
            let names: Vec<&str> = found.iter().map(|(_, d)| d.name.as_str()).collect();
            assert_eq!(names, ["staging"], "{word}");
            assert_eq!(
                envs.classify_value(word).as_deref(),
                Some("staging"),
                "{word}"
            );
        }
        assert!(envs.in_tokens("app-non-prod").is_empty());
        assert_eq!(
            ProjectEnvironment::infer(&envs, Some("orders-pre-prod"), ".", "default").name(),
            Some("staging")
        );
    }

    fn config() -> ResourceEnvironmentConfig {
        ResourceEnvironmentConfig {
            tag_keys: ["env", "environment", "Environment", "Env", "stage"]
                .map(String::from)
                .to_vec(),
            attributes: vec!["labels.team_env".into()],
            read_accounts: true,
        }
    }

    #[test]
    fn project_environment_from_tokens() {
        let envs = defaults();
        let p = ProjectEnvironment::infer(&envs, None, "envs/stg/eks", "default");
        assert_eq!(p.name(), Some("staging"));
        let p = ProjectEnvironment::infer(&envs, Some("rosey-dev"), ".", "default");
        assert_eq!(p.name(), Some("development"));
        let p = ProjectEnvironment::infer(&envs, Some("platform-prod2"), "infra", "default");
        assert_eq!(p.name(), Some("production"));
    }

    #[test]
    fn disagreeing_signals_are_a_conflict_not_a_guess() {
        let envs = defaults();
        let p = ProjectEnvironment::infer(&envs, Some("app-staging"), "envs/dev/app", "default");
        assert!(
            matches!(p, ProjectEnvironment::Conflicting(ref s) if s.len() == 2),
            "{p:?}"
        );
    }

    #[test]
    fn non_prod_is_not_production() {
        let envs = defaults();
        assert_eq!(
            ProjectEnvironment::infer(&envs, Some("non-prod"), ".", "default"),
            ProjectEnvironment::Unknown
        );
        assert_eq!(
            ProjectEnvironment::infer(&envs, Some("shared"), "infra/network", "default"),
            ProjectEnvironment::Unknown
        );
    }

    #[test]
    fn resource_environment_from_tags_first() {
        let envs = defaults();
        let before = json!({"name": "prod-db", "tags": {"env": "dev"}, "tags_all": {"env": "dev", "team": "x"}});
        let found = config().detect(&envs, &before, None).unwrap();
        assert_eq!(found.environment, "development");
        assert_eq!(found.strength, SignalStrength::Strong);
        assert_eq!(found.evidence, "tag env=dev");
    }

    #[test]
    fn google_network_tags_list_is_not_an_error() {
        let envs = defaults();
        let before = json!({"name": "web-stg-1", "tags": ["http-server", "prod"]});
        let found = config().detect(&envs, &before, None).unwrap();
        assert_eq!(found.strength, SignalStrength::Weak);
        assert_eq!(found.environment, "staging");
    }

    #[test]
    fn kubernetes_labels_and_namespaces() {
        let envs = defaults();
        let cm =
            json!({"metadata": [{"name": "cfg", "namespace": "prod", "labels": {}}], "data": {}});
        let found = config().detect(&envs, &cm, None).unwrap();
        assert_eq!(
            (found.environment.as_str(), found.evidence.as_str()),
            ("production", "namespace prod")
        );
        let labelled = json!({"metadata": [{"name": "x", "namespace": "apps", "labels": {"environment": "staging"}}], "spec": []});
        assert_eq!(
            config().detect(&envs, &labelled, None).unwrap().environment,
            "staging"
        );
        let ns = json!({"metadata": [{"name": "production", "labels": {}}]});
        assert_eq!(
            config().detect(&envs, &ns, None).unwrap().environment,
            "production"
        );
    }

    #[test]
    fn configured_attribute_paths_count() {
        let envs = defaults();
        let before = json!({"labels": {"team_env": "qa"}});
        assert_eq!(
            config().detect(&envs, &before, None).unwrap().environment,
            "test"
        );
    }

    #[test]
    fn sensitive_values_decide_but_are_never_shown() {
        let envs = defaults();
        let before = json!({"tags": {"env": "dev"}});
        let sensitive = json!({"tags": true});
        let found = config().detect(&envs, &before, Some(&sensitive)).unwrap();
        assert_eq!(found.environment, "development");
        assert_eq!(found.evidence, "tag env=(sensitive)");
    }

    #[test]
    fn a_sensitive_unknown_tag_value_is_not_used_as_a_name() {
        let envs = defaults();
        let before = json!({"tags": {"env": "tenant-x-secret"}});
        let sensitive = json!({"tags": {"env": true}});
        let found = config().detect(&envs, &before, Some(&sensitive)).unwrap();
        assert_eq!(found.environment, "(sensitive)");
        assert_eq!(found.evidence, "tag env=(sensitive)");
        // A sensitive value naming a declared environment still says which one.
        let before = json!({"tags": {"env": "prd"}});
        assert_eq!(
            config()
                .detect(&envs, &before, Some(&sensitive))
                .unwrap()
                .environment,
            "production"
        );
    }

    #[test]
    fn unknown_tag_values_still_name_an_environment() {
        let envs = defaults();
        let before = json!({"tags": {"env": "Perf"}});
        assert_eq!(
            config().detect(&envs, &before, None).unwrap().environment,
            "perf"
        );
        let before = json!({"tags": {"env": "prod-eu-1"}});
        assert_eq!(
            config().detect(&envs, &before, None).unwrap().environment,
            "production"
        );
    }

    fn with_accounts() -> Environments {
        let mut envs = defaults();
        for (env, account) in [
            ("production", "111122223333"),
            ("production", "orders-prod"),
            ("staging", "444455556666"),
            ("development", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"),
        ] {
            let def = envs.defs.iter_mut().find(|d| d.name == env).unwrap();
            def.accounts.push(account.into());
        }
        envs
    }

    #[test]
    fn an_untagged_resource_in_a_listed_account_belongs_to_its_environment() {
        let envs = with_accounts();
        let db =
            json!({"arn": "arn:aws:rds:eu-west-1:111122223333:db:orders", "identifier": "orders"});
        let found = config().detect(&envs, &db, None).unwrap();
        assert_eq!(found.environment, "production");
        assert_eq!(found.strength, SignalStrength::Strong);
        assert_eq!(found.evidence, "account 111122223333 in its arn");
        // A name token does not weaken it, nor is it a conflict.
        let named = json!({"owner_id": "444455556666", "name": "orders-prod-vpc"});
        let found = config().detect(&envs, &named, None).unwrap();
        assert_eq!(
            (found.environment.as_str(), found.conflicts.len()),
            ("staging", 0)
        );
        let rg =
            json!({"id": "/subscriptions/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/resourceGroups/x"});
        assert_eq!(
            config().detect(&envs, &rg, None).unwrap().environment,
            "development"
        );
        let disk = json!({"self_link": "https://www.googleapis.com/compute/v1/projects/orders-prod/zones/z/disks/d"});
        assert_eq!(
            config().detect(&envs, &disk, None).unwrap().evidence,
            "account orders-prod in its self_link"
        );
    }

    #[test]
    fn a_tag_that_disagrees_with_the_account_is_a_conflict() {
        let envs = with_accounts();
        let db = json!({"arn": "arn:aws:rds:eu-west-1:111122223333:db:orders", "tags": {"env": "staging"}});
        let found = config().detect(&envs, &db, None).unwrap();
        let readings: Vec<(&str, &str)> = found
            .readings()
            .map(|r| (r.environment.as_str(), r.evidence.as_str()))
            .collect();
        assert_eq!(
            readings,
            [
                ("production", "account 111122223333 in its arn"),
                ("staging", "tag env=staging")
            ]
        );
        // A namespace is read behind the account too.
        let cm = json!({"metadata": [{"name": "x", "namespace": "dev"}], "data": {}, "id": "arn:aws:x:r:444455556666:y"});
        let found = config().detect(&envs, &cm, None).unwrap();
        assert_eq!(found.environment, "staging");
        assert_eq!(found.conflicts[0].environment, "development");
        // The same environment twice is one reading.
        let agreeing = json!({"owner_id": "444455556666", "tags": {"env": "stg"}});
        assert!(config()
            .detect(&envs, &agreeing, None)
            .unwrap()
            .conflicts
            .is_empty());
    }

    #[test]
    fn accounts_the_policy_does_not_list_and_sensitive_ones_say_nothing() {
        let envs = with_accounts();
        let unlisted = json!({"arn": "arn:aws:iam::999999999999:role/x", "tags": {"env": "dev"}});
        let found = config().detect(&envs, &unlisted, None).unwrap();
        assert_eq!(
            (found.environment.as_str(), found.evidence.as_str()),
            ("development", "tag env=dev")
        );
        let hidden = json!({"arn": "arn:aws:iam::111122223333:role/x"});
        let marks = json!({"arn": true});
        assert_eq!(config().detect(&envs, &hidden, Some(&marks)), None);
        assert_eq!(config().detect(&envs, &hidden, Some(&json!(true))), None);
        // Without any listed account the signal is never looked for.
        assert_eq!(config().detect(&defaults(), &hidden, None), None);
    }

    #[test]
    fn eks_contexts_are_matched_by_their_account() {
        let envs = with_accounts();
        let context = "arn:aws:eks:eu-west-1:111122223333:cluster/orders";
        assert_eq!(
            envs.account_environment(context).map(|d| d.name.as_str()),
            Some("production")
        );
        assert_eq!(
            envs.account_environment("ORDERS-PROD")
                .map(|d| d.name.as_str()),
            Some("production")
        );
        assert!(envs.account_environment("999999999999").is_none());
    }

    #[test]
    fn no_signal_is_none() {
        let envs = defaults();
        assert!(config()
            .detect(&envs, &json!({"id": "i-123"}), None)
            .is_none());
    }
}
