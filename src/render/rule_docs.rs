//! The rules' own documentation as people read it: the `plangate rules` table and the
//! `plangate explain RULE` text (the README's rule reference is generated from the same).

use crate::rules::{self, Rule};

/// The `plangate rules` list: each rule's id and default level, its summary wrapped beneath,
/// to `width` columns.
pub fn rules_table(width: usize) -> String {
    let mut out = String::new();
    let longest = rules::all()
        .iter()
        .map(|r| r.id().as_str().len())
        .max()
        .unwrap_or(0);
    for rule in rules::all() {
        out.push_str(&format!(
            "{:<longest$}  {}\n",
            rule.id().as_str(),
            rule.default_level().as_str()
        ));
        out.push_str(&super::text::wrap(
            &format!("    {}", rule.summary()),
            width,
            "    ",
        ));
    }
    out
}

/// The `plangate explain RULE` text.
pub fn explain(rule: &dyn Rule) -> String {
    format!(
        "# {}\n\nDefault level: {}. {}\n\n{}\n## What to do next\nEvery blocking finding of this rule ends with it: {}.\n",
        rule.id().as_str(),
        rule.default_level().as_str(),
        capitalise(rule.summary()),
        rule.docs().trim_end(),
        rules::next_step(rule, Some("PROJECT"))
    )
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}
