//! The command line: argument definitions and the commands' glue. `main.rs` only calls [`main`].

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

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
    /// What goes to stdout
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write another format to a file, as FORMAT=PATH (repeatable)
    #[arg(long = "output", value_name = "FORMAT=PATH")]
    pub outputs: Vec<String>,
    /// Declared destroy intent for a project or environment (repeatable)
    #[arg(long = "allow-destroy-in", value_name = "PROJECT|ENV", env = "PLANGATE_ALLOW_DESTROY_IN", value_delimiter = ',')]
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
        Command::Explain { rule } => match rules::find(&rule) {
            Some(r) => {
                write_stdout(&explain(r));
                Ok(0)
            }
            None => Err(Error::Usage(format!(
                "unknown rule `{rule}`: `plangate rules` lists them"
            ))),
        },
    }
}

fn run_check(args: CheckArgs) -> Result<i32> {
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
        root.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| ".".into())
    } else {
        local_dir.clone()
    };
    // Pull-request labels `plangate:destroy:<target>` declare intent, so they are read first.
    let sink = crate::sink::Settings::from_env(&args.comment);
    let labels = crate::sink::destroy_labels(&sink).unwrap_or_else(|e| {
        let _ = writeln!(std::io::stderr(), "plangate: warning: {e}");
        Vec::new()
    });
    let request = CheckRequest {
        plans: args.plans.iter().map(|p| PlanArg::parse(p)).collect(),
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
    write_stdout(&render::render(args.format, &report, stdout_style()));
    // Posting never changes the verdict or the exit code: a failure is a warning.
    if let Err(e) = crate::sink::publish(&report, &sink) {
        let _ = writeln!(std::io::stderr(), "plangate: warning: {e}");
    }
    Ok(report.exit_code())
}

fn run_lint(args: LintArgs) -> Result<i32> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::Usage(format!("cannot read the current directory: {e}")))?;
    let atlantis = match &args.atlantis {
        Some(path) => Some(atlantis::load(path)?),
        None => load_atlantis(None, &cwd)?,
    };
    let Some(atlantis) = atlantis else {
        return Err(Error::Usage(
            "no atlantis.yaml found in this directory or its parents: pass its path".into(),
        ));
    };
    let root = repo_root(&cwd, Some(&atlantis));
    let policy = load_policy(args.policy.as_deref(), &root)?;
    let intent = DestroyIntent::default();
    let ctx = rules::Context {
        policy: &policy,
        plans: &[],
        atlantis: Some(&atlantis),
        intent: &intent,
    };
    let report = crate::report::Report::lint(&policy, rules::lint(&ctx));
    write_stdout(&render::render(args.format, &report, stdout_style()));
    Ok(report.exit_code())
}

fn load_atlantis(explicit: Option<&Path>, cwd: &Path) -> Result<Option<AtlantisConfig>> {
    match explicit {
        Some(path) => atlantis::load(path).map(Some),
        None => atlantis::discover(cwd).map(|p| atlantis::load(&p)).transpose(),
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
                Error::Usage(format!("--output {spec}: expected FORMAT=PATH, e.g. json=report.json"))
            })?;
            let format = <Format as clap::ValueEnum>::from_str(format, true).map_err(|_| {
                Error::Usage(format!("--output {spec}: unknown format `{format}`"))
            })?;
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
        table.add_row(vec![rule.id(), rule.default_level().as_str(), rule.summary()]);
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
