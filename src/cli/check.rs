//! `plangate check`: the arguments, reading them into a request, and what each Atlantis mode
//! prints and does once the report is made.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::output::{append_file, parse_outputs, stdout_style, write_stdout};
use super::repository::{
    base_ref_from_env, current_dir, load_atlantis, load_policy, policy_sources, repo_root,
};
use super::{exit_code, report_error, Outcome};
use crate::forge::{self, CommentMode};
use crate::integration::atlantis::{AtlantisMode, AtlantisStep};
use crate::model::approval::{ApprovalNote, ApprovalSubject};
use crate::model::intent::DestroyIntent;
use crate::pipeline::{self, CheckRequest, PlanArg};
use crate::render::{self, policy_check, step_outputs, Format, Style};
use crate::report::{Report, Verdict};
use crate::{Error, Result};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Plan JSON from `terraform show -json PLANFILE`, as PATH or PROJECT=PATH (repeatable; `-` reads stdin)
    #[arg(long = "plan", value_name = "[PROJECT=]PATH")]
    pub plans: Vec<String>,
    /// Another project's state (`terraform show -json`) or plan, as PATH or PROJECT=PATH, read only to find what depends on what the plans destroy (repeatable)
    #[arg(long = "context", value_name = "[PROJECT=]PATH")]
    pub contexts: Vec<String>,
    /// The repository's atlantis.yaml (default: found in the current dir or its parents up to the git root)
    #[arg(long, value_name = "PATH")]
    pub atlantis: Option<PathBuf>,
    /// The Atlantis project of a single --plan
    #[arg(long, env = "PROJECT_NAME", value_name = "NAME")]
    pub project: Option<String>,
    /// Find the project by its dir (relative to the repository root)
    #[arg(long, env = "REPO_REL_DIR", value_name = "DIR")]
    pub dir: Option<String>,
    /// Find the project by its Terraform workspace
    #[arg(long, env = "WORKSPACE", value_name = "NAME")]
    pub workspace: Option<String>,
    /// Force the project's environment (skips inference)
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// The operator's trusted policy; the repository's plangate.yaml may then only tighten it (default: the repository's plangate.yaml, checked against its base-branch version)
    #[arg(long, env = "PLANGATE_POLICY", value_name = "PATH")]
    pub policy: Option<PathBuf>,
    /// The repository's own policy file, a layer that may only tighten the trusted one (default: plangate.yaml or .plangate.yaml at the repository root)
    #[arg(long, value_name = "PATH")]
    pub repo_policy: Option<PathBuf>,
    /// The branch or commit the pull request merges into, to compare the repository's policy with [default: $BASE_BRANCH_NAME, $GITHUB_BASE_REF or $CI_MERGE_REQUEST_TARGET_BRANCH_NAME]
    #[arg(long, value_name = "REF")]
    pub base_ref: Option<String>,
    /// What goes to stdout [default: text; atlantis when $ATLANTIS_TERRAFORM_VERSION is set]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Also write another format to a file, as FORMAT=PATH (repeatable)
    #[arg(long = "output", value_name = "FORMAT=PATH")]
    pub outputs: Vec<String>,
    /// Atlantis integration mode [default: report inside an Atlantis step]
    #[arg(long, value_enum, env = "PLANGATE_MODE")]
    pub mode: Option<AtlantisMode>,
    /// Seconds `terraform show -json` may take when plangate makes the plan JSON itself in Atlantis
    #[arg(
        long,
        env = "PLANGATE_SHOW_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 600
    )]
    pub show_timeout: u64,
    /// Check every project of atlantis.yaml whose plan JSON is in the checkout (Atlantis's $SHOWFILE name, else plan.json in the project's dir), together
    #[arg(long, conflicts_with = "plans")]
    pub all_plans: bool,
    /// Append the verdict as GitHub Actions step outputs to this file ($GITHUB_OUTPUT)
    #[arg(long, value_name = "PATH")]
    pub github_output: Option<PathBuf>,
    /// Declared destroy intent for a project or environment (repeatable)
    #[arg(
        long = "allow-destroy-in",
        value_name = "PROJECT|ENV",
        env = "PLANGATE_ALLOW_DESTROY_IN",
        value_delimiter = ','
    )]
    pub allow_destroy_in: Vec<String>,
    /// Report mode: keep $PLANFILE of a blocked plan that an approval could let through, so that the apply stage's `--mode enforce` step checks the approval against it (only with that step)
    #[arg(long, env = "PLANGATE_KEEP_PLAN_FOR_APPROVAL")]
    pub keep_plan_for_approval: bool,
    #[command(flatten)]
    pub comment: CommentArgs,
}

/// The `check` options about the pull request and its comment.
#[derive(Args, Debug, Clone, Default)]
pub struct CommentArgs {
    /// Post or update the pull-request comment (default: auto in Atlantis and GitHub Actions, else off)
    #[arg(long, value_enum, value_name = "github|gitlab|auto|off")]
    pub comment: Option<CommentMode>,
    /// The repository of the pull request (GitLab: the project path, subgroups included)
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// The pull request (GitLab: merge request IID) to comment on
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// GitHub API base (default $GITHUB_API_URL, else https://api.github.com; Enterprise: https://HOST/api/v3)
    #[arg(long, value_name = "URL")]
    pub github_api_url: Option<String>,
    /// GitLab API base (default $CI_API_V4_URL, else derived from $PULL_URL)
    #[arg(long, value_name = "URL")]
    pub gitlab_api_url: Option<String>,
    /// Also set a commit status `plangate/<project>` on the head commit, for branch protection
    #[arg(long)]
    pub commit_status: bool,
    /// Seconds all the forge work of the run may take together (labels, comment, statuses); then plangate gives up on it with a warning
    #[arg(
        long,
        env = "PLANGATE_FORGE_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub forge_timeout: u64,
    /// One comment for the whole pull request (a section per project), or one per project
    #[arg(long, value_enum, value_name = "pr|project", default_value = "pr")]
    pub comment_scope: forge::CommentScope,
}

impl From<&CommentArgs> for forge::CommentArgs {
    fn from(a: &CommentArgs) -> forge::CommentArgs {
        forge::CommentArgs {
            comment: a.comment,
            repo: a.repo.clone(),
            pr: a.pr,
            github_api_url: a.github_api_url.clone(),
            gitlab_api_url: a.gitlab_api_url.clone(),
            commit_status: a.commit_status,
            forge_timeout: Some(a.forge_timeout),
            scope: a.comment_scope,
        }
    }
}

pub(super) fn run(mut args: CheckArgs) -> Result<i32> {
    let step = AtlantisStep::from_env(|name| std::env::var(name).ok());
    // Inside an Atlantis step the plan stage is the default.
    let mode = args
        .mode
        .or_else(|| step.as_ref().map(|_| AtlantisMode::Report));
    let format = args.format.take().unwrap_or_else(|| {
        match std::env::var_os("ATLANTIS_TERRAFORM_VERSION").filter(|v| !v.is_empty()) {
            Some(_) => Format::Atlantis,
            None => Format::Text,
        }
    });
    let github_output = args.github_output.take();
    let keep_for_approval = args.keep_plan_for_approval;
    let forge = forge::Settings::from_env(&forge::CommentArgs::from(&args.comment));
    let outcome = evaluate(args, step.as_ref(), mode, &forge);
    let code = exit_code(mode, outcome.as_ref().map(Outcome::Report));
    let keep = keep_for_approval && outcome.as_ref().is_ok_and(Report::could_be_approved);
    let note = match (keep, mode) {
        (true, Some(AtlantisMode::Report)) if code == 1 => Some(
            "the plan is kept for an approval; the apply stage's enforce step checks it again"
                .to_string(),
        ),
        _ => fail_closed(mode, step.as_ref(), code),
    };
    let report = match (mode, outcome) {
        (Some(AtlantisMode::PolicyCheck), outcome) => {
            if let Err(e) = &outcome {
                report_error(e);
            }
            let body = outcome
                .as_ref()
                .map(|r| render::render(format, r, &Style::default()))
                .unwrap_or_default();
            write_stdout(&policy_check::policy_check_output(outcome.as_ref(), &body))?;
            if let Ok(report) = &outcome {
                publish_comment(report, &forge);
            }
            return Ok(code);
        }
        (_, outcome) => outcome?,
    };
    if let Some(path) = github_output {
        append_file(&path, &step_outputs::outputs(&report))?;
    }
    let style = Style {
        note,
        ..stdout_style()
    };
    write_stdout(&render::render(format, &report, &style))?;
    publish_comment(&report, &forge);
    Ok(code)
}

/// What the Atlantis mode does about a plan that did not pass, said in the report's first line:
/// in `report` mode the plan file is deleted (a plan that is blocked, or that could not be
/// checked, must not be applied); in `enforce` mode the apply stops.
fn fail_closed(
    mode: Option<AtlantisMode>,
    step: Option<&AtlantisStep>,
    code: i32,
) -> Option<String> {
    if code == 0 {
        return None;
    }
    match (mode, step) {
        (Some(AtlantisMode::Report), Some(step)) => match step.delete_planfile() {
            Ok(Some(plan)) => {
                eprintln!(
                    "plangate: deleted {} so that this plan cannot be applied",
                    plan.display()
                );
                Some("the plan was deleted, nothing can be applied".into())
            }
            Ok(None) => None,
            Err(e) => {
                eprintln!("plangate: error: could not delete $PLANFILE: {e}");
                None
            }
        },
        (Some(AtlantisMode::Enforce), _) => Some("the apply stops here".into()),
        _ => None,
    }
}

/// `--all-plans`: the plan JSON of every atlantis.yaml project that has one in the checkout.
/// Atlantis clones each workspace apart (`.../<pull>/<workspace>/`): a project of another
/// workspace is looked for in its sibling clone.
fn all_plans(
    atlantis: Option<&crate::model::atlantis::AtlantisConfig>,
    root: &std::path::Path,
) -> Result<Vec<PlanArg>> {
    let atlantis = atlantis.ok_or_else(|| {
        Error::Usage(
            "--all-plans needs the repository's atlantis.yaml: pass --atlantis PATH".into(),
        )
    })?;
    let mut plans = Vec::new();
    for project in &atlantis.projects {
        let clone = match (root.file_name(), root.parent()) {
            (Some(name), Some(parent)) if name == "default" && project.workspace != "default" => {
                parent.join(&project.workspace)
            }
            _ => root.to_path_buf(),
        };
        let dir = clone.join(&project.dir);
        let names = [
            crate::integration::atlantis::showfile_name(
                project.name.as_deref(),
                &project.workspace,
            ),
            "plan.json".to_string(),
        ];
        if let Some(path) = names.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
            plans.push(PlanArg {
                project: Some(project.display_name()),
                path,
            });
        }
    }
    if plans.is_empty() {
        return Err(Error::Usage(format!(
            "--all-plans found no plan JSON for any project of {} (looked for Atlantis's $SHOWFILE names and plan.json in each project's dir): run `show` in the plan workflow",
            atlantis.path.display()
        )));
    }
    Ok(plans)
}

/// Post or update the pull-request comment. Posting never changes the verdict or the exit
/// code: a failure is a warning, and the report has already gone to stdout.
fn publish_comment(report: &Report, forge: &forge::Settings) {
    if let Err(e) = forge::publish(report, forge) {
        let _ = writeln!(std::io::stderr(), "plangate: warning: {e}");
    }
}

/// Lay the pull request's approvals over a blocked report (DESIGN section 14). Only a trusted
/// policy's approvers count; in `policy-check` mode Atlantis's `approve_policies` is the
/// override instead. Approvals that cannot be read approve nothing, with a warning.
fn approve(
    report: &mut Report,
    request: &CheckRequest,
    mode: Option<AtlantisMode>,
    forge: &forge::Settings,
) {
    let approvers = &request.policy.approvers;
    let warn = |report: &mut Report, text: String| {
        let _ = writeln!(std::io::stderr(), "plangate: warning: {text}");
        report
            .approval
            .approval_notes
            .push(ApprovalNote::ignored(text));
    };
    if let Some(why) = &request.review.approvals_ignored {
        return warn(report, why.clone());
    }
    if !approvers.any() || report.verdict != Verdict::Block {
        return;
    }
    if mode == Some(AtlantisMode::PolicyCheck) {
        let text = "policy-check mode: approvals are given with `atlantis approve_policies`, not read from comments";
        report
            .approval
            .approval_notes
            .push(ApprovalNote::ignored(text));
        return;
    }
    report.approval.approvable = true;
    let subjects: Vec<ApprovalSubject> = report
        .projects
        .iter()
        .filter(|p| p.verdict == Verdict::Block)
        .map(|p| ApprovalSubject {
            project: p.name.clone(),
            plan_sha256: p.plan_sha256.clone(),
            environment: p.environment.clone(),
            dir: p.dir.clone(),
        })
        .collect();
    match forge::approvals::read(forge, approvers, &subjects) {
        Ok(review) => report.apply_approvals(review),
        Err(e) => warn(report, format!("{e}; nothing is approved")),
    }
}

/// Destroy intent from `--allow-destroy-in` and the pull request's labels.
fn declared_intent(flags: Vec<String>, labels: Vec<String>) -> DestroyIntent {
    DestroyIntent {
        targets: flags
            .into_iter()
            .chain(labels)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

/// Read the inputs, run the rules and write the `--output` files; stdout is the caller's.
fn evaluate(
    args: CheckArgs,
    step: Option<&AtlantisStep>,
    mode: Option<AtlantisMode>,
    forge: &forge::Settings,
) -> Result<Report> {
    let cwd = current_dir()?;
    let outputs = parse_outputs(&args.outputs)?;
    let atlantis = load_atlantis(args.atlantis.as_deref(), &cwd)?;
    let root = repo_root(&cwd, atlantis.as_ref());
    let base_ref = args
        .base_ref
        .clone()
        .or_else(|| base_ref_from_env(&|k| std::env::var(k).ok()));
    let sources = policy_sources(
        args.policy.as_deref(),
        args.repo_policy.as_deref(),
        &root,
        base_ref,
    );
    let (policy, review) = load_policy(&sources)?;
    let local_dir = cwd
        .strip_prefix(&root)
        .ok()
        .map(|p| p.to_string_lossy().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| ".".into());
    // At the repository root, the folder's own name names the project.
    let local_name = if local_dir == "." {
        root.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| ".".into())
    } else {
        local_dir.clone()
    };
    let mut plans: Vec<PlanArg> = args.plans.iter().map(|p| PlanArg::parse(p)).collect();
    if args.all_plans {
        plans = all_plans(atlantis.as_ref(), &root)?;
    } else if let (true, Some(step)) = (plans.is_empty(), step) {
        // In an Atlantis step the plan is $SHOWFILE (made from $PLANFILE when needed).
        let deadline = std::time::Duration::from_secs(args.show_timeout);
        let path = step.plan_json(std::env::var_os("PATH").as_deref(), deadline)?;
        plans.push(PlanArg {
            project: None,
            path,
        });
    }
    // Pull-request labels `plangate:destroy:<target>` declare intent, so they are read first.
    let labels = forge::destroy_labels(forge).unwrap_or_else(|e| {
        let _ = writeln!(std::io::stderr(), "plangate: warning: {e}");
        Vec::new()
    });
    let request = CheckRequest {
        plans,
        contexts: args.contexts.iter().map(|c| PlanArg::parse(c)).collect(),
        atlantis,
        policy,
        project: args.project.filter(|s| !s.is_empty()),
        dir: args.dir.filter(|s| !s.is_empty()),
        workspace: args.workspace.filter(|s| !s.is_empty()),
        env: args.env,
        intent: declared_intent(args.allow_destroy_in, labels),
        review,
        local_dir,
        local_name,
    };
    let mut report = pipeline::run(&request)?;
    approve(&mut report, &request, mode, forge);
    write_outputs(&outputs, &report)?;
    Ok(report)
}

/// The `--output FORMAT=PATH` files.
fn write_outputs(outputs: &[(Format, PathBuf)], report: &Report) -> Result<()> {
    for (format, path) in outputs {
        let text = render::render(*format, report, &Style::default());
        std::fs::write(path, text)
            .map_err(|e| Error::input(path, format!("cannot be written: {e}")))?;
    }
    Ok(())
}
