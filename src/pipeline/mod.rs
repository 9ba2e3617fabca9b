//! From inputs to one report: read the plans, resolve each plan's project and environment, run
//! the rules and build the report. Also the policy as the rest of plangate loads it: the
//! reader handed the rules' catalog.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

mod blast;
mod moves;
mod project;
mod trust;

pub use trust::{resolve_policy, PolicySources};

use crate::input::context::{ContextSource, Located};
use crate::input::plan::PlanSource;
use crate::model::atlantis::{AtlantisConfig, DEFAULT_WORKSPACE};
use crate::model::dependents;
use crate::model::finding::Finding;
use crate::model::intent::DestroyIntent;
use crate::model::policy::{Policy, PolicyReview};
use crate::model::project::ProjectPlan;
use crate::report::Report;
use crate::rules::{self, Context};
use crate::{Error, Result};

/// The built-in default policy.
pub fn builtin_policy() -> Policy {
    crate::input::policy::builtin(&rules::catalog())
}

/// A policy file laid over the built-in default.
pub fn load_policy(path: &Path) -> Result<Policy> {
    crate::input::policy::load(path, &rules::catalog())
}

/// Policy text laid over the built-in default; `path` names it in messages.
pub fn parse_policy(text: &str, path: &Path) -> Result<Policy> {
    crate::input::policy::parse(text, path, &rules::catalog())
}

/// One `--plan` argument: `PATH`, or `PROJECT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanArg {
    pub project: Option<String>,
    pub path: PathBuf,
}

impl PlanArg {
    /// `PROJECT=PATH` splits at the first `=` unless the whole argument is an existing file.
    pub fn parse(arg: &str) -> PlanArg {
        if let Some((project, path)) = arg.split_once('=') {
            if !project.is_empty() && !path.is_empty() && !Path::new(arg).exists() {
                return PlanArg {
                    project: Some(project.to_string()),
                    path: PathBuf::from(path),
                };
            }
        }
        PlanArg {
            project: None,
            path: PathBuf::from(arg),
        }
    }
}

/// Everything `check` needs, already read and validated except the plans.
pub struct CheckRequest {
    pub plans: Vec<PlanArg>,
    /// `--context [NAME=]PATH`: other projects' states or plans, read only to find what
    /// depends on what the plans destroy.
    pub contexts: Vec<PlanArg>,
    pub atlantis: Option<AtlantisConfig>,
    pub policy: Policy,
    /// `--project` (or `$PROJECT_NAME`): the project of a single plan.
    pub project: Option<String>,
    /// `--dir`/`--workspace` (or `$REPO_REL_DIR`/`$WORKSPACE`): find the project by location.
    pub dir: Option<String>,
    pub workspace: Option<String>,
    /// `--env`: force the environment of the project(s).
    pub env: Option<String>,
    pub intent: DestroyIntent,
    /// How the policy compares with the one it may only tighten.
    pub review: PolicyReview,
    /// The directory a local run stands in, relative to the repository root: names the
    /// project when nothing else does.
    pub local_dir: String,
    /// The project's name for a local run with nothing else to name it.
    pub local_name: String,
}

/// An environment named on the command line must be one the policy knows.
pub fn check_environment_name(policy: &Policy, name: &str, flag: &str) -> Result<()> {
    if policy.environments.resolve_word(name).is_some() {
        return Ok(());
    }
    let words =
        policy.environments.defs.iter().flat_map(|d| {
            std::iter::once(d.name.as_str()).chain(d.aliases.iter().map(String::as_str))
        });
    let hint = crate::text::suggest(&name.to_ascii_lowercase(), words)
        .map(|w| format!("; did you mean `{w}`?"))
        .unwrap_or_default();
    Err(Error::Usage(format!(
        "{flag} {}: no such environment in the policy (known: {}){hint}",
        crate::text::printable(name),
        policy.environments.describe()
    )))
}

impl CheckRequest {
    /// `--workspace`, else Atlantis's default.
    pub(crate) fn workspace(&self) -> String {
        self.workspace
            .clone()
            .unwrap_or_else(|| DEFAULT_WORKSPACE.into())
    }
}

/// Read every plan, resolve its project, run the rules and build the report.
pub fn run(request: &CheckRequest) -> Result<Report> {
    if request.plans.is_empty() {
        return Err(Error::Usage(
            "no plan given: pass --plan PATH (the output of `terraform show -json PLANFILE`)"
                .into(),
        ));
    }
    if request.plans.len() > 1 {
        if let Some(unnamed) = request.plans.iter().find(|p| p.project.is_none()) {
            return Err(Error::Usage(format!(
                "several plans were given, so each needs its project: --plan PROJECT={}",
                unnamed.path.display()
            )));
        }
    }
    if let Some(env) = &request.env {
        check_environment_name(&request.policy, env, "--env")?;
    }
    let sources = request
        .plans
        .iter()
        .map(|arg| PlanSource::read(&arg.path))
        .collect::<Result<Vec<_>>>()?;

    // The --context files are read and parsed for their resources while the plans are parsed,
    // on the core the plan's checks leave free once they are done (a plan parses for longer
    // than it is checked), then on every core; an error in a plan is still the one reported
    // first.
    let queue = ContextQueue::new(&request.contexts);
    let (plans, contexts) = std::thread::scope(|scope| {
        let helper = (!request.contexts.is_empty()).then(|| {
            scope.spawn(|| {
                queue.free.wait();
                queue.drain();
            })
        });
        // Opened however the plans end, a panic included: the helper never waits forever.
        let _opens = OpenOnDrop(&queue.free);
        let plans = prepare_plans(request, &sources, &|| queue.free.open());
        if plans.is_err() {
            // The plan's error is the answer: no file not yet begun is read.
            queue.next.store(request.contexts.len(), Ordering::Relaxed);
        }
        queue.free.open();
        queue.drain();
        if let Some(handle) = helper {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        (plans, queue.results())
    });
    let mut plans = plans?;
    let contexts = contexts?;
    blast::across_projects(&mut plans, &sources, contexts)?;
    moves::between_projects(&mut plans);

    Ok(evaluate_reviewed(
        &request.policy,
        &request.review,
        request.atlantis.as_ref(),
        &request.intent,
        &plans,
    ))
}

/// Each plan parsed, its project resolved and its own dependents found, in the order given.
fn prepare_plans<'s>(
    request: &CheckRequest,
    sources: &'s [PlanSource],
    checked: &(dyn Fn() + Sync),
) -> Result<Vec<ProjectPlan<'s>>> {
    let mut plans = Vec::with_capacity(sources.len());
    for (arg, source) in request.plans.iter().zip(sources) {
        let plan = source.parse_then(checked)?;
        let project = project::resolve_project(request, arg)?;
        if plans
            .iter()
            .any(|p: &ProjectPlan<'_>| p.project.name == project.name)
        {
            return Err(Error::Usage(format!(
                "project {} is given more than one plan",
                project.name
            )));
        }
        let mut prepared = ProjectPlan::new(
            project,
            plan,
            arg.path.clone(),
            source.sha256().to_string(),
            &request.policy,
        )?;
        dependents_in_plan(&mut prepared)?;
        plans.push(prepared);
    }
    Ok(plans)
}

/// The `--context` files to read, taken one at a time by whichever thread is free.
struct ContextQueue<'a> {
    args: &'a [PlanArg],
    next: AtomicUsize,
    sources: Vec<OnceLock<ContextSource>>,
    /// What each file's read came to, taken once by [`ContextQueue::results`].
    read: Vec<Mutex<Option<Result<ReadContext<'a>>>>>,
    /// Opened when a core is free for them.
    free: Gate,
}

impl<'a> ContextQueue<'a> {
    fn new(args: &'a [PlanArg]) -> ContextQueue<'a> {
        ContextQueue {
            args,
            next: AtomicUsize::new(0),
            sources: args.iter().map(|_| OnceLock::new()).collect(),
            read: args.iter().map(|_| Mutex::new(None)).collect(),
            free: Gate::default(),
        }
    }

    /// Read files until none is left to start.
    fn drain(&'a self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let (Some(arg), Some(slot), Some(read)) =
                (self.args.get(i), self.sources.get(i), self.read.get(i))
            else {
                return;
            };
            let result = read_context(arg, slot);
            *read.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        }
    }

    /// Each file with its resources, in the order given; the first error.
    fn results(&'a self) -> Result<Vec<ReadContext<'a>>> {
        self.read
            .iter()
            .map(|read| {
                let taken = read.lock().unwrap_or_else(|e| e.into_inner()).take();
                taken.ok_or_else(|| Error::Usage("a --context file was not read".into()))?
            })
            .collect()
    }
}

/// A door threads wait at until it opens; it stays open.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !*open {
            *open = true;
            self.opened.notify_all();
        }
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = self.opened.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Opens its gate when dropped.
struct OpenOnDrop<'a>(&'a Gate);

impl Drop for OpenOnDrop<'_> {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// A context file, and its resources with where their values are.
type ReadContext<'a> = (&'a ContextSource, Vec<Located<'a>>);

/// A `--context` file read into its slot, with its resources and where their values are.
fn read_context<'s>(arg: &PlanArg, slot: &'s OnceLock<ContextSource>) -> Result<ReadContext<'s>> {
    let name = arg
        .project
        .clone()
        .unwrap_or_else(|| arg.path.display().to_string());
    let source = ContextSource::read(name, &arg.path)?;
    let source = slot.get_or_init(|| source);
    Ok((source, source.resources()?))
}

/// What depends on each resource a plan destroys, inside that plan: its configuration's
/// references and `depends_on`, and its prior state's `depends_on`. Read only when the plan
/// destroys something.
pub fn dependents_in_plan(plan: &mut ProjectPlan<'_>) -> Result<()> {
    if plan.destroyed.is_empty() {
        return Ok(());
    }
    let edges = match plan.plan.configuration {
        Some(root) => crate::input::configuration::edges(root).map_err(|e| {
            Error::input(
                &plan.plan_path,
                // Serde's message may quote a value: only the position is said.
                format!(
                    "has an unreadable configuration (line {} column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?,
        None => Vec::new(),
    };
    let indexes: Vec<usize> = plan.destroyed.iter().map(|d| d.index).collect();
    let mut found = dependents::in_plan(&plan.project.name, &plan.plan, &edges, &indexes);
    for destroyed in &mut plan.destroyed {
        if let Some(list) = found.remove(&destroyed.index) {
            destroyed.dependents = list;
        }
    }
    Ok(())
}

/// Run every rule over prepared plans and build the report: the part of `check` after the
/// inputs are read.
pub fn evaluate(
    policy: &Policy,
    atlantis: Option<&AtlantisConfig>,
    intent: &DestroyIntent,
    plans: &[ProjectPlan<'_>],
) -> Report {
    evaluate_reviewed(policy, &PolicyReview::default(), atlantis, intent, plans)
}

/// [`evaluate`], with what is known about how the policy compares with the one it may only
/// tighten.
pub fn evaluate_reviewed(
    policy: &Policy,
    review: &PolicyReview,
    atlantis: Option<&AtlantisConfig>,
    intent: &DestroyIntent,
    plans: &[ProjectPlan<'_>],
) -> Report {
    let ctx = Context {
        policy,
        plans,
        atlantis,
        intent,
        review,
    };
    Report::build(policy, plans, rules::evaluate(&ctx))
}

/// The lint findings about atlantis.yaml and the policy alone (no plans), as a report.
/// `extra` are findings the caller already has (problems in the file itself).
pub fn lint(
    policy: &Policy,
    review: &PolicyReview,
    atlantis: Option<&AtlantisConfig>,
    extra: Vec<Finding>,
) -> Report {
    let intent = DestroyIntent::default();
    let ctx = Context {
        policy,
        plans: &[],
        atlantis,
        intent: &intent,
        review,
    };
    let mut findings = rules::lint(&ctx);
    findings.extend(extra);
    Report::lint(policy, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_gate_opens_when_its_guard_goes_even_in_a_panic() {
        let gate = Gate::default();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                gate.wait();
                let _ = tx.send(());
            });
            assert!(rx
                .recv_timeout(std::time::Duration::from_millis(50))
                .is_err());
            let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _opens = OpenOnDrop(&gate);
                panic!("a plan's preparation panics");
            }));
            assert!(unwound.is_err());
            assert!(rx.recv_timeout(std::time::Duration::from_secs(10)).is_ok());
        });
        // Open stays open.
        gate.wait();
    }

    #[test]
    fn plan_args_split_project_and_path() {
        assert_eq!(
            PlanArg::parse("app-prod=plans/prod.json"),
            PlanArg {
                project: Some("app-prod".into()),
                path: "plans/prod.json".into()
            }
        );
        assert_eq!(PlanArg::parse("plan.json").project, None);
        assert_eq!(PlanArg::parse("-").path, PathBuf::from("-"));
    }
}
