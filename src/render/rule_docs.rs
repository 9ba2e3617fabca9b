//! The rules' own documentation as people read it: the `plangate rules` table and the
//! `plangate explain RULE` text (the README's rule reference is generated from the same).

use crate::rules::{self, Rule};

/// The `plangate rules` table.
pub fn rules_table() -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(vec!["rule", "default", "summary"]);
    for rule in rules::all() {
        table.add_row(vec![
            rule.id().as_str(),
            rule.default_level().as_str(),
            rule.summary(),
        ]);
    }
    format!("{table}\n")
}

/// The `plangate explain RULE` text.
pub fn explain(rule: &dyn Rule) -> String {
    format!(
        "# {}\n\nDefault level: {}. {}\n\n{}",
        rule.id().as_str(),
        rule.default_level().as_str(),
        capitalise(rule.summary()),
        rule.docs()
    )
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}
