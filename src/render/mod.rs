//! Renderers: one file per output format. They read a finished report and never re-run rules.

pub mod json;
pub mod markdown;
pub mod text;

use crate::report::Report;

/// Output formats of `check` and `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Markdown => "markdown",
        }
    }
}

/// How the terminal report may look.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colour: only on a terminal, never with `NO_COLOR`.
    pub color: bool,
}

pub fn render(format: Format, report: &Report, style: Style) -> String {
    match format {
        Format::Text => text::render(report, style),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report),
    }
}
