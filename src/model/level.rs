//! How much a finding matters: `deny` blocks, `warn` reports, `info` only tells, `allow`
//! silences.

use serde::Serialize;

/// A rule's level. Ordered: `Allow < Info < Warn < Deny`, so the strictest of several is the `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    /// Reported, never a reason to warn or block (a resource moved between projects).
    Info,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    /// The level a policy word names.
    pub fn parse(word: &str) -> Option<Level> {
        match word {
            "deny" => Some(Level::Deny),
            "warn" => Some(Level::Warn),
            "allow" => Some(Level::Allow),
            _ => None,
        }
    }
}
