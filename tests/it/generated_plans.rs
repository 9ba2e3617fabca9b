//! Generated plans for the property tests, written as real plan JSON and checked through the
//! library exactly as `plangate check` does.

use std::path::Path;

use plangate::input::plan::PlanSource;
use plangate::model::intent::DestroyIntent;
use plangate::model::project::{Project, ProjectPlan};
use plangate::pipeline;
use plangate::report::Report;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map, Value};

/// `cases` generated cases, after the seeds kept in the test file's sibling
/// `<module>.proptest-regressions` (tests/it/proptest_report.proptest-regressions). Said
/// explicitly: by default proptest would look in tests/proptest-regressions/<module>.txt,
/// since tests/it/ holds a main.rs.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// Where a resource carries its environment tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TagPlace {
    TagsAll,
    Tags,
    Labels,
    Metadata,
    NameOnly,
}

#[derive(Debug, Clone)]
pub struct ResourceSpec {
    pub resource_type: &'static str,
    pub module: Option<u8>,
    pub name: String,
    pub index: Option<u8>,
    pub actions: Vec<&'static str>,
    pub tag_key: &'static str,
    pub tag_value: Option<String>,
    pub place: TagPlace,
    pub deposed: bool,
}

#[derive(Debug, Clone)]
pub struct PlanSpec {
    pub resources: Vec<ResourceSpec>,
    pub complete: bool,
}

const TYPES: &[&str] = &[
    "aws_instance",
    "aws_s3_bucket",
    "aws_db_instance",
    "google_storage_bucket",
    "kubernetes_namespace",
    "kubernetes_deployment",
];
const ACTIONS: &[&[&str]] = &[
    &["no-op"],
    &["create"],
    &["update"],
    &["delete"],
    &["delete", "create"],
    &["create", "delete"],
    &["read"],
    &["forget"],
];
const ENV_WORDS: &[&str] = &[
    "staging",
    "stg",
    "production",
    "prod",
    "dev",
    "development",
    "qa",
    "perf",
    "rosey-prod-eu",
];

pub fn arb_resource() -> impl Strategy<Value = ResourceSpec> {
    (
        prop::sample::select(TYPES),
        prop::option::of(0u8..3),
        0u16..40,
        prop::option::of(0u8..4),
        prop::sample::select(ACTIONS),
        prop::sample::select(&["env", "environment", "Environment", "stage", "team"][..]),
        prop::option::of(prop::sample::select(ENV_WORDS)),
        prop::sample::select(
            &[
                TagPlace::TagsAll,
                TagPlace::Tags,
                TagPlace::Labels,
                TagPlace::Metadata,
                TagPlace::NameOnly,
            ][..],
        ),
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(t, module, n, index, actions, key, value, place, deposed)| ResourceSpec {
                resource_type: t,
                module,
                name: format!("r{n}"),
                index,
                actions: actions.to_vec(),
                tag_key: key,
                tag_value: value.map(str::to_string),
                place,
                deposed,
            },
        )
}

pub fn arb_plan() -> impl Strategy<Value = PlanSpec> {
    (
        prop::collection::vec(arb_resource(), 0..24),
        prop::bool::weighted(0.9),
    )
        .prop_map(|(mut resources, complete)| {
            // Terraform never lists one address twice (deposed objects aside): keep the first.
            let mut seen = std::collections::HashSet::new();
            resources.retain(|r| seen.insert((address(r), r.deposed)));
            PlanSpec {
                resources,
                complete,
            }
        })
}

pub fn address(r: &ResourceSpec) -> String {
    let mut a = String::new();
    if let Some(m) = r.module {
        a.push_str(&format!("module.m{m}."));
    }
    a.push_str(&format!("{}.{}", r.resource_type, r.name));
    if let Some(i) = r.index {
        a.push_str(&format!("[{i}]"));
    }
    a
}

/// The prior values of a resource, with its environment tag where `place` says.
pub fn before_values(r: &ResourceSpec) -> Value {
    let mut obj = Map::new();
    obj.insert("id".into(), json!(format!("id-{}", r.name)));
    let mut tags = Map::new();
    if let Some(v) = &r.tag_value {
        tags.insert(r.tag_key.to_string(), json!(v));
    }
    tags.insert("owner".into(), json!("platform"));
    match r.place {
        TagPlace::TagsAll => {
            obj.insert("tags_all".into(), Value::Object(tags.clone()));
            obj.insert("tags".into(), Value::Object(tags));
        }
        TagPlace::Tags => {
            obj.insert("tags".into(), Value::Object(tags));
        }
        TagPlace::Labels => {
            obj.insert("labels".into(), Value::Object(tags));
        }
        TagPlace::Metadata => {
            obj.insert(
                "metadata".into(),
                json!([{"name": r.name, "labels": Value::Object(tags)}]),
            );
        }
        TagPlace::NameOnly => {
            let name = r.tag_value.clone().unwrap_or_else(|| "plain".into());
            obj.insert("name".into(), json!(format!("svc-{name}")));
        }
    }
    Value::Object(obj)
}

fn change_json(r: &ResourceSpec, before: Value, before_sensitive: Value) -> Value {
    let has_before = !matches!(r.actions.as_slice(), ["create"] | ["read"]);
    let mut rc = json!({
        "address": address(r),
        "mode": if r.actions == ["read"] { "data" } else { "managed" },
        "type": r.resource_type,
        "name": r.name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": r.actions,
            "before": if has_before { before } else { Value::Null },
            "after": null,
            "before_sensitive": if has_before { before_sensitive } else { json!(false) },
        }
    });
    if let Some(m) = r.module {
        rc["module_address"] = json!(format!("module.m{m}"));
    }
    if r.deposed {
        rc["deposed"] = json!("00000001");
    }
    rc
}

/// The plan JSON text, with `sensitive` giving each resource's `before_sensitive`.
pub fn plan_json_with(
    plan: &PlanSpec,
    sensitive: &dyn Fn(usize, &ResourceSpec) -> Value,
) -> String {
    let changes: Vec<Value> = plan
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| change_json(r, before_values(r), sensitive(i, r)))
        .collect();
    json!({
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "complete": plan.complete,
        "applyable": true,
    })
    .to_string()
}

pub fn plan_json(plan: &PlanSpec) -> String {
    plan_json_with(plan, &|_, _| json!({}))
}

/// Run the checks on plan text as `plangate check --env staging` does, with the built-in policy.
pub fn check_text(text: &str) -> Report {
    let policy = pipeline::builtin_policy();
    let path = Path::new("plan.json");
    let source =
        PlanSource::from_bytes(path, text.as_bytes().to_vec()).expect("generated plan decodes");
    let plan = source.parse().expect("generated plan parses");
    let project = Project::resolve(
        &policy,
        "app-staging".into(),
        Some("app-staging".into()),
        "envs/staging".into(),
        "default".into(),
        Some("staging"),
    );
    let plans = vec![ProjectPlan::new(
        project,
        plan,
        path.to_path_buf(),
        source.sha256().to_string(),
        &policy,
    )
    .expect("generated plan's prior values read")];
    pipeline::evaluate(&policy, None, &DestroyIntent::default(), &plans)
}

pub fn check(plan: &PlanSpec) -> Report {
    check_text(&plan_json(plan))
}
