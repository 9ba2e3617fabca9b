//! The catalog the policy reader is handed: every rule's id, default level and options. The
//! reader (a lower floor) checks `rules:` keys against it without knowing the rules.

use crate::model::policy::RuleSpec;

use super::all;

/// Every rule as the policy reader needs to know it.
pub fn catalog() -> Vec<RuleSpec> {
    all()
        .iter()
        .map(|r| RuleSpec {
            id: r.id().as_str(),
            default_level: r.default_level(),
            options: r.options(),
        })
        .collect()
}
