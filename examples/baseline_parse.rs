//! The benchmark baseline (`bench/run.sh`): read a plan file and deserialise the same fields as
//! plangate into typed, borrowed serde structs, and nothing else: no checks, no rules, no report.
//!
//! `baseline_parse PLAN` reads the whole file (`std::fs::read`) and parses from the slice.
//! `baseline_parse --stream PLAN` parses from a buffered reader instead, keeping only the
//! destroyed resources' prior values: what a streaming mode of the gate would cost and save.

use std::borrow::Cow;
use std::fmt;

use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

#[derive(Deserialize)]
#[allow(dead_code)] // Fields are read only to force the parse, as plangate reads them.
struct Plan<'a> {
    #[serde(borrow, default)]
    format_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    terraform_version: Option<Cow<'a, str>>,
    #[serde(default)]
    errored: Option<bool>,
    #[serde(default)]
    complete: Option<bool>,
    #[serde(borrow, default)]
    resource_changes: Option<Vec<Change<'a>>>,
    #[serde(borrow, default)]
    resource_drift: Option<Vec<Drift<'a>>>,
    #[serde(borrow, default)]
    prior_state: Option<State<'a>>,
    #[serde(default)]
    planned_values: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Change<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow, default)]
    module_address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type", default)]
    resource_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    provider_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    action_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    previous_address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    deposed: Option<Cow<'a, str>>,
    #[serde(borrow)]
    change: ChangeBody<'a>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct ChangeBody<'a> {
    #[serde(borrow)]
    actions: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    before: Option<&'a RawValue>,
    #[serde(borrow, default)]
    before_sensitive: Option<&'a RawValue>,
    #[serde(default)]
    importing: Option<IgnoredAny>,
    #[serde(default)]
    replace_paths: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Drift<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow)]
    change: DriftBody<'a>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct DriftBody<'a> {
    #[serde(borrow)]
    actions: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct State<'a> {
    #[serde(borrow, default)]
    values: Option<StateValues<'a>>,
}

#[derive(Deserialize)]
struct StateValues<'a> {
    #[serde(borrow, default)]
    root_module: Option<StateModule<'a>>,
}

#[derive(Deserialize)]
struct StateModule<'a> {
    #[serde(borrow, default)]
    resources: Option<Vec<StateResource<'a>>>,
    #[serde(borrow, default)]
    child_modules: Option<Vec<StateModule<'a>>>,
}

#[derive(Deserialize)]
struct StateResource<'a> {
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
}

impl StateModule<'_> {
    fn count(&self) -> usize {
        self.resources
            .iter()
            .flatten()
            .filter(|r| r.mode.as_deref() != Some("data"))
            .count()
            + self
                .child_modules
                .iter()
                .flatten()
                .map(StateModule::count)
                .sum::<usize>()
    }
}

fn destroys(actions: &[impl AsRef<str>]) -> bool {
    actions.iter().any(|a| a.as_ref() == "delete")
}

fn from_slice(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let plan: Plan<'_> = serde_json::from_slice(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let changes = plan.resource_changes.unwrap_or_default();
    let destroyed = changes
        .iter()
        .filter(|c| destroys(&c.change.actions))
        .count();
    let state = plan
        .prior_state
        .and_then(|s| s.values)
        .and_then(|v| v.root_module)
        .map(|m| m.count())
        .unwrap_or_default();
    Ok(format!(
        "{} changes, {destroyed} destroyed, {} drift, {state} in state",
        changes.len(),
        plan.resource_drift.map(|d| d.len()).unwrap_or_default()
    ))
}

/// Streaming: each change is read into owned values and dropped unless it destroys.
#[derive(Deserialize)]
struct StreamPlan {
    #[serde(default, deserialize_with = "keep_destroyed")]
    resource_changes: Kept,
    #[serde(default)]
    planned_values: Option<IgnoredAny>,
    #[serde(default)]
    prior_state: Option<IgnoredAny>,
}

#[derive(Default)]
struct Kept {
    total: usize,
    destroyed: Vec<StreamChange>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct StreamChange {
    address: String,
    #[serde(default)]
    mode: Option<String>,
    change: StreamBody,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct StreamBody {
    actions: Vec<String>,
    #[serde(default)]
    before: Option<Box<RawValue>>,
    #[serde(default)]
    before_sensitive: Option<Box<RawValue>>,
}

fn keep_destroyed<'de, D: Deserializer<'de>>(d: D) -> Result<Kept, D::Error> {
    struct KeepVisitor;
    impl<'de> Visitor<'de> for KeepVisitor {
        type Value = Kept;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of resource changes")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kept, A::Error> {
            let mut kept = Kept::default();
            while let Some(change) = seq.next_element::<StreamChange>()? {
                kept.total += 1;
                if destroys(&change.change.actions) {
                    kept.destroyed.push(change);
                }
            }
            Ok(kept)
        }
    }
    d.deserialize_seq(KeepVisitor)
}

fn streaming(path: &str) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let plan: StreamPlan = serde_json::from_reader(reader).map_err(|e| format!("{path}: {e}"))?;
    let _ = (plan.planned_values, plan.prior_state);
    Ok(format!(
        "{} changes, {} destroyed (streamed)",
        plan.resource_changes.total,
        plan.resource_changes.destroyed.len()
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, path] if flag == "--stream" => streaming(path),
        [path] => from_slice(path),
        _ => Err("usage: baseline_parse [--stream] PLAN".into()),
    };
    match result {
        Ok(summary) => println!("{summary}"),
        Err(e) => {
            eprintln!("baseline_parse: {e}");
            std::process::exit(2);
        }
    }
}
