//! The README's rule reference is generated from the rules' own code; this fails when it is
//! stale. Regenerate with `PLANGATE_UPDATE_README=1 cargo test --test it readme`.

use std::path::Path;

fn rule_reference() -> String {
    let mut out = String::from("| rule | default | what it catches |\n|---|---|---|\n");
    for rule in plangate::rules::all() {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            rule.id(),
            rule.default_level().as_str(),
            rule.summary()
        ));
    }
    out.push_str("\n`plangate explain RULE` prints a rule's full documentation: what it catches, why, and how to configure it.\n");
    out
}

#[test]
fn readme_rule_reference_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start_marker = "<!-- rules:start";
    let end_marker = "<!-- rules:end -->";
    let start = readme
        .find(start_marker)
        .expect("README has the rules:start marker");
    let body_start = start + readme[start..].find("-->").unwrap() + 3;
    let end = readme
        .find(end_marker)
        .expect("README has the rules:end marker");
    let current = readme[body_start..end].trim();
    let wanted = rule_reference();
    if current != wanted.trim() {
        if std::env::var_os("PLANGATE_UPDATE_README").is_some() {
            let updated = format!(
                "{}\n{}\n{}",
                &readme[..body_start],
                wanted.trim(),
                &readme[end..]
            );
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!("README's rule reference is stale: run `PLANGATE_UPDATE_README=1 cargo test --test it readme`");
        }
    }
}
