//! plangate: a safety gate for Terraform and OpenTofu plans.
//!
//! Data flows one way: inputs -> model -> rules -> findings -> verdict -> renderers -> forges.
//! The crate is laid out in floors, and a file imports (`use crate::...`) only from floors
//! below its own; `tests/it/layering.rs` keeps it so.
//!
//! | floor | modules | what lives there |
//! |---|---|---|
//! | 0 | [`error`], [`text`], [`parallel`] | errors and diagnostics; one `one_line`, one `suggest`, `printable`; an ordered map over the cores |
//! | 1 | [`model`] | levels, actions and changes, plans, environments, the policy's and atlantis.yaml's data, projects, intent, findings |
//! | 2 | [`input`] | readers that build the model: plan JSON, atlantis.yaml, the policy, one YAML layer |
//! | 3 | [`rules`] | one file per rule, the `Rule` trait and `Context`, the catalog the policy reader is handed |
//! | 4 | [`report`] | levels applied, grouping, sorting, verdicts |
//! | 5 | [`pipeline`], [`render`], [`integration`] | inputs to report; every output format; Atlantis run-step and GitHub Actions facts |
//! | 6 | [`forge`] | GitHub and GitLab: labels, comments, statuses (the only async code) |
//! | 7 | [`cli`] | one file per command; the one place exit codes are decided |
//! | 8 | `main.rs` | calls [`cli::main`] |

pub mod error;
pub mod parallel;
pub mod text;

pub mod model;

pub mod input;

pub mod rules;

pub mod report;

pub mod integration;
pub mod pipeline;
pub mod render;

pub mod forge;

pub mod cli;

pub use error::{Diagnostic, Error, Position, Result};
