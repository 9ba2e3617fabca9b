//! Moves between projects (DESIGN 12): a delete in one plan of the run and a create of the
//! same object in another (same type and the same `id`, `arn`, `name`, `bucket`, identifier...)
//! is the object changing hands, not a loss: reported as a move and left out of
//! `mass-deletion`'s count.

use std::collections::BTreeMap;

use crate::input::context::{searchable, top_level_strings};
use crate::model::change::Action;
use crate::model::policy::IDENTITY_ATTRIBUTES;
use crate::model::project::{MovedTo, ProjectPlan};

/// Mark each delete that another plan of the run creates again with that plan's project and
/// address.
pub fn between_projects(plans: &mut [ProjectPlan<'_>]) {
    if plans.len() < 2 {
        return;
    }
    // (type, attribute, value) -> (plan, address) of a create.
    let mut creates: BTreeMap<(String, String, String), (usize, String)> = BTreeMap::new();
    for (qi, plan) in plans.iter().enumerate() {
        for c in &plan.plan.changes {
            if !(c.is_managed() && c.action == Action::Create) {
                continue;
            }
            let Some(after) = c.after else { continue };
            for (attribute, value) in top_level_strings(after, None, &IDENTITY_ATTRIBUTES) {
                if searchable(&value) {
                    let key = (c.resource_type.to_string(), attribute, value);
                    creates.entry(key).or_insert((qi, c.address.to_string()));
                }
            }
        }
    }
    if creates.is_empty() {
        return;
    }
    let names: Vec<String> = plans.iter().map(|p| p.project.name.clone()).collect();
    for (pi, plan) in plans.iter_mut().enumerate() {
        let mut moved = BTreeMap::new();
        for (i, c) in plan.plan.changes.iter().enumerate() {
            if !(c.is_managed() && c.action == Action::Delete && c.deposed.is_none()) {
                continue;
            }
            let Some(before) = c.before else { continue };
            let values = top_level_strings(before, c.before_sensitive, &IDENTITY_ATTRIBUTES);
            let found = values.into_iter().find_map(|(attribute, value)| {
                let key = (c.resource_type.to_string(), attribute.clone(), value);
                let (qi, address) = creates.get(&key).filter(|(qi, _)| *qi != pi)?;
                Some(MovedTo {
                    project: names[*qi].clone(),
                    address: address.clone(),
                    attribute,
                })
            });
            if let Some(to) = found {
                moved.insert(i, to);
            }
        }
        plan.moved_out = moved;
    }
}
