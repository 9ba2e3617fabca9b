//! plangate: a safety gate for Terraform and OpenTofu plans.
//!
//! Data flows one way: inputs -> model -> rules -> findings -> verdict -> renderers -> sinks.

pub mod error;
pub mod input;

pub use error::{Diagnostic, Error, Position, Result};
pub mod atlantis_step;
pub mod check;
pub mod cli;
pub mod github_action;
pub mod model;
pub mod render;
pub mod report;
pub mod rules;
pub mod sink;
