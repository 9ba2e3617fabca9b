//! Readers for everything plangate consumes: plan JSON, atlantis.yaml and the policy file.

pub mod atlantis;
