//! The policy's data: environments, project mappings, where a resource's environment is read
//! from, protected resources, stateful types and per-rule settings. `input::policy` builds it
//! from `plangate.yaml` laid over the built-in default.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::model::approval::Approvers;
use crate::model::environment::{Environments, ResourceEnvironmentConfig};
use crate::model::level::Level;

/// What the policy reader is told about one rule: its id, its default level and the options it
/// accepts under `rules.<id>` besides `level`. The rules floor hands the reader the catalog of
/// them all, so the reader knows the ids without depending on the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSpec {
    pub id: &'static str,
    pub default_level: Level,
    pub options: &'static [&'static str],
}

/// A rule's entry under `rules:`: either a bare level or a map of level and options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSetting {
    pub level: Option<Level>,
    pub options: RuleOptions,
}

/// Thresholds some rules take. Which rule accepts which option is checked by the reader.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleOptions {
    pub level: Option<Level>,
    /// mass-deletion: block above this many deletes per project.
    pub max_deletes: Option<usize>,
    /// mass-deletion: block above this fraction of the resources the state holds.
    pub max_fraction: Option<f64>,
    /// mass-deletion: the fraction only applies when the state holds at least this many.
    pub min_state: Option<usize>,
    /// collection-collapse: the smallest collection that counts.
    pub min_instances: Option<usize>,
    /// collection-collapse: the share of instances deleted that counts as a collapse.
    pub min_fraction: Option<f64>,
    /// Per-environment overrides of the numeric options (stricter settings for production).
    pub environments: BTreeMap<String, RuleOptions>,
}

impl RuleOptions {
    /// A numeric option by its policy name (`max-deletes`).
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "max-deletes" => self.max_deletes.map(|v| v as f64),
            "max-fraction" => self.max_fraction,
            "min-state" => self.min_state.map(|v| v as f64),
            "min-instances" => self.min_instances.map(|v| v as f64),
            "min-fraction" => self.min_fraction,
            _ => None,
        }
    }

    /// Lay `from` over `self`: options it sets win, environment overrides merge per environment.
    pub fn merge(&mut self, from: RuleOptions) {
        if from.level.is_some() {
            self.level = from.level;
        }
        self.max_deletes = from.max_deletes.or(self.max_deletes);
        self.max_fraction = from.max_fraction.or(self.max_fraction);
        self.min_state = from.min_state.or(self.min_state);
        self.min_instances = from.min_instances.or(self.min_instances);
        self.min_fraction = from.min_fraction.or(self.min_fraction);
        for (env, o) in from.environments {
            self.environments.entry(env).or_default().merge(o);
        }
    }
}

/// How a project is tied to an environment by the policy. Every given matcher must match.
#[derive(Debug, Clone)]
pub struct ProjectMapping {
    /// The entry as written, for comparisons and messages (`name "payments-.*"`).
    pub description: String,
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

/// Where a Kubernetes object's namespace is in its prior values: objects inside a protected
/// namespace are matched by it.
pub const NAMESPACE_PATHS: [&[&str]; 2] = [&["metadata", "0", "namespace"], &["namespace"]];

impl ProtectedResource {
    /// The paths of the prior values (`change.before`) matching this entry reads.
    pub fn prior_paths(&self) -> Vec<Vec<&str>> {
        match &self.matcher {
            ProtectedMatcher::Address(_) => Vec::new(),
            ProtectedMatcher::TypeAttribute { attribute, .. } => {
                let mut paths = vec![attribute.split('.').collect()];
                paths.extend(NAMESPACE_PATHS.iter().map(|p| p.to_vec()));
                paths
            }
            ProtectedMatcher::Identity(_) => IDENTITY_ATTRIBUTES.iter().map(|a| vec![*a]).collect(),
        }
    }
}

/// A kind of relaxation a policy layer can make (DESIGN section 10). A trusted policy's
/// `repository-may:` names the kinds the repository's layer may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RelaxationKind {
    /// A rule's level lowered.
    RelaxRules,
    /// A numeric option moved in the permissive direction.
    RelaxThresholds,
    /// A protected resource, protected environment or project, or stateful type removed.
    RemoveProtections,
    /// Environments, aliases, project mappings or where a resource's environment is read from.
    ChangeEnvironments,
    /// What only the operator may grant (`repository-may:` itself): never allowed.
    Trust,
}

impl RelaxationKind {
    /// The words `repository-may:` takes.
    pub const GRANTABLE: [RelaxationKind; 4] = [
        RelaxationKind::RelaxRules,
        RelaxationKind::RelaxThresholds,
        RelaxationKind::RemoveProtections,
        RelaxationKind::ChangeEnvironments,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelaxationKind::RelaxRules => "relax-rules",
            RelaxationKind::RelaxThresholds => "relax-thresholds",
            RelaxationKind::RemoveProtections => "remove-protections",
            RelaxationKind::ChangeEnvironments => "change-environments",
            RelaxationKind::Trust => "trust",
        }
    }

    pub fn parse(word: &str) -> Option<RelaxationKind> {
        Self::GRANTABLE.into_iter().find(|k| k.as_str() == word)
    }
}

/// One way a policy is weaker than the one it is checked against:
/// `rules.cross-env-destroy: deny -> allow`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Relaxation {
    pub kind: RelaxationKind,
    pub what: String,
}

/// What plangate found out about where the policy in force came from: the relaxations the
/// repository's layer makes that nobody allowed, or why its base version could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyReview {
    /// The policy file the relaxations are in (the repository's `plangate.yaml`).
    pub file: Option<PathBuf>,
    /// What the file was compared with, for messages (`the trusted policy /etc/plangate.yaml`,
    /// `its version at the merge base with main (a1b2c3d4)`).
    pub against: String,
    pub relaxations: Vec<Relaxation>,
    /// Why the comparison could not be made, and how to make it possible.
    pub unverified: Option<String>,
    /// Why approvals are not read: `approvers:` in a policy that is not trusted.
    pub approvals_ignored: Option<String>,
}

/// A validated policy: the built-in default with the user's file laid over it.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The user's file, if one was read.
    pub source: Option<PathBuf>,
    /// What a repository layer may relax (`repository-may:`); only a trusted policy's counts.
    pub repository_may: Vec<RelaxationKind>,
    pub environments: Environments,
    pub projects: Vec<ProjectMapping>,
    pub resource_environment: ResourceEnvironmentConfig,
    pub protected_resources: Vec<ProtectedResource>,
    pub extra_stateful_types: Vec<String>,
    pub rules: BTreeMap<String, RuleSetting>,
    /// Who may approve a blocked plan (`approvers:`); only a trusted policy's count.
    pub approvers: Approvers,
}

impl Policy {
    /// A policy that knows nothing yet: the reader lays the built-in default over it first.
    pub fn empty() -> Policy {
        Policy {
            source: None,
            repository_may: Vec::new(),
            environments: Environments { defs: Vec::new() },
            projects: Vec::new(),
            resource_environment: ResourceEnvironmentConfig {
                tag_keys: Vec::new(),
                attributes: Vec::new(),
                read_accounts: false,
            },
            protected_resources: Vec::new(),
            extra_stateful_types: Vec::new(),
            rules: BTreeMap::new(),
            approvers: Approvers::default(),
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
            options.merge(over.clone());
        }
        options
    }
}
