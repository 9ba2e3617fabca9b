//! plangate: a safety gate for Terraform and OpenTofu plans.
//!
//! Data flows one way: inputs -> model -> rules -> findings -> verdict -> renderers -> sinks.

pub mod error;
pub mod input;

pub use error::{Diagnostic, Error, Position, Result};
pub mod model;
pub mod report;
pub mod rules;
pub mod check;
pub mod render;
pub mod sink;
pub mod cli;
