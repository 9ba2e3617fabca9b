//! The blast radius across projects: the identities of every resource the run's plans destroy,
//! searched for in one pass over each other input (the run's other plans, the `--context`
//! files), each hit mapped back to the resource whose prior values hold it.

use std::collections::{BTreeMap, BTreeSet};

use crate::input::context::{
    own_identities, owner, searchable, span, top_level_strings, ContextSource, Located,
};
use crate::input::identity_search::IdentitySearch;
use crate::input::plan::PlanSource;
use crate::model::change::Action;
use crate::model::dependents::{Dependent, Via};
use crate::model::policy::IDENTITY_ATTRIBUTES;
use crate::model::project::ProjectPlan;
use crate::Result;

/// Where an identity came from: (plan, destroyed resource, attribute).
type Origin = (usize, usize, String);

/// An input searched: its name (a project), its text, its resources, and whether a resource
/// there survives (a plan's own delete does not).
struct Input<'s> {
    /// Index of the plan among the run's, or `None` for a context file.
    plan: Option<usize>,
    name: String,
    text: &'s [u8],
    resources: Vec<Located<'s>>,
    /// Per resource of a plan: the index of its change.
    changes: Vec<usize>,
    /// Per resource: the plan deletes it (it is no dependent that survives).
    gone: Vec<bool>,
}

/// Add to each destroyed resource the resources of the other inputs that hold one of its
/// identities, and note, per plan, the identities too short or common to search for.
pub fn across_projects<'s>(
    plans: &mut [ProjectPlan<'s>],
    sources: &'s [PlanSource],
    contexts: Vec<(&'s ContextSource, Vec<Located<'s>>)>,
) -> Result<()> {
    if plans.len() < 2 && contexts.is_empty() {
        return Ok(());
    }
    let (patterns, skipped) = identities(plans);
    for (pi, list) in skipped {
        plans[pi].notes.push(skipped_note(&list));
    }
    if patterns.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = patterns.keys().cloned().collect();
    let origins: Vec<&Vec<Origin>> = patterns.values().collect();
    let search = IdentitySearch::new(&keys);
    // A plan's text can only hold dependents of the other plans' destroyed resources.
    let destroying: BTreeSet<usize> = origins.iter().flat_map(|o| o.iter().map(|d| d.0)).collect();
    let mut inputs = plan_inputs(plans, sources);
    for (c, resources) in contexts {
        inputs.push(Input {
            plan: None,
            name: c.name.clone(),
            text: c.json(),
            resources,
            changes: Vec::new(),
            gone: Vec::new(),
        });
    }
    // Each input in its own thread; the inputs share nothing.
    let results: Vec<Vec<(usize, usize)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|input| {
                let search = &search;
                let searched = input
                    .plan
                    .is_none_or(|q| destroying.iter().any(|&p| p != q));
                scope.spawn(move || match searched {
                    true => scan(input, search),
                    false => Vec::new(),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let (found, shared) = attribute_hits(plans, &inputs, results, &keys, &origins);
    for ((pi, di), list) in found {
        merge(&mut plans[pi].destroyed[di].dependents, list);
    }
    for ((pi, di), list) in shared {
        merge(&mut plans[pi].destroyed[di].shared, list);
    }
    Ok(())
}

type ByDestroyed = BTreeMap<(usize, usize), Vec<Dependent>>;

/// Each input's hits as dependents of the destroyed resources whose identity they hold, and
/// those that are the same object (its own identity) apart.
fn attribute_hits(
    plans: &[ProjectPlan<'_>],
    inputs: &[Input<'_>],
    results: Vec<Vec<(usize, usize)>>,
    keys: &[String],
    origins: &[&Vec<Origin>],
) -> (ByDestroyed, ByDestroyed) {
    let mut found = ByDestroyed::new();
    let mut shared = ByDestroyed::new();
    for (input, hits) in inputs.iter().zip(results) {
        for (pattern, resource) in hits {
            let r = &input.resources[resource];
            // The other input's resource is this very object when the value is its own identity.
            let value = &keys[pattern];
            let same_object = match input.plan {
                Some(q) => holds_as_own(&plans[q], input.changes[resource], value),
                None => own_identities(&input.text[r.start..r.end]).contains(value),
            };
            for (pi, di, attribute) in origins[pattern] {
                if input.plan == Some(*pi) {
                    continue;
                }
                let dependent = Dependent {
                    project: input.name.clone(),
                    address: r.address.to_string(),
                    via: Via::Identity,
                    identity: Some(attribute.clone()),
                    environment: None,
                };
                // One object in two states is `shared-resource`'s; it is also what breaks when
                // the object goes, so it stays in the blast radius.
                if same_object && is_own_identity(attribute) {
                    shared
                        .entry((*pi, *di))
                        .or_default()
                        .push(dependent.clone());
                }
                if !input.gone.get(resource).copied().unwrap_or(false) {
                    found.entry((*pi, *di)).or_default().push(dependent);
                }
            }
        }
    }
    (found, shared)
}

fn merge(into: &mut Vec<Dependent>, mut list: Vec<Dependent>) {
    into.append(&mut list);
    into.sort();
    into.dedup_by(|a, b| a.project == b.project && a.address == b.address);
}

/// Attributes that are an object's own identity (a `name` may be shared by unrelated objects).
fn is_own_identity(attribute: &str) -> bool {
    matches!(attribute, "id" | "arn" | "self_link") || attribute.starts_with("identity.")
}

/// Whether change `index` of `plan` has `value` as its own `id`, `arn`, `self_link` or
/// identity value.
fn holds_as_own(plan: &ProjectPlan<'_>, index: usize, value: &str) -> bool {
    let Some(change) = plan.plan.changes.get(index) else {
        return false;
    };
    let own = change
        .before
        .map(|b| top_level_strings(b, change.before_sensitive, &["id", "arn", "self_link"]))
        .unwrap_or_default();
    own.iter().any(|(_, v)| v == value)
        || change
            .before_identity
            .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).ok())
            .and_then(|v| {
                v.as_object()
                    .map(|o| o.values().any(|v| v.as_str() == Some(value)))
            })
            .unwrap_or(false)
}

/// The hits of one input, as (pattern, index of the resource that holds it).
fn scan(input: &Input<'_>, search: &IdentitySearch) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for hit in search.scan(input.text) {
        let Some(index) = owner(&input.resources, hit.offset) else {
            continue;
        };
        out.push((hit.pattern, index));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The run's plans as inputs: each change's prior values, and which of them the plan deletes.
fn plan_inputs<'s>(plans: &[ProjectPlan<'s>], sources: &'s [PlanSource]) -> Vec<Input<'s>> {
    plans
        .iter()
        .zip(sources)
        .enumerate()
        .map(|(pi, (plan, source))| {
            let text = source.json();
            let mut located: Vec<(Located<'s>, (usize, bool))> = plan
                .plan
                .changes
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_managed())
                .filter_map(|(i, change)| {
                    let (start, end) = span(text, change.before?);
                    let gone = matches!(change.action, Action::Delete | Action::Forget);
                    let address = change.address.clone();
                    Some((
                        Located {
                            address,
                            start,
                            end,
                        },
                        (i, gone),
                    ))
                })
                .collect();
            // Looked up by position (`owner`): sorted by where the values start.
            located.sort_by_key(|(r, _)| r.start);
            let (resources, marks): (Vec<_>, Vec<_>) = located.into_iter().unzip();
            let (changes, gone) = marks.into_iter().unzip();
            Input {
                plan: Some(pi),
                name: plan.project.name.clone(),
                text,
                resources,
                changes,
                gone,
            }
        })
        .collect()
}

type Skipped = BTreeMap<usize, Vec<String>>;

/// Every searchable identity of every destroyed resource, with where it came from; and per
/// plan, the identities left out (`id of aws_x.y`).
fn identities(plans: &[ProjectPlan<'_>]) -> (BTreeMap<String, Vec<Origin>>, Skipped) {
    let mut patterns: BTreeMap<String, Vec<Origin>> = BTreeMap::new();
    let mut skipped: Skipped = BTreeMap::new();
    for (pi, plan) in plans.iter().enumerate() {
        for (di, d) in plan.destroyed.iter().enumerate() {
            let change = plan.change(d);
            let mut values = change
                .before
                .map(|b| top_level_strings(b, change.before_sensitive, &IDENTITY_ATTRIBUTES))
                .unwrap_or_default();
            if let Some(identity) = d.identity.as_object() {
                for (k, v) in identity {
                    if let Some(v) = v.as_str() {
                        values.push((format!("identity.{k}"), v.to_string()));
                    }
                }
            }
            for (attribute, value) in values {
                if searchable(&value) {
                    patterns.entry(value).or_default().push((pi, di, attribute));
                } else {
                    skipped
                        .entry(pi)
                        .or_default()
                        .push(format!("{attribute} of {}", change.address));
                }
            }
        }
    }
    (patterns, skipped)
}

fn skipped_note(list: &[String]) -> String {
    let n = list.len();
    let shown: Vec<&str> = list.iter().take(3).map(String::as_str).collect();
    let more = if n > 3 {
        format!(", and {} more", n - 3)
    } else {
        String::new()
    };
    format!(
        "{n} {} of destroyed resources not searched for in the other projects: too short or too common to mean anything ({}{more})",
        if n == 1 { "identity" } else { "identities" },
        shown.join(", ")
    )
}
