//! Deterministic generator of `--context` files for the benchmark harness (`bench/run.sh
//! --context`): `terraform show -json` of another project's state, whose resources name some of
//! what a plan destroys. Not part of the shipped binaries.
//!
//! `cargo run --release --example gencontext -- --plan plan.json --resources 50000 --project 2
//!  --dependents 300 --out context-2.json`
//!
//! The identities (`id`, `arn`, `self_link`) of the resources the plan deletes or replaces are
//! read with plangate's own plan reader; `--dependents` resources of the state, spread evenly,
//! hold one of them in an attribute (a route naming a VPC, an attachment naming a target group),
//! each context a different share of them. The other resources hold values of the same kinds
//! that name nothing the plan destroys. The same arguments always give the same bytes.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

const USAGE: &str = "usage: gencontext --plan PLAN --resources N [--project K] [--dependents D]
                  [--seed S] --out PATH";

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

struct Config {
    plan: String,
    resources: usize,
    project: u64,
    dependents: usize,
    seed: u64,
    out: String,
}

/// Resource types of a dependent project, each with the attribute that names another
/// project's object.
const KINDS: [(&str, &str); 5] = [
    ("aws_route", "vpc_peering_connection_id"),
    ("aws_security_group_rule", "source_security_group_id"),
    ("aws_lb_target_group_attachment", "target_group_arn"),
    ("aws_iam_role_policy_attachment", "policy_arn"),
    ("aws_route53_record", "alias_target"),
];

fn parse_args() -> Result<Config, String> {
    let mut cfg = Config {
        plan: String::new(),
        resources: 0,
        project: 1,
        dependents: 300,
        seed: 42,
        out: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number"))
        };
        match flag.as_str() {
            "--plan" => cfg.plan = value,
            "--resources" => cfg.resources = number(&value)? as usize,
            "--project" => cfg.project = number(&value)?,
            "--dependents" => cfg.dependents = number(&value)? as usize,
            "--seed" => cfg.seed = number(&value)?,
            "--out" => cfg.out = value,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if cfg.plan.is_empty() || cfg.out.is_empty() || cfg.resources == 0 {
        return Err("--plan, --resources and --out are required".into());
    }
    Ok(cfg)
}

/// The identities of what the plan destroys, in plan order.
fn destroyed_identities(path: &str) -> Result<Vec<String>, String> {
    let source =
        plangate::input::plan::PlanSource::read(Path::new(path)).map_err(|e| e.to_string())?;
    let plan = source.parse().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for change in &plan.changes {
        if !(change.is_managed() && change.action.destroys()) {
            continue;
        }
        let Some(raw) = change.before else { continue };
        let before: serde_json::Value =
            serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        // One identity per resource: the ARN where there is one, else the ID or self link.
        if let Some(id) = ["arn", "self_link", "id"]
            .iter()
            .find_map(|k| before.get(*k).and_then(|v| v.as_str()))
        {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

fn resource(cfg: &Config, rng: &mut Rng, i: usize, named: Option<&str>, out: &mut String) {
    let (kind, link) = KINDS[i % KINDS.len()];
    let _ = write!(
        out,
        "{{\"address\":\"{kind}.r{i}\",\"mode\":\"managed\",\"type\":\"{kind}\",\"name\":\"r{i}\",\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"schema_version\":0,\"values\":{{\"id\":\"ctx{}-{kind}-{}\"",
        cfg.project,
        rng.word(17)
    );
    // What it links to: the destroyed object, or one of its own project's.
    let target = named.map(str::to_string).unwrap_or_else(|| {
        format!(
            "arn:aws:ec2:eu-west-1:{:012}:ctx-{}",
            cfg.project,
            rng.word(20)
        )
    });
    let _ = write!(out, ",\"{link}\":\"{target}\"");
    for a in 0..24 {
        match rng.below(4) {
            0 => {
                let _ = write!(out, ",\"attr_{a}\":{}", rng.below(100_000));
            }
            1 => {
                let _ = write!(out, ",\"attr_{a}\":{}", rng.percent(50));
            }
            _ => {
                let len = 8 + rng.below(40) as usize;
                let _ = write!(out, ",\"attr_{a}\":\"{}\"", rng.word(len));
            }
        }
    }
    let _ = write!(
        out,
        ",\"tags\":{{\"team\":\"team-{}\",\"managed_by\":\"terraform\"}}}},\"sensitive_values\":{{\"tags\":{{}}}}}}",
        rng.below(50)
    );
}

fn run(cfg: &Config) -> Result<(), String> {
    let identities = destroyed_identities(&cfg.plan)?;
    let file = std::fs::File::create(&cfg.out).map_err(|e| format!("{}: {e}", cfg.out))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng::new(cfg.seed, cfg.project);
    let dependents = cfg.dependents.min(cfg.resources);
    let stride = cfg.resources.checked_div(dependents).unwrap_or(usize::MAX);
    let mut buf = String::new();
    let io = |e: std::io::Error| format!("{}: {e}", cfg.out);
    w.write_all(b"{\"format_version\":\"1.0\",\"terraform_version\":\"1.9.8\",\"values\":{\"root_module\":{\"resources\":[")
        .map_err(io)?;
    for i in 0..cfg.resources {
        buf.clear();
        if i > 0 {
            buf.push(',');
        }
        // Each context names a different stretch of the destroyed identities.
        let named = (!identities.is_empty() && i.is_multiple_of(stride) && i / stride < dependents)
            .then(|| {
                let at = (i / stride + cfg.project as usize * dependents) % identities.len();
                identities[at].as_str()
            });
        resource(cfg, &mut rng, i, named, &mut buf);
        w.write_all(buf.as_bytes()).map_err(io)?;
    }
    w.write_all(b"]}}}\n").map_err(io)?;
    w.flush().map_err(io)
}

fn main() {
    let cfg = match parse_args() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("gencontext: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&cfg) {
        eprintln!("gencontext: {e}");
        std::process::exit(2);
    }
}
