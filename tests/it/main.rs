//! The one integration test binary: a module per area, and the helpers they share.
//!
//! Helpers: [`binary`] runs the plangate binary with a clean environment; [`generated_plans`]
//! makes plan JSON for the property tests; [`loopback_forge`] is the fake GitHub/GitLab HTTP
//! server on 127.0.0.1; [`shared_corpus`] finds `../shared/corpus` or says it is skipped.

mod binary;
mod generated_plans;
mod loopback_forge;
mod shared_corpus;

mod accounts;
mod action;
mod approvals;
mod atlantis_corpus;
mod atlantis_step;
mod blast_radius;
mod cli;
mod corpus_plans;
mod fixture_cases;
mod forge_deadlines;
mod forge_github;
mod forge_gitlab;
mod forge_ownership;
mod forge_pr_comment;
mod forge_url_credentials;
mod hostile_inputs;
mod incidents;
mod layering;
mod markdown_render;
mod planted_secrets;
mod pr_comment_snapshots;
mod proptest_masking;
mod proptest_report;
mod readme;
mod real_programs;
mod regressions;
mod trust;
