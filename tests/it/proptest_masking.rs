//! Masking: a prior value marked sensitive in `before_sensitive`, at whatever depth the mark
//! sits (the whole object, the tag map, the single key), never appears in any rendered report.

use crate::generated_plans::{
    arb_resource, check_text, config, plan_json_with, PlanSpec, TagPlace,
};
use plangate::render::{self, Format, Style};
use proptest::prelude::*;
use serde_json::{json, Value};

/// How far down `before_sensitive` marks the environment tag.
#[derive(Debug, Clone, Copy)]
enum Depth {
    Whole,
    Map,
    Key,
}

fn mark(place: TagPlace, key: &str, depth: Depth) -> Value {
    let leaf = match depth {
        Depth::Whole => return json!(true),
        Depth::Map => json!(true),
        Depth::Key => json!({ key: true }),
    };
    match place {
        TagPlace::TagsAll => json!({"tags_all": leaf, "tags": leaf}),
        TagPlace::Tags => json!({"tags": leaf}),
        TagPlace::Labels => json!({"labels": leaf}),
        TagPlace::Metadata => match depth {
            Depth::Map => json!({"metadata": true}),
            _ => json!({"metadata": [{"labels": leaf}]}),
        },
        TagPlace::NameOnly => json!({"name": true}),
    }
}

const DESTROYS: &[&[&str]] = &[&["delete"], &["delete", "create"], &["create", "delete"]];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn sensitive_values_never_reach_any_report(
        resources in prop::collection::vec(
            (
                arb_resource(),
                "zq[a-z]{10}",
                prop::option::of(prop::sample::select(&["prod", "dev", "stg", "qa"][..])),
                prop::sample::select(&[Depth::Whole, Depth::Map, Depth::Key][..]),
                prop::sample::select(&["env", "environment", "Environment", "Env", "stage"][..]),
                prop::sample::select(DESTROYS),
            ),
            1..8,
        )
    ) {
        let mut secrets = Vec::new();
        let mut marks = Vec::new();
        let mut specs = Vec::new();
        for (i, (mut r, secret, env_word, depth, key, actions)) in resources.into_iter().enumerate() {
            r.name = format!("r{i}");
            r.tag_key = key;
            r.actions = actions.to_vec();
            r.tag_value = Some(match env_word {
                Some(word) => format!("{word}-{secret}"),
                None => secret.clone(),
            });
            marks.push(mark(r.place, key, depth));
            secrets.push(secret);
            specs.push(r);
        }
        let plan = PlanSpec { resources: specs, complete: true };
        let text = plan_json_with(&plan, &|i, _| marks[i].clone());
        let report = check_text(&text);
        for format in [Format::Json, Format::Text] {
            let out = render::render(format, &report, &Style::default()).to_ascii_lowercase();
            for secret in &secrets {
                prop_assert!(!out.contains(secret.as_str()), "{secret} leaked in {}:\n{out}", format.name());
            }
        }
    }
}
