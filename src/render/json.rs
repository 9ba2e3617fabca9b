//! The JSON report (`--format json`), schema version 1: stable field names, sorted content.

use crate::report::Report;

pub fn render(report: &Report) -> String {
    // Serialising plain structs of strings and numbers cannot fail.
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        format!("{{\"schema_version\":1,\"error\":\"could not serialise the report: {e}\"}}")
    });
    out.push('\n');
    out
}
