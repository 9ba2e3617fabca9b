//! Typed errors of the library. Every input problem names its file; the binary maps all of them
//! to exit code 2.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a configuration file a problem sits (1-based, as editors count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem found in a configuration file (atlantis.yaml, the policy), with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub position: Option<Position>,
    pub message: String,
    /// The rule id this problem is also a lint finding of (`duplicate-project-name`,
    /// `shared-state`): `lint` reports it as that finding, `check` refuses the file.
    pub rule: Option<&'static str>,
}

impl Diagnostic {
    pub fn new(path: &Path, position: Option<Position>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_path_buf(),
            position,
            message: message.into(),
            rule: None,
        }
    }

    pub fn with_rule(mut self, rule: &'static str) -> Self {
        self.rule = Some(rule);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}: {}", self.path.display(), p, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Everything that stops plangate from evaluating: the binary exits 2 on any of these.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A plan (or other input file) that could not be read or is not what it must be.
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// One or more problems in a configuration file; each names file:line.
    #[error("{}", first_and_count(.0))]
    Config(Vec<Diagnostic>),
    /// Arguments that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// Output that could not be written (stdout, an `--output` file).
    #[error("{0}")]
    Output(String),
}

impl Error {
    pub fn input(path: &Path, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub fn config(diagnostic: Diagnostic) -> Self {
        Error::Config(vec![diagnostic])
    }
}

fn first_and_count(diagnostics: &[Diagnostic]) -> String {
    match diagnostics {
        [] => "invalid configuration".to_string(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more problems)", rest.len()),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
