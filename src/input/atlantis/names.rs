//! Atlantis's rules for names and values: project names, workspaces, versions, regexes.

/// Atlantis's `validProjectName`: what `url.QueryEscape` leaves alone, plus `/`.
pub(super) fn valid_project_name(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '/'))
}

/// Atlantis's `ValidateWorkspaceName`.
pub(super) fn validate_workspace(workspace: &str) -> Result<(), &'static str> {
    if workspace.is_empty() {
        return Ok(());
    }
    if workspace.contains(['/', '\\']) {
        return Err("cannot contain '/' or '\\'");
    }
    if workspace.contains("..") {
        return Err("cannot contain '..'");
    }
    if workspace == "." {
        return Err("cannot be '.'");
    }
    if workspace.starts_with('-') {
        return Err("cannot start with '-'");
    }
    if workspace.starts_with('~') {
        return Err("cannot start with '~'");
    }
    if workspace.contains('$') {
        return Err("cannot contain '$'");
    }
    if workspace
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("cannot contain whitespace or control characters");
    }
    Ok(())
}

/// The version grammar of hashicorp/go-version's `NewVersion`, which Atlantis uses for
/// `terraform_version`: `v1.2.3`, `1.2`, `1.5.0-beta1`, `1.5.0+meta`.
pub(super) fn valid_version(version: &str) -> bool {
    use std::sync::OnceLock;
    static GRAMMAR: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let grammar = GRAMMAR.get_or_init(|| {
        let ident = r"[0-9A-Za-z~-]+";
        let pattern = format!(
            r"^v?(?P<segments>[0-9]+(?:\.[0-9]+)*)(?:-[0-9]+[0-9A-Za-z~-]*(?:\.{ident})*|-?[A-Za-z~-]+[0-9A-Za-z~-]*(?:\.{ident})*)?(?:\+{ident}(?:\.{ident})*)?$"
        );
        regex::Regex::new(&pattern).ok()
    });
    let Some(captures) = grammar.as_ref().and_then(|g| g.captures(version)) else {
        return false;
    };
    captures
        .name("segments")
        .is_some_and(|s| s.as_str().split('.').all(|n| n.parse::<i64>().is_ok()))
}

/// The last line of a `regex` error ("unclosed group"), without the pattern echo above it.
pub(super) fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    crate::text::one_line(last.trim().trim_start_matches("error:"))
}
