//! The blast radius across projects: the identities of every resource the run's plans destroy,
//! searched for in one pass over each other input (the run's other plans, the `--context`
//! files), each hit mapped back to the resource whose prior values hold it.

use std::collections::BTreeMap;

use crate::input::context::{
    owner, searchable, span, top_level_strings, ContextSource, IdentitySearch, Located,
};
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
    /// Per resource: the plan deletes it (it is no dependent that survives).
    gone: Vec<bool>,
}

/// Add to each destroyed resource the resources of the other inputs that hold one of its
/// identities, and note, per plan, the identities too short or common to search for.
pub fn across_projects<'s>(
    plans: &mut [ProjectPlan<'s>],
    sources: &'s [PlanSource],
    contexts: &'s [ContextSource],
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
    let mut inputs = plan_inputs(plans, sources);
    for c in contexts {
        inputs.push(Input {
            plan: None,
            name: c.name.clone(),
            text: c.json(),
            resources: Vec::new(),
            gone: Vec::new(),
        });
    }
    // Each input in its own thread: a context file is parsed for its resources while the same
    // thread's search runs over it next; the inputs share nothing.
    let results: Vec<Result<Vec<(usize, usize)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .iter_mut()
            .enumerate()
            .map(|(i, input)| {
                let search = &search;
                let context = input.plan.is_none().then(|| &contexts[i - plans.len()]);
                scope.spawn(move || scan(input, context, search))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Ok(Vec::new())))
            .collect()
    });
    let mut found: BTreeMap<(usize, usize), Vec<Dependent>> = BTreeMap::new();
    for (input, hits) in inputs.iter().zip(results) {
        for (pattern, resource) in hits? {
            let r = &input.resources[resource];
            for (pi, di, attribute) in origins[pattern] {
                if input.plan == Some(*pi) {
                    continue;
                }
                found.entry((*pi, *di)).or_default().push(Dependent {
                    project: input.name.clone(),
                    address: r.address.to_string(),
                    via: Via::Identity,
                    identity: Some(attribute.clone()),
                    environment: None,
                });
            }
        }
    }
    for ((pi, di), mut list) in found {
        let d = &mut plans[pi].destroyed[di];
        d.dependents.append(&mut list);
        d.dependents.sort();
        d.dependents
            .dedup_by(|a, b| a.project == b.project && a.address == b.address);
    }
    Ok(())
}

/// The hits of one input, as (pattern, index of the resource that holds it).
fn scan<'s>(
    input: &mut Input<'s>,
    context: Option<&'s ContextSource>,
    search: &IdentitySearch,
) -> Result<Vec<(usize, usize)>> {
    if let Some(c) = context {
        // Parsed first: a file that is not a state or plan is an error before anything else.
        input.resources = c.resources()?;
    }
    let mut out = Vec::new();
    for hit in search.scan(input.text) {
        let Some(index) = owner(&input.resources, hit.offset) else {
            continue;
        };
        if !input.gone.get(index).copied().unwrap_or(false) {
            out.push((hit.pattern, index));
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The run's plans as inputs: each change's prior values, and which of them the plan deletes.
fn plan_inputs<'s>(plans: &[ProjectPlan<'s>], sources: &'s [PlanSource]) -> Vec<Input<'s>> {
    plans
        .iter()
        .zip(sources)
        .enumerate()
        .map(|(pi, (plan, source))| {
            let text = source.json();
            let mut located: Vec<(Located<'s>, bool)> = plan
                .plan
                .changes
                .iter()
                .filter(|c| c.is_managed())
                .filter_map(|change| {
                    let (start, end) = span(text, change.before?);
                    let gone = matches!(change.action, Action::Delete | Action::Forget);
                    Some((
                        Located {
                            address: change.address.clone(),
                            start,
                            end,
                        },
                        gone,
                    ))
                })
                .collect();
            // Looked up by position (`owner`): sorted by where the values start.
            located.sort_by_key(|(r, _)| r.start);
            let (resources, gone) = located.into_iter().unzip();
            Input {
                plan: Some(pi),
                name: plan.project.name.clone(),
                text,
                resources,
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
