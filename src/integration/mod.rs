//! Facts of the environments plangate runs in: an Atlantis workflow `run` step, and a GitHub
//! Actions job.

pub mod atlantis;
pub mod github_actions;
