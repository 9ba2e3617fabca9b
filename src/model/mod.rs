//! The words everything shares: levels, actions and resource changes, plans, environments, the
//! policy's and atlantis.yaml's data, projects, declared intent and findings. Pure data and the
//! logic that belongs to it; nothing here reads a file or knows a rule.

pub mod account;
pub mod approval;
pub mod atlantis;
pub mod change;
pub mod dependents;
pub mod environment;
pub mod finding;
pub mod intent;
pub mod json_scan;
pub mod level;
pub mod plan;
pub mod policy;
pub mod project;
