//! Deterministic generator of realistic `terraform show -json` plans for the benchmark harness
//! (`bench/run.sh`). Not part of the shipped binaries.
//!
//! `cargo run --release --example genplan -- --resources 50000 --out plan.json`
//!
//! The same arguments always give the same bytes. Each resource is derived from `(seed, index)`
//! alone, so the sections of the document (planned_values, resource_drift, resource_changes,
//! prior_state, configuration) are written one after another without holding the plan in memory.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

const USAGE: &str = "usage: genplan --resources N [--seed S] [--env NAME] [--foreign-env-percent P]
               [--mix no-op=60,create=12,update=14,delete=6,delete-create=4,create-delete=4]
               [--data-percent P] [--drift-percent P] [--untagged-percent P] [--accounts]
               [--out PATH]

--accounts puts each resource in the cloud account of its environment (the one its env tag
names; untagged resources live in the project's): AWS resources get an ARN with the account ID
(security groups an owner_id), GCP resources their project and a self_link, and Azure
resources (added to the mix) an ID under their subscription. bench/accounts.yaml lists those
accounts per environment.";

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

/// A JSON value small enough to build per resource.
#[derive(Clone)]
enum V {
    Null,
    Bool(bool),
    Num(i64),
    Str(String),
    List(Vec<V>),
    Obj(Vec<(String, V)>),
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(v: &V, out: &mut String) {
    match v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Num(n) => {
            let _ = write!(out, "{n}");
        }
        V::Str(s) => write_str(s, out),
        V::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        V::Obj(fields) => {
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Tagging {
    /// AWS: `tags` and `tags_all` maps.
    Tags,
    /// GCP: `labels` map.
    Labels,
    /// Kubernetes: `metadata[0].labels`.
    Metadata,
    /// Azure: a `tags` map only.
    AzureTags,
}

struct Kind {
    rtype: &'static str,
    provider: &'static str,
    tagging: Tagging,
    /// Attributes every instance of the type has, before the random filler.
    attrs: &'static [&'static str],
    /// Attributes whose values are sensitive.
    sensitive: &'static [&'static str],
    /// Nested blocks (lists of objects).
    blocks: &'static [&'static str],
}

const AWS: &str = "registry.terraform.io/hashicorp/aws";
const GOOGLE: &str = "registry.terraform.io/hashicorp/google";
const K8S: &str = "registry.terraform.io/hashicorp/kubernetes";
const AZURE: &str = "registry.terraform.io/hashicorp/azurerm";

/// Azure kinds, in the mix only with `--accounts` (so that plans without it stay as they were).
const AZURE_KINDS: &[Kind] = &[
    Kind {
        rtype: "azurerm_storage_account",
        provider: AZURE,
        tagging: Tagging::AzureTags,
        attrs: &[
            "name",
            "location",
            "account_tier",
            "account_replication_type",
        ],
        sensitive: &["primary_access_key"],
        blocks: &["blob_properties", "network_rules"],
    },
    Kind {
        rtype: "azurerm_linux_virtual_machine",
        provider: AZURE,
        tagging: Tagging::AzureTags,
        attrs: &["name", "location", "size", "admin_username"],
        sensitive: &["admin_password"],
        blocks: &["os_disk", "source_image_reference"],
    },
];

/// The environments the generator tags with, and each one's AWS account, GCP project and Azure
/// subscription (the same as bench/accounts.yaml).
const ACCOUNTS: &[(&str, &str, &str, &str)] = &[
    (
        "staging",
        "444455556666",
        "orders-stg-4821",
        "5d8a1f3e-2b7c-4e9a-8f61-0c3b7d2e9a14",
    ),
    (
        "production",
        "111122223333",
        "orders-prd-1937",
        "9e2c4b71-6f0a-4d38-b5e2-7a1c9f3d8b60",
    ),
    (
        "development",
        "777788889999",
        "orders-dev-5502",
        "2f7b9c18-3d4e-4a61-9c07-e5b8a2d4f6c3",
    ),
    (
        "qa",
        "222233334444",
        "orders-qa-7710",
        "c41e8d2a-9b3f-4c75-a0d6-3f2e1b9c7a58",
    ),
    (
        "sandbox",
        "555566667777",
        "orders-sbx-2264",
        "7a3d5e9c-1f8b-4e02-b6c4-d9e0a7f2c315",
    ),
];

/// The environment an env tag value stands for (`stg` is staging, `prod` production).
fn environment_of(tag: &str) -> &str {
    match tag {
        "stg" => "staging",
        "prod" => "production",
        "dev" => "development",
        other => other,
    }
}

const KINDS: &[Kind] = &[
    Kind {
        rtype: "aws_instance",
        provider: AWS,
        tagging: Tagging::Tags,
        attrs: &[
            "ami",
            "instance_type",
            "subnet_id",
            "key_name",
            "private_ip",
            "availability_zone",
        ],
        sensitive: &["user_data"],
        blocks: &["root_block_device", "ebs_block_device", "metadata_options"],
    },
    Kind {
        rtype: "aws_s3_bucket",
        provider: AWS,
        tagging: Tagging::Tags,
        attrs: &["bucket", "bucket_domain_name", "region", "hosted_zone_id"],
        sensitive: &[],
        blocks: &["versioning", "server_side_encryption_configuration"],
    },
    Kind {
        rtype: "aws_db_instance",
        provider: AWS,
        tagging: Tagging::Tags,
        attrs: &[
            "identifier",
            "engine",
            "engine_version",
            "instance_class",
            "allocated_storage",
            "db_name",
            "username",
        ],
        sensitive: &["password"],
        blocks: &["blue_green_update"],
    },
    Kind {
        rtype: "aws_iam_role",
        provider: AWS,
        tagging: Tagging::Tags,
        attrs: &["name", "path", "assume_role_policy", "max_session_duration"],
        sensitive: &[],
        blocks: &["inline_policy"],
    },
    Kind {
        rtype: "aws_security_group",
        provider: AWS,
        tagging: Tagging::Tags,
        attrs: &["name", "description", "vpc_id", "owner_id"],
        sensitive: &[],
        blocks: &["ingress", "egress"],
    },
    Kind {
        rtype: "aws_lambda_function",
        provider: AWS,
        tagging: Tagging::Tags,
        attrs: &[
            "function_name",
            "runtime",
            "handler",
            "memory_size",
            "timeout",
            "role",
        ],
        sensitive: &["environment"],
        blocks: &["vpc_config", "tracing_config"],
    },
    Kind {
        rtype: "google_compute_instance",
        provider: GOOGLE,
        tagging: Tagging::Labels,
        attrs: &["name", "machine_type", "zone", "project", "can_ip_forward"],
        sensitive: &["metadata_startup_script"],
        blocks: &["boot_disk", "network_interface", "scheduling"],
    },
    Kind {
        rtype: "google_storage_bucket",
        provider: GOOGLE,
        tagging: Tagging::Labels,
        attrs: &[
            "name",
            "location",
            "storage_class",
            "project",
            "uniform_bucket_level_access",
        ],
        sensitive: &[],
        blocks: &["lifecycle_rule", "versioning"],
    },
    Kind {
        rtype: "google_sql_database_instance",
        provider: GOOGLE,
        tagging: Tagging::Labels,
        attrs: &["name", "database_version", "region", "project"],
        sensitive: &["root_password"],
        blocks: &["settings"],
    },
    Kind {
        rtype: "kubernetes_deployment",
        provider: K8S,
        tagging: Tagging::Metadata,
        attrs: &["wait_for_rollout"],
        sensitive: &[],
        blocks: &["spec"],
    },
    Kind {
        rtype: "kubernetes_config_map",
        provider: K8S,
        tagging: Tagging::Metadata,
        attrs: &["immutable"],
        sensitive: &[],
        blocks: &["data_block"],
    },
    Kind {
        rtype: "kubernetes_secret",
        provider: K8S,
        tagging: Tagging::Metadata,
        attrs: &["type", "immutable"],
        sensitive: &["data"],
        blocks: &[],
    },
    Kind {
        rtype: "kubernetes_namespace",
        provider: K8S,
        tagging: Tagging::Metadata,
        attrs: &["wait_for_default_service_account"],
        sensitive: &[],
        blocks: &[],
    },
];

const FILLER: &[&str] = &[
    "arn",
    "id",
    "owner",
    "cost_center",
    "description",
    "created_at",
    "updated_at",
    "etag",
    "self_link",
    "status",
    "version",
    "timeouts_create",
    "deletion_protection",
    "kms_key_id",
    "monitoring",
    "iops",
    "throughput",
    "port",
    "protocol",
    "cidr_block",
    "log_group",
    "retention_days",
    "ipv6_address_count",
    "placement_group",
    "tenancy",
    "hibernation",
    "source_dest_check",
    "credit_specification",
    "capacity_reservation",
    "host_id",
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Act {
    NoOp,
    Create,
    Update,
    Delete,
    DeleteCreate,
    CreateDelete,
    Read,
}

impl Act {
    fn list(self) -> &'static str {
        match self {
            Act::NoOp => r#"["no-op"]"#,
            Act::Create => r#"["create"]"#,
            Act::Update => r#"["update"]"#,
            Act::Delete => r#"["delete"]"#,
            Act::DeleteCreate => r#"["delete","create"]"#,
            Act::CreateDelete => r#"["create","delete"]"#,
            Act::Read => r#"["read"]"#,
        }
    }
    fn has_before(self) -> bool {
        !matches!(self, Act::Create | Act::Read)
    }
    fn has_after(self) -> bool {
        !matches!(self, Act::Delete)
    }
    fn replaces(self) -> bool {
        matches!(self, Act::DeleteCreate | Act::CreateDelete)
    }
}

struct Config {
    resources: u64,
    seed: u64,
    env: String,
    foreign_percent: u64,
    /// Cumulative weights for NoOp, Create, Update, Delete, DeleteCreate, CreateDelete.
    mix: [(Act, u64); 6],
    data_percent: u64,
    drift_percent: u64,
    /// Resources without an env tag (of the ones not tagged for another environment).
    untagged_percent: u64,
    /// Resources carry the cloud account of their environment.
    accounts: bool,
    out: Option<String>,
}

/// One generated resource instance, the same each time it is derived.
struct Resource {
    address: String,
    module: Option<String>,
    data: bool,
    kind: &'static Kind,
    name: String,
    index: Option<u64>,
    act: Act,
    before: V,
    after: V,
    before_sensitive: V,
    after_sensitive: V,
    after_unknown: V,
    drift: bool,
    expressions: V,
}

/// Resources in the root module: the first fifth; the rest sit in modules of 50.
fn module_of(cfg: &Config, i: u64) -> Option<u64> {
    let root = cfg.resources / 5;
    (i >= root).then(|| (i - root) / 50)
}

fn env_value(rng: &mut Rng, cfg: &Config) -> Option<String> {
    let (env, foreign_percent) = (cfg.env.as_str(), cfg.foreign_percent);
    let roll = rng.below(1000);
    if roll < foreign_percent * 10 {
        let others = ["development", "dev", "production", "prod", "qa"];
        let pick = others[rng.below(others.len() as u64) as usize];
        return Some(if pick.starts_with(&env[..3.min(env.len())]) {
            "sandbox".into()
        } else {
            pick.into()
        });
    }
    if roll >= 1000 - cfg.untagged_percent.min(100) * 10 {
        return None; // untagged
    }
    let short = match env {
        "staging" => "stg",
        "production" => "prod",
        "development" => "dev",
        other => other,
    };
    Some(if rng.percent(30) {
        short.to_string()
    } else {
        env.to_string()
    })
}

fn scalar(rng: &mut Rng, key: &str) -> V {
    match rng.below(10) {
        0 => V::Null,
        1 => V::Bool(rng.percent(50)),
        2 | 3 => V::Num(rng.below(100_000) as i64),
        4 => V::List(
            (0..rng.below(4))
                .map(|_| V::Str(format!("sg-{}", rng.word(17))))
                .collect(),
        ),
        _ => {
            let len = 8 + rng.below(40) as usize;
            V::Str(format!("{key}-{}", rng.word(len)))
        }
    }
}

fn block(rng: &mut Rng, name: &str) -> V {
    let n = 1 + rng.below(2);
    V::List(
        (0..n)
            .map(|_| {
                let fields = 3 + rng.below(5);
                V::Obj(
                    (0..fields)
                        .map(|f| {
                            let key =
                                format!("{}_{f}", FILLER[rng.below(FILLER.len() as u64) as usize]);
                            let value = scalar(rng, name);
                            (key, value)
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

/// A resource's labels, and the environment it lives in (its env tag's, else the project's).
fn labels(rng: &mut Rng, cfg: &Config, aws_style: bool) -> (V, String) {
    let mut map = Vec::new();
    let tag = env_value(rng, cfg);
    let home = environment_of(tag.as_deref().unwrap_or(&cfg.env)).to_string();
    if let Some(env) = tag {
        let key = if aws_style {
            ["Environment", "env", "environment"][rng.below(3) as usize]
        } else {
            "env"
        };
        map.push((key.to_string(), V::Str(env)));
    }
    map.push(("team".into(), V::Str(format!("team-{}", rng.below(40)))));
    map.push(("managed_by".into(), V::Str("terraform".into())));
    if rng.percent(50) {
        map.push((
            "cost_center".into(),
            V::Str(format!("cc-{}", rng.below(9999))),
        ));
    }
    (V::Obj(map), home)
}

/// The account attributes of a resource living in `home`'s account (`--accounts`), placed after
/// its `id`. Derived from the index alone: the random stream stays as without accounts.
fn account_fields(kind: &Kind, home: &str, i: u64, fields: &mut Vec<(String, V)>) {
    let Some((_, aws, project, subscription)) = ACCOUNTS.iter().find(|a| a.0 == home) else {
        return;
    };
    let set = |fields: &mut Vec<(String, V)>, key: &str, value: String| match fields
        .iter_mut()
        .find(|(k, _)| k == key)
    {
        Some((_, v)) => *v = V::Str(value),
        None => fields.insert(1, (key.to_string(), V::Str(value))),
    };
    match kind.provider {
        AWS => {
            let service = kind.rtype.split('_').nth(1).unwrap_or("ec2");
            let arn = format!("arn:aws:{service}:eu-west-1:{aws}:{}/r-{i:08}", kind.rtype);
            set(fields, "arn", arn);
            if kind.attrs.contains(&"owner_id") {
                set(fields, "owner_id", aws.to_string());
            }
        }
        GOOGLE => {
            set(fields, "project", project.to_string());
            let link = format!(
                "https://www.googleapis.com/compute/v1/projects/{project}/zones/europe-west1-b/instances/r-{i:08}"
            );
            set(fields, "self_link", link);
        }
        AZURE => {
            let id = format!(
                "/subscriptions/{subscription}/resourceGroups/rg-{home}/providers/Microsoft.Compute/{}/r-{i:08}",
                kind.rtype
            );
            set(fields, "id", id);
        }
        _ => {}
    }
}

fn derive(cfg: &Config, i: u64) -> Resource {
    let mut rng = Rng::new(cfg.seed, i);
    let extra = if cfg.accounts { AZURE_KINDS.len() } else { 0 };
    let pick = rng.below((KINDS.len() + extra) as u64) as usize;
    let kind = KINDS
        .get(pick)
        .unwrap_or_else(|| &AZURE_KINDS[pick - KINDS.len()]);
    let data = rng.percent(cfg.data_percent);
    let act = if data {
        if rng.percent(30) {
            Act::Read
        } else {
            Act::NoOp
        }
    } else {
        let roll = rng.below(cfg.mix[5].1);
        cfg.mix
            .iter()
            .find(|(_, upto)| roll < *upto)
            .map(|(a, _)| *a)
            .unwrap_or(Act::NoOp)
    };
    let index = rng.percent(30).then(|| rng.below(8));
    let name = format!("{}_{}", kind.rtype.split('_').nth(1).unwrap_or("r"), i);
    let module = module_of(cfg, i).map(|m| format!("module.svc_{m}"));
    let mut address = String::new();
    if let Some(m) = &module {
        address.push_str(m);
        address.push('.');
    }
    if data {
        address.push_str("data.");
    }
    let _ = write!(address, "{}.{}", kind.rtype, name);
    if let Some(k) = index {
        let _ = write!(address, "[{k}]");
    }

    // Between 3 and 75 attributes: most resources have a few dozen, some many more.
    let target = 3 + (rng.below(73) * rng.below(73) / 72) as usize;
    let mut fields: Vec<(String, V)> = Vec::new();
    let mut sensitive: Vec<(String, V)> = Vec::new();
    fields.push((
        "id".into(),
        V::Str(format!("{}-{}", kind.rtype, rng.word(17))),
    ));
    for a in kind.attrs {
        let v = if *a == "assume_role_policy" {
            V::Str("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}".into())
        } else if ["name", "bucket", "identifier", "function_name", "db_name"].contains(a) {
            V::Str(format!(
                "{}-{}-{}",
                name.replace('_', "-"),
                cfg.env,
                rng.word(4)
            ))
        } else {
            scalar(&mut rng, a)
        };
        fields.push((a.to_string(), v));
    }
    for s in kind.sensitive {
        fields.push((s.to_string(), V::Str(format!("secret-{}", rng.word(24)))));
        sensitive.push((s.to_string(), V::Bool(true)));
    }
    let home = match kind.tagging {
        Tagging::Tags => {
            let (tags, home) = labels(&mut rng, cfg, true);
            let mut all = tags.clone();
            if let V::Obj(m) = &mut all {
                m.push(("provisioner".into(), V::Str("default-tags".into())));
            }
            fields.push(("tags".into(), tags));
            fields.push(("tags_all".into(), all));
            home
        }
        Tagging::AzureTags => {
            let (tags, home) = labels(&mut rng, cfg, true);
            fields.push(("tags".into(), tags));
            home
        }
        Tagging::Labels => {
            let (labels, home) = labels(&mut rng, cfg, false);
            fields.push(("labels".into(), labels));
            home
        }
        Tagging::Metadata => {
            let ns = if kind.rtype == "kubernetes_namespace" {
                format!("{}-{}", cfg.env, rng.word(5))
            } else {
                format!("ns-{}", rng.word(6))
            };
            let name = V::Str(format!("{name}-{}", rng.word(5)));
            let (labels, home) = labels(&mut rng, cfg, false);
            let meta = V::Obj(vec![
                ("name".into(), name),
                ("namespace".into(), V::Str(ns)),
                ("labels".into(), labels),
                (
                    "annotations".into(),
                    V::Obj(vec![("owner".into(), V::Str(rng.word(10)))]),
                ),
                ("generation".into(), V::Num(rng.below(50) as i64)),
                (
                    "resource_version".into(),
                    V::Str(rng.below(1_000_000).to_string()),
                ),
            ]);
            fields.push(("metadata".into(), V::List(vec![meta])));
            home
        }
    };
    for b in kind.blocks {
        if fields.len() < target || rng.percent(50) {
            fields.push((b.to_string(), block(&mut rng, b)));
        }
    }
    let mut f = 0;
    while fields.len() < target {
        let key = format!("{}_{f}", FILLER[rng.below(FILLER.len() as u64) as usize]);
        let v = scalar(&mut rng, &key);
        fields.push((key, v));
        f += 1;
    }

    if cfg.accounts {
        account_fields(kind, &home, i, &mut fields);
    }
    let before = V::Obj(fields);
    let mut after = before.clone();
    if let V::Obj(m) = &mut after {
        if matches!(act, Act::Update) || act.replaces() {
            for (_, v) in m.iter_mut().skip(1).take(2) {
                *v = V::Str(format!("changed-{}", rng.word(12)));
            }
        }
    }
    let unknown_keys: &[&str] = if matches!(act, Act::Create) || act.replaces() {
        &["id", "arn"]
    } else {
        &[]
    };
    let after_unknown = V::Obj(
        unknown_keys
            .iter()
            .map(|k| (k.to_string(), V::Bool(true)))
            .collect(),
    );
    let sens = V::Obj(sensitive);
    let expressions = V::Obj(
        kind.attrs
            .iter()
            .take(4)
            .map(|a| {
                let e = if rng.percent(50) {
                    V::Obj(vec![("constant_value".into(), V::Str(rng.word(10)))])
                } else {
                    V::Obj(vec![(
                        "references".into(),
                        V::List(vec![V::Str(format!("var.{a}")), V::Str("var".into())]),
                    )])
                };
                (a.to_string(), e)
            })
            .collect(),
    );
    Resource {
        drift: act.has_before() && !data && rng.percent(cfg.drift_percent),
        address,
        module,
        data,
        kind,
        name,
        index,
        act,
        before_sensitive: if act.has_before() {
            sens.clone()
        } else {
            V::Bool(false)
        },
        after_sensitive: if act.has_after() {
            sens
        } else {
            V::Bool(false)
        },
        before: if act.has_before() { before } else { V::Null },
        after: if act.has_after() { after } else { V::Null },
        after_unknown,
        expressions,
    }
}

fn common_fields(r: &Resource, out: &mut String) {
    out.push_str("\"address\":");
    write_str(&r.address, out);
    if let Some(m) = &r.module {
        out.push_str(",\"module_address\":");
        write_str(m, out);
    }
    let _ = write!(
        out,
        ",\"mode\":\"{}\",\"type\":\"{}\",\"name\":\"{}\"",
        if r.data { "data" } else { "managed" },
        r.kind.rtype,
        r.name
    );
    if let Some(k) = r.index {
        let _ = write!(out, ",\"index\":{k}");
    }
    let _ = write!(out, ",\"provider_name\":\"{}\"", r.kind.provider);
}

fn state_resource(r: &Resource, values: &V, sensitive: &V, out: &mut String) {
    out.push('{');
    common_fields(r, out);
    out.push_str(",\"schema_version\":0,\"values\":");
    write_json(values, out);
    out.push_str(",\"sensitive_values\":");
    write_json(sensitive, out);
    out.push('}');
}

fn change(r: &Resource, out: &mut String) {
    out.push('{');
    common_fields(r, out);
    let _ = write!(
        out,
        ",\"change\":{{\"actions\":{},\"before\":",
        r.act.list()
    );
    write_json(&r.before, out);
    out.push_str(",\"after\":");
    write_json(&r.after, out);
    out.push_str(",\"after_unknown\":");
    write_json(&r.after_unknown, out);
    out.push_str(",\"before_sensitive\":");
    write_json(&r.before_sensitive, out);
    out.push_str(",\"after_sensitive\":");
    write_json(&r.after_sensitive, out);
    if r.act.replaces() {
        out.push_str(",\"replace_paths\":[[\"ami\"],[\"tags\",\"Name\"]]");
    }
    out.push('}');
    if r.act.replaces() {
        out.push_str(",\"action_reason\":\"replace_because_cannot_update\"");
    } else if r.act == Act::Read {
        out.push_str(",\"action_reason\":\"read_because_dependency_pending\"");
    }
    out.push('}');
}

fn drift(r: &Resource, out: &mut String) {
    out.push('{');
    common_fields(r, out);
    out.push_str(",\"change\":{\"actions\":[\"update\"],\"before\":");
    write_json(&r.before, out);
    out.push_str(",\"after\":");
    write_json(&r.before, out);
    out.push_str(",\"after_unknown\":{},\"before_sensitive\":");
    write_json(&r.before_sensitive, out);
    out.push_str(",\"after_sensitive\":");
    write_json(&r.before_sensitive, out);
    out.push_str("}}");
}

/// Writes one module tree (root resources, then child modules of 50) for the chosen resources.
fn module_tree<W: Write>(
    cfg: &Config,
    w: &mut W,
    include: impl Fn(&Resource) -> bool,
    emit: impl Fn(&Resource, &mut String),
) -> std::io::Result<()> {
    let mut buf = String::new();
    w.write_all(b"{\"resources\":[")?;
    let mut current: Option<u64> = None;
    let mut first = true;
    for i in 0..cfg.resources {
        let m = module_of(cfg, i);
        if m != current {
            let m = m.unwrap_or_default();
            let open = if current.is_none() {
                "],\"child_modules\":["
            } else {
                "]},"
            };
            w.write_all(open.as_bytes())?;
            write!(w, "{{\"address\":\"module.svc_{m}\",\"resources\":[")?;
            current = Some(m);
            first = true;
        }
        let r = derive(cfg, i);
        if !include(&r) {
            continue;
        }
        buf.clear();
        if !first {
            buf.push(',');
        }
        first = false;
        emit(&r, &mut buf);
        w.write_all(buf.as_bytes())?;
    }
    w.write_all(if current.is_some() { b"]}]}" } else { b"]}" })?;
    Ok(())
}

fn flat_list<W: Write>(
    cfg: &Config,
    w: &mut W,
    include: impl Fn(&Resource) -> bool,
    emit: impl Fn(&Resource, &mut String),
) -> std::io::Result<()> {
    let mut buf = String::new();
    w.write_all(b"[")?;
    let mut first = true;
    for i in 0..cfg.resources {
        let r = derive(cfg, i);
        if !include(&r) {
            continue;
        }
        buf.clear();
        if !first {
            buf.push(',');
        }
        first = false;
        emit(&r, &mut buf);
        w.write_all(buf.as_bytes())?;
    }
    w.write_all(b"]")
}

fn generate<W: Write>(cfg: &Config, w: &mut W) -> std::io::Result<()> {
    write!(
        w,
        "{{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.8\",\"variables\":{{\"environment\":{{\"value\":\"{}\"}},\"region\":{{\"value\":\"eu-west-1\"}}}},\"planned_values\":{{\"root_module\":",
        cfg.env
    )?;
    module_tree(
        cfg,
        w,
        |r| r.act.has_after(),
        |r, out| state_resource(r, &r.after, &r.after_sensitive, out),
    )?;
    w.write_all(b"},\"resource_drift\":")?;
    flat_list(cfg, w, |r| r.drift, drift)?;
    w.write_all(b",\"resource_changes\":")?;
    flat_list(cfg, w, |_| true, change)?;
    w.write_all(b",\"prior_state\":{\"format_version\":\"1.0\",\"terraform_version\":\"1.9.8\",\"values\":{\"root_module\":")?;
    module_tree(
        cfg,
        w,
        |r| r.act.has_before(),
        |r, out| state_resource(r, &r.before, &r.before_sensitive, out),
    )?;
    w.write_all(b"}},\"configuration\":{\"provider_config\":{\"aws\":{\"name\":\"aws\",\"full_name\":\"registry.terraform.io/hashicorp/aws\"}},\"root_module\":")?;
    module_tree(
        cfg,
        w,
        |_| true,
        |r, out| {
            out.push('{');
            let _ = write!(
            out,
            "\"address\":\"{}.{}\",\"mode\":\"{}\",\"type\":\"{}\",\"name\":\"{}\",\"provider_config_key\":\"{}\",\"expressions\":",
            r.kind.rtype,
            r.name,
            if r.data { "data" } else { "managed" },
            r.kind.rtype,
            r.name,
            r.kind.rtype.split('_').next().unwrap_or("aws")
        );
            write_json(&r.expressions, out);
            out.push_str(",\"schema_version\":0}");
        },
    )?;
    w.write_all(b"},\"relevant_attributes\":[],\"timestamp\":\"2025-01-01T00:00:00Z\",\"applyable\":true,\"complete\":true,\"errored\":false}\n")?;
    Ok(())
}

fn parse_mix(spec: &str) -> Result<[(Act, u64); 6], String> {
    let mut weights = [60u64, 12, 14, 6, 4, 4];
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (name, w) = part
            .split_once('=')
            .ok_or(format!("bad mix entry {part}"))?;
        let w: u64 = w.parse().map_err(|_| format!("bad weight in {part}"))?;
        let slot = match name {
            "no-op" => 0,
            "create" => 1,
            "update" => 2,
            "delete" => 3,
            "delete-create" => 4,
            "create-delete" => 5,
            _ => return Err(format!("unknown action {name} in --mix")),
        };
        weights[slot] = w;
    }
    let acts = [
        Act::NoOp,
        Act::Create,
        Act::Update,
        Act::Delete,
        Act::DeleteCreate,
        Act::CreateDelete,
    ];
    let mut total = 0;
    let mut out = [(Act::NoOp, 0); 6];
    for (i, (a, w)) in acts.into_iter().zip(weights).enumerate() {
        total += w;
        out[i] = (a, total);
    }
    if total == 0 {
        return Err("--mix weights add up to 0".into());
    }
    Ok(out)
}

fn parse_args() -> Result<Config, String> {
    let mut cfg = Config {
        resources: 1000,
        seed: 42,
        env: "staging".into(),
        foreign_percent: 1,
        mix: parse_mix("")?,
        data_percent: 5,
        drift_percent: 2,
        untagged_percent: 2,
        accounts: false,
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--resources" => cfg.resources = number(value()?)?,
            "--seed" => cfg.seed = number(value()?)?,
            "--env" => cfg.env = value()?,
            "--foreign-env-percent" => cfg.foreign_percent = number(value()?)?,
            "--mix" => cfg.mix = parse_mix(&value()?)?,
            "--data-percent" => cfg.data_percent = number(value()?)?,
            "--drift-percent" => cfg.drift_percent = number(value()?)?,
            "--untagged-percent" => cfg.untagged_percent = number(value()?)?,
            "--accounts" => cfg.accounts = true,
            "--out" => cfg.out = Some(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(cfg)
}

fn main() {
    let cfg = match parse_args() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let result = match &cfg.out {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = BufWriter::with_capacity(1 << 20, f);
            generate(&cfg, &mut w)?;
            w.flush()
        }),
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
            generate(&cfg, &mut w).and_then(|()| w.flush())
        }
    };
    if let Err(e) = result {
        eprintln!("genplan: {e}");
        std::process::exit(1);
    }
}
