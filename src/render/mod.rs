//! Renderers: one file per output format. They read a finished report and never re-run rules.
//! Adding a format is one file here and one [`Format`] variant.

pub mod annotations;
pub mod approvals;
pub mod atlantis;
pub mod comment;
pub mod json;
pub mod markdown;
pub mod policy_check;
pub mod rule_docs;
pub mod sarif;
pub mod step_outputs;
pub mod text;

use crate::report::Report;

/// Output formats of `check` and `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// Plain text for an Atlantis run step (shown inside a diff block)
    Atlantis,
    /// SARIF 2.1.0 for code-scanning tools
    Sarif,
    /// GitHub Actions `::error`/`::warning` workflow commands
    GithubAnnotations,
    Markdown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Atlantis => "atlantis",
            Format::Sarif => "sarif",
            Format::GithubAnnotations => "github-annotations",
            Format::Markdown => "markdown",
        }
    }
}

/// How a report may look, and what the command adds to it.
#[derive(Debug, Clone, Default)]
pub struct Style {
    /// ANSI colour: only on a terminal, never with `NO_COLOR`.
    pub color: bool,
    /// Columns the text report and the rule table wrap to (0: [`DEFAULT_WIDTH`]).
    pub width: usize,
    /// What the command did about the verdict, for the `atlantis` format's first line (`the
    /// plan was deleted, nothing can be applied`).
    pub note: Option<String>,
}

/// The width of output that goes to no terminal (a log, a file, a pipe).
pub const DEFAULT_WIDTH: usize = 100;

impl Style {
    pub fn width(&self) -> usize {
        if self.width == 0 {
            DEFAULT_WIDTH
        } else {
            self.width
        }
    }
}

pub fn render(format: Format, report: &Report, style: &Style) -> String {
    match format {
        Format::Text => text::render(report, style.color, style.width()),
        Format::Json => json::render(report),
        Format::Atlantis => atlantis::render(report, style.note.as_deref()),
        Format::Sarif => sarif::render(report),
        Format::GithubAnnotations => annotations::annotations(report),
        Format::Markdown => comment::render(report, None, markdown::DEFAULT_BUDGET),
    }
}
