//! What a rule found: a [`Finding`] with its rule id, level, project, resource and message,
//! and where in a configuration file it sits when it is about one.

use std::fmt;
use std::path::PathBuf;

use serde::{Serialize, Serializer};

use crate::model::change::Action;
use crate::model::dependents::Dependent;
use crate::model::level::Level;
use crate::model::project::ProjectPlan;

/// A rule's stable kebab-case id (`cross-env-destroy`). Rules name themselves with one; the
/// policy's `rules:` keys are checked against the catalog of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(&'static str);

impl RuleId {
    pub const fn new(id: &'static str) -> RuleId {
        RuleId(id)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl From<&'static str> for RuleId {
    fn from(id: &'static str) -> RuleId {
        RuleId(id)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// How a blocking finding can be resolved: what the report tells the pull request's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WayOut {
    /// Declared destroy intent excuses it: a `plangate:destroy:<project>` label.
    Intent,
    /// Intent does not: it needs an approval, or a change of the policy key `rules.<id>`.
    Approval,
    /// Fix what the finding names; the text may hold `{project}`.
    Fix(&'static str),
}

/// Where a finding about a configuration file points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    /// A file, and the line in it when known: `atlantis.yaml:12`.
    File { path: PathBuf, line: Option<usize> },
    /// A line of the project's entry when the file itself is not named (`line 12`).
    Line(usize),
}

impl Location {
    pub fn file_line(path: impl Into<PathBuf>, line: usize) -> Location {
        Location::File {
            path: path.into(),
            line: Some(line),
        }
    }

    /// The file and line, for formats that link to them (SARIF, annotations).
    pub fn file(&self) -> Option<(&std::path::Path, Option<usize>)> {
        match self {
            Location::File { path, line } => Some((path, *line)),
            Location::Line(_) => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Location::File { path, line: None } => write!(f, "{}", path.display()),
            Location::Line(line) => write!(f, "line {line}"),
        }
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn action_label<S: Serializer>(action: &Option<Action>, serializer: S) -> Result<S::Ok, S::Error> {
    match action {
        Some(a) => serializer.serialize_str(a.label()),
        None => serializer.serialize_none(),
    }
}

/// One thing a rule found. Rules fill it; the report decides its final level.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub rule: RuleId,
    pub level: Level,
    pub project: Option<String>,
    pub address: Option<String>,
    #[serde(serialize_with = "action_label")]
    pub action: Option<Action>,
    pub resource_environment: Option<String>,
    pub message: String,
    /// How many resource instances this finding stands for (more than one when grouped).
    pub instances: usize,
    /// Every instance address of a grouped finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_environment: Option<String>,
    /// Where in a configuration file (atlantis.yaml, policy) the finding sits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What depends on the destroyed resource and survives the plan (the blast radius).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependents: Vec<Dependent>,
    /// What to do about it (set by the rules floor from the rule's [`WayOut`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The highest level this finding may reach whatever the configured level (a weak
    /// environment signal, declared intent): applied by the report.
    #[serde(skip)]
    pub cap: Level,
}

impl Finding {
    /// A finding at the rule's default level; the rules floor sets that level before the
    /// report lays the policy's over it.
    pub fn new(rule: impl Into<RuleId>, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.into(),
            level: Level::Deny,
            project: None,
            address: None,
            action: None,
            resource_environment: None,
            message: message.into(),
            instances: 1,
            addresses: Vec::new(),
            project_environment: None,
            location: None,
            dependents: Vec::new(),
            next: None,
            cap: Level::Deny,
        }
    }

    pub fn project(mut self, plan: &ProjectPlan<'_>) -> Finding {
        self.project = Some(plan.project.name.clone());
        self.project_environment = plan.project.environment.name().map(str::to_string);
        self
    }

    pub fn project_name(mut self, name: &str) -> Finding {
        self.project = Some(name.to_string());
        self
    }

    pub fn address(mut self, address: impl Into<String>) -> Finding {
        self.address = Some(address.into());
        self
    }

    pub fn action(mut self, action: Action) -> Finding {
        self.action = Some(action);
        self
    }

    pub fn resource_environment(mut self, env: Option<&str>) -> Finding {
        self.resource_environment = env.map(str::to_string);
        self
    }

    pub fn location(mut self, location: Location) -> Finding {
        self.location = Some(location);
        self
    }

    /// Never more than `level`, whatever the policy says.
    pub fn at_most(mut self, level: Level) -> Finding {
        self.cap = self.cap.min(level);
        self
    }

    /// The action as reports name it (`replace` for both orders).
    pub fn action_label(&self) -> Option<&'static str> {
        self.action.map(Action::label)
    }
}
