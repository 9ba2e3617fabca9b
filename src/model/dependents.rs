//! The blast radius of a destroy: what depends on a resource the plan deletes or replaces.
//! Here are the words ([`Dependent`], [`Via`], the configuration's [`ConfigEdge`]s) and the
//! matching of configuration addresses (`module.net.aws_subnet.private`, no instance keys) to
//! the resource instances of a plan (`module.net["a"].aws_subnet.private[2]`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::model::change::{Action, ResourceChange};
use crate::model::plan::Plan;

/// How a dependent was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Via {
    /// One of its configuration expressions references the resource (directly, or through
    /// module inputs, module outputs and data sources).
    #[serde(rename = "reference")]
    Reference,
    /// Its configuration's `depends_on` (or its module call's) names the resource.
    #[serde(rename = "depends_on")]
    DependsOn,
    /// Its prior state records the dependency: the only trace left when a block was removed.
    #[serde(rename = "prior_state depends_on")]
    PriorStateDependsOn,
    /// Its prior values, in another project's plan or state, hold one of the resource's
    /// identities (`id`, `arn`, `self_link`, identity values).
    #[serde(rename = "identity")]
    Identity,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Reference => "reference",
            Via::DependsOn => "depends_on",
            Via::PriorStateDependsOn => "prior_state depends_on",
            Via::Identity => "identity",
        }
    }
}

/// A resource instance that depends on a destroyed one and survives the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Dependent {
    /// The project it belongs to: a project of the run, or the name of a `--context` file.
    pub project: String,
    pub address: String,
    pub via: Via,
    /// For [`Via::Identity`]: which identity of the destroyed resource it holds (`id`, `arn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The dependent's own environment, when it is known and differs from its project's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// What a module segment's instance key must be for an edge to reach an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyReq {
    /// Any instance of the module.
    Any,
    /// The dependent's own key at this depth (both sit in one module instance).
    Same,
    /// This key (`"a"`, `0`), as written between the brackets.
    Exact(String),
}

/// One edge of the configuration's dependency graph: `dependent` (a managed resource's
/// configuration address) depends on `dependency` (another one's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEdge {
    pub dependent: String,
    pub dependency: String,
    /// One requirement per module segment of `dependency`.
    pub module_keys: Vec<KeyReq>,
    /// The dependency's own instance keys the expression names (`aws_subnet.private[0]`);
    /// `None`: every instance.
    pub resource_keys: Option<BTreeSet<String>>,
    pub via: Via,
}

/// A prior-state resource instance and the configuration addresses its state says it depends
/// on (`depends_on` of `prior_state`).
#[derive(Debug, Clone)]
pub struct StateDependency<'a> {
    pub address: std::borrow::Cow<'a, str>,
    pub depends_on: Vec<std::borrow::Cow<'a, str>>,
}

/// A resource instance address taken apart: its module path with keys, and its own key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceAddress {
    /// `(module name, key)` from the root down.
    pub modules: Vec<(String, Option<String>)>,
    /// `aws_subnet.private` or `data.aws_ami.x`.
    pub resource: String,
    pub key: Option<String>,
}

impl InstanceAddress {
    /// `None` for text that is not a resource address.
    pub fn parse(address: &str) -> Option<InstanceAddress> {
        let tokens = split_tokens(address);
        let mut modules = Vec::new();
        let mut i = 0;
        while tokens.get(i) == Some(&"module") {
            let (name, key) = split_key(tokens.get(i + 1)?);
            modules.push((name.to_string(), key.map(str::to_string)));
            i += 2;
        }
        let rest = &tokens[i..];
        let (resource, last) = match rest {
            ["data", kind, name] => (format!("data.{kind}"), *name),
            [kind, name] => (kind.to_string(), *name),
            _ => return None,
        };
        let (name, key) = split_key(last);
        Some(InstanceAddress {
            modules,
            resource: format!("{resource}.{name}"),
            key: key.map(str::to_string),
        })
    }

    /// The configuration address: the same without instance keys.
    pub fn config_address(&self) -> String {
        let mut out = String::new();
        for (name, _) in &self.modules {
            out.push_str("module.");
            out.push_str(name);
            out.push('.');
        }
        out.push_str(&self.resource);
        out
    }
}

/// Split an address or a reference at the dots that are not inside an instance key.
pub fn split_tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if depth > 0 => in_string = true,
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// `private[0]` -> (`private`, `Some("0")`); `net["a"]` -> (`net`, `Some("\"a\"")`).
pub fn split_key(token: &str) -> (&str, Option<&str>) {
    match token.find('[') {
        Some(open) if token.ends_with(']') => {
            (&token[..open], Some(&token[open + 1..token.len() - 1]))
        }
        _ => (token, None),
    }
}

impl ConfigEdge {
    /// Whether this edge makes `dependent` (an instance of `self.dependent`) depend on
    /// `destroyed` (an instance of `self.dependency`).
    pub fn reaches(&self, dependent: &InstanceAddress, destroyed: &InstanceAddress) -> bool {
        let keys_ok = self.module_keys.iter().enumerate().all(|(depth, req)| {
            let key = destroyed.modules.get(depth).and_then(|m| m.1.as_deref());
            match req {
                KeyReq::Any => true,
                KeyReq::Same => key == dependent.modules.get(depth).and_then(|m| m.1.as_deref()),
                KeyReq::Exact(want) => key == Some(want.as_str()),
            }
        });
        keys_ok
            && self
                .resource_keys
                .as_ref()
                .is_none_or(|keys| destroyed.key.as_deref().is_some_and(|k| keys.contains(k)))
    }
}

/// Whether `change` still exists after the plan: neither deleted nor dropped from state.
fn survives(change: &ResourceChange<'_>) -> bool {
    change.is_managed()
        && change.deposed.is_none()
        && !matches!(change.action, Action::Delete | Action::Forget)
}

/// The dependents inside one plan of each destroyed resource (by index into `plan.changes`):
/// configuration edges first, then the prior state's `depends_on` where the configuration
/// says nothing about the pair. Sorted, without duplicates.
pub fn in_plan(
    project: &str,
    plan: &Plan<'_>,
    edges: &[ConfigEdge],
    destroyed: &[usize],
) -> BTreeMap<usize, Vec<Dependent>> {
    let mut out = BTreeMap::new();
    if edges.is_empty() && plan.prior_depends_on.is_empty() {
        return out;
    }
    // Every managed instance's address is taken apart once: a mass destroy asks for each.
    let parsed: Vec<Option<InstanceAddress>> = plan
        .changes
        .iter()
        .map(|c| {
            c.is_managed()
                .then(|| InstanceAddress::parse(&c.address))
                .flatten()
        })
        .collect();
    let configs: Vec<Option<String>> = parsed
        .iter()
        .map(|p| p.as_ref().map(InstanceAddress::config_address))
        .collect();
    let mut by_config: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, config) in configs.iter().enumerate() {
        if let Some(config) = config {
            by_config.entry(config).or_default().push(i);
        }
    }
    let mut by_dependency: HashMap<&str, Vec<&ConfigEdge>> = HashMap::new();
    let mut known_pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
    for e in edges {
        by_dependency.entry(&e.dependency).or_default().push(e);
        known_pairs.insert((&e.dependent, &e.dependency));
    }
    let state = StateIndex::new(plan, known_pairs);
    for &index in destroyed {
        let (Some(gone), Some(config)) = (&parsed[index], &configs[index]) else {
            continue;
        };
        let mut found: BTreeMap<String, Via> = BTreeMap::new();
        for edge in by_dependency.get(config.as_str()).into_iter().flatten() {
            for &j in by_config.get(edge.dependent.as_str()).into_iter().flatten() {
                let Some(candidate) = &parsed[j] else {
                    continue;
                };
                if j != index && survives(&plan.changes[j]) && edge.reaches(candidate, gone) {
                    let via = found
                        .entry(plan.changes[j].address.to_string())
                        .or_insert(edge.via);
                    *via = (*via).min(edge.via);
                }
            }
        }
        for address in state.dependents(config, gone) {
            found.entry(address).or_insert(Via::PriorStateDependsOn);
        }
        found.remove(plan.changes[index].address.as_ref());
        if !found.is_empty() {
            let list = found
                .into_iter()
                .map(|(address, via)| Dependent {
                    project: project.to_string(),
                    address,
                    via,
                    identity: None,
                    environment: None,
                })
                .collect();
            out.insert(index, list);
        }
    }
    out
}

/// The prior state's `depends_on`, indexed by what is depended on, with each instance's
/// address taken apart once.
struct StateIndex<'p> {
    /// Configuration address depended on -> (instance address, index into `parsed`) of each
    /// instance that records it.
    by_dependency: HashMap<&'p str, Vec<(&'p str, usize)>>,
    /// Each instance's address taken apart, with its configuration address.
    parsed: Vec<Option<(InstanceAddress, String)>>,
    /// Instances the plan deletes or forgets (not deposed objects).
    gone: BTreeSet<&'p str>,
    known_pairs: BTreeSet<(&'p str, &'p str)>,
}

impl<'p> StateIndex<'p> {
    fn new(plan: &'p Plan<'_>, known_pairs: BTreeSet<(&'p str, &'p str)>) -> StateIndex<'p> {
        let mut by_dependency: HashMap<&str, Vec<(&str, usize)>> = HashMap::new();
        let mut parsed = Vec::with_capacity(plan.prior_depends_on.len());
        for (i, state) in plan.prior_depends_on.iter().enumerate() {
            let mut seen = BTreeSet::new();
            for dependency in &state.depends_on {
                if seen.insert(dependency.as_ref()) {
                    by_dependency
                        .entry(dependency.as_ref())
                        .or_default()
                        .push((state.address.as_ref(), i));
                }
            }
            parsed.push(InstanceAddress::parse(&state.address).map(|a| {
                let config = a.config_address();
                (a, config)
            }));
        }
        let gone = if plan.prior_depends_on.is_empty() {
            BTreeSet::new()
        } else {
            plan.changes
                .iter()
                .filter(|c| c.deposed.is_none() && !survives(c))
                .map(|c| c.address.as_ref())
                .collect()
        };
        StateIndex {
            by_dependency,
            parsed,
            gone,
            known_pairs,
        }
    }

    /// The instances whose prior state records a dependency on `config` (the configuration
    /// address of the destroyed instance `gone`) that the configuration does not already
    /// decide.
    fn dependents(&self, config: &str, gone: &InstanceAddress) -> Vec<String> {
        let mut out = Vec::new();
        for &(address, i) in self.by_dependency.get(config).into_iter().flatten() {
            if self.gone.contains(address) {
                continue;
            }
            let Some((candidate, dependent)) = &self.parsed[i] else {
                continue;
            };
            if self.known_pairs.contains(&(dependent.as_str(), config))
                || !same_module_instances(candidate, gone)
            {
                continue;
            }
            out.push(address.to_string());
        }
        out
    }
}

/// Two instances whose configuration shares module calls sit in one instance of each shared
/// call: what a state dependency, which names no keys, can mean.
fn same_module_instances(a: &InstanceAddress, b: &InstanceAddress) -> bool {
    a.modules
        .iter()
        .zip(&b.modules)
        .take_while(|(x, y)| x.0 == y.0)
        .all(|(x, y)| x.1 == y.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses_come_apart_at_the_right_dots() {
        let a =
            InstanceAddress::parse(r#"module.net["a.b"].module.x[0].aws_subnet.private["k.]"]"#)
                .unwrap();
        assert_eq!(
            a.modules,
            [
                ("net".to_string(), Some("\"a.b\"".to_string())),
                ("x".to_string(), Some("0".to_string()))
            ]
        );
        assert_eq!(a.resource, "aws_subnet.private");
        assert_eq!(a.key.as_deref(), Some("\"k.]\""));
        assert_eq!(a.config_address(), "module.net.module.x.aws_subnet.private");
        let d = InstanceAddress::parse("data.aws_ami.x").unwrap();
        assert_eq!(d.config_address(), "data.aws_ami.x");
        assert_eq!(InstanceAddress::parse("var.x.y.z"), None);
    }

    #[test]
    fn an_edge_reaches_only_the_instances_it_names() {
        let edge = ConfigEdge {
            dependent: "module.net.aws_route.r".into(),
            dependency: "module.net.aws_subnet.s".into(),
            module_keys: vec![KeyReq::Same],
            resource_keys: Some(["0".to_string()].into()),
            via: Via::Reference,
        };
        let p = |s: &str| InstanceAddress::parse(s).unwrap();
        assert!(edge.reaches(
            &p(r#"module.net["a"].aws_route.r"#),
            &p(r#"module.net["a"].aws_subnet.s[0]"#)
        ));
        assert!(!edge.reaches(
            &p(r#"module.net["a"].aws_route.r"#),
            &p(r#"module.net["b"].aws_subnet.s[0]"#)
        ));
        assert!(!edge.reaches(
            &p(r#"module.net["a"].aws_route.r"#),
            &p(r#"module.net["a"].aws_subnet.s[1]"#)
        ));
    }
}
