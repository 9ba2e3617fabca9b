//! The plan's `configuration.root_module`, read for what depends on what: resources'
//! `expressions` (their `references` at any depth), module call inputs feeding module
//! variables, module outputs, data sources in between, and `depends_on`. Parsed into borrowed
//! structs, and only for a plan that destroys something; constant values are skipped unread.
//! Locals are not in the plan's JSON: a dependency through a local is found in the prior
//! state's `depends_on` instead.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::dependents::{split_key, split_tokens, ConfigEdge, KeyReq, Via};

#[derive(Deserialize, Default)]
struct Module<'a> {
    #[serde(borrow, default)]
    resources: Vec<Resource<'a>>,
    #[serde(borrow, default)]
    module_calls: BTreeMap<Cow<'a, str>, ModuleCall<'a>>,
    #[serde(borrow, default)]
    outputs: BTreeMap<Cow<'a, str>, Output<'a>>,
}

#[derive(Deserialize)]
struct Resource<'a> {
    #[serde(borrow, default)]
    address: Cow<'a, str>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    expressions: RefLists<'a>,
    #[serde(borrow, default)]
    count_expression: RefLists<'a>,
    #[serde(borrow, default)]
    for_each_expression: RefLists<'a>,
    #[serde(borrow, default)]
    depends_on: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ModuleCall<'a> {
    #[serde(borrow, default)]
    expressions: BTreeMap<Cow<'a, str>, RefLists<'a>>,
    #[serde(borrow, default)]
    module: Option<Module<'a>>,
    #[serde(borrow, default)]
    depends_on: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Output<'a> {
    #[serde(borrow, default)]
    expression: RefLists<'a>,
}

impl Module<'_> {
    fn managed(&self) -> impl Iterator<Item = &Resource<'_>> {
        self.resources
            .iter()
            .filter(|r| r.mode.as_deref() != Some("data"))
    }

    fn managed_count(&self) -> usize {
        self.managed().count()
            + self
                .module_calls
                .values()
                .filter_map(|c| c.module.as_ref())
                .map(Module::managed_count)
                .sum::<usize>()
    }
}

/// How many managed resources the configuration declares, its modules' included.
pub fn managed_count(root: &RawValue) -> serde_json::Result<usize> {
    let module: Module<'_> = serde_json::from_str(root.get())?;
    Ok(module.managed_count())
}

/// The dependency edges between the managed resources of a configuration.
pub fn edges(root: &RawValue) -> serde_json::Result<Vec<ConfigEdge>> {
    let module: Module<'_> = serde_json::from_str(root.get())?;
    let mut modules = BTreeMap::new();
    index(&module, Vec::new(), &mut modules);
    let mut resolver = Resolver {
        modules: &modules,
        edges: Vec::new(),
        steps: 0,
    };
    for (path, module) in &modules {
        for resource in module.managed() {
            resolver.resource(path, resource);
        }
    }
    let mut seen = BTreeSet::new();
    let mut edges = resolver.edges;
    edges.retain(|e| {
        seen.insert(format!(
            "{}|{}|{:?}|{:?}|{:?}",
            e.dependent, e.dependency, e.module_keys, e.resource_keys, e.via
        ))
    });
    Ok(edges)
}

type Path<'m> = Vec<&'m str>;

fn index<'m, 'a>(
    module: &'m Module<'a>,
    path: Path<'m>,
    out: &mut BTreeMap<Path<'m>, &'m Module<'a>>,
) {
    for (name, call) in &module.module_calls {
        if let Some(child) = &call.module {
            let mut child_path = path.clone();
            child_path.push(name.as_ref());
            index(child, child_path, out);
        }
    }
    out.insert(path, module);
}

fn prefix(path: &[&str]) -> String {
    path.iter().map(|m| format!("module.{m}.")).collect()
}

/// Resolution stops after this many steps: a configuration that needs more is pathological,
/// and what was found so far is kept.
const MAX_STEPS: usize = 2_000_000;
/// How deep module inputs, outputs and data sources are followed.
const MAX_DEPTH: usize = 32;

struct Resolver<'r, 'm, 'a> {
    modules: &'r BTreeMap<Path<'m>, &'m Module<'a>>,
    edges: Vec<ConfigEdge>,
    steps: usize,
}

/// What one `references` list names, by kind.
#[derive(Default)]
struct Named<'t> {
    /// Resource (`aws_vpc.main`, `data.aws_ami.x`) -> (whole resource named, instance keys).
    resources: BTreeMap<String, (bool, BTreeSet<String>)>,
    variables: BTreeSet<&'t str>,
    /// (module call, key) -> outputs named (`None`: the whole module object).
    modules: BTreeMap<(&'t str, Option<&'t str>), BTreeSet<Option<&'t str>>>,
}

fn named<'t>(refs: &'t [Cow<'_, str>]) -> Named<'t> {
    let mut out = Named::default();
    let mut bare: BTreeMap<String, usize> = BTreeMap::new();
    let mut keyed: BTreeMap<String, usize> = BTreeMap::new();
    for r in refs {
        let tokens = split_tokens(r);
        match tokens.as_slice() {
            ["var", name, ..] => {
                out.variables.insert(split_key(name).0);
            }
            ["module", call, rest @ ..] => {
                let (call, key) = split_key(call);
                let output = rest.first().map(|o| split_key(o).0);
                out.modules.entry((call, key)).or_default().insert(output);
            }
            ["local" | "count" | "each" | "path" | "terraform" | "self" | "ephemeral", ..] => {}
            _ => {
                let base = if tokens.first() == Some(&"data") {
                    3
                } else {
                    2
                };
                let Some(last) = tokens.get(base - 1) else {
                    continue;
                };
                let (name, key) = split_key(last);
                let address = format!("{}.{name}", tokens[..base - 1].join("."));
                let entry = out.resources.entry(address.clone()).or_default();
                match (tokens.len() == base, key) {
                    (true, Some(k)) => {
                        entry.1.insert(k.to_string());
                        *keyed.entry(address).or_default() += 1;
                    }
                    (true, None) => *bare.entry(address).or_default() += 1,
                    // An attribute of one instance, without the entries Terraform adds for it.
                    (false, Some(k)) => {
                        entry.1.insert(k.to_string());
                    }
                    (false, None) => entry.0 = true,
                }
            }
        }
    }
    // Terraform lists `X[0].id`, `X[0]` and `X` for one indexed reference: a bare `X` beyond
    // those names the whole resource (`X[*].id`, `X.id`).
    for (address, (whole, keys)) in &mut out.resources {
        let b = bare.get(address).copied().unwrap_or(0);
        let k = keyed.get(address).copied().unwrap_or(0);
        if b > k || keys.is_empty() {
            *whole = true;
        }
    }
    // A module output named implies the module object Terraform lists beside it.
    for outputs in out.modules.values_mut() {
        if outputs.len() > 1 {
            outputs.remove(&None);
        }
    }
    out
}

impl<'m> Resolver<'_, 'm, '_> {
    fn resource(&mut self, path: &Path<'m>, resource: &Resource<'_>) {
        let dependent = format!("{}{}", prefix(path), resource.address);
        let same: Vec<KeyReq> = vec![KeyReq::Same; path.len()];
        for list in resource
            .expressions
            .0
            .iter()
            .chain(&resource.count_expression.0)
            .chain(&resource.for_each_expression.0)
        {
            self.list(&dependent, path, &same, list, 0);
        }
        self.depends_on(&dependent, path, &same, &resource.depends_on);
        // A module call's `depends_on` holds for everything inside the module.
        for depth in 0..path.len() {
            let parent = &path[..depth];
            let call = self
                .modules
                .get(parent)
                .and_then(|m| m.module_calls.get(path[depth]));
            if let Some(call) = call {
                self.depends_on(
                    &dependent,
                    &parent.to_vec(),
                    &same[..depth],
                    &call.depends_on,
                );
            }
        }
    }

    fn depends_on(
        &mut self,
        dependent: &str,
        path: &Path<'m>,
        pre: &[KeyReq],
        targets: &[Cow<'_, str>],
    ) {
        for target in targets {
            let tokens = split_tokens(target);
            if let ["module", call] = tokens.as_slice() {
                let (call, key) = split_key(call);
                let Some(call) = self.call_name(path, call) else {
                    continue;
                };
                let mut child = path.clone();
                child.push(call);
                let mut reqs = pre.to_vec();
                reqs.push(key.map_or(KeyReq::Any, |k| KeyReq::Exact(k.to_string())));
                self.everything_in(dependent, &child, reqs);
            } else if let Some(module) = self.modules.get(path) {
                let (address, key) = match tokens.last().map(|t| split_key(t)) {
                    Some((name, key)) => {
                        let head = tokens[..tokens.len() - 1].join(".");
                        (format!("{head}.{name}"), key)
                    }
                    None => continue,
                };
                if module.managed().any(|r| r.address == address) {
                    self.edge(
                        dependent,
                        path,
                        pre,
                        &address,
                        key.map(|k| [k.to_string()].into()),
                        Via::DependsOn,
                    );
                }
            }
        }
    }

    /// The name of a module call of the module at `path`, as the configuration holds it.
    fn call_name(&self, path: &Path<'m>, call: &str) -> Option<&'m str> {
        let module: &'m Module<'_> = self.modules.get(path)?;
        module
            .module_calls
            .get_key_value(call)
            .map(|(k, _)| k.as_ref())
    }

    /// Every managed resource of a module and its children: what `depends_on = [module.x]` names.
    fn everything_in(&mut self, dependent: &str, path: &Path<'m>, reqs: Vec<KeyReq>) {
        let Some(module) = self.modules.get(path) else {
            return;
        };
        for r in module.managed() {
            self.edge(dependent, path, &reqs, &r.address, None, Via::DependsOn);
        }
        for name in module.module_calls.keys() {
            let mut child = path.clone();
            child.push(name.as_ref());
            let mut deeper = reqs.clone();
            deeper.push(KeyReq::Any);
            self.everything_in(dependent, &child, deeper);
        }
    }

    fn edge(
        &mut self,
        dependent: &str,
        path: &Path<'m>,
        pre: &[KeyReq],
        address: &str,
        resource_keys: Option<BTreeSet<String>>,
        via: Via,
    ) {
        let dependency = format!("{}{address}", prefix(path));
        if dependency != dependent {
            self.edges.push(ConfigEdge {
                dependent: dependent.to_string(),
                dependency,
                module_keys: pre.to_vec(),
                resource_keys,
                via,
            });
        }
    }

    /// One `references` list, evaluated in module `path`; `pre` says which module instances
    /// of that path it can reach.
    fn list(
        &mut self,
        dependent: &str,
        path: &Path<'m>,
        pre: &[KeyReq],
        refs: &[Cow<'_, str>],
        depth: usize,
    ) {
        self.steps += 1;
        if depth > MAX_DEPTH || self.steps > MAX_STEPS {
            return;
        }
        let Some(module) = self.modules.get(path).copied() else {
            return;
        };
        let named = named(refs);
        for (address, (whole, keys)) in &named.resources {
            let Some(target) = module.resources.iter().find(|r| r.address == *address) else {
                continue;
            };
            if target.mode.as_deref() == Some("data") {
                for list in &target.expressions.0 {
                    self.list(dependent, path, pre, list, depth + 1);
                }
            } else {
                let keys = (!*whole).then(|| keys.clone());
                self.edge(dependent, path, pre, address, keys, Via::Reference);
            }
        }
        if let Some((call, parent)) = path.split_last() {
            let call = self
                .modules
                .get(parent)
                .and_then(|m| m.module_calls.get(*call));
            for variable in &named.variables {
                for list in call
                    .and_then(|c| c.expressions.get(*variable))
                    .map(|e| &e.0)
                    .into_iter()
                    .flatten()
                {
                    self.list(
                        dependent,
                        &parent.to_vec(),
                        &pre[..parent.len()],
                        list,
                        depth + 1,
                    );
                }
            }
        }
        for ((call, key), outputs) in &named.modules {
            let Some(call) = self.call_name(path, call) else {
                continue;
            };
            let mut child = path.clone();
            child.push(call);
            let Some(child_module) = self.modules.get(&child).copied() else {
                continue;
            };
            let mut reqs = pre.to_vec();
            reqs.push(key.map_or(KeyReq::Any, |k| KeyReq::Exact(k.to_string())));
            let chosen: Vec<&Output<'_>> = if outputs.contains(&None) {
                child_module.outputs.values().collect()
            } else {
                outputs
                    .iter()
                    .flatten()
                    .filter_map(|o| child_module.outputs.get(*o))
                    .collect()
            };
            for output in chosen {
                for list in &output.expression.0 {
                    self.list(dependent, &child, &reqs, list, depth + 1);
                }
            }
        }
    }
}

/// Every `references` list at any depth of an expression tree (nested blocks included);
/// `constant_value`s are skipped without being built.
#[derive(Default)]
struct RefLists<'a>(Vec<Vec<Cow<'a, str>>>);

impl<'de: 'a, 'a> Deserialize<'de> for RefLists<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut out = Vec::new();
        deserializer.deserialize_any(Collect { out: &mut out })?;
        Ok(RefLists(out))
    }
}

struct Collect<'o, 'a> {
    out: &'o mut Vec<Vec<Cow<'a, str>>>,
}

impl<'de> DeserializeSeed<'de> for Collect<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Collect<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("configuration expressions")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.0.as_ref() {
                "constant_value" => {
                    map.next_value::<IgnoredAny>()?;
                }
                "references" => {
                    if let Some(list) = map.next_value_seed(References {
                        out: &mut *self.out,
                    })? {
                        self.out.push(list);
                    }
                }
                _ => map.next_value_seed(Collect {
                    out: &mut *self.out,
                })?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Collect {
                out: &mut *self.out,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The value of a `references` key: a list of strings, or (an attribute that happens to be
/// named `references`) more expressions.
struct References<'o, 'a> {
    out: &'o mut Vec<Vec<Cow<'a, str>>>,
}

impl<'de> DeserializeSeed<'de> for References<'_, 'de> {
    type Value = Option<Vec<Cow<'de, str>>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for References<'_, 'de> {
    type Value = Option<Vec<Cow<'de, str>>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a references list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = seq.next_element::<Item<'de>>()? {
            if let Item::Text(t) = item {
                list.push(t);
            }
        }
        Ok(Some(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Collect { out: self.out }.visit_map(map)?;
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A list element: a string kept, anything else skipped.
enum Item<'a> {
    Text(Cow<'a, str>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Item<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Item<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a reference")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Item<'de>, E> {
                Ok(Item::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Item<'de>, E> {
                Ok(Item::Text(Cow::Owned(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Item::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Item::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Item<'de>, E> {
                Ok(Item::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Item<'de>, E> {
                Ok(Item::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Item<'de>, E> {
                Ok(Item::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Item<'de>, E> {
                Ok(Item::Other)
            }
            fn visit_unit<E>(self) -> Result<Item<'de>, E> {
                Ok(Item::Other)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A map key, borrowed when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Item::deserialize(deserializer)? {
            Item::Text(t) => Ok(Text(t)),
            Item::Other => Ok(Text(Cow::Borrowed(""))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges_of(json: &str) -> Vec<ConfigEdge> {
        edges(&RawValue::from_string(json.to_string()).unwrap()).unwrap()
    }

    /// The configuration Terraform 1.11 writes for a VPC, three subnets, an instance that
    /// references one subnet and depends on the VPC, and a module (for_each) fed the VPC's
    /// id whose output a root resource reads.
    const CONFIG: &str = r#"{
      "resources": [
        {"address": "aws_instance.web", "mode": "managed",
         "expressions": {"subnet_id": {"references": ["aws_subnet.private[0].id", "aws_subnet.private[0]", "aws_subnet.private"]},
                         "tags": {"constant_value": {"references": ["aws_vpc.main"]}},
                         "ebs_block_device": [{"volume_id": {"references": ["aws_ebs_volume.v.id", "aws_ebs_volume.v"]}}]},
         "depends_on": ["aws_vpc.main"]},
        {"address": "aws_subnet.private", "mode": "managed",
         "expressions": {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main", "count.index"]}},
         "count_expression": {"constant_value": 3}},
        {"address": "aws_vpc.main", "mode": "managed", "expressions": {"cidr_block": {"constant_value": "10.0.0.0/16"}}},
        {"address": "aws_ebs_volume.v", "mode": "managed"},
        {"address": "aws_route.uses_module", "mode": "managed",
         "expressions": {"gateway_id": {"references": ["module.net[\"a\"].out", "module.net[\"a\"]"]}}},
        {"address": "aws_eip.from_data", "mode": "managed",
         "expressions": {"x": {"references": ["data.aws_vpc.found.id", "data.aws_vpc.found"]}}},
        {"address": "data.aws_vpc.found", "mode": "data",
         "expressions": {"id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}}}
      ],
      "module_calls": {"net": {"source": "./m",
        "expressions": {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}},
        "module": {"outputs": {"out": {"expression": {"references": ["aws_nat_gateway.inner.id", "aws_nat_gateway.inner"]}}},
          "resources": [{"address": "aws_nat_gateway.inner", "mode": "managed",
            "expressions": {"vpc": {"references": ["var.vpc_id"]}}}]}}}
    }"#;

    fn find<'e>(edges: &'e [ConfigEdge], dependent: &str, dependency: &str) -> Vec<&'e ConfigEdge> {
        edges
            .iter()
            .filter(|e| e.dependent == dependent && e.dependency == dependency)
            .collect()
    }

    #[test]
    fn references_are_followed_through_modules_outputs_and_data_sources() {
        let edges = edges_of(CONFIG);
        let web_subnet = find(&edges, "aws_instance.web", "aws_subnet.private");
        assert_eq!(web_subnet.len(), 1);
        assert_eq!(web_subnet[0].resource_keys, Some(["0".to_string()].into()));
        assert_eq!(
            find(&edges, "aws_instance.web", "aws_ebs_volume.v").len(),
            1,
            "nested blocks"
        );
        let web_vpc = find(&edges, "aws_instance.web", "aws_vpc.main");
        assert_eq!(
            web_vpc.len(),
            1,
            "a constant that looks like references is not one"
        );
        assert_eq!(web_vpc[0].via, Via::DependsOn);
        assert_eq!(
            find(&edges, "aws_subnet.private", "aws_vpc.main")[0].resource_keys,
            None
        );
        let inner = find(&edges, "module.net.aws_nat_gateway.inner", "aws_vpc.main");
        assert_eq!(inner.len(), 1, "a module variable reads its input");
        assert!(inner[0].module_keys.is_empty());
        let route = find(
            &edges,
            "aws_route.uses_module",
            "module.net.aws_nat_gateway.inner",
        );
        assert_eq!(route[0].module_keys, [KeyReq::Exact("\"a\"".into())]);
        assert_eq!(find(&edges, "aws_eip.from_data", "aws_vpc.main").len(), 1);
    }

    #[test]
    fn managed_resources_are_counted_in_every_module() {
        let raw = RawValue::from_string(CONFIG.to_string()).unwrap();
        assert_eq!(managed_count(&raw).unwrap(), 7);
    }
}
