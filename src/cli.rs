//! The command line: argument definitions and the commands' glue. `main.rs` only calls [`main`].

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::atlantis_step::{self, AtlantisStep, Mode};
use crate::check::{self, CheckRequest, PlanArg};
use crate::input::atlantis::{self, AtlantisConfig};
use crate::input::policy::Policy;
use crate::render::{self, Format, Style};
use crate::rules::{self, DestroyIntent};
use crate::{Error, Result};

/// Exit code when plangate could not evaluate (bad arguments, unreadable or invalid input).
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "plangate",
    version,
    about = "A safety gate for Terraform and OpenTofu plans: blocks destroys that reach into another environment, protected resources, or look like accidents.",
    after_help = "Exit codes: 0 pass (warnings allowed), 1 blocked, 2 could not evaluate."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate one or more plans (the main job)
    Check(CheckArgs),
    /// Check atlantis.yaml and the policy alone; no plan needed
    Lint(LintArgs),
    /// List every rule: id, default level, summary
    Rules,
    /// Show a rule's full documentation
    Explain {
        /// The rule id, e.g. cross-env-destroy
        rule: String,
    },
    /// Write a commented starter policy (plangate.yaml)
    Init {
        /// Where to write it
        #[arg(default_value = "plangate.yaml")]
        path: PathBuf,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
    /// Plumbing for action.yml: print the pull request number and head SHA of a GitHub event
    #[command(hide = true)]
    GithubEvent {
        #[arg(env = "GITHUB_EVENT_PATH")]
        path: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Plan JSON from `terraform show -json PLANFILE`, as PATH or PROJECT=PATH (repeatable; `-` reads stdin)
    #[arg(long = "plan", value_name = "[PROJECT=]PATH")]
    pub plans: Vec<String>,
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
    /// Policy file (default: plangate.yaml or .plangate.yaml at the repository root, else the built-in policy)
    #[arg(long, value_name = "PATH")]
    pub policy: Option<PathBuf>,
    /// What goes to stdout [default: text; atlantis when $ATLANTIS_TERRAFORM_VERSION is set]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Also write another format to a file, as FORMAT=PATH (repeatable)
    #[arg(long = "output", value_name = "FORMAT=PATH")]
    pub outputs: Vec<String>,
    /// Atlantis integration mode [default: report inside an Atlantis step]
    #[arg(long, value_enum, env = "PLANGATE_MODE")]
    pub mode: Option<Mode>,
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
    #[command(flatten)]
    pub comment: Box<crate::sink::CommentArgs>,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// The atlantis.yaml to check (default: found in the current dir or its parents)
    pub atlantis: Option<PathBuf>,
    /// Policy file (default: plangate.yaml or .plangate.yaml at the repository root)
    #[arg(long, value_name = "PATH")]
    pub policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Parse the arguments, run the command and return the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            report_error(&e);
            EXIT_ERROR
        }
    }
}

fn report_error(e: &Error) {
    let mut stderr = std::io::stderr().lock();
    match e {
        Error::Config(diagnostics) if diagnostics.len() > 1 => {
            for d in diagnostics {
                let _ = writeln!(stderr, "plangate: error: {d}");
            }
        }
        other => {
            let _ = writeln!(stderr, "plangate: error: {other}");
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Lint(args) => run_lint(args),
        Command::Rules => {
            write_stdout(&rules_table());
            Ok(0)
        }
        Command::GithubEvent { path } => {
            let info = crate::github_action::read_event(&path)?;
            write_stdout(&crate::github_action::event_lines(&info));
            Ok(0)
        }
        Command::Explain { rule } => match rules::find(&rule) {
            Some(r) => {
                write_stdout(&explain(r));
                Ok(0)
            }
            None => Err(Error::Usage(format!(
                "unknown rule `{rule}`: `plangate rules` lists them"
            ))),
        },
        Command::Init { path, force } => {
            if path.exists() && !force {
                return Err(Error::input(
                    &path,
                    "already exists: pass --force to overwrite it",
                ));
            }
            std::fs::write(&path, crate::input::policy::STARTER_POLICY)
                .map_err(|e| Error::input(&path, format!("cannot be written: {e}")))?;
            write_stdout(&format!(
                "wrote {}: review the environments, then run `plangate lint`\n",
                path.display()
            ));
            Ok(0)
        }
    }
}

fn run_check(mut args: CheckArgs) -> Result<i32> {
    let step = AtlantisStep::from_env(|name| std::env::var(name).ok());
    // Inside an Atlantis step the plan stage is the default.
    let mode = args.mode.or_else(|| step.as_ref().map(|_| Mode::Report));
    let format = args.format.take().unwrap_or_else(|| {
        match std::env::var_os("ATLANTIS_TERRAFORM_VERSION").filter(|v| !v.is_empty()) {
            Some(_) => Format::Atlantis,
            None => Format::Text,
        }
    });
    let github_output = args.github_output.take();
    let sink = crate::sink::Settings::from_env(&args.comment);
    let outcome = evaluate_check(args, step.as_ref(), &sink);
    let code = crate::report::exit_code(mode, outcome.as_ref());
    if let (Some(Mode::Report), Some(step), true) = (mode, &step, code != 0) {
        // Fail closed: a plan that is blocked, or that could not be checked, must not be applied.
        match step.delete_planfile() {
            Ok(Some(plan)) => eprintln!(
                "plangate: deleted {} so that this plan cannot be applied",
                plan.display()
            ),
            Ok(None) => {}
            Err(e) => eprintln!("plangate: error: could not delete $PLANFILE: {e}"),
        }
    }
    let report = match (mode, outcome) {
        (Some(Mode::PolicyCheck), outcome) => {
            if let Err(e) = &outcome {
                report_error(e);
            }
            let body = outcome
                .as_ref()
                .map(|r| render::render(format, r, Style::default()))
                .unwrap_or_default();
            write_stdout(&atlantis_step::policy_check_output(outcome.as_ref(), &body));
            if let Ok(report) = &outcome {
                publish_comment(report, &sink);
            }
            return Ok(code);
        }
        (_, outcome) => outcome?,
    };
    if let Some(path) = github_output {
        append_file(&path, &crate::github_action::outputs(&report))?;
    }
    write_stdout(&render::render(format, &report, stdout_style()));
    publish_comment(&report, &sink);
    Ok(code)
}

/// Post or update the pull-request comment. Posting never changes the verdict or the exit
/// code: a failure is a warning, and the report has already gone to stdout.
fn publish_comment(report: &crate::report::Report, sink: &crate::sink::Settings) {
    if let Err(e) = crate::sink::publish(report, sink) {
        let _ = writeln!(std::io::stderr(), "plangate: warning: {e}");
    }
}

fn append_file(path: &Path, text: &str) -> Result<()> {
    use std::fs::OpenOptions;
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::input(path, format!("cannot be written: {e}")))
}

/// Read the inputs, run the rules and write the `--output` files; stdout is the caller's.
fn evaluate_check(
    args: CheckArgs,
    step: Option<&AtlantisStep>,
    sink: &crate::sink::Settings,
) -> Result<crate::report::Report> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::Usage(format!("cannot read the current directory: {e}")))?;
    let outputs = parse_outputs(&args.outputs)?;
    let atlantis = load_atlantis(args.atlantis.as_deref(), &cwd)?;
    let root = repo_root(&cwd, atlantis.as_ref());
    let policy = load_policy(args.policy.as_deref(), &root)?;
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
    if let (true, Some(step)) = (plans.is_empty(), step) {
        // In an Atlantis step the plan is $SHOWFILE (made from $PLANFILE when needed).
        let path = step.plan_json(std::env::var_os("PATH").as_deref())?;
        plans.push(PlanArg {
            project: None,
            path,
        });
    }
    // Pull-request labels `plangate:destroy:<target>` declare intent, so they are read first.
    let labels = crate::sink::destroy_labels(sink).unwrap_or_else(|e| {
        let _ = writeln!(std::io::stderr(), "plangate: warning: {e}");
        Vec::new()
    });
    let request = CheckRequest {
        plans,
        atlantis,
        policy,
        project: args.project.filter(|s| !s.is_empty()),
        dir: args.dir.filter(|s| !s.is_empty()),
        workspace: args.workspace.filter(|s| !s.is_empty()),
        env: args.env,
        intent: DestroyIntent {
            targets: args
                .allow_destroy_in
                .into_iter()
                .chain(labels)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        },
        local_dir,
        local_name,
    };
    let report = check::run(&request)?;
    for (format, path) in &outputs {
        let text = render::render(*format, &report, Style::default());
        std::fs::write(path, text)
            .map_err(|e| Error::input(path, format!("cannot be written: {e}")))?;
    }
    Ok(report)
}

fn run_lint(args: LintArgs) -> Result<i32> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::Usage(format!("cannot read the current directory: {e}")))?;
    let path = match args.atlantis {
        Some(path) => path,
        None => atlantis::discover(&cwd).ok_or_else(|| {
            Error::Usage(
                "no atlantis.yaml found in this directory or its parents: pass its path".into(),
            )
        })?,
    };
    // Problems Atlantis rejects that are also lint rules (duplicate names, unnamed projects on
    // one state) are reported as findings; any other problem means the file cannot be linted.
    let mut file_findings = Vec::new();
    let atlantis = match atlantis::load(&path) {
        Ok(config) => Some(config),
        Err(Error::Config(diagnostics)) if diagnostics.iter().all(|d| d.rule.is_some()) => {
            for d in diagnostics {
                let location = match d.position {
                    Some(p) => format!("{}:{}", d.path.display(), p.line),
                    None => d.path.display().to_string(),
                };
                file_findings.push(
                    crate::report::Finding::new(d.rule.unwrap_or_default(), d.message)
                        .location(location),
                );
            }
            None
        }
        Err(e) => return Err(e),
    };
    let root = repo_root(&cwd, atlantis.as_ref());
    let policy = load_policy(args.policy.as_deref(), &root)?;
    let intent = DestroyIntent::default();
    let ctx = rules::Context {
        policy: &policy,
        plans: &[],
        atlantis: atlantis.as_ref(),
        intent: &intent,
    };
    let mut findings = rules::lint(&ctx);
    findings.extend(file_findings);
    let report = crate::report::Report::lint(&policy, findings);
    write_stdout(&render::render(args.format, &report, stdout_style()));
    Ok(report.exit_code())
}

fn load_atlantis(explicit: Option<&Path>, cwd: &Path) -> Result<Option<AtlantisConfig>> {
    match explicit {
        Some(path) => atlantis::load(path).map(Some),
        None => atlantis::discover(cwd)
            .map(|p| atlantis::load(&p))
            .transpose(),
    }
}

/// The repository root: the nearest parent with `.git`, else the atlantis.yaml's dir, else cwd.
fn repo_root(cwd: &Path, atlantis: Option<&AtlantisConfig>) -> PathBuf {
    if let Some(git) = cwd.ancestors().find(|d| d.join(".git").exists()) {
        return git.to_path_buf();
    }
    atlantis
        .and_then(|a| a.path.parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| cwd.to_path_buf())
}

fn load_policy(explicit: Option<&Path>, root: &Path) -> Result<Policy> {
    if let Some(path) = explicit {
        return Policy::load(path);
    }
    for name in ["plangate.yaml", ".plangate.yaml"] {
        let candidate = root.join(name);
        if candidate.is_file() {
            return Policy::load(&candidate);
        }
    }
    Ok(Policy::builtin())
}

fn parse_outputs(specs: &[String]) -> Result<Vec<(Format, PathBuf)>> {
    specs
        .iter()
        .map(|spec| {
            let (format, path) = spec.split_once('=').ok_or_else(|| {
                Error::Usage(format!(
                    "--output {spec}: expected FORMAT=PATH, e.g. json=report.json"
                ))
            })?;
            let format = <Format as clap::ValueEnum>::from_str(format, true)
                .map_err(|_| Error::Usage(format!("--output {spec}: unknown format `{format}`")))?;
            Ok((format, PathBuf::from(path)))
        })
        .collect()
}

fn stdout_style() -> Style {
    Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Write to stdout; a closed pipe (`plangate ... | head`) is not an error.
fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The `plangate rules` table.
pub fn rules_table() -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(vec!["rule", "default", "summary"]);
    for rule in rules::all() {
        table.add_row(vec![
            rule.id(),
            rule.default_level().as_str(),
            rule.summary(),
        ]);
    }
    format!("{table}\n")
}

/// The `plangate explain RULE` text.
pub fn explain(rule: &dyn rules::Rule) -> String {
    format!(
        "# {}\n\nDefault level: {}. {}\n\n{}",
        rule.id(),
        rule.default_level().as_str(),
        capitalise(rule.summary()),
        rule.docs()
    )
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}
