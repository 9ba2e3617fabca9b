//! Projects (an Atlantis project, or the one project of a local run) with their environments,
//! and a project's plan prepared for the rules.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::model::atlantis::AtlantisProject;
use crate::model::change::ResourceChange;
use crate::model::environment::{
    lookup, sensitive_at, EnvironmentOrigin, ProjectEnvironment, ResourceEnvironment,
    WORKLOAD_ATTRIBUTES,
};
use crate::model::json_scan;
use crate::model::plan::Plan;
use crate::model::policy::Policy;
use crate::{Error, Position, Result};

/// One Terraform root module + workspace that a plan belongs to.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    /// The name as written in atlantis.yaml (`None` for unnamed projects).
    pub atlantis_name: Option<String>,
    pub dir: String,
    pub workspace: String,
    pub environment: ProjectEnvironment,
    /// Marked protected by the policy (by mapping or by its environment).
    pub protected: bool,
    /// Where the project is declared in atlantis.yaml, when it is.
    pub position: Option<Position>,
}

impl Project {
    /// Build a project and decide its environment: `--env`, then the policy's mapping, then
    /// inference from the name, dir and workspace.
    pub fn resolve(
        policy: &Policy,
        name: String,
        atlantis_name: Option<String>,
        dir: String,
        workspace: String,
        env_flag: Option<&str>,
    ) -> Project {
        let mapping = policy
            .projects
            .iter()
            .find(|m| m.matches(atlantis_name.as_deref().or(Some(&name)), &dir, &workspace));
        let environment = if let Some(env) = env_flag {
            let name = policy
                .environments
                .resolve_word(env)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| env.to_ascii_lowercase());
            ProjectEnvironment::Known {
                name,
                origin: EnvironmentOrigin::Flag,
            }
        } else if let Some(env) = mapping.and_then(|m| m.environment.clone()) {
            ProjectEnvironment::Known {
                name: env,
                origin: EnvironmentOrigin::Policy,
            }
        } else {
            ProjectEnvironment::infer(&policy.environments, Some(&name), &dir, &workspace)
        };
        let env_protected = environment
            .name()
            .and_then(|e| policy.environments.get(e))
            .is_some_and(|d| d.protected);
        Project {
            protected: mapping.is_some_and(|m| m.protected) || env_protected,
            name,
            atlantis_name,
            dir,
            workspace,
            environment,
            position: None,
        }
    }
}

impl Project {
    /// The project atlantis.yaml declares, with its environment resolved and its position kept.
    pub fn from_atlantis(
        policy: &Policy,
        declared: &AtlantisProject,
        env_flag: Option<&str>,
    ) -> Project {
        let mut project = Project::resolve(
            policy,
            declared.display_name(),
            declared.name.clone(),
            declared.dir.clone(),
            declared.workspace.clone(),
            env_flag,
        );
        project.position = Some(declared.position);
        project
    }
}

/// Prior-value attributes that, when `true`, make the provider refuse to delete the object.
pub const DELETION_PROTECTION: [&str; 3] = [
    "deletion_protection",
    "enable_deletion_protection",
    "deletion_protection_enabled",
];

/// A resource the plan destroys (delete or replace), with what the rules read of its prior
/// values.
#[derive(Debug)]
pub struct DestroyedResource {
    /// Index into the plan's `changes`.
    pub index: usize,
    /// What of `change.before` the rules read once the environment is known: the values at
    /// the paths the protected-resource entries name, and deletion protection. The environment
    /// is read first, from a wider pruning that is then dropped.
    pub kept: KeptValues,
    pub environment: Option<ResourceEnvironment>,
    /// `change.before_identity` as the provider wrote it (an object of strings), or `null`.
    pub identity: Value,
    /// What depends on it and survives the plan: in this plan, in the other plans of the run
    /// and in `--context` files (filled in once every input is read).
    pub dependents: Vec<crate::model::dependents::Dependent>,
    /// Resources of the run's other plans whose own identity (`id`, `arn`, `self_link`,
    /// identity values) is this resource's: one object in two states.
    pub shared: Vec<crate::model::dependents::Dependent>,
}

/// The prior values a destroyed resource keeps for the rules: the value at each path a
/// protected-resource entry names (and deletion protection) when it is a string, number or
/// boolean, what the rules compare, with whether `before_sensitive` marks it. A few entries,
/// not a tree: on a mass destroy every destroyed resource keeps its own.
#[derive(Debug, Clone, Default)]
pub struct KeptValues(Vec<KeptValue>);

#[derive(Debug, Clone)]
struct KeptValue {
    /// Dotted, as a policy writes it: `metadata.0.name`.
    path: Box<str>,
    value: Value,
    sensitive: bool,
}

impl KeptValues {
    /// Keep the values at `paths` of `before`; `sensitive` is the matching sensitivity tree.
    pub fn keep(paths: &[Vec<String>], before: &Value, sensitive: &Value) -> KeptValues {
        let mut kept = Vec::new();
        for path in paths {
            let steps: Vec<&str> = path.iter().map(String::as_str).collect();
            if let Some(value @ (Value::String(_) | Value::Bool(_) | Value::Number(_))) =
                lookup(before, &steps)
            {
                kept.push(KeptValue {
                    path: path.join(".").into(),
                    value: value.clone(),
                    sensitive: sensitive_at(sensitive, &steps),
                });
            }
        }
        KeptValues(kept)
    }

    /// The value at `path`, when it was kept.
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        self.find(path).map(|k| &k.value)
    }

    /// Whether the value at `path` is sensitive (by its own mark or an enclosing one).
    pub fn is_sensitive(&self, path: &[&str]) -> bool {
        self.find(path).is_some_and(|k| k.sensitive)
    }

    fn find(&self, path: &[&str]) -> Option<&KeptValue> {
        self.0
            .iter()
            .find(|k| k.path.split('.').eq(path.iter().copied()))
    }
}

/// The top-level prior-value attributes the rules read, decided once from the policy. A
/// destroyed resource's prior values are parsed for these only: the rest (often most of a
/// resource, on a mass destroy most of the plan) is skipped, never built into a tree.
#[derive(Debug, Clone)]
pub struct PriorAttributes {
    read: Names,
    /// Attributes only tested for presence: kept as `null`.
    present: Names,
    /// The paths kept in [`DestroyedResource::kept`] once the environment is read.
    kept: Vec<Vec<String>>,
}

/// A fixed set of attribute names, looked up by length first: a resource has tens of
/// attributes, every one is looked up, and most lengths hold one or two names of the set.
#[derive(Debug, Clone, Default)]
struct Names {
    by_len: Vec<Vec<String>>,
}

impl Names {
    fn contains(&self, name: &str) -> bool {
        self.by_len
            .get(name.len())
            .is_some_and(|names| names.iter().any(|n| n == name))
    }
}

impl FromIterator<String> for Names {
    fn from_iter<I: IntoIterator<Item = String>>(names: I) -> Names {
        let mut set = Names::default();
        for name in names {
            if set.contains(&name) {
                continue;
            }
            if set.by_len.len() <= name.len() {
                set.by_len.resize(name.len() + 1, Vec::new());
            }
            set.by_len[name.len()].push(name);
        }
        set
    }
}

/// The paths of the prior values the rules read once the environment is known: those the
/// protected-resource entries match on, and deletion protection.
fn kept_paths(policy: &Policy) -> Vec<Vec<String>> {
    let owned = |path: Vec<&str>| path.into_iter().map(str::to_string).collect::<Vec<_>>();
    let mut paths: BTreeSet<Vec<String>> = policy
        .protected_resources
        .iter()
        .flat_map(|p| p.prior_paths())
        .map(owned)
        .collect();
    paths.extend(DELETION_PROTECTION.iter().map(|a| owned(vec![a])));
    paths.into_iter().collect()
}

impl PriorAttributes {
    pub fn for_policy(policy: &Policy) -> PriorAttributes {
        let kept = kept_paths(policy);
        let mut read: BTreeSet<String> = policy
            .resource_environment
            .prior_attributes()
            .into_iter()
            .map(str::to_string)
            .collect();
        // What is kept once the environment is known is read too: its top-level attributes.
        read.extend(kept.iter().filter_map(|path| path.first().cloned()));
        let present = WORKLOAD_ATTRIBUTES
            .iter()
            .filter(|k| !read.contains(**k))
            .map(|k| k.to_string())
            .collect();
        PriorAttributes {
            read: read.into_iter().collect(),
            present,
            kept,
        }
    }

    /// Parse prior values (or their sensitivity marks) keeping only these attributes. A
    /// boolean (`true` marks a whole value sensitive) is kept; any other value that is not an
    /// object becomes `null`, which is what the rules make of it anyway: they look attributes
    /// up by name. The attributes no rule reads (often most of a resource, on a mass destroy
    /// most of the plan) are stepped over by [`json_scan`], never parsed.
    pub fn prune(&self, raw: &RawValue) -> serde_json::Result<Value> {
        let text = raw.get();
        let Some(entries) = json_scan::object_entries(text) else {
            return Ok(match text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::Null,
            });
        };
        let mut kept = serde_json::Map::new();
        for entry in entries {
            let (key, value) = entry.map_err(serde::de::Error::custom)?;
            if self.read.contains(key.as_ref()) {
                kept.insert(key.into_owned(), serde_json::from_str(value)?);
            } else if self.present.contains(key.as_ref()) {
                kept.insert(key.into_owned(), Value::Null);
            }
        }
        Ok(Value::Object(kept))
    }
}

/// Destroyed resources worth a thread of their own when their prior values are read.
const DESTROYED_PER_THREAD: usize = 2_000;

/// A project and its plan, as the rules see them.
#[derive(Debug)]
pub struct ProjectPlan<'a> {
    pub project: Project,
    pub plan: Plan<'a>,
    pub plan_path: PathBuf,
    pub plan_sha256: String,
    pub destroyed: Vec<DestroyedResource>,
    /// What the report should say about how the plan was checked (identities that were too
    /// short to search for in the other projects).
    pub notes: Vec<String>,
    /// Deletes (by index into the plan's changes) that another plan of the run creates again:
    /// moves between projects.
    pub moved_out: std::collections::BTreeMap<usize, MovedTo>,
}

/// Where a deleted object is created again: another project of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedTo {
    pub project: String,
    pub address: String,
    /// The attribute whose value both share (`bucket`, `name`, `id`).
    pub attribute: String,
}

impl<'a> ProjectPlan<'a> {
    /// Prepare a plan for the rules: read the prior values of every resource it destroys.
    /// Prior values that cannot be read fail the check (never a resource without them).
    pub fn new(
        project: Project,
        plan: Plan<'a>,
        plan_path: PathBuf,
        plan_sha256: String,
        policy: &Policy,
    ) -> Result<ProjectPlan<'a>> {
        let attributes = PriorAttributes::for_policy(policy);
        let read = |change: &ResourceChange<'_>, raw: Option<&RawValue>, field: &str| {
            raw.map(|raw| attributes.prune(raw))
                .transpose()
                .map_err(|e| {
                    Error::input(
                        &plan_path,
                        format!(
                            "has unreadable {field} for {}: {e}",
                            change.display_address()
                        ),
                    )
                })
        };
        let destroys =
            |change: &ResourceChange<'_>| change.is_managed() && change.action.destroys();
        let indexes: Vec<usize> = (0..plan.changes.len())
            .filter(|i| destroys(&plan.changes[*i]))
            .collect();
        let prepare = |index: &usize| -> Result<DestroyedResource> {
            let change = &plan.changes[*index];
            let before = read(change, change.before, "change.before")?.unwrap_or(Value::Null);
            let before_sensitive =
                read(change, change.before_sensitive, "change.before_sensitive")?;
            let environment = policy.resource_environment.detect(
                &policy.environments,
                &before,
                before_sensitive.as_ref(),
            );
            let kept = KeptValues::keep(
                &attributes.kept,
                &before,
                before_sensitive.as_ref().unwrap_or(&Value::Null),
            );
            let identity = match change.before_identity {
                Some(raw) => serde_json::from_str(raw.get()).map_err(|e| {
                    Error::input(
                        &plan_path,
                        format!(
                            "has unreadable change.before_identity for {}: {e}",
                            change.display_address()
                        ),
                    )
                })?,
                None => Value::Null,
            };
            Ok(DestroyedResource {
                index: *index,
                kept,
                environment,
                identity,
                dependents: Vec::new(),
                shared: Vec::new(),
            })
        };
        // On a mass destroy this is most of the work after parsing, and the resources share
        // nothing: they are read on every core.
        let threads = crate::parallel::threads_for(indexes.len(), DESTROYED_PER_THREAD);
        let destroyed = crate::parallel::try_map(&indexes, threads, prepare)?;
        Ok(ProjectPlan {
            project,
            plan,
            plan_path,
            plan_sha256,
            destroyed,
            notes: Vec::new(),
            moved_out: Default::default(),
        })
    }

    pub fn change(&self, destroyed: &DestroyedResource) -> &ResourceChange<'a> {
        &self.plan.changes[destroyed.index]
    }

    pub fn destroys_anything(&self) -> bool {
        !self.destroyed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::input::plan::PlanSource;

    fn raw(value: &Value) -> Box<RawValue> {
        RawValue::from_string(value.to_string()).unwrap()
    }

    fn policy(yaml: &str) -> Policy {
        crate::pipeline::parse_policy(yaml, Path::new("policy.yaml")).unwrap()
    }

    #[test]
    fn pruning_keeps_what_the_rules_read_and_only_that() {
        let configured = policy(
            "resource-environment:\n  attributes: [settings.0.env]\nprotected-resources:\n  - type: aws_db_instance\n    attribute: engine_version\n    values: [\"14*\"]\n",
        );
        let attributes = PriorAttributes::for_policy(&configured);
        let before = json!({
            "tags": {"env": "prod"}, "name": "db", "arn": "arn:aws:rds:x",
            "settings": [{"env": "prod"}], "engine_version": "14.2",
            "password": "hunter2", "spec": [{"replicas": 3}], "huge": [["x", 1], {"deep": [true]}],
        });
        let pruned = attributes.prune(&raw(&before)).unwrap();
        assert_eq!(
            pruned,
            json!({
                "tags": {"env": "prod"}, "name": "db",
                "settings": [{"env": "prod"}], "engine_version": "14.2", "spec": null,
            })
        );
        // Sensitivity marks: a whole value marked `true`, or a tree pruned like the value.
        assert_eq!(attributes.prune(&raw(&json!(true))).unwrap(), json!(true));
        assert_eq!(
            attributes
                .prune(&raw(&json!({"password": true, "tags": {"env": true}})))
                .unwrap(),
            json!({"tags": {"env": true}})
        );
        assert_eq!(attributes.prune(&raw(&json!(null))).unwrap(), json!(null));
        assert_eq!(
            attributes.prune(&raw(&json!(["tags"]))).unwrap(),
            json!(null)
        );
        // `arn` is read only when an identity is protected.
        let identity = policy("protected-resources:\n  - identity: \"arn:aws:rds:*\"\n");
        let pruned = PriorAttributes::for_policy(&identity)
            .prune(&raw(&before))
            .unwrap();
        assert_eq!(pruned["arn"], json!("arn:aws:rds:x"));
    }

    #[test]
    fn a_destroyed_resource_keeps_the_values_at_the_protected_paths_and_their_marks() {
        let configured = policy(
            "protected-resources:\n  - type: kubernetes_namespace\n    attribute: metadata.0.name\n    values: [prod]\n  - identity: \"arn:aws:rds:*\"\n",
        );
        let paths = kept_paths(&configured);
        let before = json!({
            "metadata": [{"name": "prod", "namespace": "ops", "labels": {"team": "a"}}],
            "arn": "arn:aws:rds:x", "deletion_protection": true, "tags": {"env": "prod"},
            "id": {"not": "a scalar"},
        });
        let sensitive = json!({"metadata": [{"name": true}], "arn": false});
        let kept = KeptValues::keep(&paths, &before, &sensitive);
        assert_eq!(kept.get(&["metadata", "0", "name"]), Some(&json!("prod")));
        assert!(kept.is_sensitive(&["metadata", "0", "name"]));
        assert_eq!(
            kept.get(&["metadata", "0", "namespace"]),
            Some(&json!("ops"))
        );
        assert!(!kept.is_sensitive(&["metadata", "0", "namespace"]));
        assert_eq!(kept.get(&["arn"]), Some(&json!("arn:aws:rds:x")));
        assert_eq!(kept.get(&["deletion_protection"]), Some(&json!(true)));
        // Not a path the rules read, or not a value they compare.
        assert_eq!(kept.get(&["tags"]), None);
        assert_eq!(kept.get(&["metadata", "0", "labels"]), None);
        assert_eq!(kept.get(&["id"]), None);
        assert_eq!(kept.0.len(), 4);
        // A whole value marked sensitive marks everything kept of it.
        let all = KeptValues::keep(&paths, &before, &json!(true));
        assert!(all.is_sensitive(&["arn"]));
    }

    /// What pruning keeps, worked out from the whole parsed value.
    fn keep_by_parsing(attributes: &PriorAttributes, whole: &Value) -> Value {
        match whole {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter_map(|(k, v)| {
                        if attributes.read.contains(k) {
                            Some((k.clone(), v.clone()))
                        } else {
                            attributes
                                .present
                                .contains(k)
                                .then(|| (k.clone(), Value::Null))
                        }
                    })
                    .collect(),
            ),
            Value::Bool(b) => Value::Bool(*b),
            _ => Value::Null,
        }
    }

    /// On every plan at hand (fixtures, and the shared corpus when present), a destroyed
    /// resource's pruned prior values are what parsing them whole and keeping the attributes
    /// gives, and the environment read from them is the one read from all of them.
    #[test]
    fn pruned_prior_values_give_the_same_environment_as_whole_ones() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![
            root.join("tests/fixtures/plans"),
            root.join("../shared/corpus/plans"),
        ];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    files.push(path);
                }
            }
        }
        let policy = crate::pipeline::builtin_policy();
        let attributes = PriorAttributes::for_policy(&policy);
        let detect = |before: &Value, sensitive: Option<&Value>| {
            policy
                .resource_environment
                .detect(&policy.environments, before, sensitive)
                .map(|e| (e.environment, e.evidence))
        };
        let mut compared = 0;
        for file in &files {
            let Ok(source) = PlanSource::read(file) else {
                continue;
            };
            let Ok(plan) = source.parse() else { continue };
            for change in &plan.changes {
                let Some(before) = change.before else {
                    continue;
                };
                let whole: Value = serde_json::from_str(before.get()).unwrap();
                let whole_sensitive: Option<Value> = change
                    .before_sensitive
                    .map(|s| serde_json::from_str(s.get()).unwrap());
                let pruned = attributes.prune(before).unwrap();
                assert_eq!(
                    pruned,
                    keep_by_parsing(&attributes, &whole),
                    "{}",
                    change.address
                );
                let pruned_sensitive = change
                    .before_sensitive
                    .map(|s| attributes.prune(s).unwrap());
                assert_eq!(
                    detect(&pruned, pruned_sensitive.as_ref()),
                    detect(&whole, whole_sensitive.as_ref()),
                    "{} in {}",
                    change.address,
                    file.display()
                );
                compared += 1;
            }
        }
        // The fixtures alone hold about 60 such resources; with the shared corpus, hundreds.
        let corpus = root.join("../shared/corpus/plans").is_dir();
        if !corpus {
            eprintln!("note: ../shared/corpus is not there; compared the fixtures only");
        }
        let least = if corpus { 100 } else { 40 };
        assert!(compared > least, "only {compared} resources compared");
    }
}
