//! Reader for the repo-level `atlantis.yaml`, validated the way Atlantis validates it (strict
//! keys, `version` 2 or 3, unique project names, ...), plus a light reader for the server-side
//! `repos.yaml`. Every problem found becomes a [`Diagnostic`] with file:line; all of them are
//! collected before the file is rejected.
//!
//! The YAML is first read into a small tree that keeps the position of every node (so unknown
//! keys, wrong types and bad values can all be reported in one pass), then checked against the
//! schema of Atlantis's `server/core/config/raw` package.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use crate::error::{Diagnostic, Error, Position};

/// The workspace Atlantis uses when a project sets none.
pub const DEFAULT_WORKSPACE: &str = "default";

/// Largest configuration file read; real ones are a few hundred KiB at most.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

// ------------------------------------------------------------------------------------------
// Public model
// ------------------------------------------------------------------------------------------

/// A validated repo-level `atlantis.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtlantisConfig {
    pub path: PathBuf,
    pub version: u32,
    pub projects: Vec<AtlantisProject>,
    /// Names of the workflows the file defines (in file order).
    pub workflows: Vec<String>,
    pub parallel_plan: Option<bool>,
    pub automerge: Option<bool>,
    pub parallel_apply: Option<bool>,
    /// The workflows the file defines, with their steps.
    pub workflow_definitions: Vec<Workflow>,
}

/// One entry of `projects:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtlantisProject {
    pub name: Option<String>,
    /// Normalised like Atlantis does (`filepath.Clean("./" + dir)`): `.`, `envs/prod`.
    pub dir: String,
    /// `default` when unset or empty.
    pub workspace: String,
    pub workflow: Option<String>,
    pub branch: Option<String>,
    pub terraform_version: Option<String>,
    pub terraform_distribution: Option<String>,
    pub execution_order_group: Option<i64>,
    pub depends_on: Vec<String>,
    pub autoplan_enabled: Option<bool>,
    /// Empty when not set (Atlantis then watches its default Terraform file patterns).
    pub when_modified: Vec<String>,
    pub apply_requirements: Vec<String>,
    pub plan_requirements: Vec<String>,
    pub import_requirements: Vec<String>,
    pub custom_policy_check: Option<bool>,
    pub policy_check: Option<bool>,
    pub repo_locking: Option<bool>,
    /// Where the project's entry starts.
    pub position: Position,
    /// Where its `name` value sits, when it has one.
    pub name_position: Option<Position>,
}

impl AtlantisProject {
    /// The name a person would use for the project: its name, else its dir (with
    /// `:workspace` appended when the workspace is not `default`).
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None if self.workspace == DEFAULT_WORKSPACE => self.dir.clone(),
            None => format!("{}:{}", self.dir, self.workspace),
        }
    }

    /// Whether the two projects can both be active for one pull request. Atlantis drops the
    /// projects whose `branch` regex does not match the base branch before it checks names, so
    /// projects pinned to different branch regexes never meet.
    fn may_meet(&self, other: &AtlantisProject) -> bool {
        match (&self.branch, &other.branch) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

impl AtlantisConfig {
    /// The first project with this name.
    pub fn find_by_name(&self, name: &str) -> Option<&AtlantisProject> {
        self.projects
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
    }

    /// Every project on this dir and workspace; `dir` is normalised as project dirs are, an
    /// empty workspace means `default`. A project whose `dir` is a glob (which Atlantis expands
    /// into one project per matching directory) matches the directories its pattern covers.
    pub fn find_by_dir_workspace(&self, dir: &str, workspace: &str) -> Vec<&AtlantisProject> {
        let dir = normalize_dir(dir);
        let workspace = if workspace.is_empty() {
            DEFAULT_WORKSPACE
        } else {
            workspace
        };
        self.projects
            .iter()
            .filter(|p| p.workspace == workspace)
            .filter(|p| p.dir == dir || (contains_glob(&p.dir) && glob_matches(&p.dir, &dir)))
            .collect()
    }

    /// Projects that share one dir+workspace, i.e. one Terraform state managed twice. Atlantis
    /// accepts this when the projects are named (every one after the first); each group is in
    /// file order. Projects pinned to different `branch` regexes are not grouped: they never
    /// plan for the same pull request.
    pub fn shared_states(&self) -> Vec<Vec<&AtlantisProject>> {
        let mut index: HashMap<(&str, &str), usize> = HashMap::new();
        let mut groups: Vec<Vec<&AtlantisProject>> = Vec::new();
        for project in &self.projects {
            if contains_glob(&project.dir) {
                continue;
            }
            let key = (project.dir.as_str(), project.workspace.as_str());
            match index.get(&key) {
                Some(&i) => groups[i].push(project),
                None => {
                    index.insert(key, groups.len());
                    groups.push(vec![project]);
                }
            }
        }
        groups
            .into_iter()
            .filter_map(|members| {
                let sharing: Vec<&AtlantisProject> = members
                    .iter()
                    .enumerate()
                    .filter(|(i, a)| {
                        members
                            .iter()
                            .enumerate()
                            .any(|(j, b)| *i != j && a.may_meet(b))
                    })
                    .map(|(_, p)| *p)
                    .collect();
                (sharing.len() > 1).then_some(sharing)
            })
            .collect()
    }

    /// The workflow of this name defined in the file.
    pub fn workflow(&self, name: &str) -> Option<&Workflow> {
        self.workflow_definitions.iter().find(|w| w.name == name)
    }
}

/// A custom workflow (`workflows:` in atlantis.yaml or repos.yaml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub name: String,
    pub position: Position,
    /// The stages the workflow sets, in file order (`plan`, `apply`, `policy_check`, `import`,
    /// `state_rm`); a stage not listed runs Atlantis's default steps.
    pub stages: Vec<Stage>,
}

impl Workflow {
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }
}

/// One stage of a workflow and its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    pub position: Position,
    pub steps: Vec<Step>,
}

/// One workflow step: a built-in (`init`, `plan`, `show`...) or `run`/`env`/`multienv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The step type: `init`, `plan`, `apply`, `show`, `policy_check`, `import`, `state_rm`,
    /// `run`, `env` or `multienv`.
    pub kind: String,
    /// The shell command of a `run`/`multienv` step, or of an `env` step's `command`.
    pub command: Option<String>,
    /// `extra_args` of a built-in step.
    pub extra_args: Vec<String>,
    /// The variable an `env` step sets.
    pub env_name: Option<String>,
    pub position: Position,
}

/// A validated server-side `repos.yaml` (light: what plangate's examples and checks need).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReposConfig {
    pub path: PathBuf,
    pub repos: Vec<ServerRepo>,
    /// Names of the workflows the file defines (in file order).
    pub workflows: Vec<String>,
    pub workflow_definitions: Vec<Workflow>,
    /// Whether the file has a `policies:` section.
    pub has_policies: bool,
    /// Names of the policy sets under `policies.policy_sets`.
    pub policy_sets: Vec<String>,
}

impl ReposConfig {
    pub fn workflow(&self, name: &str) -> Option<&Workflow> {
        self.workflow_definitions.iter().find(|w| w.name == name)
    }
}

/// One entry of `repos:` in a server-side `repos.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRepo {
    /// An exact repo id (`github.com/org/repo`) or a `/regex/`.
    pub id: String,
    pub position: Position,
    pub branch: Option<String>,
    pub repo_config_file: Option<String>,
    pub workflow: Option<String>,
    pub allowed_overrides: Vec<String>,
    pub allowed_workflows: Vec<String>,
    pub allow_custom_workflows: Option<bool>,
    pub plan_requirements: Vec<String>,
    pub apply_requirements: Vec<String>,
    pub import_requirements: Vec<String>,
    pub policy_check: Option<bool>,
    pub custom_policy_check: Option<bool>,
    pub pre_workflow_hooks: Vec<WorkflowHook>,
    pub post_workflow_hooks: Vec<WorkflowHook>,
}

/// A `pre_workflow_hooks`/`post_workflow_hooks` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowHook {
    pub run: Option<String>,
    pub description: Option<String>,
    pub shell: Option<String>,
    pub position: Position,
}

// ------------------------------------------------------------------------------------------
// Entry points
// ------------------------------------------------------------------------------------------

/// Reads and validates the atlantis.yaml at `path`.
///
/// A missing, unreadable, non-UTF-8 or empty file is an [`Error::Input`]; everything Atlantis
/// would reject is an [`Error::Config`] with one diagnostic per problem.
pub fn load(path: &Path) -> crate::Result<AtlantisConfig> {
    let text = crate::input::read_text_file(path, MAX_FILE_BYTES)?;
    parse(&text, path)
}

/// Reads and validates a server-side repos.yaml at `path`.
pub fn load_repos_yaml(path: &Path) -> crate::Result<ReposConfig> {
    let text = crate::input::read_text_file(path, MAX_FILE_BYTES)?;
    parse_repos_yaml(&text, path)
}

/// Validates the text of a repo-level atlantis.yaml; `path` names it in diagnostics.
pub fn parse(source: &str, path: &Path) -> crate::Result<AtlantisConfig> {
    let root = read_tree(source, path)?;
    let mut checker = Checker::new(path);
    let config = checker.repo_config(&root);
    checker.finish(config)
}

/// Validates the text of a server-side repos.yaml (`repos:`, `workflows:`, `policies:`...).
pub fn parse_repos_yaml(source: &str, path: &Path) -> crate::Result<ReposConfig> {
    let root = read_tree(source, path)?;
    let mut checker = Checker::new(path);
    let config = checker.global_config(&root);
    checker.finish(config)
}

/// Locates the atlantis.yaml for a working dir: `atlantis.yaml` in `start` or one of its
/// parents, stopping at the git root (a dir containing `.git`) or the filesystem root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = if start.as_os_str().is_empty() {
        Path::new(".")
    } else {
        start
    };
    let here = start.join("atlantis.yaml");
    if here.is_file() {
        return Some(here);
    }
    if start.join(".git").exists() {
        return None;
    }
    // Resolved, so that `..` in `start` walks up the real tree.
    let absolute = fs::canonicalize(start)
        .or_else(|_| std::path::absolute(start))
        .ok()?;
    let mut dir = absolute.parent();
    while let Some(current) = dir {
        let candidate = current.join("atlantis.yaml");
        if candidate.is_file() {
            return Some(candidate);
        }
        if current.join(".git").exists() {
            return None;
        }
        dir = current.parent();
    }
    None
}

/// `filepath.Clean("./" + dir)` as Atlantis applies it to project dirs: no `./` prefix, no
/// trailing or doubled slashes, `.` for the repository root.
pub fn normalize_dir(dir: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(parts.last(), Some(last) if *last != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

// ------------------------------------------------------------------------------------------
// YAML tree with positions
// ------------------------------------------------------------------------------------------

/// A YAML node and where it sits. `position` is where it is used (for a merged or aliased
/// value: the `<<`/alias site); `defined` is where its text is written.
#[derive(Debug)]
struct Node {
    kind: Kind,
    position: Position,
    defined: Position,
    /// Source text of a non-string scalar (`1.10` stays `1.10`, not `1.1`).
    text: Option<String>,
}

#[derive(Debug)]
enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// The text a Go `string` field would receive, for any scalar but null.
    fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Bool(b) => Some(self.text.clone().unwrap_or_else(|| b.to_string())),
            Kind::Int(i) => Some(self.text.clone().unwrap_or_else(|| i.to_string())),
            Kind::Float(f) => Some(self.text.clone().unwrap_or_else(|| f.to_string())),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "nothing (null)".to_string(),
            Kind::Bool(_) => format!("boolean {}", self.scalar_text().unwrap_or_default()),
            Kind::Int(_) | Kind::Float(_) => {
                format!("number {}", self.scalar_text().unwrap_or_default())
            }
            Kind::Str(s) => format!("string {}", quote(s)),
            Kind::Seq(_) => "a list".to_string(),
            Kind::Map(_) => "a mapping".to_string(),
        }
    }

    /// " (defined at line N)" when the node is written elsewhere than where it is used (an
    /// alias or a `<<` merge).
    fn origin_note(&self) -> String {
        if self.defined.line > 0 && self.defined.line != self.position.line {
            format!(" (defined at line {})", self.defined.line)
        } else {
            String::new()
        }
    }
}

/// What serde-saphyr hands over: every child wrapped in `Spanned` for its location.
enum RawKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawKind>>),
    Map(Vec<(Spanned<RawKind>, Spanned<RawKind>)>),
}

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }

    fn visit_none<E>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        RawKind::deserialize(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        RawKind::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawKind, E> {
        Ok(RawKind::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawKind, E> {
        Ok(RawKind::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }

    fn visit_i128<E>(self, v: i128) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }

    fn visit_u128<E>(self, v: u128) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawKind, E> {
        Ok(RawKind::Float(v))
    }

    fn visit_char<E>(self, v: char) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawKind, E> {
        Ok(RawKind::Str(v))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<RawKind, E> {
        Ok(RawKind::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawKind>>()? {
            items.push(item);
        }
        Ok(RawKind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<RawKind>>()? {
            let value = map.next_value::<Spanned<RawKind>>()?;
            entries.push((key, value));
        }
        Ok(RawKind::Map(entries))
    }
}

fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // Atlantis (go-yaml) reads only true/false as booleans when the target is untyped;
        // keys like `on`/`y` must stay strings. Typed bool fields accept yes/no below.
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            // Real files nest about 11 levels (a run step's filter_regex list).
            max_depth: 32,
            max_nodes: 1_000_000,
            max_events: 4_000_000,
            max_documents: 64,
            max_total_scalar_bytes: 32 * 1024 * 1024,
            // Files with one anchor (`&tf_version`) used by hundreds of projects are normal.
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 32,
        },
    }
}

/// Parses the YAML (the first document, as Atlantis reads only that one) into a tree.
fn read_tree(source: &str, path: &Path) -> crate::Result<Node> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    if source.trim().is_empty() {
        return Err(Error::input(path, "is empty"));
    }
    crate::input::on_yaml_stack(|| parse_tree(source, path)).map_err(Error::config)
}

fn parse_tree(source: &str, path: &Path) -> Result<Node, Diagnostic> {
    let documents: Vec<Spanned<RawKind>> =
        serde_saphyr::from_multiple_with_options(source, yaml_options())
            .map_err(|e| yaml_diagnostic(path, &e))?;
    Ok(match documents.into_iter().next() {
        Some(root) => convert(root, source),
        // Only comments: what go-yaml decodes as an empty document.
        None => Node {
            kind: Kind::Null,
            position: Position { line: 1, column: 1 },
            defined: Position { line: 1, column: 1 },
            text: None,
        },
    })
}

fn convert(raw: Spanned<RawKind>, source: &str) -> Node {
    let position = position_of(&raw.referenced);
    let defined = position_of(&raw.defined);
    let mut text = None;
    let kind = match raw.value {
        RawKind::Null => Kind::Null,
        RawKind::Bool(b) => {
            text = source_text(source, &raw.defined);
            Kind::Bool(b)
        }
        RawKind::Int(i) => {
            text = source_text(source, &raw.defined);
            Kind::Int(i)
        }
        RawKind::Float(f) => {
            text = source_text(source, &raw.defined);
            Kind::Float(f)
        }
        RawKind::Str(s) => Kind::Str(s),
        RawKind::Seq(items) => Kind::Seq(items.into_iter().map(|i| convert(i, source)).collect()),
        RawKind::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k, source), convert(v, source)))
                .collect(),
        ),
    };
    Node {
        kind,
        position,
        defined,
        text,
    }
}

fn position_of(location: &Location) -> Position {
    Position {
        line: usize::try_from(location.line()).unwrap_or(0),
        column: usize::try_from(location.column()).unwrap_or(0),
    }
}

/// The source text of a plain scalar, when its byte span is known and looks like one token.
fn source_text(source: &str, location: &Location) -> Option<String> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    let text = source.get(start..start.checked_add(len)?)?.trim();
    let token = !text.is_empty() && !text.contains(|c: char| c.is_whitespace() || c == '"');
    token.then(|| text.to_string())
}

/// One line from a serde-saphyr error: its message (without the crate's API hints or
/// snippet) and its location.
/// One-line `file:line:col: message` from a serde-saphyr error, for every YAML file plangate
/// reads (its Display adds a multi-line snippet and API hints).
pub(crate) fn yaml_diagnostic(path: &Path, error: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    let mut inner = error;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = inner {
        inner = error;
    }
    let text = one_line(&UserMessageFormatter.format_message(inner));
    let message = match inner {
        E::UnknownAnchor { .. } => "invalid YAML: alias refers to an unknown anchor (a plain \
                                    value starting with `*` is read as an alias; quote it, \
                                    e.g. \"**/*.tf\")"
            .to_string(),
        E::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!("invalid YAML: duplicate key `{}`", one_line(key)),
            None => "invalid YAML: duplicate key".to_string(),
        },
        E::Budget { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => format!(
            "YAML exceeds plangate's safety limits for a config file (alias bomb or runaway \
             nesting?): {text}"
        ),
        // The scanner's flow-nesting cap.
        _ if text.contains("recursion limit") => format!(
            "YAML exceeds plangate's safety limits for a config file (runaway nesting?): {text}"
        ),
        _ => format!("invalid YAML: {text}"),
    };
    let position = error
        .location()
        .map(|l| position_of(&l))
        .filter(|p| p.line > 0);
    Diagnostic::new(path, position, message)
}

/// The last line of a `regex` error ("unclosed group"), without the pattern echo above it.
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    one_line(last.trim().trim_start_matches("error:"))
}

fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// ------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------

const REPO_CFG_KEYS: &[&str] = &[
    "version",
    "projects",
    "workflows",
    "policies",
    "autodiscover",
    "automerge",
    "parallel_apply",
    "parallel_plan",
    "delete_source_branch_on_merge",
    "emoji_reaction",
    "allowed_regexp_prefixes",
    "abort_on_execution_order_fail",
    "repo_locks",
    "silence_pr_comments",
];

const PROJECT_KEYS: &[&str] = &[
    "name",
    "branch",
    "dir",
    "workspace",
    "workflow",
    "terraform_distribution",
    "terraform_version",
    "autoplan",
    "plan_requirements",
    "apply_requirements",
    "import_requirements",
    "depends_on",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "execution_order_group",
    "policy_check",
    "custom_policy_check",
    "silence_pr_comments",
    "glob_file_match",
];

const GLOBAL_CFG_KEYS: &[&str] = &[
    "repos",
    "workflows",
    "policies",
    "metrics",
    "team_authz",
    "external_stores",
];

const SERVER_REPO_KEYS: &[&str] = &[
    "id",
    "branch",
    "repo_config_file",
    "plan_requirements",
    "apply_requirements",
    "import_requirements",
    "pre_workflow_hooks",
    "workflow",
    "post_workflow_hooks",
    "allowed_workflows",
    "allowed_overrides",
    "allow_custom_workflows",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "policy_check",
    "custom_policy_check",
    "autodiscover",
    "silence_pr_comments",
];

const STAGE_NAMES: &[&str] = &["plan", "apply", "policy_check", "import", "state_rm"];

/// Step names Atlantis accepts as a bare string (its `validStepName`).
const STEP_NAMES: &[&str] = &[
    "init",
    "plan",
    "apply",
    "env",
    "multienv",
    "show",
    "policy_check",
    "import",
    "state_rm",
];

/// Built-in steps that take `{extra_args: [...]}`.
const BUILTIN_STEPS: &[&str] = &[
    "init",
    "plan",
    "apply",
    "show",
    "policy_check",
    "import",
    "state_rm",
];

const REQUIREMENTS: &[&str] = &["approved", "mergeable", "undiverged"];

const OVERRIDES: &[&str] = &[
    "plan_requirements",
    "apply_requirements",
    "import_requirements",
    "workflow",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "policy_check",
    "custom_policy_check",
    "silence_pr_comments",
];

/// Collects diagnostics while walking one file.
struct Checker<'a> {
    path: &'a Path,
    diagnostics: Vec<Diagnostic>,
}

/// The known entries of one mapping (unknown keys were already reported).
struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    fn empty() -> Self {
        Fields {
            entries: Vec::new(),
        }
    }

    /// The value under `key`; `None` when absent or null (go-yaml leaves the field unset).
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
            .filter(|v| !v.is_null())
    }

    fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _, _)| *k == key)
    }
}

fn join(label: &str, key: &str) -> String {
    if label.is_empty() {
        key.to_string()
    } else {
        format!("{label}.{key}")
    }
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

fn contains_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Whether `dir` is one of the directories a glob project dir expands to (`*` stays within
/// one path segment, `**` crosses them, as in the doublestar patterns Atlantis uses).
fn glob_matches(pattern: &str, dir: &str) -> bool {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .is_ok_and(|glob| glob.compile_matcher().is_match(dir))
}

impl<'a> Checker<'a> {
    fn new(path: &'a Path) -> Self {
        Checker {
            path,
            diagnostics: Vec::new(),
        }
    }

    fn error(&mut self, at: Position, message: impl Into<String>) {
        let position = (at.line > 0).then_some(at);
        // Messages quote values from the file; keep each one on one line whatever they hold.
        let message: String = message
            .into()
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
        self.diagnostics
            .push(Diagnostic::new(self.path, position, message));
    }

    /// Mark the last problem as also being a lint finding of `rule`.
    fn tag_last(&mut self, rule: &'static str) {
        if let Some(last) = self.diagnostics.pop() {
            self.diagnostics.push(last.with_rule(rule));
        }
    }

    fn finish<T>(mut self, value: T) -> crate::Result<T> {
        if self.diagnostics.is_empty() {
            return Ok(value);
        }
        self.diagnostics
            .sort_by_key(|d| d.position.map_or((0, 0), |p| (p.line, p.column)));
        Err(Error::Config(self.diagnostics))
    }

    // --- generic, typed access -------------------------------------------------------------

    /// The known entries of a mapping; reports unknown and non-string keys. `None` when the
    /// node is not a mapping (reported) or null (not reported).
    fn mapping<'n>(&mut self, node: &'n Node, label: &str, known: &[&str]) -> Option<Fields<'n>> {
        let entries = match &node.kind {
            Kind::Map(entries) => entries,
            Kind::Null => return None,
            _ => {
                self.error(
                    node.position,
                    format!(
                        "{}: must be a mapping, found {}",
                        display_label(label),
                        node.describe()
                    ),
                );
                return None;
            }
        };
        let mut fields = Fields::empty();
        for (key, value) in entries {
            let name = match &key.kind {
                Kind::Str(s) => s.as_str(),
                _ => {
                    let shown = key.scalar_text().unwrap_or_else(|| key.describe());
                    self.unknown_key(key, &shown, label, known);
                    continue;
                }
            };
            if known.contains(&name) {
                fields.entries.push((name, key, value));
            } else {
                self.unknown_key(key, name, label, known);
            }
        }
        Some(fields)
    }

    fn unknown_key(&mut self, key: &Node, name: &str, label: &str, known: &[&str]) {
        let place = if label.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in {label}")
        };
        let hint = match closest(name, known) {
            Some(candidate) => format!("; did you mean `{candidate}`?"),
            None => format!("; valid keys: {}", known.join(", ")),
        };
        self.error(
            key.position,
            format!(
                "unknown key `{name}` {place}{} (Atlantis rejects unknown keys){hint}",
                key.origin_note()
            ),
        );
    }

    fn string(&mut self, node: Option<&Node>, label: &str) -> Option<String> {
        let node = node?;
        match node.scalar_text() {
            Some(text) => Some(text),
            None => {
                self.error(
                    node.position,
                    format!("{label}: must be a string, found {}", node.describe()),
                );
                None
            }
        }
    }

    fn bool(&mut self, node: Option<&Node>, label: &str) -> Option<bool> {
        let node = node?;
        match &node.kind {
            Kind::Bool(b) => Some(*b),
            // go-yaml's YAML 1.1 compatibility for typed bool fields.
            Kind::Str(s) => match s.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
                _ => {
                    self.error(
                        node.position,
                        format!("{label}: must be true or false, found {}", node.describe()),
                    );
                    None
                }
            },
            _ => {
                self.error(
                    node.position,
                    format!("{label}: must be true or false, found {}", node.describe()),
                );
                None
            }
        }
    }

    fn int(&mut self, node: Option<&Node>, label: &str) -> Option<i64> {
        let node = node?;
        match &node.kind {
            Kind::Int(i) => Some(*i),
            // go-yaml stores a float with no fraction into an int field.
            Kind::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => {
                self.error(
                    node.position,
                    format!("{label}: must be an integer, found {}", node.describe()),
                );
                None
            }
        }
    }

    /// A list of strings (`[a, b]` or a block list); null items become "" as in go-yaml.
    fn string_list(&mut self, node: Option<&Node>, label: &str) -> Vec<(String, Position)> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Kind::Seq(items) = &node.kind else {
            let hint = match node.scalar_text() {
                Some(text) => format!(" (write it as a list: [{text}])"),
                None => String::new(),
            };
            self.error(
                node.position,
                format!(
                    "{label}: must be a list of strings, found {}{hint}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        let mut values = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match (&item.kind, item.scalar_text()) {
                (_, Some(text)) => values.push((text, item.position)),
                (Kind::Null, None) => values.push((String::new(), item.position)),
                _ => self.error(
                    item.position,
                    format!(
                        "{label}[{index}]: must be a string, found {}",
                        item.describe()
                    ),
                ),
            }
        }
        values
    }

    fn plain_list(&mut self, node: Option<&Node>, label: &str) -> Vec<String> {
        self.string_list(node, label)
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }

    fn requirements(&mut self, node: Option<&Node>, label: &str, kind: &str) -> Vec<String> {
        let values = self.string_list(node, label);
        for (value, at) in &values {
            if !REQUIREMENTS.contains(&value.as_str()) {
                self.error(
                    *at,
                    format!(
                        "{label}: {} is not a valid {kind}, only \"approved\", \"mergeable\" and \
                         \"undiverged\" are supported",
                        quote(value)
                    ),
                );
            }
        }
        values.into_iter().map(|(s, _)| s).collect()
    }

    fn silence_pr_comments(&mut self, node: Option<&Node>, label: &str) {
        for (value, at) in self.string_list(node, label) {
            if value != "plan" && value != "apply" {
                self.error(
                    at,
                    format!(
                        "{label}: value {} is not supported, supported values are [plan, apply]",
                        quote(&value)
                    ),
                );
            }
        }
    }

    /// A `/regex/` value (project or repo `branch`, regex repo `id`).
    fn slash_regex(&mut self, value: &str, at: Position, label: &str) {
        let inner = value
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'));
        let Some(inner) = inner else {
            self.error(
                at,
                format!(
                    "{label}: regex must begin and end with a slash '/', found {}",
                    quote(value)
                ),
            );
            return;
        };
        if let Err(e) = regex::Regex::new(inner) {
            self.error(
                at,
                format!(
                    "{label}: {value} is not a valid regex: {}",
                    regex_reason(&e)
                ),
            );
        }
    }

    // --- repo-level atlantis.yaml -------------------------------------------------------------

    fn repo_config(&mut self, root: &Node) -> AtlantisConfig {
        let mut config = AtlantisConfig {
            path: self.path.to_path_buf(),
            version: 0,
            projects: Vec::new(),
            workflows: Vec::new(),
            parallel_plan: None,
            automerge: None,
            parallel_apply: None,
            workflow_definitions: Vec::new(),
        };
        if let Kind::Map(entries) = &root.kind {
            let repos_key = entries
                .iter()
                .find(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == "repos"));
            if let Some((key, _)) = repos_key {
                self.error(
                    key.position,
                    "this is a server-side repos.yaml (top-level `repos:`), not a repo-level \
                     atlantis.yaml; give the atlantis.yaml at the root of the Terraform repository",
                );
                return config;
            }
        }
        let fields = match &root.kind {
            Kind::Map(_) => self
                .mapping(root, "", REPO_CFG_KEYS)
                .unwrap_or_else(Fields::empty),
            Kind::Null => Fields::empty(),
            _ => {
                self.error(
                    root.position,
                    format!(
                        "an atlantis.yaml must be a mapping with `version` and `projects`, found {}",
                        root.describe()
                    ),
                );
                return config;
            }
        };

        match fields.get("version") {
            None => self.error(
                root.position,
                "version: is required (2 or 3; plangate and current Atlantis expect 3)",
            ),
            Some(node) => {
                if let Some(version) = self.int(Some(node), "version") {
                    if version == 2 || version == 3 {
                        config.version = version as u32;
                    } else {
                        self.error(
                            node.position,
                            format!(
                                "version: only versions 2 and 3 are supported, found {version}"
                            ),
                        );
                    }
                }
            }
        }
        config.automerge = self.bool(fields.get("automerge"), "automerge");
        config.parallel_plan = self.bool(fields.get("parallel_plan"), "parallel_plan");
        config.parallel_apply = self.bool(fields.get("parallel_apply"), "parallel_apply");
        for key in [
            "delete_source_branch_on_merge",
            "abort_on_execution_order_fail",
        ] {
            self.bool(fields.get(key), key);
        }
        self.string(fields.get("emoji_reaction"), "emoji_reaction");
        self.string_list(
            fields.get("allowed_regexp_prefixes"),
            "allowed_regexp_prefixes",
        );
        self.string_list(fields.get("silence_pr_comments"), "silence_pr_comments");
        if let Some(node) = fields.get("repo_locks") {
            self.repo_locks(node, "repo_locks", false);
        }
        if let Some(node) = fields.get("autodiscover") {
            self.autodiscover(node, "autodiscover", false);
        }
        if let Some(node) = fields.get("policies") {
            self.policies(node, "policies");
        }
        if let Some(node) = fields.get("workflows") {
            config.workflow_definitions = self.workflows(node);
            config.workflows = config
                .workflow_definitions
                .iter()
                .map(|w| w.name.clone())
                .collect();
        }
        if let Some(node) = fields.get("projects") {
            match &node.kind {
                Kind::Seq(items) => {
                    for (index, item) in items.iter().enumerate() {
                        if let Some(project) = self.project(item, &format!("projects[{index}]")) {
                            config.projects.push(project);
                        }
                    }
                }
                _ => self.error(
                    node.position,
                    format!(
                        "projects: must be a list of projects, found {}",
                        node.describe()
                    ),
                ),
            }
        }
        self.check_project_names(&config.projects);
        config
    }

    fn project(&mut self, node: &Node, label: &str) -> Option<AtlantisProject> {
        if node.is_null() {
            self.error(
                node.position,
                format!("{label}: empty project; `dir` is required"),
            );
            return None;
        }
        let fields = self.mapping(node, label, PROJECT_KEYS)?;
        let at = |key: &str| join(label, key);

        let name_node = fields.get("name");
        let name = self.string(name_node, &at("name"));
        let name_position = name_node.map(|n| n.position);
        if let (Some(name), Some(name_node)) = (&name, name_node) {
            if name.is_empty() {
                self.error(
                    name_node.position,
                    format!("{}: if set cannot be empty", at("name")),
                );
            } else if contains_glob(name) {
                self.error(
                    name_node.position,
                    format!(
                        "{}: cannot contain glob pattern characters ('*', '?', '['); glob \
                         expansion is only supported in the 'dir' field",
                        at("name")
                    ),
                );
            } else if !valid_project_name(name) {
                self.error(
                    name_node.position,
                    format!(
                        "{}: {} is not allowed: must contain only URL safe characters \
                         (letters, digits, '-', '_', '.', '~' and '/')",
                        at("name"),
                        quote(name)
                    ),
                );
            }
        }

        let dir_node = fields.get("dir");
        let raw_dir = self.string(dir_node, &at("dir"));
        let mut dir = String::new();
        match (&raw_dir, dir_node) {
            (Some(raw), Some(dir_node)) if !raw.is_empty() => {
                if raw.contains("..") {
                    self.error(
                        dir_node.position,
                        format!("{}: cannot contain '..'", at("dir")),
                    );
                } else if contains_glob(raw) {
                    if globset::GlobBuilder::new(raw)
                        .literal_separator(true)
                        .build()
                        .is_err()
                    {
                        self.error(
                            dir_node.position,
                            format!("{}: invalid glob pattern {}", at("dir"), quote(raw)),
                        );
                    }
                    if name.is_some() {
                        self.error(
                            name_position.unwrap_or(node.position),
                            format!(
                                "{}: cannot be used with glob patterns in 'dir'; glob patterns \
                                 expand to multiple projects which cannot share the same name",
                                at("name")
                            ),
                        );
                    }
                }
                dir = normalize_dir(raw);
            }
            (None, Some(_)) => {} // wrong type, already reported
            _ => self.error(
                node.position,
                format!("{label}: `dir` is required (use '.' for the repository root)"),
            ),
        }

        let mut workspace = DEFAULT_WORKSPACE.to_string();
        if let Some(ws_node) = fields.get("workspace") {
            if let Some(ws) = self.string(Some(ws_node), &at("workspace")) {
                if let Err(reason) = validate_workspace(&ws) {
                    self.error(ws_node.position, format!("{}: {reason}", at("workspace")));
                }
                if !ws.is_empty() {
                    workspace = ws;
                }
            }
        }

        let branch = self.string(fields.get("branch"), &at("branch"));
        if let (Some(branch), Some(branch_node)) = (&branch, fields.get("branch")) {
            self.slash_regex(branch, branch_node.position, &at("branch"));
        }

        let terraform_distribution = self.string(
            fields.get("terraform_distribution"),
            &at("terraform_distribution"),
        );
        if let (Some(dist), Some(dist_node)) = (
            &terraform_distribution,
            fields.get("terraform_distribution"),
        ) {
            if dist != "terraform" && dist != "opentofu" {
                self.error(
                    dist_node.position,
                    format!(
                        "{}: {} is not a valid terraform_distribution, only 'terraform' and \
                         'opentofu' are supported",
                        at("terraform_distribution"),
                        quote(dist)
                    ),
                );
            }
        }

        let terraform_version =
            self.string(fields.get("terraform_version"), &at("terraform_version"));
        if let (Some(version), Some(version_node)) =
            (&terraform_version, fields.get("terraform_version"))
        {
            if !valid_version(version) {
                self.error(
                    version_node.position,
                    format!(
                        "{}: version {} could not be parsed (expected a version like 1.9.5 or \
                         v1.9.5)",
                        at("terraform_version"),
                        quote(version)
                    ),
                );
            }
        }

        let mut autoplan_enabled = None;
        let mut when_modified = Vec::new();
        if let Some(autoplan) = fields.get("autoplan") {
            let autoplan_label = at("autoplan");
            if let Some(autoplan_fields) =
                self.mapping(autoplan, &autoplan_label, &["when_modified", "enabled"])
            {
                autoplan_enabled = self.bool(
                    autoplan_fields.get("enabled"),
                    &join(&autoplan_label, "enabled"),
                );
                when_modified = self.plain_list(
                    autoplan_fields.get("when_modified"),
                    &join(&autoplan_label, "when_modified"),
                );
            }
        }

        let plan_requirements = self.requirements(
            fields.get("plan_requirements"),
            &at("plan_requirements"),
            "plan_requirement",
        );
        let apply_requirements = self.requirements(
            fields.get("apply_requirements"),
            &at("apply_requirements"),
            "apply_requirement",
        );
        let import_requirements = self.requirements(
            fields.get("import_requirements"),
            &at("import_requirements"),
            "import_requirement",
        );
        let depends_on = self.plain_list(fields.get("depends_on"), &at("depends_on"));
        self.bool(
            fields.get("delete_source_branch_on_merge"),
            &at("delete_source_branch_on_merge"),
        );
        let repo_locking = self.bool(fields.get("repo_locking"), &at("repo_locking"));
        if let Some(locks) = fields.get("repo_locks") {
            self.repo_locks(locks, &at("repo_locks"), false);
        }
        let execution_order_group = self.int(
            fields.get("execution_order_group"),
            &at("execution_order_group"),
        );
        let policy_check = self.bool(fields.get("policy_check"), &at("policy_check"));
        let custom_policy_check = self.bool(
            fields.get("custom_policy_check"),
            &at("custom_policy_check"),
        );
        self.silence_pr_comments(
            fields.get("silence_pr_comments"),
            &at("silence_pr_comments"),
        );
        self.glob_file_match(&fields, label);
        let workflow = self.string(fields.get("workflow"), &at("workflow"));

        Some(AtlantisProject {
            name,
            dir,
            workspace,
            workflow,
            branch,
            terraform_version,
            terraform_distribution,
            execution_order_group,
            depends_on,
            autoplan_enabled,
            when_modified,
            apply_requirements,
            plan_requirements,
            import_requirements,
            custom_policy_check,
            policy_check,
            repo_locking,
            position: node.position,
            name_position,
        })
    }

    /// `glob_file_match` (newer Atlantis): basename patterns used when `dir` is a glob.
    fn glob_file_match(&mut self, fields: &Fields, label: &str) {
        let key = join(label, "glob_file_match");
        for (pattern, at) in self.string_list(fields.get("glob_file_match"), &key) {
            if pattern.is_empty() || pattern.contains('/') {
                self.error(
                    at,
                    format!(
                        "{key}: {} must be a non-empty file name pattern without '/'",
                        quote(&pattern)
                    ),
                );
            }
        }
    }

    /// Atlantis's `validateProjectNames`, except that projects pinned to different `branch`
    /// regexes are not compared (Atlantis drops non-matching ones before this check).
    fn check_project_names(&mut self, projects: &[AtlantisProject]) {
        let mut by_name: HashMap<&str, Vec<&AtlantisProject>> = HashMap::new();
        for project in projects {
            let Some(name) = &project.name else {
                continue;
            };
            let earlier = by_name.entry(name.as_str()).or_default();
            if let Some(first) = earlier.iter().find(|p| p.may_meet(project)) {
                self.error(
                    project.name_position.unwrap_or(project.position),
                    format!(
                        "found two or more projects with name {}; project names must be unique \
                         (first at line {})",
                        quote(name),
                        first.name_position.unwrap_or(first.position).line
                    ),
                );
                self.tag_last("duplicate-project-name");
            }
            earlier.push(project);
        }
        let mut by_state: HashMap<(&str, &str), Vec<&AtlantisProject>> = HashMap::new();
        for project in projects {
            if project.dir.is_empty() || contains_glob(&project.dir) {
                continue;
            }
            let key = (project.dir.as_str(), project.workspace.as_str());
            let earlier = by_state.entry(key).or_default();
            if project.name.is_none() {
                if let Some(first) = earlier.iter().find(|p| p.may_meet(project)) {
                    self.error(
                        project.position,
                        format!(
                            "there are two or more projects with dir: {} workspace: {} that are \
                             not all named; they must have a 'name' key so they can be targeted \
                             separately (other project at line {})",
                            quote(&project.dir),
                            quote(&project.workspace),
                            first.position.line
                        ),
                    );
                    self.tag_last("shared-state");
                }
            }
            earlier.push(project);
        }
    }

    fn repo_locks(&mut self, node: &Node, label: &str, check_mode: bool) {
        if let Some(fields) = self.mapping(node, label, &["mode"]) {
            let mode_label = join(label, "mode");
            if let Some(mode) = self.string(fields.get("mode"), &mode_label) {
                if check_mode && !["disabled", "on_plan", "on_apply"].contains(&mode.as_str()) {
                    self.error(
                        fields.get("mode").map_or(node.position, |n| n.position),
                        format!(
                            "{mode_label}: must be one of disabled, on_plan, on_apply, found {}",
                            quote(&mode)
                        ),
                    );
                }
            }
        }
    }

    fn autodiscover(&mut self, node: &Node, label: &str, check_values: bool) {
        let Some(fields) = self.mapping(node, label, &["mode", "ignore_paths"]) else {
            return;
        };
        let mode_label = join(label, "mode");
        if let Some(mode) = self.string(fields.get("mode"), &mode_label) {
            if check_values && !["auto", "disabled", "enabled"].contains(&mode.as_str()) {
                self.error(
                    fields.get("mode").map_or(node.position, |n| n.position),
                    format!(
                        "{mode_label}: must be one of auto, disabled, enabled, found {}",
                        quote(&mode)
                    ),
                );
            }
        }
        let paths_label = join(label, "ignore_paths");
        for (pattern, at) in self.string_list(fields.get("ignore_paths"), &paths_label) {
            if check_values && pattern.starts_with('/') {
                self.error(
                    at,
                    format!("{paths_label}: pattern must not begin with a slash '/'"),
                );
            }
        }
    }

    /// `policies:` (the same schema in atlantis.yaml and repos.yaml); returns policy set names.
    fn policies(&mut self, node: &Node, label: &str) -> Vec<String> {
        let keys = [
            "conftest_version",
            "owners",
            "policy_sets",
            "sticky_policy_approvals",
            "policy_item_regex",
            "approve_count",
        ];
        let Some(fields) = self.mapping(node, label, &keys) else {
            return Vec::new();
        };
        self.string(
            fields.get("conftest_version"),
            &join(label, "conftest_version"),
        );
        if let Some(owners) = fields.get("owners") {
            self.owners(owners, &join(label, "owners"));
        }
        self.bool(
            fields.get("sticky_policy_approvals"),
            &join(label, "sticky_policy_approvals"),
        );
        self.string(
            fields.get("policy_item_regex"),
            &join(label, "policy_item_regex"),
        );
        self.int(fields.get("approve_count"), &join(label, "approve_count"));
        let mut names = Vec::new();
        if let Some(sets) = fields.get("policy_sets") {
            let sets_label = join(label, "policy_sets");
            let Kind::Seq(items) = &sets.kind else {
                self.error(
                    sets.position,
                    format!("{sets_label}: must be a list, found {}", sets.describe()),
                );
                return names;
            };
            let set_keys = [
                "path",
                "source",
                "name",
                "owners",
                "approve_count",
                "sticky_policy_approvals",
                "policy_item_regex",
                "prevent_self_approve",
            ];
            for (index, item) in items.iter().enumerate() {
                let item_label = format!("{sets_label}[{index}]");
                let Some(set) = self.mapping(item, &item_label, &set_keys) else {
                    continue;
                };
                for key in ["path", "source", "policy_item_regex"] {
                    self.string(set.get(key), &join(&item_label, key));
                }
                if let Some(name) = self.string(set.get("name"), &join(&item_label, "name")) {
                    names.push(name);
                }
                if let Some(owners) = set.get("owners") {
                    self.owners(owners, &join(&item_label, "owners"));
                }
                self.int(
                    set.get("approve_count"),
                    &join(&item_label, "approve_count"),
                );
                for key in ["sticky_policy_approvals", "prevent_self_approve"] {
                    self.bool(set.get(key), &join(&item_label, key));
                }
            }
        }
        names
    }

    fn owners(&mut self, node: &Node, label: &str) {
        if let Some(fields) = self.mapping(node, label, &["users", "teams"]) {
            self.string_list(fields.get("users"), &join(label, "users"));
            self.string_list(fields.get("teams"), &join(label, "teams"));
        }
    }

    // --- workflows ------------------------------------------------------------------------------

    fn workflows(&mut self, node: &Node) -> Vec<Workflow> {
        let Kind::Map(entries) = &node.kind else {
            self.error(
                node.position,
                format!(
                    "workflows: must be a mapping of workflow names to workflows, found {}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        let mut workflows = Vec::new();
        for (key, value) in entries {
            let Some(name) = key.scalar_text() else {
                self.error(
                    key.position,
                    format!(
                        "workflows: a workflow name must be a string, found {}",
                        key.describe()
                    ),
                );
                continue;
            };
            let label = format!("workflows.{name}");
            let mut workflow = Workflow {
                name,
                position: key.position,
                stages: Vec::new(),
            };
            if let Some(fields) = self.mapping(value, &label, STAGE_NAMES) {
                for (stage_name, stage_key, stage_node) in &fields.entries {
                    let stage_label = join(&label, stage_name);
                    let mut stage = Stage {
                        name: (*stage_name).to_string(),
                        position: stage_key.position,
                        steps: Vec::new(),
                    };
                    if let Some(stage_fields) = self.mapping(stage_node, &stage_label, &["steps"]) {
                        if let Some(steps) = stage_fields.get("steps") {
                            stage.steps = self.steps(steps, &join(&stage_label, "steps"));
                        }
                    }
                    workflow.stages.push(stage);
                }
            }
            workflows.push(workflow);
        }
        workflows
    }

    fn steps(&mut self, node: &Node, label: &str) -> Vec<Step> {
        let Kind::Seq(items) = &node.kind else {
            self.error(
                node.position,
                format!(
                    "{label}: must be a list of steps, found {}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.step(item, &format!("{label}[{index}]")))
            .collect()
    }

    /// One step, accepted in the shapes Atlantis's `raw.Step` decodes: a bare step name, a
    /// `run`/`multienv` string, a built-in with `extra_args`, or `env`/`run`/`multienv` with a
    /// mapping of options.
    fn step(&mut self, node: &Node, label: &str) -> Option<Step> {
        let mut step = Step {
            kind: String::new(),
            command: None,
            extra_args: Vec::new(),
            env_name: None,
            position: node.position,
        };
        let entries = match &node.kind {
            Kind::Map(entries) => entries,
            Kind::Null => {
                self.error(node.position, format!("{label}: step element is empty"));
                return None;
            }
            Kind::Seq(_) => {
                self.error(
                    node.position,
                    format!(
                        "{label}: a step must be a step name or a one-key mapping, found a list"
                    ),
                );
                return None;
            }
            _ => {
                let name = node.scalar_text().unwrap_or_default();
                if !STEP_NAMES.contains(&name.as_str()) {
                    self.error(
                        node.position,
                        format!(
                            "{label}: {} is not a valid step type, maybe you omitted the 'run' key",
                            quote(&name)
                        ),
                    );
                    return None;
                }
                step.kind = name;
                return Some(step);
            }
        };
        let [(key, value)] = entries.as_slice() else {
            if entries.is_empty() {
                self.error(node.position, format!("{label}: step element is empty"));
            } else {
                let keys: Vec<String> = entries
                    .iter()
                    .map(|(k, _)| k.scalar_text().unwrap_or_else(|| k.describe()))
                    .collect();
                self.error(
                    node.position,
                    format!(
                        "{label}: step element can only contain a single key, found {}: {}",
                        keys.len(),
                        keys.join(",")
                    ),
                );
            }
            return None;
        };
        let kind = key.scalar_text().unwrap_or_default();
        let step_label = join(label, &kind);
        match &value.kind {
            Kind::Map(_) => {
                if BUILTIN_STEPS.contains(&kind.as_str()) {
                    let fields = self.builtin_step_args(value, &step_label, &kind)?;
                    step.extra_args =
                        self.plain_list(fields.get("extra_args"), &join(&step_label, "extra_args"));
                } else if ["run", "env", "multienv"].contains(&kind.as_str()) {
                    self.command_step(value, &step_label, &kind, &mut step)?;
                } else {
                    self.error(
                        key.position,
                        format!("{label}: {} is not a valid step type", quote(&kind)),
                    );
                    return None;
                }
            }
            Kind::Seq(_) => {
                self.error(
                    value.position,
                    format!("{step_label}: must be a command string or a mapping, found a list"),
                );
                return None;
            }
            _ => {
                if kind != "run" && kind != "multienv" {
                    let hint = if BUILTIN_STEPS.contains(&kind.as_str()) {
                        format!("; write `- {kind}` or `- {kind}: {{extra_args: [...]}}`")
                    } else {
                        String::new()
                    };
                    self.error(
                        key.position,
                        format!(
                            "{label}: {} is not a valid step type for a string value (only run and \
                             multienv take a command string){hint}",
                            quote(&kind)
                        ),
                    );
                    return None;
                }
                step.command = Some(value.scalar_text().unwrap_or_default());
            }
        }
        step.kind = kind;
        Some(step)
    }

    fn builtin_step_args<'n>(
        &mut self,
        value: &'n Node,
        label: &str,
        kind: &str,
    ) -> Option<Fields<'n>> {
        let Kind::Map(entries) = &value.kind else {
            return None;
        };
        let mut ok = true;
        for (key, _) in entries {
            let name = key.scalar_text().unwrap_or_else(|| key.describe());
            if name != "extra_args" {
                self.error(
                    key.position,
                    format!(
                        "{label}: built-in steps only support a single extra_args key, found {} \
                         in step {kind}",
                        quote(&name)
                    ),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        self.mapping(value, label, &["extra_args"])
    }

    fn command_step(
        &mut self,
        value: &Node,
        label: &str,
        kind: &str,
        step: &mut Step,
    ) -> Option<()> {
        let known: &[&str] = match kind {
            "env" => &["name", "command", "value", "shell", "shellArgs"],
            "multienv" => &["command", "output", "shell", "shellArgs"],
            _ => &["command", "output", "shell", "shellArgs"],
        };
        let before = self.diagnostics.len();
        let fields = self.mapping(value, label, known)?;
        for key in ["name", "command", "value", "shell"] {
            if let Some(node) = fields.get(key) {
                if node.scalar_text().is_none() {
                    self.error(
                        node.position,
                        format!(
                            "{}: must be a string, found {}",
                            join(label, key),
                            node.describe()
                        ),
                    );
                }
            }
        }
        if fields.has("shell") && !fields.has("command") {
            self.error(
                value.position,
                format!(
                    "{label}: workflow steps only support \"shell\" key in combination with \
                     \"command\" key"
                ),
            );
        }
        if fields.has("shellArgs") && !fields.has("shell") {
            self.error(
                value.position,
                format!(
                    "{label}: workflow steps only support \"shellArgs\" key in combination with \
                     \"shell\" key"
                ),
            );
        }
        if let Some(args) = fields.get("shellArgs") {
            if args.scalar_text().is_none() {
                self.string_list(Some(args), &join(label, "shellArgs"));
            }
        }
        step.command = fields.get("command").and_then(Node::scalar_text);
        match kind {
            "env" => {
                step.env_name = fields.get("name").and_then(Node::scalar_text);
                if step.env_name.is_none() {
                    self.error(
                        value.position,
                        format!("{label}: env steps must have a \"name\" key set"),
                    );
                }
                if fields.has("value") && fields.has("command") {
                    self.error(
                        value.position,
                        format!(
                            "{label}: env steps only support one of the \"value\" or \"command\" \
                             keys, found both"
                        ),
                    );
                }
            }
            _ => {
                if step.command.is_none() {
                    self.error(
                        value.position,
                        format!(
                            "{label}: {} step must have a \"command\" key set",
                            quote(kind)
                        ),
                    );
                }
                if let Some(output) = fields.get("output") {
                    self.step_output(output, &join(label, "output"), kind);
                }
            }
        }
        (self.diagnostics.len() == before).then_some(())
    }

    fn step_output(&mut self, node: &Node, label: &str, kind: &str) {
        let allowed: &[&str] = if kind == "run" {
            &["show", "hide", "strip_refreshing"]
        } else {
            &["show", "hide"]
        };
        let check = |checker: &mut Self, value: &str, at: Position| {
            if !allowed.contains(&value) {
                checker.error(
                    at,
                    format!(
                        "{label}: {} step output must be one of {}{}, found {}",
                        kind,
                        allowed.join(", "),
                        if kind == "run" {
                            " or filter_regex"
                        } else {
                            ""
                        },
                        quote(value)
                    ),
                );
            }
        };
        match &node.kind {
            Kind::Seq(items) if kind == "run" => {
                for item in items {
                    match &item.kind {
                        Kind::Map(entries) => {
                            for (key, value) in entries {
                                let name = key.scalar_text().unwrap_or_default();
                                if name != "filter_regex" {
                                    check(self, &name, key.position);
                                    continue;
                                }
                                let patterns = match value.scalar_text() {
                                    Some(p) => vec![(p, value.position)],
                                    None => {
                                        self.string_list(Some(value), &join(label, "filter_regex"))
                                    }
                                };
                                for (pattern, at) in patterns {
                                    if let Err(e) = regex::Regex::new(&pattern) {
                                        self.error(
                                            at,
                                            format!(
                                                "{label}: filter_regex {} is not a valid regex: {}",
                                                quote(&pattern),
                                                regex_reason(&e)
                                            ),
                                        );
                                    }
                                }
                            }
                        }
                        _ => match item.scalar_text() {
                            Some(text) => check(self, &text, item.position),
                            None => self.error(
                                item.position,
                                format!(
                                    "{label}: must be a string or a filter_regex mapping, found {}",
                                    item.describe()
                                ),
                            ),
                        },
                    }
                }
            }
            _ => match node.scalar_text() {
                Some(text) => check(self, &text, node.position),
                None => self.error(
                    node.position,
                    format!("{label}: must be a string, found {}", node.describe()),
                ),
            },
        }
    }

    // --- server-side repos.yaml -----------------------------------------------------------

    fn global_config(&mut self, root: &Node) -> ReposConfig {
        let mut config = ReposConfig {
            path: self.path.to_path_buf(),
            repos: Vec::new(),
            workflows: Vec::new(),
            workflow_definitions: Vec::new(),
            has_policies: false,
            policy_sets: Vec::new(),
        };
        if let Kind::Map(entries) = &root.kind {
            let repo_level = entries.iter().find(
                |(k, _)| matches!(&k.kind, Kind::Str(s) if s == "version" || s == "projects"),
            );
            let has_repos = entries
                .iter()
                .any(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == "repos"));
            if let (Some((key, _)), false) = (repo_level, has_repos) {
                self.error(
                    key.position,
                    "this is a repo-level atlantis.yaml (top-level `version`/`projects`), not a \
                     server-side repos.yaml",
                );
                return config;
            }
        }
        let fields = match &root.kind {
            Kind::Null => Fields::empty(),
            Kind::Map(_) => self
                .mapping(root, "", GLOBAL_CFG_KEYS)
                .unwrap_or_else(Fields::empty),
            _ => {
                self.error(
                    root.position,
                    format!(
                        "a repos.yaml must be a mapping with `repos`, found {}",
                        root.describe()
                    ),
                );
                return config;
            }
        };
        if let Some(node) = fields.get("workflows") {
            config.workflow_definitions = self.workflows(node);
            config.workflows = config
                .workflow_definitions
                .iter()
                .map(|w| w.name.clone())
                .collect();
        }
        if let Some(node) = fields.get("policies") {
            config.has_policies = true;
            config.policy_sets = self.policies(node, "policies");
        }
        if let Some(node) = fields.get("metrics") {
            self.metrics(node);
        }
        if let Some(node) = fields.get("team_authz") {
            if let Some(authz) = self.mapping(node, "team_authz", &["command", "args"]) {
                self.string(authz.get("command"), "team_authz.command");
                self.string_list(authz.get("args"), "team_authz.args");
            }
        }
        if let Some(node) = fields.get("external_stores") {
            self.external_stores(node);
        }
        if let Some(node) = fields.get("repos") {
            match &node.kind {
                Kind::Seq(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let label = format!("repos[{index}]");
                        if let Some(repo) = self.server_repo(item, &label, &config.workflows) {
                            config.repos.push(repo);
                        }
                    }
                }
                _ => self.error(
                    node.position,
                    format!("repos: must be a list, found {}", node.describe()),
                ),
            }
        }
        config
    }

    fn server_repo(
        &mut self,
        node: &Node,
        label: &str,
        workflows: &[String],
    ) -> Option<ServerRepo> {
        let fields = match self.mapping(node, label, SERVER_REPO_KEYS) {
            Some(fields) => fields,
            None => {
                if node.is_null() {
                    self.error(
                        node.position,
                        format!("{label}: empty repo entry; `id` is required"),
                    );
                }
                return None;
            }
        };
        let at = |key: &str| join(label, key);
        let id_node = fields.get("id");
        let id = self.string(id_node, &at("id")).unwrap_or_default();
        let wrong_type = id_node.is_some_and(|n| n.scalar_text().is_none());
        if id.is_empty() {
            if !wrong_type {
                self.error(node.position, format!("{label}: `id` is required"));
            }
        } else if id.starts_with('/') && id.ends_with('/') {
            let at_id = fields.get("id").map_or(node.position, |n| n.position);
            self.slash_regex(&id, at_id, &at("id"));
        }
        let branch = self.string(fields.get("branch"), &at("branch"));
        if let (Some(branch), Some(branch_node)) = (&branch, fields.get("branch")) {
            if !branch.is_empty() {
                self.slash_regex(branch, branch_node.position, &at("branch"));
            }
        }
        let repo_config_file = self.string(fields.get("repo_config_file"), &at("repo_config_file"));
        if let (Some(file), Some(file_node)) = (&repo_config_file, fields.get("repo_config_file")) {
            if file.starts_with('/') {
                self.error(
                    file_node.position,
                    format!(
                        "{}: must not start with a slash '/'",
                        at("repo_config_file")
                    ),
                );
            } else if file.contains("../") || file.contains("..\\") {
                self.error(
                    file_node.position,
                    format!(
                        "{}: must not contain parent directory path like '../'",
                        at("repo_config_file")
                    ),
                );
            }
        }
        let plan_requirements = self.requirements(
            fields.get("plan_requirements"),
            &at("plan_requirements"),
            "plan_requirement",
        );
        let apply_requirements = self.requirements(
            fields.get("apply_requirements"),
            &at("apply_requirements"),
            "apply_requirement",
        );
        let import_requirements = self.requirements(
            fields.get("import_requirements"),
            &at("import_requirements"),
            "import_requirement",
        );
        let pre_workflow_hooks =
            self.hooks(fields.get("pre_workflow_hooks"), &at("pre_workflow_hooks"));
        let post_workflow_hooks = self.hooks(
            fields.get("post_workflow_hooks"),
            &at("post_workflow_hooks"),
        );

        let workflow = self.string(fields.get("workflow"), &at("workflow"));
        if let (Some(name), Some(workflow_node)) = (&workflow, fields.get("workflow")) {
            if name != "default" && !workflows.contains(name) {
                self.error(
                    workflow_node.position,
                    format!(
                        "{}: workflow {} is not defined",
                        at("workflow"),
                        quote(name)
                    ),
                );
            }
        }
        let allowed_workflows =
            self.string_list(fields.get("allowed_workflows"), &at("allowed_workflows"));
        for (name, position) in &allowed_workflows {
            if name != "default" && !workflows.contains(name) {
                self.error(
                    *position,
                    format!(
                        "{}: workflow {} is not defined",
                        at("allowed_workflows"),
                        quote(name)
                    ),
                );
            }
        }
        let allowed_overrides =
            self.string_list(fields.get("allowed_overrides"), &at("allowed_overrides"));
        for (name, position) in &allowed_overrides {
            if !OVERRIDES.contains(&name.as_str()) {
                self.error(
                    *position,
                    format!(
                        "{}: {} is not a valid override, only {} are supported",
                        at("allowed_overrides"),
                        quote(name),
                        OVERRIDES.join(", ")
                    ),
                );
            }
        }
        let allow_custom_workflows = self.bool(
            fields.get("allow_custom_workflows"),
            &at("allow_custom_workflows"),
        );
        for key in ["delete_source_branch_on_merge", "repo_locking"] {
            self.bool(fields.get(key), &at(key));
        }
        if let Some(locks) = fields.get("repo_locks") {
            self.repo_locks(locks, &at("repo_locks"), true);
        }
        let policy_check = self.bool(fields.get("policy_check"), &at("policy_check"));
        let custom_policy_check = self.bool(
            fields.get("custom_policy_check"),
            &at("custom_policy_check"),
        );
        if let Some(autodiscover) = fields.get("autodiscover") {
            self.autodiscover(autodiscover, &at("autodiscover"), true);
        }
        self.silence_pr_comments(
            fields.get("silence_pr_comments"),
            &at("silence_pr_comments"),
        );

        Some(ServerRepo {
            id,
            position: node.position,
            branch,
            repo_config_file,
            workflow,
            allowed_overrides: allowed_overrides.into_iter().map(|(s, _)| s).collect(),
            allowed_workflows: allowed_workflows.into_iter().map(|(s, _)| s).collect(),
            allow_custom_workflows,
            plan_requirements,
            apply_requirements,
            import_requirements,
            policy_check,
            custom_policy_check,
            pre_workflow_hooks,
            post_workflow_hooks,
        })
    }

    /// Workflow hooks decode as string-to-string mappings (`run`, `description`, `shell`,
    /// `shellArgs`, `commands`); Atlantis does not restrict their keys.
    fn hooks(&mut self, node: Option<&Node>, label: &str) -> Vec<WorkflowHook> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Kind::Seq(items) = &node.kind else {
            self.error(
                node.position,
                format!(
                    "{label}: must be a list of hooks, found {}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        let mut hooks = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let item_label = format!("{label}[{index}]");
            let Kind::Map(entries) = &item.kind else {
                self.error(
                    item.position,
                    format!(
                        "{item_label}: a hook must be a mapping like `run: command`, found {}",
                        item.describe()
                    ),
                );
                continue;
            };
            let mut hook = WorkflowHook {
                run: None,
                description: None,
                shell: None,
                position: item.position,
            };
            for (key, value) in entries {
                let name = key.scalar_text().unwrap_or_default();
                let text = match &value.kind {
                    Kind::Null => Some(String::new()),
                    _ => value.scalar_text(),
                };
                let Some(text) = text else {
                    self.error(
                        value.position,
                        format!(
                            "{}: must be a string, found {}",
                            join(&item_label, &name),
                            value.describe()
                        ),
                    );
                    continue;
                };
                match name.as_str() {
                    "run" => hook.run = Some(text),
                    "description" => hook.description = Some(text),
                    "shell" => hook.shell = Some(text),
                    _ => {}
                }
            }
            hooks.push(hook);
        }
        hooks
    }

    fn metrics(&mut self, node: &Node) {
        let Some(fields) = self.mapping(node, "metrics", &["statsd", "prometheus"]) else {
            return;
        };
        if let Some(statsd) = fields.get("statsd") {
            if let Some(statsd_fields) = self.mapping(statsd, "metrics.statsd", &["host", "port"]) {
                let host = self.string(statsd_fields.get("host"), "metrics.statsd.host");
                let port = self.string(statsd_fields.get("port"), "metrics.statsd.port");
                if host.as_deref().unwrap_or("").is_empty() {
                    self.error(statsd.position, "metrics.statsd.host: cannot be blank");
                }
                match port.as_deref() {
                    None | Some("") => {
                        self.error(statsd.position, "metrics.statsd.port: cannot be blank")
                    }
                    Some(p) if p.parse::<i64>().is_err() => self.error(
                        statsd_fields
                            .get("port")
                            .map_or(statsd.position, |n| n.position),
                        format!(
                            "metrics.statsd.port: must be an integer, found {}",
                            quote(p)
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        if let Some(prometheus) = fields.get("prometheus") {
            if let Some(prom) = self.mapping(prometheus, "metrics.prometheus", &["endpoint"]) {
                let endpoint = self.string(prom.get("endpoint"), "metrics.prometheus.endpoint");
                if endpoint.as_deref().unwrap_or("").is_empty() {
                    self.error(
                        prometheus.position,
                        "metrics.prometheus.endpoint: cannot be blank",
                    );
                }
            }
        }
    }

    fn external_stores(&mut self, node: &Node) {
        let Some(fields) = self.mapping(node, "external_stores", &["plan_store"]) else {
            return;
        };
        let Some(store) = fields.get("plan_store") else {
            return;
        };
        let label = "external_stores.plan_store";
        let Some(store_fields) = self.mapping(store, label, &["type", "s3"]) else {
            return;
        };
        let kind = self.string(store_fields.get("type"), "external_stores.plan_store.type");
        let s3_keys = [
            "bucket",
            "region",
            "prefix",
            "endpoint",
            "force_path_style",
            "profile",
        ];
        let mut bucket = None;
        let mut region = None;
        if let Some(s3) = store_fields.get("s3") {
            if let Some(s3_fields) = self.mapping(s3, "external_stores.plan_store.s3", &s3_keys) {
                bucket = self.string(
                    s3_fields.get("bucket"),
                    "external_stores.plan_store.s3.bucket",
                );
                region = self.string(
                    s3_fields.get("region"),
                    "external_stores.plan_store.s3.region",
                );
                for key in ["prefix", "endpoint", "profile"] {
                    self.string(
                        s3_fields.get(key),
                        &format!("external_stores.plan_store.s3.{key}"),
                    );
                }
                self.bool(
                    s3_fields.get("force_path_style"),
                    "external_stores.plan_store.s3.force_path_style",
                );
            }
        }
        match kind.as_deref() {
            None | Some("") => {}
            Some("s3") => {
                if bucket.as_deref().unwrap_or("").is_empty() {
                    self.error(store.position, "external_stores.plan_store.s3.bucket is required when type is 's3'");
                }
                if region.as_deref().unwrap_or("").is_empty() {
                    self.error(store.position, "external_stores.plan_store.s3.region is required when type is 's3'");
                }
            }
            Some(other) => self.error(
                store_fields.get("type").map_or(store.position, |n| n.position),
                format!(
                    "external_stores.plan_store.type: unsupported plan store type {}: only 's3' is supported",
                    quote(other)
                ),
            ),
        }
    }
}

fn display_label(label: &str) -> &str {
    if label.is_empty() {
        "the document"
    } else {
        label
    }
}

/// Atlantis's `validProjectName`: what `url.QueryEscape` leaves alone, plus `/`.
fn valid_project_name(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '/'))
}

/// Atlantis's `ValidateWorkspaceName`.
fn validate_workspace(workspace: &str) -> Result<(), &'static str> {
    if workspace.is_empty() {
        return Ok(());
    }
    if workspace.contains(['/', '\\']) {
        return Err("cannot contain '/' or '\\'");
    }
    if workspace.contains("..") {
        return Err("cannot contain '..'");
    }
    if workspace == "." {
        return Err("cannot be '.'");
    }
    if workspace.starts_with('-') {
        return Err("cannot start with '-'");
    }
    if workspace.starts_with('~') {
        return Err("cannot start with '~'");
    }
    if workspace.contains('$') {
        return Err("cannot contain '$'");
    }
    if workspace
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("cannot contain whitespace or control characters");
    }
    Ok(())
}

/// The version grammar of hashicorp/go-version's `NewVersion`, which Atlantis uses for
/// `terraform_version`: `v1.2.3`, `1.2`, `1.5.0-beta1`, `1.5.0+meta`.
fn valid_version(version: &str) -> bool {
    use std::sync::OnceLock;
    static GRAMMAR: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let grammar = GRAMMAR.get_or_init(|| {
        let ident = r"[0-9A-Za-z~-]+";
        let pattern = format!(
            r"^v?(?P<segments>[0-9]+(?:\.[0-9]+)*)(?:-[0-9]+[0-9A-Za-z~-]*(?:\.{ident})*|-?[A-Za-z~-]+[0-9A-Za-z~-]*(?:\.{ident})*)?(?:\+{ident}(?:\.{ident})*)?$"
        );
        regex::Regex::new(&pattern).ok()
    });
    let Some(captures) = grammar.as_ref().and_then(|g| g.captures(version)) else {
        return false;
    };
    captures
        .name("segments")
        .is_some_and(|s| s.as_str().split('.').all(|n| n.parse::<i64>().is_ok()))
}

/// The known key closest to an unknown one, when the difference looks like a typo.
fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < name.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "atlantis.yaml";

    fn parse_ok(yaml: &str) -> AtlantisConfig {
        match parse(yaml, Path::new(FILE)) {
            Ok(config) => config,
            Err(e) => panic!("expected a valid config, got: {e:?}"),
        }
    }

    fn diagnostics_of(result: crate::Result<impl fmt::Debug>) -> Vec<Diagnostic> {
        match result {
            Err(Error::Config(diagnostics)) => {
                for d in &diagnostics {
                    assert!(!d.message.contains('\n'), "multi-line message: {d}");
                    assert_eq!(d.path, Path::new(FILE));
                }
                diagnostics
            }
            other => panic!("expected config diagnostics, got: {other:?}"),
        }
    }

    /// (line, message) of every diagnostic.
    fn errors(yaml: &str) -> Vec<(usize, String)> {
        diagnostics_of(parse(yaml, Path::new(FILE)))
            .into_iter()
            .map(|d| (d.position.map_or(0, |p| p.line), d.message))
            .collect()
    }

    fn repos_errors(yaml: &str) -> Vec<(usize, String)> {
        diagnostics_of(parse_repos_yaml(yaml, Path::new(FILE)))
            .into_iter()
            .map(|d| (d.position.map_or(0, |p| p.line), d.message))
            .collect()
    }

    /// Asserts exactly one diagnostic, on `line`, containing `needle`.
    fn assert_one(yaml: &str, line: usize, needle: &str) {
        let found = errors(yaml);
        assert_eq!(found.len(), 1, "expected one diagnostic, got {found:#?}");
        assert_eq!(found[0].0, line, "wrong line: {found:#?}");
        assert!(
            found[0].1.contains(needle),
            "{:?} does not contain {needle:?}",
            found[0].1
        );
    }

    fn project(yaml_body: &str) -> String {
        format!("version: 3\nprojects:\n{yaml_body}")
    }

    // --- valid files ------------------------------------------------------------------------

    #[test]
    fn minimal_file_has_defaults() {
        let config = parse_ok("version: 3\nprojects:\n- dir: envs/prod\n");
        assert_eq!(config.version, 3);
        assert_eq!(config.projects.len(), 1);
        let p = &config.projects[0];
        assert_eq!(p.dir, "envs/prod");
        assert_eq!(p.workspace, "default");
        assert_eq!(p.name, None);
        assert_eq!(p.position, Position { line: 3, column: 3 });
        assert_eq!(p.name_position, None);
        assert!(p.when_modified.is_empty());
        assert_eq!(p.autoplan_enabled, None);
    }

    #[test]
    fn version_2_is_accepted() {
        assert_eq!(parse_ok("version: 2\n").version, 2);
    }

    #[test]
    fn fields_are_read() {
        let config = parse_ok(
            "version: 3\nautomerge: true\nparallel_plan: false\nparallel_apply: yes\n\
             projects:\n\
             - name: app-prod\n  dir: ./envs/prod/\n  workspace: blue\n  workflow: custom\n  \
             branch: /^main$/\n  terraform_version: 1.10\n  terraform_distribution: opentofu\n  \
             execution_order_group: 2.0\n  depends_on: [net]\n  \
             autoplan:\n    enabled: false\n    when_modified: ['*.tf', '../modules/**']\n  \
             apply_requirements: [approved, mergeable]\n  plan_requirements: [undiverged]\n  \
             import_requirements: [approved]\n  policy_check: true\n  custom_policy_check: on\n  \
             repo_locking: false\n",
        );
        assert_eq!(config.automerge, Some(true));
        assert_eq!(config.parallel_plan, Some(false));
        assert_eq!(config.parallel_apply, Some(true));
        let p = &config.projects[0];
        assert_eq!(p.name.as_deref(), Some("app-prod"));
        assert_eq!(p.name_position, Some(Position { line: 6, column: 9 }));
        assert_eq!(p.dir, "envs/prod");
        assert_eq!(p.workspace, "blue");
        assert_eq!(p.workflow.as_deref(), Some("custom"));
        assert_eq!(p.branch.as_deref(), Some("/^main$/"));
        // The source text, not the float 1.1.
        assert_eq!(p.terraform_version.as_deref(), Some("1.10"));
        assert_eq!(p.terraform_distribution.as_deref(), Some("opentofu"));
        assert_eq!(p.execution_order_group, Some(2));
        assert_eq!(p.depends_on, vec!["net"]);
        assert_eq!(p.autoplan_enabled, Some(false));
        assert_eq!(p.when_modified, vec!["*.tf", "../modules/**"]);
        assert_eq!(p.apply_requirements, vec!["approved", "mergeable"]);
        assert_eq!(p.plan_requirements, vec!["undiverged"]);
        assert_eq!(p.import_requirements, vec!["approved"]);
        assert_eq!(p.policy_check, Some(true));
        assert_eq!(p.custom_policy_check, Some(true));
        assert_eq!(p.repo_locking, Some(false));
    }

    #[test]
    fn dirs_are_normalised_like_atlantis() {
        for (raw, expected) in [
            (".", "."),
            ("./", "."),
            ("/", "."),
            ("envs/prod/", "envs/prod"),
            ("./envs//prod", "envs/prod"),
            ("envs/./prod", "envs/prod"),
            ("/envs/prod", "envs/prod"),
        ] {
            let config = parse_ok(&project(&format!("- dir: \"{raw}\"\n")));
            assert_eq!(config.projects[0].dir, expected, "dir {raw:?}");
        }
        assert_eq!(normalize_dir("a/b/../c"), "a/c");
        assert_eq!(normalize_dir("../a"), "../a");
        assert_eq!(normalize_dir(""), ".");
    }

    #[test]
    fn empty_workspace_means_default() {
        let config = parse_ok(&project("- dir: a\n  workspace: \"\"\n"));
        assert_eq!(config.projects[0].workspace, "default");
    }

    #[test]
    fn null_name_leaves_project_unnamed() {
        // go-yaml leaves a *string nil for `name:` with no value.
        let config = parse_ok(&project("- dir: a\n  name:\n"));
        assert_eq!(config.projects[0].name, None);
    }

    #[test]
    fn full_featured_file_with_policies_and_autodiscover() {
        let config = parse_ok(
            "version: 3\nautodiscover:\n  mode: auto\n  ignore_paths: [modules/**]\n\
             delete_source_branch_on_merge: true\nabort_on_execution_order_fail: true\n\
             emoji_reaction: eyes\nallowed_regexp_prefixes: [dev/]\nsilence_pr_comments: [apply]\n\
             repo_locks:\n  mode: on_apply\n\
             policies:\n  conftest_version: v0.25.0\n  owners:\n    users: [alice]\n  \
             policy_sets:\n    - name: base\n      path: policy/\n      source: local\n\
             projects:\n- dir: a\n  repo_locks: {mode: disabled}\n  silence_pr_comments: [plan]\n  \
             delete_source_branch_on_merge: false\n",
        );
        assert_eq!(config.projects.len(), 1);
    }

    // --- version ------------------------------------------------------------------------------

    #[test]
    fn version_is_required() {
        assert_one("projects:\n- dir: a\n", 1, "version: is required");
    }

    #[test]
    fn version_must_be_2_or_3() {
        assert_one(
            "version: 4\n",
            1,
            "version: only versions 2 and 3 are supported, found 4",
        );
    }

    #[test]
    fn quoted_version_is_a_type_error() {
        assert_one(
            "\nversion: \"3\"\n",
            2,
            "version: must be an integer, found string \"3\"",
        );
    }

    #[test]
    fn comment_only_file_needs_a_version() {
        assert_one("# nothing yet\n", 1, "version: is required");
    }

    // --- strict keys --------------------------------------------------------------------------

    #[test]
    fn unknown_top_level_key() {
        assert_one(
            "version: 3\nrepo_config: {}\n",
            2,
            "unknown key `repo_config` at the top level (Atlantis rejects unknown keys)",
        );
    }

    #[test]
    fn unknown_project_key_suggests_the_right_one() {
        assert_one(
            &project("- dir: a\n  worksapce: dev\n"),
            4,
            "unknown key `worksapce` in projects[0] (Atlantis rejects unknown keys); did you mean \
             `workspace`?",
        );
    }

    #[test]
    fn unknown_autoplan_key() {
        assert_one(
            &project("- dir: a\n  autoplan:\n    apply_requirements: [approved]\n"),
            5,
            "unknown key `apply_requirements` in projects[0].autoplan",
        );
    }

    #[test]
    fn messages_stay_on_one_line() {
        assert_one(
            "version: 3\n\"bad\\nkey\": 1\n",
            2,
            "unknown key `bad\\nkey` at the top level",
        );
    }

    #[test]
    fn non_string_key_is_unknown() {
        assert_one(
            &project("- dir: a\n  1: x\n"),
            4,
            "unknown key `1` in projects[0]",
        );
    }

    #[test]
    fn yaml_11_boolean_words_stay_keys() {
        // `on:` must not turn into the key `true`.
        assert_one(&project("- dir: a\n  on: x\n"), 4, "unknown key `on`");
    }

    // --- project rules ------------------------------------------------------------------------

    #[test]
    fn dir_is_required() {
        assert_one(&project("- name: a\n"), 3, "projects[0]: `dir` is required");
        assert_one(
            &project("- dir: \"\"\n"),
            3,
            "projects[0]: `dir` is required",
        );
        assert_one(&project("- dir:\n"), 3, "projects[0]: `dir` is required");
    }

    #[test]
    fn dir_cannot_climb() {
        assert_one(
            &project("- dir: envs/../../x\n"),
            3,
            "projects[0].dir: cannot contain '..'",
        );
    }

    #[test]
    fn name_if_set_cannot_be_empty() {
        assert_one(
            &project("- dir: a\n  name: \"\"\n"),
            4,
            "projects[0].name: if set cannot be empty",
        );
    }

    #[test]
    fn name_must_be_url_safe() {
        assert_one(
            &project("- dir: a\n  name: my project\n"),
            4,
            "\"my project\" is not allowed: must contain only URL safe characters",
        );
        let config = parse_ok(&project("- dir: a\n  name: team/app-prod_1.2~x\n"));
        assert_eq!(
            config.projects[0].name.as_deref(),
            Some("team/app-prod_1.2~x")
        );
    }

    #[test]
    fn name_cannot_contain_glob_characters() {
        assert_one(
            &project("- dir: a\n  name: app-*\n"),
            4,
            "projects[0].name: cannot contain glob pattern characters",
        );
    }

    #[test]
    fn name_cannot_be_used_with_a_glob_dir() {
        assert_one(
            &project("- dir: \"modules/*\"\n  name: mods\n"),
            4,
            "cannot be used with glob patterns in 'dir'",
        );
        // Unnamed glob projects are fine (Atlantis expands them).
        parse_ok(&project(
            "- dir: \"envs/*\"\n- dir: \"envs/*\"\n  workspace: b\n",
        ));
    }

    #[test]
    fn workspace_rules() {
        for (workspace, reason) in [
            ("a/b", "cannot contain '/' or '\\'"),
            ("-x", "cannot start with '-'"),
            ("~x", "cannot start with '~'"),
            ("a..b", "cannot contain '..'"),
            ("$WS", "cannot contain '$'"),
            ("\".\"", "cannot be '.'"),
            ("\"a b\"", "cannot contain whitespace"),
        ] {
            assert_one(
                &project(&format!("- dir: a\n  workspace: {workspace}\n")),
                4,
                reason,
            );
        }
    }

    #[test]
    fn branch_must_be_a_slashed_regex() {
        assert_one(
            &project("- dir: a\n  branch: main\n"),
            4,
            "projects[0].branch: regex must begin and end with a slash '/', found \"main\"",
        );
        assert_one(
            &project("- dir: a\n  branch: /\n"),
            4,
            "regex must begin and end with a slash",
        );
        assert_one(
            &project("- dir: a\n  branch: /(main/\n"),
            4,
            "projects[0].branch: /(main/ is not a valid regex: unclosed group",
        );
    }

    #[test]
    fn requirements_are_checked_per_item() {
        assert_one(
            &project("- dir: a\n  apply_requirements:\n    - approved\n    - reviewed\n"),
            6,
            "projects[0].apply_requirements: \"reviewed\" is not a valid apply_requirement, only \
             \"approved\", \"mergeable\" and \"undiverged\" are supported",
        );
        assert_one(
            &project("- dir: a\n  plan_requirements: [policies_passed]\n"),
            4,
            "is not a valid plan_requirement",
        );
        assert_one(
            &project("- dir: a\n  import_requirements: [nope]\n"),
            4,
            "is not a valid import_requirement",
        );
    }

    #[test]
    fn a_string_where_a_list_is_expected() {
        assert_one(
            &project("- dir: a\n  apply_requirements: approved\n"),
            4,
            "projects[0].apply_requirements: must be a list of strings, found string \"approved\" \
             (write it as a list: [approved])",
        );
    }

    #[test]
    fn terraform_distribution_values() {
        assert_one(
            &project("- dir: a\n  terraform_distribution: tofu\n"),
            4,
            "\"tofu\" is not a valid terraform_distribution, only 'terraform' and 'opentofu'",
        );
    }

    #[test]
    fn terraform_version_must_parse() {
        assert_one(
            &project("- dir: a\n  terraform_version: <TERRAFORM_VERSION>\n"),
            4,
            "projects[0].terraform_version: version \"<TERRAFORM_VERSION>\" could not be parsed",
        );
        assert_one(
            &project("- dir: a\n  terraform_version: \">= 1.5\"\n"),
            4,
            "could not be parsed",
        );
        for good in [
            "v1.2",
            "1.7.0",
            "1.5.0-beta1",
            "1.5.0-rc.1+build.2",
            "0.12.0beta1",
            "1",
        ] {
            parse_ok(&project(&format!(
                "- dir: a\n  terraform_version: {good}\n"
            )));
        }
    }

    #[test]
    fn integers_and_booleans_are_typed() {
        assert_one(
            &project("- dir: a\n  execution_order_group: 1.5\n"),
            4,
            "projects[0].execution_order_group: must be an integer, found number 1.5",
        );
        assert_one(
            &project("- dir: a\n  execution_order_group: \"1\"\n"),
            4,
            "must be an integer, found string \"1\"",
        );
        assert_one(
            &project("- dir: a\n  autoplan:\n    enabled: maybe\n"),
            5,
            "projects[0].autoplan.enabled: must be true or false, found string \"maybe\"",
        );
    }

    #[test]
    fn silence_pr_comments_values() {
        assert_one(
            &project("- dir: a\n  silence_pr_comments: [import]\n"),
            4,
            "value \"import\" is not supported, supported values are [plan, apply]",
        );
    }

    #[test]
    fn wrong_shapes_are_reported() {
        assert_one(
            "version: 3\nprojects: {dir: a}\n",
            2,
            "projects: must be a list of projects",
        );
        assert_one(
            &project("- just-a-dir\n"),
            3,
            "projects[0]: must be a mapping, found string",
        );
        assert_one(&project("-\n"), 3, "projects[0]: empty project");
        assert_one(
            &project("- dir: [a]\n"),
            3,
            "projects[0].dir: must be a string, found a list",
        );
        assert_one(
            "- version: 3\n",
            1,
            "must be a mapping with `version` and `projects`",
        );
    }

    // --- cross-project rules ------------------------------------------------------------------

    #[test]
    fn duplicate_names_are_rejected() {
        assert_one(
            &project("- name: app\n  dir: a\n- name: app\n  dir: b\n"),
            5,
            "found two or more projects with name \"app\"; project names must be unique (first at \
             line 3)",
        );
    }

    #[test]
    fn duplicate_names_on_different_branches_are_allowed() {
        // Atlantis filters projects by the base branch before checking names.
        parse_ok(&project(
            "- name: app\n  dir: a\n  branch: /main/\n- name: app\n  dir: a\n  branch: /dev/\n",
        ));
        assert_one(
            &project("- name: app\n  dir: a\n  branch: /main/\n- name: app\n  dir: b\n"),
            6,
            "found two or more projects with name \"app\"",
        );
    }

    #[test]
    fn unnamed_projects_sharing_dir_and_workspace_are_rejected() {
        assert_one(
            &project("- dir: a\n- dir: ./a/\n"),
            4,
            "there are two or more projects with dir: \"a\" workspace: \"default\" that are not \
             all named",
        );
        assert_one(
            &project("- name: x\n  dir: a\n- dir: a\n"),
            5,
            "that are not all named",
        );
        // Other workspaces are other states.
        parse_ok(&project("- dir: a\n- dir: a\n  workspace: staging\n"));
    }

    #[test]
    fn named_projects_sharing_a_state_are_kept_and_reported_by_shared_states() {
        let config = parse_ok(&project(
            "- name: one\n  dir: a\n- name: two\n  dir: a/\n- name: three\n  dir: b\n",
        ));
        let groups = config.shared_states();
        assert_eq!(groups.len(), 1);
        let names: Vec<_> = groups[0].iter().map(|p| p.display_name()).collect();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(groups[0][1].position.line, 5);
    }

    #[test]
    fn unnamed_then_named_on_one_state_is_accepted_like_atlantis() {
        // Atlantis only complains when an unnamed project follows another on the same state.
        let config = parse_ok(&project("- dir: a\n- name: two\n  dir: a\n"));
        assert_eq!(config.shared_states().len(), 1);
    }

    #[test]
    fn projects_on_different_branches_do_not_share_state() {
        let config = parse_ok(&project(
            "- name: one\n  dir: .\n  branch: /main/\n- name: two\n  dir: .\n  branch: /dev/\n\
             - name: three\n  dir: b\n  branch: /main/\n- name: four\n  dir: b\n",
        ));
        let groups = config.shared_states();
        assert_eq!(groups.len(), 1);
        let names: Vec<_> = groups[0].iter().map(|p| p.display_name()).collect();
        assert_eq!(names, ["three", "four"]);
    }

    #[test]
    fn lookups() {
        let config = parse_ok(&project(
            "- name: app\n  dir: envs/prod\n- dir: envs/stg\n  workspace: blue\n- dir: .\n",
        ));
        assert_eq!(
            config.find_by_name("app").map(|p| p.dir.as_str()),
            Some("envs/prod")
        );
        assert!(config.find_by_name("nope").is_none());
        assert_eq!(
            config
                .find_by_dir_workspace("./envs/prod/", "default")
                .len(),
            1
        );
        assert_eq!(config.find_by_dir_workspace("envs/prod", "").len(), 1);
        assert_eq!(config.find_by_dir_workspace("envs/stg", "default").len(), 0);
        assert_eq!(config.find_by_dir_workspace("envs/stg", "blue").len(), 1);
        assert_eq!(config.find_by_dir_workspace("", "default").len(), 1);
        let names: Vec<_> = config.projects.iter().map(|p| p.display_name()).collect();
        assert_eq!(names, ["app", "envs/stg:blue", "."]);
    }

    #[test]
    fn glob_dirs_match_the_directories_they_expand_to() {
        let config = parse_ok(&project(
            "- dir: \"modules/*\"\n- dir: \"stacks/**/live\"\n  workspace: prod\n",
        ));
        assert_eq!(
            config.find_by_dir_workspace("modules/vpc", "default").len(),
            1
        );
        assert_eq!(
            config
                .find_by_dir_workspace("modules/vpc/sub", "default")
                .len(),
            0
        );
        assert_eq!(
            config
                .find_by_dir_workspace("stacks/eu/a/live", "prod")
                .len(),
            1
        );
        assert_eq!(
            config
                .find_by_dir_workspace("stacks/eu/a/live", "default")
                .len(),
            0
        );
        assert_eq!(config.projects[0].dir, "modules/*");
        assert!(config.shared_states().is_empty());
        assert_one(
            &project("- dir: \"modules/[a\"\n"),
            3,
            "projects[0].dir: invalid glob pattern \"modules/[a\"",
        );
    }

    // --- all problems at once -------------------------------------------------------------

    #[test]
    fn every_problem_is_collected_in_line_order() {
        let found = errors(
            "version: 5\nfoo: 1\nprojects:\n- dir: ../x\n  bar: 2\n- name: a\n  dir: b\n\
             - name: a\n  dir: c\n  apply_requirements: [x]\n",
        );
        let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 2, 4, 5, 8, 10], "{found:#?}");
    }

    // --- YAML level -----------------------------------------------------------------------

    #[test]
    fn merge_keys_work() {
        let config = parse_ok(
            "version: 3\nprojects:\n- &base\n  name: one\n  dir: envs/one\n  \
             terraform_version: v1.5.0\n  apply_requirements: [approved]\n\
             - <<: *base\n  name: two\n  dir: envs/two\n",
        );
        let two = &config.projects[1];
        assert_eq!(two.name.as_deref(), Some("two"));
        assert_eq!(two.dir, "envs/two");
        assert_eq!(two.terraform_version.as_deref(), Some("v1.5.0"));
        assert_eq!(two.apply_requirements, vec!["approved"]);
        assert_eq!(two.position.line, 8);
    }

    #[test]
    fn merged_problems_point_at_the_merge_and_name_the_source() {
        let found = errors(
            "version: 3\nprojects:\n- &base\n  dir: a\n  name: one\n  tf_version: x\n\
             - <<: *base\n  name: two\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].0, 6);
        assert!(found[0]
            .1
            .contains("unknown key `tf_version` in projects[0] (Atlantis"));
        assert_eq!(found[1].0, 7);
        assert!(found[1]
            .1
            .contains("unknown key `tf_version` in projects[1] (defined at line 6)"));
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        assert_one(
            "version: 3\nprojects:\n- dir: a\n\tname: x\n",
            3,
            "invalid YAML: while scanning a plain scalar, found a tab",
        );
    }

    #[test]
    fn duplicate_yaml_keys_are_rejected() {
        assert_one(
            "version: 3\nprojects:\n- dir: a\n  dir: b\n",
            4,
            "invalid YAML: duplicate key `dir`",
        );
    }

    #[test]
    fn unquoted_glob_reads_as_an_alias() {
        assert_one(
            &project("- dir: a\n  autoplan:\n    when_modified:\n      - **/*.tf\n"),
            6,
            "alias refers to an unknown anchor (a plain value starting with `*` is read as an \
             alias; quote it",
        );
    }

    #[test]
    fn alias_bomb_fails_fast() {
        let mut yaml = String::from("version: 3\na: &a [x, x, x, x, x, x, x, x, x]\n");
        let mut previous = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            let refs = vec![format!("*{previous}"); 9].join(", ");
            yaml.push_str(&format!("{name}: &{name} [{refs}]\n"));
            previous = name;
        }
        let started = std::time::Instant::now();
        let found = errors(&yaml);
        assert!(
            started.elapsed().as_secs() < 20,
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].1.contains("safety limits"), "{found:#?}");
        assert!(found[0].0 > 0);
    }

    #[test]
    fn deep_nesting_fails_fast() {
        let block: String = (1..200)
            .map(|depth| format!("{}k:\n", "  ".repeat(depth)))
            .collect();
        let found = errors(&format!("version: 3\nx:\n{block}"));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].1.contains("safety limits"), "{found:#?}");

        let flow = format!(
            "version: 3\nprojects: {}{}\n",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let found = errors(&flow);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].1.contains("safety limits"), "{found:#?}");
    }

    #[test]
    fn one_anchor_used_by_many_projects_is_fine() {
        let mut yaml = String::from("version: 3\nprojects:\n");
        yaml.push_str("- {name: p0, dir: d0, terraform_version: &tf v1.6.0}\n");
        for i in 1..400 {
            yaml.push_str(&format!(
                "- {{name: p{i}, dir: d{i}, terraform_version: *tf}}\n"
            ));
        }
        assert_eq!(parse_ok(&yaml).projects.len(), 400);
    }

    #[test]
    fn only_the_first_document_counts() {
        // go-yaml's Decoder.Decode reads one document; Atlantis ignores the rest.
        let config = parse_ok("version: 3\nprojects:\n- dir: a\n---\nversion: 9\n");
        assert_eq!(config.projects.len(), 1);
    }

    #[test]
    fn empty_text_is_an_input_error() {
        for text in ["", "  \n\n", "\u{feff}"] {
            match parse(text, Path::new(FILE)) {
                Err(Error::Input { message, .. }) => assert_eq!(message, "is empty"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn bom_is_skipped() {
        parse_ok("\u{feff}version: 3\nprojects:\n- dir: a\n");
    }

    #[test]
    fn display_names_file_line_and_column() {
        let err = match parse("version: 3\nbogus: 1\n", Path::new("repo/atlantis.yaml")) {
            Err(e) => e,
            Ok(_) => panic!("expected an error"),
        };
        assert!(err
            .to_string()
            .starts_with("repo/atlantis.yaml:2:1: unknown key `bogus`"));
    }

    // --- repos.yaml vs atlantis.yaml --------------------------------------------------------

    #[test]
    fn server_side_repos_yaml_is_rejected_as_atlantis_yaml() {
        assert_one(
            "repos:\n- id: /.*/\n  allow_custom_workflows: true\n",
            1,
            "this is a server-side repos.yaml (top-level `repos:`), not a repo-level atlantis.yaml",
        );
    }

    #[test]
    fn atlantis_yaml_is_rejected_as_repos_yaml() {
        let found = repos_errors("version: 3\nprojects:\n- dir: .\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 1);
        assert!(found[0].1.contains("this is a repo-level atlantis.yaml"));
    }

    // --- workflows ----------------------------------------------------------------------------

    #[test]
    fn workflows_and_steps_are_read() {
        let config = parse_ok(
            "version: 3\nworkflows:\n  gate:\n    plan:\n      steps:\n      - init\n      \
             - plan: {extra_args: [-lock=false]}\n      - show\n      \
             - run: plangate check --mode report\n      \
             - env: {name: TF_IN_AUTOMATION, value: \"1\"}\n      \
             - run: {command: make plan, output: strip_refreshing, shell: bash, shellArgs: [-eu, -c]}\n      \
             - multienv: {command: ./envs.sh, output: hide}\n      \
             - run:\n          command: make\n          output: [hide, {filter_regex: 'secret: .*'}]\n    \
             apply:\n      steps: [apply]\n  empty:\n",
        );
        assert_eq!(config.workflows, ["gate", "empty"]);
        let gate = config.workflow("gate").expect("gate");
        let plan = gate.stage("plan").expect("plan stage");
        let kinds: Vec<&str> = plan.steps.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["init", "plan", "show", "run", "env", "run", "multienv", "run"]
        );
        assert_eq!(plan.steps[1].extra_args, ["-lock=false"]);
        assert_eq!(
            plan.steps[3].command.as_deref(),
            Some("plangate check --mode report")
        );
        assert_eq!(plan.steps[4].env_name.as_deref(), Some("TF_IN_AUTOMATION"));
        assert_eq!(plan.steps[5].command.as_deref(), Some("make plan"));
        assert_eq!(plan.steps[3].position.line, 9);
        assert_eq!(gate.stage("apply").map(|s| s.steps.len()), Some(1));
        assert!(config
            .workflow("empty")
            .is_some_and(|w| w.stages.is_empty()));
    }

    fn step_errors(steps: &str) -> Vec<(usize, String)> {
        errors(&format!(
            "version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n{steps}"
        ))
    }

    fn assert_step(steps: &str, line: usize, needle: &str) {
        let found = step_errors(steps);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].0, line, "{found:#?}");
        assert!(
            found[0].1.contains(needle),
            "{:?} lacks {needle:?}",
            found[0].1
        );
    }

    #[test]
    fn step_rules() {
        assert_step(
            "      - run\n",
            6,
            "workflows.w.plan.steps[0]: \"run\" is not a valid step type, maybe you omitted the \
             'run' key",
        );
        assert_step("      - deploy\n", 6, "\"deploy\" is not a valid step type");
        assert_step("      - {}\n", 6, "step element is empty");
        assert_step(
            "      - run: a\n        output: hide\n",
            6,
            "step element can only contain a single key, found 2: run,output",
        );
        assert_step(
            "      - plan: -lock=false\n",
            6,
            "\"plan\" is not a valid step type for a string value",
        );
        assert_step(
            "      - plan: {args: [x]}\n",
            6,
            "built-in steps only support a single extra_args key, found \"args\" in step plan",
        );
        assert_step(
            "      - deploy: {x: 1}\n",
            6,
            "\"deploy\" is not a valid step type",
        );
        assert_step(
            "      - env: {value: x}\n",
            6,
            "env steps must have a \"name\" key set",
        );
        assert_step(
            "      - env: {name: A, value: x, command: y}\n",
            6,
            "env steps only support one of the \"value\" or \"command\" keys, found both",
        );
        assert_step(
            "      - run: {output: hide}\n",
            6,
            "\"run\" step must have a \"command\" key set",
        );
        assert_step(
            "      - run: {command: x, shellArgs: -c}\n",
            6,
            "\"shellArgs\" key in combination with \"shell\" key",
        );
        assert_step(
            "      - env: {name: A, shell: bash}\n",
            6,
            "\"shell\" key in combination with \"command\" key",
        );
        assert_step(
            "      - run: {command: x, output: loud}\n",
            6,
            "run step output must be one of show, hide, strip_refreshing or filter_regex, found \
             \"loud\"",
        );
        assert_step(
            "      - multienv: {command: x, output: strip_refreshing}\n",
            6,
            "multienv step output must be one of show, hide, found \"strip_refreshing\"",
        );
        assert_step(
            "      - run: {command: x, output: [{filter_regex: '(['}]}\n",
            6,
            "filter_regex \"([\" is not a valid regex: unclosed character class",
        );
        assert_step(
            "      - run: {command: x, shell: bash, shell_args: [-c]}\n",
            6,
            "unknown key `shell_args` in workflows.w.plan.steps[0].run (Atlantis rejects unknown \
             keys); did you mean `shellArgs`?",
        );
        assert_step(
            "      - [init]\n",
            6,
            "a step must be a step name or a one-key mapping",
        );
    }

    #[test]
    fn unknown_stage_and_stage_keys() {
        let found = errors(
            "version: 3\nworkflows:\n  w:\n    deploy:\n      steps: []\n    plan:\n      run: x\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].0, 4);
        assert!(found[0].1.contains("unknown key `deploy` in workflows.w"));
        assert_eq!(found[1].0, 7);
        assert!(found[1].1.contains("unknown key `run` in workflows.w.plan"));
    }

    // --- repos.yaml -----------------------------------------------------------------------

    #[test]
    fn repos_yaml_is_read() {
        let config = match parse_repos_yaml(
            "repos:\n- id: /.*/\n  branch: /main/\n  workflow: gate\n  \
             allowed_overrides: [workflow, apply_requirements]\n  allowed_workflows: [gate, default]\n  \
             allow_custom_workflows: false\n  apply_requirements: [approved, mergeable]\n  \
             policy_check: true\n  custom_policy_check: true\n  repo_config_file: infra/atlantis.yaml\n  \
             pre_workflow_hooks:\n    - run: echo hi\n      description: greet\n      shell: bash\n  \
             post_workflow_hooks:\n    - run: echo bye\n\
             workflows:\n  gate:\n    plan:\n      steps: [init, plan, show, {run: plangate check}]\n\
             policies:\n  policy_sets:\n    - {name: plangate, path: policy, source: local}\n\
             metrics:\n  prometheus: {endpoint: /metrics}\n\
             team_authz: {command: ./authz.sh, args: [--x]}\n\
             external_stores:\n  plan_store: {type: s3, s3: {bucket: b, region: eu-west-1}}\n",
            Path::new(FILE),
        ) {
            Ok(config) => config,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(config.workflows, ["gate"]);
        assert!(config.has_policies);
        assert_eq!(config.policy_sets, ["plangate"]);
        let repo = &config.repos[0];
        assert_eq!(repo.id, "/.*/");
        assert_eq!(repo.position.line, 2);
        assert_eq!(repo.workflow.as_deref(), Some("gate"));
        assert_eq!(repo.allowed_overrides, ["workflow", "apply_requirements"]);
        assert_eq!(repo.allow_custom_workflows, Some(false));
        assert_eq!(repo.custom_policy_check, Some(true));
        assert_eq!(repo.pre_workflow_hooks[0].run.as_deref(), Some("echo hi"));
        assert_eq!(
            repo.pre_workflow_hooks[0].description.as_deref(),
            Some("greet")
        );
        assert_eq!(repo.post_workflow_hooks.len(), 1);
        let steps = &config.workflow("gate").expect("gate").stages[0].steps;
        assert_eq!(steps[3].command.as_deref(), Some("plangate check"));
    }

    #[test]
    fn repos_yaml_rules() {
        let found = repos_errors(
            "repos:\n- id: /(/\n  workflow: missing\n  allowed_overrides: [workflow, terraform_version]\n  \
             allowed_workflows: [nope]\n  repo_config_file: /abs.yaml\n  \
             repo_locks: {mode: sometimes}\n  autodiscover: {mode: maybe}\n  bogus: 1\n\
             - branch: /x/\n\
             metrics:\n  statsd: {host: localhost, port: abc}\n\
             external_stores:\n  plan_store: {type: gcs}\n",
        );
        let expected: [(usize, &str); 11] = [
            (2, "repos[0].id: /(/ is not a valid regex"),
            (3, "repos[0].workflow: workflow \"missing\" is not defined"),
            (4, "\"terraform_version\" is not a valid override"),
            (
                5,
                "repos[0].allowed_workflows: workflow \"nope\" is not defined",
            ),
            (
                6,
                "repos[0].repo_config_file: must not start with a slash '/'",
            ),
            (
                7,
                "repos[0].repo_locks.mode: must be one of disabled, on_plan, on_apply",
            ),
            (
                8,
                "repos[0].autodiscover.mode: must be one of auto, disabled, enabled",
            ),
            (9, "unknown key `bogus` in repos[0]"),
            (10, "repos[1]: `id` is required"),
            (12, "metrics.statsd.port: must be an integer, found \"abc\""),
            (14, "unsupported plan store type \"gcs\""),
        ];
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for ((line, message), (want_line, needle)) in found.iter().zip(expected) {
            assert_eq!(*line, want_line, "{message}");
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }

    #[test]
    fn repos_yaml_unknown_top_level_key() {
        let found = repos_errors("repos: []\nrepo_config: {}\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 2);
        assert!(found[0]
            .1
            .contains("unknown key `repo_config` at the top level"));
    }

    // --- files ------------------------------------------------------------------------------

    fn input_message(result: crate::Result<AtlantisConfig>) -> String {
        match result {
            Err(Error::Input { message, .. }) => message,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn load_reads_files_and_names_bad_ones() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let good = dir.path().join("atlantis.yaml");
        fs::write(&good, "\u{feff}version: 3\nprojects:\n- dir: a\n")?;
        assert!(load(&good).is_ok());

        let missing = dir.path().join("missing.yaml");
        assert_eq!(input_message(load(&missing)), "does not exist");
        assert_eq!(
            input_message(load(dir.path())),
            "is a directory, not a file"
        );

        let empty = dir.path().join("empty.yaml");
        fs::write(&empty, "")?;
        assert_eq!(input_message(load(&empty)), "is empty");

        let latin1 = dir.path().join("latin1.yaml");
        fs::write(&latin1, b"version: 3\nprojects:\n- dir: caf\xe9\n")?;
        assert!(input_message(load(&latin1)).starts_with("is not UTF-8 text"));

        let utf16 = dir.path().join("utf16.yaml");
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "version: 3\nprojects:\n- dir: a\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        fs::write(&utf16, bytes)?;
        assert_eq!(load(&utf16).map(|c| c.projects.len()).ok(), Some(1));

        let bad = dir.path().join("bad.yaml");
        fs::write(&bad, "version: 3\nnope: 1\n")?;
        match load(&bad) {
            Err(Error::Config(diagnostics)) => assert_eq!(diagnostics[0].path, bad),
            other => panic!("{other:?}"),
        }
        Ok(())
    }

    #[test]
    fn discover_walks_up_to_the_git_root() -> std::io::Result<()> {
        let root = tempfile::tempdir()?;
        let repo = root.path().join("repo");
        let deep = repo.join("envs").join("prod");
        fs::create_dir_all(&deep)?;
        fs::create_dir_all(repo.join(".git"))?;
        assert_eq!(discover(&deep), None);

        fs::write(repo.join("atlantis.yaml"), "version: 3\n")?;
        let found = discover(&deep).expect("found in the repo root");
        assert_eq!(
            fs::canonicalize(found)?,
            fs::canonicalize(repo.join("atlantis.yaml"))?
        );
        assert_eq!(discover(&repo), Some(repo.join("atlantis.yaml")));

        // Above the git root is another repository's business.
        fs::remove_file(repo.join("atlantis.yaml"))?;
        fs::write(root.path().join("atlantis.yaml"), "version: 3\n")?;
        assert_eq!(discover(&deep), None);
        Ok(())
    }

    // --- helpers ------------------------------------------------------------------------------

    #[test]
    fn version_grammar() {
        for good in [
            "1.2.3",
            "v1.2.3",
            "1.2",
            "1",
            "1.5.0-beta1",
            "1.5.0beta1",
            "1.0.0+meta.1",
        ] {
            assert!(valid_version(good), "{good}");
        }
        for bad in [
            "",
            "latest",
            "~> 1.5",
            "1.x",
            "v",
            "1..2",
            "99999999999999999999.0",
        ] {
            assert!(!valid_version(bad), "{bad}");
        }
    }

    #[test]
    fn closest_key_needs_a_small_distance() {
        assert_eq!(closest("worksapce", PROJECT_KEYS), Some("workspace"));
        assert_eq!(closest("custom_plan_workflow", PROJECT_KEYS), None);
    }
}
