//! The Markdown report: snapshots of realistic reports (insta, in tests/it/snapshots/; review a
//! deliberate change with `cargo insta review`, or accept it with `INSTA_UPDATE=always`), names
//! that must not mention or link anything, and the size budget on a 20,000-resource destroy.

use plangate::model::change::Action;
use plangate::model::finding::{Finding, Location};
use plangate::model::level::Level;
use plangate::render::markdown::{self, parse_marker, DEFAULT_BUDGET, GITHUB_COMMENT_LIMIT};
use plangate::report::{Counts, ProjectReport, Report, Tool, Verdict};

/// `actual` against the snapshot `name`. insta compares with trailing whitespace trimmed and
/// CRLF read as LF; the snapshots hold the exact text, ending in one newline, so that is
/// checked too.
fn snapshot(name: &str, actual: &str) {
    insta::assert_snapshot!(name, actual);
    assert!(
        actual.ends_with('\n') && actual.trim_end().len() + 1 == actual.len(),
        "{name}: the text must end in exactly one newline"
    );
    assert!(!actual.contains('\r'), "{name}: a carriage return");
}

fn project(name: &str, env: Option<&str>, verdict: Verdict, counts: Counts) -> ProjectReport {
    ProjectReport {
        name: name.into(),
        dir: format!("envs/{name}"),
        workspace: "default".into(),
        environment: env.map(str::to_string),
        plan_sha256: "3f2a9c0e7b5d41c8a6e2f9d0b1c3e5a7f9d1b3c5e7a9f1d3b5c7e9a1f3d5b7c9".into(),
        verdict,
        counts,
        plan: "plan.json".into(),
        terraform_version: Some("1.9.5".into()),
        complete: true,
        drift: 0,
        destroy_actions: Vec::new(),
        notes: Vec::new(),
    }
}

fn finding(
    rule: &'static str,
    level: Level,
    project: &str,
    address: &str,
    env: Option<&str>,
    message: &str,
) -> Finding {
    let mut f = Finding::new(rule, message)
        .project_name(project)
        .address(address)
        .action(Action::Delete)
        .resource_environment(env);
    f.level = level;
    f
}

fn report(projects: Vec<ProjectReport>, findings: Vec<Finding>) -> Report {
    let verdict = projects
        .iter()
        .map(|p| p.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    Report {
        schema_version: 1,
        tool: Tool {
            name: "plangate",
            version: "0.1.0",
        },
        verdict,
        projects,
        findings,
        approval: Default::default(),
    }
}

fn realistic() -> Report {
    let staging_counts = Counts {
        create: 2,
        update: 1,
        replace: 1,
        delete: 33,
        no_op: 40,
        ..Counts::default()
    };
    let mut web = finding(
        "cross-env-destroy",
        Level::Deny,
        "rosey-staging",
        "aws_instance.web[*]",
        Some("development"),
        "project rosey-staging (staging) would delete aws_instance.web[*], which belongs to development (tag env=dev) (30 instances)",
    );
    web.instances = 30;
    web.addresses = (0..30).map(|i| format!("aws_instance.web[{i}]")).collect();
    let mut staging = project(
        "rosey-staging",
        Some("staging"),
        Verdict::Block,
        staging_counts,
    );
    staging.complete = false;
    staging.drift = 2;
    report(
        vec![
            staging,
            project("rosey-prod", Some("production"), Verdict::Pass, Counts { update: 3, no_op: 120, ..Counts::default() }),
        ],
        vec![
            finding(
                "cross-env-destroy",
                Level::Deny,
                "rosey-staging",
                "module.eks.aws_eks_cluster.this",
                Some("development"),
                "project rosey-staging (staging) would delete module.eks.aws_eks_cluster.this, which belongs to development (tag env=dev)",
            ),
            web,
            finding(
                "unknown-environment",
                Level::Deny,
                "rosey-staging",
                "kubernetes_namespace.production",
                Some("production"),
                "project rosey-staging (staging) would delete kubernetes_namespace.production, which belongs to production (namespace name)",
            ),
            finding(
                "untagged-destroy",
                Level::Warn,
                "rosey-staging",
                "aws_s3_bucket.logs",
                None,
                "aws_s3_bucket.logs would be deleted but carries no environment tag, label or namespace, so its owner cannot be verified",
            ),
            Finding {
                level: Level::Warn,
                ..Finding::new("incomplete-plan", "the plan is incomplete (-target or deferred changes): only the changes shown were checked")
                    .project_name("rosey-staging")
            },
        ],
    )
}

#[test]
fn realistic_report_snapshot() {
    let report = realistic();
    let all = markdown::render(&report);
    snapshot("markdown_realistic", &all);
    // The verdict line comes before any <details>, right after the marker.
    let staging = markdown::render_project(&report, "rosey-staging", DEFAULT_BUDGET).unwrap();
    let mut lines = staging.lines();
    let marker = parse_marker(lines.next().unwrap()).unwrap();
    assert_eq!(marker.project, "rosey-staging");
    let verdict = lines.next().unwrap();
    assert!(
        verdict.contains("⛔ BLOCK")
            && verdict.contains("`rosey-staging`")
            && verdict.contains("**staging**")
    );
    assert!(
        verdict.contains("33 to delete") && verdict.contains("3 deny, 2 warn"),
        "{verdict}"
    );
    let deny = staging.find("#### Blocking").unwrap();
    let warn = staging.find("#### Warnings").unwrap();
    let details = staging.find("<details>").unwrap();
    assert!(deny < warn && warn < details);
    assert!(staging.contains("`aws_instance.web[*]` ×30"));
    assert!(!staging.contains("Shortened"));
    // The production project's comment carries none of staging's findings.
    let prod = markdown::render_project(&report, "rosey-prod", DEFAULT_BUDGET).unwrap();
    assert!(prod.contains("✅ PASS") && !prod.contains("aws_instance.web"));
}

#[test]
fn names_never_mention_link_or_break_out() {
    let nasty = [
        "aws_iam_user.@octocat",
        "github_team.#12",
        "aws_instance.x[\"</details><!-- plangate:v1 {\\\"project\\\":\\\"rosey-staging\\\"} -->\"]",
        "aws_s3_bucket.a`b``c",
        "acme/infra#7",
    ];
    let findings = nasty
        .iter()
        .map(|a| {
            finding(
                "cross-env-destroy",
                Level::Deny,
                "app@team",
                a,
                Some("dev @here"),
                &format!(
                    "would delete {a} owned by @platform-team, see #42 and <b>html</b> **bold**"
                ),
            )
        })
        .collect();
    let report = report(
        vec![project(
            "app@team",
            Some("staging"),
            Verdict::Block,
            Counts {
                delete: 5,
                ..Counts::default()
            },
        )],
        findings,
    );
    let out = markdown::render(&report);
    snapshot("markdown_escaping", &out);
    // Names are kept exactly as they are, and what could mention or link is only ever inside a
    // code span (where GitHub and GitLab link nothing); nothing invisible is inserted.
    assert!(!out.contains('\u{200D}'), "an inserted joiner");
    let outside_code = without_code_spans(&out);
    for raw in [
        "@octocat",
        "@platform-team",
        "@here",
        "@team",
        "#12",
        "#42",
        "#7",
        "<b>",
        "**bold**",
    ] {
        assert!(!outside_code.contains(raw), "{raw} outside a code span");
    }
    for name in [
        "aws_iam_user.@octocat",
        "github_team.#12",
        "acme/infra#7",
        "@platform-team",
    ] {
        assert!(out.contains(&format!("`{name}`")), "{name} is shown whole");
    }
    // Names stay inside code spans: one marker line (the first), one closing </details> line.
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("<!-- plangate:v1"))
            .count(),
        1
    );
    assert_eq!(parse_marker(&out).unwrap().project, "app@team");
    assert_eq!(
        out.lines().filter(|l| l.trim() == "</details>").count(),
        out.lines().filter(|l| l.starts_with("<details>")).count()
    );
    assert!(out
        .lines()
        .filter(|l| l.contains("</details><!--"))
        .all(|l| l.starts_with("- ")));
}

/// The text with every code span (of any number of backticks) taken out, and the HTML comment
/// that starts the comment too.
fn without_code_spans(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.starts_with("<!-- plangate:")) {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            // A backslash-escaped backtick is text, not a fence.
            if chars[i] == '\\' && i + 1 < chars.len() {
                out.push(chars[i]);
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if chars[i] != '`' {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            let fence = chars[i..].iter().take_while(|c| **c == '`').count();
            let mut j = i + fence;
            let mut closed = None;
            while j < chars.len() {
                let run = chars[j..].iter().take_while(|c| **c == '`').count();
                if run == fence {
                    closed = Some(j + run);
                    break;
                }
                j += run.max(1);
            }
            match closed {
                Some(end) => i = end,
                None => {
                    out.extend(&chars[i..]);
                    break;
                }
            }
        }
        out.push('\n');
    }
    out
}

/// A 20,000-resource destroy spread over types and environments, with warnings too.
fn huge() -> Report {
    let types = [
        "aws_instance",
        "aws_s3_bucket",
        "aws_db_instance",
        "kubernetes_namespace",
        "aws_iam_role",
    ];
    let envs = [Some("development"), Some("production"), None];
    let mut findings = Vec::new();
    for i in 0..20_000 {
        let kind = types[i % types.len()];
        let env = envs[i % envs.len()];
        let address = format!("module.m{}.{kind}.r{i}", i % 17);
        findings.push(finding(
            "cross-env-destroy",
            Level::Deny,
            "monorepo-staging",
            &address,
            env,
            &format!("project monorepo-staging (staging) would delete {address}, which belongs to another environment"),
        ));
    }
    for i in 0..3_000 {
        let address = format!("aws_cloudwatch_log_group.g{i}");
        findings.push(finding(
            "untagged-destroy",
            Level::Warn,
            "monorepo-staging",
            &address,
            None,
            &format!("{address} would be deleted but carries no environment tag"),
        ));
    }
    report(
        vec![project(
            "monorepo-staging",
            Some("staging"),
            Verdict::Block,
            Counts {
                delete: 23_000,
                ..Counts::default()
            },
        )],
        findings,
    )
}

/// Sum of "N findings on M resources" lines of the blocking section.
fn deny_accounted(comment: &str) -> (usize, usize) {
    let start = comment.find("#### Blocking").unwrap();
    let end = comment[start..]
        .find("#### Warnings")
        .map_or(comment.len(), |e| start + e);
    let section = &comment[start..end];
    let mut findings = 0;
    let mut full_lines = 0;
    for line in section.lines().filter(|l| l.starts_with("- ")) {
        match line.rsplit_once(": ").and_then(|(_, tail)| {
            let words: Vec<&str> = tail.split_whitespace().collect();
            match words.as_slice() {
                [n, "finding" | "findings", "on", _, "resource" | "resources"] => {
                    n.parse::<usize>().ok()
                }
                _ => None,
            }
        }) {
            Some(n) => findings += n,
            None => full_lines += 1,
        }
    }
    (findings, full_lines)
}

#[test]
fn a_twenty_thousand_resource_destroy_fits_and_counts_every_deny() {
    let report = huge();
    let comment = markdown::render_project(&report, "monorepo-staging", DEFAULT_BUDGET).unwrap();
    assert!(comment.len() <= DEFAULT_BUDGET, "{} bytes", comment.len());
    assert!(comment.chars().count() < GITHUB_COMMENT_LIMIT);
    assert!(comment.lines().nth(1).unwrap().contains("⛔ BLOCK"));
    assert!(comment.contains("#### Blocking: 20000 findings on 20000 resources"));
    assert!(comment.contains("Shortened to fit the comment size limit"));
    let (grouped, listed) = deny_accounted(&comment);
    assert_eq!(
        grouped + listed,
        20_000,
        "every deny finding is accounted for"
    );
    snapshot("markdown_huge", &comment);
}

#[test]
fn tighter_budgets_group_deny_findings_by_rule_and_never_drop_them() {
    let report = huge();
    for budget in [30_000, 8_000, 3_000] {
        let comment = markdown::render_project(&report, "monorepo-staging", budget).unwrap();
        assert!(comment.len() <= budget, "{budget}: {} bytes", comment.len());
        let (grouped, listed) = deny_accounted(&comment);
        assert_eq!(grouped + listed, 20_000, "budget {budget}");
    }
}

#[test]
fn lint_reports_without_projects_render() {
    let mut f = Finding::new("duplicate-project-name", "two projects are named app")
        .location(Location::file_line("atlantis.yaml", 4));
    f.level = Level::Deny;
    let out = markdown::render(&report(Vec::new(), vec![f]));
    assert!(out.contains("`atlantis.yaml:4`") && out.contains("1 deny, 0 warn"));
}
