//! Properties of the whole pipeline (plan text -> model -> rules -> report -> renderers) on
//! generated plans: adding a delete never improves the verdict, and the order of
//! `resource_changes` never changes the report.

use crate::generated_plans::{arb_plan, arb_resource, check, config, PlanSpec};
use plangate::render::{self, Format, Style};
use proptest::prelude::*;

fn rendered(plan: &PlanSpec) -> (String, String) {
    let mut report = check(plan);
    // The plan's hash covers its bytes, which reordering changes on purpose.
    for p in &mut report.projects {
        // The way out of a finding that needs an approval names the hash too.
        let sha8 = p.plan_sha256.get(..8).unwrap_or_default().to_string();
        for f in &mut report.findings {
            if let Some(next) = &mut f.next {
                *next = next.replace(&sha8, "SHA8");
            }
        }
        p.plan_sha256.clear();
    }
    (
        render::render(Format::Json, &report, &Style::default()),
        render::render(Format::Text, &report, &Style::default()),
    )
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn adding_a_delete_never_improves_the_verdict(plan in arb_plan(), extra in arb_resource(), replace in any::<bool>()) {
        let before = check(&plan);
        let mut worse = plan.clone();
        let mut extra = extra;
        extra.actions = if replace { vec!["delete", "create"] } else { vec!["delete"] };
        extra.name = format!("added_{}", extra.name);
        worse.resources.push(extra);
        let after = check(&worse);
        prop_assert!(after.verdict >= before.verdict, "{:?} -> {:?}", before.verdict, after.verdict);
        for (a, b) in before.projects.iter().zip(&after.projects) {
            prop_assert!(b.verdict >= a.verdict);
        }
    }

    #[test]
    fn reordering_resource_changes_never_changes_the_report(
        (plan, order) in arb_plan().prop_flat_map(|p| {
            let n = p.resources.len();
            (Just(p), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
    ) {
        let mut shuffled = plan.clone();
        shuffled.resources = order.iter().map(|&i| plan.resources[i].clone()).collect();
        prop_assert_eq!(rendered(&plan), rendered(&shuffled));
    }
}
